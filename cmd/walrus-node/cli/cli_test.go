package cli

import (
	"bytes"
	"context"
	"math/rand/v2"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/walrus-go/walrus/chain"
	"github.com/walrus-go/walrus/chain/abci"
	"github.com/walrus-go/walrus/client"
	"github.com/walrus-go/walrus/ids"
	"github.com/walrus-go/walrus/internal/sdkinternal"
	"github.com/walrus-go/walrus/internal/testnet"
)

func field(out, name string) string {
	for _, line := range strings.Split(out, "\n") {
		if k, v, ok := strings.Cut(line, "\t"); ok && k == name {
			return v
		}
	}
	return ""
}

// TestSetupRegisterRunJoins: a node made with setup, funded, registered
// with stake and run joins the committee at the next epoch, recovers the
// slivers of its new shards and reports epoch_sync_done, so the epoch
// change completes.
func TestSetupRegisterRunJoins(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for an epoch change")
	}
	tn := testnet.Start(t, testnet.Config{EpochDuration: 8 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	data := make([]byte, 150_000)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	x, err := sdkinternal.Encoder(tn.Client).Encode(data)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sdkinternal.StoreEncoded(ctx, tn.Client, x, client.StoreOptions{Epochs: 10}); err != nil {
		t.Fatal(err)
	}

	addr, err := abci.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	host, port, _ := net.SplitHostPort(addr)
	dir := filepath.Join(t.TempDir(), "new-node")
	var out, errb bytes.Buffer
	if code := Run([]string{"setup", "--dir", dir, "--chain-rpc", tn.ChainRPC(), "--chain-id", testnet.ChainID,
		"--public-host", host, "--public-port", port, "--rest-api-address", addr, "--metrics-address", ""}, &out, &errb); code != 0 {
		t.Fatalf("setup: %s", errb.String())
	}
	cfgPath := field(out.String(), "config")
	account, err := ids.ParseAddress(field(out.String(), "account"))
	if err != nil {
		t.Fatalf("setup output %q: %v", out.String(), err)
	}
	if code := Run([]string{"setup", "--dir", dir}, &out, &errb); code == 0 {
		t.Fatal("setup overwrote an existing node")
	}
	if _, err := tn.Chain.Execute(ctx, tn.Signer, &chain.TransferWal{To: account, Amount: 10_000 * chain.FrostPerWAL}); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if code := Run([]string{"register", "--config", cfgPath, "--stake", "5000000000000"}, &out, &errb); code != 0 {
		t.Fatalf("register: %s", errb.String())
	}
	nodeID, err := ids.ParseObjectID(field(out.String(), "node_id"))
	if err != nil {
		t.Fatalf("register output %q: %v", out.String(), err)
	}
	runCtx, stopRun := context.WithCancel(ctx)
	var runErr bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- RunContext(runCtx, []string{"run", "--config", cfgPath, "--log-level", "warn"}, &out, &runErr)
	}()
	defer func() {
		stopRun()
		if code := <-done; code != 0 {
			t.Errorf("run exited with %d: %s", code, runErr.String())
		}
	}()

	// It joins at the next epoch and the change completes.
	var shards []uint16
	for {
		sys, err := tn.Chain.System(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if sys.Epoch >= 2 && sys.State != chain.EpochChangeSync {
			info, err := tn.Chain.Committee(ctx, "current")
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range info.Members {
				if m.NodeID == nodeID {
					shards = m.Shards
				}
			}
			if len(shards) > 0 {
				break
			}
		}
		if ctx.Err() != nil {
			t.Fatalf("the new node did not join: %s", runErr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	pool, err := tn.Chain.Object(ctx, nodeID)
	if err != nil || pool.Pool.LastSyncDone < 2 {
		t.Fatalf("the new node did not report epoch_sync_done: %+v %v", pool, err)
	}
	// The client pins the new member's key once it has seen the committee.
	if _, _, err := sdkinternal.Committees(ctx, tn.Client); err != nil {
		t.Fatal(err)
	}
	api, err := sdkinternal.Node(tn.Client, addr)
	if err != nil {
		t.Fatal(err)
	}
	p := tn.Client.Params()
	for _, sh := range shards {
		pair := p.PairOfShard(x.Metadata.ID, int(sh))
		got, err := api.Sliver(ctx, x.Metadata.ID, pair, 0)
		if err != nil || !bytes.Equal(got.Data, x.Pair(pair).Primary.Data) {
			t.Fatalf("shard %d: %v", sh, err)
		}
	}
	t.Logf("new node %s joined with shards %v and holds their slivers", nodeID, shards)
}
