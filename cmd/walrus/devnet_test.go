package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/chain/chainclient"
	"github.com/walrus-go/walrus/client"
	"github.com/walrus-go/walrus/committee"
	"github.com/walrus-go/walrus/internal/nodetls"
	"github.com/walrus-go/walrus/nodeapi"
)

// freeAddr returns a loopback address whose port the OS just gave out.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// httpStore stores data through a publisher and returns its blob ID.
func httpStore(t *testing.T, base string, data []byte) blob.ID {
	t.Helper()
	req, _ := http.NewRequest("PUT", base+"/v1/blobs?epochs=2", bytes.NewReader(data))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var res client.BlobStoreResult
	if resp.StatusCode != 200 || json.Unmarshal(b, &res) != nil || res.BlobID() == nil {
		t.Fatalf("PUT /v1/blobs: %d %s", resp.StatusCode, b)
	}
	return *res.BlobID()
}

func httpGet(t *testing.T, url string) []byte {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, b)
	}
	return b
}

// buildBinaries builds walrus and walrus-node into a temporary directory.
func buildBinaries(t *testing.T) (walrus, walrusNode string) {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command("go", "build", "-o", dir+string(os.PathSeparator), "github.com/walrus-go/walrus/cmd/walrus", "github.com/walrus-go/walrus/cmd/walrus-node")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return filepath.Join(dir, "walrus"), filepath.Join(dir, "walrus-node")
}

// proc is a process the test started; it is killed at the end of the test.
type proc struct {
	cmd  *exec.Cmd
	out  *bytes.Buffer
	done chan struct{}
}

func start(t *testing.T, bin string, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(bin, args...), out: &bytes.Buffer{}, done: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.done
	})
	return p
}

func waitFile(t *testing.T, path string, d time.Duration, p *proc) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		if _, err := os.Stat(path); err == nil {
			return
		}
		select {
		case <-p.done:
			t.Fatalf("%s exited before %s appeared:\n%s", p.cmd.Path, path, p.out)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not appear within %v:\n%s", path, d, p.out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func walrusJSON(t *testing.T, bin string, v any, args ...string) {
	t.Helper()
	cmd := exec.Command(bin, append(args, "--json")...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("walrus %s: %v: %s\nstdout: %s", strings.Join(args, " "), err, stderr.String(), out)
	}
	if err := json.Unmarshal(out, v); err != nil {
		t.Fatalf("walrus %s: %v: %q", strings.Join(args, " "), err, out)
	}
}

