package node

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/blocklist"
	"github.com/walrus-go/walrus/chain"
	"github.com/walrus-go/walrus/chain/chainclient"
	"github.com/walrus-go/walrus/ids"
	"github.com/walrus-go/walrus/internal/clock"
	"github.com/walrus-go/walrus/store"
)

// uploads is what the node tells its REST server about blobs: a
// registration opens a blob to uploads (and flushes the ones buffered with
// ?pending=true); a blob whose data goes loses its buffered uploads.
// *nodeapi.Server implements it.
type uploads interface {
	Registered(id blob.ID)
	DropPending(id blob.ID)
}

// Retry delays of the event follower: the first, and the most it doubles
// to.
const (
	eventRetryMin = 100 * time.Millisecond
	eventRetryMax = 5 * time.Second
)

// defaultEventPoll is how long the follower waits after a page without
// events when the chain configuration sets no poll interval (chainclient's
// default, which the node's chain client uses then too).
const defaultEventPoll = 100 * time.Millisecond

// follower is the chain event follower. It hands every chain event after
// the cursor in the store to its handler, in order: blob events here,
// epoch events to epochs. Each event's effects are committed together with
// its cursor, so a crash neither loses nor repeats an effect; an event that
// cannot be handled (the chain or the store failing) is retried.
//
// It reads the events page by page (/events?after=cursor) rather than
// through a chainclient.Subscription, because a page also says up to which
// height it is complete (chain.EventPage.Through): once every event of a
// page is handled, the node has processed the chain up to that height, in
// blocks with events or without. That height, not the height of the last
// event, is what the lag metric and the health answer compare with the
// chain's height, so that an idle chain does not look like a node falling
// behind.
type follower struct {
	log       *slog.Logger
	clock     clock.Clock
	poll      time.Duration // wait after a page without events
	store     *store.Store
	chain     *chainclient.Client
	view      *view
	locks     *blobLocks
	blocklist *blocklist.List
	uploads   uploads
	gc        *collector
	epochs    *epochs
	wake      signal // blob sync
	progress  *progress
	metrics   *metrics
}

// newFollower makes the follower; poll is the chain configuration's poll
// interval (0: defaultEventPoll).
func newFollower(p *parts, poll time.Duration, u uploads, gc *collector, e *epochs) *follower {
	if poll <= 0 {
		poll = defaultEventPoll
	}
	return &follower{log: p.log, clock: p.clock, poll: poll, store: p.store, chain: p.chain, view: p.view, locks: p.locks,
		blocklist: p.blocklist, uploads: u, gc: gc, epochs: e, wake: p.wake, progress: p.progress, metrics: p.metrics}
}

// run follows the chain's events until ctx ends.
func (f *follower) run(ctx context.Context) error {
	cursor, err := f.store.Cursor()
	if err != nil {
		return fmt.Errorf("node: event cursor: %w", err)
	}
	f.progress.cursorH.Store(cursor.Height)
	f.progress.handledEventAt(cursor.Height)
	backoff := eventRetryMin
	for {
		page, err := f.chain.Events(ctx, cursor, chain.MaxEventsPerQuery)
		if err == nil {
			err = checkOrder(cursor, page.Events)
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			f.log.Warn("reading chain events", "err", err)
			if clock.Sleep(ctx, f.clock, backoff) != nil {
				return nil
			}
			backoff = min(2*backoff, eventRetryMax)
			continue
		}
		for _, ev := range page.Events {
			backoff = eventRetryMin
			if !f.handleUntilDone(ctx, ev, &backoff) {
				return nil
			}
			cursor = ev.Cursor
			f.progress.events.Add(1)
			f.progress.cursorH.Store(ev.Cursor.Height)
			f.progress.handledEventAt(ev.Cursor.Height)
			f.metrics.events.WithLabelValues(ev.Event.Type).Inc()
		}
		backoff = eventRetryMin
		// Every event up to the page's height is handled now.
		f.progress.processedThrough(page.Through)
		f.metrics.eventLag.Set(float64(f.progress.lag()))
		if len(page.Events) == 0 && !sleepWall(ctx, f.poll) {
			return nil
		}
	}
}

