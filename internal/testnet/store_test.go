package testnet_test

import (
	"bytes"
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/walrus-go/walrus/client"
	"github.com/walrus-go/walrus/internal/testnet"
)

func randomBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 7))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// TestStoreAndRead: a blob stored through the client is certified, every
// node holds its slivers, and the blob reads back byte for byte.
func TestStoreAndRead(t *testing.T) {
	net := testnet.Start(t, testnet.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	data := randomBytes(300_000, 1)
	res, err := net.Client.Store(ctx, data, client.StoreOptions{Epochs: 3})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("stored %s: signers %v weight %d, register %v upload %v certify %v", res.BlobID, res.Signers, res.Weight, res.Register, res.Upload, res.Certify)
	for i := range net.NodeCount() {
		if m, err := net.Node(i).MissingSlivers(res.BlobID); err != nil || m != 0 {
			t.Fatalf("node %d misses %d slivers (%v)", i, m, err)
		}
	}
	got, err := net.Client.Read(ctx, res.BlobID)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read: %v", err)
	}
}

// TestResume: a network closed and started again on the same directory is
// the same network, with its data.
func TestResume(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	net, err := testnet.New(ctx, testnet.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	data := randomBytes(50_000, 3)
	res, err := net.Client.Store(ctx, data, client.StoreOptions{Epochs: 3})
	if err != nil {
		net.Close()
		t.Fatal(err)
	}
	addr := net.Address(2)
	if err := net.Close(); err != nil {
		t.Fatal(err)
	}
	net, err = testnet.New(ctx, testnet.Config{Dir: dir, Nodes: 7})
	if err != nil {
		t.Fatal(err)
	}
	defer net.Close()
	if net.NodeCount() != 4 || net.Address(2) != addr {
		t.Fatalf("resumed %d nodes, node 2 at %s (was %s)", net.NodeCount(), net.Address(2), addr)
	}
	got, err := net.Client.Read(ctx, res.BlobID)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read after resume: %v", err)
	}
	if _, err := net.Client.Store(ctx, randomBytes(1000, 4), client.StoreOptions{}); err != nil {
		t.Fatalf("store after resume: %v", err)
	}
}
