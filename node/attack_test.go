package node_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/client"
	"github.com/walrus-go/walrus/internal/nodetls"
	"github.com/walrus-go/walrus/internal/sdkinternal"
	"github.com/walrus-go/walrus/internal/testnet"
	"github.com/walrus-go/walrus/node"
)

// The attacked node's memory knobs: small, so that its budget means
// something in a test process that also runs three more nodes and the
// chain. Every other limit keeps its default.
const (
	attackUploadBytes = 64 << 20
	attackPending     = 16 << 20
	attackMaxConns    = 2048
	attackHeaderBytes = 16 << 10 // the default max_header_bytes
	// attackPerConn is what a connection may hold beyond its header: the
	// goroutine's stack, net/http's and crypto/tls's buffers.
	attackPerConn = 64 << 10
)

// attackBudget is the attacked node's memory budget: upload bodies and
// the pending cache twice over (Go's collector lets the heap grow to
// twice the live data), and every connection it may hold.
const attackBudget = 2*(attackUploadBytes+attackPending) + attackMaxConns*(attackHeaderBytes+attackPerConn)

// TestNodeUnderAttack: a node keeps answering /v1/health and a sliver GET
// within a second, and stays within its memory budget, under 500
// connections that send one byte a second (plain TCP that never finishes
// the TLS handshake, TLS connections trickling a request header, TLS
// connections trickling a sliver upload's body) and then under 1,000
// concurrent uploads of a registered blob's real sliver (verified in full
// by the node, the most expensive upload there is). The slow connections
// are closed by the node at its deadlines: ReadHeaderTimeout (10 s) for
// the handshake and the header, the transfer grace (10 s) for a body at
// 1 byte/s, after UploadWait (10 s) at most for an upload slot.
func TestNodeUnderAttack(t *testing.T) {
	if testing.Short() {
		t.Skip("a minute of attack on a test network")
	}
	net := testnet.Start(t, testnet.Config{NodeConfig: func(i int, c *node.Config) {
		if i == 0 {
			c.API.MaxUploadBytesInFlight, c.API.MaxBatchBytes, c.API.Pending.MaxBytes = attackUploadBytes, attackUploadBytes, attackPending
			c.API.Limits.MaxConnections = attackMaxConns
		}
	}})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	addr := net.Address(0)
	res, err := net.Client.Store(ctx, randomBytes(1_800_000, 77), client.StoreOptions{Epochs: 2})
	if err != nil {
		t.Fatal(err)
	}
	id := res.BlobID
	pair := -1
	for p := range net.Node(0).Params().N() {
		if slices.Contains(net.Node(0).OwnedShards(), uint16(net.Node(0).Params().ShardOfPair(id, p))) {
			pair = p
			break
		}
	}
	if pair < 0 {
		t.Fatal("node 0 owns no shard")
	}

	pins := nodetls.NewPins()
	cur, _, err := sdkinternal.Committees(ctx, net.Client)
	if err != nil {
		t.Fatal(err)
	}
	pins.Committees(cur)
	key := pins.Key(addr)
	legit := &http.Client{Transport: pins.Transport(nil), Timeout: 10 * time.Second}
	sliverPath := func(t blob.SliverType) string {
		return fmt.Sprintf("https://%s/v1/blobs/%s/slivers/%d/%s", addr, id, pair, t)
	}
	var sliver []byte // the BCS sliver the uploads send
	eventually(t, 30*time.Second, "node 0 holding its sliver", func() error {
		resp, err := legit.Get(sliverPath(blob.Primary))
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		sliver, err = io.ReadAll(resp.Body)
		if err == nil && resp.StatusCode != 200 {
			err = fmt.Errorf("%d %s", resp.StatusCode, sliver)
		}
		return err
	})
	t.Logf("blob %s: node 0 pair %d, primary sliver %d bytes", id, pair, len(sliver))

	mem := startMemSampler()
	defer mem.stop()
	t.Logf("before: VmRSS %d MiB, heap in use %d MiB", mem.base>>20, mem.baseHeap>>20)

	// Phase 1: 500 connections, each sending one byte a second.
	probe := startProber(legit, addr, sliverPath(blob.Secondary))
	slow := startSlowConns(t, addr, key, id, pair, len(sliver))
	slow.wait(t, 25*time.Second)
	p1 := probe.stop()
	slow.stop()
	t.Logf("slow connections: %s", slow.report())
	p1.report(t, "during 500 slow connections")
	// The deadlines: read_header_timeout (10 s) for the handshake and for
	// the header; transfer_grace (10 s) for a body at 1 byte/s once read,
	// after up to upload_wait (10 s) for one of the 128 upload slots: of
	// the 200 slow bodies, 72 wait for a slot that the first 128 free when
	// they are cut.
	for kind, limit := range map[string]time.Duration{"tcp-handshake": 10 * time.Second, "tls-header": 10 * time.Second, "tls-body": 20 * time.Second} {
		if got := slow.maxClosed(kind); got > limit+3*time.Second || got == 0 {
			t.Errorf("%s: the node closed the last connection after %v; its deadline is %v", kind, got, limit)
		}
		if n := slow.open(kind); n > 0 {
			t.Errorf("%s: %d connections still open", kind, n)
		}
	}

	// Phase 2: 1,000 concurrent uploads, 250 from each of four addresses
	// (within max_connections_per_ip, so that the node's own bounds are
	// what is tested, not only the per-address one).
	// The uploaders run in a process of their own, as an attacker would:
	// in this one, their thousand busy goroutines would compete with the
	// node's in the same scheduler, which no remote attacker can do.
	probe = startProber(legit, addr, sliverPath(blob.Secondary))
	codes := floodFromSubprocess(ctx, t, floodParams{Address: addr, Key: key, URL: sliverPath(blob.Primary), Sliver: sliver,
		Workers: 1000, From: 4, Duration: 12 * time.Second})
	p2 := probe.stop()
	t.Logf("uploads: %s", codes)
	p2.report(t, "during 1,000 concurrent uploads")

	peak, peakHeap := mem.stop()
	runtime.GC()
	after := vmRSS()
	t.Logf("memory: VmRSS before %d MiB, peak %d MiB (+%d MiB), after %d MiB; peak heap in use %d MiB; budget %d MiB",
		mem.base>>20, peak>>20, (peak-mem.base)>>20, after>>20, peakHeap>>20, attackBudget>>20)
	if peak-mem.base > attackBudget {
		t.Errorf("the process grew by %d MiB under attack, above the node's budget of %d MiB", (peak-mem.base)>>20, attackBudget>>20)
	}
	for _, p := range []*probeResult{p1, p2} {
		for _, d := range [][]time.Duration{p.health, p.sliver} {
			if len(d) == 0 || slices.Max(d) >= time.Second {
				t.Errorf("a probe took a second or more (or none ran): %s", p.summary())
			}
		}
		if p.errs > 0 {
			t.Errorf("%d probes failed, first: %v", p.errs, p.firstErr)
		}
	}
	// Once the attack ends, the node takes uploads again.
	if _, err := net.Client.Store(ctx, randomBytes(20_000, 78), client.StoreOptions{Epochs: 2}); err != nil {
		t.Fatalf("a store after the attack: %v", err)
	}
}

