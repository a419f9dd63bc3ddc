package testnet_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/client"
	"github.com/walrus-go/walrus/cmd/walrus-node/cli"
	"github.com/walrus-go/walrus/internal/sdkinternal"
	"github.com/walrus-go/walrus/internal/testnet"
	"github.com/walrus-go/walrus/node"
	"github.com/walrus-go/walrus/redstuff"
	"github.com/walrus-go/walrus/store"
)

// nodeConfigEnv makes the test binary run a storage node (walrus-node run)
// instead of the tests: the crash test's subprocess.
const nodeConfigEnv = "WALRUS_TESTNET_NODE_CONFIG"

func TestMain(m *testing.M) {
	if cfg := os.Getenv(nodeConfigEnv); cfg != "" {
		os.Exit(cli.Run([]string{"run", "--config", cfg, "--log-level", "debug"}, os.Stdout, os.Stderr))
	}
	if dir := os.Getenv(networkDirEnv); dir != "" {
		os.Exit(runNetworkProcess(dir))
	}
	os.Exit(m.Run())
}

// startSubprocess runs node i of the network as a separate process.
func startSubprocess(t *testing.T, net *testnet.Network, i int) *exec.Cmd {
	t.Helper()
	logf, err := os.Create(filepath.Join(net.NodeDir(i), "node.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), nodeConfigEnv+"="+net.ConfigPath(i))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		logf.Close()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := net.WaitHealthy(ctx, i); err != nil {
		t.Fatal(err)
	}
	return cmd
}

// TestCrashDuringUploads: a node process killed with SIGKILL while writers
// upload to it still has, after reopening, every sliver it confirmed, and a
// consistent store; restarted, it catches up with what it missed.
func TestCrashDuringUploads(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a subprocess")
	}
	const victim = 3
	// Slivers above 1 KiB go to files beside the index (the large-blob
	// layout), and the uploads are batched: both are what is killed here.
	net := testnet.Start(t, testnet.Config{External: map[int]bool{victim: true},
		NodeConfig: func(_ int, c *node.Config) { c.SliverFileThreshold = 1024 }})
	cmd := startSubprocess(t, net, victim)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cur, _, err := sdkinternal.Committees(ctx, net.Client)
	if err != nil {
		t.Fatal(err)
	}
	victimIndex := -1
	for i, m := range cur.Members() {
		if m.NetworkAddress == net.Address(victim) {
			victimIndex = i
		}
	}
	var mu sync.Mutex
	var confirmed, all []*redstuff.Encoded
	killed := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 3 { // writers
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := uint64(0); ; k++ {
				select {
				case <-killed:
					return
				default:
				}
				x, err := sdkinternal.Encoder(net.Client).Encode(randomBytes(20_000+int(k%7)*50_000, uint64(w)<<32|k))
				if err != nil {
					t.Error(err)
					return
				}
				res, err := sdkinternal.StoreEncoded(ctx, net.Client, x, client.StoreOptions{Epochs: 5})
				if err != nil && !errors.Is(err, client.ErrNotEnoughConfirmations) {
					t.Error(err)
					return
				}
				mu.Lock()
				if err == nil {
					all = append(all, x)
					for _, s := range res.Signers {
						if int(s) == victimIndex {
							confirmed = append(confirmed, x)
						}
					}
				}
				mu.Unlock()
			}
		}()
	}
	time.Sleep(time.Duration(800+rand.IntN(700)) * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	time.Sleep(200 * time.Millisecond) // stores in flight finish against the others
	close(killed)
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	if len(confirmed) == 0 {
		t.Fatal("the node confirmed nothing before it was killed")
	}

	// Reopen the killed node's database as it is on disk.
	cfg, err := node.LoadConfig(net.ConfigPath(victim))
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(store.Config{Dir: cfg.StoragePath})
	if err != nil {
		t.Fatal(err)
	}
	report, err := st.Check()
	if err != nil || len(report.Corrupt) != 0 {
		st.Close()
		t.Fatalf("store after SIGKILL: %+v %v", report, err)
	}
	if report.SliverFiles == 0 {
		st.Close()
		t.Fatalf("no sliver was in a file: %+v", report)
	}
	enc := sdkinternal.Encoder(net.Client)
	shards := cur.Member(victimIndex).Shards
	for _, x := range confirmed {
		id := x.Metadata.ID
		md, err := st.Metadata(id)
		if err != nil {
			st.Close()
			t.Fatalf("confirmed blob %s: metadata: %v", id, err)
		}
		for _, sh := range shards {
			for _, typ := range []blob.SliverType{blob.Primary, blob.Secondary} {
				sl, err := st.Sliver(sh, typ, id)
				if err == nil {
					err = enc.VerifySliver(sl, &md.Metadata)
				}
				if err != nil {
					st.Close()
					t.Fatalf("confirmed blob %s: shard %d %s sliver: %v", id, sh, typ, err)
				}
			}
		}
	}
	st.Close()
	t.Logf("killed during uploads: %d blobs stored, %d confirmed by the killed node, all present and intact (%d keys checked, %d slivers, %d in files)",
		len(all), len(confirmed), report.Keys, report.Slivers, report.SliverFiles)

	// Restarted (in process now), it recovers what it missed.
	if err := net.StartNode(ctx, victim); err != nil {
		t.Fatal(err)
	}
	took := waitHolds(t, net, victim, all, time.Minute)
	t.Logf("restarted, the node held every sliver of the %d blobs after %v", len(all), took)
}
