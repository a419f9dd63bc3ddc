package gateway

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/walrus-go/walrus/client"
	"github.com/walrus-go/walrus/internal/httpx"
)

// TestErrorStatuses: every answer the gateway builds is a pair of Walrus's
// table; sizes are 403 SIZE_EXCEEDED, never HTTP's 413, which Walrus's
// clients would refuse.
func TestErrorStatuses(t *testing.T) {
	for _, c := range []struct {
		e            *apiError
		code         int
		status, name string
	}{
		{errf(http.StatusRequestEntityTooLarge, ReasonBodyTooLarge, "over %d", 5), 403, "SIZE_EXCEEDED", "a 413 body"},
		{errf(http.StatusRequestEntityTooLarge, ReasonMalformedRequest, "quilt too large"), 403, "SIZE_EXCEEDED", "a 413 quilt"},
		{errf(http.StatusForbidden, ReasonBlobTooLarge, "read too large"), 403, "SIZE_EXCEEDED", "a blob over --max-blob-size"},
		{storeError(fmt.Errorf("x: %w", client.ErrBlobTooLarge)), 403, "SIZE_EXCEEDED", "a blob too large to store"},
		{errf(http.StatusForbidden, "OTHER", "m"), 403, "PERMISSION_DENIED", "another 403"},
		{errf(http.StatusBadRequest, ReasonInvalidParameter, "m"), 400, "INVALID_ARGUMENT", "a 400"},
		{errf(http.StatusNotFound, ReasonBlobNotFound, "m"), 404, "NOT_FOUND", "a 404"},
		{errf(http.StatusRequestedRangeNotSatisfiable, ReasonInvalidByteRange, "m"), 416, "RANGE_NOT_SATISFIABLE", "a 416"},
		{errf(http.StatusUnavailableForLegalReasons, ReasonForbiddenBlob, "m"), 451, "UNAVAILABLE_FOR_LEGAL_REASONS", "a 451"},
		{errf(http.StatusTooManyRequests, ReasonTooManyRequests, "m"), 429, "RESOURCE_EXHAUSTED", "a 429"},
		{errf(http.StatusUnauthorized, ReasonMissingToken, "m"), 401, "UNAUTHENTICATED", "a 401"},
		{unavailable("later"), 503, "UNAVAILABLE", "unavailable"},
		{internalError(), 500, "INTERNAL", "internal"},
	} {
		if c.e.Code != c.code || c.e.Status != c.status {
			t.Errorf("%s: %d %s, want %d %s", c.name, c.e.Code, c.e.Status, c.code, c.status)
		}
		if code, ok := httpx.CodeFor(c.e.Status); !ok || code != c.e.Code {
			t.Errorf("%s: %d %s is not a pair of Walrus's table", c.name, c.e.Code, c.e.Status)
		}
	}
	if e := errf(http.StatusNotFound, ReasonBlobNotFound, "m"); e.Domain != DomainDaemon {
		t.Errorf("domain %q", e.Domain)
	}
	if e := unavailable("x"); e.Domain != httpx.DomainGlobal || e.RetryAfter != 1 {
		t.Errorf("unavailable: %+v", e)
	}
}

// TestErrorWrite: the answer's headers (no-store, Retry-After,
// Content-Range; the failed read's own dropped) and its exact body.
func TestErrorWrite(t *testing.T) {
	e := errf(http.StatusRequestedRangeNotSatisfiable, ReasonInvalidByteRange, "the range is outside the blob of %d bytes", 10)
	e.ContentRange, e.RetryAfter = "bytes */10", 2
	w := httptest.NewRecorder()
	w.Header().Set("ETag", `"x"`)
	w.Header().Set("Content-Disposition", "inline")
	e.write(w)
	want := `{"error":{"code":416,"status":"RANGE_NOT_SATISFIABLE","message":"the range is outside the blob of 10 bytes",` +
		`"details":[{"@type":"ErrorInfo","reason":"INVALID_BYTE_RANGE","domain":"daemon.walrus.space","metadata":{}}]}}`
	h := w.Header()
	if w.Code != 416 || w.Body.String() != want || h.Get("Cache-Control") != "no-store" || h.Get("Retry-After") != "2" ||
		h.Get("Content-Range") != "bytes */10" || h.Get("ETag") != "" || h.Get("Content-Disposition") != "" ||
		h.Get("Content-Type") != "application/json" || h.Get("Content-Length") != fmt.Sprint(len(want)) {
		t.Fatalf("%d %v\n%s", w.Code, h, w.Body)
	}

	// An *apiError is an error that readError and storeError pass through.
	var err error = fmt.Errorf("wrapped: %w", e)
	var ae *apiError
	if !errors.As(err, &ae) || ae != e || readError(err) != e || storeError(err) != e {
		t.Fatal("an *apiError is not passed through")
	}
	if got := e.Error(); got != "416 RANGE_NOT_SATISFIABLE INVALID_BYTE_RANGE: the range is outside the blob of 10 bytes" {
		t.Fatalf("Error() = %q", got)
	}
}

// TestOutsideTable: the two answers that leave Walrus's table on purpose,
// as HTTP requires: 405 with Allow, and 408 for a body too slow, which
// also closes the connection.
func TestOutsideTable(t *testing.T) {
	w := httptest.NewRecorder()
	methodNotAllowed("DELETE", "/v1/blobs", "PUT").write(w)
	if w.Code != 405 || w.Header().Get("Allow") != "PUT" || w.Header().Get("Cache-Control") != "no-store" ||
		!strings.Contains(w.Body.String(), `"code":405,"status":"UNIMPLEMENTED"`) ||
		!strings.Contains(w.Body.String(), `"reason":"METHOD_NOT_ALLOWED"`) {
		t.Fatalf("405: %d %v %s", w.Code, w.Header(), w.Body)
	}
	w = httptest.NewRecorder()
	bodyTooSlow("slow", &deadlineBody{n: 3, idle: time.Second, rate: 10, grace: time.Second}).write(w)
	if w.Code != 408 || w.Header().Get("Connection") != "close" ||
		!strings.Contains(w.Body.String(), `"code":408,"status":"DEADLINE_EXCEEDED"`) ||
		!strings.Contains(w.Body.String(), `"reason":"BODY_TOO_SLOW"`) || !strings.Contains(w.Body.String(), `"received":3`) {
		t.Fatalf("408: %d %v %s", w.Code, w.Header(), w.Body)
	}
}
