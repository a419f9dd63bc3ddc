package testnet_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/client"
	"github.com/walrus-go/walrus/internal/sdkinternal"
	"github.com/walrus-go/walrus/internal/testnet"
	"github.com/walrus-go/walrus/redstuff"
)

// storeBlobs stores blobs of the given sizes and returns their encodings.
func storeBlobs(t *testing.T, net *testnet.Network, sizes []int, seed uint64) []*redstuff.Encoded {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out []*redstuff.Encoded
	for i, size := range sizes {
		x, err := sdkinternal.Encoder(net.Client).Encode(randomBytes(size, seed+uint64(i)))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sdkinternal.StoreEncoded(ctx, net.Client, x, client.StoreOptions{Epochs: 5}); err != nil {
			t.Fatal(err)
		}
		out = append(out, x)
	}
	return out
}

// waitHolds waits until node i holds every sliver of its shards of the
// blobs and its recovery queue is empty; it returns how long that took.
func waitHolds(t *testing.T, net *testnet.Network, i int, blobs []*redstuff.Encoded, timeout time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		done := true
		for _, x := range blobs {
			m, err := net.Node(i).MissingSlivers(x.Metadata.ID)
			if err != nil {
				t.Fatal(err)
			}
			if m > 0 {
				done = false
				break
			}
		}
		if q, _ := net.Node(i).SyncBacklog(); done && q == 0 {
			return time.Since(start)
		}
		if time.Since(start) > timeout {
			t.Fatalf("node %d still lacks slivers after %v", i, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// checkIdentical fetches every sliver of node i's shards through its API and
// compares it with the writer's encoding, byte for byte. It returns the
// number of sliver pairs the node holds per blob.
func checkIdentical(t *testing.T, net *testnet.Network, i int, blobs []*redstuff.Encoded) int {
	t.Helper()
	ctx := context.Background()
	p := net.Client.Params()
	shards := net.Node(i).OwnedShards()
	for _, x := range blobs {
		id := x.Metadata.ID
		for _, sh := range shards {
			pair := p.PairOfShard(id, int(sh))
			want := x.Pair(pair)
			for _, w := range []redstuff.Sliver{want.Primary, want.Secondary} {
				got, err := net.API(i).Sliver(ctx, id, pair, w.Type)
				if err != nil {
					t.Fatalf("node %d shard %d %s: %v", i, sh, w.Type, err)
				}
				if got.Index != w.Index || got.SymbolSize != w.SymbolSize || !bytes.Equal(got.Data, w.Data) {
					t.Fatalf("node %d shard %d %s sliver differs from the writer's", i, sh, w.Type)
				}
			}
		}
	}
	return len(shards)
}

// pairBound is the RedStuff bound of one blob: a sliver pair's worth of
// symbols, (k_p + k_s)·s bytes, per pair recovered.
func pairBound(p blob.Params, x *redstuff.Encoded) int64 {
	return int64(p.PrimarySymbols()+p.SecondarySymbols()) * int64(x.SymbolSize)
}

func reportRecovery(t *testing.T, net *testnet.Network, i int, blobs []*redstuff.Encoded, took time.Duration) {
	t.Helper()
	st := net.Node(i).RecoveryStats()
	pairs := int64(len(net.Node(i).OwnedShards()))
	var bound, size int64
	for _, x := range blobs {
		bound += pairs * pairBound(net.Client.Params(), x)
		size += int64(x.Metadata.UnencodedLength)
	}
	ratio := float64(st.BytesDownloaded) / float64(bound)
	t.Logf("node %d (%d shards): recovered %d slivers of %d blobs (%d bytes) in %v; downloaded %d bytes = %.2f × the RedStuff bound of %d bytes (%d pairs × (k_p+k_s)·s)",
		i, pairs, st.SliversRecovered, len(blobs), size, took.Round(time.Millisecond), st.BytesDownloaded, ratio, bound, pairs*int64(len(blobs)))
	if ratio > 2 {
		t.Errorf("recovery downloaded %.2f × the bound", ratio)
	}
}

// TestRecoveryAfterMissedUploads: a node that was down while blobs were
// stored catches up with the chain's events and recovers its slivers.
func TestRecoveryAfterMissedUploads(t *testing.T) {
	net := testnet.Start(t, testnet.Config{})
	const down = 1
	if err := net.StopNode(down); err != nil {
		t.Fatal(err)
	}
	blobs := storeBlobs(t, net, []int{1, 40_000, 700_000}, 100)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := net.StartNode(ctx, down); err != nil {
		t.Fatal(err)
	}
	took := waitHolds(t, net, down, blobs, time.Minute)
	checkIdentical(t, net, down, blobs)
	reportRecovery(t, net, down, blobs, took)
}

// TestRecoveryOfWipedNode: a node whose database was deleted replays the
// chain's events from the start and recovers every sliver of its shards, of
// a 4 MiB blob among others, well within 30 seconds (n = 100, 4 nodes).
func TestRecoveryOfWipedNode(t *testing.T) {
	net := testnet.Start(t, testnet.Config{Shards: 100})
	blobs := storeBlobs(t, net, []int{5_000, 4 << 20, 100_000}, 200)
	const wiped = 2
	if err := net.WipeNode(wiped); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	start := time.Now()
	if err := net.StartNode(ctx, wiped); err != nil {
		t.Fatal(err)
	}
	waitHolds(t, net, wiped, blobs, time.Minute)
	took := time.Since(start)
	if took > 30*time.Second {
		t.Errorf("the wiped node took %v to hold all its slivers again", took)
	}
	checkIdentical(t, net, wiped, blobs)
	reportRecovery(t, net, wiped, blobs, took)
}
