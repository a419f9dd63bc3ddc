package testnet_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/client"
	"github.com/walrus-go/walrus/internal/sdkinternal"
	"github.com/walrus-go/walrus/internal/testnet"
	"github.com/walrus-go/walrus/nodeapi"
	"github.com/walrus-go/walrus/redstuff"
)

// inconsistentBlob encodes data and then lies about one primary sliver: it
// changes the sliver and puts the changed sliver's hash in the metadata, so
// the blob ID commits to an encoding that is not a codeword. The lie is on
// a pair that lands (under the new blob ID) on a shard of victim. Every
// other sliver still verifies against the metadata.
func inconsistentBlob(t *testing.T, net *testnet.Network, data []byte, victimShards []uint16) (*redstuff.Encoded, int) {
	t.Helper()
	enc := sdkinternal.Encoder(net.Client)
	p := net.Client.Params()
	for flip := byte(1); flip != 0; flip++ {
		for pair := range p.N() {
			x, err := enc.Encode(data)
			if err != nil {
				t.Fatal(err)
			}
			bad := x.Primary(pair) // aliases the encoding's memory
			bad.Data[0] ^= flip
			md := x.Metadata
			md.Hashes = slices.Clone(md.Hashes)
			md.Hashes[pair].Primary = enc.SliverHash(&bad)
			md.ID = md.ComputeID()
			if slices.Contains(victimShards, uint16(p.ShardOfPair(md.ID, pair))) {
				x.Metadata = md
				return x, pair
			}
		}
	}
	t.Fatal("no suitable lie found")
	return nil, 0
}

// TestMaliciousWriter: a writer stores an inconsistently encoded blob while
// one node is down. It certifies with the others' confirmations (their
// slivers verify). The node, back up, fails to rebuild the lying sliver from
// the others' symbols, gets the committee to attest the proof, and
// invalidates the blob on chain; every node then drops it and reports it
// invalid, and reads fail with ErrBlobInvalid.
func TestMaliciousWriter(t *testing.T) {
	net := testnet.Start(t, testnet.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const victim = 0
	shards := net.Node(victim).OwnedShards()
	if err := net.StopNode(victim); err != nil {
		t.Fatal(err)
	}
	x, pair := inconsistentBlob(t, net, randomBytes(50_000, 9), shards)
	id := x.Metadata.ID
	res, err := sdkinternal.StoreEncoded(ctx, net.Client, x, client.StoreOptions{Epochs: 5})
	if err != nil {
		t.Fatalf("the lying writer could not certify: %v", err)
	}
	t.Logf("certified inconsistent blob %s (lie in primary sliver %d) with weight %d", id, pair, res.Weight)
	if err := net.StartNode(ctx, victim); err != nil {
		t.Fatal(err)
	}
	for {
		st, err := net.Chain.BlobStatus(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if st.Invalid {
			t.Logf("invalid on chain in epoch %d", st.InvalidEpoch)
			break
		}
		if ctx.Err() != nil {
			t.Fatal("the blob was not invalidated")
		}
		time.Sleep(50 * time.Millisecond)
	}
	for i := range net.NodeCount() {
		for {
			st, err := net.API(i).BlobStatus(ctx, id)
			if err == nil && st.Kind == nodeapi.Invalid {
				break
			}
			if ctx.Err() != nil {
				t.Fatalf("node %d: status %+v %v", i, st, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
		if _, err := net.API(i).Metadata(ctx, id); !nodeapi.IsReason(err, nodeapi.ReasonMetadataNotFound) {
			t.Fatalf("node %d still serves the invalid blob's metadata: %v", i, err)
		}
		for _, sh := range net.Node(i).OwnedShards() {
			if _, err := net.API(i).Sliver(ctx, id, net.Client.Params().PairOfShard(id, int(sh)), blob.Primary); err == nil {
				t.Fatalf("node %d still serves a sliver of the invalid blob", i)
			}
		}
	}
	if _, err := net.Client.Read(ctx, id); !errors.Is(err, client.ErrBlobInvalid) {
		t.Fatalf("read of the invalid blob: %v", err)
	}
}
