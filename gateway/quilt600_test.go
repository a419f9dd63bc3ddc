package gateway_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/walrus-go/walrus/chain"
	"github.com/walrus-go/walrus/client"
	"github.com/walrus-go/walrus/gateway"
	"github.com/walrus-go/walrus/internal/testnet"
	"github.com/walrus-go/walrus/quilt"
)

// TestQuilt600 stores 600 files of 10 KiB as one quilt through PUT
// /v1/quilts at Walrus Mainnet's shard count (n = 1000, Mainnet's prices),
// reads every file back by identifier from one aggregator and by patch ID
// from another (each read from the patch's own secondary slivers: neither
// aggregator holds the quilt), and compares the cost with 600 separate
// blobs.
func TestQuilt600(t *testing.T) {
	if testing.Short() {
		t.Skip("n = 1000 shards")
	}
	net := testnet.Start(t, testnet.Config{Shards: 1000, Genesis: func(g *chain.Genesis) { g.StoragePrice, g.WritePrice = 100_000, 20_000 }})
	_, pub := startServer(t, net, gateway.Config{Publisher: true, MetricsAddress: "off", MaxQuiltBodySize: 16 << 20,
		Wallets: gateway.WalletsConfig{N: 1}})
	_, byIdent := startServer(t, net, gateway.Config{Aggregator: true, MetricsAddress: "off"})
	_, byID := startServer(t, net, gateway.Config{Aggregator: true, MetricsAddress: "off"})

	const n, size = 600, 10 << 10
	files := map[string][]byte{}
	var order []string
	var patches []quilt.Patch
	for i := range n {
		id := fmt.Sprintf("file-%03d.bin", i)
		files[id] = randomBytes(size, uint64(1000+i))
		order = append(order, id)
		patches = append(patches, quilt.Patch{Identifier: id, Data: files[id]})
	}
	body, ct := quiltForm(t, files, order, `[{"identifier":"file-000.bin","tags":{"first":"yes"}}]`)
	t0 := time.Now()
	resp, b := call(t, "PUT", pub+"/v1/quilts?epochs=1", body, map[string]string{"Content-Type": ct})
	stored := time.Since(t0)
	if resp.StatusCode != 200 {
		t.Fatalf("PUT /v1/quilts: %d %s", resp.StatusCode, b)
	}
	var res client.QuiltStoreResult
	if err := json.Unmarshal(b, &res); err != nil || res.BlobStoreResult.NewlyCreated == nil || len(res.StoredQuiltBlobs) != n {
		t.Fatalf("result: %v %.300s", err, b)
	}
	qid := res.BlobStoreResult.NewlyCreated.BlobObject.BlobID

	t1 := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	work := make(chan client.StoredQuiltPatch)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range work {
				want := files[p.Identifier]
				for _, url := range []string{byIdent + "/v1/blobs/by-quilt-id/" + qid.String() + "/" + p.Identifier,
					byID + "/v1/blobs/by-quilt-patch-id/" + p.QuiltPatchID} {
					resp, got := call(t, "GET", url, nil, nil)
					if resp.StatusCode != 200 || !bytes.Equal(got, want) || resp.Header.Get("X-Quilt-Patch-Identifier") != p.Identifier {
						errs <- fmt.Errorf("%s: %d, %d bytes", url, resp.StatusCode, len(got))
					}
				}
			}
		}()
	}
	for _, p := range res.StoredQuiltBlobs {
		work <- p
	}
	close(work)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	read := time.Since(t1)

	// The cost: encoded bytes (what storage is bought for) and WAL paid.
	cost, err := quilt.CompareCost(net.Client.Params(), patches)
	if err != nil {
		t.Fatal(err)
	}
	one, _ := net.Client.Params().EncodedLength(size)
	sys, err := net.Chain.System(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	st, _ := chain.StorageCost(one, sys.StoragePrice, 1)
	wr, _ := chain.WriteCost(one, sys.WritePrice)
	separate := uint64(n) * (st + wr)
	paid := res.BlobStoreResult.NewlyCreated.Cost
	t.Logf("quilt of %d × %d B at n = 1000: stored in %v; every file read by identifier and by patch ID (%d reads) in %v",
		n, size, stored.Round(time.Millisecond), 2*n, read.Round(time.Millisecond))
	t.Logf("storage: quilt %d B encoded, %d separate blobs %d B encoded: %.0f× less", cost.Quilt, n, cost.Separate, cost.Factor)
	t.Logf("WAL for 1 epoch at Mainnet prices: quilt %d FROST paid, %d separate blobs %d FROST: %.0f× cheaper",
		paid, n, separate, float64(separate)/float64(paid))
	if cost.Factor < 300 || float64(separate)/float64(paid) < 300 {
		t.Fatalf("the quilt is only %.0f× (storage) / %.0f× (WAL) cheaper", cost.Factor, float64(separate)/float64(paid))
	}
	// The tag of the first file is a header only if allow-listed: not here.
	resp, _ = call(t, "GET", byIdent+"/v1/blobs/by-quilt-id/"+qid.String()+"/file-000.bin", nil, nil)
	if resp.Header.Get("First") != "" {
		t.Fatal("a tag that is not allow-listed became a header")
	}
}