func readPID(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

// holdsAll waits until the node at addr holds both slivers of every shard
// it owns in com of every blob.
func holdsAll(t *testing.T, com *committee.Committee, addr string, ids []blob.ID, p blob.Params, d time.Duration) time.Duration {
	t.Helper()
	pins := nodetls.NewPins()
	pins.Committees(com)
	nc, err := nodeapi.NewClient(addr, nodeapi.ClientConfig{Params: p, HTTP: &http.Client{Transport: pins.Transport(nil)}})
	if err != nil {
		t.Fatal(err)
	}
	var shards []uint16
	for _, m := range com.Members() {
		if m.NetworkAddress == addr {
			shards = m.Shards
		}
	}
	if len(shards) == 0 {
		t.Fatalf("%s owns no shards", addr)
	}
	ctx := context.Background()
	start := time.Now()
	for {
		missing := 0
		for _, id := range ids {
			for _, sh := range shards {
				for _, typ := range []blob.SliverType{blob.Primary, blob.Secondary} {
					if st, err := nc.SliverStatus(ctx, id, p.PairOfShard(id, int(sh)), typ); err != nil || st != nodeapi.StatusStored {
						missing++
					}
				}
			}
		}
		if missing == 0 {
			return time.Since(start)
		}
		if time.Since(start) > d {
			t.Fatalf("node %s still misses %d slivers after %v", addr, missing, d)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestDevnetProcesses runs the real binaries: `walrus devnet --processes`
// (nodes as separate processes of the walrus binary, with pid files), the
// CLI storing and reading with --json, a node killed with SIGKILL and
// restarted with walrus-node run, a node whose data directory was deleted,
// a SIGTERM that stops everything within seconds, and a resume of the
// same directory with its data.
func TestDevnetProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binaries and runs processes")
	}
	walrus, walrusNode := buildBinaries(t)
	dir := filepath.Join(t.TempDir(), "devnet")
	cfg := filepath.Join(dir, "client_config.yaml")
	daemon := freeAddr(t)
	daemonFlags := []string{"--daemon-address", daemon, "--daemon-metrics-address", "off"}
	dn := start(t, walrus, append([]string{"devnet", "--dir", dir, "--processes", "--shards", "10", "--epoch-duration", "1h"}, daemonFlags...)...)
	waitFile(t, cfg, 90*time.Second, dn)
	// The aggregator/publisher listens before client_config.yaml appears.
	hello := []byte("hello walrus over HTTP")
	viaHTTP := httpStore(t, "http://"+daemon, hello)
	if got := httpGet(t, "http://"+daemon+"/v1/blobs/"+viaHTTP.String()); !bytes.Equal(got, hello) {
		t.Fatalf("the devnet daemon read back %q", got)
	}
	for i := range 4 {
		pid := readPID(t, filepath.Join(dir, fmt.Sprintf("node-%d", i), "pid"))
		if err := syscall.Kill(pid, 0); err != nil {
			t.Fatalf("node-%d (pid %d) is not running: %v", i, pid, err)
		}
	}
	// Store and read back through the CLI.
	files := t.TempDir()
	var blobs [][]byte
	var paths []string
	for i, size := range []int{0, 1, 100_000, 1 << 20} {
		data := bytes.Repeat([]byte{byte(i + 1)}, size)
		for j := range data {
			data[j] ^= byte(j * 7)
		}
		p := filepath.Join(files, fmt.Sprintf("f%d", i))
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		blobs, paths = append(blobs, data), append(paths, p)
	}
	var stored []client.BlobStoreResultWithPath
	walrusJSON(t, walrus, &stored, append([]string{"--config", cfg, "store", "--epochs", "5"}, paths[:2]...)...)
	var ids []blob.ID
	for _, r := range stored {
		ids = append(ids, *r.BlobStoreResult.BlobID())
	}
	for i, id := range ids {
		var ro struct {
			Blob []byte `json:"blob"`
		}
		walrusJSON(t, walrus, &ro, "--config", cfg, "read", id.String())
		if !bytes.Equal(ro.Blob, blobs[i]) {
			t.Fatalf("read %s differs", id)
		}
	}
	// The network, seen from the test.
	com := currentCommittee(t, cfg)
	params, _ := blob.NewParams(10)
	addr := func(i int) string {
		b, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("node-%d", i), "node_config.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "rest_api_address: "); ok {
				return strings.TrimSpace(v)
			}
		}
		t.Fatal("no rest_api_address")
		return ""
	}

	// SIGKILL a node; stores still certify; restarted by hand it catches up.
	const killed = 1
	pid := readPID(t, filepath.Join(dir, "node-1", "pid"))
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	walrusJSON(t, walrus, &stored, "--config", cfg, "store", "--epochs", "5", paths[2], paths[3])
	for _, r := range stored {
		if r.BlobStoreResult.NewlyCreated == nil {
			t.Fatalf("store with a node killed: %+v", r.BlobStoreResult)
		}
		ids = append(ids, *r.BlobStoreResult.BlobID())
	}
	byHand := []*proc{start(t, walrusNode, "run", "--config", filepath.Join(dir, "node-1", "node_config.yaml"))}
	took := holdsAll(t, com, addr(killed), ids, params, time.Minute)
	t.Logf("node-1 killed with SIGKILL and restarted: holds every sliver %v after its restart", took.Round(time.Millisecond))

	// Delete a node's data directory; restarted, it heals from its peers.
	const wiped = 2
	pid = readPID(t, filepath.Join(dir, "node-2", "pid"))
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	if err := os.RemoveAll(filepath.Join(dir, "node-2", "db")); err != nil {
		t.Fatal(err)
	}
	byHand = append(byHand, start(t, walrusNode, "run", "--config", filepath.Join(dir, "node-2", "node_config.yaml")))
	took = holdsAll(t, com, addr(wiped), ids, params, time.Minute)
	t.Logf("node-2 restarted with an empty db/: holds every sliver %v after its restart", took.Round(time.Millisecond))

	// SIGTERM stops the devnet and the nodes it started within seconds.
	t0 := time.Now()
	if err := dn.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-dn.done:
	case <-time.After(15 * time.Second):
		t.Fatalf("the devnet did not stop within 15 s:\n%s", dn.out)
	}
	t.Logf("devnet stopped %v after SIGTERM", time.Since(t0).Round(time.Millisecond))
	if _, err := os.Stat(cfg); err == nil {
		t.Fatal("client_config.yaml left behind")
	}
	for _, i := range []int{0, 3} {
		if _, err := os.Stat(filepath.Join(dir, fmt.Sprintf("node-%d", i), "pid")); err == nil {
			t.Fatalf("node-%d pid file left behind", i)
		}
	}

	// The nodes started by hand are ours to stop; while one runs, a resume
	// refuses clearly.
	out, err := exec.Command(walrus, append([]string{"devnet", "--dir", dir}, daemonFlags...)...).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "in use") {
		t.Fatalf("resume while a node runs: %v: %s", err, out)
	}
	for _, p := range byHand {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		<-p.done
	}
	// The same directory resumes the network with its data (nodes in process now).
	dn = start(t, walrus, append([]string{"devnet", "--dir", dir}, daemonFlags...)...)
	waitFile(t, cfg, 90*time.Second, dn)
	if got := httpGet(t, "http://"+daemon+"/v1/blobs/"+viaHTTP.String()); !bytes.Equal(got, hello) {
		t.Fatalf("after resume the devnet daemon read back %q", got)
	}
	for i, id := range ids {
		var ro struct {
			Blob []byte `json:"blob"`
		}
		walrusJSON(t, walrus, &ro, "--config", cfg, "read", id.String())
		if !bytes.Equal(ro.Blob, blobs[i]) {
			t.Fatalf("read %s after resume differs", id)
		}
	}
	_ = dn.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-dn.done:
	case <-time.After(15 * time.Second):
		t.Fatalf("the devnet did not stop on SIGINT:\n%s", dn.out)
	}
}

// currentCommittee is the current committee of the network a client
// configuration names, read from its chain.
func currentCommittee(t *testing.T, cfgPath string) *committee.Committee {
	t.Helper()
	c, err := client.LoadContext(cfgPath, "")
	if err != nil {
		t.Fatal(err)
	}
	ch, err := chainclient.Dial(context.Background(), chainclient.Config{RPC: c.RPCURLs[0]})
	if err != nil {
		t.Fatal(err)
	}
	defer ch.Close()
	ci, err := ch.Committee(context.Background(), "current")
	if err != nil {
		t.Fatal(err)
	}
	com, err := ci.Committee()
	if err != nil {
		t.Fatal(err)
	}
	return com
}
