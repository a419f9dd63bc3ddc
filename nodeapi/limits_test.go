package nodeapi_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/internal/httpx"
	"github.com/walrus-go/walrus/nodeapi"
)

// serveLimited serves the fixture's server as a node does: an
// http.Server set up by ConfigureHTTPServer on a listener from
// LimitListener (l: a TCP listener on 127.0.0.1 if nil). It returns the
// address.
func serveLimited(t *testing.T, f *fixture, l net.Listener) string {
	t.Helper()
	if l == nil {
		var err error
		if l, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
	}
	srv := &http.Server{Handler: f.srv.Handler()}
	f.srv.ConfigureHTTPServer(srv)
	ll := f.srv.LimitListener(l)
	go func() { _ = srv.Serve(ll) }()
	t.Cleanup(func() { srv.Close() })
	return l.Addr().String()
}

// errorOf sends a request and returns the error answer's parse and its
// Retry-After (nil for a success).
func errorOf(t *testing.T, f *fixture, method, path string) *httpx.Error {
	t.Helper()
	req, err := http.NewRequest(method, f.http.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode < 400 {
		return nil
	}
	e := httpx.Parse(resp.StatusCode, b)
	fmt.Sscan(resp.Header.Get("Retry-After"), &e.RetryAfter)
	return e
}

// TestRateLimits: a client gets its burst of sliver reads, then 429
// RESOURCE_EXHAUSTED with Retry-After, which the client parses; another
// class (health) and another client are not affected.
func TestRateLimits(t *testing.T) {
	f := newFixture(t, nodeapi.Config{Limits: nodeapi.LimitsConfig{SliverReads: nodeapi.RouteLimit{Rate: 0.5, Burst: 3}}})
	x := encode(t, 5000, 1)
	pair, _ := f.pair(x.Metadata.ID, true)
	path := "/v1/blobs/" + x.Metadata.ID.String() + "/slivers/" + itoa(pair) + "/primary"
	for i := range 3 {
		if e := errorOf(t, f, "GET", path); e == nil || e.Reason != nodeapi.ReasonSliverNotFound {
			t.Fatalf("read %d of the burst: %v", i, e)
		}
	}
	e := errorOf(t, f, "GET", path)
	if e == nil || e.Code != http.StatusTooManyRequests || e.Status != httpx.StatusResourceExhausted ||
		e.Reason != nodeapi.ReasonRateLimited || e.Domain != nodeapi.DomainStorageNode || e.RetryAfter != 2 {
		t.Fatalf("beyond the burst: %+v", e)
	}
	f.rejected(http.StatusTooManyRequests, nodeapi.ReasonRateLimited, "GET", path, nil)
	_, err := f.client.Sliver(context.Background(), x.Metadata.ID, pair, blob.Primary)
	if !nodeapi.IsReason(err, nodeapi.ReasonRateLimited) || !errors.As(err, &e) || e.RetryAfter < 1 {
		t.Fatalf("the client's error: %v", err)
	}
	if _, err := f.client.Health(context.Background(), false); err != nil {
		t.Fatalf("health of a client over its sliver reads: %v", err)
	}
	// Another client address has its own bucket.
	rec := serveWithRemote(f, "GET", path, "192.0.2.99:1234")
	if rec != http.StatusNotFound {
		t.Fatalf("another client: %d", rec)
	}
	if v := limitMetric(t, f.reg, "walrus_node_http_limited_requests_total", "sliver_reads", "rate"); v < 3 {
		t.Fatalf("limited requests counted %v", v)
	}
}

// serveWithRemote runs one request through the handler as if from remote
// and returns the code.
func serveWithRemote(f *fixture, method, path, remote string) int {
	req, _ := http.NewRequest(method, path, nil)
	req.RemoteAddr = remote
	w := &codeRecorder{header: http.Header{}}
	f.srv.Handler().ServeHTTP(w, req)
	return w.code
}

type codeRecorder struct {
	header http.Header
	code   int
}

func (c *codeRecorder) Header() http.Header { return c.header }
func (c *codeRecorder) WriteHeader(code int) {
	if c.code == 0 {
		c.code = code
	}
}
func (c *codeRecorder) Write(b []byte) (int, error) {
	if c.code == 0 {
		c.code = 200
	}
	return len(b), nil
}

// metricValue is the value of a counter with the given label values.
func limitMetric(t *testing.T, reg *prometheus.Registry, name string, labels ...string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			for i, lp := range m.GetLabel() {
				if i >= len(labels) || lp.GetValue() != labels[i] {
					continue next
				}
			}
			if m.GetCounter() != nil {
				return m.GetCounter().GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	return 0
}

// TestRequestCaps: with every request slot held (by long-polling
// confirmations), other requests are refused at once with 503 and
// Retry-After, health still answers, and a class's own bound refuses
// beyond it while other classes go on.
func TestRequestCaps(t *testing.T) {
	f := newFixture(t, nodeapi.Config{Limits: nodeapi.LimitsConfig{MaxConcurrentRequests: 3,
		Confirmations: nodeapi.RouteLimit{MaxConcurrent: 2}}})
	x := encode(t, 5000, 2)
	id := x.Metadata.ID.String()
	wait := "/v1/blobs/" + id + "/confirmation/permanent?wait_for_registration=true&wait_millis=3000"
	var wg sync.WaitGroup
	defer wg.Wait()
	for range 2 {
		wg.Add(1)
		go func() { defer wg.Done(); f.raw("GET", wait, nil) }()
	}
	// The third confirmation is above its class's bound (asked without
	// waiting, it is refused at once either way); a status request still
	// has the last slot of the node.
	deadline := time.Now().Add(5 * time.Second)
	for {
		e := errorOf(t, f, "GET", "/v1/blobs/"+id+"/confirmation/permanent")
		if e != nil && e.Code == http.StatusServiceUnavailable {
			if e.Reason != httpx.ReasonUnavailable || e.RetryAfter != 1 {
				t.Fatalf("class bound: %+v", e)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no refusal above the confirmations' bound: %v", e)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if e := errorOf(t, f, "GET", "/v1/blobs/"+id+"/status"); e != nil {
		t.Fatalf("a status request under the node's bound: %v", e)
	}
	// Hold the node's last slot too, with an upload whose body is slow to
	// come: now every request but health is refused.
	c, err := net.Dial("tcp", f.http.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "PUT /v1/blobs/%s/metadata HTTP/1.1\r\nHost: x\r\nContent-Length: 600\r\n\r\nx", id)
	for {
		e := errorOf(t, f, "GET", "/v1/blobs/"+id+"/status")
		if e != nil && e.Code == http.StatusServiceUnavailable && e.RetryAfter == 1 {
			break
		}
		if time.Now().After(deadline) {
			c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
			got, _ := io.ReadAll(c)
			t.Fatalf("no refusal with every slot held: %v (the upload got %q)", e, got)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := f.client.Health(context.Background(), false); err != nil {
		t.Fatalf("health with every request slot held: %v", err)
	}
}

// TestSlowRequestsCut: a header sent a byte at a time is cut at
// ReadHeaderTimeout, a body below the minimum rate after its grace, and a
// body at a good rate is read whole.
func TestSlowRequestsCut(t *testing.T) {
	f := newFixture(t, nodeapi.Config{UploadWait: 100 * time.Millisecond, Limits: nodeapi.LimitsConfig{
		ReadHeaderTimeout: 500 * time.Millisecond, MinTransferRate: 2000, TransferGrace: 300 * time.Millisecond}})
	addr := serveLimited(t, f, nil)
	id := encode(t, 5000, 3).Metadata.ID.String()

	// closedWithin sends head, then tail a byte every step, and returns
	// how long the node took to close the connection and what it answered.
	closedWithin := func(head, tail string, step time.Duration) (time.Duration, string) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		start := time.Now()
		if _, err := io.WriteString(c, head); err != nil {
			t.Fatal(err)
		}
		go func() {
			for i := range len(tail) {
				time.Sleep(step)
				if _, err := io.WriteString(c, tail[i:i+1]); err != nil {
					return
				}
			}
		}()
		b, _ := io.ReadAll(c)
		return time.Since(start), string(b)
	}

	d, _ := closedWithin("", "GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n", 100*time.Millisecond)
	if d < 400*time.Millisecond || d > 1500*time.Millisecond {
		t.Errorf("a header a byte per 100ms was closed after %v, want about ReadHeaderTimeout (500ms)", d)
	}
	put := fmt.Sprintf("PUT /v1/blobs/%s/metadata HTTP/1.1\r\nHost: x\r\nContent-Length: 600\r\n\r\n", id)
	d, answer := closedWithin(put, strings.Repeat("x", 600), 100*time.Millisecond)
	if d > 2*time.Second || !strings.Contains(answer, "more slowly than the node's minimum rate") {
		t.Errorf("a body of 10 bytes/s (minimum 2000): closed after %v, answer %q", d, answer)
	}
	// 600 bytes at about 10 kB/s: read whole (and refused as metadata that
	// does not decode, which proves it was read).
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, put)
	for range 6 {
		time.Sleep(10 * time.Millisecond)
		io.WriteString(c, strings.Repeat("x", 100))
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	if e := httpx.Parse(resp.StatusCode, b); e.Reason != nodeapi.ReasonInvalidMetadata {
		t.Fatalf("a body at a good rate: %d %s", resp.StatusCode, b)
	}
}

// pipeListener accepts in-memory connections (net.Pipe), which buffer
// nothing: a client that does not read blocks the node's writes at once.
type pipeListener struct {
	conns  chan net.Conn
	closed chan struct{}
	once   sync.Once
}

func newPipeListener() *pipeListener {
	return &pipeListener{conns: make(chan net.Conn), closed: make(chan struct{})}
}

func (l *pipeListener) dial() net.Conn {
	client, server := net.Pipe()
	l.conns <- server
	return client
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error   { l.once.Do(func() { close(l.closed) }); return nil }
func (l *pipeListener) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)} }

// TestSlowReaderCut: a client that stops reading an answer has its
// connection closed after the grace, however large the answer; one that
// reads above the minimum rate gets all of it.
func TestSlowReaderCut(t *testing.T) {
	// A write of the 20 kB may take 1 s + 20 kB / 100 kB/s = 1.2 s.
	f := newFixture(t, nodeapi.Config{Limits: nodeapi.LimitsConfig{MinTransferRate: 100_000, TransferGrace: time.Second}})
	l := newPipeListener()
	serveLimited(t, f, l)
	const get = "GET /v1/api HTTP/1.1\r\nHost: x\r\n\r\n" // 20 kB of OpenAPI

	c := l.dial()
	defer c.Close()
	io.WriteString(c, get)
	time.Sleep(2500 * time.Millisecond) // not reading: the node's write waits on us
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err := io.Copy(io.Discard, c)
	if err != nil || n > 16<<10 {
		t.Fatalf("a client that stopped reading got %d bytes (err %v); want the connection closed early", n, err)
	}

	ok := l.dial()
	defer ok.Close()
	io.WriteString(ok, get)
	br := bufio.NewReader(&slowReader{r: ok, step: 10 * time.Millisecond, chunk: 4000})
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 || len(b) < 20000 {
		t.Fatalf("a client reading at 400 kB/s: %d, %d bytes, %v", resp.StatusCode, len(b), err)
	}
}

// slowReader reads at most chunk bytes per step.
type slowReader struct {
	r     io.Reader
	step  time.Duration
	chunk int
}

func (s *slowReader) Read(p []byte) (int, error) {
	time.Sleep(s.step)
	return s.r.Read(p[:min(len(p), s.chunk)])
}

// TestConnectionLimits: connections above the per-address bound or the
// node's bound are closed at once; at the node's bound a new connection
// takes the place of the longest idle one.
func TestConnectionLimits(t *testing.T) {
	f := newFixture(t, nodeapi.Config{Limits: nodeapi.LimitsConfig{MaxConnections: 3, MaxConnectionsPerIP: 2}})
	addr := serveLimited(t, f, nil)
	// dial connects from an address; a connection the node resets before
	// connect returns is nil.
	dial := func(from string) net.Conn {
		t.Helper()
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
		c, err := d.Dial("tcp", addr)
		if errors.Is(err, syscall.ECONNRESET) {
			return nil
		}
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	// served reports whether c answers a health request.
	served := func(c net.Conn) bool {
		c.SetDeadline(time.Now().Add(3 * time.Second))
		defer c.SetDeadline(time.Time{})
		if _, err := io.WriteString(c, "GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
			return false
		}
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			return false
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode == 200
	}
	// closed reports whether the node closed c (it reads EOF or a reset).
	closed := func(c net.Conn) bool {
		if c == nil {
			return true
		}
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		defer c.SetReadDeadline(time.Time{})
		_, err := c.Read(make([]byte, 1))
		var ne net.Error
		return err != nil && !(errors.As(err, &ne) && ne.Timeout())
	}
	a, b := dial("127.0.0.1"), dial("127.0.0.1")
	if a == nil || b == nil {
		t.Fatal("connections within the bounds reset")
	}
	if c := dial("127.0.0.1"); !closed(c) {
		t.Fatal("a third connection from one address was kept (max 2 per address)")
	}
	d := dial("127.0.0.2")
	if d == nil {
		t.Fatal("a connection within the bounds reset")
	}
	if e := dial("127.0.0.3"); !closed(e) {
		t.Fatal("a fourth connection was kept (max 3), none of the others idle")
	}
	if !served(a) {
		t.Fatal("an admitted connection not served")
	}
	// a answered and idles: a new connection takes its place (net/http
	// marks it idle just after its answer, hence the retries).
	var e net.Conn
	for deadline := time.Now().Add(3 * time.Second); ; {
		if e = dial("127.0.0.3"); !closed(e) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no room made by closing an idle connection")
		}
	}
	if !closed(a) {
		t.Fatal("the idle connection was not closed")
	}
	if !served(e) || !served(b) || !served(d) {
		t.Fatal("connections not served after the eviction")
	}
	if v := limitMetric(t, f.reg, "walrus_node_http_connections_evicted_total"); v != 1 {
		t.Errorf("evictions counted: %v", v)
	}
	if v := limitMetric(t, f.reg, "walrus_node_http_connections_refused_total", "max_connections_per_ip"); v != 1 {
		t.Errorf("per-address refusals counted: %v", v)
	}
	if v := limitMetric(t, f.reg, "walrus_node_http_connections"); v != 3 {
		t.Errorf("connections held: %v, want 3", v)
	}
}
