package httpx

import (
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
)

func TestWriteJSON(t *testing.T) {
	w := httptest.NewRecorder()
	WriteJSON(w, http.StatusAccepted, map[string]int{"a": 1})
	if w.Code != http.StatusAccepted || w.Body.String() != `{"a":1}` || w.Header().Get("Content-Type") != "application/json" ||
		w.Header().Get("Content-Length") != "7" {
		t.Fatalf("%d %q %v", w.Code, w.Body, w.Header())
	}

	// A value that does not encode: a 500 with an AIP-193 body instead.
	w = httptest.NewRecorder()
	WriteJSON(w, http.StatusOK, math.NaN())
	e := Parse(w.Code, w.Body.Bytes())
	if w.Code != http.StatusInternalServerError || e.Status != StatusInternal || e.Reason != ReasonInternal ||
		w.Header().Get("Content-Length") != strconv.Itoa(w.Body.Len()) {
		t.Fatalf("unencodable value: %d %s", w.Code, w.Body)
	}
}

func TestWriteSuccess(t *testing.T) {
	for _, c := range []struct {
		code int
		data any
		want string
	}{
		{201, "metadata successfully stored", `{"success":{"code":201,"data":"metadata successfully stored"}}`},
		{200, struct {
			Stored int `json:"stored"`
		}{3}, `{"success":{"code":200,"data":{"stored":3}}}`},
		{200, nil, `{"success":{"code":200,"data":null}}`},
	} {
		w := httptest.NewRecorder()
		WriteSuccess(w, c.code, c.data)
		if w.Code != c.code || w.Body.String() != c.want {
			t.Errorf("WriteSuccess(%d, %v) = %d %s, want %s", c.code, c.data, w.Code, w.Body, c.want)
		}
	}
}

func TestWriteError(t *testing.T) {
	e := Unavailable("retry")
	e.RetryAfter = 2
	w := httptest.NewRecorder()
	WriteError(w, e)
	b, _ := e.MarshalJSON()
	if w.Code != 503 || w.Header().Get("Retry-After") != "2" || w.Body.String() != string(b) {
		t.Fatalf("%d %v %s", w.Code, w.Header(), w.Body)
	}
	w = httptest.NewRecorder()
	WriteError(w, New(StatusNotFound, "R", "m"))
	if w.Code != 404 || w.Header().Get("Retry-After") != "" {
		t.Fatalf("%d %v", w.Code, w.Header())
	}
}