// vmRSS is the process's resident set (VmRSS of /proc/self/status).
func vmRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// memSampler records the peak VmRSS (every 50 ms) and heap in use (every
// 500 ms: ReadMemStats stops the world).
type memSampler struct {
	base, baseHeap int64
	peak, heap     atomic.Int64
	done           chan struct{}
	once           sync.Once
	wg             sync.WaitGroup
}

func startMemSampler() *memSampler {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m := &memSampler{base: vmRSS(), baseHeap: int64(ms.HeapInuse), done: make(chan struct{})}
	m.peak.Store(m.base)
	m.heap.Store(m.baseHeap)
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-m.done:
				return
			case <-tick.C:
			}
			if r := vmRSS(); r > m.peak.Load() {
				m.peak.Store(r)
			}
			if i%10 == 0 {
				runtime.ReadMemStats(&ms)
				if h := int64(ms.HeapInuse); h > m.heap.Load() {
					m.heap.Store(h)
				}
			}
		}
	}()
	return m
}

func (m *memSampler) stop() (peak, heap int64) {
	m.once.Do(func() { close(m.done) })
	m.wg.Wait()
	return m.peak.Load(), m.heap.Load()
}

// prober asks the node for its health and a sliver, one after the other,
// every 50 ms, as a legitimate client on a connection of its own.
type prober struct {
	done chan struct{}
	res  chan *probeResult
}

type probeResult struct {
	health, sliver []time.Duration
	errs           int
	firstErr       error
}

func startProber(c *http.Client, addr, sliverURL string) *prober {
	p := &prober{done: make(chan struct{}), res: make(chan *probeResult, 1)}
	get := func(url string) (time.Duration, error) {
		start := time.Now()
		resp, err := c.Get(url)
		if err != nil {
			return 0, err
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err == nil && resp.StatusCode != 200 {
			err = fmt.Errorf("GET %s: %d", url, resp.StatusCode)
		}
		return time.Since(start), err
	}
	go func() {
		r := &probeResult{}
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-p.done:
				p.res <- r
				return
			case <-tick.C:
			}
			for _, q := range []struct {
				url string
				to  *[]time.Duration
			}{{"https://" + addr + "/v1/health", &r.health}, {sliverURL, &r.sliver}} {
				d, err := get(q.url)
				if err != nil {
					if r.errs++; r.firstErr == nil {
						r.firstErr = err
					}
					continue
				}
				*q.to = append(*q.to, d)
			}
		}
	}()
	return p
}

