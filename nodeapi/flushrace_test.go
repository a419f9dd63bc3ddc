package nodeapi_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/nodeapi"
	"github.com/walrus-go/walrus/redstuff"
	"github.com/walrus-go/walrus/wire"
)

// hookStore is a memStore whose metadata reads and writes can be paused or
// made to fail, so that a test can make a flush of the pending cache and
// an upload meet at a chosen point.
type hookStore struct {
	*memStore

	mu sync.Mutex
	// afterMiss, if set, is called once (then cleared) by the next
	// Metadata read that finds nothing, after the read and before it
	// returns.
	afterMiss func()
	// afterPut, if set, is called once (then cleared) by the next
	// PutMetadata, after the write and before it returns.
	afterPut func()
	// putErr, if set, is returned once (then cleared) by the next
	// PutMetadata, which then writes nothing.
	putErr error
}

// take returns *hook and clears it, under the store's lock.
func (h *hookStore) take(hook *func()) func() {
	h.mu.Lock()
	defer h.mu.Unlock()
	fn := *hook
	*hook = nil
	return fn
}

func (h *hookStore) Metadata(id blob.ID) (*blob.MetadataWithID, bool, error) {
	md, ok, err := h.memStore.Metadata(id)
	if !ok && err == nil {
		if fn := h.take(&h.afterMiss); fn != nil {
			fn()
		}
	}
	return md, ok, err
}

func (h *hookStore) PutMetadata(md *blob.MetadataWithID) error {
	h.mu.Lock()
	err := h.putErr
	h.putErr = nil
	h.mu.Unlock()
	if err != nil {
		return err
	}
	if err := h.memStore.PutMetadata(md); err != nil {
		return err
	}
	if fn := h.take(&h.afterPut); fn != nil {
		fn()
	}
	return nil
}

func newHookFixture(t *testing.T) (*fixture, *hookStore) {
	t.Helper()
	var h *hookStore
	f := newFixtureWith(t, nodeapi.Config{}, func(m *memStore) nodeapi.Store {
		h = &hookStore{memStore: m}
		return h
	})
	return f, h
}

// sliverRoutes are the two ways to upload slivers: Walrus's single-sliver
// PUT and the batch PUT, each sending the primary sliver of one owned pair
// without the pending flag (the client sees the blob registered).
var sliverRoutes = []struct {
	name string
	put  func(ctx context.Context, f *fixture, id blob.ID, pair int, s *redstuff.Sliver) error
}{
	{"single", func(ctx context.Context, f *fixture, id blob.ID, pair int, s *redstuff.Sliver) error {
		_, err := f.client.PutSliver(ctx, id, pair, s, false)
		return err
	}},
	{"batch", func(ctx context.Context, f *fixture, id blob.ID, pair int, s *redstuff.Sliver) error {
		_, err := f.client.PutSliverBatch(ctx, id, buildBatch([]frameOf{{pair, *s}}), false)
		return err
	}},
}

