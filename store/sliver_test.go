package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/cockroachdb/pebble/v2/vfs/errorfs"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/redstuff"
)

func openCfg(t testing.TB, cfg Config) *Store {
	t.Helper()
	if cfg.Dir == "" {
		cfg.Dir = "db"
	}
	s, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// randSliver is a sliver of random content (the store does not verify
// slivers against metadata).
func randSliver(r *rand.Rand, typ blob.SliverType, size int) *redstuff.Sliver {
	data := make([]byte, size+8)
	for i := 0; i < size; i += 8 {
		binary.LittleEndian.PutUint64(data[i:], r.Uint64())
	}
	data = data[:size]
	return &redstuff.Sliver{Type: typ, Index: uint16(r.Uint32()), SymbolSize: 1, Data: data}
}

func randID(r *rand.Rand) blob.ID {
	var id blob.ID
	for i := range id {
		id[i] = byte(r.Uint32())
	}
	return id
}

func exists(t testing.TB, fsys vfs.FS, path string) bool {
	t.Helper()
	_, err := fsys.Stat(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	return err == nil
}

func TestSliverLayoutsRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name      string
		threshold int
		size      int
		file      bool
	}{
		{"never files", -1, 100 << 10, false},
		{"below threshold", 4096, 1000, false},
		{"at threshold", 4096, 4096 - 6, true}, // 2-byte length prefix, 4-byte tail
		{"just below threshold", 4096, 4096 - 7, false},
		{"default threshold, small", 0, 60 << 10, false},
		{"default threshold, large", 0, 64 << 10, true},
		{"empty sliver in a file", 1, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mem := vfs.NewMem()
			s := openCfg(t, Config{FS: mem, FileThreshold: tc.threshold})
			defer s.Close()
			r := rand.New(rand.NewPCG(uint64(tc.size), 7))
			id := randID(r)
			p, q := randSliver(r, blob.Primary, tc.size), randSliver(r, blob.Secondary, tc.size)
			want := map[blob.SliverType][]byte{blob.Primary: p.MarshalBCS(), blob.Secondary: q.MarshalBCS()}
			if err := s.PutSlivers(id, []ShardSliver{{7, p}, {7, q}}); err != nil {
				t.Fatal(err)
			}
			if err := s.Sync(); err != nil {
				t.Fatal(err)
			}
			for typ, w := range want {
				if got := exists(t, mem, s.sliverPath(7, typ, id)); got != tc.file {
					t.Fatalf("%s: file exists %v, want %v", typ, got, tc.file)
				}
				got, err := s.SliverBytes(7, typ, id)
				if err != nil || !bytes.Equal(got, w) {
					t.Fatalf("%s: SliverBytes differ: %v", typ, err)
				}
				buf, err := s.AppendSliverBytes([]byte("prefix"), 7, typ, id)
				if err != nil || string(buf[:6]) != "prefix" || !bytes.Equal(buf[6:], w) {
					t.Fatalf("%s: AppendSliverBytes: %v", typ, err)
				}
				sl, err := s.Sliver(7, typ, id)
				if err != nil || sl.Type != typ || !bytes.Equal(sl.MarshalBCS(), w) {
					t.Fatalf("%s: Sliver: %v", typ, err)
				}
				if ok, err := s.HasSliver(7, typ, id); !ok || err != nil {
					t.Fatalf("%s: HasSliver %v %v", typ, ok, err)
				}
				if _, err := s.SliverBytes(8, typ, id); !errors.Is(err, ErrNotFound) {
					t.Fatalf("%s: sliver in another shard: %v", typ, err)
				}
			}
			r2, err := s.Check()
			wantFiles := 0
			if tc.file {
				wantFiles = 2
			}
			if err != nil || r2.Slivers != 2 || r2.SliverFiles != wantFiles || len(r2.Corrupt) != 0 || r2.OrphanFiles != 0 {
				t.Fatalf("check: %+v %v", r2, err)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		errs int
	}{
		{Config{Dir: "x"}, 0},
		{Config{Dir: "x", FileThreshold: -5}, 0},
		{Config{Dir: "x", FileThreshold: 1 << 40}, 1},
		{Config{CacheSize: -1, FileThreshold: 1 << 40}, 3},
	} {
		err := tc.cfg.Validate()
		n := 0
		if err != nil {
			n = strings.Count(err.Error(), "\n") + 1
		}
		if n != tc.errs {
			t.Errorf("%+v: %d problems reported (%v), want %d", tc.cfg, n, err, tc.errs)
		}
	}
}

// TestSliverFileDamage: a damaged file is never served.
func TestSliverFileDamage(t *testing.T) {
	for _, tc := range []struct {
		name    string
		damage  func(data []byte) []byte // nil: delete the file
		hasSees bool                     // HasSliver notices (it does not read the data)
	}{
		{"flipped byte", func(d []byte) []byte { d[len(d)/2] ^= 1; return d }, false},
		{"truncated", func(d []byte) []byte { return d[:len(d)-1] }, true},
		{"extended", func(d []byte) []byte { return append(d, 0) }, true},
		{"emptied", func(d []byte) []byte { return nil }, true},
		{"deleted", nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mem := vfs.NewMem()
			s := openCfg(t, Config{FS: mem, FileThreshold: 1})
			defer s.Close()
			r := rand.New(rand.NewPCG(1, 1))
			id := randID(r)
			if err := s.PutSliver(3, id, randSliver(r, blob.Primary, 5000)); err != nil {
				t.Fatal(err)
			}
			path := s.sliverPath(3, blob.Primary, id)
			if tc.damage == nil {
				if err := mem.Remove(path); err != nil {
					t.Fatal(err)
				}
			} else {
				rewrite(t, mem, path, tc.damage)
			}
			key := fmt.Sprintf("%x", SliverKey(3, blob.Primary, id))
			_, err := s.SliverBytes(3, blob.Primary, id)
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), key) {
				t.Fatalf("read of a damaged file: %v", err)
			}
			if _, err := s.Sliver(3, blob.Primary, id); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("decode of a damaged file: %v", err)
			}
			buf, err := s.AppendSliverBytes([]byte{1, 2}, 3, blob.Primary, id)
			if !errors.Is(err, ErrCorrupt) || !bytes.Equal(buf, []byte{1, 2}) {
				t.Fatalf("append of a damaged file: %x %v", buf, err)
			}
			ok, err := s.HasSliver(3, blob.Primary, id)
			if tc.hasSees && (ok || !errors.Is(err, ErrCorrupt)) {
				t.Fatalf("HasSliver of a damaged file: %v %v", ok, err)
			}
			if !tc.hasSees && (!ok || err != nil) {
				t.Fatalf("HasSliver reads data? %v %v", ok, err)
			}
			rep, err := s.Check()
			if err != nil || len(rep.Corrupt) != 1 || !bytes.Equal(rep.Corrupt[0], SliverKey(3, blob.Primary, id)) {
				t.Fatalf("check: %+v %v", rep, err)
			}
			// The node's repair: delete, then store again.
			if err := s.DeleteSliver(3, blob.Primary, id); err != nil {
				t.Fatal(err)
			}
			if rep, _ := s.Check(); len(rep.Corrupt) != 0 || rep.OrphanFiles != 0 {
				t.Fatalf("check after the repair: %+v", rep)
			}
		})
	}
}

