package main_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/client"
	"github.com/walrus-go/walrus/internal/nodetls"
	"github.com/walrus-go/walrus/nodeapi"
)

// The soak's flags. TestSoak is skipped unless -soak is positive.
var (
	soakFor          = flag.Duration("soak", 0, "run TestSoak, the churn soak, for this long (0: skip it)")
	soakNodes        = flag.Int("soak-nodes", 7, "storage nodes of TestSoak's devnet")
	soakShards       = flag.Int("soak-shards", 700, "shards of TestSoak's devnet")
	soakHeal         = flag.Duration("soak-heal", 4*time.Minute, "longest a restarted node may take to hold every sliver of its shards")
	soakChainRestart = flag.Bool("soak-chain-restart", true, "restart the devnet (and so its validator) once, halfway through the soak")
	soakKeep         = flag.Bool("soak-keep", false, "keep TestSoak's devnet directory (logs, data) instead of a t.TempDir()")
	soakSeed         = flag.Uint64("soak-seed", 0, "seed of TestSoak's choices (0: from the clock)")
)

// Limits of one soak operation and of the blobs it stores.
const (
	soakOpTimeout = 4 * time.Minute
	soakMinSize   = 1 << 10
	soakMaxSize   = 8 << 20
)

// soakBlob is a blob the network acknowledged: its store returned a blob ID
// that is certified (newly created or already certified).
type soakBlob struct {
	id   blob.ID
	sum  [sha256.Size]byte
	size int
	via  string
}

// opStats counts one kind of operation and groups its failures by error.
type opStats struct {
	attempted, succeeded, failed int
	errors                       map[string]int
}

// heal is one node's return: how it went down and how long it took,
// from its restart, to hold every sliver of its shards of every blob
// acknowledged before that restart.
type heal struct {
	node   int
	wiped  bool
	down   time.Duration
	blobs  int
	took   time.Duration
	healed bool
}

// downEvent is a change of the number of nodes that are down or still
// healing, at a time.
type downEvent struct {
	at   time.Time
	down int
}

// soak is the state of one churn soak: the devnet, the nodes' states, the
// acknowledged blobs and the figures.
type soak struct {
	t                  *testing.T
	walrus, walrusNode string
	dir, cfg, daemon   string
	devnetArgs         []string
	files              string
	nodes              int
	f                  int // nodes that may be down at once
	addrs              []string
	shards             [][]uint16
	params             blob.Params
	nc                 []*nodeapi.Client
	start              time.Time

	// gate pauses the workload: every operation holds it for reading, a
	// restart of the whole devnet for writing.
	gate sync.RWMutex
	// bounces counts the chaos loop's node restarts in flight.
	bounces sync.WaitGroup

	mu        sync.Mutex
	devnet    *proc
	byHand    []*proc // nodes restarted by the soak (nil: run by the devnet)
	unhealthy []bool  // down, or restarted and not yet holding every sliver
	timeline  []downEvent
	blobs     []soakBlob
	stats     map[string]*opStats
	storeBad  []string // stores that failed while at most f nodes were down
	readBad   []string // reads that failed while at most f nodes were down
	wrong     []string // reads that returned other bytes
	heals     []heal
	chain     []time.Duration // restarts of the devnet, validator included
	logs      []string        // chaos events, for the report
}

