package testnet_test

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/client"
	"github.com/walrus-go/walrus/internal/testnet"
	"github.com/walrus-go/walrus/quilt"
	"github.com/walrus-go/walrus/wallet"
)

// TestSDKDoor drives the SDK's entry points that the gateway and the CLI
// use instead of the chain and the encoder: Open (with and without a
// wallet), WithKey, TransferWal, EstimateCost against what a store pays,
// BlobID, Availability before and after a store, EpochClock, and
// StoreBuiltQuilt with a CheckID that refuses.
func TestSDKDoor(t *testing.T) {
	net := testnet.Start(t, testnet.Config{})
	ctx := ctxFor(t, 2*time.Minute)
	dir := t.TempDir()
	walletPath := filepath.Join(dir, "wallet.yaml")
	key, err := wallet.Create(walletPath)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &client.ContextConfig{RPCURLs: []string{"http://127.0.0.1:1", net.ChainRPC()}, WalletConfig: &client.WalletConfig{Path: walletPath}}

	// A read-only client: no wallet, and a missing required one is ErrNoWallet.
	ro, err := client.Open(ctx, cfg, client.OpenOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if ro.CanSign() || ro.ChainID() != testnet.ChainID {
		t.Fatalf("read-only client: can sign %v, chain %q", ro.CanSign(), ro.ChainID())
	}
	if _, err := client.Open(ctx, &client.ContextConfig{RPCURLs: cfg.RPCURLs}, client.OpenOptions{RequireWallet: true}); !errors.Is(err, client.ErrNoWallet) {
		t.Fatalf("a required wallet that is not configured: %v", err)
	}
	if _, err := client.Open(ctx, &client.ContextConfig{RPCURLs: []string{"http://127.0.0.1:1"}}, client.OpenOptions{DialTimeout: time.Second}); err == nil {
		t.Fatal("a chain that does not answer opened")
	}

	// Open with the configured wallet, fund it from the funded user with
	// TransferWal, and store through it.
	c, err := client.Open(ctx, cfg, client.OpenOptions{RequireWallet: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if !c.CanSign() || c.Address() != wallet.Address(key) {
		t.Fatalf("wallet client: can sign %v, address %s", c.CanSign(), c.Address())
	}
	if err := net.Client.TransferWal(ctx, client.WalTransfer{To: c.Address(), Amount: 50 * client.FrostPerWAL}); err != nil {
		t.Fatal(err)
	}
	if bal, err := c.Balance(ctx); err != nil || bal != 50*client.FrostPerWAL {
		t.Fatalf("balance after the transfer: %d %v", bal, err)
	}
	if err := ro.TransferWal(ctx, client.WalTransfer{To: c.Address(), Amount: 1}); !errors.Is(err, client.ErrNoWallet) {
		t.Fatalf("a read-only client transferred: %v", err)
	}

	data := randomBytes(70_000, 41)
	id, err := ro.BlobID(data)
	if err != nil {
		t.Fatal(err)
	}
	if av, err := ro.Availability(ctx, id); err != nil || av.Certified || av.Invalid || !av.Expiry.IsZero() {
		t.Fatalf("availability before the store: %+v %v", av, err)
	}
	est, err := ro.EstimateCost(ctx, uint64(len(data)), 3)
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Store(ctx, data, client.StoreOptions{Epochs: 3, IgnoreResources: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.BlobID != id || res.Cost != est.Total || est.StorageCost+est.WriteCost != est.Total || est.EncodedSize != res.EncodedSize {
		t.Fatalf("store paid %d for %s (%d encoded), the estimate was %+v for %s", res.Cost, res.BlobID, res.EncodedSize, est, id)
	}
	if _, err := ro.EstimateCost(ctx, ro.Params().MaxBlobSize()+1, 1); !errors.Is(err, client.ErrBlobTooLarge) {
		t.Fatalf("estimate above the largest blob: %v", err)
	}

	clk, err := ro.EpochClock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	av, err := ro.Availability(ctx, id)
	if err != nil || !av.Certified || av.EndEpoch != clk.Epoch+3 || !av.Expiry.Equal(clk.StartOf(av.EndEpoch)) || av.Epoch != clk.Epoch {
		t.Fatalf("availability after the store: %+v %v (clock %+v)", av, err, clk)
	}
	if got := clk.EpochAt(av.Expiry); got != av.EndEpoch {
		t.Fatalf("EpochAt(expiry) = %d, want %d", got, av.EndEpoch)
	}

	// A sub-wallet client over the same connection; closing it leaves c working.
	sub, err := c.WithKey(ctx, testnet.Key("sdk door sub-wallet"), client.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.TransferWal(ctx, client.WalTransfer{To: sub.Address(), Amount: 10 * client.FrostPerWAL}); err != nil {
		t.Fatal(err)
	}
	q, err := quilt.Encode(sub.Params(), []quilt.Patch{{Identifier: "a", Data: []byte("first")}, {Identifier: "b", Data: []byte("second")}})
	if err != nil {
		t.Fatal(err)
	}
	refused := errors.New("refused by the test")
	var seen blob.ID
	if _, err := sub.StoreBuiltQuilt(ctx, q, client.StoreOptions{Epochs: 1, CheckID: func(id blob.ID) error { seen = id; return refused }}); !errors.Is(err, refused) {
		t.Fatalf("a quilt refused by CheckID: %v", err)
	}
	if bal, _ := sub.Balance(ctx); bal != 10*client.FrostPerWAL {
		t.Fatalf("a refused store paid: balance %d", bal)
	}
	qs, err := sub.StoreBuiltQuilt(ctx, q, client.StoreOptions{Epochs: 1})
	if err != nil || qs.Store.BlobID != seen || len(qs.Result.StoredQuiltBlobs) != 2 {
		t.Fatalf("quilt store: %+v %v (CheckID saw %s)", qs, err, seen)
	}
	sub.Close()
	if _, err := c.Balance(ctx); err != nil {
		t.Fatalf("closing a WithKey client closed the shared connection: %v", err)
	}
}