func (p *prober) stop() *probeResult {
	close(p.done)
	return <-p.res
}

// quantiles returns p50, p99 and max.
func quantiles(d []time.Duration) (p50, p99, mx time.Duration) {
	if len(d) == 0 {
		return 0, 0, 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2], s[min(len(s)-1, len(s)*99/100)], s[len(s)-1]
}

func (r *probeResult) summary() string {
	var b strings.Builder
	for _, x := range []struct {
		name string
		d    []time.Duration
	}{{"health", r.health}, {"sliver GET", r.sliver}} {
		p50, p99, mx := quantiles(x.d)
		fmt.Fprintf(&b, "%s n=%d p50 %v p99 %v max %v; ", x.name, len(x.d), p50.Round(100*time.Microsecond),
			p99.Round(100*time.Microsecond), mx.Round(100*time.Microsecond))
	}
	fmt.Fprintf(&b, "%d failed", r.errs)
	return b.String()
}

func (r *probeResult) report(t *testing.T, when string) { t.Logf("probes %s: %s", when, r.summary()) }

// slowConn is one connection of the slow attack: how long the node
// took to close it, from the moment the node had it (after the TLS
// handshake, for the TLS kinds).
type slowConn struct {
	kind   string
	conn   net.Conn
	tail   []byte // what is left to send, a byte a second
	start  time.Time
	closed atomic.Int64 // ns from start to the close; 0 while open
}

type slowAttack struct {
	conns []*slowConn
	done  chan struct{}
	wg    sync.WaitGroup
}

// startSlowConns opens the 500 slow connections from five loopback
// addresses (100 each, within max_connections_per_ip): 150 plain TCP
// sending a TLS record header and then a byte a second (the handshake
// never completes), 150 TLS sending a request header a byte a second,
// and 200 TLS sending a sliver PUT's header whole and its body a byte a
// second.
func startSlowConns(t *testing.T, addr string, key []byte, id blob.ID, pair, size int) *slowAttack {
	a := &slowAttack{done: make(chan struct{})}
	header := fmt.Sprintf("PUT /v1/blobs/%s/slivers/%d/primary HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n\r\n", id, pair, addr, size)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range 500 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 1, byte(1+i%5))}, Timeout: 10 * time.Second}
			var c *slowConn
			switch {
			case i < 150:
				conn, err := d.Dial("tcp", addr)
				if err != nil {
					t.Errorf("dial: %v", err)
					return
				}
				c = &slowConn{kind: "tcp-handshake", conn: conn, tail: bytes.Repeat([]byte{0x42}, 60)}
				_, _ = conn.Write([]byte{0x16, 0x03, 0x01, 0x02, 0x00}) // a handshake record of 512 bytes, which never come
			default:
				conn, err := tls.DialWithDialer(d, "tcp", addr, nodetls.ClientConfig(key, "", nil))
				if err != nil {
					t.Errorf("TLS dial: %v", err)
					return
				}
				c = &slowConn{kind: "tls-header", conn: conn, tail: []byte(header)}
				if i >= 300 {
					c.kind, c.tail = "tls-body", make([]byte, 60)
					_, _ = io.WriteString(conn, header)
				}
			}
			c.start = time.Now()
			mu.Lock()
			a.conns = append(a.conns, c)
			mu.Unlock()
			a.wg.Add(1)
			go func() {
				defer a.wg.Done()
				_, _ = io.Copy(io.Discard, c.conn) // until the node closes it
				c.closed.Store(int64(time.Since(c.start)))
			}()
		}()
	}
	wg.Wait()
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-a.done:
				return
			case <-tick.C:
			}
			for _, c := range a.conns {
				if c.closed.Load() == 0 && len(c.tail) > 0 {
					_ = c.conn.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
					_, _ = c.conn.Write(c.tail[:1])
					c.tail = c.tail[1:]
				}
			}
		}
	}()
	return a
}

