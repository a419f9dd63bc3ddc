package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"log/slog"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/redstuff"
)

// FormatVersion is the on-disk format this package reads and writes.
const FormatVersion = 1

// Errors returned by the store.
var (
	// ErrNotFound: no value under the key.
	ErrNotFound = errors.New("store: not found")
	// ErrCorrupt: a value failed its checksum or does not decode. The value is
	// not returned; the caller should delete it and recover it.
	ErrCorrupt = errors.New("store: corrupted value")
	// ErrFormat: the database was written in a format this version cannot read.
	ErrFormat = errors.New("store: unsupported format version")
)

// Table prefixes (see the package documentation).
const (
	tVersion  byte = 0x00
	tMeta     byte = 0x01
	tBlobInfo byte = 0x02
	tMetadata byte = 0x03
	tSliver   byte = 0x04
	tShard    byte = 0x05
	tExpiry   byte = 0x06
	tSyncQ    byte = 0x07
)

// Config configures a Store.
type Config struct {
	// Dir is the database directory (created if missing).
	Dir string `yaml:"dir"`
	// CacheSize is Pebble's block cache in bytes (default 64 MiB).
	CacheSize int64 `yaml:"cache_size"`
	// FS replaces the operating system's file system (tests: in-memory,
	// crash-simulating or fault-injecting file systems from pebble/vfs).
	FS vfs.FS `yaml:"-"`
	// Logger receives Pebble's messages at debug level (nil: discarded).
	Logger *slog.Logger `yaml:"-"`
}

// Validate reports every problem of the configuration.
func (c *Config) Validate() error {
	var errs []error
	if c.Dir == "" {
		errs = append(errs, errors.New("store: dir is required"))
	}
	if c.CacheSize < 0 {
		errs = append(errs, errors.New("store: cache_size must not be negative"))
	}
	return errors.Join(errs...)
}

// Store is a node's database. It is safe for concurrent use.
type Store struct {
	db *pebble.DB
}

// Open opens (or creates) the database in cfg.Dir and checks its format.
func Open(cfg Config) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	opts := &pebble.Options{FS: cfg.FS, Logger: pebbleLogger{cfg.Logger}}
	if cfg.CacheSize == 0 {
		cfg.CacheSize = 64 << 20
	}
	cache := pebble.NewCache(cfg.CacheSize)
	defer cache.Unref()
	opts.Cache = cache
	db, err := pebble.Open(cfg.Dir, opts)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", cfg.Dir, err)
	}
	s := &Store{db: db}
	if err := s.checkFormat(); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

func (s *Store) checkFormat() error {
	k := []byte{tVersion, 'v'}
	v, err := s.get(k)
	switch {
	case errors.Is(err, ErrNotFound):
		return s.db.Set(k, seal(k, binary.LittleEndian.AppendUint32(nil, FormatVersion)), pebble.Sync)
	case err != nil:
		return err
	case len(v) != 4 || binary.LittleEndian.Uint32(v) != FormatVersion:
		return fmt.Errorf("%w: %x (this build reads %d)", ErrFormat, v, FormatVersion)
	}
	return nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Sync makes every write before it durable.
func (s *Store) Sync() error { return s.db.LogData(nil, pebble.Sync) }

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// seal appends the checksum of key and payload to payload.
func seal(key, payload []byte) []byte {
	c := crc32.Update(crc32.Checksum(key, crcTable), crcTable, payload)
	return binary.LittleEndian.AppendUint32(payload, c)
}

// open checks a sealed value and returns its payload (aliasing v).
func open(key, v []byte) ([]byte, error) {
	if len(v) < 4 {
		return nil, fmt.Errorf("%w: key %x: %d bytes", ErrCorrupt, key, len(v))
	}
	p := v[:len(v)-4]
	c := crc32.Update(crc32.Checksum(key, crcTable), crcTable, p)
	if c != binary.LittleEndian.Uint32(v[len(v)-4:]) {
		return nil, fmt.Errorf("%w: key %x: checksum mismatch", ErrCorrupt, key)
	}
	return p, nil
}

// get returns a copy of the payload under key.
func (s *Store) get(key []byte) ([]byte, error) {
	v, closer, err := s.db.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: get %x: %w", key, err)
	}
	defer closer.Close()
	p, err := open(key, v)
	if err != nil {
		return nil, err
	}
	return append([]byte(nil), p...), nil
}

