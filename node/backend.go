package node

import (
	"errors"
	"sync"
	"time"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/ids"
	"github.com/walrus-go/walrus/nodeapi"
	"github.com/walrus-go/walrus/redstuff"
	"github.com/walrus-go/walrus/store"
)

// backend is what the REST server runs on: the store (with damaged values
// reported and repaired instead of served), the chain view and the node's
// record of blobs.
type backend struct {
	n *Node

	mu struct {
		sync.Mutex
		md    map[blob.ID]*blob.MetadataWithID // parsed metadata, a small cache
		order []blob.ID
	}
}

const metadataCacheSize = 64

func newBackend(n *Node) *backend {
	b := &backend{n: n}
	b.mu.md = map[blob.ID]*blob.MetadataWithID{}
	return b
}

func (b *backend) cached(id blob.ID) *blob.MetadataWithID {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.mu.md[id]
}

func (b *backend) remember(md *blob.MetadataWithID) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.mu.md[md.ID]; ok {
		return
	}
	if len(b.mu.order) >= metadataCacheSize {
		delete(b.mu.md, b.mu.order[0])
		b.mu.order = b.mu.order[1:]
	}
	b.mu.md[md.ID] = md
	b.mu.order = append(b.mu.order, md.ID)
}

func (b *backend) forget(id blob.ID) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.mu.md, id)
}

// found turns a store answer into (ok, err), repairing damaged values.
func (b *backend) found(err error, repair func()) (bool, error) {
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, store.ErrNotFound):
		return false, nil
	case errors.Is(err, store.ErrCorrupt):
		b.n.log.Error("damaged value in the store; deleting it and recovering it from peers", "err", err)
		b.n.metrics.corrupt.Inc()
		repair()
		return false, nil
	}
	return false, err
}

// Metadata implements nodeapi.Store.
func (b *backend) Metadata(id blob.ID) (*blob.MetadataWithID, bool, error) {
	if md := b.cached(id); md != nil {
		return md, true, nil
	}
	md, err := b.n.store.Metadata(id)
	ok, err := b.found(err, func() { b.n.repairMetadata(id) })
	if ok {
		b.remember(md)
	}
	return md, ok, err
}

// MetadataBCS implements nodeapi.Store.
func (b *backend) MetadataBCS(id blob.ID) ([]byte, bool, error) {
	v, err := b.n.store.MetadataBytes(id)
	ok, err := b.found(err, func() { b.n.repairMetadata(id) })
	return v, ok, err
}

// Sync implements nodeapi.Store.
func (b *backend) Sync() error { return b.n.store.Sync() }

// PutMetadata implements nodeapi.Store.
func (b *backend) PutMetadata(md *blob.MetadataWithID) error {
	if err := b.n.store.PutMetadata(md); err != nil {
		return err
	}
	b.remember(md)
	return nil
}

// Sliver implements nodeapi.Store.
func (b *backend) Sliver(shard uint16, t blob.SliverType, id blob.ID) (*redstuff.Sliver, bool, error) {
	s, err := b.n.store.Sliver(shard, t, id)
	ok, err := b.found(err, func() { b.n.repairSliver(shard, t, id) })
	return s, ok, err
}

// AppendSliverBCS implements nodeapi.Store.
func (b *backend) AppendSliverBCS(dst []byte, shard uint16, t blob.SliverType, id blob.ID) ([]byte, bool, error) {
	v, err := b.n.store.AppendSliverBytes(dst, shard, t, id)
	ok, err := b.found(err, func() { b.n.repairSliver(shard, t, id) })
	return v, ok, err
}

// HasSliver implements nodeapi.Store.
func (b *backend) HasSliver(shard uint16, t blob.SliverType, id blob.ID) (bool, error) {
	ok, err := b.n.store.HasSliver(shard, t, id)
	if err != nil {
		return b.found(err, func() { b.n.repairSliver(shard, t, id) })
	}
	return ok, nil
}

// PutSliver implements nodeapi.Store.
func (b *backend) PutSliver(shard uint16, id blob.ID, s *redstuff.Sliver) error {
	return b.PutSlivers(id, []nodeapi.ShardSliver{{Shard: shard, Sliver: s}})
}

// PutSlivers implements nodeapi.Store, in one write to the store. Under the
// blob's lock it checks that the blob is still registered and not invalid,
// so that an upload racing with the blob's deletion leaves nothing behind
// (the slivers are then dropped without an error).
func (b *backend) PutSlivers(id blob.ID, slivers []nodeapi.ShardSliver) error {
	if len(slivers) == 0 {
		return nil
	}
	mu := b.n.lock(id)
	mu.Lock()
	defer mu.Unlock()
	info, err := b.n.store.BlobInfo(id)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if info.Invalid != nil || !info.Live(b.n.view.Epoch()) {
		return nil // deleted meanwhile: nothing to keep
	}
	ss := make([]store.ShardSliver, len(slivers))
	for i, x := range slivers {
		ss[i] = store.ShardSliver{Shard: x.Shard, Sliver: x.Sliver}
	}
	if err := b.n.store.PutSlivers(id, ss); err != nil {
		return err
	}
	b.n.metrics.slivers.WithLabelValues("upload").Add(float64(len(slivers)))
	return nil
}

// Epoch implements nodeapi.Chain.
func (b *backend) Epoch() uint32 { return b.n.view.Epoch() }