func rewrite(t testing.TB, fsys vfs.FS, path string, fn func([]byte) []byte) {
	t.Helper()
	f, err := fsys.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := f.Stat()
	data := make([]byte, fi.Size())
	if _, err := f.ReadAt(data, 0); err != nil {
		t.Fatal(err)
	}
	f.Close()
	data = fn(data)
	w, err := fsys.Create(path, vfs.WriteCategoryUnspecified)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	w.Close()
}

// TestSliverFilesSurviveCrash: synced slivers survive a crash; unsynced
// ones may vanish or read as corrupt, but never as other bytes.
// With entriesSynced, a synced write of another value carries the index
// entries of the unsynced slivers to disk, but not their files.
func TestSliverFilesSurviveCrash(t *testing.T) {
	for seed := range uint64(6) {
		entriesSynced := seed%2 == 1
		t.Run(fmt.Sprintf("seed %d entries synced %v", seed, entriesSynced), func(t *testing.T) {
			mem := vfs.NewCrashableMem()
			s := openCfg(t, Config{FS: mem, FileThreshold: 2000})
			r := rand.New(rand.NewPCG(seed, 3))
			type key struct {
				shard uint16
				typ   blob.SliverType
				id    blob.ID
			}
			want := map[key][]byte{}
			put := func(n int) []key {
				var keys []key
				for range n {
					id := randID(r)
					shard := uint16(r.IntN(4))
					p := randSliver(r, blob.Primary, 500+r.IntN(20000))
					q := randSliver(r, blob.Secondary, 500+r.IntN(20000))
					want[key{shard, blob.Primary, id}] = p.MarshalBCS()
					want[key{shard, blob.Secondary, id}] = q.MarshalBCS()
					if err := s.PutSlivers(id, []ShardSliver{{shard, p}, {shard, q}}); err != nil {
						t.Fatal(err)
					}
					keys = append(keys, key{shard, blob.Primary, id}, key{shard, blob.Secondary, id})
				}
				return keys
			}
			synced := put(20)
			if err := s.Sync(); err != nil {
				t.Fatal(err)
			}
			unsynced := put(20)
			if entriesSynced {
				if err := s.SetMeta("other", []byte{1}); err != nil {
					t.Fatal(err)
				}
			}
			crashed := mem.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: 50, RNG: rand.New(rand.NewPCG(seed, 9))})
			s.Close()
			s2 := openCfg(t, Config{FS: crashed, FileThreshold: 2000})
			defer s2.Close()
			for _, k := range synced {
				got, err := s2.SliverBytes(k.shard, k.typ, k.id)
				if err != nil || !bytes.Equal(got, want[k]) {
					t.Fatalf("synced sliver %v lost: %v", k, err)
				}
			}
			lost, corrupt := 0, 0
			for _, k := range unsynced {
				got, err := s2.SliverBytes(k.shard, k.typ, k.id)
				switch {
				case err == nil && !bytes.Equal(got, want[k]):
					t.Fatalf("unsynced sliver %v reads back wrong", k)
				case err != nil && !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrCorrupt):
					t.Fatal(err)
				case errors.Is(err, ErrCorrupt):
					corrupt++
				case err != nil:
					lost++
				}
			}
			if entriesSynced && corrupt == 0 {
				t.Fatal("no unsynced file was lost under a durable entry: the test tests nothing")
			}
			rep, err := s2.Check()
			if err != nil || rep.OrphanFiles != 0 || len(rep.Corrupt) != corrupt {
				t.Fatalf("check after the crash (Open removes orphans): %+v %v", rep, err)
			}
			t.Logf("of %d unsynced slivers, %d lost, %d read as corrupt", len(unsynced), lost, corrupt)
		})
	}
}

