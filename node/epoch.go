package node

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"slices"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/blocklist"
	"github.com/walrus-go/walrus/chain"
	"github.com/walrus-go/walrus/chain/chainclient"
	"github.com/walrus-go/walrus/ids"
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
//
// epochs has no loop of its own: the event follower hands it the epoch
// events, Node.Run calls start before the services run, and blob sync
// calls reportSynced after each pass over its queue.
type epochs struct {
	log       *slog.Logger
	store     *store.Store
	chain     *chainclient.Client
	signer    *chainclient.Signer
	self      ids.ObjectID
	view      *view
	blocklist *blocklist.List
	gc        *collector
	wake      signal // blob sync
	metrics   *metrics
}

func newEpochs(p *parts, signer *chainclient.Signer, gc *collector) *epochs {
	return &epochs{log: p.log, store: p.store, chain: p.chain, signer: signer, self: p.self, view: p.view,
		blocklist: p.blocklist, gc: gc, wake: p.wake, metrics: p.metrics}
}

// onChangeStart handles EpochChangeStart: it notes an epoch_sync_done owed,
// queues recovery for gained shards and collects expired blobs.
func (ep *epochs) onChangeStart(ctx context.Context, ev chain.EventRecord, e uint32) error {
	if err := ep.view.refresh(ctx, ep.chain); err != nil {
		return err
	}
	ep.metrics.epoch.Set(float64(ep.view.Epoch()))
	b := ep.store.NewBatch()
	owes := false
	if e == ep.view.Epoch() {
		var err error
		if owes, err = ep.planEpochSync(ctx, b); err != nil {
			b.Discard()
			return err
		}
	}
	gained, err := ep.planShards(b)
	if err != nil {
		b.Discard()
		return err
	}
	if seen, _ := metaEpoch(ep.store, metaEpochSeen); e > seen {
		b.SetMeta(metaEpochSeen, binary.LittleEndian.AppendUint32(nil, e))
	}
	b.SetCursor(ev.Cursor)
	if err := b.Commit(true); err != nil {
		return err
	}
	if err := ep.gc.collectExpired(ep.view.Epoch()); err != nil {
		return err
	}
	if owes || len(gained) > 0 {
		ep.log.Info("epoch change", "epoch", e, "gained", gained, "owes_epoch_sync_done", owes)
	}
	ep.wake.wake()
	return nil
}

// Node facts of epoch handling.
const (
	metaPlannedShards = "planned_shards" // u16 LE list: the shards recovery was arranged for
	metaEpochSeen     = "epoch_seen"     // u32 LE: the last EpochChangeStart the follower handled
	metaEpochSync     = "epoch_sync"     // u32 LE: an epoch change this node has yet to report synced
)

