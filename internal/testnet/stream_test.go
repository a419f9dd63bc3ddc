package testnet_test

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/walrus-go/walrus/client"
	"github.com/walrus-go/walrus/internal/sdkinternal"
	"github.com/walrus-go/walrus/internal/testnet"
	"github.com/walrus-go/walrus/redstuff"
)

// TestStreamingStoreAndRead: a file, a stream and an io.ReaderAt store
// with a memory budget small enough that the scratch space goes to a
// temporary file, and read back streaming: all nodes up (systematic rows
// in order), with one node down (rows rebuilt and checked), strictly, and
// through a BlobReader; nothing is left in the temporary directory.
func TestStreamingStoreAndRead(t *testing.T) {
	tmp := t.TempDir()
	net := testnet.Start(t, testnet.Config{Shards: 100, Client: client.Config{TempDir: tmp, MemoryBudget: 64 << 20}})
	ctx := ctxFor(t, 3*time.Minute)
	size := 6<<20 + 12345 // its scratch space (2.5x) is above an eighth of the budget: a temporary file
	data := randomBytes(size, 77)
	path := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	want, err := net.Client.ComputeFileMetadata(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	if x, err := sdkinternal.Encoder(net.Client).Metadata(data); err != nil || x.ID != want.ID {
		t.Fatalf("ComputeFileMetadata %s, in memory %s (%v)", want.ID, x.ID, err)
	}
	stores := []struct {
		name  string
		store func(opts client.StoreOptions) (*client.StoreResult, error)
	}{
		{"file", func(o client.StoreOptions) (*client.StoreResult, error) { return net.Client.StoreFile(ctx, path, o) }},
		{"reader", func(o client.StoreOptions) (*client.StoreResult, error) {
			return net.Client.StoreReader(ctx, io.MultiReader(bytes.NewReader(data[:1000]), bytes.NewReader(data[1000:])), o)
		}},
		{"readerAt", func(o client.StoreOptions) (*client.StoreResult, error) {
			return net.Client.StoreReaderAt(ctx, bytes.NewReader(data), int64(size), o)
		}},
	}
	for _, s := range stores {
		res, err := s.store(client.StoreOptions{Epochs: 2, Force: true, MemoryBudget: 64 << 20})
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if res.BlobID != want.ID || res.Result.NewlyCreated == nil {
			t.Fatalf("%s: blob %s, want %s (%+v)", s.name, res.BlobID, want.ID, res.Result)
		}
		if res.Tail != nil {
			if err := res.Tail.Wait(ctx); err != nil {
				t.Fatalf("%s: tail: %v", s.name, err)
			}
		}
	}
	if err := net.Client.WaitUploads(ctx); err != nil {
		t.Fatal(err)
	}
	checkEmpty(t, tmp)
	digest := sha256.Sum256(data)
	read := func(what string, opts client.ReadOptions) {
		t.Helper()
		h := sha256.New()
		n, err := net.Client.ReadTo(ctx, want.ID, h, opts)
		if err != nil || n != int64(size) || !bytes.Equal(h.Sum(nil), digest[:]) {
			t.Fatalf("%s: %d bytes, %v", what, n, err)
		}
	}
	read("all up", client.ReadOptions{})
	read("strict", client.ReadOptions{Consistency: redstuff.ConsistencyStrict})
	br, err := net.Client.OpenBlob(ctx, want.ID)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if n, err := br.WriteTo(ctx, &buf, client.ReadOptions{}); err != nil || n != int64(size) || !bytes.Equal(buf.Bytes(), data) {
		t.Fatalf("BlobReader.WriteTo: %d bytes, %v", n, err)
	}
	if _, err := br.WriteTo(ctx, io.Discard, client.ReadOptions{Consistency: redstuff.ConsistencyStrict}); !errors.Is(err, client.ErrInvalidArgument) {
		t.Fatalf("strict WriteTo: %v", err)
	}
	// A writer that fails is reported as it is, and ends the read.
	wantErr := errors.New("disk full")
	if _, err := net.Client.ReadTo(ctx, want.ID, &failingWriter{after: 100_000, err: wantErr}, client.ReadOptions{}); !errors.Is(err, wantErr) {
		t.Fatalf("failing writer: %v", err)
	}
	if err := net.StopNode(0); err != nil {
		t.Fatal(err)
	}
	read("one node down", client.ReadOptions{})
	read("one node down, skip", client.ReadOptions{Consistency: redstuff.ConsistencySkip})
	checkEmpty(t, tmp)
}

// TestStoreLimitsUpFront: a blob larger than the largest for n is refused
// before anything is paid, whether it comes as a size, a stream or a
// file.
func TestStoreLimitsUpFront(t *testing.T) {
	net := testnet.Start(t, testnet.Config{Shards: 10})
	ctx := ctxFor(t, time.Minute)
	max := int64(net.Client.Params().MaxBlobSize())
	before, err := net.Client.Balance(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := net.Client.StoreReaderAt(ctx, bytes.NewReader(nil), max+1, client.StoreOptions{Epochs: 1}); !errors.Is(err, client.ErrBlobTooLarge) {
		t.Fatalf("ReaderAt above the limit: %v", err)
	}
	if _, err := net.Client.StoreReader(ctx, io.LimitReader(zeros{}, max+10), client.StoreOptions{Epochs: 1}); !errors.Is(err, client.ErrBlobTooLarge) ||
		!strings.Contains(err.Error(), "largest blob") {
		t.Fatalf("stream above the limit: %v", err)
	}
	path := filepath.Join(t.TempDir(), "big")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(max + 1); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if _, err := net.Client.StoreFile(ctx, path, client.StoreOptions{Epochs: 1}); !errors.Is(err, client.ErrBlobTooLarge) {
		t.Fatalf("file above the limit: %v", err)
	}
	if _, err := net.Client.StoreFile(ctx, t.TempDir(), client.StoreOptions{Epochs: 1}); err == nil {
		t.Fatal("a directory was stored")
	}
	after, err := net.Client.Balance(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if after != before {
		t.Fatalf("balance %d → %d: something was paid", before, after)
	}
	// Exactly the largest blob is accepted by the check.
	if err := net.Client.CheckSize(max); err != nil {
		t.Fatal(err)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

type failingWriter struct {
	after int
	err   error
}

func (w *failingWriter) Write(p []byte) (int, error) {
	if w.after <= 0 {
		return 0, w.err
	}
	n := min(len(p), w.after)
	w.after -= n
	if n < len(p) {
		return n, w.err
	}
	return n, nil
}

// checkEmpty fails if dir holds any file (scratch and spool files must
// be gone, or never named).
func checkEmpty(t *testing.T, dir string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		t.Errorf("left in the temporary directory: %s", e.Name())
	}
}
