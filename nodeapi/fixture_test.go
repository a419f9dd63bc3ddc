package nodeapi_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/bls"
	"github.com/walrus-go/walrus/internal/httpx"
	"github.com/walrus-go/walrus/nodeapi"
	"github.com/walrus-go/walrus/redstuff"
	"github.com/walrus-go/walrus/wire"
)

// memStore is an in-memory Store.
type memStore struct {
	mu      sync.Mutex
	md      map[blob.ID]*blob.MetadataWithID
	slivers map[string]*redstuff.Sliver
	puts    int
	// unsynced counts writes since the last Sync.
	unsynced int
}

func newMemStore() *memStore {
	return &memStore{md: map[blob.ID]*blob.MetadataWithID{}, slivers: map[string]*redstuff.Sliver{}}
}

func sk(shard uint16, t blob.SliverType, id blob.ID) string {
	return fmt.Sprintf("%d/%d/%s", shard, t, id)
}

func (m *memStore) Metadata(id blob.ID) (*blob.MetadataWithID, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	md, ok := m.md[id]
	return md, ok, nil
}

func (m *memStore) MetadataBCS(id blob.ID) ([]byte, bool, error) {
	md, ok, _ := m.Metadata(id)
	if !ok {
		return nil, false, nil
	}
	return md.MarshalBCS(), true, nil
}

func (m *memStore) PutMetadata(md *blob.MetadataWithID) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.md[md.ID] = md
	m.puts++
	m.unsynced++
	return nil
}

func (m *memStore) Sliver(shard uint16, t blob.SliverType, id blob.ID) (*redstuff.Sliver, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.slivers[sk(shard, t, id)]
	return s, ok, nil
}

func (m *memStore) AppendSliverBCS(dst []byte, shard uint16, t blob.SliverType, id blob.ID) ([]byte, bool, error) {
	s, ok, _ := m.Sliver(shard, t, id)
	if !ok {
		return dst, false, nil
	}
	return s.AppendBCS(dst), true, nil
}

func (m *memStore) HasSliver(shard uint16, t blob.SliverType, id blob.ID) (bool, error) {
	_, ok, err := m.Sliver(shard, t, id)
	return ok, err
}

func (m *memStore) PutSliver(shard uint16, id blob.ID, s *redstuff.Sliver) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := *s
	c.Data = bytes.Clone(s.Data)
	m.slivers[sk(shard, s.Type, id)] = &c
	m.puts++
	m.unsynced++
	return nil
}

// PutSlivers stores several slivers in one write.
func (m *memStore) PutSlivers(id blob.ID, slivers []nodeapi.ShardSliver) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, x := range slivers {
		c := *x.Sliver
		c.Data = bytes.Clone(x.Sliver.Data)
		m.slivers[sk(x.Shard, c.Type, id)] = &c
	}
	m.puts++
	m.unsynced++
	return nil
}

// Sync marks every write durable.
func (m *memStore) Sync() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.unsynced = 0
	return nil
}

// Unsynced is the number of writes since the last Sync.
func (m *memStore) Unsynced() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.unsynced
}

// digest summarizes the contents, to check that a rejection changed nothing.
func (m *memStore) digest() [32]byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	h := sha256.New()
	var keys []string
	for id, md := range m.md {
		keys = append(keys, fmt.Sprintf("m%s%x", id, md.MarshalBCS()))
	}
	for k, s := range m.slivers {
		keys = append(keys, fmt.Sprintf("s%s%x", k, s.MarshalBCS()))
	}
	slices.Sort(keys)
	for _, k := range keys {
		h.Write([]byte(k))
	}
	return [32]byte(h.Sum(nil))
}

// memChain is an in-memory Chain.
type memChain struct {
	mu      sync.Mutex
	epoch   uint32
	owned   []uint16
	serving []uint16
	regs    map[blob.ID]nodeapi.Registration
}

func (c *memChain) Epoch() uint32 { c.mu.Lock(); defer c.mu.Unlock(); return c.epoch }

