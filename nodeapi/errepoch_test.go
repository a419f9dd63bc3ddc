package nodeapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/internal/httpx"
)

func TestErrorEpoch(t *testing.T) {
	local := errShardNotAssigned(3, 7)
	if e, ok := ErrorEpoch(fmt.Errorf("wrapped: %w", local)); !ok || e != 7 {
		t.Fatalf("local error: %d %v", e, ok)
	}
	body, err := json.Marshal(local)
	if err != nil {
		t.Fatal(err)
	}
	if e, ok := ErrorEpoch(parseError(400, body)); !ok || e != 7 {
		t.Fatalf("decoded error: %d %v (%s)", e, ok, body)
	}
	for _, v := range []any{-1.0, 1.5, float64(1 << 33), "7", nil} {
		bad := &Error{Metadata: map[string]any{"epoch": v}}
		if e, ok := ErrorEpoch(bad); ok {
			t.Errorf("epoch %v read as %d", v, e)
		}
	}
	if _, ok := ErrorEpoch(fmt.Errorf("not a node's error")); ok {
		t.Error("a plain error has an epoch")
	}
}

func TestRetryAfter(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "3")
		httpx.WriteError(w, httpx.Unavailable("busy"))
	}))
	defer srv.Close()
	p, err := blob.NewParams(10)
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewClient(srv.URL, ClientConfig{Params: p})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Health(context.Background(), false)
	var e *Error
	if !errors.As(err, &e) || e.Code != http.StatusServiceUnavailable || e.RetryAfter != 3 {
		t.Fatalf("Retry-After not carried: %v (%+v)", err, e)
	}
}
