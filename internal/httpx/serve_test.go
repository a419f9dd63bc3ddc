package httpx

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// serveOnce runs h through Serve with a fail callback that records the
// errors it is given and answers 500 with a marker body, and returns the
// answer and those errors.
func serveOnce(t *testing.T, h HandlerFunc) (*httptest.ResponseRecorder, []error) {
	t.Helper()
	var failed []error
	fail := func(w http.ResponseWriter, r *http.Request, err error) {
		if r == nil {
			t.Error("fail got no request")
		}
		failed = append(failed, err)
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = io.WriteString(w, "fail callback")
	}
	w := httptest.NewRecorder()
	Serve(h, fail).ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/x", nil))
	return w, failed
}

// TestServeNil: a handler that returns nil keeps its own answer, and
// nothing is added to it, not even when it wrote nothing at all.
func TestServeNil(t *testing.T) {
	w, failed := serveOnce(t, func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("X-Mine", "1")
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, "stored")
		return nil
	})
	if w.Code != http.StatusCreated || w.Body.String() != "stored" || w.Header().Get("X-Mine") != "1" ||
		w.Header().Get("Content-Type") != "" || len(failed) != 0 {
		t.Fatalf("%d %q %v, fail called with %v", w.Code, w.Body, w.Header(), failed)
	}

	w, failed = serveOnce(t, func(w http.ResponseWriter, r *http.Request) error { return nil })
	if w.Body.Len() != 0 || len(w.Header()) != 0 || w.Flushed || len(failed) != 0 {
		t.Fatalf("an empty answer got %q %v, fail called with %v", w.Body, w.Header(), failed)
	}
}

// TestServeError: an *Error, returned as it is or wrapped, is answered as
// WriteError answers it (code, Retry-After, AIP-193 body), headers the
// handler set before are kept, and the fail callback is not called.
func TestServeError(t *testing.T) {
	e := New(StatusResourceExhausted, "TOO_MANY", "slow down")
	e.Domain, e.RetryAfter = "d", 3
	want := httptest.NewRecorder()
	WriteError(want, e)
	for name, err := range map[string]error{"as it is": e, "wrapped": fmt.Errorf("admission: %w", e),
		"joined": errors.Join(errors.New("other"), e)} {
		t.Run(name, func(t *testing.T) {
			w, failed := serveOnce(t, func(w http.ResponseWriter, r *http.Request) error {
				w.Header().Set("Cache-Control", "no-store")
				return err
			})
			if w.Code != http.StatusTooManyRequests || w.Body.String() != want.Body.String() ||
				w.Header().Get("Retry-After") != "3" || w.Header().Get("Content-Type") != "application/json" ||
				w.Header().Get("Cache-Control") != "no-store" || len(failed) != 0 {
				t.Fatalf("%d %v %s, fail called with %v", w.Code, w.Header(), w.Body, failed)
			}
			if got := Parse(w.Code, w.Body.Bytes()); got.Reason != "TOO_MANY" || got.Domain != "d" {
				t.Fatalf("Parse = %+v", got)
			}
		})
	}
}

// TestServeFail: any other error goes, as returned, to the fail callback,
// which alone answers it.
func TestServeFail(t *testing.T) {
	type other struct{ error }
	for name, err := range map[string]error{"plain": errors.New("disk on fire"),
		"a type of the package's own": &other{errors.New("mine")}} {
		t.Run(name, func(t *testing.T) {
			w, failed := serveOnce(t, func(w http.ResponseWriter, r *http.Request) error { return err })
			if len(failed) != 1 || failed[0] != err {
				t.Fatalf("fail called with %v, want %v once", failed, err)
			}
			if w.Code != http.StatusInternalServerError || w.Body.String() != "fail callback" {
				t.Fatalf("%d %q", w.Code, w.Body)
			}
		})
	}
}