// TestSoak is the churn soak: on a devnet of storage-node processes it
// stores random blobs through the CLI and the publisher and reads
// acknowledged ones back through the CLI and the aggregator, while a chaos
// loop kills nodes with SIGKILL, deletes the data of some, restarts them
// and waits for them to heal, never letting more than f nodes be down or
// healing at once; halfway through it restarts the whole devnet once,
// which restarts the validator (the chain runs inside the devnet's
// process, so it cannot restart alone). At the end every acknowledged blob
// must read back byte-identical and every node must hold every sliver of
// its shards. A store that fails while at most f nodes are down fails the
// test, as does a read of other bytes, a lost blob, or a node that does
// not heal within -soak-heal.
func TestSoak(t *testing.T) {
	if *soakFor <= 0 {
		t.Skip("the churn soak runs with -soak DURATION (e.g. -soak 3m)")
	}
	seed := *soakSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("soak: %v, %d nodes, %d shards, seed %d", *soakFor, *soakNodes, *soakShards, seed)
	s := &soak{t: t, nodes: *soakNodes, stats: map[string]*opStats{}, files: t.TempDir()}
	s.walrus, s.walrusNode = buildBinaries(t)
	root := t.TempDir()
	if *soakKeep {
		var err error
		if root, err = os.MkdirTemp("", "walrus-soak-"); err != nil {
			t.Fatal(err)
		}
		t.Logf("soak: the devnet's directory %s is kept", root)
	}
	s.dir = filepath.Join(root, "devnet")
	s.cfg = filepath.Join(s.dir, "client_config.yaml")
	s.daemon = freeAddr(t)
	s.devnetArgs = []string{"devnet", "--dir", s.dir, "--processes", "--nodes", strconv.Itoa(s.nodes), "--shards", strconv.Itoa(*soakShards),
		"--epoch-duration", "1h", "--daemon-address", s.daemon, "--daemon-metrics-address", "off"}
	t0 := time.Now()
	if err := s.startDevnet(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.stopAll)
	t.Logf("soak: the devnet is ready after %v", time.Since(t0).Round(time.Millisecond))
	s.loadCommittee()

	s.start = time.Now()
	s.unhealthy = make([]bool, s.nodes)
	s.byHand = make([]*proc, s.nodes)
	s.timeline = []downEvent{{s.start, 0}}
	end := s.start.Add(*soakFor)
	rng := rand.New(rand.NewPCG(seed, seed^0x5eed))
	var work sync.WaitGroup
	for i, w := range []func(*rand.Rand, time.Time){s.storeCLI, s.storeHTTP, s.reader, s.reader} {
		work.Add(1)
		r := rand.New(rand.NewPCG(rng.Uint64(), uint64(i)))
		go func() { defer work.Done(); w(r, end) }()
	}
	s.chaos(rand.New(rand.NewPCG(rng.Uint64(), 99)), end)
	s.bounces.Wait()
	work.Wait()
	t.Logf("soak: chaos and workload stopped after %v", time.Since(s.start).Round(time.Second))
	s.finalCheck()
	s.report()
}

// startDevnet starts (or resumes) the devnet and waits for its client
// configuration, which means ready.
func (s *soak) startDevnet() error {
	p, err := startProc(s.walrus, filepath.Join(filepath.Dir(s.dir), "devnet.out"), s.devnetArgs...)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.devnet = p
	s.mu.Unlock()
	deadline := time.Now().Add(5 * time.Minute)
	for {
		if _, err := os.Stat(s.cfg); err == nil {
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("the devnet exited before it was ready:\n%s", tail(filepath.Join(filepath.Dir(s.dir), "devnet.out"), 4000))
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the devnet was not ready within 5 minutes:\n%s", tail(filepath.Join(filepath.Dir(s.dir), "devnet.out"), 4000))
		}
	}
}

// stopDevnet stops the devnet with SIGTERM (it stops the nodes it runs)
// and the nodes the soak restarted by hand.
func (s *soak) stopDevnet() error {
	s.mu.Lock()
	dn, hand := s.devnet, slices.Clone(s.byHand)
	s.mu.Unlock()
	var errs []error
	for _, p := range hand {
		if p != nil {
			_ = p.cmd.Process.Signal(syscall.SIGTERM)
		}
	}
	for i, p := range hand {
		if p == nil {
			continue
		}
		select {
		case <-p.done:
		case <-time.After(20 * time.Second):
			errs = append(errs, fmt.Errorf("node-%d did not stop within 20 s of SIGTERM", i))
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	}
	if dn != nil {
		_ = dn.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-dn.done:
		case <-time.After(30 * time.Second):
			errs = append(errs, errors.New("the devnet did not stop within 30 s of SIGTERM"))
			_ = dn.cmd.Process.Kill()
			<-dn.done
		}
	}
	return errors.Join(errs...)
}

