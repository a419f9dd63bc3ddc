package node_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/chain"
	"github.com/walrus-go/walrus/client"
	"github.com/walrus-go/walrus/internal/sdkinternal"
	"github.com/walrus-go/walrus/internal/testnet"
	"github.com/walrus-go/walrus/node"
	"github.com/walrus-go/walrus/nodeapi"
	"github.com/walrus-go/walrus/redstuff"
	"github.com/walrus-go/walrus/store"
	"github.com/walrus-go/walrus/wire"
)

func randomBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 3))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// eventually retries f until it returns nil or the time is up.
func eventually(t *testing.T, timeout time.Duration, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v", what, err)
		}
		time.Sleep(30 * time.Millisecond)
	}
}

// TestDeletedBlobCollected: deleting a deletable blob makes every node drop
// its data and report it nonexistent, unless another registration keeps it.
func TestDeletedBlobCollected(t *testing.T) {
	net := testnet.Start(t, testnet.Config{})
	ctx := context.Background()
	data := randomBytes(30_000, 1)
	a, err := net.Client.Store(ctx, data, client.StoreOptions{Epochs: 3, Deletable: true})
	if err != nil {
		t.Fatal(err)
	}
	b, err := net.Client.Store(ctx, data, client.StoreOptions{Epochs: 3, Deletable: true, Force: true}) // a second object, same blob (Force: not the owned one again)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "both certifications seen", func() error {
		st, err := net.API(0).BlobStatus(ctx, a.BlobID)
		if err != nil || st.Kind != nodeapi.Deletable || st.DeletableCounts != (nodeapi.DeletableCounts{Total: 2, Certified: 2}) || st.InitialCertifiedEpoch == nil {
			return fmt.Errorf("status %+v %v", st, err)
		}
		return nil
	})
	if _, err := net.Chain.Execute(ctx, net.Signer, &chain.DeleteBlob{Blob: chain.Ref(a.ObjectID)}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "one deletion seen", func() error {
		st, err := net.API(1).BlobStatus(ctx, a.BlobID)
		if err != nil || st.DeletableCounts.Total != 1 {
			return errors.New("still two objects")
		}
		return nil
	})
	if _, err := net.API(1).Metadata(ctx, a.BlobID); err != nil {
		t.Fatalf("data dropped while a registration keeps it: %v", err)
	}
	if _, err := net.Chain.Execute(ctx, net.Signer, &chain.DeleteBlob{Blob: chain.Ref(b.ObjectID)}); err != nil {
		t.Fatal(err)
	}
	for i := range net.NodeCount() {
		eventually(t, 10*time.Second, "deleted blob collected", func() error {
			st, err := net.API(i).BlobStatus(ctx, a.BlobID)
			if err != nil || st.Kind != nodeapi.Nonexistent {
				return errors.New("still known")
			}
			if _, err := net.API(i).Metadata(ctx, a.BlobID); !nodeapi.IsReason(err, nodeapi.ReasonMetadataNotFound) {
				return errors.New("metadata still served")
			}
			return nil
		})
	}
}

// TestExpiredBlobCollected: a blob whose storage ends is dropped at the
// epoch change, and uploads of it are refused.
func TestExpiredBlobCollected(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for an epoch change")
	}
	net := testnet.Start(t, testnet.Config{EpochDuration: 3 * time.Second})
	ctx := context.Background()
	short, err := net.Client.Store(ctx, randomBytes(1000, 2), client.StoreOptions{Epochs: 1})
	if err != nil {
		t.Fatal(err)
	}
	long, err := net.Client.Store(ctx, randomBytes(1000, 3), client.StoreOptions{Epochs: 5})
	if err != nil {
		t.Fatal(err)
	}
	for i := range net.NodeCount() {
		eventually(t, 30*time.Second, "expired blob collected", func() error {
			if _, err := net.API(i).Metadata(ctx, short.BlobID); !nodeapi.IsReason(err, nodeapi.ReasonMetadataNotFound) {
				return errors.New("expired blob still served")
			}
			return nil
		})
		if _, err := net.API(i).Metadata(ctx, long.BlobID); err != nil {
			t.Fatalf("node %d dropped a live blob: %v", i, err)
		}
		if st, _ := net.API(i).BlobStatus(ctx, short.BlobID); st.Kind != nodeapi.Nonexistent {
			t.Fatalf("expired blob status %+v", st)
		}
	}
}

