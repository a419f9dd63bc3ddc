package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/walrus-go/walrus/blob"
)

// FormatVersion is the on-disk format this package writes. It also reads
// version 1, which Open migrates (see the package documentation).
const FormatVersion = 2

// DefaultFileThreshold is the default Config.FileThreshold.
const DefaultFileThreshold = 64 << 10

// Errors returned by the store.
var (
	// ErrNotFound: no value under the key.
	ErrNotFound = errors.New("store: not found")
	// ErrCorrupt: a value failed its checksum or does not decode, or the file
	// of a sliver is missing, short or fails its checksum. The value is not
	// returned; the caller should delete it and recover it.
	ErrCorrupt = errors.New("store: corrupted value")
	// ErrFormat: Open found a database in a format this version cannot read.
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

// The store's own keys, in table 0x00.
const (
	keyVersion = "\x00v" // format version
	keyMigrate = "\x00m" // progress of a migration from version 1
	keyOpen    = "\x00o" // set while the store is open
)

// Config configures a Store.
type Config struct {
	// Dir is the database directory (created if missing).
	Dir string `yaml:"dir"`
	// CacheSize is Pebble's block cache in bytes (default 64 MiB).
	CacheSize int64 `yaml:"cache_size"`
	// FileThreshold is the size of a sliver's BCS encoding from which the
	// sliver is kept in a file of its own beside the database instead of in
	// it (0: DefaultFileThreshold; negative: never). It applies to writes;
	// either kind of sliver is read whatever it is.
	FileThreshold int `yaml:"sliver_file_threshold"`
	// FS replaces the operating system's file system (tests: in-memory,
	// crash-simulating or fault-injecting file systems from pebble/vfs).
	FS vfs.FS `yaml:"-"`
	// Logger receives the store's messages (migration, removal of orphan
	// files) and Pebble's at debug level (nil: discarded).
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
	if int64(c.FileThreshold) > math.MaxUint32 {
		errs = append(errs, errors.New("store: sliver_file_threshold must be below 4 GiB (a negative value keeps every sliver inline)"))
	}
	return errors.Join(errs...)
}

// Store is a node's database. It is safe for concurrent use.
type Store struct {
	db        *pebble.DB
	fs        vfs.FS
	dir       string // the Pebble directory
	root      string // dir/slivers: the sliver files
	threshold int    // negative: no files
	log       *slog.Logger

	// writers orders sliver writes against file removals. A write holds it
	// shared from its file's rename to its entry's commit; deletions and
	// RemoveOrphans hold it exclusively, so that none removes a file whose
	// entry is about to land, nor a file rewritten after its entry's deletion.
	writers sync.RWMutex

	tmpSeq atomic.Uint64 // names temporary files uniquely

	dirty  dirtySet
	rounds syncRounds
}

// Open opens (or creates) the database in cfg.Dir, checks its format and
// migrates a version-1 database. If the store was not closed cleanly last
// time, it removes the sliver files that a crash orphaned (RemoveOrphans).
func Open(cfg Config) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.FS == nil {
		cfg.FS = vfs.Default
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	opts := &pebble.Options{FS: cfg.FS, Logger: pebbleLogger{cfg.Logger}}
	if cfg.CacheSize == 0 {
		cfg.CacheSize = 64 << 20
	}
	if cfg.FileThreshold == 0 {
		cfg.FileThreshold = DefaultFileThreshold
	}
	cache := pebble.NewCache(cfg.CacheSize)
	defer cache.Unref()
	opts.Cache = cache
	db, err := pebble.Open(cfg.Dir, opts)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", cfg.Dir, err)
	}
	s := &Store{
		db:        db,
		fs:        cfg.FS,
		dir:       cfg.Dir,
		root:      cfg.FS.PathJoin(cfg.Dir, "slivers"),
		threshold: cfg.FileThreshold,
		log:       log,
	}
	s.dirty.init()
	if err := s.checkFormat(); err != nil {
		db.Close()
		return nil, err
	}
	if err := s.markOpen(); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// markOpen records that the store is open; finding the mark at Open means
// the last run crashed, and may have left orphan files.
func (s *Store) markOpen() error {
	_, err := s.get([]byte(keyOpen))
	switch {
	case err == nil || errors.Is(err, ErrCorrupt):
		n, err := s.RemoveOrphans()
		if err != nil {
			s.log.Warn("store: removing orphan sliver files", "err", err)
		} else if n > 0 {
			s.log.Info("store: removed orphan sliver files left by a crash", "files", n)
		}
	case !errors.Is(err, ErrNotFound):
		return err
	}
	k := []byte(keyOpen)
	return s.db.Set(k, seal(k, nil), pebble.Sync)
}

// Close makes every write durable (Sync) and closes the database.
func (s *Store) Close() error {
	err := s.Sync()
	if err == nil {
		err = s.db.Delete([]byte(keyOpen), pebble.Sync)
	}
	return errors.Join(err, s.db.Close())
}

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
