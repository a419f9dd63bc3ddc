package httpx

import (
	"io"
	"net/http"
	"time"
)

// Observer receives the measures of one request once its handler has
// returned: the route label given to Instrument, the status code sent
// (200 when the handler wrote nothing, which is what net/http then
// sends), the time the handler took, and the body bytes the handler read
// from the request and wrote to the answer. r is the request the handler
// saw; its body has been read as far as the handler read it.
type Observer func(r *http.Request, route string, code int, d time.Duration, in, out int64)

// Instrument wraps the handler of one route so that observe sees every
// request it serves. The route is a label of the caller's choosing (a
// ServeMux pattern, say), passed through to observe so that one Observer
// serves every route. The handler gets a ResponseWriter that still
// flushes (http.Flusher) and that http.ResponseController unwraps to the
// server's own, for deadlines and hijacking. A handler that panics is not
// observed: net/http drops its connection, there is no answer to measure.
func Instrument(route string, h http.Handler, observe Observer) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &recorder{ResponseWriter: w}
		var body *countingBody
		if r.Body != nil && r.Body != http.NoBody {
			// A shallow copy, as http.StripPrefix makes: a handler must
			// not modify the request it was given.
			r2 := new(http.Request)
			*r2 = *r
			body = &countingBody{ReadCloser: r.Body}
			r2.Body = body
			r = r2
		}
		h.ServeHTTP(rec, r)
		var in int64
		if body != nil {
			in = body.n
		}
		observe(r, route, rec.status(), time.Since(start), in, rec.bytes)
	})
}

// recorder is a ResponseWriter that remembers the final status code of
// the answer and counts the body bytes written.
type recorder struct {
	http.ResponseWriter
	code  int   // 0 until the final header is sent
	bytes int64 // body bytes written
}

// WriteHeader records the first final code: net/http ignores a later one,
// and an informational code (1xx but 101, e.g. 103 Early Hints) precedes
// the final header rather than replacing it.
func (r *recorder) WriteHeader(code int) {
	informational := code >= 100 && code < 200 && code != http.StatusSwitchingProtocols
	if r.code == 0 && !informational {
		r.code = code
	}
	r.ResponseWriter.WriteHeader(code)
}

// Write sends body bytes; the first Write of a handler that did not call
// WriteHeader sends 200, as net/http does.
func (r *recorder) Write(b []byte) (int, error) {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

// Flush sends what has been written so far, and with it the header: 200
// if the handler did not call WriteHeader. It does nothing more when the
// writer below cannot flush.
func (r *recorder) Flush() {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	_ = http.NewResponseController(r.ResponseWriter).Flush()
}

// Unwrap lets http.ResponseController reach the writer below.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// status is the code sent: 200 if the handler wrote nothing.
func (r *recorder) status() int {
	if r.code == 0 {
		return http.StatusOK
	}
	return r.code
}

// countingBody counts the request body bytes the handler reads.
type countingBody struct {
	io.ReadCloser
	n int64
}

func (c *countingBody) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	c.n += int64(n)
	return n, err
}