// OwnedShards implements nodeapi.Chain.
func (b *backend) OwnedShards() []uint16 { return b.n.view.OwnedShards() }

// Owns implements nodeapi.Chain.
func (b *backend) Owns(shard uint16) bool { return b.n.view.Owns(shard) }

// ServingShards implements nodeapi.Chain.
func (b *backend) ServingShards() []uint16 { return b.n.view.ServingShards() }

// Registration implements nodeapi.Chain.
func (b *backend) Registration(id blob.ID) (nodeapi.Registration, error) {
	info, err := b.n.store.BlobInfo(id)
	if errors.Is(err, store.ErrNotFound) {
		return nodeapi.Registration{}, nil
	}
	if err != nil {
		return nodeapi.Registration{}, err
	}
	var r nodeapi.Registration
	if info.Invalid != nil {
		ev := eventID(info.Invalid.Event)
		r.Invalid = &ev
	}
	epoch := b.n.view.Epoch()
	for _, x := range info.Registrations {
		if !x.Live(epoch) {
			continue
		}
		if x.Deletable {
			r.Deletable = append(r.Deletable, x.ObjectID)
		} else {
			r.Permanent = true
		}
	}
	return r, nil
}

func eventID(e ids.EventID) ids.EventID {
	return ids.EventID{TxDigest: e.TxDigest, Seq: e.Seq}
}

// Status implements nodeapi.Chain.
func (b *backend) Status(id blob.ID) (nodeapi.BlobStatus, error) {
	info, err := b.n.store.BlobInfo(id)
	if errors.Is(err, store.ErrNotFound) {
		return nodeapi.BlobStatus{}, nil
	}
	if err != nil {
		return nodeapi.BlobStatus{}, err
	}
	return statusOf(&info, b.n.view.Epoch()), nil
}

// statusOf is the BlobStatus of a record in an epoch: invalid; permanent,
// from the certified permanent registration that ends last (or else the
// uncertified one that ends last); deletable; or nonexistent.
func statusOf(info *store.BlobInfo, epoch uint32) nodeapi.BlobStatus {
	if info.Invalid != nil {
		return nodeapi.BlobStatus{Kind: nodeapi.Invalid, Event: eventID(info.Invalid.Event)}
	}
	var st nodeapi.BlobStatus
	var perm *store.Registration
	for i := range info.Registrations {
		r := &info.Registrations[i]
		if !r.Live(epoch) {
			continue
		}
		if r.Certified() && (st.InitialCertifiedEpoch == nil || *r.CertifiedEpoch < *st.InitialCertifiedEpoch) {
			e := *r.CertifiedEpoch
			st.InitialCertifiedEpoch = &e
		}
		if r.Deletable {
			st.DeletableCounts.Total++
			if r.Certified() {
				st.DeletableCounts.Certified++
			}
			continue
		}
		if perm == nil || r.Certified() && !perm.Certified() || r.Certified() == perm.Certified() && r.EndEpoch > perm.EndEpoch {
			perm = r
		}
	}
	switch {
	case perm != nil:
		st.Kind, st.EndEpoch, st.IsCertified, st.Event = nodeapi.Permanent, perm.EndEpoch, perm.Certified(), eventID(perm.Event)
	case st.DeletableCounts.Total > 0:
		st.Kind = nodeapi.Deletable
	default:
		return nodeapi.BlobStatus{}
	}
	return st
}

// Health implements nodeapi.HealthSource.
func (b *backend) Health(detailed bool) nodeapi.HealthInfo {
	n := b.n
	h := nodeapi.HealthInfo{Uptime: nodeapi.Duration(time.Since(n.started)), Epoch: n.view.Epoch(),
		PublicKey: nodeapi.PublicKey(n.keys.Protocol.PublicKey().Bytes())}
	cursor := n.stats.cursorH.Load()
	chainH := n.stats.chainHeight.Load()
	h.EventProgress = nodeapi.EventProgress{Persisted: n.stats.events.Load(), HighestFinishedEventIndex: &cursor}
	h.LatestCheckpointSequenceNumber = &chainH
	backlog, _ := n.store.SyncQueueLen()
	owned := n.view.OwnedShards()
	recovering := n.recoveringShards()
	switch {
	case len(owned) == 0:
		h.NodeStatus = nodeapi.NodeStatusStandby
	case chainH > cursor+20:
		h.NodeStatus = nodeapi.NodeStatusRecoveryCatchUp
	case backlog > 0:
		h.NodeStatus = nodeapi.NodeStatusRecoveryInProgress
	default:
		h.NodeStatus = nodeapi.NodeStatusActive
	}
	h.ShardSummary.Owned = len(owned)
	var detail nodeapi.ShardDetail
	for _, s := range owned {
		st := nodeapi.ShardReady
		if recovering[s] {
			st = nodeapi.ShardInRecovery
			h.ShardSummary.OwnedShardStatus.InRecovery++
		} else {
			h.ShardSummary.OwnedShardStatus.Ready++
		}
		detail.Owned = append(detail.Owned, nodeapi.ShardHealth{Shard: s, Status: st})
	}
	for _, s := range n.view.ServingShards() {
		if !n.view.Owns(s) {
			h.ShardSummary.ReadOnly++
			detail.Other = append(detail.Other, nodeapi.ShardHealth{Shard: s, Status: nodeapi.ShardReadOnly})
		}
	}
	if detailed {
		h.ShardDetail = &detail
	}
	return h
}