// TestSliverMeetsFlushBetweenLookups: a sliver PUT whose metadata lookup
// misses in the store, then the flush of the blob's pending data moves the
// metadata from the cache to the store, then the lookup goes on. The
// sliver is accepted (before the fix it was METADATA_NOT_FOUND: the lookup
// found the metadata in neither place).
func TestSliverMeetsFlushBetweenLookups(t *testing.T) {
	for i, route := range sliverRoutes {
		t.Run(route.name, func(t *testing.T) {
			f, h := newHookFixture(t)
			ctx := context.Background()
			x := encode(t, 3000, uint64(60+i))
			id := x.Metadata.ID
			if code, err := f.client.PutMetadata(ctx, &x.Metadata, true); err != nil || code != 202 {
				t.Fatalf("pending metadata: %d %v", code, err)
			}
			f.chain.register(id, permanent)

			missed, resume := make(chan struct{}), make(chan struct{})
			h.mu.Lock()
			h.afterMiss = func() { close(missed); <-resume }
			h.mu.Unlock()
			p, shard := f.pair(id, true)
			pair := x.Pair(p)
			done := make(chan error, 1)
			go func() { done <- route.put(ctx, f, id, p, &pair.Primary) }()

			select {
			case <-missed:
				// The lookup missed in the store: flush now, in full, then
				// let the lookup go on.
				f.srv.Registered(id)
				if _, ok, _ := f.store.Metadata(id); !ok {
					t.Fatal("the flush did not store the metadata")
				}
				close(resume)
			case err := <-done:
				// The lookup never missed in the store: nothing to race.
				t.Fatalf("the sliver PUT ended before its metadata lookup missed: %v", err)
			case <-time.After(10 * time.Second):
				t.Fatal("the sliver PUT did not look the metadata up")
			}
			if err := <-done; err != nil {
				t.Fatalf("sliver racing the flush: %v", err)
			}
			if ok, _ := f.store.HasSliver(shard, blob.Primary, id); !ok {
				t.Fatal("the sliver was not stored")
			}
		})
	}
}

// TestSliverMeetsFlushAfterStoreWrite: a sliver PUT that arrives while the
// flush has written the metadata to the store but not yet dropped it from
// the cache is accepted.
func TestSliverMeetsFlushAfterStoreWrite(t *testing.T) {
	for i, route := range sliverRoutes {
		t.Run(route.name, func(t *testing.T) {
			f, h := newHookFixture(t)
			ctx := context.Background()
			x := encode(t, 3000, uint64(70+i))
			id := x.Metadata.ID
			if _, err := f.client.PutMetadata(ctx, &x.Metadata, true); err != nil {
				t.Fatal(err)
			}
			f.chain.register(id, permanent)
			p, shard := f.pair(id, true)
			pair := x.Pair(p)
			sent := make(chan error, 1)
			h.mu.Lock()
			h.afterPut = func() { sent <- route.put(ctx, f, id, p, &pair.Primary) }
			h.mu.Unlock()
			f.srv.Registered(id)
			if err := <-sent; err != nil {
				t.Fatalf("sliver during the flush: %v", err)
			}
			if ok, _ := f.store.HasSliver(shard, blob.Primary, id); !ok {
				t.Fatal("the sliver was not stored")
			}
			if f.srv.PendingBytes() != 0 {
				t.Fatalf("pending cache holds %d bytes after the flush", f.srv.PendingBytes())
			}
		})
	}
}

// TestFlushFailureKeepsPending: when the flush cannot store a blob's
// metadata, the blob's pending data stays in the cache (still found by
// uploads), and the next flush, here the one a confirmation request makes,
// stores it all.
func TestFlushFailureKeepsPending(t *testing.T) {
	f, h := newHookFixture(t)
	ctx := context.Background()
	x := encode(t, 3000, 80)
	id := x.Metadata.ID
	f.upload(x, true)
	f.chain.register(id, permanent)
	h.mu.Lock()
	h.putErr = errors.New("disk full")
	h.mu.Unlock()
	f.srv.Registered(id)
	if _, ok, _ := f.store.Metadata(id); ok {
		t.Fatal("the failed flush stored the metadata")
	}
	if st, err := f.client.MetadataStatus(ctx, id); err != nil || st != nodeapi.StatusBuffered {
		t.Fatalf("metadata after a failed flush: %q %v", st, err)
	}
	sm, err := f.client.Confirmation(ctx, id, wire.Permanent, 0)
	if err != nil {
		t.Fatalf("confirmation after a failed flush: %v", err)
	}
	f.checkConfirmation(sm, id, wire.Permanent)
	if _, ok, _ := f.store.Metadata(id); !ok {
		t.Fatal("the metadata was not stored")
	}
	if f.srv.PendingBytes() != 0 {
		t.Fatalf("pending cache holds %d bytes", f.srv.PendingBytes())
	}
}
