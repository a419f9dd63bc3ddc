package node

import (
	"log/slog"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/store"
)

// repairer handles damaged values: a sliver or metadata that failed its
// checksum is deleted (never served) and its blob queued for recovery, which
// fetches the value again from peers. The backend calls it when a read
// finds damage.
type repairer struct {
	log   *slog.Logger
	store *store.Store
	locks *blobLocks
	view  *view
	cache *metadataCache
	wake  signal // blob sync
}

func newRepairer(p *parts) *repairer {
	return &repairer{log: p.log, store: p.store, locks: p.locks, view: p.view, cache: p.cache, wake: p.wake}
}

// sliver deletes a sliver that failed its checksum and queues its blob for
// recovery.
func (r *repairer) sliver(shard uint16, t blob.SliverType, id blob.ID) {
	if err := r.store.DeleteSliver(shard, t, id); err != nil {
		r.log.Error("deleting a damaged sliver", "blob_id", id, "shard", shard, "err", err)
		return
	}
	r.requeue(id)
}

// metadata deletes metadata that failed its checksum and queues its blob
// for recovery (which fetches metadata from peers first).
func (r *repairer) metadata(id blob.ID) {
	r.cache.forget(id)
	if err := r.store.DeleteMetadata(id); err != nil {
		r.log.Error("deleting damaged metadata", "blob_id", id, "err", err)
		return
	}
	r.requeue(id)
}

// requeue puts a certified live blob back in the recovery queue.
func (r *repairer) requeue(id blob.ID) {
	mu := r.locks.of(id)
	mu.Lock()
	info, err := loadBlobInfo(r.store, id)
	if err != nil || info.Invalid != nil || !info.CertifiedLive(r.view.Epoch()) {
		mu.Unlock()
		return
	}
	queued, err := r.store.SyncQueued(id)
	if err != nil || queued { // the entry (and its mark) is there already
		mu.Unlock()
		r.wake.wake()
		return
	}
	b := r.store.NewBatch()
	b.EnqueueSync(id, 0)
	err = b.Commit(true)
	mu.Unlock()
	if err != nil {
		r.log.Error("queueing a blob for recovery", "blob_id", id, "err", err)
		return
	}
	r.wake.wake()
}
