package testnet_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/client"
	"github.com/walrus-go/walrus/internal/testnet"
	"github.com/walrus-go/walrus/node"
)

// networkDirEnv makes the test binary, instead of running the tests, run
// a test network in the directory it names with every node external and
// run those nodes itself, store crashBlob, write its ID to the directory's
// name followed by ".ready", and then wait to be killed: the process that
// TestResumeExternal kills.
const networkDirEnv = "WALRUS_TESTNET_NETWORK_DIR"

// allExternal is the External map of a default network run entirely by
// its caller, as the devnet's --processes runs it.
var allExternal = map[int]bool{0: true, 1: true, 2: true, 3: true}

// crashBlob is what the killed network process stored.
func crashBlob() []byte { return randomBytes(40_000, 11) }

// runConfig runs a storage node in this process from its node_config.yaml,
// as walrus-node run would (the node binds its address itself), and returns
// the function that stops it.
func runConfig(ctx context.Context, path string) (stop func() error, err error) {
	cfg, err := node.LoadConfig(path)
	if err != nil {
		return nil, err
	}
	nd, err := node.New(ctx, *cfg, node.Options{Registerer: prometheus.NewRegistry()})
	if err != nil {
		return nil, err
	}
	rctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- nd.Run(rctx) }()
	return func() error {
		cancel()
		return errors.Join(<-done, nd.Close())
	}, nil
}

// runNetworkProcess is the subprocess of networkDirEnv; it returns an exit
// code only if something fails.
func runNetworkProcess(dir string) int {
	fail := func(err error) int {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	net, err := testnet.New(ctx, testnet.Config{Dir: dir, External: allExternal})
	if err != nil {
		return fail(err)
	}
	for i := range net.NodeCount() {
		if _, err := runConfig(ctx, net.ConfigPath(i)); err != nil {
			return fail(err)
		}
		if err := net.WaitHealthy(ctx, i); err != nil {
			return fail(err)
		}
	}
	res, err := net.Client.Store(ctx, crashBlob(), client.StoreOptions{Epochs: 3})
	if err != nil {
		return fail(err)
	}
	if err := os.WriteFile(dir+".ready", []byte(res.BlobID.String()), 0o600); err != nil {
		return fail(err)
	}
	select {} // until killed: nothing is closed
}

// crashNetworkProcess runs networkDirEnv's process on dir, kills it with
// SIGKILL once it is ready, and returns the blob it stored.
func crashNetworkProcess(t *testing.T, dir string) blob.ID {
	t.Helper()
	logf, err := os.Create(dir + ".log")
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), networkDirEnv+"="+dir)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGKILL)
		<-exited
	}()
	deadline := time.After(2 * time.Minute)
	for {
		if b, err := os.ReadFile(dir + ".ready"); err == nil && len(b) > 0 {
			id, err := blob.ParseID(string(b))
			if err != nil {
				t.Fatal(err)
			}
			return id
		}
		select {
		case <-exited:
			log, _ := os.ReadFile(dir + ".log")
			t.Fatalf("the network process exited: %s", log)
		case <-deadline:
			t.Fatal("the network process is not ready after two minutes")
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// runExternal runs every node of the network in this process from its
// configuration file and waits until each answers; the returned function
// stops them (it also runs when the test ends).
func runExternal(t *testing.T, ctx context.Context, net *testnet.Network) (stop func()) {
	t.Helper()
	var stops []func() error
	stop = func() {
		for i, s := range stops {
			if err := s(); err != nil {
				t.Errorf("node %d: %v", i, err)
			}
		}
		stops = nil
	}
	t.Cleanup(stop)
	for i := range net.NodeCount() {
		s, err := runConfig(ctx, net.ConfigPath(i))
		if err != nil {
			t.Fatalf("node %d: %v", i, err)
		}
		stops = append(stops, s)
		if err := net.WaitHealthy(ctx, i); err != nil {
			t.Fatal(err)
		}
	}
	return stop
}

// TestResumeExternal: a network whose nodes all run outside it (as the
// devnet's --processes runs them) resumes on its directory with the same
// External map after a crash (its process, nodes included, killed with
// SIGKILL: nothing closed) and after a clean stop (the nodes stopped, then
// Close). Each time New returns a network whose nodes keep their
// addresses and configuration files and run again from those files,
// WaitHealthy sees them, and the network reads what it stored before and
// stores more.
func TestResumeExternal(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a subprocess")
	}
	dir := filepath.Join(t.TempDir(), "net")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	stored := map[blob.ID][]byte{crashNetworkProcess(t, dir): crashBlob()}
	var addrs []string
	for i := range len(allExternal) {
		cfg, err := node.LoadConfig(filepath.Join(dir, fmt.Sprintf("node-%d", i), "node_config.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		addrs = append(addrs, cfg.PublicAddress())
	}

	for k, after := range []string{"a crash", "a clean stop"} {
		net, err := testnet.New(ctx, testnet.Config{Dir: dir, External: allExternal})
		if err != nil {
			t.Fatalf("resume after %s: %v", after, err)
		}
		if net.NodeCount() != len(addrs) {
			net.Close()
			t.Fatalf("resumed after %s: %d nodes, want %d", after, net.NodeCount(), len(addrs))
		}
		for i := range net.NodeCount() {
			want := filepath.Join(dir, fmt.Sprintf("node-%d", i), "node_config.yaml")
			if net.Address(i) != addrs[i] || net.ConfigPath(i) != want || net.Node(i) != nil {
				net.Close()
				t.Fatalf("resumed after %s: node %d at %s with %s (running here: %v), want %s with %s, external",
					after, i, net.Address(i), net.ConfigPath(i), net.Node(i) != nil, addrs[i], want)
			}
		}
		stop := runExternal(t, ctx, net)
		for id, data := range stored {
			if got, err := net.Client.Read(ctx, id); err != nil || !bytes.Equal(got, data) {
				stop()
				net.Close()
				t.Fatalf("resumed after %s: read %s: %v", after, id, err)
			}
		}
		data := randomBytes(3000, uint64(20+k))
		res, err := net.Client.Store(ctx, data, client.StoreOptions{Epochs: 3})
		if err != nil {
			stop()
			net.Close()
			t.Fatalf("resumed after %s: store: %v", after, err)
		}
		stored[res.BlobID] = data
		stop() // the devnet stops its node processes before the network
		if err := net.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
