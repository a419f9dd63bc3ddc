package store

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"strconv"

	"github.com/cockroachdb/pebble/v2"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/redstuff"
)

// CheckReport is the result of Check.
type CheckReport struct {
	Keys, Metadata, Slivers, BlobInfos int
	// SliverFiles counts the slivers (among Slivers) kept in files.
	SliverFiles int
	// Corrupt lists the keys whose values fail their checksum or do not
	// decode, or whose sliver files are missing or differ from their entry.
	Corrupt [][]byte
	// OrphanFiles counts the files in the sliver directory that no index
	// entry references (left by a crash between a file's write and its
	// entry's; RemoveOrphans removes them).
	OrphanFiles int
}

// Check reads every value of the database and every sliver file, verifies
// their checksums and decodes the typed values, and counts orphan files. It
// is what a consistency check after a crash runs, on an otherwise idle
// store.
func (s *Store) Check() (CheckReport, error) {
	var r CheckReport
	it, err := s.db.NewIter(nil)
	if err != nil {
		return r, err
	}
	defer it.Close()
	var buf []byte
	for ok := it.First(); ok; ok = it.Next() {
		r.Keys++
		k := it.Key()
		p, err := open(k, it.Value())
		if err == nil {
			buf, err = s.checkValue(k, p, &r, buf[:0])
		}
		if err != nil {
			r.Corrupt = append(r.Corrupt, append([]byte(nil), k...))
		}
	}
	if err := it.Error(); err != nil {
		return r, err
	}
	s.writers.Lock()
	defer s.writers.Unlock()
	orphans, err := s.orphans()
	r.OrphanFiles = len(orphans)
	return r, err
}

// checkValue checks a value that passed its seal; buf is scratch space for
// the content of a sliver file, returned for reuse.
func (s *Store) checkValue(k, p []byte, r *CheckReport, buf []byte) ([]byte, error) {
	switch k[0] {
	case tMetadata:
		r.Metadata++
		md, err := blob.UnmarshalMetadataWithID(p)
		if err != nil || len(k) != 33 || blob.ID(k[1:]) != md.ID {
			return buf, fmt.Errorf("%w: metadata", ErrCorrupt)
		}
	case tSliver:
		r.Slivers++
		if len(k) != 36 {
			return buf, fmt.Errorf("%w: sliver key", ErrCorrupt)
		}
		sv, err := decodeSliverValue(k, p)
		if err != nil {
			return buf, err
		}
		data := sv.inline
		if sv.file {
			r.SliverFiles++
			shard, t, id := sliverKeyParts(k)
			buf, err = s.readFile(buf, k, s.sliverPath(shard, t, id), sv)
			if err != nil {
				return buf, err
			}
			data = buf
		}
		if _, err := redstuff.UnmarshalSliver(data, blob.SliverType(k[3])); err != nil {
			return buf, err
		}
	case tBlobInfo:
		r.BlobInfos++
		_, err := UnmarshalBlobInfo(p)
		return buf, err
	}
	return buf, nil
}

// sliverKeyParts splits a 36-byte sliver key.
func sliverKeyParts(k []byte) (uint16, blob.SliverType, blob.ID) {
	return uint16(k[1])<<8 | uint16(k[2]), blob.SliverType(k[3]), blob.ID(k[4:])
}

// RemoveOrphans removes the files in the sliver directory that no index
// entry references, and returns how many it removed. It holds off sliver
// writes meanwhile, and reads one index entry per file: Open runs it only
// when the last run did not close the store, as orphans come from crashes.
func (s *Store) RemoveOrphans() (int, error) {
	s.writers.Lock()
	defer s.writers.Unlock()
	orphans, err := s.orphans()
	n := 0
	for _, p := range orphans {
		if rerr := s.fs.RemoveAll(p); rerr != nil {
			err = errors.Join(err, rerr)
			continue
		}
		n++
	}
	return n, err
}

// orphans lists the paths under the sliver directory that are not files of
// intact file-referencing index entries: temporary files, files without an
// entry or with an inline one, and anything not named as this package names
// files. A file whose entry is damaged is not an orphan: reading the entry
// reports it corrupt, and repairing it deletes both. The caller holds
// s.writers.
func (s *Store) orphans() ([]string, error) {
	names, err := s.fs.List(s.root)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: listing %s: %w", s.root, err)
	}
	var out []string
	for _, name := range names {
		dir := s.fs.PathJoin(s.root, name)
		shard, err := strconv.ParseUint(name, 10, 16)
		if err != nil || name != fmt.Sprintf("%04d", shard) {
			out = append(out, dir)
			continue
		}
		fi, err := s.fs.Stat(dir)
		if err != nil {
			return out, fmt.Errorf("store: %w", err)
		}
		if !fi.IsDir() {
			out = append(out, dir)
			continue
		}
		files, err := s.fs.List(dir)
		if err != nil {
			return out, fmt.Errorf("store: listing %s: %w", dir, err)
		}
		for _, f := range files {
			orphan, err := s.isOrphan(uint16(shard), f)
			if err != nil {
				return out, err
			}
			if orphan {
				out = append(out, s.fs.PathJoin(dir, f))
			}
		}
	}
	return out, nil
}

func (s *Store) isOrphan(shard uint16, name string) (bool, error) {
	t, id, ok := parseFileName(name)
	if !ok {
		return true, nil
	}
	k := SliverKey(shard, t, id)
	v, closer, err := s.db.Get(k)
	if errors.Is(err, pebble.ErrNotFound) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("store: get %x: %w", k, err)
	}
	defer closer.Close()
	p, err := open(k, v)
	if err != nil {
		return false, nil
	}
	sv, err := decodeSliverValue(k, p)
	return err == nil && !sv.file, nil
}

// parseFileName is the inverse of fileName.
func parseFileName(name string) (blob.SliverType, blob.ID, bool) {
	if len(name) != 66 || name[64] != '.' {
		return 0, blob.ID{}, false
	}
	var t blob.SliverType
	switch name[65] {
	case 'p':
		t = blob.Primary
	case 's':
		t = blob.Secondary
	default:
		return 0, blob.ID{}, false
	}
	var id blob.ID
	if _, err := hex.Decode(id[:], []byte(name[:64])); err != nil || id.Hex() != name[:64] {
		return 0, blob.ID{}, false
	}
	return t, id, true
}
