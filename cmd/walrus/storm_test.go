package main_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
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
	"github.com/walrus-go/walrus/nodeapi"
)

// The GET storm's shape: stormClients clients read for stormFor, each GET
// decoding its blob from the nodes (the aggregator runs without a cache).
const (
	stormClients = 50
	stormFor     = 15 * time.Second
	// stormRSSBudget bounds the aggregator's peak RSS: 256 reads at once
	// (its default concurrency) of blobs of at most 1 MiB, each holding its
	// slivers and the decoded blob, plus the process's base.
	stormRSSBudget = 640 << 20
)

// TestGatewayGETStorm: 50 clients GET blobs from a standalone aggregator
// process (no cache, so every GET reads slivers from the nodes of a
// --processes devnet) for 15 s. Meanwhile the aggregator's /status and a
// storage node's /v1/health still answer within a second, every GET that
// is answered 200 carries the right bytes (SHA-256), the only refusals are
// 429s, and the aggregator's RSS stays within its budget. The figures
// (probe latencies, GETs per second, RSS before, peak and after) are
// logged.
func TestGatewayGETStorm(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binaries and runs processes")
	}
	walrus, _ := buildBinaries(t)
	dir := filepath.Join(t.TempDir(), "devnet")
	cfg := filepath.Join(dir, "client_config.yaml")
	dn := start(t, walrus, "devnet", "--dir", dir, "--processes", "--shards", "10", "--epoch-duration", "1h", "--daemon-address", "off")
	waitFile(t, cfg, 90*time.Second, dn)
	aggAddr := freeAddr(t)
	agg := start(t, walrus, "--config", cfg, "aggregator", "--bind-address", aggAddr, "--metrics-address", "off", "--cache-size", "0", "--log-level", "warn")
	base := "http://" + aggAddr
	waitHTTP(t, base+"/status", 30*time.Second, agg)

	// Blobs of 64 KiB and 1 MiB, stored by the CLI.
	files := t.TempDir()
	var paths []string
	want := map[blob.ID][32]byte{}
	for i, size := range []int{64 << 10, 1 << 20} {
		data := make([]byte, size)
		_, _ = rand.Read(data)
		p := filepath.Join(files, fmt.Sprintf("b%d", i))
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	var stored []client.BlobStoreResultWithPath
	walrusJSON(t, walrus, &stored, append([]string{"--config", cfg, "store", "--epochs", "5"}, paths...)...)
	var blobs []blob.ID
	for i, r := range stored {
		data, _ := os.ReadFile(paths[i])
		id := *r.BlobStoreResult.BlobID()
		want[id] = sha256.Sum256(data)
		blobs = append(blobs, id)
	}

	com := currentCommittee(t, cfg)
	pins := nodetls.NewPins()
	pins.Committees(com)
	params, _ := blob.NewParams(10)
	nodeAddr := com.Member(0).NetworkAddress
	nc, err := nodeapi.NewClient(nodeAddr, nodeapi.ClientConfig{Params: params, HTTP: &http.Client{Transport: pins.Transport(nil)}})
	if err != nil {
		t.Fatal(err)
	}
	probeClient := &http.Client{Timeout: 5 * time.Second}
	probes := map[string]func(context.Context) error{
		"aggregator /status": func(ctx context.Context) error {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/status", nil)
			resp, err := probeClient.Do(req)
			if err != nil {
				return err
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("status %d", resp.StatusCode)
			}
			return nil
		},
		"node /v1/health": func(ctx context.Context) error {
			_, err := nc.Health(ctx, false)
			return err
		},
	}
	pid := agg.cmd.Process.Pid
	idle := probe(t, probes, 3*time.Second, nil)
	rssBefore := rssOf(t, pid, "VmRSS")

	var gets, got, refused, wrong atomic.Int64
	var failures sync.Map
	ctx, cancel := context.WithTimeout(context.Background(), stormFor)
	defer cancel()
	storm := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: stormClients, DisableCompression: true}}
	var wg sync.WaitGroup
	started := time.Now()
	for c := range stormClients {
		wg.Go(func() {
			for i := c; ctx.Err() == nil; i++ {
				id := blobs[i%len(blobs)]
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/v1/blobs/"+id.String(), nil)
				resp, err := storm.Do(req)
				if err != nil {
					if ctx.Err() == nil {
						failures.Store(err.Error(), true)
					}
					continue
				}
				h := sha256.New()
				n, err := io.Copy(h, resp.Body)
				resp.Body.Close()
				switch {
				case resp.StatusCode == http.StatusTooManyRequests:
					refused.Add(1)
				case resp.StatusCode != http.StatusOK:
					failures.Store(fmt.Sprintf("status %d", resp.StatusCode), true)
				case err != nil:
					if ctx.Err() == nil {
						failures.Store(err.Error(), true)
					}
				case [32]byte(h.Sum(nil)) != want[id]:
					wrong.Add(1)
				default:
					gets.Add(1)
					got.Add(n)
				}
			}
		})
	}
	var peak atomic.Int64
	during := probe(t, probes, stormFor-time.Second, func() {
		if v := rssOf(t, pid, "VmRSS"); v > peak.Load() {
			peak.Store(v)
		}
	})
	wg.Wait()
	took := time.Since(started)
	storm.CloseIdleConnections()
	time.Sleep(2 * time.Second)
	rssAfter, hwm := rssOf(t, pid, "VmRSS"), rssOf(t, pid, "VmHWM")

	failures.Range(func(k, _ any) bool {
		t.Errorf("a storm GET failed: %v", k)
		return true
	})
	if wrong.Load() > 0 {
		t.Errorf("%d GETs answered 200 with the wrong bytes", wrong.Load())
	}
	if gets.Load() == 0 {
		t.Error("no GET succeeded during the storm")
	}
	for name, lat := range during {
		if p99 := percentile(lat, 99); p99 > time.Second {
			t.Errorf("%s p99 %v during the storm, want ≤ 1s", name, p99)
		}
	}
	if hwm > stormRSSBudget {
		t.Errorf("the aggregator's peak RSS %d MiB is over its %d MiB budget", hwm>>20, stormRSSBudget>>20)
	}
	t.Logf("storm: %d clients, %v: %d GETs (%.0f/s, %.1f MB/s), %d refused with 429", stormClients, took.Round(time.Millisecond),
		gets.Load(), float64(gets.Load())/took.Seconds(), float64(got.Load())/took.Seconds()/1e6, refused.Load())
	for _, name := range slices.Sorted(maps.Keys(probes)) {
		t.Logf("%s: idle p50 %v p99 %v; storm p50 %v p99 %v max %v (%d probes)", name,
			percentile(idle[name], 50), percentile(idle[name], 99), percentile(during[name], 50), percentile(during[name], 99),
			percentile(during[name], 100), len(during[name]))
	}
	t.Logf("aggregator RSS: before %d MiB, peak sampled %d MiB (VmHWM %d MiB), after %d MiB (budget %d MiB)",
		rssBefore>>20, peak.Load()>>20, hwm>>20, rssAfter>>20, stormRSSBudget>>20)
}

