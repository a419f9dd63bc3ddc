package node

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/chain"
	"github.com/walrus-go/walrus/store"
)

// Epoch changes. Whenever the node's shards may have changed (at start, at
// EpochChangeStart and EpochChangeDone) it compares the shards it owns with
// those it last arranged recovery for (a fact in its store): if it gained
// any, it queues every certified live blob, and blob sync fills the gained
// shards from the committee. This also covers a node that was down for a
// whole epoch change, or wiped. At EpochChangeStart of the chain's current
// epoch, a member that has not reported the epoch remembers that it owes
// epoch_sync_done; once the recovery queue is empty and the node has
// followed every event, the sync loop calls it. At EpochChangeDone the node
// drops the shards it no longer owns. Old epoch events replayed by a node
// catching up only refresh the view: the view always describes the chain
// as it is now.

func (n *Node) onEpochChangeStart(ctx context.Context, ev chain.EventRecord, e uint32) error {
	if err := n.view.refresh(ctx, n.chain); err != nil {
		return err
	}
	n.metrics.epoch.Set(float64(n.view.Epoch()))
	b := n.store.NewBatch()
	owes := false
	if e == n.view.Epoch() {
		var err error
		if owes, err = n.planEpochSync(ctx, b); err != nil {
			b.Discard()
			return err
		}
	}
	gained, err := n.planShards(b)
	if err != nil {
		b.Discard()
		return err
	}
	if seen, _ := n.metaEpoch(metaEpochSeen); e > seen {
		b.SetMeta(metaEpochSeen, binary.LittleEndian.AppendUint32(nil, e))
	}
	b.SetCursor(ev.Cursor)
	if err := b.Commit(true); err != nil {
		return err
	}
	if err := n.collectExpired(n.view.Epoch()); err != nil {
		return err
	}
	if owes || len(gained) > 0 {
		n.log.Info("epoch change", "epoch", e, "gained", gained, "owes_epoch_sync_done", owes)
	}
	n.wakeSync()
	return nil
}

const (
	metaPlannedShards = "planned_shards" // u16 LE list: the shards recovery was arranged for
	metaEpochSeen     = "epoch_seen"     // u32 LE: the last EpochChangeStart the follower handled
)

// metaEpoch reads a u32 node fact (0 if absent).
func (n *Node) metaEpoch(name string) (uint32, error) {
	v, err := n.store.Meta(name)
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if len(v) != 4 {
		return 0, fmt.Errorf("%w: node fact %s", store.ErrCorrupt, name)
	}
	return binary.LittleEndian.Uint32(v), nil
}

