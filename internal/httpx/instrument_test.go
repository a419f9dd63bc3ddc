package httpx

import (
	"bufio"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// observation is one call of an Observer.
type observation struct {
	route   string
	code    int
	d       time.Duration
	in, out int64
}

// observed serves h, instrumented as route, over a real server (so that
// Flush and http.ResponseController meet net/http's writer) and returns
// the channel its observations arrive on.
func observed(t *testing.T, route string, h http.HandlerFunc) (*httptest.Server, <-chan observation) {
	t.Helper()
	ch := make(chan observation, 1)
	srv := httptest.NewServer(Instrument(route, h, func(r *http.Request, route string, code int, d time.Duration, in, out int64) {
		if r == nil {
			t.Error("no request")
		}
		ch <- observation{route, code, d, in, out}
	}))
	t.Cleanup(srv.Close)
	return srv, ch
}

func next(t *testing.T, ch <-chan observation) observation {
	t.Helper()
	select {
	case o := <-ch:
		return o
	case <-time.After(10 * time.Second):
		t.Fatal("the request was not observed")
		return observation{}
	}
}

func TestInstrumentRecords(t *testing.T) {
	for _, c := range []struct {
		name     string
		h        http.HandlerFunc
		body     string // request body
		code     int    // observed and received
		in, out  int64
		response string
	}{
		{"WriteHeader then Write", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, "gone")
		}, "", 404, 0, 4, "gone"},
		{"Write without WriteHeader", func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, "hello")
			_, _ = io.WriteString(w, ", world")
		}, "", 200, 0, 12, "hello, world"},
		{"nothing written", func(w http.ResponseWriter, r *http.Request) {}, "", 200, 0, 0, ""},
		{"WriteHeader only", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }, "", 204, 0, 0, ""},
		{"a second WriteHeader is ignored, as net/http does", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusCreated)
			w.WriteHeader(http.StatusInternalServerError)
		}, "", 201, 0, 0, ""},
		{"an informational code precedes the final one", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Link", "</a.css>; rel=preload")
			w.WriteHeader(http.StatusEarlyHints)
			w.WriteHeader(http.StatusAccepted)
			_, _ = io.WriteString(w, "ok")
		}, "", 202, 0, 2, "ok"},
		{"WriteError", func(w http.ResponseWriter, r *http.Request) {
			WriteError(w, New(StatusSizeExceeded, "BODY_TOO_LARGE", "m"))
		}, "", 403, 0, int64(len(mustMarshal(New(StatusSizeExceeded, "BODY_TOO_LARGE", "m")))), string(mustMarshal(New(StatusSizeExceeded, "BODY_TOO_LARGE", "m")))},
		{"the body bytes read are counted", func(w http.ResponseWriter, r *http.Request) {
			b := make([]byte, 5)
			_, _ = io.ReadFull(r.Body, b)
			_, _ = w.Write(b)
		}, "hello, world", 200, 5, 5, "hello"},
		{"all of the body", func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(w, r.Body)
		}, "hello, world", 200, 12, 12, "hello, world"},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv, ch := observed(t, "GET /route/{x}", c.h)
			var body io.Reader
			if c.body != "" {
				body = strings.NewReader(c.body)
			}
			req, _ := http.NewRequest(http.MethodPost, srv.URL+"/route/1", body)
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != c.code || string(b) != c.response {
				t.Fatalf("answer %d %q, want %d %q", resp.StatusCode, b, c.code, c.response)
			}
			o := next(t, ch)
			if o.route != "GET /route/{x}" || o.code != c.code || o.in != c.in || o.out != c.out || o.d < 0 {
				t.Fatalf("observed %+v, want code %d, %d bytes in, %d out", o, c.code, c.in, c.out)
			}
		})
	}
}

func mustMarshal(e *Error) []byte {
	b, err := e.MarshalJSON()
	if err != nil {
		panic(err)
	}
	return b
}

// TestInstrumentFlush: a Flush goes through to the client at once, before
// the handler returns, and sends the header (200 without WriteHeader).
func TestInstrumentFlush(t *testing.T) {
	for _, c := range []struct {
		name string
		code int // 0: no WriteHeader
	}{{"after WriteHeader", http.StatusPartialContent}, {"without WriteHeader", 0}} {
		t.Run(c.name, func(t *testing.T) {
			release := make(chan struct{})
			srv, ch := observed(t, "stream", func(w http.ResponseWriter, r *http.Request) {
				if c.code != 0 {
					w.WriteHeader(c.code)
				}
				w.(http.Flusher).Flush() // the header alone
				_, _ = io.WriteString(w, "first\n")
				w.(http.Flusher).Flush()
				select {
				case <-release:
				case <-time.After(10 * time.Second):
					t.Error("the client never read the flushed line")
				}
				_, _ = io.WriteString(w, "second\n")
			})
			resp, err := srv.Client().Get(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			want := c.code
			if want == 0 {
				want = http.StatusOK
			}
			rd := bufio.NewReader(resp.Body)
			line, err := rd.ReadString('\n') // arrives only if the flush went through
			if resp.StatusCode != want || line != "first\n" || err != nil {
				t.Fatalf("%d %q %v", resp.StatusCode, line, err)
			}
			close(release)
			if rest, _ := io.ReadAll(rd); string(rest) != "second\n" {
				t.Fatalf("rest %q", rest)
			}
			if o := next(t, ch); o.code != want || o.out != int64(len("first\nsecond\n")) {
				t.Fatalf("observed %+v", o)
			}
		})
	}
}

// TestInstrumentUnwrap: http.ResponseController reaches the server's
// writer through the recorder (deadlines, full duplex), and the counts
// still see what is written.
func TestInstrumentUnwrap(t *testing.T) {
	srv, ch := observed(t, "rc", func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		if err := rc.SetWriteDeadline(time.Now().Add(time.Minute)); err != nil {
			t.Errorf("SetWriteDeadline: %v", err)
		}
		if err := rc.EnableFullDuplex(); err != nil {
			t.Errorf("EnableFullDuplex: %v", err)
		}
		w.WriteHeader(http.StatusAccepted)
		if err := rc.Flush(); err != nil {
			t.Errorf("Flush: %v", err)
		}
		_, _ = io.WriteString(w, "abc")
	})
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if o := next(t, ch); resp.StatusCode != 202 || o.code != 202 || o.out != 3 {
		t.Fatalf("%d, observed %+v", resp.StatusCode, o)
	}
}

// TestInstrumentKeepsRequest: the handler reads the body through a
// counter on a copy of the request; the caller's request is left as it
// was, and a request without a body is served as it is.
func TestInstrumentKeepsRequest(t *testing.T) {
	var seen *http.Request
	var got observation
	h := Instrument("r", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = r
		_, _ = io.Copy(io.Discard, r.Body)
	}), func(_ *http.Request, route string, code int, d time.Duration, in, out int64) {
		got = observation{route, code, d, in, out}
	})
	body := io.NopCloser(strings.NewReader("12345678"))
	req := httptest.NewRequest(http.MethodPut, "/x", nil)
	req.Body = body
	h.ServeHTTP(httptest.NewRecorder(), req)
	if req.Body != body || seen == req || seen.URL != req.URL || got.in != 8 {
		t.Fatalf("request modified or not counted: %v %v", req.Body == body, got)
	}

	req = httptest.NewRequest(http.MethodGet, "/x", nil) // Body: http.NoBody
	h.ServeHTTP(httptest.NewRecorder(), req)
	if seen != req || got.in != 0 || got.code != 200 {
		t.Fatalf("a request without a body: copied %v, %+v", seen != req, got)
	}
}
