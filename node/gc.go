package node

import (
	"log/slog"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/store"
)

// collector is garbage collection: it deletes the data of blobs that no
// live registration keeps (expired at an epoch change, deleted, invalid)
// and of blocked blobs, and accounts for it. It has no loop of its own: the
// event follower, epochs and the blocklist watcher call it.
type collector struct {
	log     *slog.Logger
	store   *store.Store
	locks   *blobLocks
	cache   *metadataCache
	uploads uploads
	metrics *metrics
}

func newCollector(p *parts, u uploads) *collector {
	return &collector{log: p.log, store: p.store, locks: p.locks, cache: p.cache, uploads: u, metrics: p.metrics}
}

// collectExpired drops the registrations that ended by epoch and deletes
// the data of blobs no live registration keeps (the expiry index names the
// candidates; invalid blobs keep their record so that they are reported
// invalid).
func (c *collector) collectExpired(epoch uint32) error {
	notes, err := c.store.Expiring(epoch)
	if err != nil {
		return err
	}
	for _, note := range notes {
		if err := c.collectOne(note, epoch); err != nil {
			return err
		}
	}
	return nil
}

func (c *collector) collectOne(note store.ExpiryNote, epoch uint32) error {
	mu := c.locks.of(note.ID)
	mu.Lock()
	defer mu.Unlock()
	info, err := loadBlobInfo(c.store, note.ID)
	if err != nil {
		return err
	}
	b := c.store.NewBatch()
	b.DeleteExpiry(note.Epoch, note.ID)
	live := info.Live(epoch)
	info.Expire(epoch)
	b.SetBlobInfo(note.ID, &info)
	collect := !live && info.Invalid == nil
	if collect {
		if err := c.deleteData(b, note.ID); err != nil {
			b.Discard()
			return err
		}
	}
	if err := b.Commit(false); err != nil {
		return err
	}
	if collect {
		c.collected(note.ID, "expired")
	}
	return nil
}

// collectBlocked deletes the data of a blob put on the blocklist; its chain
// record stays.
func (c *collector) collectBlocked(id blob.ID) error {
	mu := c.locks.of(id)
	mu.Lock()
	defer mu.Unlock()
	b := c.store.NewBatch()
	if err := c.deleteData(b, id); err != nil {
		b.Discard()
		return err
	}
	if err := b.Commit(true); err != nil {
		return err
	}
	c.uploads.DropPending(id)
	c.collected(id, "blocked")
	return nil
}

// deleteData adds the deletion of a blob's metadata and slivers (in every
// shard the store holds) and of its recovery queue entry to a batch.
func (c *collector) deleteData(b *store.Batch, id blob.ID) error {
	shards, err := c.store.Shards()
	if err != nil {
		return err
	}
	b.DeleteBlobData(id, shards)
	return nil
}

// collected accounts for a blob whose data was deleted.
func (c *collector) collected(id blob.ID, reason string) {
	c.cache.forget(id)
	c.metrics.gc.WithLabelValues(reason).Inc()
	c.log.Debug("blob data collected", "blob_id", id, "reason", reason)
}