func (c *memChain) OwnedShards() []uint16 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.owned)
}

func (c *memChain) Owns(s uint16) bool { return slices.Contains(c.OwnedShards(), s) }

func (c *memChain) ServingShards() []uint16 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(append(slices.Clone(c.owned), c.serving...))
}

func (c *memChain) Registration(id blob.ID) (nodeapi.Registration, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.regs[id], nil
}

func (c *memChain) Status(id blob.ID) (nodeapi.BlobStatus, error) {
	r, _ := c.Registration(id)
	switch {
	case r.Invalid != nil:
		return nodeapi.BlobStatus{Kind: nodeapi.Invalid, Event: *r.Invalid}, nil
	case r.Permanent:
		return nodeapi.BlobStatus{Kind: nodeapi.Permanent, EndEpoch: 9, DeletableCounts: nodeapi.DeletableCounts{Total: uint32(len(r.Deletable))}}, nil
	case len(r.Deletable) > 0:
		return nodeapi.BlobStatus{Kind: nodeapi.Deletable, DeletableCounts: nodeapi.DeletableCounts{Total: uint32(len(r.Deletable))}}, nil
	}
	return nodeapi.BlobStatus{}, nil
}

func (c *memChain) register(id blob.ID, r nodeapi.Registration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.regs[id] = r
}

type blocklist map[blob.ID]bool

func (b blocklist) Blocked(id blob.ID) bool { return b[id] }

const testN = 10

var params = blob.MustParams(testN)

type fixture struct {
	t      testing.TB
	store  *memStore
	chain  *memChain
	block  blocklist
	key    *bls.SecretKey
	srv    *nodeapi.Server
	http   *httptest.Server
	client *nodeapi.Client
	reg    *prometheus.Registry
	now    time.Time
	nowMu  sync.Mutex
}

func newFixture(t testing.TB, cfg nodeapi.Config) *fixture {
	t.Helper()
	return newFixtureWith(t, cfg, nil)
}

// newFixtureWith is newFixture with the server's store wrapped by wrap
// (nil: the memStore itself); f.store stays the memStore underneath.
func newFixtureWith(t testing.TB, cfg nodeapi.Config, wrap func(*memStore) nodeapi.Store) *fixture {
	t.Helper()
	key, err := bls.KeyFromIKM(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, store: newMemStore(), key: key, block: blocklist{}, reg: prometheus.NewRegistry(),
		chain: &memChain{epoch: 3, owned: []uint16{0, 1, 2, 3, 4}, regs: map[blob.ID]nodeapi.Registration{}},
		now:   time.Unix(1000, 0)}
	var st nodeapi.Store = f.store
	if wrap != nil {
		st = wrap(f.store)
	}
	f.srv, err = nodeapi.New(cfg, nodeapi.Deps{Params: params, Key: key, Store: st, Chain: f.chain,
		Blocklist: f.block, Registerer: f.reg, Now: f.clock})
	if err != nil {
		t.Fatal(err)
	}
	f.http = httptest.NewServer(f.srv.Handler())
	t.Cleanup(f.http.Close)
	f.client, err = nodeapi.NewClient(f.http.URL, nodeapi.ClientConfig{Params: params})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) clock() time.Time { f.nowMu.Lock(); defer f.nowMu.Unlock(); return f.now }

func (f *fixture) advance(d time.Duration) { f.nowMu.Lock(); f.now = f.now.Add(d); f.nowMu.Unlock() }