// stopAll is the soak's cleanup: everything stops, and a node the devnet
// left running (its pid file remains) is killed.
func (s *soak) stopAll() {
	if err := s.stopDevnet(); err != nil {
		s.t.Log(err)
	}
	for i := range s.nodes {
		if pid, err := pidOf(filepath.Join(s.dir, fmt.Sprintf("node-%d", i), "pid")); err == nil {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// loadCommittee reads the committee from the chain: the nodes' addresses,
// their shards, and f, the most nodes whose shards together stay within
// the f shards the encoding tolerates.
func (s *soak) loadCommittee() {
	t := s.t
	com := currentCommittee(t, s.cfg)
	var err error
	if s.params, err = blob.NewParams(com.NShards()); err != nil {
		t.Fatal(err)
	}
	pins := nodetls.NewPins()
	pins.Committees(com)
	tr := pins.Transport(nil)
	tr.MaxIdleConnsPerHost = 16
	hc := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	byAddr := map[string][]uint16{}
	for _, m := range com.Members() {
		byAddr[m.NetworkAddress] = m.Shards
	}
	var weights []int
	for i := range s.nodes {
		addr := nodeAddress(t, s.dir, i)
		sh := byAddr[addr]
		if len(sh) == 0 {
			t.Fatalf("node-%d (%s) owns no shards", i, addr)
		}
		nc, err := nodeapi.NewClient(addr, nodeapi.ClientConfig{Params: s.params, HTTP: hc})
		if err != nil {
			t.Fatal(err)
		}
		s.addrs, s.shards, s.nc = append(s.addrs, addr), append(s.shards, sh), append(s.nc, nc)
		weights = append(weights, len(sh))
	}
	sort.Sort(sort.Reverse(sort.IntSlice(weights)))
	sum := 0
	for _, w := range weights {
		if sum+w > com.F() {
			break
		}
		sum += w
		s.f++
	}
	t.Logf("soak: %d shards, tolerated faulty shards f = %d; shards per node %v (equal stakes give equal shares): at most %d nodes down at once",
		com.NShards(), com.F(), weights, s.f)
	if s.f == 0 {
		t.Fatal("no node can go down without exceeding f")
	}
}

// nodeAddress is node i's REST address from its node_config.yaml.
func nodeAddress(t *testing.T, dir string, i int) string {
	b, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("node-%d", i), "node_config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "rest_api_address: "); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("node-%d: no rest_api_address", i)
	return ""
}

// startProc starts bin with its output appended to logPath. Unlike start
// it may run on any goroutine; the caller stops the process.
func startProc(bin, logPath string, args ...string) (*proc, error) {
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	p := &proc{cmd: exec.Command(bin, args...), done: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = logf, logf
	if err := p.cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	go func() { _ = p.cmd.Wait(); logf.Close(); close(p.done) }()
	return p, nil
}

// pidOf reads a pid file.
func pidOf(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
}

// tail is the end of a log file, at most n bytes.
func tail(path string, n int) string {
	b, _ := os.ReadFile(path)
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// setHealthy records node i as up and healed (or not) and the new number
// of unhealthy nodes in the timeline.
func (s *soak) setHealthy(i int, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.unhealthy[i] = !ok
	s.timeline = append(s.timeline, downEvent{time.Now(), s.countDownLocked()})
}

func (s *soak) countDownLocked() int {
	n := 0
	for _, u := range s.unhealthy {
		if u {
			n++
		}
	}
	return n
}

// maxDown is the most nodes down or healing at any time in [from, to].
func (s *soak) maxDown(from, to time.Time) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := 0
	for _, e := range s.timeline {
		switch {
		case e.at.After(to):
			return m
		case !e.at.After(from):
			m = e.down // in effect when the operation began
		default:
			m = max(m, e.down)
		}
	}
	return m
}

func (s *soak) logf(format string, args ...any) {
	msg := fmt.Sprintf("%6.1fs ", time.Since(s.start).Seconds()) + fmt.Sprintf(format, args...)
	s.mu.Lock()
	s.logs = append(s.logs, msg)
	s.mu.Unlock()
	s.t.Log("soak: " + msg)
}

// chaos kills, wipes and restarts nodes until end, never letting more than
// f be down or healing at once, and restarts the devnet once halfway.
func (s *soak) chaos(rng *rand.Rand, end time.Time) {
	chainAt := s.start.Add(time.Until(end) / 2)
	chainDone := !*soakChainRestart
	for time.Now().Before(end) {
		time.Sleep(time.Duration(1000+rng.IntN(3000)) * time.Millisecond)
		if !chainDone && time.Now().After(chainAt) {
			chainDone = true
			s.restartDevnet()
			continue
		}
		s.mu.Lock()
		var up []int
		for i, u := range s.unhealthy {
			if !u {
				up = append(up, i)
			}
		}
		if s.countDownLocked() >= s.f || len(up) == 0 {
			s.mu.Unlock()
			continue
		}
		i := up[rng.IntN(len(up))]
		s.unhealthy[i] = true
		s.timeline = append(s.timeline, downEvent{time.Now(), s.countDownLocked()})
		s.mu.Unlock()
		wipe := rng.IntN(2) == 0
		down := time.Duration(2000+rng.IntN(13000)) * time.Millisecond
		s.bounces.Add(1)
		go func() { defer s.bounces.Done(); s.bounce(i, wipe, down) }()
	}
}

// bounce kills node i with SIGKILL, deletes its data if wipe, restarts it
// after down, and waits for it to hold every sliver of its shards.
func (s *soak) bounce(i int, wipe bool, down time.Duration) {
	nodeDir := filepath.Join(s.dir, fmt.Sprintf("node-%d", i))
	s.mu.Lock()
	p := s.byHand[i]
	s.mu.Unlock()
	if p != nil {
		_ = p.cmd.Process.Kill()
		<-p.done
	} else if pid, err := pidOf(filepath.Join(nodeDir, "pid")); err != nil {
		s.t.Errorf("node-%d: %v", i, err)
		return
	} else {
		_ = syscall.Kill(pid, syscall.SIGKILL)
		for deadline := time.Now().Add(10 * time.Second); syscall.Kill(pid, 0) == nil && time.Now().Before(deadline); {
			time.Sleep(20 * time.Millisecond)
		}
	}
	what := "killed (SIGKILL)"
	if wipe {
		if err := os.RemoveAll(filepath.Join(nodeDir, "db")); err != nil {
			s.t.Errorf("node-%d: wiping: %v", i, err)
		}
		what = "killed (SIGKILL) and its db/ deleted"
	}
	s.logf("node-%d %s; down for %v", i, what, down.Round(100*time.Millisecond))
	time.Sleep(down)
	p, err := startProc(s.walrusNode, filepath.Join(nodeDir, "node.log"), "run", "--config", filepath.Join(nodeDir, "node_config.yaml"))
	if err != nil {
		s.t.Errorf("node-%d: restart: %v", i, err)
		return
	}
	s.mu.Lock()
	s.byHand[i] = p
	acked := s.ackedLocked()
	s.mu.Unlock()
	took, missing := s.holds(i, acked, *soakHeal)
	h := heal{node: i, wiped: wipe, down: down, blobs: len(acked), took: took, healed: missing == 0}
	s.mu.Lock()
	s.heals = append(s.heals, h)
	s.mu.Unlock()
	if missing > 0 {
		s.t.Errorf("soak: node-%d (%s) still misses %d slivers of %d blobs %v after its restart; it stays counted as down\n%s",
			i, what, missing, len(acked), *soakHeal, tail(filepath.Join(nodeDir, "node.log"), 3000))
		return
	}
	s.logf("node-%d restarted: holds every sliver of %d blobs %v after its restart", i, len(acked), took.Round(time.Millisecond))
	s.setHealthy(i, true)
}

// restartDevnet waits until every node is up and healed, pauses the
// workload, stops the devnet (validator, daemon and nodes) and the nodes
// restarted by hand, resumes it from its directory, and checks that every
// node holds its slivers again.
func (s *soak) restartDevnet() {
	s.bounces.Wait()
	s.mu.Lock()
	down := s.countDownLocked()
	s.mu.Unlock()
	if down > 0 {
		s.logf("devnet restart skipped: %d nodes never healed", down)
		return
	}
	s.logf("devnet restart: pausing the workload")
	s.gate.Lock()
	defer s.gate.Unlock()
	t0 := time.Now()
	s.mu.Lock()
	for i := range s.unhealthy {
		s.unhealthy[i] = true
	}
	s.timeline = append(s.timeline, downEvent{t0, s.nodes})
	s.mu.Unlock()
	if err := s.stopDevnet(); err != nil {
		s.t.Errorf("soak: stopping the devnet: %v", err)
	}
	s.mu.Lock()
	clear(s.byHand)
	s.mu.Unlock()
	if err := s.startDevnet(); err != nil {
		s.t.Errorf("soak: resuming the devnet: %v", err)
		return
	}
	took := time.Since(t0)
	s.mu.Lock()
	acked := s.ackedLocked()
	s.chain = append(s.chain, took)
	s.mu.Unlock()
	s.logf("devnet (validator, daemon, nodes) stopped with SIGTERM and resumed in %v", took.Round(time.Millisecond))
	var wg sync.WaitGroup
	for i := range s.nodes {
		wg.Go(func() {
			if _, missing := s.holds(i, acked, *soakHeal); missing > 0 {
				s.t.Errorf("soak: after the devnet's restart node-%d misses %d slivers", i, missing)
				return
			}
			s.setHealthy(i, true)
		})
	}
	wg.Wait()
	s.logf("devnet restart: every node holds its slivers of %d blobs %v after the restart began", len(acked), time.Since(t0).Round(time.Millisecond))
}

func (s *soak) ackedLocked() []blob.ID {
	ids := make([]blob.ID, len(s.blobs))
	for i, b := range s.blobs {
		ids[i] = b.id
	}
	return ids
}

// holds waits until node i holds both slivers of each of its shards of
// every blob in ids, as holdsAll does, but without failing the test (it
// runs on the chaos loop's goroutines) and checking again only what was
// missing. It returns how long that took, or the number of slivers still
// missing after d. The time is an upper bound: it ends with the sweep
// that found the last missing sliver, and a sweep of many slivers takes
// seconds.
func (s *soak) holds(i int, ids []blob.ID, d time.Duration) (time.Duration, int) {
	type key struct {
		id   blob.ID
		pair int
		typ  blob.SliverType
	}
	var pending []key
	for _, id := range ids {
		for _, sh := range s.shards[i] {
			for _, typ := range []blob.SliverType{blob.Primary, blob.Secondary} {
				pending = append(pending, key{id, s.params.PairOfShard(id, int(sh)), typ})
			}
		}
	}
	start := time.Now()
	for {
		sweep := time.Now()
		var (
			mu   sync.Mutex
			left []key
			wg   sync.WaitGroup
			next = make(chan key)
		)
		for range 6 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for k := range next {
					ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
					st, err := s.nc[i].SliverStatus(ctx, k.id, k.pair, k.typ)
					cancel()
					if err != nil || st != nodeapi.StatusStored {
						mu.Lock()
						left = append(left, k)
						mu.Unlock()
					}
				}
			}()
		}
		for _, k := range pending {
			next <- k
		}
		close(next)
		wg.Wait()
		pending = left
		if len(pending) == 0 {
			return time.Since(start), 0
		}
		if time.Since(start) > d {
			return time.Since(start), len(pending)
		}
		// Sweeps at most half of the time, so that checking does not
		// become the load.
		time.Sleep(max(250*time.Millisecond, time.Since(sweep)))
	}
}

// record counts an operation of kind that began at start.
func (s *soak) record(kind string, start time.Time, err error) {
	down := s.maxDown(start, time.Now())
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats[kind]
	if st == nil {
		st = &opStats{errors: map[string]int{}}
		s.stats[kind] = st
	}
	st.attempted++
	if err == nil {
		st.succeeded++
		return
	}
	st.failed++
	st.errors[fmt.Sprintf("%s (≤ %d nodes down)", normalizeErr(err), down)]++
	msg := fmt.Sprintf("%6.1fs %s with at most %d nodes down (f = %d): %v", time.Since(s.start).Seconds(), kind, down, s.f, err)
	if down <= s.f && strings.HasPrefix(kind, "store") {
		s.storeBad = append(s.storeBad, msg)
	}
	if down <= s.f && strings.HasPrefix(kind, "read") {
		s.readBad = append(s.readBad, msg)
	}
}

var (
	hexRun   = regexp.MustCompile(`[0-9A-Za-z_-]{40,}|0x[0-9a-fA-F]+`)
	numRun   = regexp.MustCompile(`[0-9]+(\.[0-9]+)?`)
	spaceRun = regexp.MustCompile(`\s+`)
)

// normalizeErr makes errors that differ only by IDs and numbers group together.
func normalizeErr(err error) string {
	m := hexRun.ReplaceAllString(err.Error(), "…")
	m = numRun.ReplaceAllString(m, "N")
	m = spaceRun.ReplaceAllString(m, " ")
	if len(m) > 300 {
		m = m[:300] + "…"
	}
	return m
}

// randomBlob is a blob of a size drawn log-uniformly from 1 KiB to 8 MiB.
func randomBlob(rng *rand.Rand) []byte {
	size := int(float64(soakMinSize) * math.Pow(soakMaxSize/soakMinSize, rng.Float64()))
	b := make([]byte, size)
	for i := 0; i < len(b); i += 8 {
		v := rng.Uint64()
		for j := 0; j < 8 && i+j < len(b); j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	return b
}

// acknowledge records a blob whose store the network acknowledged, with
// the SHA-256 of its bytes.
func (s *soak) acknowledge(id blob.ID, data []byte, via string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.blobs = append(s.blobs, soakBlob{id: id, sum: sha256.Sum256(data), size: len(data), via: via})
}

// pace waits a little between operations, or returns false once the soak is over.
func pace(rng *rand.Rand, end time.Time) bool {
	time.Sleep(time.Duration(200+rng.IntN(800)) * time.Millisecond)
	return time.Now().Before(end)
}

// storeCLI stores random blobs with `walrus store` until end. A single
// goroutine stores through the CLI: concurrent CLI processes would race
// for the wallet's sequence numbers.
func (s *soak) storeCLI(rng *rand.Rand, end time.Time) {
	for n := 0; pace(rng, end); n++ {
		data := randomBlob(rng)
		path := filepath.Join(s.files, fmt.Sprintf("cli-%d", n))
		if err := os.WriteFile(path, data, 0o600); err != nil {
			s.t.Error(err)
			return
		}
		s.gate.RLock()
		t0 := time.Now()
		id, err := s.cliStore(path)
		s.record("store-cli", t0, err)
		if err == nil {
			s.acknowledge(id, data, "cli")
		}
		s.gate.RUnlock()
		_ = os.Remove(path)
	}
}

func (s *soak) cliStore(path string) (blob.ID, error) {
	ctx, cancel := context.WithTimeout(context.Background(), soakOpTimeout)
	defer cancel()
	out, err := s.cli(ctx, "--config", s.cfg, "store", "--epochs", "5", path, "--json")
	if err != nil {
		return blob.ID{}, err
	}
	var res []client.BlobStoreResultWithPath
	if err := json.Unmarshal(out, &res); err != nil || len(res) != 1 {
		return blob.ID{}, fmt.Errorf("walrus store: unexpected output %.200q", out)
	}
	return acknowledged(&res[0].BlobStoreResult)
}

// acknowledged is the blob ID of a certified store result.
func acknowledged(r *client.BlobStoreResult) (blob.ID, error) {
	switch {
	case r.NewlyCreated != nil, r.AlreadyCertified != nil:
		return *r.BlobID(), nil
	case r.Error != nil:
		return blob.ID{}, fmt.Errorf("store error in phase %s: %s", r.Error.FailurePhase, r.Error.ErrorMsg)
	case r.MarkedInvalid != nil:
		return blob.ID{}, errors.New("blob marked invalid")
	}
	return blob.ID{}, errors.New("empty store result")
}

// cli runs the walrus CLI; its error carries the last line of stderr.
func (s *soak) cli(ctx context.Context, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, s.walrus, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return out, fmt.Errorf("walrus %s: %v: %s", args[2], err, lines[len(lines)-1])
	}
	return out, nil
}

// storeHTTP stores random blobs with PUT /v1/blobs on the devnet's
// publisher until end.
func (s *soak) storeHTTP(rng *rand.Rand, end time.Time) {
	for pace(rng, end) {
		data := randomBlob(rng)
		s.gate.RLock()
		t0 := time.Now()
		id, err := s.httpPut(data)
		s.record("store-http", t0, err)
		if err == nil {
			s.acknowledge(id, data, "http")
		}
		s.gate.RUnlock()
	}
}

func (s *soak) httpPut(data []byte) (blob.ID, error) {
	ctx, cancel := context.WithTimeout(context.Background(), soakOpTimeout)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "PUT", "http://"+s.daemon+"/v1/blobs?epochs=5", bytes.NewReader(data))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return blob.ID{}, fmt.Errorf("PUT /v1/blobs: %w", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return blob.ID{}, fmt.Errorf("PUT /v1/blobs: %d %.300s", resp.StatusCode, b)
	}
	var res client.BlobStoreResult
	if err := json.Unmarshal(b, &res); err != nil {
		return blob.ID{}, fmt.Errorf("PUT /v1/blobs: %v: %.200q", err, b)
	}
	return acknowledged(&res)
}

// reader reads random acknowledged blobs until end, alternately through
// the CLI and the aggregator.
func (s *soak) reader(rng *rand.Rand, end time.Time) {
	for n := 0; pace(rng, end); n++ {
		s.mu.Lock()
		if len(s.blobs) == 0 {
			s.mu.Unlock()
			continue
		}
		b := s.blobs[rng.IntN(len(s.blobs))]
		s.mu.Unlock()
		s.gate.RLock()
		t0 := time.Now()
		kind, err := s.read(b, n%2 == 0)
		s.record(kind, t0, err)
		s.gate.RUnlock()
	}
}

// read reads b through the CLI or the aggregator and checks its SHA-256; a
// read of other bytes is recorded as wrong (and fails the test).
func (s *soak) read(b soakBlob, viaCLI bool) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), soakOpTimeout)
	defer cancel()
	kind, sum, err := "read-http", [sha256.Size]byte{}, error(nil)
	if viaCLI {
		kind = "read-cli"
		sum, err = s.cliRead(ctx, b.id)
	} else {
		sum, err = s.httpRead(ctx, b.id)
	}
	if err == nil && sum != b.sum {
		err = fmt.Errorf("%s of %s (%d bytes, stored via %s): other bytes", kind, b.id, b.size, b.via)
		s.mu.Lock()
		s.wrong = append(s.wrong, err.Error())
		s.mu.Unlock()
		s.t.Errorf("soak: %v", err)
	}
	return kind, err
}

