package nodeapi

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"sync/atomic"
	"time"
)

// pace is the minimum transfer rate of request bodies and answers: a
// transfer of n bytes may keep the node waiting at most grace + n/rate.
type pace struct {
	rate  float64 // bytes per second
	grace time.Duration
}

// allowance is how long the node may wait on a transfer of n bytes.
func (p pace) allowance(n int64) time.Duration {
	return p.grace + time.Duration(float64(n)/p.rate*float64(time.Second))
}

// paceChunk is the most an answer's Write sends under one write deadline:
// a large Write is cut into pieces, each with its own deadline, so that a
// client that stops reading is cut off after the grace rather than after
// the time the whole answer could take at the minimum rate.
const paceChunk = 64 << 10

// withTransfers wraps h so that request bodies and answers keep to
// MinTransferRate, with per-request deadlines on the connection
// (http.ResponseController), which end a stalled read or write where it
// blocks; net/http then closes the connection.
//
// Only the time spent waiting on the client counts: a body's clock runs
// while the handler is in a Read of it, an answer's while it is in a
// Write, so that a handler waiting for upload room, verifying slivers or
// long-polling for a registration is not the client's fault. Before the
// handler's first read of a body, the body may wait twice UploadWait plus
// the grace (an upload may wait UploadWait for a slot of its class, then
// as long for room under MaxUploadBytesInFlight); what the handler
// leaves unread, net/http reads within the grace (to keep the connection)
// or drops with the connection. Requests without a body get no read
// deadline: net/http's background read of the connection must not time
// out while the handler runs.
//
// Every body read also yields the processor first (runtime.Gosched),
// deadlines or not. An upload whose bytes are already buffered, as from a
// fast client, would otherwise run for whole time slices, and uploads
// hand the processor to one another as they pass the gates, while
// requests woken by the network (health, sliver reads) wait in the Go
// scheduler's global queue, which a busy processor looks at only every
// 61 turns: under a flood of uploads, health answers took up to 2 s
// without the yield and at most 0.17 s with it (TestNodeUnderAttack).
func (s *Server) withTransfers(h http.Handler) http.Handler {
	l := s.cfg.Limits
	var p pace // rate 0: no deadlines
	if l.MinTransferRate > 0 {
		p = pace{rate: float64(l.MinTransferRate), grace: l.TransferGrace}
	}
	beforeRead := 2*s.cfg.UploadWait + p.grace
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var rc *http.ResponseController
		if p.rate > 0 {
			rc = http.NewResponseController(w)
			w = &paceWriter{ResponseWriter: w, rc: rc, p: p}
		}
		var body *paceBody
		if r.Body != nil && r.Body != http.NoBody {
			body = &paceBody{body: r.Body, rc: rc, p: p}
			if rc != nil {
				_ = rc.SetReadDeadline(time.Now().Add(beforeRead))
			}
			r2 := new(http.Request)
			*r2 = *r
			r2.Body = body
			r = r2
		}
		h.ServeHTTP(w, r)
		if rc != nil && body != nil && !body.done.Load() {
			_ = rc.SetReadDeadline(time.Now().Add(p.grace))
		}
	})
}

// paceBody is a request body read under the minimum rate (none when rc
// is nil), yielding the processor before each read. Read is called
// by one goroutine at a time (the handler's, or the one it hands the body
// to); done may be read by another once the handler returns.
type paceBody struct {
	body   io.ReadCloser
	rc     *http.ResponseController
	p      pace
	n      int64         // bytes read
	waited time.Duration // time spent in reads
	err    error         // sticky: the body fell behind
	done   atomic.Bool   // the body ended
}

// Read reads under a read deadline that leaves the body what remains of
// its allowance for the bytes read so far.
func (b *paceBody) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if b.done.Load() {
		// net/http cleared the read deadline at the end of the body and
		// reads the connection in the background: no deadline now.
		return 0, io.EOF
	}
	runtime.Gosched()
	if b.rc == nil {
		n, err := b.body.Read(p)
		if errors.Is(err, io.EOF) {
			b.done.Store(true)
		}
		return n, err
	}
	start := time.Now()
	left := b.p.allowance(b.n) - b.waited
	if left <= 0 {
		b.err = b.slow()
		return 0, b.err
	}
	_ = b.rc.SetReadDeadline(start.Add(left))
	n, err := b.body.Read(p)
	b.waited += time.Since(start)
	b.n += int64(n)
	switch {
	case errors.Is(err, io.EOF):
		b.done.Store(true)
	case errors.Is(err, os.ErrDeadlineExceeded):
		b.err = b.slow()
		err = b.err
	}
	return n, err
}

func (b *paceBody) slow() error {
	return fmt.Errorf("%w: %d bytes in %v, below %.0f bytes/s after a grace of %v", errTooSlow, b.n,
		b.waited.Round(time.Millisecond), b.p.rate, b.p.grace)
}

// Close closes the body.
func (b *paceBody) Close() error { return b.body.Close() }

// paceWriter is an answer written under the minimum rate. http's
// ResponseController reaches the writer below through Unwrap.
type paceWriter struct {
	http.ResponseWriter
	rc      *http.ResponseController
	p       pace
	n       int64         // bytes written
	waited  time.Duration // time spent in writes
	started bool          // a write deadline is set
	err     error         // sticky: the client fell behind
}

// WriteHeader bounds the sending of an answer without a body by the grace
// (net/http sends the header when the handler returns).
func (w *paceWriter) WriteHeader(code int) {
	if !w.started {
		w.started = true
		_ = w.rc.SetWriteDeadline(time.Now().Add(w.p.grace))
	}
	w.ResponseWriter.WriteHeader(code)
}

// Write writes b in pieces of at most paceChunk, each under a write
// deadline that leaves it what remains of the answer's allowance.
func (w *paceWriter) Write(b []byte) (int, error) {
	written := 0
	for len(b) > 0 {
		if w.err != nil {
			return written, w.err
		}
		k := min(len(b), paceChunk)
		start := time.Now()
		left := w.p.allowance(w.n+int64(k)) - w.waited
		if left <= 0 {
			w.err = errTooSlow
			return written, w.err
		}
		w.started = true
		_ = w.rc.SetWriteDeadline(start.Add(left))
		m, err := w.ResponseWriter.Write(b[:k])
		w.waited += time.Since(start)
		w.n += int64(m)
		written += m
		b = b[m:]
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				w.err = errTooSlow
			}
			return written, err
		}
	}
	return written, nil
}

// Unwrap lets http.ResponseController reach the writer below.
func (w *paceWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
