package gateway

import (
	"errors"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/walrus-go/walrus/internal/httpx"
)

// ReasonBodyTooSlow is the reason of a 408: a PUT body that idled or fell
// behind the minimum rate.
const ReasonBodyTooSlow = "BODY_TOO_SLOW"

// bodyTooSlow is the answer to a body that idled longer than idle or fell
// behind the minimum rate: 408 with the status DEADLINE_EXCEEDED. Walrus's
// table has no 408 (its DEADLINE_EXCEEDED is a 504, a gateway's upstream
// timing out); the client is the slow party here, which is HTTP's 408.
// The connection is closed after the answer: the rest of the body is not
// read.
func bodyTooSlow(msg string, b *deadlineBody) *apiError {
	e := newError(http.StatusBadRequest, ReasonBodyTooSlow, msg)
	e.Code, e.Status = http.StatusRequestTimeout, httpx.StatusDeadlineExceeded
	e.Metadata = map[string]any{"received": b.n, "idle_timeout_ms": b.idle.Milliseconds(),
		"min_rate": max(b.rate, 0), "grace_ms": b.grace.Milliseconds()}
	e.CloseConn = true
	return e
}

// guardBody bounds how slowly a PUT body may arrive, so that clients
// trickling bodies cannot hold the publisher's admission slots: a body
// over limit by its Content-Length is refused before anything is read; a
// body must send its first byte within the idle timeout before next (the
// admission) runs, so a client that sends nothing waits outside the
// limiter; once admitted, the body must keep the minimum average rate
// after the grace period and never idle longer than the idle timeout. The
// deadlines are the connection's read deadlines
// (http.ResponseController), so a stalled read ends when they pass, and
// the request gets 408.
func (s *Server) guardBody(limit int64, next httpx.HandlerFunc) httpx.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if r.ContentLength > limit {
			return tooLarge(limit)
		}
		if r.Body == nil || r.Body == http.NoBody {
			return next(w, r)
		}
		b := &deadlineBody{body: r.Body, rc: http.NewResponseController(w), idle: s.cfg.BodyIdleTimeout,
			rate: s.cfg.MinBodyRate, grace: max(s.cfg.BodyRateGrace, 0)}
		defer b.clear()
		if e := b.awaitFirst(); e != nil {
			return e
		}
		r2 := new(http.Request)
		*r2 = *r
		r2.Body = b
		return next(w, r2)
	}
}

// deadlineBody is a request body read under deadlines: each read must
// end within idle of its start, and, from the first read on (the
// admission), the bytes read must keep up with rate after grace. A body
// that misses a deadline stays failed (bodyTooSlow).
type deadlineBody struct {
	body  io.ReadCloser
	rc    *http.ResponseController
	idle  time.Duration // <= 0: none
	rate  int64         // bytes per second; <= 0: none
	grace time.Duration

	head    []byte    // bytes read ahead by awaitFirst, returned first
	started bool      // the first read after admission happened
	start   time.Time // of that read
	base    int64     // bytes read before it
	n       int64     // bytes read in all
	err     error     // sticky failure
	set     bool      // a read deadline is set on the connection
}

// awaitFirst waits, at most idle, for the body's first byte (or its end),
// and keeps it for the first Read.
func (b *deadlineBody) awaitFirst() *apiError {
	var buf [1]byte
	for {
		n, err := b.read(buf[:], b.idleDeadline(time.Now()))
		if n > 0 {
			b.head = append(b.head, buf[:n]...)
			return nil
		}
		if err != nil {
			var e *apiError
			if errors.As(err, &e) {
				return e
			}
			return nil // the end, or a failure the handler sees when it reads
		}
	}
}

// Read reads the body; a read that misses the deadlines fails with the
// 408 answer.
func (b *deadlineBody) Read(p []byte) (int, error) {
	now := time.Now()
	if !b.started {
		b.started, b.start, b.base = true, now, b.n
	}
	if len(b.head) > 0 && len(p) > 0 {
		n := copy(p, b.head)
		b.head = b.head[n:]
		return n, nil
	}
	if b.err != nil {
		return 0, b.err
	}
	d := b.idleDeadline(now)
	if b.rate > 0 {
		// To have read n bytes, the body has grace plus n/rate from its
		// admission.
		secs := float64(b.n-b.base) / float64(b.rate)
		rd := b.start.Add(b.grace + time.Duration(min(secs, 1e6)*float64(time.Second)))
		if d.IsZero() || rd.Before(d) {
			d = rd
		}
	}
	if !d.IsZero() && !d.After(now) {
		b.err = bodyTooSlow("the request body arrives more slowly than this publisher accepts", b)
		return 0, b.err
	}
	return b.read(p, d)
}

// idleDeadline is when a read started at now must end (zero: never).
func (b *deadlineBody) idleDeadline(now time.Time) time.Time {
	if b.idle <= 0 {
		return time.Time{}
	}
	return now.Add(b.idle)
}

// read reads with the connection's read deadline set to d (zero: none).
// When the body ends, the deadline is cleared, so that it cannot fire
// while the request is processed.
func (b *deadlineBody) read(p []byte, d time.Time) (int, error) {
	if !d.IsZero() || b.set {
		// An unsupported deadline leaves only the checks between reads.
		b.set = b.rc.SetReadDeadline(d) == nil && !d.IsZero()
	}
	n, err := b.body.Read(p)
	b.n += int64(n)
	switch {
	case err == nil:
	case errors.Is(err, os.ErrDeadlineExceeded):
		b.err = bodyTooSlow("the request body arrives more slowly than this publisher accepts", b)
		return n, b.err
	case errors.Is(err, io.EOF):
		// Later reads return the end without touching the deadline.
		b.clear()
		b.err = io.EOF
	default:
		b.err = err
	}
	return n, err
}

// clear removes the read deadline set on the connection, if any.
func (b *deadlineBody) clear() {
	if b.set {
		_ = b.rc.SetReadDeadline(time.Time{})
		b.set = false
	}
}

// Close closes the body.
func (b *deadlineBody) Close() error { return b.body.Close() }