// check reports whether key holds a value that passes its checksum, without
// copying it.
func (s *Store) check(key []byte) (bool, error) {
	v, closer, err := s.db.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("store: get %x: %w", key, err)
	}
	defer closer.Close()
	if _, err := open(key, v); err != nil {
		return false, err
	}
	return true, nil
}

// Keys. They are exported so that tools and tests can address values
// directly (for example to damage one on purpose).

// MetadataKey is the key of a blob's metadata.
func MetadataKey(id blob.ID) []byte { return append([]byte{tMetadata}, id[:]...) }

// SliverKey is the key of a sliver held for a shard.
func SliverKey(shard uint16, t blob.SliverType, id blob.ID) []byte {
	k := make([]byte, 0, 36)
	k = append(k, tSliver)
	k = binary.BigEndian.AppendUint16(k, shard)
	k = append(k, byte(t))
	return append(k, id[:]...)
}

// BlobInfoKey is the key of a blob's BlobInfo.
func BlobInfoKey(id blob.ID) []byte { return append([]byte{tBlobInfo}, id[:]...) }

func shardKey(shard uint16) []byte { return binary.BigEndian.AppendUint16([]byte{tShard}, shard) }

func shardPrefix(shard uint16) []byte { return binary.BigEndian.AppendUint16([]byte{tSliver}, shard) }

func expiryKey(epoch uint32, id blob.ID) []byte {
	return append(binary.BigEndian.AppendUint32([]byte{tExpiry}, epoch), id[:]...)
}

func syncKey(id blob.ID) []byte { return append([]byte{tSyncQ}, id[:]...) }

func metaKey(name string) []byte { return append([]byte{tMeta}, name...) }

// prefixEnd is the smallest key above every key starting with p.
func prefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// Metadata.

// PutMetadata stores a blob's metadata (already verified against its ID).
// It is durable once Sync (or any later synced write) returns: the WAL is
// ordered.
func (s *Store) PutMetadata(md *blob.MetadataWithID) error {
	k := MetadataKey(md.ID)
	return s.db.Set(k, seal(k, md.MarshalBCS()), pebble.NoSync)
}

// MetadataBytes returns the BCS BlobMetadataWithId of a blob, as GET
// /metadata serves it. It returns ErrNotFound or ErrCorrupt.
func (s *Store) MetadataBytes(id blob.ID) ([]byte, error) { return s.get(MetadataKey(id)) }

// Metadata returns a blob's decoded metadata (ErrNotFound, ErrCorrupt).
func (s *Store) Metadata(id blob.ID) (*blob.MetadataWithID, error) {
	b, err := s.MetadataBytes(id)
	if err != nil {
		return nil, err
	}
	md, err := blob.UnmarshalMetadataWithID(b)
	if err != nil || md.ID != id {
		return nil, fmt.Errorf("%w: metadata of %s does not decode: %v", ErrCorrupt, id, err)
	}
	return &md, nil
}

// HasMetadata reports whether intact metadata of the blob is stored.
func (s *Store) HasMetadata(id blob.ID) (bool, error) { return s.check(MetadataKey(id)) }

// DeleteMetadata removes a blob's metadata.
func (s *Store) DeleteMetadata(id blob.ID) error {
	return s.db.Delete(MetadataKey(id), pebble.Sync)
}

// Slivers.

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

// PutSlivers stores several slivers of one blob in one batch, durable once
// Sync (or any later synced write) returns.
func (s *Store) PutSlivers(id blob.ID, slivers []ShardSliver) error {
	b := s.db.NewBatch()
	defer b.Close()
	for _, x := range slivers {
		k := SliverKey(x.Shard, x.Sliver.Type, id)
		if err := b.Set(k, seal(k, x.Sliver.MarshalBCS()), nil); err != nil {
			return err
		}
		sk := shardKey(x.Shard)
		if err := b.Set(sk, seal(sk, nil), nil); err != nil {
			return err
		}
	}
	return b.Commit(pebble.NoSync)
}

