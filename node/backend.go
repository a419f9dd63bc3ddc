package node

import (
	"errors"
	"log/slog"
	"sync"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/ids"
	"github.com/walrus-go/walrus/nodeapi"
	"github.com/walrus-go/walrus/redstuff"
	"github.com/walrus-go/walrus/store"
)

// backend is what the REST server runs on (nodeapi.Store and
// nodeapi.Chain): the store, with damaged values reported and repaired
// instead of served, the committee view and the node's record of blobs.
// Recovery reads the node's own data through it too.
type backend struct {
	log     *slog.Logger
	store   *store.Store
	view    *view
	locks   *blobLocks
	cache   *metadataCache
	repair  *repairer
	metrics *metrics
}

func newBackend(p *parts, r *repairer) *backend {
	return &backend{log: p.log, store: p.store, view: p.view, locks: p.locks, cache: p.cache, repair: r, metrics: p.metrics}
}

// metadataCache is a small cache of parsed metadata, dropped when a blob's
// data goes or is found damaged.
type metadataCache struct {
	mu struct {
		sync.Mutex
		md    map[blob.ID]*blob.MetadataWithID
		order []blob.ID // oldest first
	}
}

const metadataCacheSize = 64

func newMetadataCache() *metadataCache {
	c := &metadataCache{}
	c.mu.md = map[blob.ID]*blob.MetadataWithID{}
	return c
}

func (c *metadataCache) get(id blob.ID) *blob.MetadataWithID {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.mu.md[id]
}

func (c *metadataCache) put(md *blob.MetadataWithID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.mu.md[md.ID]; ok {
		return
	}
	if len(c.mu.order) >= metadataCacheSize {
		delete(c.mu.md, c.mu.order[0])
		c.mu.order = c.mu.order[1:]
	}
	c.mu.md[md.ID] = md
	c.mu.order = append(c.mu.order, md.ID)
}

func (c *metadataCache) forget(id blob.ID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.mu.md, id)
}

// found turns a store answer into (ok, err), repairing damaged values.
func (b *backend) found(err error, repair func()) (bool, error) {
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, store.ErrNotFound):
		return false, nil
	case errors.Is(err, store.ErrCorrupt):
		b.log.Error("damaged value in the store; deleting it and recovering it from peers", "err", err)
		b.metrics.corrupt.Inc()
		repair()
		return false, nil
	}
	return false, err
}

// Metadata implements nodeapi.Store.
func (b *backend) Metadata(id blob.ID) (*blob.MetadataWithID, bool, error) {
	if md := b.cache.get(id); md != nil {
		return md, true, nil
	}
	md, err := b.store.Metadata(id)
	ok, err := b.found(err, func() { b.repair.metadata(id) })
	if ok {
		b.cache.put(md)
	}
	return md, ok, err
}

// MetadataBCS implements nodeapi.Store.
func (b *backend) MetadataBCS(id blob.ID) ([]byte, bool, error) {
	v, err := b.store.MetadataBytes(id)
	ok, err := b.found(err, func() { b.repair.metadata(id) })
	return v, ok, err
}

// Sync implements nodeapi.Store.
func (b *backend) Sync() error { return b.store.Sync() }

// PutMetadata implements nodeapi.Store.
func (b *backend) PutMetadata(md *blob.MetadataWithID) error {
	if err := b.store.PutMetadata(md); err != nil {
		return err
	}
	b.cache.put(md)
	return nil
}

// Sliver implements nodeapi.Store.
func (b *backend) Sliver(shard uint16, t blob.SliverType, id blob.ID) (*redstuff.Sliver, bool, error) {
	s, err := b.store.Sliver(shard, t, id)
	ok, err := b.found(err, func() { b.repair.sliver(shard, t, id) })
	return s, ok, err
}

// AppendSliverBCS implements nodeapi.Store.
func (b *backend) AppendSliverBCS(dst []byte, shard uint16, t blob.SliverType, id blob.ID) ([]byte, bool, error) {
	v, err := b.store.AppendSliverBytes(dst, shard, t, id)
	ok, err := b.found(err, func() { b.repair.sliver(shard, t, id) })
	return v, ok, err
}

// HasSliver implements nodeapi.Store.
func (b *backend) HasSliver(shard uint16, t blob.SliverType, id blob.ID) (bool, error) {
	ok, err := b.store.HasSliver(shard, t, id)
	if err != nil {
		return b.found(err, func() { b.repair.sliver(shard, t, id) })
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
	mu := b.locks.of(id)
	mu.Lock()
	defer mu.Unlock()
	info, err := b.store.BlobInfo(id)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if info.Invalid != nil || !info.Live(b.view.Epoch()) {
		return nil // deleted meanwhile: nothing to keep
	}
	ss := make([]store.ShardSliver, len(slivers))
	for i, x := range slivers {
		ss[i] = store.ShardSliver{Shard: x.Shard, Sliver: x.Sliver}
	}
	if err := b.store.PutSlivers(id, ss); err != nil {
		return err
	}
	b.metrics.slivers.WithLabelValues("upload").Add(float64(len(slivers)))
	return nil
}

// Epoch implements nodeapi.Chain.
func (b *backend) Epoch() uint32 { return b.view.Epoch() }

// OwnedShards implements nodeapi.Chain.
func (b *backend) OwnedShards() []uint16 { return b.view.OwnedShards() }

// Owns implements nodeapi.Chain.
func (b *backend) Owns(shard uint16) bool { return b.view.Owns(shard) }

// ServingShards implements nodeapi.Chain.
func (b *backend) ServingShards() []uint16 { return b.view.ServingShards() }

// Registration implements nodeapi.Chain.
func (b *backend) Registration(id blob.ID) (nodeapi.Registration, error) {
	info, err := b.store.BlobInfo(id)
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
	epoch := b.view.Epoch()
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
	info, err := b.store.BlobInfo(id)
	if errors.Is(err, store.ErrNotFound) {
		return nodeapi.BlobStatus{}, nil
	}
	if err != nil {
		return nodeapi.BlobStatus{}, err
	}
	return statusOf(&info, b.view.Epoch()), nil
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
