package gateway

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/client"
	"github.com/walrus-go/walrus/internal/httpx"
	"github.com/walrus-go/walrus/quilt"
)

// TestFail: what a handler returns becomes the answer through httpx.Serve
// and Server.fail: an *apiError as write sends it, a read or store error
// as readError and storeError map it, anything else as 500 INTERNAL with
// no-store. A storage node's AIP-193 error inside a failed read is not
// the gateway's answer: it stays a 500 that says nothing of it.
func TestFail(t *testing.T) {
	s := &Server{log: slog.New(slog.DiscardHandler)}
	internal := httptest.NewRecorder()
	internalError().write(internal)
	notFound := httptest.NewRecorder()
	readError(client.ErrBlobNotFound).write(notFound)
	blocked := errf(http.StatusUnavailableForLegalReasons, ReasonForbiddenBlob, "the requested blob is blocked")
	wantBlocked := httptest.NewRecorder()
	blocked.write(wantBlocked)
	node := httpx.New(httpx.StatusNotFound, "SLIVER_NOT_FOUND", "the requested sliver is unavailable")
	node.Domain = "storage.walrus.space"
	for _, c := range []struct {
		name string
		err  error
		want *httptest.ResponseRecorder
	}{
		{"an *apiError", blocked, wantBlocked},
		{"a wrapped *apiError", fmt.Errorf("check: %w", blocked), wantBlocked},
		{"a read error", readErr(fmt.Errorf("reading: %w", client.ErrBlobNotFound)), notFound},
		{"an unknown read error", readErr(errors.New("disk on fire")), internal},
		{"a node's error inside a read", readErr(fmt.Errorf("client: %w", node)), internal},
		{"a node's error inside a store", s.storeErr(errors.Join(errors.New("node 3"), node)), internal},
		{"a plain error", errors.New("blob x was marked invalid"), internal},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			w.Header().Set("ETag", `"x"`) // a failed read's header, which an error answer drops
			httpx.Serve(func(http.ResponseWriter, *http.Request) error { return c.err }, s.fail).
				ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/v1/blobs/x", nil))
			if w.Code != c.want.Code || w.Body.String() != c.want.Body.String() ||
				fmt.Sprint(w.Header()) != fmt.Sprint(c.want.Header()) {
				t.Fatalf("%d %v %s\nwant %d %v %s", w.Code, w.Header(), w.Body, c.want.Code, c.want.Header(), c.want.Body)
			}
		})
	}
}

// TestDropBlocked: a reload that blocks a blob forgets what the caches
// hold of it, a quilt's patches included, and nothing of other blobs.
func TestDropBlocked(t *testing.T) {
	now := time.Unix(0, 0)
	clock := func() time.Time { return now }
	s := &Server{blobs: newCache[blob.ID, *blobEntry](1<<20, clock), patches: newCache[quilt.PatchID, *patchEntry](1<<20, clock),
		indexes: newCache[blob.ID, *indexEntry](1<<20, clock), readers: newCache[blob.ID, *client.QuiltReader](1<<20, clock)}
	bad, good := blob.ID{1}, blob.ID{2}
	later := now.Add(time.Minute)
	for _, id := range []blob.ID{bad, good} {
		s.blobs.put(id, &blobEntry{}, 1, later)
		s.indexes.put(id, &indexEntry{}, 1, later)
		s.readers.put(id, &client.QuiltReader{}, 1, later)
		s.patches.put(quilt.PatchID{Quilt: id, Start: 1, End: 2}, &patchEntry{}, 1, later)
		s.patches.put(quilt.PatchID{Quilt: id, Start: 2, End: 3}, &patchEntry{}, 1, later)
	}
	s.dropBlocked([]blob.ID{bad})
	if _, ok := s.blobs.get(bad); ok {
		t.Error("the blocked blob is still cached")
	}
	if _, ok := s.indexes.get(bad); ok {
		t.Error("the blocked quilt's index is still cached")
	}
	if _, ok := s.readers.get(bad); ok {
		t.Error("the blocked quilt's reader is still cached")
	}
	if n, _ := s.patches.stats(); n != 2 {
		t.Errorf("%d patches cached, want the other quilt's 2", n)
	}
	_, okBlob := s.blobs.get(good)
	_, okIndex := s.indexes.get(good)
	_, okReader := s.readers.get(good)
	_, okPatch := s.patches.get(quilt.PatchID{Quilt: good, Start: 1, End: 2})
	if !okBlob || !okIndex || !okReader || !okPatch {
		t.Errorf("another blob was dropped: %v %v %v %v", okBlob, okIndex, okReader, okPatch)
	}
}