// TestBlocklist: a node whose blocklist names a blob deletes its data,
// answers 451, and does not recover it.
func TestBlocklist(t *testing.T) {
	dir := t.TempDir()
	listPath := filepath.Join(dir, "blocklist.txt")
	if err := os.WriteFile(listPath, []byte("# nothing yet\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	net := testnet.Start(t, testnet.Config{NodeConfig: func(i int, c *node.Config) {
		if i == 1 {
			c.BlocklistPath = listPath
		}
	}})
	ctx := context.Background()
	res, err := net.Client.Store(ctx, randomBytes(20_000, 4), client.StoreOptions{Epochs: 3})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(listPath, []byte(res.BlobID.String()+"  # a takedown\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "blocked blob refused", func() error {
		_, err := net.API(1).Metadata(ctx, res.BlobID)
		if !nodeapi.IsReason(err, nodeapi.ReasonForbiddenBlob) {
			return errors.New("metadata still served")
		}
		return nil
	})
	eventually(t, 10*time.Second, "blocked blob deleted", func() error {
		m, err := net.Node(1).MissingSlivers(res.BlobID)
		if err != nil || m != 2*len(net.Node(1).OwnedShards()) {
			return errors.New("slivers still held")
		}
		return nil
	})
	// Other nodes still serve it, and the blob reads.
	got, err := net.Client.Read(ctx, res.BlobID)
	if err != nil || len(got) != 20_000 {
		t.Fatalf("read: %v", err)
	}
	// A new upload of a blocked blob is refused before anything is stored.
	x, err := sdkinternal.Encoder(net.Client).Encode(randomBytes(20_000, 4))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := net.API(1).PutMetadata(ctx, &x.Metadata, true); !nodeapi.IsReason(err, nodeapi.ReasonForbiddenBlob) {
		t.Fatalf("upload of a blocked blob: %v", err)
	}
	if q, _ := net.Node(1).SyncBacklog(); q != 0 {
		t.Fatalf("blocked blob queued for recovery")
	}
}

// TestDamagedSliverRecovered: a sliver damaged on disk is never served; the
// node notices it on read, deletes it and recovers it from its peers.
func TestDamagedSliverRecovered(t *testing.T) {
	net := testnet.Start(t, testnet.Config{})
	ctx := context.Background()
	data := randomBytes(100_000, 5)
	x, err := sdkinternal.Encoder(net.Client).Encode(data)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sdkinternal.StoreEncoded(ctx, net.Client, x, client.StoreOptions{Epochs: 3}); err != nil {
		t.Fatal(err)
	}
	id := x.Metadata.ID
	const victim = 2
	shard := net.Node(victim).OwnedShards()[0]
	pair := net.Client.Params().PairOfShard(id, int(shard))
	if err := net.StopNode(victim); err != nil {
		t.Fatal(err)
	}
	cfg, err := node.LoadConfig(net.ConfigPath(victim))
	if err != nil {
		t.Fatal(err)
	}
	db, err := pebble.Open(cfg.StoragePath, &pebble.Options{Logger: quietLogger{}})
	if err != nil {
		t.Fatal(err)
	}
	k := store.SliverKey(shard, blob.Primary, id)
	v, closer, err := db.Get(k)
	if err != nil {
		t.Fatal(err)
	}
	bad := bytes.Clone(v)
	closer.Close()
	bad[len(bad)/2] ^= 0x40
	if err := db.Set(k, bad, pebble.Sync); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if err := net.StartNode(ctx, victim); err != nil {
		t.Fatal(err)
	}
	if err := net.WaitHealthy(ctx, victim); err != nil {
		t.Fatal(err)
	}
	if _, err := net.API(victim).Sliver(ctx, id, pair, blob.Primary); err == nil {
		t.Fatal("a damaged sliver was served")
	}
	want := x.Pair(pair).Primary
	eventually(t, 20*time.Second, "damaged sliver recovered", func() error {
		got, err := net.API(victim).Sliver(ctx, id, pair, blob.Primary)
		if err != nil {
			return err
		}
		if !bytes.Equal(got.Data, want.Data) {
			return errors.New("recovered sliver differs")
		}
		return nil
	})
	mfs, _ := net.Registry(victim).Gather()
	found := false
	for _, mf := range mfs {
		if mf.GetName() == "walrus_node_corrupt_values_total" && mf.GetMetric()[0].GetCounter().GetValue() >= 1 {
			found = true
		}
	}
	if !found {
		t.Fatal("the damage was not reported in the metrics")
	}
}