func (s *soak) cliRead(ctx context.Context, id blob.ID) ([sha256.Size]byte, error) {
	path := filepath.Join(s.files, "read-"+strconv.FormatUint(rand.Uint64(), 36))
	defer os.Remove(path)
	if _, err := s.cli(ctx, "--config", s.cfg, "read", "--out", path, "--", id.String()); err != nil {
		return [sha256.Size]byte{}, err
	}
	b, err := os.ReadFile(path)
	return sha256.Sum256(b), err
}

func (s *soak) httpRead(ctx context.Context, id blob.ID) ([sha256.Size]byte, error) {
	var sum [sha256.Size]byte
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+s.daemon+"/v1/blobs/"+id.String(), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return sum, fmt.Errorf("GET /v1/blobs: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
		return sum, fmt.Errorf("GET /v1/blobs: %d %s", resp.StatusCode, b)
	}
	h := sha256.New()
	if _, err := io.Copy(h, resp.Body); err != nil {
		return sum, fmt.Errorf("GET /v1/blobs: %w", err)
	}
	copy(sum[:], h.Sum(nil))
	return sum, nil
}

// finalCheck waits for every node to hold every sliver of its shards of
// every acknowledged blob, then reads every acknowledged blob through the
// aggregator and the CLI.
func (s *soak) finalCheck() {
	t := s.t
	s.mu.Lock()
	acked := s.ackedLocked()
	blobs := slices.Clone(s.blobs)
	s.mu.Unlock()
	t0 := time.Now()
	var wg sync.WaitGroup
	for i := range s.nodes {
		s.mu.Lock()
		bad := s.unhealthy[i]
		s.mu.Unlock()
		wg.Go(func() {
			took, missing := s.holds(i, acked, *soakHeal)
			if missing > 0 {
				t.Errorf("soak: at the end node-%d still misses %d slivers of %d blobs after %v (unhealed before: %v)", i, missing, len(acked), took.Round(time.Second), bad)
				return
			}
			t.Logf("soak: at the end node-%d holds every sliver of its %d shards of %d blobs (%v)", i, len(s.shards[i]), len(acked), took.Round(time.Millisecond))
		})
	}
	wg.Wait()
	t.Logf("soak: final sliver check took %v", time.Since(t0).Round(time.Millisecond))
	t0 = time.Now()
	var (
		lost int
		mu   sync.Mutex
		next = make(chan soakBlob)
	)
	for range 2 {
		wg.Go(func() {
			for b := range next {
				if err := s.finalRead(b); err != nil {
					mu.Lock()
					lost++
					mu.Unlock()
					t.Errorf("soak: LOST %s (%d bytes, stored via %s): %v", b.id, b.size, b.via, err)
				}
			}
		})
	}
	for _, b := range blobs {
		next <- b
	}
	close(next)
	wg.Wait()
	t.Logf("soak: final reads of %d blobs, through the aggregator and the CLI, took %v; %d lost", len(blobs), time.Since(t0).Round(time.Millisecond), lost)
	s.mu.Lock()
	s.stats["final-lost"] = &opStats{attempted: len(blobs), succeeded: len(blobs) - lost, failed: lost, errors: map[string]int{}}
	s.mu.Unlock()
}

