package abci_test

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/walrus-go/walrus/chain"
	"github.com/walrus-go/walrus/chain/abci"
	"github.com/walrus-go/walrus/chain/chainclient"
	"github.com/walrus-go/walrus/ids"
)

func testKey(seed string) ed25519.PrivateKey {
	s := sha256.Sum256([]byte(seed))
	return ed25519.NewKeyFromSeed(s[:])
}

// TestFourValidatorsOneStopped runs four validators in this process; with
// one stopped the other three (75 % of the power) keep committing, and a
// transaction still gets in.
func TestFourValidatorsOneStopped(t *testing.T) {
	if testing.Short() {
		t.Skip("network test")
	}
	ctx := context.Background()
	dir := t.TempDir()
	user := testKey("user")
	g := &chain.Genesis{NShards: 10, EpochDurationMs: 3_600_000, MaxEpochsAhead: 5, StoragePrice: 1, WritePrice: 1, Capacity: 1 << 30,
		MinFee: 10, Accounts: []chain.GenesisAccount{{Address: ids.AddressOf(user.Public().(ed25519.PublicKey)), Balance: 1e12}}}
	var vals []abci.Validator
	for i := range 4 {
		p2p, err := abci.FreeAddr()
		if err != nil {
			t.Fatal(err)
		}
		vals = append(vals, abci.Validator{Home: filepath.Join(dir, fmt.Sprintf("v%d", i)), P2PAddr: p2p})
	}
	if err := abci.InitNetwork(abci.NetworkConfig{ChainID: "walrus-net", Genesis: g, Validators: vals}); err != nil {
		t.Fatal(err)
	}
	nodes := make([]*abci.Node, 4)
	for i, v := range vals {
		n, err := abci.Start(ctx, abci.NodeConfig{Home: v.Home, RPCListen: "auto"})
		if err != nil {
			t.Fatal(err)
		}
		nodes[i] = n
		t.Cleanup(func() {
			if nodes[i] != nil {
				nodes[i].Stop()
			}
		})
	}
	waitHeight := func(n *abci.Node, h int64) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for n.App().Height() < h {
			if time.Now().After(deadline) {
				t.Fatalf("height %d not reached (at %d)", h, n.App().Height())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitHeight(nodes[0], 3)
	if err := nodes[3].Stop(); err != nil {
		t.Fatal(err)
	}
	nodes[3] = nil
	h := nodes[0].App().Height()
	waitHeight(nodes[1], h+5)
	c, err := chainclient.Dial(ctx, chainclient.Config{RPC: nodes[2].RPCAddress(), PollInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Execute(ctx, chainclient.NewSigner(user), &chain.TransferWal{To: ids.Address{7}, Amount: 5})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		waitHeight(nodes[i], res.Height)
	}
	for i := range 3 {
		a, err := chain.LoadAccount(nodes[i].App(), ids.Address{7})
		if err != nil || a.Balance != 5 {
			t.Errorf("validator %d: balance %d %v", i, a.Balance, err)
		}
	}
}
