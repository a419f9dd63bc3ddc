package node

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/chain"
	"github.com/walrus-go/walrus/ids"
	"github.com/walrus-go/walrus/store"
)

// followEvents hands every chain event after the stored cursor to
// handleEvent, in order. Each event's effects are committed together with
// its cursor, so a crash neither loses nor repeats an effect; an event that
// cannot be handled (the chain or the store failing) is retried.
func (n *Node) followEvents(ctx context.Context) error {
	cursor, err := n.store.Cursor()
	if err != nil {
		return fmt.Errorf("node: event cursor: %w", err)
	}
	n.stats.cursorH.Store(cursor.Height)
	sub := n.chain.Subscribe(cursor)
	backoff := 100 * time.Millisecond
	for {
		ev, err := sub.Next(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			n.log.Warn("reading chain events", "err", err)
			if !sleep(ctx, backoff) {
				return nil
			}
			backoff = min(2*backoff, 5*time.Second)
			sub = n.chain.Subscribe(sub.Cursor())
			continue
		}
		backoff = 100 * time.Millisecond
		for {
			err := n.handleEvent(ctx, ev)
			if err == nil {
				break
			}
			if ctx.Err() != nil {
				return nil
			}
			n.log.Error("handling chain event; retrying", "type", ev.Event.Type, "cursor", ev.Cursor, "err", err)
			if !sleep(ctx, backoff) {
				return nil
			}
			backoff = min(2*backoff, 5*time.Second)
		}
		n.stats.events.Add(1)
		n.stats.cursorH.Store(ev.Cursor.Height)
		n.metrics.events.WithLabelValues(ev.Event.Type).Inc()
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

func recordEventID(ev chain.EventRecord) ids.EventID {
	return ids.EventID{TxDigest: ev.TxDigest, Seq: uint64(ev.Cursor.EventIndex)}
}

// handleEvent applies one event.
func (n *Node) handleEvent(ctx context.Context, ev chain.EventRecord) error {
	switch ev.Event.Type {
	case chain.EventBlobRegistered:
		e, err := chain.ParseBlobRegistered(ev.Event.Data)
		if err != nil {
			return n.skipEvent(ev, err)
		}
		return n.onRegistered(ev, e)
	case chain.EventBlobCertified:
		e, err := chain.ParseBlobCertified(ev.Event.Data)
		if err != nil {
			return n.skipEvent(ev, err)
		}
		return n.onCertified(ev, e)
	case chain.EventBlobDeleted:
		e, err := chain.ParseBlobDeleted(ev.Event.Data)
		if err != nil {
			return n.skipEvent(ev, err)
		}
		return n.onDeleted(ev, e)
	case chain.EventInvalidBlobID:
		e, err := chain.ParseInvalidBlobID(ev.Event.Data)
		if err != nil {
			return n.skipEvent(ev, err)
		}
		return n.onInvalid(ev, e)
	case chain.EventEpochChangeStart:
		e, err := chain.ParseEpochEvent(ev.Event.Data)
		if err != nil {
			return n.skipEvent(ev, err)
		}
		return n.onEpochChangeStart(ctx, ev, e.Epoch)
	case chain.EventEpochChangeDone:
		e, err := chain.ParseEpochEvent(ev.Event.Data)
		if err != nil {
			return n.skipEvent(ev, err)
		}
		return n.onEpochChangeDone(ctx, ev, e.Epoch)
	}
	return n.saveCursor(ev)
}

// skipEvent logs an event whose payload does not decode and moves past it:
// the chain wrote it, so retrying cannot help.
func (n *Node) skipEvent(ev chain.EventRecord, err error) error {
	n.log.Error("undecodable chain event skipped", "type", ev.Event.Type, "cursor", ev.Cursor, "err", err)
	return n.saveCursor(ev)
}

func (n *Node) saveCursor(ev chain.EventRecord) error {
	b := n.store.NewBatch()
	b.SetCursor(ev.Cursor)
	return b.Commit(false)
}

// blobInfo loads a blob's record (empty if none).
func (n *Node) blobInfo(id blob.ID) (store.BlobInfo, error) {
	info, err := n.store.BlobInfo(id)
	if errors.Is(err, store.ErrNotFound) {
		return store.BlobInfo{}, nil
	}
	return info, err
}

// onRegistered records a registration; the blob's data is accepted from
// now on, and pending uploads are stored.
func (n *Node) onRegistered(ev chain.EventRecord, e chain.BlobRegistered) error {
	mu := n.lock(e.BlobID)
	mu.Lock()
	info, err := n.blobInfo(e.BlobID)
	if err != nil {
		mu.Unlock()
		return err
	}
	b := n.store.NewBatch()
	live := e.EndEpoch > n.view.Epoch()
	if live {
		info.Put(store.Registration{ObjectID: e.ObjectID, Deletable: e.Deletable, EndEpoch: e.EndEpoch, Event: recordEventID(ev)})
		b.SetBlobInfo(e.BlobID, &info)
		b.AddExpiry(e.EndEpoch, e.BlobID)
	}
	b.SetCursor(ev.Cursor)
	err = b.Commit(false)
	mu.Unlock()
	if err != nil {
		return err
	}
	if live && info.Invalid == nil && !n.blocklist.Blocked(e.BlobID) {
		n.api.Registered(e.BlobID)
	}
	return nil
}

// onCertified marks the object certified (or extended) and queues the blob
// for recovery of any slivers the node lacks.
func (n *Node) onCertified(ev chain.EventRecord, e chain.BlobCertified) error {
	mu := n.lock(e.BlobID)
	mu.Lock()
	defer mu.Unlock()
	info, err := n.blobInfo(e.BlobID)
	if err != nil {
		return err
	}
	epoch := n.view.Epoch()
	r := info.Registration(e.ObjectID)
	reg := store.Registration{ObjectID: e.ObjectID, Deletable: e.Deletable, EndEpoch: e.EndEpoch}
	if r != nil {
		reg = *r
	}
	if reg.CertifiedEpoch == nil {
		ce := e.Epoch
		reg.CertifiedEpoch = &ce
	}
	reg.EndEpoch = max(reg.EndEpoch, e.EndEpoch)
	reg.Event = recordEventID(ev)
	b := n.store.NewBatch()
	queued := false
	if reg.Live(epoch) {
		info.Put(reg)
		b.SetBlobInfo(e.BlobID, &info)
		b.AddExpiry(reg.EndEpoch, e.BlobID)
		if !e.IsExtension && info.Invalid == nil && !n.blocklist.Blocked(e.BlobID) {
			already, err := n.store.SyncQueued(e.BlobID)
			if err != nil {
				b.Discard()
				return err
			}
			if !already { // keep the mark of an entry queued for an epoch change
				b.EnqueueSync(e.BlobID, 0)
			}
			queued = true
		}
	}
	b.SetCursor(ev.Cursor)
	if err := b.Commit(false); err != nil {
		return err
	}
	if queued {
		n.wakeSync()
	}
	return nil
}

// onDeleted drops a deleted object's registration; the data goes when no
// live registration keeps it.
func (n *Node) onDeleted(ev chain.EventRecord, e chain.BlobDeleted) error {
	mu := n.lock(e.BlobID)
	mu.Lock()
	defer mu.Unlock()
	info, err := n.blobInfo(e.BlobID)
	if err != nil {
		return err
	}
	b := n.store.NewBatch()
	info.Remove(e.ObjectID)
	b.SetBlobInfo(e.BlobID, &info)
	collect := info.Invalid == nil && !info.Live(n.view.Epoch())
	if collect {
		if err := n.deleteBlobData(b, e.BlobID); err != nil {
			b.Discard()
			return err
		}
	}
	b.SetCursor(ev.Cursor)
	if err := b.Commit(false); err != nil {
		return err
	}
	if collect {
		n.collected(e.BlobID, "deleted")
	}
	return nil
}

// onInvalid records that the blob ID is invalid and deletes its data; the
// node reports it invalid from now on.
func (n *Node) onInvalid(ev chain.EventRecord, e chain.InvalidBlobIDEvent) error {
	mu := n.lock(e.BlobID)
	mu.Lock()
	defer mu.Unlock()
	info, err := n.blobInfo(e.BlobID)
	if err != nil {
		return err
	}
	b := n.store.NewBatch()
	if info.Invalid == nil {
		info.Invalid = &store.Invalidation{Epoch: e.Epoch, Event: recordEventID(ev)}
	}
	b.SetBlobInfo(e.BlobID, &info)
	if err := n.deleteBlobData(b, e.BlobID); err != nil {
		b.Discard()
		return err
	}
	b.SetCursor(ev.Cursor)
	if err := b.Commit(false); err != nil {
		return err
	}
	n.api.DropPending(e.BlobID)
	n.collected(e.BlobID, "invalid")
	n.log.Info("blob marked invalid on chain; its data is deleted", "blob_id", e.BlobID)
	return nil
}

// deleteBlobData adds the deletion of a blob's metadata and slivers (in every
// shard the store holds) and of its recovery queue entry to a batch.
func (n *Node) deleteBlobData(b *store.Batch, id blob.ID) error {
	shards, err := n.store.Shards()
	if err != nil {
		return err
	}
	b.DeleteBlobData(id, shards)
	return nil
}

// collected accounts for a blob whose data was deleted.
func (n *Node) collected(id blob.ID, reason string) {
	n.backend.forget(id)
	n.metrics.gc.WithLabelValues(reason).Inc()
	n.log.Debug("blob data collected", "blob_id", id, "reason", reason)
}