// finalRead reads b through the aggregator and the CLI, each up to three
// times, and returns the first error that persisted.
func (s *soak) finalRead(b soakBlob) error {
	for _, viaCLI := range []bool{false, true} {
		var err error
		for attempt := range 3 {
			if _, err = s.read(b, viaCLI); err == nil || strings.Contains(err.Error(), "other bytes") {
				break
			}
			s.t.Logf("soak: final read of %s (attempt %d): %v", b.id, attempt+1, err)
			time.Sleep(2 * time.Second)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// report logs the soak's figures and fails the test for every store that
// failed while at most f nodes were down.
func (s *soak) report() {
	t := s.t
	s.mu.Lock()
	defer s.mu.Unlock()
	var b strings.Builder
	fmt.Fprintf(&b, "soak figures: %v of chaos and workload, %d nodes, %d shards, f = %d nodes\n", *soakFor, s.nodes, s.params.N(), s.f)
	var total int64
	for _, x := range s.blobs {
		total += int64(x.size)
	}
	fmt.Fprintf(&b, "  acknowledged blobs: %d (%.1f MiB)\n", len(s.blobs), float64(total)/(1<<20))
	kinds := make([]string, 0, len(s.stats))
	for k := range s.stats {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		st := s.stats[k]
		fmt.Fprintf(&b, "  %-11s attempted %4d, succeeded %4d, failed %4d\n", k, st.attempted, st.succeeded, st.failed)
		errs := make([]string, 0, len(st.errors))
		for e := range st.errors {
			errs = append(errs, e)
		}
		sort.Strings(errs)
		for _, e := range errs {
			fmt.Fprintf(&b, "      %3d × %s\n", st.errors[e], e)
		}
	}
	var longest heal
	kills, wipes := 0, 0
	for _, h := range s.heals {
		if h.wiped {
			wipes++
		} else {
			kills++
		}
		if h.took > longest.took {
			longest = h
		}
	}
	fmt.Fprintf(&b, "  node restarts: %d after SIGKILL, %d after SIGKILL and a deleted db/\n", kills, wipes)
	if len(s.heals) > 0 {
		fmt.Fprintf(&b, "  longest heal: node-%d (wiped %v, down %v), %v to hold every sliver of %d blobs after its restart\n",
			longest.node, longest.wiped, longest.down.Round(100*time.Millisecond), longest.took.Round(time.Millisecond), longest.blobs)
	}
	for _, d := range s.chain {
		fmt.Fprintf(&b, "  devnet restart (validator included): resumed in %v\n", d.Round(time.Millisecond))
	}
	if !*soakChainRestart {
		fmt.Fprintf(&b, "  devnet restart: off (-soak-chain-restart=false)\n")
	}
	fmt.Fprintf(&b, "  reads of other bytes: %d; stores failed with ≤ f down: %d; reads failed with ≤ f down: %d\n", len(s.wrong), len(s.storeBad), len(s.readBad))
	t.Log(b.String())
	for _, m := range s.readBad {
		t.Logf("soak: read failed with at most f nodes down: %s", m)
	}
	for _, m := range s.storeBad {
		t.Errorf("soak: store failed with at most f nodes down: %s", m)
	}
}
