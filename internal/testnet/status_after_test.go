package testnet_test

import (
	"testing"
	"time"

	"github.com/walrus-go/walrus/client"
	"github.com/walrus-go/walrus/internal/testnet"
	"github.com/walrus-go/walrus/node"
	"github.com/walrus-go/walrus/nodeapi"
)

// TestStatusReadsYourWrites: the nodes follow the chain's events only every
// 1.5 s, yet the status a client asks right after its own deletion is the
// status after it (walrus delete's "after deletion" line), and right after
// its own store the blob is certified; each of three tries, not most.
func TestStatusReadsYourWrites(t *testing.T) {
	net := testnet.Start(t, testnet.Config{NodeConfig: func(_ int, c *node.Config) { c.Chain.PollInterval = 1500 * time.Millisecond }})
	ctx := ctxFor(t, 3*time.Minute)
	c := net.Client
	for i := range 3 {
		res, err := c.Store(ctx, randomBytes(4000+i, uint64(40+i)), client.StoreOptions{Epochs: 2, Deletable: true})
		if err != nil {
			t.Fatal(err)
		}
		st, err := c.BlobStatus(ctx, res.BlobID)
		if err != nil || st.Kind != nodeapi.Deletable || st.DeletableCounts.Certified != 1 {
			t.Fatalf("try %d: status right after the store: %+v %v", i, st, err)
		}
		if _, err := c.DeleteBlob(ctx, res.ObjectID); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		st, err = c.BlobStatus(ctx, res.BlobID)
		if err != nil || st.Kind != nodeapi.Nonexistent {
			t.Fatalf("try %d: status right after the deletion: %+v %v", i, st, err)
		}
		t.Logf("try %d: the status after the deletion took %v", i, time.Since(start))
	}
}
