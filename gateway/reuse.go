package gateway

import (
	"context"
	"errors"
	"slices"
	"sync"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/client"
	"github.com/walrus-go/walrus/ids"
)

// Reuse of the publisher's own Blob objects.
//
// The SDK plans the reuse of the objects of the wallet that stores, as
// the CLI does; but a publisher stores with its sub-wallets and hands each
// Blob object to the main wallet, so no sub-wallet ever owns the object
// of an earlier store, and a deletable blob (which the nodes' status never
// reports as already stored) was stored and paid anew at every PUT. The
// publisher therefore looks, before anything is paid, at the Blob objects
// its main wallet holds: an identical deletable PUT whose object would go
// to the main wallet, without force, is answered with Walrus's
// alreadyCertified and the object's ID when the main wallet owns a
// certified deletable Blob object of the blob ID that lives at least as
// long as asked.

// ownedBlobs indexes by blob ID the Blob objects that the main wallet got
// from the publisher's stores (and those it held when the publisher
// started). Entries are hints: each is checked on the chain before it is
// reused, and dropped once the wallet no longer owns it.
type ownedBlobs struct {
	mu   sync.Mutex
	byID map[blob.ID][]ids.ObjectID
	busy map[blob.ID]*idLock
}

// idLock serializes the stores of one blob ID, so that identical PUTs
// that arrive together pay once: the later ones find the first's object.
type idLock struct {
	ch   chan struct{}
	refs int
}

func newOwnedBlobs() *ownedBlobs {
	return &ownedBlobs{byID: map[blob.ID][]ids.ObjectID{}, busy: map[blob.ID]*idLock{}}
}

// add records that the main wallet owns obj, a Blob object of id.
func (o *ownedBlobs) add(id blob.ID, obj ids.ObjectID) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !slices.Contains(o.byID[id], obj) {
		o.byID[id] = append(o.byID[id], obj)
	}
}

// remove forgets obj.
func (o *ownedBlobs) remove(id blob.ID, obj ids.ObjectID) {
	o.mu.Lock()
	defer o.mu.Unlock()
	objs := slices.DeleteFunc(o.byID[id], func(x ids.ObjectID) bool { return x == obj })
	if len(objs) == 0 {
		delete(o.byID, id)
	} else {
		o.byID[id] = objs
	}
}

// objects returns the recorded objects of id.
func (o *ownedBlobs) objects(id blob.ID) []ids.ObjectID {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.byID[id])
}

// lock waits until no other store of id holds its lock, then takes it;
// it fails only when ctx ends.
func (o *ownedBlobs) lock(ctx context.Context, id blob.ID) (unlock func(), err error) {
	o.mu.Lock()
	l := o.busy[id]
	if l == nil {
		l = &idLock{ch: make(chan struct{}, 1)}
		o.busy[id] = l
	}
	l.refs++
	o.mu.Unlock()
	done := func() {
		o.mu.Lock()
		if l.refs--; l.refs == 0 {
			delete(o.busy, id)
		}
		o.mu.Unlock()
	}
	select {
	case l.ch <- struct{}{}:
		return func() { <-l.ch; done() }, nil
	case <-ctx.Done():
		done()
		return nil, ctx.Err()
	}
}

// loadOwned fills the index with the live Blob objects the main wallet
// owns. A failure leaves the index as it is: the objects of later stores
// are still recorded.
func (s *Server) loadOwned(ctx context.Context) {
	bs, err := s.c.ListBlobs(ctx, false)
	if err != nil {
		s.log.Warn("listing the wallet's blobs for reuse", "err", err)
		return
	}
	for _, b := range bs {
		if b.Deletable && b.Certified() {
			s.owned.add(b.BlobID, b.ID)
		}
	}
}

// reusable reports whether a store with these options may be answered
// with an object the main wallet owns: a deletable blob, without force,
// whose object would go to the main wallet (not sent elsewhere, shared or
// burnt).
func (s *Server) reusable(opts client.StoreOptions) bool {
	return opts.Deletable && !opts.Force && !opts.Share && opts.SendObjectTo != nil && *opts.SendObjectTo == s.c.Address()
}

