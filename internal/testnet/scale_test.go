package testnet_test

import (
	"context"
	"flag"
	"testing"
	"time"

	"github.com/walrus-go/walrus/internal/testnet"
)

var (
	long     = flag.Bool("long", false, "run the long measurements (n = 1000 shards)")
	longSize = flag.Int("long-size", 4<<20, "blob size of the long measurements")
)

// TestWipedNodeN1000 measures the recovery of a wiped node at Walrus
// Mainnet's shard count: 4 nodes of 250 shards, a 4 MiB blob (-long-size
// to change it). Run it with
//
//	go test ./internal/testnet -run TestWipedNodeN1000 -long -v
func TestWipedNodeN1000(t *testing.T) {
	if !*long {
		t.Skip("a long measurement: pass -long")
	}
	net := testnet.Start(t, testnet.Config{Shards: 1000})
	t0 := time.Now()
	blobs := storeBlobs(t, net, []int{*longSize}, 300)
	t.Logf("stored a %d-byte blob at n = 1000 in %v", *longSize, time.Since(t0).Round(time.Millisecond))
	const wiped = 1
	if err := net.WipeNode(wiped); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	start := time.Now()
	if err := net.StartNode(ctx, wiped); err != nil {
		t.Fatal(err)
	}
	waitHolds(t, net, wiped, blobs, 2*time.Minute)
	took := time.Since(start)
	checkIdentical(t, net, wiped, blobs)
	reportRecovery(t, net, wiped, blobs, took)
}
