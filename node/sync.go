package node

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/internal/clock"
)

// Blob sync: the recovery queue in the store lists the blobs that may lack
// slivers of the node's shards (queued with BlobCertified, at an epoch
// change that gained shards, and when a damaged value is found). The syncer
// works through it with bounded concurrency; a blob leaves the queue only
// when every owned shard holds both its slivers (checked under the blob's
// lock, against the committee of that moment), or when the blob no longer
// needs them. Failures are retried with a doubling delay. The queue lives in
// the store, so recovery resumes after a restart.

// errBlobInvalid: recovery proved the blob inconsistent; it stays queued
// until the InvalidBlobID event removes it.
var errBlobInvalid = errors.New("node: blob is inconsistently encoded")

// Pacing of the sync loop.
const (
	syncPage      = 256         // queue entries read at once
	syncIdlePoll  = time.Second // the longest the loop sleeps
	syncMinWait   = 10 * time.Millisecond
	maxRetryDelay = time.Minute // the doubling retry delay stops here
)

// syncQueue is the recovery queue as the syncer reads it: the queued blob
// IDs after a given one (nil: from the start), in order, at most limit.
// *store.Store implements it.
type syncQueue interface {
	SyncQueue(after *blob.ID, limit int) ([]blob.ID, error)
}

// blobRecoverer recovers one queued blob's missing slivers and takes the
// blob out of the queue once it holds them (or no longer needs them).
// *recoverer implements it.
type blobRecoverer interface {
	syncBlob(ctx context.Context, id blob.ID) error
}

type retryState struct {
	next  time.Time
	delay time.Duration
}

// syncer is the blob sync loop.
type syncer struct {
	log       *slog.Logger
	clock     clock.Clock
	cfg       RecoveryConfig
	queue     syncQueue
	blobs     blobRecoverer
	wake      signal                    // a blob was queued, or a recovery ended
	afterPass func(ctx context.Context) // called after each pass over the queue (nil: nothing)
	metrics   *metrics

	sem chan struct{} // one token per blob in flight
	wg  sync.WaitGroup
	mu  struct {
		sync.Mutex
		inflight map[blob.ID]bool
		retry    map[blob.ID]retryState
	}
}

func newSyncer(p *parts, q syncQueue, r blobRecoverer, cfg RecoveryConfig, afterPass func(context.Context)) *syncer {
	return &syncer{log: p.log, clock: p.clock, cfg: cfg, queue: q, blobs: r, wake: p.wake, afterPass: afterPass, metrics: p.metrics}
}

// run works through the recovery queue until ctx ends, then waits for the
// recoveries in flight.
func (s *syncer) run(ctx context.Context) error {
	s.sem = make(chan struct{}, s.cfg.MaxConcurrentBlobs)
	s.mu.inflight, s.mu.retry = map[blob.ID]bool{}, map[blob.ID]retryState{}
	defer s.wg.Wait()
	for {
		seen, ok := s.pass(ctx)
		if !ok {
			return nil
		}
		wait := s.nextWait(seen)
		if s.afterPass != nil {
			s.afterPass(ctx)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-s.wake:
		case <-s.clock.After(wait):
		}
	}
}

// pass starts the recovery of every queued blob that is neither in flight
// nor waiting for its retry, as slots free up. It returns the blobs it saw
// queued, or false if ctx ended.
func (s *syncer) pass(ctx context.Context) (map[blob.ID]bool, bool) {
	queued := 0
	seen := map[blob.ID]bool{}
	var after *blob.ID
	for {
		ids, err := s.queue.SyncQueue(after, syncPage)
		if err != nil {
			s.log.Error("reading the recovery queue", "err", err)
			break
		}
		if len(ids) == 0 {
			break
		}
		after = &ids[len(ids)-1]
		queued += len(ids)
		for _, id := range ids {
			seen[id] = true
			if !s.due(id) {
				continue
			}
			select {
			case s.sem <- struct{}{}:
			case <-ctx.Done():
				return nil, false
			}
			s.start(ctx, id)
		}
	}
	s.metrics.backlog.Set(float64(queued))
	return seen, true
}

// due reports whether a blob may be tried now.
func (s *syncer) due(id blob.ID) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.mu.inflight[id] && !s.clock.Now().Before(s.mu.retry[id].next)
}

// start recovers a blob in the background; the caller holds a slot of sem,
// which the recovery gives back.
func (s *syncer) start(ctx context.Context, id blob.ID) {
	s.mu.Lock()
	s.mu.inflight[id] = true
	s.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		begin := s.clock.Now()
		err := s.blobs.syncBlob(ctx, id)
		s.finished(ctx, id, err)
		<-s.sem
		if err == nil {
			s.log.Debug("blob recovery pass done", "blob_id", id, "took", s.clock.Now().Sub(begin))
		}
		s.wake.wake()
	}()
}

// finished records the outcome of a blob's recovery: a failure is retried
// after a delay that starts at RetryInterval and doubles up to a minute.
func (s *syncer) finished(ctx context.Context, id blob.ID, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.mu.inflight, id)
	switch {
	case err == nil:
		delete(s.mu.retry, id)
	case ctx.Err() == nil:
		r := s.mu.retry[id]
		r.delay = min(max(2*r.delay, s.cfg.RetryInterval), maxRetryDelay)
		r.next = s.clock.Now().Add(r.delay)
		s.mu.retry[id] = r
		if !errors.Is(err, errBlobInvalid) {
			s.metrics.syncFailures.Inc()
			s.log.Warn("blob recovery failed; will retry", "blob_id", id, "in", r.delay, "err", err)
		}
	}
}

// nextWait forgets the retries of blobs that left the queue (those not in
// seen) and returns how long to sleep: until the next retry is due, at most
// syncIdlePoll.
func (s *syncer) nextWait(seen map[blob.ID]bool) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	wait := syncIdlePoll
	for id, r := range s.mu.retry {
		if !seen[id] {
			delete(s.mu.retry, id)
			continue
		}
		if d := r.next.Sub(now); d < wait {
			wait = max(d, syncMinWait)
		}
	}
	return wait
}