// waitHTTP waits until url answers 200.
func waitHTTP(t *testing.T, url string, d time.Duration, p *proc) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-p.done:
			t.Fatalf("%s exited:\n%s", p.cmd.Path, p.out)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not answer within %v: %v\n%s", url, d, err, p.out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// probe calls every probe each 100 ms for d, and each (and sample, when
// given) once per round, and returns the latencies by probe name. A
// failing probe fails the test.
func probe(t *testing.T, probes map[string]func(context.Context) error, d time.Duration, sample func()) map[string][]time.Duration {
	t.Helper()
	lat := map[string][]time.Duration{}
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		for name, p := range probes {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			s := time.Now()
			err := p(ctx)
			cancel()
			if err != nil {
				t.Errorf("%s: %v", name, err)
				continue
			}
			lat[name] = append(lat[name], time.Since(s))
		}
		if sample != nil {
			sample()
		}
		time.Sleep(100 * time.Millisecond)
	}
	return lat
}

// percentile is the p-th percentile of ds (p = 100: the largest).
func percentile(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := (len(s)*p + 99) / 100
	return s[max(0, min(len(s)-1, i-1))]
}

// rssOf reads a memory figure of /proc/PID/status (VmRSS, VmHWM) in bytes.
func rssOf(t *testing.T, pid int, field string) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}