// SliverBytes returns the BCS SliverData held for a shard, as GET /slivers
// serves it (ErrNotFound, ErrCorrupt).
func (s *Store) SliverBytes(shard uint16, t blob.SliverType, id blob.ID) ([]byte, error) {
	return s.get(SliverKey(shard, t, id))
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

// HasSliver reports whether an intact sliver is held for the shard.
func (s *Store) HasSliver(shard uint16, t blob.SliverType, id blob.ID) (bool, error) {
	return s.check(SliverKey(shard, t, id))
}

// DeleteSliver removes one sliver.
func (s *Store) DeleteSliver(shard uint16, t blob.SliverType, id blob.ID) error {
	return s.db.Delete(SliverKey(shard, t, id), pebble.Sync)
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

// DeleteShard removes every sliver of a shard.
func (s *Store) DeleteShard(shard uint16) error {
	b := s.db.NewBatch()
	defer b.Close()
	p := shardPrefix(shard)
	if err := b.DeleteRange(p, prefixEnd(p), nil); err != nil {
		return err
	}
	if err := b.Delete(shardKey(shard), nil); err != nil {
		return err
	}
	return b.Commit(pebble.Sync)
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

// scan calls fn for every key under prefix with its checked payload.
func (s *Store) scan(prefix []byte, fn func(k, payload []byte) error) error {
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
	if err != nil {
		return err
	}
	defer it.Close()
	for ok := it.First(); ok; ok = it.Next() {
		p, err := open(it.Key(), it.Value())
		if err != nil {
			return err
		}
		if err := fn(it.Key(), p); err != nil {
			return err
		}
	}
	return it.Error()
}

type pebbleLogger struct{ l *slog.Logger }

func (p pebbleLogger) Infof(format string, args ...any) {
	if p.l != nil {
		p.l.Debug(fmt.Sprintf(format, args...), "component", "pebble")
	}
}

func (p pebbleLogger) Errorf(format string, args ...any) {
	if p.l != nil {
		p.l.Error(fmt.Sprintf(format, args...), "component", "pebble")
	}
}

func (p pebbleLogger) Fatalf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if p.l != nil {
		p.l.Error(msg, "component", "pebble")
	}
	panic(msg)
}

// CheckReport is the result of Check.
type CheckReport struct {
	Keys, Metadata, Slivers, BlobInfos int
	// Corrupt lists the keys whose values fail their checksum or do not decode.
	Corrupt [][]byte
}

// Check reads every value of the database, verifies its checksum and decodes
// the typed ones. It is what a consistency check after a crash runs.
func (s *Store) Check() (CheckReport, error) {
	var r CheckReport
	it, err := s.db.NewIter(nil)
	if err != nil {
		return r, err
	}
	defer it.Close()
	for ok := it.First(); ok; ok = it.Next() {
		r.Keys++
		k := it.Key()
		p, err := open(k, it.Value())
		if err == nil {
			err = checkValue(k, p, &r)
		}
		if err != nil {
			r.Corrupt = append(r.Corrupt, append([]byte(nil), k...))
		}
	}
	return r, it.Error()
}

func checkValue(k, p []byte, r *CheckReport) error {
	switch k[0] {
	case tMetadata:
		r.Metadata++
		md, err := blob.UnmarshalMetadataWithID(p)
		if err != nil || len(k) != 33 || blob.ID(k[1:]) != md.ID {
			return fmt.Errorf("%w: metadata", ErrCorrupt)
		}
	case tSliver:
		r.Slivers++
		if len(k) != 36 {
			return fmt.Errorf("%w: sliver key", ErrCorrupt)
		}
		if _, err := redstuff.UnmarshalSliver(p, blob.SliverType(k[3])); err != nil {
			return err
		}
	case tBlobInfo:
		r.BlobInfos++
		_, err := UnmarshalBlobInfo(p)
		return err
	}
	return nil
}
