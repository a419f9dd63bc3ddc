package client

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/walrus-go/walrus/internal/httpx"
	"github.com/walrus-go/walrus/nodeapi"
)

// TestRetryWait: a node's Retry-After is honoured up to maxRetryAfter;
// without one the wait doubles from transientBackoff.
func TestRetryWait(t *testing.T) {
	e := httpx.Unavailable("busy")
	for try, want := range []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond} {
		if got := retryWait(e, try); got != want {
			t.Errorf("try %d: wait %v, want %v", try, got, want)
		}
	}
	e.RetryAfter = 2
	if got := retryWait(e, 3); got != 2*time.Second {
		t.Errorf("Retry-After 2: wait %v", got)
	}
	e.RetryAfter = 3600
	if got := retryWait(e, 0); got != maxRetryAfter {
		t.Errorf("Retry-After 3600: wait %v, want %v", got, maxRetryAfter)
	}
}

// TestTransientErrors: which node answers are transient.
func TestTransientErrors(t *testing.T) {
	for _, c := range []struct {
		err               error
		busy, notYetKnown bool
	}{
		{httpx.Unavailable("x"), true, false},
		{httpx.New(httpx.StatusResourceExhausted, "RESOURCE_EXHAUSTED", "x"), true, false},
		{httpx.Parse(503, []byte("<html>a proxy's page</html>")), true, false},
		{fmt.Errorf("wrapped: %w", httpx.New("FAILED_PRECONDITION", nodeapi.ReasonMetadataNotFound, "x")), false, true},
		{httpx.New("FAILED_PRECONDITION", nodeapi.ReasonNotRegistered, "x"), false, true},
		{httpx.New("FAILED_PRECONDITION", nodeapi.ReasonShardNotAssigned, "x"), false, false},
		{httpx.New("INVALID_ARGUMENT", nodeapi.ReasonInvalidSliver, "x"), false, false},
		{httpx.Internal(), false, false},
		{errors.New("connection refused"), false, false},
	} {
		if busy(c.err) != c.busy || notYetKnown(c.err) != c.notYetKnown {
			t.Errorf("%v: busy %v notYetKnown %v", c.err, busy(c.err), notYetKnown(c.err))
		}
	}
}

// TestRetryTransient: a request is repeated while its error is retryable,
// at most transientRetries times, and not after ctx ends.
func TestRetryTransient(t *testing.T) {
	ctx := context.Background()
	busyErr := httpx.Unavailable("busy")
	calls := 0
	err := retryTransient(ctx, busy, func() error {
		if calls++; calls < 3 {
			return busyErr
		}
		return nil
	})
	if err != nil || calls != 3 {
		t.Fatalf("recovering node: %v after %d calls", err, calls)
	}
	calls = 0
	permanent := errors.New("permanent")
	if err := retryTransient(ctx, busy, func() error { calls++; return permanent }); err != permanent || calls != 1 {
		t.Fatalf("permanent error: %v after %d calls", err, calls)
	}
	calls = 0
	busyErr.RetryAfter = 1 // 1 s per wait: ctx ends during the first
	cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := retryTransient(cctx, busy, func() error { calls++; return busyErr }); !errors.Is(err, context.DeadlineExceeded) || calls != 1 {
		t.Fatalf("ended context: %v after %d calls", err, calls)
	}
	if d := time.Since(start); d > 900*time.Millisecond {
		t.Fatalf("the wait outlived the context: %v", d)
	}
	calls = 0
	busyErr.RetryAfter = 0
	if err := retryTransient(ctx, busy, func() error { calls++; return busyErr }); err != busyErr || calls != transientRetries+1 {
		t.Fatalf("node busy for good: %v after %d calls, want %d", err, calls, transientRetries+1)
	}
}
