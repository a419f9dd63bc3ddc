package testnet_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"flag"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/walrus-go/walrus/client"
	"github.com/walrus-go/walrus/internal/testnet"
	"github.com/walrus-go/walrus/redstuff"
)

var largeSize = flag.Int64("large-size", 4<<30, "blob size of TestLargeBlob (with -long)")

// streamFile writes size pseudo-random bytes (ChaCha8, seeded) to a new
// file in dir and returns its path and SHA-256; nothing is held in memory.
func streamFile(t *testing.T, dir string, size int64, seed uint64) (string, [32]byte) {
	t.Helper()
	path := filepath.Join(dir, "blob")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var key [32]byte
	key[0], key[1] = byte(seed), byte(seed>>8)
	rng := rand.NewChaCha8(key)
	h := sha256.New()
	w := io.MultiWriter(f, h)
	buf := make([]byte, 1<<20)
	for left := size; left > 0; {
		n := min(left, int64(len(buf)))
		_, _ = rng.Read(buf[:n])
		if _, err := w.Write(buf[:n]); err != nil {
			t.Fatal(err)
		}
		left -= n
	}
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	return path, sum
}

// TestLargeBlob stores a 4 GiB file (-large-size to change it) at n = 1000
// from disk in bounded memory, reads it back streaming, and compares
// SHA-256 digests; then it reads it again with two nodes down (every
// systematic sliver of theirs is rebuilt by DecodeRows). Run it with
//
//	go test ./internal/testnet -run TestLargeBlob -long -v -timeout 60m
func TestLargeBlob(t *testing.T) {
	if !*long {
		t.Skip("a long test: pass -long")
	}
	dir := t.TempDir()
	path, want := streamFile(t, dir, *largeSize, 42)
	net := testnet.Start(t, testnet.Config{Shards: 1000, Client: client.Config{TempDir: dir}})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Minute)
	defer cancel()
	start := time.Now()
	res, err := net.Client.StoreFile(ctx, path, client.StoreOptions{Epochs: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("stored %d bytes in %v (encode %v, upload %v, certify %v)", *largeSize, time.Since(start).Round(time.Millisecond),
		res.Encode.Round(time.Millisecond), res.Upload.Round(time.Millisecond), res.Certify.Round(time.Millisecond))
	if res.Tail != nil {
		if err := res.Tail.Wait(ctx); err != nil {
			t.Fatal(err)
		}
	}
	read := func(what string, opts client.ReadOptions) {
		t.Helper()
		h := sha256.New()
		start := time.Now()
		n, err := net.Client.ReadTo(ctx, res.BlobID, h, opts)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if n != *largeSize || !bytes.Equal(h.Sum(nil), want[:]) {
			t.Fatalf("%s: read %d bytes with another SHA-256", what, n)
		}
		t.Logf("%s: read back byte-identical in %v", what, time.Since(start).Round(time.Millisecond))
	}
	read("all nodes up", client.ReadOptions{})
	for _, i := range []int{0, 1} {
		if err := net.StopNode(i); err != nil {
			t.Fatal(err)
		}
	}
	read("two of four nodes down", client.ReadOptions{Consistency: redstuff.ConsistencyDefault})
}
