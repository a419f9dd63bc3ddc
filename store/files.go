package store

import (
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"strconv"
	"sync"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
	"golang.org/x/sync/errgroup"

	"github.com/walrus-go/walrus/blob"
)

const (
	// maxDirtyFiles bounds the dirty set: past it, a write syncs before it
	// returns, so that a Sync never has an unbounded amount of work (nor the
	// page cache an unbounded amount of unsynced sliver data).
	maxDirtyFiles = 4096
	// syncParallel is how many files a Sync fsyncs at once: an fsync waits
	// mostly on the device, and the file system commits concurrent ones
	// together (with 8, a Sync of 1024 files of 64 KiB took 1.5x as long on
	// the development machine).
	syncParallel = 32
)

// shardDir is the directory of a shard's sliver files: slivers/<shard>,
// the shard in (at least) 4 decimal digits.
func (s *Store) shardDir(shard uint16) string {
	return s.fs.PathJoin(s.root, fmt.Sprintf("%04d", shard))
}

// fileName is the name of a sliver's file in its shard directory: the blob
// ID in hex and p (primary) or s (secondary).
func fileName(t blob.SliverType, id blob.ID) string {
	if t == blob.Secondary {
		return id.Hex() + ".s"
	}
	return id.Hex() + ".p"
}

func (s *Store) sliverPath(shard uint16, t blob.SliverType, id blob.ID) string {
	return s.fs.PathJoin(s.shardDir(shard), fileName(t, id))
}

// writeFile writes a sliver's file, the concatenation of pieces, without
// syncing it, and returns its path and the CRC-32C of its content. It goes
// through a pooled buffer, because a vfs.File may scribble on what it
// writes, and the pieces belong to the caller. It writes a temporary file
// and renames it into place, so that the file's name only ever holds
// complete content: a crash of the process (not of the machine) during a
// rewrite leaves the old file, which an older index entry may be serving,
// not a truncated one.
func (s *Store) writeFile(shard uint16, t blob.SliverType, id blob.ID, pieces ...[]byte) (string, uint32, error) {
	dir, err := s.makeShardDir(shard)
	if err != nil {
		return "", 0, err
	}
	path := s.fs.PathJoin(dir, fileName(t, id))
	tmp := path + "." + strconv.FormatUint(s.tmpSeq.Add(1), 10) + ".tmp"
	f, err := s.fs.Create(tmp, vfs.WriteCategoryUnspecified)
	if err != nil {
		return "", 0, fmt.Errorf("store: creating sliver file: %w", err)
	}
	crc, err := s.writePieces(f, pieces)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = s.fs.Rename(tmp, path)
	}
	if err != nil {
		_ = s.fs.Remove(tmp)
		return "", 0, fmt.Errorf("store: writing sliver file %s: %w", path, err)
	}
	return path, crc, nil
}

func (s *Store) writePieces(f vfs.File, pieces [][]byte) (uint32, error) {
	// Each piece is written as it is (the prefix, the data, the suffix):
	// three system calls cost less than copying the data once more.
	var crc uint32
	for _, p := range pieces {
		crc = crc32.Update(crc, crcTable, p)
		if _, err := f.Write(p); err != nil {
			return 0, err
		}
	}
	return crc, nil
}

// makeShardDir creates a shard's directory on its first use by this
// process, and marks the directories that got a new entry for the next Sync.
func (s *Store) makeShardDir(shard uint16) (string, error) {
	dir := s.shardDir(shard)
	if s.dirty.known(shard) {
		return dir, nil
	}
	if err := s.fs.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("store: creating %s: %w", dir, err)
	}
	s.dirty.madeShard(shard, s.root, s.dir)
	return dir, nil
}

// removeFiles removes sliver files whose index entries are gone. A missing
// file is fine; another failure leaves an orphan, which is logged.
func (s *Store) removeFiles(paths []string) {
	for _, p := range paths {
		if err := s.fs.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			s.log.Warn("store: removing a sliver file", "path", p, "err", err)
		}
	}
}

// dirtySet is what the next Sync must make durable besides the WAL: sliver
// files written since the last round, and the directories that got entries.
// It holds paths, not open files: a path rewritten meanwhile is synced once,
// in its latest version, and a path removed meanwhile has nothing to keep.
type dirtySet struct {
	mu    sync.Mutex
	files map[string]struct{}
	dirs  map[string]struct{}
	made  map[uint16]bool // shard directories known to exist
	// failed is the error of a failed fsync: the store is failed.
	failed error
}

func (d *dirtySet) init() {
	d.files = map[string]struct{}{}
	d.dirs = map[string]struct{}{}
	d.made = map[uint16]bool{}
}

