package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"math"
	"slices"

	"github.com/cockroachdb/pebble/v2"

	"github.com/walrus-go/walrus/bcs"
	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/redstuff"
)

// Tags of a sliver value's payload (format version 2).
const (
	tagInline byte = 0x00 // ‖ BCS SliverData
	tagFile   byte = 0x01 // ‖ length u32 LE ‖ crc32c u32 LE of the file
)

// sliverValue is a decoded sliver payload: the BCS bytes of an inline
// sliver (aliasing the payload), or the length and checksum of its file.
type sliverValue struct {
	inline []byte
	file   bool
	length uint32
	crc    uint32
}

func decodeSliverValue(key, p []byte) (sliverValue, error) {
	switch {
	case len(p) >= 1 && p[0] == tagInline:
		return sliverValue{inline: p[1:]}, nil
	case len(p) == 9 && p[0] == tagFile:
		return sliverValue{file: true, length: binary.LittleEndian.Uint32(p[1:]), crc: binary.LittleEndian.Uint32(p[5:])}, nil
	}
	return sliverValue{}, fmt.Errorf("%w: key %x: not a sliver value", ErrCorrupt, key)
}

func fileValue(length, crc uint32) []byte {
	p := make([]byte, 0, 9+4)
	p = append(p, tagFile)
	p = binary.LittleEndian.AppendUint32(p, length)
	return binary.LittleEndian.AppendUint32(p, crc)
}

// sliverPieces splits the BCS SliverData of a sliver into the length
// prefix of its data, the data, and the tail (symbol size, index), so that
// a large sliver goes to its file without being copied into one buffer
// first. Their concatenation is sl.MarshalBCS(); the round-trip tests hold
// it to that.
func sliverPieces(sl *redstuff.Sliver) (head, data, tail []byte) {
	head = bcs.AppendLen(make([]byte, 0, 5), len(sl.Data))
	tail = (&redstuff.Sliver{SymbolSize: sl.SymbolSize, Index: sl.Index}).AppendBCS(nil)[1:]
	return head, sl.Data, tail
}

// ShardSliver is a sliver with the shard that holds it.
type ShardSliver struct {
	Shard  uint16
	Sliver *redstuff.Sliver
}

// PutSliver stores a sliver (already verified against the blob's metadata)
// for a shard. Like PutSlivers it does not sync: call Sync before promising
// durability (signing a confirmation, reporting an epoch synced).
func (s *Store) PutSliver(shard uint16, id blob.ID, sl *redstuff.Sliver) error {
	return s.PutSlivers(id, []ShardSliver{{shard, sl}})
}

// PutSlivers stores several slivers of one blob, durable once Sync returns.
// Their index entries commit in one batch. A sliver whose encoding reaches
// the file threshold is first written to its file (not synced: Sync does it).
//
// The index entry of a file may become durable before the file: a
// concurrent synced write, or Pebble's own flushes, carry it to disk while
// the file's data still sits in the page cache. After a crash such an entry
// names a file that is missing, short or different; reads check the length
// and checksum the entry records and report ErrCorrupt, and the node deletes
// the sliver and recovers it. Nothing is lost that was promised: a sliver is
// confirmed only after Sync, which syncs the file before the WAL.
func (s *Store) PutSlivers(id blob.ID, slivers []ShardSliver) error {
	if err := s.failure(); err != nil {
		return err
	}
	var files []string
	over := false
	err := func() error {
		s.writers.RLock()
		defer s.writers.RUnlock()
		// Even if the commit fails: a rewritten file may serve an older entry.
		defer func() { over = s.dirty.addFiles(files, s.fs.PathDir) }()
		b := s.db.NewBatch()
		defer b.Close()
		for _, x := range slivers {
			k := SliverKey(x.Shard, x.Sliver.Type, id)
			head, data, tail := sliverPieces(x.Sliver)
			var payload []byte
			if n := len(head) + len(data) + len(tail); s.threshold >= 0 && n >= s.threshold {
				if n > math.MaxUint32 {
					return fmt.Errorf("store: sliver of %s at shard %d: %d bytes do not fit a file reference", id, x.Shard, n)
				}
				path, crc, err := s.writeFile(x.Shard, x.Sliver.Type, id, head, data, tail)
				if err != nil {
					return err
				}
				payload = fileValue(uint32(n), crc)
				files = append(files, path)
			} else {
				// Room for the tag, the encoding and the seal.
				payload = make([]byte, 1, 1+n+4)
				payload[0] = tagInline
				payload = x.Sliver.AppendBCS(payload)
			}
			if err := b.Set(k, seal(k, payload), nil); err != nil {
				return err
			}
			sk := shardKey(x.Shard)
			if err := b.Set(sk, seal(sk, nil), nil); err != nil {
				return err
			}
		}
		// Should the commit fail, the files stay: one may serve an older
		// entry (with the same bytes), the others are orphans.
		return b.Commit(pebble.NoSync)
	}()
	if err == nil && over {
		err = s.Sync()
	}
	return err
}

