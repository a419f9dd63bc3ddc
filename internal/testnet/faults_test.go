package testnet_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/chain/chainclient"
	"github.com/walrus-go/walrus/client"
	"github.com/walrus-go/walrus/committee"
	"github.com/walrus-go/walrus/ids"
	"github.com/walrus-go/walrus/internal/sdkinternal"
	"github.com/walrus-go/walrus/internal/testnet"
	"github.com/walrus-go/walrus/nodeapi"
)

// nodesByWeight returns the network's node indexes (testnet numbering)
// sorted by decreasing shard count, with their weights.
func nodesByWeight(t *testing.T, net *testnet.Network) ([]int, map[int]int) {
	t.Helper()
	cur, _, err := sdkinternal.Committees(context.Background(), net.Client)
	if err != nil {
		t.Fatal(err)
	}
	weight := map[int]int{}
	var idx []int
	for i := range net.NodeCount() {
		for _, m := range cur.Members() {
			if m.NetworkAddress == net.Address(i) {
				weight[i] = m.Weight()
			}
		}
		idx = append(idx, i)
	}
	slices.SortStableFunc(idx, func(a, b int) int { return weight[b] - weight[a] })
	return idx, weight
}

// TestFaultyNodes: with nodes worth f shards stopped, stores still
// certify; with nodes worth 2f stopped, reads still return the right bytes
// (n = 10: f = 3; the four nodes hold 3, 3, 2 and 2 shards).
func TestFaultyNodes(t *testing.T) {
	net := testnet.Start(t, testnet.Config{})
	ctx := ctxFor(t, 2*time.Minute)
	order, weight := nodesByWeight(t, net)
	n, f := 10, committee.F(10)
	if weight[order[0]] != f || weight[order[0]]+weight[order[1]] != 2*f {
		t.Fatalf("unexpected weights %v", weight)
	}
	before := randomBytes(200_000, 1)
	stored, err := net.Client.Store(ctx, before, client.StoreOptions{Epochs: 3})
	if err != nil {
		t.Fatal(err)
	}
	// f shards down: stores certify.
	if err := net.StopNode(order[0]); err != nil {
		t.Fatal(err)
	}
	var blobs [][]byte
	var idList []blob.ID
	for i := range 3 {
		data := randomBytes(50_000*(i+1), uint64(10+i))
		res, err := net.Client.Store(ctx, data, client.StoreOptions{Epochs: 3, Deletable: i%2 == 0})
		if err != nil {
			t.Fatalf("store with f shards down: %v", err)
		}
		if res.Weight < n-f || len(res.NodeErrors) != 1 {
			t.Fatalf("weight %d, node errors %v", res.Weight, res.NodeErrors)
		}
		blobs, idList = append(blobs, data), append(idList, res.BlobID)
	}
	// 2f shards down: reads return the right bytes.
	if err := net.StopNode(order[1]); err != nil {
		t.Fatal(err)
	}
	blobs, idList = append(blobs, before), append(idList, stored.BlobID)
	for i, id := range idList {
		got, err := net.Client.Read(ctx, id)
		if err != nil || !bytes.Equal(got, blobs[i]) {
			t.Fatalf("read with 2f shards down: %v", err)
		}
	}
	// One more down: not enough slivers, and the error says so.
	if err := net.StopNode(order[2]); err != nil {
		t.Fatal(err)
	}
	if _, err := net.Client.Read(ctx, idList[0]); !errors.Is(err, client.ErrNotEnoughSlivers) {
		t.Fatalf("read with more than 2f shards down: %v", err)
	}
	// And a store cannot certify.
	if _, err := net.Client.Store(ctx, randomBytes(100, 99), client.StoreOptions{Epochs: 1}); !errors.Is(err, client.ErrNotEnoughConfirmations) {
		t.Fatalf("store with more than f shards down: %v", err)
	}
}

// lyingTransport makes chosen nodes (by host:port) lie or refuse on the
// wire: the nodes are real, their answers are altered on the way to the
// reader.
type lyingTransport struct {
	base http.RoundTripper
	mu   sync.Mutex
	mode map[string]string // address → "corrupt", "corrupt-slivers", "refuse", "wrong-blob", "status-invalid", "status-nonexistent"
	// other is a different blob's ID, whose slivers "wrong-blob" serves.
	other blob.ID
	lies  int
}

func (l *lyingTransport) set(addr, mode string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.mode[addr] = mode
}

