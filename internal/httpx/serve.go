package httpx

import (
	"errors"
	"net/http"
)

// HandlerFunc is an HTTP handler that returns its failure instead of
// answering it: it writes the answer of a success itself and returns nil,
// or writes nothing and returns the error, which Serve turns into the
// answer. A handler that has started its answer (sent the header or a
// byte of the body) must not return an error: the error answer would be
// glued to what it sent. Once it has started, it returns nil, or cuts the
// connection with panic(http.ErrAbortHandler) so that the client sees a
// short answer rather than a wrong one.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// FailFunc answers an error of a HandlerFunc that is not an *Error: it is
// the package's own mapping of its errors, and its last resort (log the
// error, answer Internal()).
type FailFunc func(w http.ResponseWriter, r *http.Request, err error)

// Serve adapts h to an http.Handler. A nil error leaves the answer as h
// wrote it. An error that is or wraps an *Error is sent as that error
// (WriteError); any other error is handed to fail, which answers it.
//
// A package whose errors must carry more than WriteError sends (the
// gateway's extra headers) uses an error type of its own, which reaches
// fail; and it does not return, unwrapped, an error whose chain may hold
// an *Error it did not build (a storage node's answer inside a failed
// read), since Serve would send that one.
func Serve(h HandlerFunc, fail FailFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := h(w, r)
		if err == nil {
			return
		}
		var e *Error
		if errors.As(err, &e) {
			WriteError(w, e)
			return
		}
		fail(w, r, err)
	})
}