// SliverBytes returns the BCS SliverData held for a shard, as GET /slivers
// serves it (ErrNotFound, ErrCorrupt).
func (s *Store) SliverBytes(shard uint16, t blob.SliverType, id blob.ID) ([]byte, error) {
	return s.AppendSliverBytes(nil, shard, t, id)
}

// AppendSliverBytes appends the BCS SliverData held for a shard to dst and
// returns the extended buffer, so that a server can reuse its buffers. On
// error (ErrNotFound, ErrCorrupt, an I/O error) it returns dst unchanged.
// A file-backed sliver is checked against the length and checksum of its
// index entry; a missing, short or different file is ErrCorrupt.
func (s *Store) AppendSliverBytes(dst []byte, shard uint16, t blob.SliverType, id blob.ID) ([]byte, error) {
	k := SliverKey(shard, t, id)
	v, closer, err := s.db.Get(k)
	if errors.Is(err, pebble.ErrNotFound) {
		return dst, ErrNotFound
	}
	if err != nil {
		return dst, fmt.Errorf("store: get %x: %w", k, err)
	}
	defer closer.Close()
	p, err := open(k, v)
	if err != nil {
		return dst, err
	}
	sv, err := decodeSliverValue(k, p)
	if err != nil {
		return dst, err
	}
	if !sv.file {
		return append(dst, sv.inline...), nil
	}
	return s.readFile(dst, k, s.sliverPath(shard, t, id), sv)
}

// readFile appends the content of a sliver's file to dst after checking it
// against its index entry.
func (s *Store) readFile(dst, key []byte, path string, sv sliverValue) ([]byte, error) {
	f, err := s.fs.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return dst, fmt.Errorf("%w: key %x: sliver file %s is missing", ErrCorrupt, key, path)
	}
	if err != nil {
		return dst, fmt.Errorf("store: sliver file of key %x: %w", key, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return dst, fmt.Errorf("store: sliver file of key %x: %w", key, err)
	}
	if fi.Size() != int64(sv.length) {
		return dst, fmt.Errorf("%w: key %x: sliver file %s has %d bytes, the index says %d", ErrCorrupt, key, path, fi.Size(), sv.length)
	}
	n := len(dst)
	out := slices.Grow(dst, int(sv.length))[:n+int(sv.length)]
	if _, err := f.ReadAt(out[n:], 0); err != nil {
		return dst, fmt.Errorf("%w: key %x: reading sliver file %s: %v", ErrCorrupt, key, path, err)
	}
	if crc32.Checksum(out[n:], crcTable) != sv.crc {
		return dst, fmt.Errorf("%w: key %x: sliver file %s fails its checksum", ErrCorrupt, key, path)
	}
	return out, nil
}

// Sliver returns a decoded sliver (ErrNotFound, ErrCorrupt).
func (s *Store) Sliver(shard uint16, t blob.SliverType, id blob.ID) (*redstuff.Sliver, error) {
	b, err := s.SliverBytes(shard, t, id)
	if err != nil {
		return nil, err
	}
	sl, err := redstuff.UnmarshalSliver(b, t)
	if err != nil {
		return nil, fmt.Errorf("%w: sliver of %s at shard %d does not decode: %v", ErrCorrupt, id, shard, err)
	}
	return &sl, nil
}