func encode(t testing.TB, size int, seed uint64) *redstuff.Encoded {
	t.Helper()
	enc, err := redstuff.NewEncoder(params)
	if err != nil {
		t.Fatal(err)
	}
	data := make([]byte, size)
	r := rand.New(rand.NewPCG(seed, 2))
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	x, err := enc.Encode(data)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// ownedPair returns a sliver pair of the blob that maps to an owned shard
// (or, with owned false, to a shard not owned).
func (f *fixture) pair(id blob.ID, owned bool) (pair int, shard uint16) {
	for p := range testN {
		s := uint16(params.ShardOfPair(id, p))
		if f.chain.Owns(s) == owned {
			return p, s
		}
	}
	f.t.Fatal("no such pair")
	return 0, 0
}

// raw sends a request and returns the status and body.
func (f *fixture) raw(method, path string, body []byte) (int, []byte) {
	f.t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, f.http.URL+path, bytes.NewReader(body))
	if err != nil {
		f.t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// rejected asserts an AIP-193 answer with the code and reason, and that the
// store did not change.
func (f *fixture) rejected(code int, reason, method, path string, body []byte) {
	f.t.Helper()
	before := f.store.digest()
	got, b := f.raw(method, path, body)
	var e struct {
		Error struct {
			Code    int    `json:"code"`
			Status  string `json:"status"`
			Message string `json:"message"`
			Details []struct {
				Type   string `json:"@type"`
				Reason string `json:"reason"`
				Domain string `json:"domain"`
			} `json:"details"`
		} `json:"error"`
	}
	if err := json.Unmarshal(b, &e); err != nil {
		f.t.Fatalf("%s %s: %d %s: not AIP-193: %v", method, path, got, b, err)
	}
	if got != code || e.Error.Code != code || len(e.Error.Details) != 1 || e.Error.Details[0].Reason != reason ||
		e.Error.Details[0].Type != "ErrorInfo" || e.Error.Status == "" || e.Error.Message == "" {
		f.t.Fatalf("%s %s: got %d %s, want %d %s", method, path, got, b, code, reason)
	}
	if got >= 500 {
		f.t.Fatalf("%s %s: a rejection must be 4xx", method, path)
	}
	// The status is Walrus's for the code, so that Walrus clients parse the
	// answer; only the batch route's HTTP codes 411 and 413 leave the table
	// (doc.go), and even they carry a status of it.
	if want, ok := httpx.CodeFor(e.Error.Status); !ok || want != code && code != http.StatusLengthRequired && code != http.StatusRequestEntityTooLarge {
		f.t.Fatalf("%s %s: %d %s is not a pair of Walrus's table", method, path, code, e.Error.Status)
	}
	if e.Error.Details[0].Domain != nodeapi.DomainStorageNode {
		f.t.Fatalf("%s %s: domain %q", method, path, e.Error.Details[0].Domain)
	}
	if f.store.digest() != before {
		f.t.Fatalf("%s %s: a rejection changed the store", method, path)
	}
}

// checkConfirmation verifies a signed confirmation.
func (f *fixture) checkConfirmation(sm *wire.SignedMessage, id blob.ID, p wire.Persistence) {
	f.t.Helper()
	sig, err := bls.ParseSignature(sm.Signature[:])
	if err != nil {
		f.t.Fatal(err)
	}
	if err := bls.Verify(f.key.PublicKey(), sm.Message, sig); err != nil {
		f.t.Fatalf("confirmation signature: %v", err)
	}
	c, err := wire.ParseConfirmation(sm.Message)
	if err != nil || c.BlobID != id || c.Epoch != f.chain.Epoch() || c.Persistence != p {
		f.t.Fatalf("confirmation %+v %v", c, err)
	}
}

// upload stores metadata and every owned pair through the API.
func (f *fixture) upload(x *redstuff.Encoded, pending bool) {
	f.t.Helper()
	ctx := context.Background()
	if _, err := f.client.PutMetadata(ctx, &x.Metadata, pending); err != nil {
		f.t.Fatal(err)
	}
	id := x.Metadata.ID
	for p := range testN {
		if !f.chain.Owns(uint16(params.ShardOfPair(id, p))) {
			continue
		}
		pair := x.Pair(p)
		for _, s := range []*redstuff.Sliver{&pair.Primary, &pair.Secondary} {
			if _, err := f.client.PutSliver(ctx, id, p, s, pending); err != nil {
				f.t.Fatal(err)
			}
		}
	}
}
