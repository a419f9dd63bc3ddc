package testnet_test

import (
	"bytes"
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/chain"
	"github.com/walrus-go/walrus/client"
	"github.com/walrus-go/walrus/ids"
	"github.com/walrus-go/walrus/internal/sdkinternal"
	"github.com/walrus-go/walrus/internal/testnet"
	"github.com/walrus-go/walrus/nodeapi"
)

// waitMoved waits until an epoch change that moved shards away from before
// has completed, and returns the new assignment. (A stake that lands after
// the voting end of its epoch counts one epoch later; this waits for it.)
func waitMoved(t *testing.T, net *testnet.Network, before [][]uint16, timeout time.Duration) [][]uint16 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for {
		sys, err := net.Chain.System(ctx)
		if err != nil {
			t.Fatalf("waiting for shards to move: %v", err)
		}
		if sys.State != chain.EpochChangeSync {
			if a := assignment(t, net); !slices.EqualFunc(a, before, slices.Equal) {
				return a
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// assignment returns each node's shards in the current committee.
func assignment(t *testing.T, net *testnet.Network) [][]uint16 {
	t.Helper()
	cur, _, err := sdkinternal.Committees(context.Background(), net.Client)
	if err != nil {
		t.Fatal(err)
	}
	out := make([][]uint16, net.NodeCount())
	for _, m := range cur.Members() {
		for i := range net.NodeCount() {
			if m.NetworkAddress == net.Address(i) {
				out[i] = slices.Sorted(slices.Values(m.Shards))
			}
		}
	}
	return out
}

// stake adds stake to node i from the user's account.
func stake(t *testing.T, net *testnet.Network, i int, amount uint64) {
	t.Helper()
	ctx := context.Background()
	cur, _, err := sdkinternal.Committees(ctx, net.Client)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range cur.Members() {
		if m.NetworkAddress == net.Address(i) {
			if _, err := net.Chain.Execute(ctx, net.Signer, &chain.StakeWithPool{Node: chain.Ref(ids.ObjectID(m.NodeID)), Amount: amount}); err != nil {
				t.Fatal(err)
			}
			return
		}
	}
	t.Fatalf("node %d is not in the committee", i)
}

// TestTwoEpochChanges: stake moves shards twice while a writer keeps
// storing; at each change the nodes that gain shards recover their slivers
// from the committee and report epoch_sync_done, the change completes, the
// losers drop the shards, and every stored blob stays readable and fully
// held.
func TestTwoEpochChanges(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for two epoch changes")
	}
	net := testnet.Start(t, testnet.Config{EpochDuration: 6 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	before := assignment(t, net)
	stake(t, net, 0, 3000*chain.FrostPerWAL) // before voting end: counts for epoch 2
	var stored [][]byte
	var results []*client.StoreResult
	storeOne := func(seed uint64) {
		data := randomBytes(200_000, seed)
		res, err := net.Client.Store(ctx, data, client.StoreOptions{Epochs: 20})
		if err != nil { // at an epoch boundary a store may fail; a user retries
			t.Logf("store failed, retrying: %v", err)
			res, err = net.Client.Store(ctx, data, client.StoreOptions{Epochs: 20})
		}
		if err != nil {
			t.Fatal(err)
		}
		stored, results = append(stored, data), append(results, res)
	}
	storeOne(1)
	storeOne(2)
	// A writer that keeps storing across the changes (a store that meets an
	// epoch boundary may fail; the others must be held by every node).
	var bgMu sync.Mutex
	var background []*client.StoreResult
	bgFailures := 0
	stopBg := make(chan struct{})
	bgDone := make(chan struct{})
	go func() {
		defer close(bgDone)
		for k := uint64(100); ; k++ {
			select {
			case <-stopBg:
				return
			default:
			}
			res, err := net.Client.Store(ctx, randomBytes(30_000, k), client.StoreOptions{Epochs: 20})
			bgMu.Lock()
			if err == nil {
				background = append(background, res)
			} else {
				bgFailures++
				t.Logf("background store failed: %v", err)
			}
			bgMu.Unlock()
		}
	}()
	defer func() { close(stopBg); <-bgDone }()
	checkAll := func(epoch uint32) {
		t.Helper()
		for i := range net.NodeCount() {
			nd := net.Node(i)
			for {
				missing := 0
				for _, r := range results {
					m, err := nd.MissingSlivers(r.BlobID)
					if err != nil {
						t.Fatal(err)
					}
					missing += m
				}
				if missing == 0 {
					break
				}
				if ctx.Err() != nil {
					t.Fatalf("epoch %d: node %d still misses %d slivers", epoch, i, missing)
				}
				time.Sleep(50 * time.Millisecond)
			}
		}
		for k, r := range results {
			got, err := net.Client.Read(ctx, r.BlobID)
			if err != nil || stored[k] != nil && !bytes.Equal(got, stored[k]) {
				t.Fatalf("epoch %d: read blob %d: %v", epoch, k, err)
			}
		}
	}

	second := waitMoved(t, net, before, time.Minute)
	t.Logf("epoch change: shards %v → %v", before, second)
	checkAll(2)
	storeOne(3)
	stake(t, net, 1, 8000*chain.FrostPerWAL)
	third := waitMoved(t, net, second, time.Minute)
	t.Logf("epoch change: shards %v → %v", second, third)
	close(stopBg)
	<-bgDone
	stopBg = make(chan struct{})
	bgMu.Lock()
	results = append(results, background...)
	for range background {
		stored = append(stored, nil) // not compared byte for byte
	}
	t.Logf("the background writer stored %d blobs across the changes (%d attempts failed)", len(background), bgFailures)
	if len(background) == 0 {
		t.Fatal("no store succeeded during the epoch changes")
	}
	bgMu.Unlock()
	checkAll(3)

	// Shards handed over are dropped once the change is done.
	p := net.Client.Params()
	for i := range net.NodeCount() {
		for _, r := range results {
			for s := range p.N() {
				if slices.Contains(third[i], uint16(s)) {
					continue
				}
				for {
					_, err := net.API(i).Sliver(ctx, r.BlobID, p.PairOfShard(r.BlobID, s), blob.Primary)
					if nodeapi.IsReason(err, nodeapi.ReasonShardNotAssigned) {
						break
					}
					if ctx.Err() != nil {
						t.Fatalf("node %d still serves shard %d it lost: %v", i, s, err)
					}
					time.Sleep(50 * time.Millisecond)
				}
			}
		}
	}
	sys, err := net.Chain.System(ctx)
	if err != nil || sys.Epoch < 3 {
		t.Fatalf("epochs did not advance: %+v %v", sys, err)
	}
}

// TestDownThroughEpochChange: a node that is down for a whole epoch change
// in which it gains a shard (the others complete the change without it)
// recovers the gained shard's slivers when it comes back.
func TestDownThroughEpochChange(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for an epoch change")
	}
	net := testnet.Start(t, testnet.Config{EpochDuration: 5 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	before := assignment(t, net)
	x := -1
	for i, s := range before {
		if len(s) == 2 {
			x = i
		}
	}
	// A little more stake ranks x first: it gets a third shard, and the
	// others keep a quorum (7 of 10) without it.
	stake(t, net, x, chain.FrostPerWAL)
	blobs := storeBlobs(t, net, []int{60_000, 200_000}, 500)
	if err := net.StopNode(x); err != nil {
		t.Fatal(err)
	}
	after := waitMoved(t, net, before, time.Minute)
	if len(after[x]) != 3 {
		t.Fatalf("shards %v → %v", before, after)
	}
	t.Logf("while node %d was down: shards %v → %v", x, before, after)
	if err := net.StartNode(ctx, x); err != nil {
		t.Fatal(err)
	}
	took := waitHolds(t, net, x, blobs, time.Minute)
	checkIdentical(t, net, x, blobs)
	t.Logf("back up, node %d holds the slivers of its gained shard after %v", x, took)
}