// HasSliver reports whether an intact sliver is held for the shard. It
// reads no sliver data: the index entry must pass its checksum and, for a
// file-backed sliver, the file must exist with the recorded length. A
// damaged entry, or a missing file or one of the wrong size, is reported as
// false with an ErrCorrupt error; a file whose bytes changed in place is
// only caught by a read.
func (s *Store) HasSliver(shard uint16, t blob.SliverType, id blob.ID) (bool, error) {
	k := SliverKey(shard, t, id)
	v, closer, err := s.db.Get(k)
	if errors.Is(err, pebble.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("store: get %x: %w", k, err)
	}
	defer closer.Close()
	p, err := open(k, v)
	if err != nil {
		return false, err
	}
	sv, err := decodeSliverValue(k, p)
	if err != nil || !sv.file {
		return err == nil, err
	}
	path := s.sliverPath(shard, t, id)
	fi, err := s.fs.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return false, fmt.Errorf("%w: key %x: sliver file %s is missing", ErrCorrupt, k, path)
	case err != nil:
		return false, fmt.Errorf("store: sliver file of key %x: %w", k, err)
	case fi.Size() != int64(sv.length):
		return false, fmt.Errorf("%w: key %x: sliver file %s has %d bytes, the index says %d", ErrCorrupt, k, path, fi.Size(), sv.length)
	}
	return true, nil
}

// DeleteSliver removes one sliver: its index entry (synced), then its file.
func (s *Store) DeleteSliver(shard uint16, t blob.SliverType, id blob.ID) error {
	s.writers.Lock()
	defer s.writers.Unlock()
	if err := s.db.Delete(SliverKey(shard, t, id), pebble.Sync); err != nil {
		return err
	}
	s.removeFiles([]string{s.sliverPath(shard, t, id)})
	return nil
}

// Shards returns the shards the store holds slivers for, ascending.
func (s *Store) Shards() ([]uint16, error) {
	var out []uint16
	err := s.scan([]byte{tShard}, func(k, _ []byte) error {
		if len(k) != 3 {
			return fmt.Errorf("%w: shard key %x", ErrCorrupt, k)
		}
		out = append(out, binary.BigEndian.Uint16(k[1:]))
		return nil
	})
	return out, err
}

// DeleteShard removes every sliver of a shard: the key range (synced), then
// the shard's directory of sliver files.
func (s *Store) DeleteShard(shard uint16) error {
	s.writers.Lock()
	defer s.writers.Unlock()
	b := s.db.NewBatch()
	defer b.Close()
	p := shardPrefix(shard)
	if err := b.DeleteRange(p, prefixEnd(p), nil); err != nil {
		return err
	}
	if err := b.Delete(shardKey(shard), nil); err != nil {
		return err
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return err
	}
	s.dirty.forgetShard(shard)
	// Not synced: should a crash bring files back, they are orphans.
	if err := s.fs.RemoveAll(s.shardDir(shard)); err != nil {
		return fmt.Errorf("store: removing the files of shard %d: %w", shard, err)
	}
	return nil
}

// ShardBlobs returns up to limit blob IDs that have a sliver of type t in
// shard, in ascending order after the given ID (nil: from the start): the
// paging of Walrus's shard sync.
func (s *Store) ShardBlobs(shard uint16, t blob.SliverType, after *blob.ID, limit int) ([]blob.ID, error) {
	p := append(shardPrefix(shard), byte(t))
	lower := p
	if after != nil {
		lower = append(append([]byte(nil), p...), after[:]...)
		lower = append(lower, 0)
	}
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: prefixEnd(p)})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var out []blob.ID
	for ok := it.First(); ok && len(out) < limit; ok = it.Next() {
		k := it.Key()
		if len(k) != len(p)+32 {
			continue
		}
		out = append(out, blob.ID(k[len(p):]))
	}
	return out, it.Error()
}
