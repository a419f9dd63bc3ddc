package gateway

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/walrus-go/walrus/internal/httpx"
)

// TestGuardBody: guardBody's deadlines on a real connection. A body that
// sends nothing is 408 before the handler (the admission) runs; one that
// trickles is 408 once it falls behind the rate; a fast body is read
// whole even when the handler waits first (time spent waiting for a slot
// is not held against it); and once the body has ended, its deadline no
// longer applies: a handler that works past it still answers, its
// request's context alive.
func TestGuardBody(t *testing.T) {
	s := &Server{cfg: Config{BodyIdleTimeout: 300 * time.Millisecond, MinBodyRate: 1000, BodyRateGrace: 300 * time.Millisecond},
		log: slog.New(slog.DiscardHandler)}
	admitted := make(chan string, 10)
	h := s.guardBody(1<<20, func(w http.ResponseWriter, r *http.Request) error {
		admitted <- r.URL.Path
		if r.URL.Path == "/wait" {
			time.Sleep(600 * time.Millisecond) // longer than the grace, as a wait for a slot
		}
		b, err := io.ReadAll(r.Body)
		if err != nil {
			var e *apiError
			if errors.As(err, &e) {
				return e
			}
			return err
		}
		if r.URL.Path == "/work" {
			time.Sleep(700 * time.Millisecond) // past every deadline of the body
			if r.Context().Err() != nil {
				return fmt.Errorf("the request's context ended: %v", r.Context().Err())
			}
		}
		_, _ = fmt.Fprintf(w, "%d", len(b))
		return nil
	})
	srv := httptest.NewServer(httpx.Serve(h, s.fail))
	defer srv.Close()
	addr := srv.Listener.Addr().String()

	// send writes a request with a Content-Length of n, then the body as
	// chunks, pausing before each, and returns the answer's code and body.
	send := func(path string, n int, pause time.Duration, chunks ...string) (int, string, time.Duration) {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		start := time.Now()
		fmt.Fprintf(conn, "PUT %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", path, n)
		go func() {
			for _, c := range chunks {
				time.Sleep(pause)
				if _, err := conn.Write([]byte(c)); err != nil {
					return
				}
			}
		}()
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode, string(b), time.Since(start)
	}
	drain := func() []string {
		var got []string
		for {
			select {
			case p := <-admitted:
				got = append(got, p)
			default:
				return got
			}
		}
	}

	code, body, took := send("/silent", 10, 0)
	if code != http.StatusRequestTimeout || !strings.Contains(body, ReasonBodyTooSlow) || len(drain()) != 0 {
		t.Fatalf("a body that sends nothing: %d %s after %v", code, body, took)
	}
	if !strings.Contains(body, `"status":"DEADLINE_EXCEEDED"`) || !strings.Contains(body, `"code":408`) {
		t.Fatalf("408 body: %s", body)
	}

	trickle := make([]string, 40)
	for i := range trickle {
		trickle[i] = "x"
	}
	code, body, took = send("/trickle", 1000, 100*time.Millisecond, trickle...)
	if code != http.StatusRequestTimeout || took > 2*time.Second {
		t.Fatalf("a trickle: %d %s after %v", code, body, took)
	}
	t.Logf("a body of 10 B/s against a minimum of 1000 B/s after 300ms: 408 after %v", took.Round(time.Millisecond))

	big := strings.Repeat("y", 5000)
	for _, path := range []string{"/fast", "/wait", "/work"} {
		drain()
		code, body, took = send(path, len(big)+1, 0, "z", big)
		if code != http.StatusOK || body != fmt.Sprint(len(big)+1) {
			t.Fatalf("%s: %d %s after %v", path, code, body, took)
		}
	}
}