// addFiles adds written files and their directories (pathDir names the
// directory of a path); it reports whether the set is over its bound.
func (d *dirtySet) addFiles(paths []string, pathDir func(string) string) bool {
	if len(paths) == 0 {
		return false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, p := range paths {
		d.files[p] = struct{}{}
		// Every write renames a file into its directory: a new entry.
		d.dirs[pathDir(p)] = struct{}{}
	}
	return len(d.files) >= maxDirtyFiles
}

func (d *dirtySet) known(shard uint16) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.made[shard]
}

// madeShard records a shard directory, and its parents, which may have
// got entries, as dirty.
func (d *dirtySet) madeShard(shard uint16, parents ...string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.made[shard] = true
	for _, p := range parents {
		d.dirs[p] = struct{}{}
	}
}

func (d *dirtySet) forgetShard(shard uint16) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.made, shard)
}

// take empties the set and returns what it held.
func (d *dirtySet) take() (files, dirs []string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for p := range d.files {
		files = append(files, p)
	}
	for p := range d.dirs {
		dirs = append(dirs, p)
	}
	clear(d.files)
	clear(d.dirs)
	return files, dirs
}

// fail makes the store failed, keeping the first error.
func (d *dirtySet) fail(err error) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.failed == nil {
		d.failed = fmt.Errorf("store: an fsync failed; unsynced slivers may be lost, reopen the store: %w", err)
	}
	return d.failed
}

func (s *Store) failure() error {
	s.dirty.mu.Lock()
	defer s.dirty.mu.Unlock()
	return s.dirty.failed
}

// syncRounds serialises Sync rounds: at most one runs at a time, and the
// callers that arrive during a round share the next one.
type syncRounds struct {
	mu      sync.Mutex
	running *syncRound // nil when no round runs
	next    *syncRound // the round that runs after running, if someone waits for it
}

type syncRound struct {
	done chan struct{} // closed when the round is over
	err  error         // set before done is closed
}

// Sync makes every write that returned before it durable: it fsyncs the
// sliver files written since the last round and the directories that got
// new entries, syncParallel at a time and in no particular order (what a
// crash in between leaves reads as ErrCorrupt, see PutSlivers), then syncs
// Pebble's WAL.
//
// Concurrent callers share rounds (group commit): a caller returns once a
// round that started after its call has completed, with that round's
// result. A failed fsync fails the store: Sync and PutSlivers return the
// error from then on. Retrying cannot help, as a kernel may drop the pages
// of a failed fsync and report the next one successful; the node must stop,
// and after a restart the reads of slivers that did not make it report
// ErrCorrupt.
func (s *Store) Sync() error {
	if err := s.failure(); err != nil {
		return err
	}
	rs := &s.rounds
	rs.mu.Lock()
	if rs.running == nil {
		r := &syncRound{done: make(chan struct{})}
		rs.running = r
		rs.mu.Unlock()
		s.runRound(r)
		return r.err
	}
	// A round is running; it may have started before this call, so wait for
	// the next one, which the first of its callers runs.
	r, lead := rs.next, false
	if r == nil {
		r, lead = &syncRound{done: make(chan struct{})}, true
		rs.next = r
	}
	prev := rs.running
	rs.mu.Unlock()
	if !lead {
		<-r.done
		return r.err
	}
	<-prev.done // prev's end made r the running round
	s.runRound(r)
	return r.err
}

func (s *Store) runRound(r *syncRound) {
	r.err = s.syncOnce()
	rs := &s.rounds
	rs.mu.Lock()
	rs.running, rs.next = rs.next, nil
	rs.mu.Unlock()
	close(r.done)
}

// syncOnce is the work of a round.
func (s *Store) syncOnce() error {
	if err := s.failure(); err != nil {
		return err
	}
	files, dirs := s.dirty.take()
	if err := s.syncPaths(files, dirs); err != nil {
		return s.dirty.fail(err)
	}
	return s.db.LogData(nil, pebble.Sync)
}

// syncPaths fsyncs files and directories, syncParallel at a time. A path
// that no longer exists was removed since it was written: there is nothing
// of it to keep.
func (s *Store) syncPaths(files, dirs []string) error {
	var g errgroup.Group
	g.SetLimit(syncParallel)
	for i := range len(dirs) + len(files) {
		g.Go(func() error {
			var f vfs.File
			var err error
			var p string
			if i < len(dirs) {
				p = dirs[i]
				f, err = s.fs.OpenDir(p)
			} else {
				p = files[i-len(dirs)]
				f, err = s.fs.Open(p)
			}
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			if err != nil {
				return fmt.Errorf("open %s: %w", p, err)
			}
			err = f.Sync()
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return fmt.Errorf("fsync %s: %w", p, err)
			}
			return nil
		})
	}
	return g.Wait()
}