// checkOrder fails if a page's events do not all follow the cursor, in
// order.
func checkOrder(cursor chain.Cursor, events []chain.EventRecord) error {
	for _, ev := range events {
		if !cursor.Less(ev.Cursor) && cursor != (chain.Cursor{}) {
			return fmt.Errorf("node: chain event %s out of order after %s", ev.Cursor, cursor)
		}
		cursor = ev.Cursor
	}
	return nil
}

// sleepWall waits d of wall time, as a chainclient.Subscription waits
// between polls (the injected clock paces retries, not the chain's
// blocks); it reports false if ctx ended first.
func sleepWall(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// handleUntilDone handles an event, retrying with a doubling delay until it
// succeeds; it reports false if ctx ended first.
func (f *follower) handleUntilDone(ctx context.Context, ev chain.EventRecord, backoff *time.Duration) bool {
	for {
		err := f.handle(ctx, ev)
		if err == nil {
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		f.log.Error("handling chain event; retrying", "type", ev.Event.Type, "cursor", ev.Cursor, "err", err)
		if clock.Sleep(ctx, f.clock, *backoff) != nil {
			return false
		}
		*backoff = min(2**backoff, eventRetryMax)
	}
}

func recordEventID(ev chain.EventRecord) ids.EventID {
	return ids.EventID{TxDigest: ev.TxDigest, Seq: uint64(ev.Cursor.EventIndex)}
}

// handle applies one event.
func (f *follower) handle(ctx context.Context, ev chain.EventRecord) error {
	switch ev.Event.Type {
	case chain.EventBlobRegistered:
		e, err := chain.ParseBlobRegistered(ev.Event.Data)
		if err != nil {
			return f.skip(ev, err)
		}
		return f.onRegistered(ev, e)
	case chain.EventBlobCertified:
		e, err := chain.ParseBlobCertified(ev.Event.Data)
		if err != nil {
			return f.skip(ev, err)
		}
		return f.onCertified(ev, e)
	case chain.EventBlobDeleted:
		e, err := chain.ParseBlobDeleted(ev.Event.Data)
		if err != nil {
			return f.skip(ev, err)
		}
		return f.onDeleted(ev, e)
	case chain.EventInvalidBlobID:
		e, err := chain.ParseInvalidBlobID(ev.Event.Data)
		if err != nil {
			return f.skip(ev, err)
		}
		return f.onInvalid(ev, e)
	case chain.EventEpochChangeStart:
		e, err := chain.ParseEpochEvent(ev.Event.Data)
		if err != nil {
			return f.skip(ev, err)
		}
		return f.epochs.onChangeStart(ctx, ev, e.Epoch)
	case chain.EventEpochChangeDone:
		e, err := chain.ParseEpochEvent(ev.Event.Data)
		if err != nil {
			return f.skip(ev, err)
		}
		return f.epochs.onChangeDone(ctx, ev, e.Epoch)
	}
	return f.saveCursor(ev)
}

// skip logs an event whose payload does not decode and moves past it: the
// chain wrote it, so retrying cannot help.
func (f *follower) skip(ev chain.EventRecord, err error) error {
	f.log.Error("undecodable chain event skipped", "type", ev.Event.Type, "cursor", ev.Cursor, "err", err)
	return f.saveCursor(ev)
}

func (f *follower) saveCursor(ev chain.EventRecord) error {
	b := f.store.NewBatch()
	b.SetCursor(ev.Cursor)
	return b.Commit(false)
}

// onRegistered records a registration; the blob's data is accepted from
// now on, and pending uploads are stored.
func (f *follower) onRegistered(ev chain.EventRecord, e chain.BlobRegistered) error {
	mu := f.locks.of(e.BlobID)
	mu.Lock()
	info, err := loadBlobInfo(f.store, e.BlobID)
	if err != nil {
		mu.Unlock()
		return err
	}
	b := f.store.NewBatch()
	live := e.EndEpoch > f.view.Epoch()
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
	if live && info.Invalid == nil && !f.blocklist.Blocked(e.BlobID) {
		f.uploads.Registered(e.BlobID)
	}
	return nil
}

// onCertified marks the object certified (or extended) and queues the blob
// for recovery of any slivers the node lacks.
func (f *follower) onCertified(ev chain.EventRecord, e chain.BlobCertified) error {
	mu := f.locks.of(e.BlobID)
	mu.Lock()
	defer mu.Unlock()
	info, err := loadBlobInfo(f.store, e.BlobID)
	if err != nil {
		return err
	}
	reg := certifiedRegistration(&info, ev, e)
	b := f.store.NewBatch()
	queued := false
	if reg.Live(f.view.Epoch()) {
		info.Put(reg)
		b.SetBlobInfo(e.BlobID, &info)
		b.AddExpiry(reg.EndEpoch, e.BlobID)
		if !e.IsExtension && info.Invalid == nil && !f.blocklist.Blocked(e.BlobID) {
			already, err := f.store.SyncQueued(e.BlobID)
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
		f.wake.wake()
	}
	return nil
}

// certifiedRegistration is the object's registration after a BlobCertified
// event: certified in the event's epoch unless it was before, and ending no
// earlier than the event says.
func certifiedRegistration(info *store.BlobInfo, ev chain.EventRecord, e chain.BlobCertified) store.Registration {
	reg := store.Registration{ObjectID: e.ObjectID, Deletable: e.Deletable, EndEpoch: e.EndEpoch}
	if r := info.Registration(e.ObjectID); r != nil {
		reg = *r
	}
	if reg.CertifiedEpoch == nil {
		ce := e.Epoch
		reg.CertifiedEpoch = &ce
	}
	reg.EndEpoch = max(reg.EndEpoch, e.EndEpoch)
	reg.Event = recordEventID(ev)
	return reg
}

// onDeleted drops a deleted object's registration; the data goes when no
// live registration keeps it.
func (f *follower) onDeleted(ev chain.EventRecord, e chain.BlobDeleted) error {
	mu := f.locks.of(e.BlobID)
	mu.Lock()
	defer mu.Unlock()
	info, err := loadBlobInfo(f.store, e.BlobID)
	if err != nil {
		return err
	}
	b := f.store.NewBatch()
	info.Remove(e.ObjectID)
	b.SetBlobInfo(e.BlobID, &info)
	collect := info.Invalid == nil && !info.Live(f.view.Epoch())
	if collect {
		if err := f.gc.deleteData(b, e.BlobID); err != nil {
			b.Discard()
			return err
		}
	}
	b.SetCursor(ev.Cursor)
	if err := b.Commit(false); err != nil {
		return err
	}
	if collect {
		f.gc.collected(e.BlobID, "deleted")
	}
	return nil
}

// onInvalid records that the blob ID is invalid and deletes its data; the
// node reports it invalid from now on.
func (f *follower) onInvalid(ev chain.EventRecord, e chain.InvalidBlobIDEvent) error {
	mu := f.locks.of(e.BlobID)
	mu.Lock()
	defer mu.Unlock()
	info, err := loadBlobInfo(f.store, e.BlobID)
	if err != nil {
		return err
	}
	b := f.store.NewBatch()
	if info.Invalid == nil {
		info.Invalid = &store.Invalidation{Epoch: e.Epoch, Event: recordEventID(ev)}
	}
	b.SetBlobInfo(e.BlobID, &info)
	if err := f.gc.deleteData(b, e.BlobID); err != nil {
		b.Discard()
		return err
	}
	b.SetCursor(ev.Cursor)
	if err := b.Commit(false); err != nil {
		return err
	}
	f.uploads.DropPending(e.BlobID)
	f.gc.collected(e.BlobID, "invalid")
	f.log.Info("blob marked invalid on chain; its data is deleted", "blob_id", e.BlobID)
	return nil
}
