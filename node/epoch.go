package node

import (
	"context"
	"encoding/binary"
	"errors"
	"slices"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/chain"
	"github.com/walrus-go/walrus/store"
)

// Epoch changes. At EpochChangeStart(e) the node refreshes its view of the
// committees. If e is the chain's current epoch, the change is syncing,
// the node is a member and has not reported e yet, it remembers that it
// owes epoch_sync_done(e) and, when it gained shards, queues every
// certified live blob for recovery: blob sync fills the gained shards from
// the committee. Once the queue is empty and the node has followed every
// event, the sync loop calls epoch_sync_done. At EpochChangeDone the node
// drops the shards it no longer owns. Old epoch events replayed by a node
// catching up only refresh the view: the view always describes the chain
// as it is now.

func (n *Node) onEpochChangeStart(ctx context.Context, ev chain.EventRecord, e uint32) error {
	if err := n.view.refresh(ctx, n.chain); err != nil {
		return err
	}
	n.metrics.epoch.Set(float64(n.view.Epoch()))
	b := n.store.NewBatch()
	planned := false
	if e == n.view.Epoch() {
		var err error
		if planned, err = n.planEpochSync(ctx, b); err != nil {
			b.Discard()
			return err
		}
	}
	b.SetCursor(ev.Cursor)
	if err := b.Commit(true); err != nil {
		return err
	}
	if err := n.collectExpired(n.view.Epoch()); err != nil {
		return err
	}
	if planned {
		n.log.Info("epoch change: recovering gained shards before reporting epoch_sync_done", "epoch", e,
			"gained", gained(n.view.OwnedShards(), n.view.PreviousShards()))
	}
	n.wakeSync()
	return nil
}

// gained returns the shards in owned that are not in prev.
func gained(owned, prev []uint16) []uint16 {
	var out []uint16
	for _, s := range owned {
		if !slices.Contains(prev, s) {
			out = append(out, s)
		}
	}
	return out
}

// planEpochSync records, in b, that the node owes epoch_sync_done for the
// current epoch, and queues every certified live blob if shards were
// gained. It reports whether there was anything to plan.
func (n *Node) planEpochSync(ctx context.Context, b *store.Batch) (bool, error) {
	sys := n.view.System()
	e := sys.Epoch
	if sys.State != chain.EpochChangeSync || len(n.view.OwnedShards()) == 0 {
		return false, nil
	}
	if v, err := n.store.Meta(metaEpochSync); err == nil && len(v) == 4 && binary.LittleEndian.Uint32(v) >= e {
		return false, nil
	}
	obj, err := n.chain.Object(ctx, n.id)
	if err != nil {
		return false, err
	}
	if obj.Pool != nil && obj.Pool.LastSyncDone >= e {
		return false, nil
	}
	b.SetMeta(metaEpochSync, binary.LittleEndian.AppendUint32(nil, e))
	if len(gained(n.view.OwnedShards(), n.view.PreviousShards())) == 0 {
		return true, nil
	}
	err = n.store.ForEachBlobInfo(func(id blob.ID, info store.BlobInfo) error {
		if info.Invalid == nil && info.CertifiedLive(e) && !n.blocklist.Blocked(id) {
			b.EnqueueSync(id)
		}
		return nil
	})
	return true, err
}

// onEpochChangeDone drops the shards the node no longer owns.
func (n *Node) onEpochChangeDone(ctx context.Context, ev chain.EventRecord, _ uint32) error {
	if err := n.view.refresh(ctx, n.chain); err != nil {
		return err
	}
	if err := n.dropLostShards(); err != nil {
		return err
	}
	return n.saveCursor(ev)
}

// dropLostShards deletes the slivers of shards the node holds but no longer
// owns, unless an epoch change still syncs (they are served meanwhile).
func (n *Node) dropLostShards() error {
	if n.view.Syncing() {
		return nil
	}
	held, err := n.store.Shards()
	if err != nil {
		return err
	}
	for _, s := range held {
		if n.view.Owns(s) {
			continue
		}
		if err := n.store.DeleteShard(s); err != nil {
			return err
		}
		n.log.Info("dropped a shard handed over to another node", "shard", s, "epoch", n.view.Epoch())
	}
	return nil
}

// startEpochs brings a starting node level with the chain's epoch: it
// plans the sync of an epoch change in progress, or drops shards lost in
// a change that completed while the node was down, and collects blobs that
// expired meanwhile.
func (n *Node) startEpochs(ctx context.Context) error {
	n.metrics.epoch.Set(float64(n.view.Epoch()))
	b := n.store.NewBatch()
	planned, err := n.planEpochSync(ctx, b)
	if err != nil {
		b.Discard()
		return err
	}
	if err := b.Commit(true); err != nil {
		return err
	}
	if planned {
		n.log.Info("epoch change in progress: recovering gained shards", "epoch", n.view.Epoch())
	}
	if err := n.dropLostShards(); err != nil {
		return err
	}
	return n.collectExpired(n.view.Epoch())
}

// reportEpochSynced calls epoch_sync_done for the epoch the node owes once
// nothing is left to recover and the node has followed every event.
func (n *Node) reportEpochSynced(ctx context.Context) {
	v, err := n.store.Meta(metaEpochSync)
	if err != nil || len(v) != 4 {
		return
	}
	e := binary.LittleEndian.Uint32(v)
	if q, err := n.store.SyncQueue(nil, 1); err != nil || len(q) > 0 {
		return
	}
	cursor, err := n.store.Cursor()
	if err != nil {
		return
	}
	page, err := n.chain.Events(ctx, cursor, 1)
	if err != nil || len(page.Events) > 0 {
		return // not caught up: a certified blob may still be announced
	}
	res, err := n.chain.Execute(ctx, n.signer, &chain.EpochSyncDone{Node: chain.Ref(n.id), Epoch: e})
	if err != nil && res != nil {
		switch res.Abort() {
		case chain.EAlreadySynced.Name, chain.EWrongEpochState.Name, chain.ENotCommitteeMember.Name:
			n.log.Info("epoch_sync_done not needed", "epoch", e, "reason", res.Abort())
			err = nil
		}
	}
	if err != nil {
		if !errors.Is(err, context.Canceled) {
			n.log.Warn("epoch_sync_done failed; will retry", "epoch", e, "err", err)
		}
		return
	}
	n.log.Info("reported epoch_sync_done", "epoch", e)
	if err := n.store.SetMeta(metaEpochSync, nil); err != nil {
		n.log.Error("clearing the epoch sync mark", "err", err)
	}
}

// recoveringShards returns the owned shards that an unreported epoch change
// gained (for health).
func (n *Node) recoveringShards() map[uint16]bool {
	out := map[uint16]bool{}
	if v, err := n.store.Meta(metaEpochSync); err != nil || len(v) != 4 {
		return out
	}
	for _, s := range gained(n.view.OwnedShards(), n.view.PreviousShards()) {
		out[s] = true
	}
	return out
}