func TestDeletesRemoveFiles(t *testing.T) {
	mem := vfs.NewMem()
	s := openCfg(t, Config{FS: mem, FileThreshold: 1})
	defer s.Close()
	r := rand.New(rand.NewPCG(2, 2))
	a, b := randID(r), randID(r)
	for _, id := range []blob.ID{a, b} {
		for _, sh := range []uint16{1, 2} {
			if err := s.PutSlivers(id, []ShardSliver{{sh, randSliver(r, blob.Primary, 100)}, {sh, randSliver(r, blob.Secondary, 100)}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	gone := func(sh uint16, typ blob.SliverType, id blob.ID) bool {
		_, err := s.SliverBytes(sh, typ, id)
		return errors.Is(err, ErrNotFound) && !exists(t, mem, s.sliverPath(sh, typ, id))
	}

	if err := s.DeleteSliver(1, blob.Primary, a); err != nil {
		t.Fatal(err)
	}
	if !gone(1, blob.Primary, a) || gone(1, blob.Secondary, a) {
		t.Fatal("DeleteSliver")
	}

	// A discarded batch removes nothing; a committed one removes the files.
	discarded := s.NewBatch()
	discarded.DeleteBlobData(b, []uint16{1, 2, 3})
	discarded.Discard()
	if gone(2, blob.Primary, b) {
		t.Fatal("a discarded batch removed a file")
	}
	batch := s.NewBatch()
	batch.DeleteBlobData(b, []uint16{1, 2, 3}) // shard 3 holds nothing
	if err := batch.Commit(false); err != nil {
		t.Fatal(err)
	}
	for _, sh := range []uint16{1, 2} {
		for _, typ := range []blob.SliverType{blob.Primary, blob.Secondary} {
			if !gone(sh, typ, b) {
				t.Fatalf("DeleteBlobData left shard %d %s", sh, typ)
			}
		}
	}
	if gone(2, blob.Primary, a) {
		t.Fatal("DeleteBlobData removed another blob's file")
	}

	if err := s.DeleteShard(2); err != nil {
		t.Fatal(err)
	}
	if exists(t, mem, s.shardDir(2)) || !gone(2, blob.Primary, a) || gone(1, blob.Secondary, a) {
		t.Fatal("DeleteShard")
	}
	// The shard can be written again.
	if err := s.PutSliver(2, a, randSliver(r, blob.Primary, 100)); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.HasSliver(2, blob.Primary, a); !ok || err != nil {
		t.Fatalf("sliver after the shard's deletion: %v", err)
	}
	if rep, err := s.Check(); err != nil || len(rep.Corrupt) != 0 || rep.OrphanFiles != 0 || rep.SliverFiles != 2 {
		t.Fatalf("check: %+v %v", rep, err)
	}
}

func TestOrphanFiles(t *testing.T) {
	mem := vfs.NewCrashableMem()
	s := openCfg(t, Config{FS: mem, FileThreshold: 1000})
	r := rand.New(rand.NewPCG(5, 5))
	id, inline, none := randID(r), randID(r), randID(r)
	if err := s.PutSliver(4, id, randSliver(r, blob.Primary, 2000)); err != nil {
		t.Fatal(err)
	}
	if err := s.PutSliver(4, inline, randSliver(r, blob.Primary, 10)); err != nil {
		t.Fatal(err)
	}
	orphans := []string{
		s.sliverPath(4, blob.Primary, id) + ".17.tmp", // a write cut short
		s.sliverPath(4, blob.Secondary, id),           // no entry
		s.sliverPath(4, blob.Primary, inline),         // an inline entry
		s.sliverPath(9, blob.Primary, none),           // no entry, another shard
		mem.PathJoin(s.root, "junk"),                  // not a shard
	}
	for _, p := range orphans {
		if err := mem.MkdirAll(mem.PathDir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		f, err := mem.Create(p, vfs.WriteCategoryUnspecified)
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	rep, err := s.Check()
	if err != nil || rep.OrphanFiles != len(orphans) || len(rep.Corrupt) != 0 {
		t.Fatalf("check: %+v %v", rep, err)
	}
	// Open after a crash removes them.
	crashed := mem.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: 100, RNG: rand.New(rand.NewPCG(1, 1))})
	s2 := openCfg(t, Config{FS: crashed})
	if rep, err := s2.Check(); err != nil || rep.OrphanFiles != 0 || len(rep.Corrupt) != 0 {
		t.Fatalf("check after reopening: %+v %v", rep, err)
	}
	s2.Close()
	// RemoveOrphans removes them from a running store too.
	n, err := s.RemoveOrphans()
	if err != nil || n != len(orphans) {
		t.Fatalf("RemoveOrphans: %d %v", n, err)
	}
	for _, p := range orphans {
		if exists(t, mem, p) {
			t.Fatalf("%s survived", p)
		}
	}
	if ok, err := s.HasSliver(4, blob.Primary, id); !ok || err != nil {
		t.Fatalf("the referenced file was removed: %v", err)
	}
	s.Close()
}

// TestConcurrentPutAndSync: many writers and Syncs; whatever a writer's
// Sync confirmed survives a crash taken while the others keep going.
func TestConcurrentPutAndSync(t *testing.T) {
	mem := vfs.NewCrashableMem()
	s := openCfg(t, Config{FS: mem, FileThreshold: 1500})
	defer s.Close()
	type entry struct {
		shard uint16
		id    blob.ID
		bcs   []byte
	}
	var mu sync.Mutex
	var confirmed []entry
	var wg sync.WaitGroup
	const writers, blobs = 8, 15
	for w := range writers {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 11))
			var pending []entry
			for i := range blobs {
				id := randID(r)
				shard := uint16(r.IntN(3))
				sl := randSliver(r, blob.SliverType(i%2), 500+r.IntN(3000))
				pending = append(pending, entry{shard, id, sl.MarshalBCS()})
				if err := s.PutSliver(shard, id, sl); err != nil {
					t.Error(err)
					return
				}
				if i == blobs-1 || r.IntN(3) == 0 {
					if err := s.Sync(); err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					confirmed = append(confirmed, pending...)
					mu.Unlock()
					pending = nil
				}
			}
		})
	}
	// Crash in the middle: what was confirmed before is in the clone.
	var snapshot []entry
	var crashed *vfs.MemFS
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()
	for crashed == nil {
		mu.Lock()
		if len(confirmed) >= writers*blobs/3 {
			snapshot = append([]entry(nil), confirmed...)
			crashed = mem.CrashClone(vfs.CrashCloneCfg{})
		}
		mu.Unlock()
		select {
		case <-finished:
			// The writers may all finish between the check above and
			// this select: then the next pass takes the snapshot.
			mu.Lock()
			enough := len(confirmed) >= writers*blobs/3
			mu.Unlock()
			if crashed == nil && !enough {
				t.Fatal("the writers failed")
			}
		case <-time.After(time.Millisecond):
		}
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	verify := func(fsys *vfs.MemFS, entries []entry) {
		s2 := openCfg(t, Config{FS: fsys})
		defer s2.Close()
		for _, e := range entries {
			typ := blob.SliverType(0)
			if got, err := s2.SliverBytes(e.shard, blob.Primary, e.id); err == nil && bytes.Equal(got, e.bcs) {
				continue
			}
			typ = blob.Secondary
			if got, err := s2.SliverBytes(e.shard, typ, e.id); err != nil || !bytes.Equal(got, e.bcs) {
				t.Fatalf("confirmed sliver of %s at shard %d lost: %v", e.id, e.shard, err)
			}
		}
	}
	verify(crashed, snapshot)
	if len(confirmed) != writers*blobs {
		t.Fatalf("%d slivers confirmed", len(confirmed))
	}
	verify(mem.CrashClone(vfs.CrashCloneCfg{}), confirmed)
}

// blockingFS lets a test hold the first fsync of a sliver file.
type blockingFS struct {
	mu       sync.Mutex
	held     chan struct{} // closed once an fsync is held
	release  chan struct{}
	holding  bool
	fileSync int // fsyncs of sliver files
	dirSync  int // fsyncs of shard directories
}

func (b *blockingFS) MaybeError(op errorfs.Op) error {
	if op.Kind != errorfs.OpFileSync || !strings.Contains(op.Path, "slivers") {
		return nil
	}
	b.mu.Lock()
	if strings.HasSuffix(op.Path, ".p") || strings.HasSuffix(op.Path, ".s") {
		b.fileSync++
	} else {
		b.dirSync++
	}
	first := !b.holding && b.fileSync == 1
	if first {
		b.holding = true
	}
	b.mu.Unlock()
	if first {
		close(b.held)
		<-b.release
	}
	return nil
}

func (b *blockingFS) String() string { return "blocking" }

// TestSyncRounds: while a round runs, later callers wait for the next round
// (none runs its own meanwhile), and share it.
func TestSyncRounds(t *testing.T) {
	inj := &blockingFS{held: make(chan struct{}), release: make(chan struct{})}
	s := openCfg(t, Config{FS: errorfs.Wrap(vfs.NewMem(), inj), FileThreshold: 1})
	defer s.Close()
	r := rand.New(rand.NewPCG(4, 4))
	if err := s.PutSliver(1, randID(r), randSliver(r, blob.Primary, 10)); err != nil {
		t.Fatal(err)
	}
	first := make(chan error, 1)
	go func() { first <- s.Sync() }()
	<-inj.held
	const later = 5
	done := make(chan error, later)
	for range later {
		if err := s.PutSliver(1, randID(r), randSliver(r, blob.Primary, 10)); err != nil {
			t.Fatal(err)
		}
		go func() { done <- s.Sync() }()
	}
	select {
	case err := <-done:
		t.Fatalf("a Sync returned (%v) while the round before it was still running", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(inj.release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	for range later {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	inj.mu.Lock()
	defer inj.mu.Unlock()
	// Round one synced the first file, round two the five others; the
	// shard directory once per round.
	if inj.fileSync != 1+later || inj.dirSync > 2+2 {
		t.Fatalf("%d file and %d directory fsyncs", inj.fileSync, inj.dirSync)
	}
}

// TestSyncFailureIsSticky: a failed fsync of a sliver file fails that Sync,
// every later one, and later writes.
func TestSyncFailureIsSticky(t *testing.T) {
	errInjected := errors.New("injected fsync failure")
	toggle := &errorfs.Toggle{Injector: errorfs.InjectorFunc(func(op errorfs.Op) error {
		if op.Kind == errorfs.OpFileSync && strings.HasPrefix(op.Path, "db/slivers/0001/") {
			return errInjected
		}
		return nil
	})}
	s := openCfg(t, Config{FS: errorfs.Wrap(vfs.NewMem(), toggle), FileThreshold: 1})
	defer s.Close()
	r := rand.New(rand.NewPCG(6, 6))
	good := randID(r)
	if err := s.PutSliver(1, good, randSliver(r, blob.Primary, 10)); err != nil {
		t.Fatal(err)
	}
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := s.PutSliver(1, randID(r), randSliver(r, blob.Primary, 10)); err != nil {
		t.Fatal(err)
	}
	toggle.On()
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() { errs[i] = s.Sync() })
	}
	wg.Wait()
	toggle.Off()
	for i, err := range errs {
		if !errors.Is(err, errInjected) {
			t.Fatalf("Sync %d on a failing disk: %v", i, err)
		}
	}
	if err := s.Sync(); !errors.Is(err, errInjected) {
		t.Fatalf("Sync after the failure: %v", err)
	}
	if err := s.PutSliver(2, randID(r), randSliver(r, blob.Primary, 10)); !errors.Is(err, errInjected) {
		t.Fatalf("write after the failure: %v", err)
	}
	if _, err := s.SliverBytes(1, blob.Primary, good); err != nil {
		t.Fatalf("reads go on: %v", err)
	}
}

// TestFailedRewriteKeepsFile: a rewrite of a sliver that fails half-way
// leaves the file the existing entry serves intact (files are written under
// a temporary name and renamed into place).
func TestFailedRewriteKeepsFile(t *testing.T) {
	errInjected := errors.New("injected write failure")
	toggle := &errorfs.Toggle{Injector: errorfs.InjectorFunc(func(op errorfs.Op) error {
		if op.Kind == errorfs.OpFileWrite && strings.HasPrefix(op.Path, "db/slivers/") {
			return errInjected
		}
		return nil
	})}
	s := openCfg(t, Config{FS: errorfs.Wrap(vfs.NewMem(), toggle), FileThreshold: 1})
	defer s.Close()
	r := rand.New(rand.NewPCG(8, 8))
	id := randID(r)
	sl := randSliver(r, blob.Primary, 3000)
	want := sl.MarshalBCS()
	if err := s.PutSliver(1, id, sl); err != nil {
		t.Fatal(err)
	}
	toggle.On()
	if err := s.PutSliver(1, id, sl); !errors.Is(err, errInjected) {
		t.Fatalf("rewrite on a failing disk: %v", err)
	}
	toggle.Off()
	if got, err := s.SliverBytes(1, blob.Primary, id); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("after the failed rewrite: %v", err)
	}
	if rep, err := s.Check(); err != nil || rep.OrphanFiles != 0 || len(rep.Corrupt) != 0 {
		t.Fatalf("check: %+v %v (the temporary file must go)", rep, err)
	}
}