// planShards queues every certified live blob, in b, if the node owns
// shards it has not arranged recovery for yet, and records the owned set.
// It returns the gained shards.
func (n *Node) planShards(b *store.Batch) ([]uint16, error) {
	var planned []uint16
	v, err := n.store.Meta(metaPlannedShards)
	switch {
	case err == nil:
		for i := 0; i+1 < len(v); i += 2 {
			planned = append(planned, binary.LittleEndian.Uint16(v[i:]))
		}
	case !errors.Is(err, store.ErrNotFound):
		return nil, err
	}
	owned := n.view.OwnedShards()
	if slices.Equal(owned, planned) {
		return nil, nil
	}
	var rec []byte
	for _, s := range owned {
		rec = binary.LittleEndian.AppendUint16(rec, s)
	}
	if rec == nil {
		rec = []byte{}
	}
	b.SetMeta(metaPlannedShards, rec)
	g := gained(owned, planned)
	if len(g) == 0 {
		return nil, nil
	}
	epoch := n.view.Epoch()
	err = n.store.ForEachBlobInfo(func(id blob.ID, info store.BlobInfo) error {
		if info.Invalid == nil && info.CertifiedLive(epoch) && !n.blocklist.Blocked(id) {
			b.EnqueueSync(id, epoch) // epoch_sync_done waits for these
		}
		return nil
	})
	return g, err
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
// current epoch, if the change is syncing, the node is a member and has not
// reported it. It reports whether it did.
func (n *Node) planEpochSync(ctx context.Context, b *store.Batch) (bool, error) {
	sys := n.view.System()
	e := sys.Epoch
	if sys.State != chain.EpochChangeSync || len(n.view.OwnedShards()) == 0 {
		return false, nil
	}
	if owed, err := n.metaEpoch(metaEpochSync); err != nil || owed >= e {
		return false, err
	}
	obj, err := n.chain.Object(ctx, n.id)
	if err != nil {
		return false, err
	}
	if obj.Pool != nil && obj.Pool.LastSyncDone >= e {
		return false, nil
	}
	b.SetMeta(metaEpochSync, binary.LittleEndian.AppendUint32(nil, e))
	return true, nil
}

// onEpochChangeDone drops the shards the node no longer owns.
func (n *Node) onEpochChangeDone(ctx context.Context, ev chain.EventRecord, _ uint32) error {
	if err := n.view.refresh(ctx, n.chain); err != nil {
		return err
	}
	if err := n.dropLostShards(); err != nil {
		return err
	}
	b := n.store.NewBatch()
	if _, err := n.planShards(b); err != nil {
		b.Discard()
		return err
	}
	b.SetCursor(ev.Cursor)
	if err := b.Commit(true); err != nil {
		return err
	}
	n.wakeSync()
	return nil
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
// notes an epoch change it owes epoch_sync_done for, queues recovery for
// shards it gained while down, drops shards lost in a change that completed
// meanwhile, and collects blobs that expired meanwhile.
func (n *Node) startEpochs(ctx context.Context) error {
	n.metrics.epoch.Set(float64(n.view.Epoch()))
	b := n.store.NewBatch()
	owes, err := n.planEpochSync(ctx, b)
	if err != nil {
		b.Discard()
		return err
	}
	gained, err := n.planShards(b)
	if err != nil {
		b.Discard()
		return err
	}
	if err := b.Commit(true); err != nil {
		return err
	}
	if owes || len(gained) > 0 {
		n.log.Info("starting: shards to recover", "epoch", n.view.Epoch(), "gained", gained, "owes_epoch_sync_done", owes)
	}
	if err := n.dropLostShards(); err != nil {
		return err
	}
	return n.collectExpired(n.view.Epoch())
}

// reportEpochSynced calls epoch_sync_done for the epoch the node owes once
// the follower has handled the epoch's EpochChangeStart (so every blob
// certified before the change is known and queued) and no blob queued for
// the shards gained in it is left to recover. Blobs certified after the
// change started were uploaded to the new committee and do not hold the
// report back (under a steady write load the queue is never empty).
func (n *Node) reportEpochSynced(ctx context.Context) {
	e, err := n.metaEpoch(metaEpochSync)
	if err != nil || e == 0 {
		return
	}
	if seen, err := n.metaEpoch(metaEpochSeen); err != nil || seen < e {
		return
	}
	if required, err := n.store.SyncRequired(e); err != nil || required {
		return
	}
	// The report promises the gained shards are held: make them durable.
	if err := n.store.Sync(); err != nil {
		n.log.Error("sync before epoch_sync_done", "err", err)
		return
	}
	_, err = n.chain.Execute(ctx, n.signer, &chain.EpochSyncDone{Node: chain.Ref(n.id), Epoch: e})
	if errors.Is(err, chain.EAlreadySynced) || errors.Is(err, chain.EWrongEpochState) || errors.Is(err, chain.ENotCommitteeMember) {
		a, _ := chain.AbortOf(err)
		n.log.Info("epoch_sync_done not needed", "epoch", e, "reason", a.Name)
		err = nil
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
	if e, err := n.metaEpoch(metaEpochSync); err != nil || e == 0 {
		return out
	}
	for _, s := range gained(n.view.OwnedShards(), n.view.PreviousShards()) {
		out[s] = true
	}
	return out
}
