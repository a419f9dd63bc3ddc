package node

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/internal/clock"
	"github.com/walrus-go/walrus/store"
)

// steppedClock is a manual clock that tells the test each time a loop goes
// to sleep on it, and for how long.
type steppedClock struct {
	*clock.Manual
	sleeps chan time.Duration
}

func (c *steppedClock) After(d time.Duration) <-chan time.Time {
	ch := c.Manual.After(d) // registered before the test hears of it
	c.sleeps <- d
	return ch
}

// flakyRecoverer fails a blob's recovery a number of times, then takes the
// blob out of the queue as a successful recovery does. It records the
// clock's time of every attempt.
type flakyRecoverer struct {
	clock clock.Clock
	store *store.Store
	fails int

	mu    sync.Mutex
	calls []time.Time
}

func (f *flakyRecoverer) syncBlob(_ context.Context, id blob.ID) error {
	f.mu.Lock()
	f.calls = append(f.calls, f.clock.Now())
	n := len(f.calls)
	f.mu.Unlock()
	if n <= f.fails {
		return errors.New("no peer answered")
	}
	b := f.store.NewBatch()
	b.DequeueSync(id)
	return b.Commit(false)
}

func (f *flakyRecoverer) attempts() []time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Time(nil), f.calls...)
}

// TestSyncRetriesOnTheClock drives the blob sync loop with a manual clock: a
// failing blob is retried after RetryInterval, then after a delay that
// doubles up to a minute, never earlier, and leaves the queue once its
// recovery succeeds. Minutes of the clock pass in milliseconds, so a loop
// paced by the wall clock would not get past the first retry before the
// test's deadline.
func TestSyncRetriesOnTheClock(t *testing.T) {
	st, err := store.Open(store.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	id := blob.ID{7}
	b := st.NewBatch()
	b.EnqueueSync(id, 0)
	if err := b.Commit(true); err != nil {
		t.Fatal(err)
	}
	m, err := newMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	clk := &steppedClock{Manual: clock.NewManual(time.Unix(1_000_000, 0)), sleeps: make(chan time.Duration, 1024)}
	rec := &flakyRecoverer{clock: clk, store: st, fails: 4}
	p := &parts{log: slog.New(slog.DiscardHandler), clock: clk, metrics: m, wake: newSignal()}
	passes := 0
	s := newSyncer(p, st, rec, RecoveryConfig{MaxConcurrentBlobs: 2, RetryInterval: 10 * time.Second},
		func(context.Context) { passes++ })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.run(ctx) }()

	deadline := time.After(20 * time.Second) // wall time
	for len(rec.attempts()) < 5 {
		select {
		case d := <-clk.sleeps:
			// Step only while no recovery is in flight, so that a failure's
			// retry time is set before the clock moves on.
			for s.inFlight() > 0 {
				time.Sleep(time.Millisecond)
			}
			clk.Advance(d)
		case <-deadline:
			t.Fatalf("%d attempts by %v of the clock's time: the loop does not run on the injected clock",
				len(rec.attempts()), clk.Now().Sub(time.Unix(1_000_000, 0)))
		}
	}
	for {
		if n, err := st.SyncQueueLen(); err != nil || n == 0 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}

	calls := rec.attempts()
	want := []time.Duration{10 * time.Second, 20 * time.Second, 40 * time.Second, time.Minute}
	if len(calls) != len(want)+1 {
		t.Fatalf("%d attempts, want %d", len(calls), len(want)+1)
	}
	for i, w := range want {
		// The loop sleeps to the retry time exactly; a sleep that a
		// finished recovery cut short may let one step of up to
		// syncIdlePoll pass unseen.
		if gap := calls[i+1].Sub(calls[i]); gap < w || gap > w+syncIdlePoll {
			t.Errorf("retry %d came %v after the failure, want %v", i+1, gap, w)
		}
	}
	if passes == 0 {
		t.Error("afterPass was never called")
	}
	if s.retrying() != 0 {
		t.Errorf("%d blobs still scheduled for a retry after success", s.retrying())
	}
}

// inFlight is the number of recoveries running.
func (s *syncer) inFlight() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.mu.inflight)
}

// retrying is the number of blobs waiting for a retry.
func (s *syncer) retrying() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.mu.retry)
}