// TestPendingUploadsFlushedOnRegistration: a writer uploads with
// ?pending=true before registering; the node buffers, stores on the
// registration event, and the confirmation long-poll answers.
func TestPendingUploadsFlushedOnRegistration(t *testing.T) {
	net := testnet.Start(t, testnet.Config{})
	ctx := context.Background()
	x, err := sdkinternal.Encoder(net.Client).Encode(randomBytes(10_000, 6))
	if err != nil {
		t.Fatal(err)
	}
	id := x.Metadata.ID
	api := net.API(0)
	p := net.Client.Params()
	if code, err := api.PutMetadata(ctx, &x.Metadata, true); err != nil || code != 202 {
		t.Fatalf("pending metadata: %d %v", code, err)
	}
	for _, sh := range net.Node(0).OwnedShards() {
		pair := p.PairOfShard(id, int(sh))
		sp := x.Pair(pair)
		for _, s := range []*redstuff.Sliver{&sp.Primary, &sp.Secondary} {
			if code, err := api.PutSliver(ctx, id, pair, s, true); err != nil || code != 202 {
				t.Fatalf("pending sliver: %d %v", code, err)
			}
		}
	}
	size, _ := p.EncodedLength(x.Metadata.UnencodedLength)
	done := make(chan error, 1)
	go func() {
		_, err := net.Chain.Execute(ctx, net.Signer, &chain.ReserveSpace{EncodedSize: size, EpochsAhead: 2},
			&chain.RegisterBlob{Storage: chain.CreatedRef(0), BlobID: id, RootHash: x.Metadata.Root(), Size: x.Metadata.UnencodedLength, EncodingType: 1})
		done <- err
	}()
	sm, err := api.Confirmation(ctx, id, wire.Permanent, 5*time.Second)
	if err != nil {
		t.Fatalf("long-poll confirmation: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	c, err := wire.ParseConfirmation(sm.Message)
	if err != nil || c.BlobID != id {
		t.Fatalf("confirmation %+v %v", c, err)
	}
	if st, _ := api.MetadataStatus(ctx, id); st != nodeapi.StatusStored {
		t.Fatalf("metadata status %q", st)
	}
}

// TestHealthAndMetrics: the health answer and the metrics describe the node.
func TestHealthAndMetrics(t *testing.T) {
	net := testnet.Start(t, testnet.Config{})
	ctx := context.Background()
	if _, err := net.Client.Store(ctx, randomBytes(5000, 7), client.StoreOptions{Epochs: 2}); err != nil {
		t.Fatal(err)
	}
	h, err := net.API(0).Health(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	if h.Epoch != 1 || h.ShardSummary.Owned == 0 || h.ShardSummary.OwnedShardStatus.Ready != h.ShardSummary.Owned ||
		h.ShardDetail == nil || len(h.ShardDetail.Owned) != h.ShardSummary.Owned || h.NodeStatus == "" {
		t.Fatalf("health %+v", h)
	}
	mfs, err := net.Registry(0).Gather()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, mf := range mfs {
		names[mf.GetName()] = true
	}
	for _, want := range []string{"walrus_node_http_requests_total", "walrus_node_slivers_stored_total", "walrus_node_events_total",
		"walrus_node_sync_backlog", "walrus_node_http_request_bytes_total"} {
		if !names[want] {
			t.Errorf("metric %s missing (have %v)", want, names)
		}
	}
}

type quietLogger struct{}

func (quietLogger) Infof(string, ...any)           {}
func (quietLogger) Errorf(string, ...any)          {}
func (quietLogger) Fatalf(format string, a ...any) { panic(format) }