// reused is the error a store's CheckID returns to end the store when the
// main wallet already holds what it would make; the handler answers with
// the result.
type reused struct{ result *client.StoreResult }

func (r *reused) Error() string { return "the blob is already stored by the publisher's wallet" }

// findOwned returns a store result for an object of the main wallet that
// a store of id for epochs epochs can reuse (nil when there is none): a
// certified deletable Blob object of id, owned by the main wallet, living
// until at least the current epoch plus epochs, of a blob ID not declared
// invalid; with quiltType, one marked as a quilt. Of several, the one that
// lives longest.
func (s *Server) findOwned(ctx context.Context, id blob.ID, epochs uint32, quiltType bool) *client.StoreResult {
	objs := s.owned.objects(id)
	if len(objs) == 0 {
		return nil
	}
	av, err := s.c.Availability(ctx, id)
	if err != nil || av.Invalid {
		return nil // the store finds out (and answers markedInvalid)
	}
	target := av.Epoch + max(epochs, 1)
	var best *client.BlobObject
	for _, obj := range objs {
		b, err := s.c.OwnedBlob(ctx, obj)
		switch {
		case errors.Is(err, client.ErrObjectNotFound), errors.Is(err, client.ErrNotOwner), errors.Is(err, client.ErrWrongObject):
			s.owned.remove(id, obj)
			continue
		case err != nil:
			continue
		case b.BlobID != id || b.EndEpoch() <= av.Epoch:
			s.owned.remove(id, obj)
			continue
		case !b.Deletable || !b.Certified() || b.EndEpoch() < target:
			continue
		case quiltType && !s.isQuiltObject(ctx, obj):
			continue
		}
		if best == nil || b.EndEpoch() > best.EndEpoch() {
			best = &b
		}
	}
	if best == nil {
		return nil
	}
	obj := best.ID
	return &client.StoreResult{BlobID: id, ObjectID: obj, Size: best.Size, EndEpoch: best.EndEpoch(),
		CertifiedEpoch: *best.CertifiedEpoch, Result: client.BlobStoreResult{
			AlreadyCertified: &client.AlreadyCertified{BlobID: id, Object: &obj, EndEpoch: best.EndEpoch()}}}
}

// isQuiltObject reports whether a Blob object carries the quilt type
// attribute (_walrusBlobType=quilt).
func (s *Server) isQuiltObject(ctx context.Context, obj ids.ObjectID) bool {
	attrs, err := s.c.BlobAttributes(ctx, obj)
	if err != nil {
		return false
	}
	for _, a := range attrs {
		if a.Key == client.BlobTypeAttribute && a.Value == client.QuiltBlobType {
			return true
		}
	}
	return false
}

// reuseCheck wraps a store's CheckID: once the blob ID is known (and not
// blocked), it takes the blob ID's lock and, for a reusable store, ends it
// with *reused when the main wallet holds a fitting object. The returned
// finish must be called with the store's result once it is over: it
// records the new object and releases the lock.
func (s *Server) reuseCheck(ctx context.Context, opts client.StoreOptions, quiltType bool) (check func(blob.ID) error, finish func(*client.StoreResult)) {
	var unlock func()
	reuse := s.reusable(opts)
	check = func(id blob.ID) error {
		if err := s.checkNotBlocked(id); err != nil {
			return err
		}
		if !reuse {
			return nil
		}
		if unlock == nil { // a retried store checks again under the lock it holds
			u, err := s.owned.lock(ctx, id)
			if err != nil {
				return err
			}
			unlock = u
		}
		if res := s.findOwned(ctx, id, opts.Epochs, quiltType); res != nil {
			return &reused{res}
		}
		return nil
	}
	finish = func(res *client.StoreResult) {
		if reuse && res != nil && res.Result.NewlyCreated != nil && res.SharedObjectID == nil &&
			res.ObjectID != (ids.ObjectID{}) && res.Result.NewlyCreated.BlobObject.Deletable {
			s.owned.add(res.BlobID, res.ObjectID)
		}
		if unlock != nil {
			unlock()
			unlock = nil
		}
	}
	return check, finish
}
