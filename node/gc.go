package node

import (
	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/store"
)

// collectExpired drops the registrations that ended by epoch and deletes
// the data of blobs no live registration keeps (the expiry index names the
// candidates; invalid blobs keep their record so that they are reported
// invalid).
func (n *Node) collectExpired(epoch uint32) error {
	notes, err := n.store.Expiring(epoch)
	if err != nil {
		return err
	}
	for _, note := range notes {
		if err := n.collectOne(note, epoch); err != nil {
			return err
		}
	}
	return nil
}

func (n *Node) collectOne(note store.ExpiryNote, epoch uint32) error {
	mu := n.lock(note.ID)
	mu.Lock()
	defer mu.Unlock()
	info, err := n.blobInfo(note.ID)
	if err != nil {
		return err
	}
	b := n.store.NewBatch()
	b.DeleteExpiry(note.Epoch, note.ID)
	live := info.Live(epoch)
	info.Expire(epoch)
	b.SetBlobInfo(note.ID, &info)
	collect := !live && info.Invalid == nil
	if collect {
		if err := n.deleteBlobData(b, note.ID); err != nil {
			b.Discard()
			return err
		}
	}
	if err := b.Commit(false); err != nil {
		return err
	}
	if collect {
		n.collected(note.ID, "expired")
	}
	return nil
}

// collectBlocked deletes the data of a blob put on the blocklist; its chain
// record stays.
func (n *Node) collectBlocked(id blob.ID) error {
	mu := n.lock(id)
	mu.Lock()
	defer mu.Unlock()
	b := n.store.NewBatch()
	if err := n.deleteBlobData(b, id); err != nil {
		b.Discard()
		return err
	}
	if err := b.Commit(true); err != nil {
		return err
	}
	n.api.DropPending(id)
	n.collected(id, "blocked")
	return nil
}

// repairSliver deletes a sliver that failed its checksum and queues its
// blob for recovery.
func (n *Node) repairSliver(shard uint16, t blob.SliverType, id blob.ID) {
	if err := n.store.DeleteSliver(shard, t, id); err != nil {
		n.log.Error("deleting a damaged sliver", "blob_id", id, "shard", shard, "err", err)
		return
	}
	n.requeue(id)
}

// repairMetadata deletes metadata that failed its checksum and queues its
// blob for recovery (which fetches metadata from peers first).
func (n *Node) repairMetadata(id blob.ID) {
	n.backend.forget(id)
	if err := n.store.DeleteMetadata(id); err != nil {
		n.log.Error("deleting damaged metadata", "blob_id", id, "err", err)
		return
	}
	n.requeue(id)
}

// requeue puts a certified live blob back in the recovery queue.
func (n *Node) requeue(id blob.ID) {
	mu := n.lock(id)
	mu.Lock()
	info, err := n.blobInfo(id)
	if err != nil || info.Invalid != nil || !info.CertifiedLive(n.view.Epoch()) {
		mu.Unlock()
		return
	}
	queued, err := n.store.SyncQueued(id)
	if err != nil || queued { // the entry (and its mark) is there already
		mu.Unlock()
		n.wakeSync()
		return
	}
	b := n.store.NewBatch()
	b.EnqueueSync(id, 0)
	err = b.Commit(true)
	mu.Unlock()
	if err != nil {
		n.log.Error("queueing a blob for recovery", "blob_id", id, "err", err)
		return
	}
	n.wakeSync()
}