// metaEpoch reads a u32 node fact (0 if absent).
func metaEpoch(s *store.Store, name string) (uint32, error) {
	v, err := s.Meta(name)
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
func (ep *epochs) planShards(b *store.Batch) ([]uint16, error) {
	var planned []uint16
	v, err := ep.store.Meta(metaPlannedShards)
	switch {
	case err == nil:
		for i := 0; i+1 < len(v); i += 2 {
			planned = append(planned, binary.LittleEndian.Uint16(v[i:]))
		}
	case !errors.Is(err, store.ErrNotFound):
		return nil, err
	}
	owned := ep.view.OwnedShards()
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
	epoch := ep.view.Epoch()
	err = ep.store.ForEachBlobInfo(func(id blob.ID, info store.BlobInfo) error {
		if info.Invalid == nil && info.CertifiedLive(epoch) && !ep.blocklist.Blocked(id) {
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
func (ep *epochs) planEpochSync(ctx context.Context, b *store.Batch) (bool, error) {
	sys := ep.view.System()
	e := sys.Epoch
	if sys.State != chain.EpochChangeSync || len(ep.view.OwnedShards()) == 0 {
		return false, nil
	}
	if owed, err := metaEpoch(ep.store, metaEpochSync); err != nil || owed >= e {
		return false, err
	}
	obj, err := ep.chain.Object(ctx, ep.self)
	if err != nil {
		return false, err
	}
	if obj.Pool != nil && obj.Pool.LastSyncDone >= e {
		return false, nil
	}
	b.SetMeta(metaEpochSync, binary.LittleEndian.AppendUint32(nil, e))
	return true, nil
}

// onChangeDone drops the shards the node no longer owns.
func (ep *epochs) onChangeDone(ctx context.Context, ev chain.EventRecord, _ uint32) error {
	if err := ep.view.refresh(ctx, ep.chain); err != nil {
		return err
	}
	if err := ep.dropLostShards(); err != nil {
		return err
	}
	b := ep.store.NewBatch()
	if _, err := ep.planShards(b); err != nil {
		b.Discard()
		return err
	}
	b.SetCursor(ev.Cursor)
	if err := b.Commit(true); err != nil {
		return err
	}
	ep.wake.wake()
	return nil
}

// dropLostShards deletes the slivers of shards the node holds but no longer
// owns, unless an epoch change still syncs (they are served meanwhile).
func (ep *epochs) dropLostShards() error {
	if ep.view.Syncing() {
		return nil
	}
	held, err := ep.store.Shards()
	if err != nil {
		return err
	}
	for _, s := range held {
		if ep.view.Owns(s) {
			continue
		}
		if err := ep.store.DeleteShard(s); err != nil {
			return err
		}
		ep.log.Info("dropped a shard handed over to another node", "shard", s, "epoch", ep.view.Epoch())
	}
	return nil
}

// start brings a starting node level with the chain's epoch: it
// notes an epoch change it owes epoch_sync_done for, queues recovery for
// shards it gained while down, drops shards lost in a change that completed
// meanwhile, and collects blobs that expired meanwhile.
func (ep *epochs) start(ctx context.Context) error {
	ep.metrics.epoch.Set(float64(ep.view.Epoch()))
	b := ep.store.NewBatch()
	owes, err := ep.planEpochSync(ctx, b)
	if err != nil {
		b.Discard()
		return err
	}
	gained, err := ep.planShards(b)
	if err != nil {
		b.Discard()
		return err
	}
	if err := b.Commit(true); err != nil {
		return err
	}
	if owes || len(gained) > 0 {
		ep.log.Info("starting: shards to recover", "epoch", ep.view.Epoch(), "gained", gained, "owes_epoch_sync_done", owes)
	}
	if err := ep.dropLostShards(); err != nil {
		return err
	}
	return ep.gc.collectExpired(ep.view.Epoch())
}

// reportSynced calls epoch_sync_done for the epoch the node owes once
// the follower has handled the epoch's EpochChangeStart (so every blob
// certified before the change is known and queued) and no blob queued for
// the shards gained in it is left to recover. Blobs certified after the
// change started were uploaded to the new committee and do not hold the
// report back (under a steady write load the queue is never empty).
func (ep *epochs) reportSynced(ctx context.Context) {
	e, err := metaEpoch(ep.store, metaEpochSync)
	if err != nil || e == 0 {
		return
	}
	if seen, err := metaEpoch(ep.store, metaEpochSeen); err != nil || seen < e {
		return
	}
	if required, err := ep.store.SyncRequired(e); err != nil || required {
		return
	}
	// The report promises the gained shards are held: make them durable.
	if err := ep.store.Sync(); err != nil {
		ep.log.Error("sync before epoch_sync_done", "err", err)
		return
	}
	_, err = ep.chain.Execute(ctx, ep.signer, &chain.EpochSyncDone{Node: chain.Ref(ep.self), Epoch: e})
	if errors.Is(err, chain.EAlreadySynced) || errors.Is(err, chain.EWrongEpochState) || errors.Is(err, chain.ENotCommitteeMember) {
		a, _ := chain.AbortOf(err)
		ep.log.Info("epoch_sync_done not needed", "epoch", e, "reason", a.Name)
		err = nil
	}
	if err != nil {
		if !errors.Is(err, context.Canceled) {
			ep.log.Warn("epoch_sync_done failed; will retry", "epoch", e, "err", err)
		}
		return
	}
	ep.log.Info("reported epoch_sync_done", "epoch", e)
	if err := ep.store.SetMeta(metaEpochSync, nil); err != nil {
		ep.log.Error("clearing the epoch sync mark", "err", err)
	}
}

// recoveringShards returns the owned shards that an unreported epoch change
// gained (for health).
func recoveringShards(s *store.Store, v *view) map[uint16]bool {
	out := map[uint16]bool{}
	if e, err := metaEpoch(s, metaEpochSync); err != nil || e == 0 {
		return out
	}
	for _, s := range gained(v.OwnedShards(), v.PreviousShards()) {
		out[s] = true
	}
	return out
}
