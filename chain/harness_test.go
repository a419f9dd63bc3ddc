package chain

import (
	"crypto/ed25519"
	"crypto/sha256"
	"testing"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/bls"
	"github.com/walrus-go/walrus/ids"
	"github.com/walrus-go/walrus/merkle"
	"github.com/walrus-go/walrus/wire"
)

const testChainID = "walrus-test"

// user is a test account.
type user struct {
	key  ed25519.PrivateKey
	addr ids.Address
	seq  uint64
}

func newUser(name string) *user {
	seed := sha256.Sum256([]byte("user " + name))
	k := ed25519.NewKeyFromSeed(seed[:])
	return &user{key: k, addr: ids.AddressOf(k.Public().(ed25519.PublicKey))}
}

// node is a genesis storage node with its BLS key and operator.
type node struct {
	bls *bls.SecretKey
	op  *user
	id  ids.ObjectID
}

// harness runs the state machine over a MemStore, one block per call.
type harness struct {
	t      testing.TB
	m      *Machine
	st     *MemStore
	height uint64
	now    uint64
	users  map[string]*user
	nodes  []*node
	events []EventRecord
}

const (
	testEpochMs = 10_000
	testFee     = 1_000
	testBalance = 1_000 * FrostPerWAL
)

// newHarness starts a chain of n shards whose genesis has the given node
// stakes (in WAL), all operated by distinct users, and funded users alice, bob, carol.
func newHarness(t testing.TB, nShards uint16, stakes ...uint64) *harness {
	t.Helper()
	m, err := New(Config{ChainID: testChainID, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, m: m, st: NewMemStore(), now: 1_000_000, users: map[string]*user{}}
	g := &Genesis{NShards: nShards, EpochDurationMs: testEpochMs, MaxEpochsAhead: 10, StoragePrice: 100, WritePrice: 10,
		Capacity: 1 << 40, MinFee: testFee}
	for _, name := range []string{"alice", "bob", "carol"} {
		u := newUser(name)
		h.users[name] = u
		g.Accounts = append(g.Accounts, GenesisAccount{u.addr, testBalance})
	}
	for i, s := range stakes {
		ikm := sha256.Sum256([]byte{byte(i), 'n'})
		sk, err := bls.KeyFromIKM(ikm[:])
		if err != nil {
			t.Fatal(err)
		}
		op := newUser("op" + string(rune('0'+i)))
		h.users["op"+string(rune('0'+i))] = op
		g.Accounts = append(g.Accounts, GenesisAccount{op.addr, testBalance})
		g.Nodes = append(g.Nodes, NewGenesisNode("node", "127.0.0.1:1", sk, []byte{1, 2, 3}, op.addr, s*FrostPerWAL))
		h.nodes = append(h.nodes, &node{bls: sk, op: op, id: ids.NewObjectID(ids.GenesisDigest(testChainID), uint64(2*i))})
	}
	res, err := m.InitGenesis(g, h.now)
	if err != nil {
		t.Fatal(err)
	}
	h.st.Apply(res.Writes.Writes())
	return h
}

func (h *harness) sys() *System {
	h.t.Helper()
	s, err := LoadSystem(h.st)
	if err != nil {
		h.t.Fatal(err)
	}
	return s
}

func (h *harness) balance(u *user) uint64 {
	a, err := LoadAccount(h.st, u.addr)
	if err != nil {
		h.t.Fatal(err)
	}
	return a.Balance
}

func (h *harness) object(id ids.ObjectID) *Object {
	h.t.Helper()
	o, err := LoadObject(h.st, id)
	if err != nil {
		h.t.Fatal(err)
	}
	return o
}

// block executes raw transactions in one block after advancing time by dt.
func (h *harness) block(dt uint64, txs ...[]byte) *BlockResult {
	h.t.Helper()
	h.height++
	h.now += dt
	res, err := h.m.ExecuteBlock(h.st, Block{Height: h.height, TimeMs: h.now, Txs: txs})
	if err != nil {
		h.t.Fatal(err)
	}
	h.st.Apply(res.Writes.Writes())
	for _, tr := range res.Txs {
		h.events = append(h.events, tr.Events...)
	}
	h.events = append(h.events, res.BlockEvents...)
	return res
}

// sign builds a signed transaction with the user's next sequence.
func (h *harness) sign(u *user, calls ...Call) []byte {
	u.seq++
	b, _ := Sign(&Tx{Sender: u.addr, Sequence: u.seq, Fee: testFee, Calls: calls}, testChainID, u.key)
	return b
}

// exec runs one transaction in its own block, 1 ms later.
func (h *harness) exec(u *user, calls ...Call) TxResult {
	h.t.Helper()
	return h.block(1, h.sign(u, calls...)).Txs[0]
}

// ok runs a transaction that must succeed.
func (h *harness) ok(u *user, calls ...Call) TxResult {
	h.t.Helper()
	r := h.exec(u, calls...)
	if r.Code != CodeOK {
		h.t.Fatalf("transaction failed: code %d: %s", r.Code, r.Log)
	}
	return r
}

// abort runs a transaction that must abort with a.
func (h *harness) abort(a *Abort, u *user, calls ...Call) TxResult {
	h.t.Helper()
	r := h.exec(u, calls...)
	if r.Code != a.Code {
		h.t.Fatalf("code %d (%s), want %d %s", r.Code, r.Log, a.Code, a.Name)
	}
	return r
}

// advance moves time forward in empty blocks of step ms until the epoch is e.
func (h *harness) advanceTo(e uint32, syncAll bool) {
	h.t.Helper()
	for i := 0; h.sys().Epoch < e; i++ {
		if i > 1000 {
			h.t.Fatalf("epoch %d never reached", e)
		}
		h.block(testEpochMs / 4)
		if syncAll {
			h.syncAll()
		}
	}
}

// syncAll has every committee member report epoch_sync_done when the epoch is syncing.
func (h *harness) syncAll() {
	for _, n := range h.nodes {
		s := h.sys()
		if s.State != EpochChangeSync {
			return
		}
		if _, in := memberIndex(s.Committee, n.id); in {
			h.ok(n.op, &EpochSyncDone{Node: Ref(n.id), Epoch: s.Epoch})
		}
	}
}

// newBlob returns a blob ID with its root for a size.
func newBlob(seed byte, size uint64) (blob.ID, [32]byte) {
	root := sha256.Sum256([]byte{seed, 'r'})
	return blob.DeriveID(blob.RS2, size, merkle.Node(root)), root
}

// encoded is the encoded length of size on this chain.
func (h *harness) encoded(size uint64) uint64 {
	p := blob.MustParams(int(h.sys().NShards))
	l, err := p.EncodedLength(size)
	if err != nil {
		h.t.Fatal(err)
	}
	return l
}

// certificate signs msg by the committee members at the given indices.
func (h *harness) certificate(msg []byte, signers ...uint16) (bitmap []byte, sig [96]byte) {
	h.t.Helper()
	s := h.sys()
	var sigs []bls.Signature
	for _, i := range signers {
		id := s.Committee[i].NodeID
		for _, n := range h.nodes {
			if n.id == id {
				sigs = append(sigs, n.bls.Sign(msg))
			}
		}
	}
	agg, err := bls.AggregateSignatures(sigs)
	if err != nil {
		h.t.Fatal(err)
	}
	bm, err := wire.SignersBitmap(signers, len(s.Committee))
	if err != nil {
		h.t.Fatal(err)
	}
	return bm, agg.Bytes()
}

// certify returns a certify_blob call signed by the given members.
func (h *harness) certify(ref ObjectRef, epoch uint32, id blob.ID, p wire.Persistence, signers ...uint16) *CertifyBlob {
	msg := (&wire.Confirmation{Epoch: epoch, BlobID: id, Persistence: p}).Marshal()
	bm, sig := h.certificate(msg, signers...)
	return &CertifyBlob{Blob: ref, Signature: sig, SignersBitmap: bm, Message: msg}
}

func (h *harness) eventsOf(typ string) []EventRecord {
	var out []EventRecord
	for _, e := range h.events {
		if e.Event.Type == typ {
			out = append(out, e)
		}
	}
	return out
}

func all(n int) []uint16 {
	out := make([]uint16, n)
	for i := range out {
		out[i] = uint16(i)
	}
	return out
}

// nodesByIndex returns the nodes of the current committee in signer-index order.
func (h *harness) nodesByIndex() []*node {
	var out []*node
	for _, a := range h.sys().Committee {
		for _, n := range h.nodes {
			if n.id == a.NodeID {
				out = append(out, n)
			}
		}
	}
	return out
}
