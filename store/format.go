package store

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// migrateBatchBytes bounds a batch of the migration from version 1.
const migrateBatchBytes = 4 << 20

// checkFormat records the format of a new database, accepts version 2,
// migrates version 1 and refuses anything else.
func (s *Store) checkFormat() error {
	k := []byte(keyVersion)
	v, err := s.get(k)
	switch {
	case errors.Is(err, ErrNotFound):
		return s.db.Set(k, seal(k, binary.LittleEndian.AppendUint32(nil, FormatVersion)), pebble.Sync)
	case errors.Is(err, ErrCorrupt):
		return fmt.Errorf("%w: the format marker is unreadable (%v); this build reads versions 1 and %d", ErrFormat, err, FormatVersion)
	case err != nil:
		return err
	case len(v) != 4:
		return fmt.Errorf("%w: the format marker %x is not a version; this build reads versions 1 and %d", ErrFormat, v, FormatVersion)
	}
	switch found := binary.LittleEndian.Uint32(v); found {
	case FormatVersion:
		return nil
	case 1:
		return s.migrateV1()
	default:
		return fmt.Errorf("%w: found format version %d; this build reads versions 1 and %d", ErrFormat, found, FormatVersion)
	}
}

// migrateV1 rewrites every sliver value of a version-1 database (sealed BCS
// SliverData) in the inline form of version 2 (the same with the tag 0x00
// first), then records version 2. It works in batches, each of which also
// records the last key it rewrote, so that a migration cut short by a crash
// resumes where it stopped instead of tagging a value twice. A value that
// fails its checksum is left as it is: it fails in version 2 as well, and is
// reported as corrupt when read.
func (s *Store) migrateV1() error {
	lower := []byte{tSliver}
	switch last, err := s.get([]byte(keyMigrate)); {
	case err == nil:
		lower = append(last, 0)
	case !errors.Is(err, ErrNotFound):
		return fmt.Errorf("store: migration from format 1: %w", err)
	}
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: []byte{tSliver + 1}})
	if err != nil {
		return err
	}
	defer it.Close()
	b := s.db.NewBatch()
	defer func() { b.Close() }()
	migrated, corrupt, batches := 0, 0, 1
	for ok := it.First(); ok; ok = it.Next() {
		k := it.Key()
		p, err := open(k, it.Value())
		if err != nil {
			corrupt++
			continue
		}
		payload := make([]byte, 0, 1+len(p)+4)
		payload = append(append(payload, tagInline), p...)
		if err := b.Set(k, seal(k, payload), nil); err != nil {
			return err
		}
		migrated++
		if b.Len() >= migrateBatchBytes {
			mk := []byte(keyMigrate)
			if err := b.Set(mk, seal(mk, append([]byte(nil), k...)), nil); err != nil {
				return err
			}
			if err := b.Commit(pebble.NoSync); err != nil {
				return fmt.Errorf("store: migration from format 1: %w", err)
			}
			b.Close()
			b = s.db.NewBatch()
			batches++
		}
	}
	if err := it.Error(); err != nil {
		return fmt.Errorf("store: migration from format 1: %w", err)
	}
	vk := []byte(keyVersion)
	if err := b.Set(vk, seal(vk, binary.LittleEndian.AppendUint32(nil, FormatVersion)), nil); err != nil {
		return err
	}
	if err := b.Delete([]byte(keyMigrate), nil); err != nil {
		return err
	}
	// Synced, the WAL makes the earlier batches durable with it.
	if err := b.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("store: migration from format 1: %w", err)
	}
	s.log.Info("store: migrated the database from format 1 to 2", "slivers", migrated, "corrupt_left", corrupt, "batches", batches)
	return nil
}