func (l *lyingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	l.mu.Lock()
	mode := l.mode[r.URL.Host]
	l.mu.Unlock()
	if strings.HasSuffix(r.URL.Path, "/status") && (mode == "status-invalid" || mode == "status-nonexistent") {
		body := `{"success":{"code":200,"data":"nonexistent"}}`
		if mode == "status-invalid" {
			body = `{"success":{"code":200,"data":{"invalid":{"event":{"txDigest":"11111111111111111111111111111111","eventSeq":"0"}}}}}`
		}
		l.count()
		return &http.Response{StatusCode: http.StatusOK, Status: "200 OK", Body: io.NopCloser(strings.NewReader(body)),
			Header: http.Header{"Content-Type": {"application/json"}}, Request: r, ContentLength: int64(len(body))}, nil
	}
	isSliver := strings.Contains(r.URL.Path, "/slivers/")
	isMeta := strings.HasSuffix(r.URL.Path, "/metadata")
	switch {
	case mode == "refuse":
		return &http.Response{StatusCode: http.StatusServiceUnavailable, Status: "503", Body: io.NopCloser(strings.NewReader("no")),
			Header: http.Header{}, Request: r}, nil
	case mode == "wrong-blob" && isSliver && r.Method == http.MethodGet:
		parts := strings.Split(r.URL.Path, "/")
		parts[3] = l.other.String() // /v1/blobs/{id}/slivers/...
		r2 := r.Clone(r.Context())
		r2.URL.Path = strings.Join(parts, "/")
		l.count()
		return l.base.RoundTrip(r2)
	}
	resp, err := l.base.RoundTrip(r)
	if err != nil || resp.StatusCode != http.StatusOK || r.Method != http.MethodGet {
		return resp, err
	}
	if !(mode == "corrupt" && (isSliver || isMeta) || mode == "corrupt-slivers" && isSliver) {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	if len(body) > 0 {
		body[len(body)-1] ^= 0x5a // the last byte is data (of the sliver's symbols, or a metadata hash)
		body[len(body)/2] ^= 0x01
		l.count()
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	return resp, nil
}

func (l *lyingTransport) count() {
	l.mu.Lock()
	l.lies++
	l.mu.Unlock()
}

// TestLyingNodesNeverMakeAReadWrong: nodes that serve corrupted metadata
// and slivers, slivers of another blob, or refuse, never make a read
// return wrong bytes: reads succeed while honest nodes hold k_p shards,
// and fail with a clear error otherwise.
func TestLyingNodesNeverMakeAReadWrong(t *testing.T) {
	net := testnet.Start(t, testnet.Config{})
	ctx := ctxFor(t, 2*time.Minute)
	data := randomBytes(400_000, 5)
	res, err := net.Client.Store(ctx, data, client.StoreOptions{Epochs: 2})
	if err != nil {
		t.Fatal(err)
	}
	other, err := net.Client.Store(ctx, randomBytes(400_000, 6), client.StoreOptions{Epochs: 2})
	if err != nil {
		t.Fatal(err)
	}
	if err := net.Client.WaitUploads(ctx); err != nil {
		t.Fatal(err)
	}
	lt := &lyingTransport{mode: map[string]string{}, other: other.BlobID}
	reader, err := sdkinternal.New(ctx, net.Chain, nil, client.Config{WrapTransport: func(pinned http.RoundTripper) http.RoundTripper { lt.base = pinned; return lt }})
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	order, _ := nodesByWeight(t, net)
	read := func(want error) {
		t.Helper()
		for range 4 { // the reader picks nodes in random order
			got, err := reader.Read(ctx, res.BlobID)
			if want == nil && (err != nil || !bytes.Equal(got, data)) {
				t.Fatalf("modes %v: read %d bytes, %v", lt.mode, len(got), err)
			}
			if want != nil && (!errors.Is(err, want) || got != nil) {
				t.Fatalf("modes %v: %d bytes, error %v, want %v", lt.mode, len(got), err, want)
			}
		}
	}
	for _, mode := range []string{"corrupt", "corrupt-slivers", "wrong-blob", "refuse"} {
		lt.set(net.Address(order[0]), mode)
		read(nil)
	}
	// The blob status: nodes worth f shards can neither invent nor hide one.
	waitStatus(t, net.Client, res.BlobID, func(s client.BlobStatus) bool { return s.Kind == nodeapi.Permanent && s.IsCertified })
	for _, mode := range []string{"status-invalid", "status-nonexistent"} {
		lt.set(net.Address(order[0]), mode)
		st, err := reader.BlobStatus(ctx, res.BlobID)
		if err != nil || st.Kind != nodeapi.Permanent || !st.IsCertified || st.EndEpoch != res.EndEpoch {
			t.Fatalf("status with one node lying (%s): %+v %v", mode, st, err)
		}
	}
	lt.set(net.Address(order[0]), "status-invalid")
	lt.set(net.Address(order[1]), "status-invalid")
	if st, err := reader.BlobStatus(ctx, res.BlobID); err != nil || st.Kind != nodeapi.Invalid {
		t.Fatalf("f+1 shards report invalid: %+v %v", st, err)
	}
	lt.set(net.Address(order[1]), "refuse")
	for i := 2; i < net.NodeCount(); i++ {
		lt.set(net.Address(order[i]), "refuse")
	}
	if _, err := reader.BlobStatus(ctx, res.BlobID); !errors.Is(err, client.ErrStatusUnavailable) {
		t.Fatalf("only f shards answer: %v", err)
	}
	for i := range net.NodeCount() {
		lt.set(net.Address(i), "")
	}
	// Nodes worth 2f shards lie or refuse: the honest rest still suffices.
	lt.set(net.Address(order[0]), "corrupt")
	lt.set(net.Address(order[1]), "wrong-blob")
	read(nil)
	lt.set(net.Address(order[1]), "refuse")
	read(nil)
	// More than 2f: an error, never wrong bytes.
	lt.set(net.Address(order[2]), "corrupt-slivers")
	read(client.ErrNotEnoughSlivers)
	for i := range net.NodeCount() {
		lt.set(net.Address(i), "corrupt")
	}
	read(client.ErrNotEnoughSlivers)
	if lt.lies == 0 {
		t.Fatal("no answer was altered")
	}
	t.Logf("%d answers altered, every read right or refused", lt.lies)
}

// TestBadInput: unknown and malformed blob IDs, a wallet without WAL or
// with too little, a blob too large, and operations on objects that are
// not the wallet's give the client's stable errors.
func TestBadInput(t *testing.T) {
	net := testnet.Start(t, testnet.Config{})
	ctx := ctxFor(t, time.Minute)
	var unknown blob.ID
	unknown[0] = 7
	if _, err := net.Client.Read(ctx, unknown); !errors.Is(err, client.ErrBlobNotFound) {
		t.Fatalf("unknown blob: %v", err)
	}
	if _, err := blob.ParseID("not-a-blob-id"); err == nil {
		t.Fatal("malformed ID parsed")
	}
	st, err := net.Client.BlobStatus(ctx, unknown)
	if err != nil || st.Kind != 0 {
		t.Fatalf("status of an unknown blob: %+v %v", st, err)
	}
	// A wallet with no WAL cannot pay the fee.
	poor := chainclient.NewSigner(testnet.Key("poor"))
	pc, err := sdkinternal.New(ctx, net.Chain, poor, client.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	res, err := pc.Store(ctx, randomBytes(1000, 1), client.StoreOptions{Epochs: 1})
	if !errors.Is(err, client.ErrInsufficientBalance) || res == nil || res.Result.Error == nil || res.Result.Error.FailurePhase != "register" {
		t.Fatalf("store without WAL: %+v %v", res, err)
	}
	// Enough for fees, not for storage: the registration aborts.
	if err := net.Client.Mint(ctx, poor.Address(), 2500); err != nil { // a fee (1000) but not the fees and storage
		t.Fatal(err)
	}
	if _, err := pc.Store(ctx, randomBytes(1000, 1), client.StoreOptions{Epochs: 1}); !errors.Is(err, client.ErrInsufficientBalance) {
		t.Fatalf("store with too little WAL: %v", err)
	}
	if _, err := net.Client.Store(ctx, make([]byte, net.Client.Params().MaxBlobSize()+1), client.StoreOptions{}); !errors.Is(err, client.ErrBlobTooLarge) {
		t.Fatalf("too large: %v", err)
	}
	if _, err := net.Client.Store(ctx, []byte("x"), client.StoreOptions{Epochs: 54}); !errors.Is(err, client.ErrInvalidArgument) {
		t.Fatalf("too many epochs: %v", err)
	}
	var missing ids.ObjectID
	missing[5] = 1
	if _, err := net.Client.DeleteBlob(ctx, missing); !errors.Is(err, client.ErrObjectNotFound) {
		t.Fatalf("delete a missing object: %v", err)
	}
	mine, err := net.Client.Store(ctx, []byte("mine"), client.StoreOptions{Epochs: 1, Deletable: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pc.DeleteBlob(ctx, mine.ObjectID); !errors.Is(err, client.ErrNotOwner) {
		t.Fatalf("delete another's blob: %v", err)
	}
	if err := net.Client.Mint(ctx, poor.Address(), 10_000); err != nil {
		t.Fatal(err)
	}
	if err := pc.Mint(ctx, poor.Address(), 1); !errors.Is(err, client.ErrNotAuthorized) {
		t.Fatalf("mint by a non-faucet: %v", err)
	}
	ro, err := sdkinternal.New(ctx, net.Chain, nil, client.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if _, err := ro.Store(ctx, []byte("x"), client.StoreOptions{}); !errors.Is(err, client.ErrNoWallet) {
		t.Fatalf("read-only store: %v", err)
	}
}