// wait waits until the node closed every connection, or timeout.
func (a *slowAttack) wait(t *testing.T, timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if a.open("") == 0 {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Errorf("%d slow connections still open after %v", a.open(""), timeout)
}

func (a *slowAttack) stop() {
	close(a.done)
	for _, c := range a.conns {
		c.conn.Close()
	}
	a.wg.Wait()
}

// open counts the connections of a kind ("": all) the node has not closed.
func (a *slowAttack) open(kind string) int {
	n := 0
	for _, c := range a.conns {
		if (kind == "" || c.kind == kind) && c.closed.Load() == 0 {
			n++
		}
	}
	return n
}

func (a *slowAttack) closedAfter(kind string) []time.Duration {
	var d []time.Duration
	for _, c := range a.conns {
		if c.kind == kind {
			if v := c.closed.Load(); v > 0 {
				d = append(d, time.Duration(v))
			}
		}
	}
	return d
}

func (a *slowAttack) maxClosed(kind string) time.Duration {
	d := a.closedAfter(kind)
	if len(d) == 0 {
		return 0
	}
	return slices.Max(d)
}

func (a *slowAttack) report() string {
	var b strings.Builder
	for _, kind := range []string{"tcp-handshake", "tls-header", "tls-body"} {
		d := a.closedAfter(kind)
		p50, _, mx := quantiles(d)
		fmt.Fprintf(&b, "%s: %d closed by the node, after p50 %v max %v; ", kind, len(d), p50.Round(10*time.Millisecond), mx.Round(10*time.Millisecond))
	}
	return b.String()
}

// floodParams say what a flood of uploads does: Workers uploaders spread
// over From loopback addresses, each PUTting Sliver to URL (a node at
// Address with the TLS key Key) again and again for Duration.
type floodParams struct {
	Address  string
	Key      []byte
	URL      string
	Sliver   []byte
	Workers  int
	From     int
	Duration time.Duration
}

const floodEnv = "WALRUS_TEST_FLOOD_UPLOADS"

// floodFromSubprocess runs the flood in a subprocess (this test binary,
// running TestFloodUploadsHelper) and returns its answers by code.
func floodFromSubprocess(ctx context.Context, t *testing.T, p floodParams) string {
	t.Helper()
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "flood.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestFloodUploadsHelper$", "-test.v")
	cmd.Env = append(os.Environ(), floodEnv+"="+path)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the flood's process: %v\n%s", err, out)
	}
	for _, l := range strings.Split(string(out), "\n") {
		if r, ok := strings.CutPrefix(l, "FLOOD "); ok {
			return r
		}
	}
	t.Fatalf("the flood's process said nothing of its uploads:\n%s", out)
	return ""
}

// TestFloodUploadsHelper is the process of floodFromSubprocess; run
// otherwise, it does nothing.
func TestFloodUploadsHelper(t *testing.T) {
	path := os.Getenv(floodEnv)
	if path == "" {
		t.Skip("the flood of TestNodeUnderAttack, run in a process of its own")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var p floodParams
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	fmt.Println("FLOOD " + floodUploads(context.Background(), p))
}

// floodUploads runs the flood of p and returns the answers counted by
// code.
func floodUploads(ctx context.Context, p floodParams) string {
	addr, key, url, sliver, n, from, d := p.Address, p.Key, p.URL, p.Sliver, p.Workers, p.From, p.Duration
	_ = addr
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var mu sync.Mutex
	codes := map[string]int{}
	var errSamples []string
	var wg sync.WaitGroup
	var transports []*http.Transport
	for s := range from {
		src := &net.TCPAddr{IP: net.IPv4(127, 0, 2, byte(1+s))}
		tr := &http.Transport{MaxIdleConnsPerHost: n / from, DialTLSContext: func(ctx context.Context, network, a string) (net.Conn, error) {
			td := &tls.Dialer{NetDialer: &net.Dialer{LocalAddr: src, Timeout: 10 * time.Second}, Config: nodetls.ClientConfig(key, "", nil)}
			return td.DialContext(ctx, network, a)
		}}
		transports = append(transports, tr)
		c := &http.Client{Transport: tr, Timeout: 30 * time.Second}
		for range n / from {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for ctx.Err() == nil {
					req, _ := http.NewRequestWithContext(ctx, "PUT", url, bytes.NewReader(sliver))
					resp, err := c.Do(req)
					k := "error"
					switch {
					case err != nil && strings.Contains(err.Error(), "connection reset"):
						// Above max_connections_per_ip while the
						// transport replaces connections.
						k = "reset at connect"
					case err != nil && ctx.Err() == nil:
						mu.Lock()
						if len(errSamples) < 2 {
							errSamples = append(errSamples, err.Error())
						}
						mu.Unlock()
					}
					if err == nil {
						_, _ = io.Copy(io.Discard, bufio.NewReader(resp.Body))
						resp.Body.Close()
						k = strconv.Itoa(resp.StatusCode)
					} else if ctx.Err() != nil {
						return
					}
					mu.Lock()
					codes[k]++
					mu.Unlock()
				}
			}()
		}
	}
	wg.Wait()
	for _, tr := range transports {
		tr.CloseIdleConnections()
	}
	keys := make([]string, 0, len(codes))
	for k := range codes {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	total := 0
	for _, k := range keys {
		fmt.Fprintf(&b, "%s: %d, ", k, codes[k])
		total += codes[k]
	}
	fmt.Fprintf(&b, "%d answers in %v", total, d)
	if len(errSamples) > 0 {
		fmt.Fprintf(&b, " (errors such as %q)", errSamples)
	}
	return b.String()
}
