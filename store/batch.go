package store

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/chain"
)

// Batch groups writes that commit together or not at all: an event's
// effects with the event cursor. A Batch is not safe for concurrent use.
type Batch struct {
	s     *Store
	b     *pebble.Batch
	files []string // sliver files to remove once the batch has committed
	err   error
}

// NewBatch starts a batch.
func (s *Store) NewBatch() *Batch { return &Batch{s: s, b: s.db.NewBatch()} }

func (b *Batch) set(k, payload []byte) {
	if b.err == nil {
		b.err = b.b.Set(k, seal(k, payload), nil)
	}
}

func (b *Batch) del(k []byte) {
	if b.err == nil {
		b.err = b.b.Delete(k, nil)
	}
}

// SetBlobInfo records a blob's BlobInfo; an empty record is deleted.
func (b *Batch) SetBlobInfo(id blob.ID, info *BlobInfo) {
	if info.Empty() {
		b.del(BlobInfoKey(id))
		return
	}
	b.set(BlobInfoKey(id), info.AppendBCS(nil))
}

// AddExpiry notes that the blob must be looked at again when epoch begins.
func (b *Batch) AddExpiry(epoch uint32, id blob.ID) { b.set(expiryKey(epoch, id), nil) }

// DeleteExpiry removes an expiry note.
func (b *Batch) DeleteExpiry(epoch uint32, id blob.ID) { b.del(expiryKey(epoch, id)) }

// EnqueueSync puts a blob in the recovery queue. requiredFor is the epoch
// whose epoch_sync_done must wait for the blob (0: none), replacing the
// entry's previous mark.
func (b *Batch) EnqueueSync(id blob.ID, requiredFor uint32) {
	b.set(syncKey(id), binary.LittleEndian.AppendUint32(nil, requiredFor))
}

// DequeueSync takes a blob out of the recovery queue.
func (b *Batch) DequeueSync(id blob.ID) { b.del(syncKey(id)) }

// DeleteBlobData removes a blob's metadata and its slivers in the given
// shards, and takes it out of the recovery queue. The slivers' files are
// removed once the batch has committed.
func (b *Batch) DeleteBlobData(id blob.ID, shards []uint16) {
	b.del(MetadataKey(id))
	for _, sh := range shards {
		for _, t := range []blob.SliverType{blob.Primary, blob.Secondary} {
			b.del(SliverKey(sh, t, id))
			b.files = append(b.files, b.s.sliverPath(sh, t, id))
		}
	}
	b.DequeueSync(id)
}

// SetCursor records the last handled chain event.
func (b *Batch) SetCursor(c chain.Cursor) { b.set(metaKey(metaCursor), []byte(c.String())) }

// SetMeta records a node fact; nil deletes it.
func (b *Batch) SetMeta(name string, v []byte) {
	if v == nil {
		b.del(metaKey(name))
		return
	}
	b.set(metaKey(name), v)
}

// Commit applies the batch; with sync it is durable on return. A batch that
// deletes blob data is always synced, and then removes the slivers' files:
// removed before the deletion of their index entries is durable, a crash
// could bring back entries whose files are gone.
func (b *Batch) Commit(sync bool) error {
	defer b.b.Close()
	if b.err != nil {
		return b.err
	}
	if len(b.files) == 0 {
		opts := pebble.NoSync
		if sync {
			opts = pebble.Sync
		}
		return b.b.Commit(opts)
	}
	// Exclusive: a write of one of these slivers either precedes the
	// deletion entirely or follows it entirely.
	b.s.writers.Lock()
	defer b.s.writers.Unlock()
	if err := b.b.Commit(pebble.Sync); err != nil {
		return err
	}
	b.s.removeFiles(b.files)
	return nil
}

// Discard drops the batch.
func (b *Batch) Discard() { b.b.Close() }

// Node facts.

const metaCursor = "cursor"

// Cursor returns the last handled chain event (the zero cursor if none).
func (s *Store) Cursor() (chain.Cursor, error) {
	v, err := s.get(metaKey(metaCursor))
	if errors.Is(err, ErrNotFound) {
		return chain.Cursor{}, nil
	}
	if err != nil {
		return chain.Cursor{}, err
	}
	c, err := chain.ParseCursor(string(v))
	if err != nil {
		return chain.Cursor{}, fmt.Errorf("%w: cursor: %w", ErrCorrupt, err)
	}
	return c, nil
}

// Meta returns a node fact (ErrNotFound, ErrCorrupt).
func (s *Store) Meta(name string) ([]byte, error) { return s.get(metaKey(name)) }

// SetMeta records a node fact durably; nil deletes it.
func (s *Store) SetMeta(name string, v []byte) error {
	b := s.NewBatch()
	b.SetMeta(name, v)
	return b.Commit(true)
}

// Expiry index.

// Expiring returns the blobs noted for epochs up to and including epoch,
// with the epoch each was noted for.
func (s *Store) Expiring(epoch uint32) ([]ExpiryNote, error) {
	var out []ExpiryNote
	lower := []byte{tExpiry}
	upper := binary.BigEndian.AppendUint32([]byte{tExpiry}, epoch)
	upper = prefixEnd(upper)
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	for ok := it.First(); ok; ok = it.Next() {
		k := it.Key()
		if len(k) != 37 {
			return nil, fmt.Errorf("%w: expiry key %x", ErrCorrupt, k)
		}
		out = append(out, ExpiryNote{Epoch: binary.BigEndian.Uint32(k[1:5]), ID: blob.ID(k[5:])})
	}
	return out, it.Error()
}

// ExpiryNote is an entry of the expiry index.
type ExpiryNote struct {
	Epoch uint32
	ID    blob.ID
}

// Recovery queue.

// SyncQueue returns up to limit queued blobs in blob-ID order, after the
// given one (nil: from the start).
func (s *Store) SyncQueue(after *blob.ID, limit int) ([]blob.ID, error) {
	lower := []byte{tSyncQ}
	if after != nil {
		lower = append(syncKey(*after), 0)
	}
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: []byte{tSyncQ + 1}})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var out []blob.ID
	for ok := it.First(); ok && len(out) < limit; ok = it.Next() {
		k := it.Key()
		if len(k) != 33 {
			return nil, fmt.Errorf("%w: sync queue key %x", ErrCorrupt, k)
		}
		out = append(out, blob.ID(k[1:]))
	}
	return out, it.Error()
}

// SyncQueued reports whether a blob is in the recovery queue.
func (s *Store) SyncQueued(id blob.ID) (bool, error) { return s.check(syncKey(id)) }

// SyncRequired reports whether a queued blob is marked as required for the
// epoch_sync_done of epoch or a later one.
func (s *Store) SyncRequired(epoch uint32) (bool, error) {
	found := false
	err := s.scan([]byte{tSyncQ}, func(_, p []byte) error {
		if len(p) == 4 && binary.LittleEndian.Uint32(p) >= epoch {
			found = true
			return errStop
		}
		return nil
	})
	if errors.Is(err, errStop) {
		err = nil
	}
	return found, err
}

var errStop = errors.New("stop")

// SyncQueueLen counts the queued blobs.
func (s *Store) SyncQueueLen() (int, error) {
	n := 0
	err := s.scan([]byte{tSyncQ}, func(_, _ []byte) error { n++; return nil })
	return n, err
}
