package abci

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"testing"
	"time"

	abcitypes "github.com/cometbft/cometbft/abci/types"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/chain"
	"github.com/walrus-go/walrus/ids"
	"github.com/walrus-go/walrus/merkle"
)

const testChain = "walrus-app"

func seedKey(s string) ed25519.PrivateKey {
	h := sha256.Sum256([]byte(s))
	return ed25519.NewKeyFromSeed(h[:])
}

func openApp(t testing.TB, users ...ed25519.PrivateKey) *App {
	t.Helper()
	a, err := Open(Config{ChainID: testChain, Dir: t.TempDir(), Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	g := &chain.Genesis{NShards: 10, EpochDurationMs: 60_000, MaxEpochsAhead: 5, StoragePrice: 1, WritePrice: 1, Capacity: 1 << 30, MinFee: 100}
	for _, u := range users {
		g.Accounts = append(g.Accounts, chain.GenesisAccount{Address: ids.AddressOf(u.Public().(ed25519.PublicKey)), Balance: 1000})
	}
	state, _ := json.Marshal(g)
	if _, err := a.InitChain(context.Background(), &abcitypes.RequestInitChain{ChainId: testChain, Time: time.UnixMilli(1_000_000), AppStateBytes: state}); err != nil {
		t.Fatal(err)
	}
	return a
}

func signTx(k ed25519.PrivateKey, seq, fee uint64, calls ...chain.Call) []byte {
	b, _ := chain.Sign(&chain.Tx{Sender: ids.AddressOf(k.Public().(ed25519.PublicKey)), Sequence: seq, Fee: fee, Calls: calls}, testChain, k)
	return b
}

func checkTx(a *App, tx []byte) *abcitypes.ResponseCheckTx {
	r, _ := a.CheckTx(context.Background(), &abcitypes.RequestCheckTx{Tx: tx})
	return r
}

func TestCheckTxCodes(t *testing.T) {
	alice, poor := seedKey("alice"), seedKey("poor")
	a := openApp(t, alice)
	good := signTx(alice, 1, 100)
	bad := bytes.Clone(good)
	bad[len(bad)-1] ^= 1
	for _, tc := range []struct {
		name string
		tx   []byte
		code uint32
	}{
		{"undecodable", []byte{0xff, 0xff}, chain.CodeUndecodable},
		{"bad signature", bad, chain.CodeBadSignature},
		{"other chain", func() []byte {
			b, _ := chain.Sign(&chain.Tx{Sender: ids.AddressOf(alice.Public().(ed25519.PublicKey)), Sequence: 1, Fee: 100}, "x", alice)
			return b
		}(), chain.CodeBadSignature},
		{"wrong sequence", signTx(alice, 2, 100), chain.CodeWrongSequence},
		{"fee too low", signTx(alice, 1, 99), chain.CodeFeeTooLow},
		{"balance below fee", signTx(poor, 1, 100), chain.CodeBalanceTooLow},
	} {
		r := checkTx(a, tc.tx)
		if r.Code != tc.code || r.Log == "" {
			t.Errorf("%s: code %d (%s), want %d", tc.name, r.Code, r.Log, tc.code)
		}
	}
	// Several transactions of one account in flight: consecutive sequences pass, a gap or repeat does not.
	for seq := uint64(1); seq <= 3; seq++ {
		if r := checkTx(a, signTx(alice, seq, 100)); r.Code != 0 {
			t.Fatalf("seq %d: %d %s", seq, r.Code, r.Log)
		}
	}
	if r := checkTx(a, signTx(alice, 3, 100)); r.Code != chain.CodeWrongSequence {
		t.Fatalf("repeat: %d", r.Code)
	}
	if r := checkTx(a, signTx(alice, 5, 100)); r.Code != chain.CodeWrongSequence {
		t.Fatalf("gap: %d", r.Code)
	}
}

// run executes one block and commits it.
func run(t testing.TB, a *App, height int64, txs ...[]byte) *abcitypes.ResponseFinalizeBlock {
	t.Helper()
	r, err := a.FinalizeBlock(context.Background(), &abcitypes.RequestFinalizeBlock{Height: height, Time: time.UnixMilli(1_000_000 + height*1000), Txs: txs})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Commit(context.Background(), &abcitypes.RequestCommit{}); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestAppHashDeterministicAndReopen(t *testing.T) {
	alice := seedKey("alice")
	a, b := openApp(t, alice), openApp(t, alice)
	bob := ids.Address{9}
	var hashes [][]byte
	for h := int64(1); h <= 3; h++ {
		tx := signTx(alice, uint64(h), 100, &chain.TransferWal{To: bob, Amount: 10})
		ra, rb := run(t, a, h, tx), run(t, b, h, tx)
		if !bytes.Equal(ra.AppHash, rb.AppHash) {
			t.Fatalf("height %d: app hashes differ", h)
		}
		if ra.TxResults[0].Code != 0 {
			t.Fatalf("tx: %s", ra.TxResults[0].Log)
		}
		hashes = append(hashes, ra.AppHash)
	}
	if bytes.Equal(hashes[0], hashes[1]) {
		t.Fatal("app hash did not change")
	}
	// A different block gives a different hash.
	rc := run(t, b, 4, signTx(alice, 4, 100, &chain.TransferWal{To: bob, Amount: 11}))
	ra := run(t, a, 4, signTx(alice, 4, 100, &chain.TransferWal{To: bob, Amount: 10}))
	if bytes.Equal(ra.AppHash, rc.AppHash) {
		t.Fatal("different blocks, same hash")
	}
	// Reopen: height and hash come back, blocks are not applied twice.
	dir := a.cfg.Dir
	a.Close()
	a2, err := Open(Config{ChainID: testChain, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer a2.Close()
	info, _ := a2.Info(context.Background(), &abcitypes.RequestInfo{})
	if info.LastBlockHeight != 4 || !bytes.Equal(info.LastBlockAppHash, ra.AppHash) {
		t.Fatalf("info after reopen: %d %x", info.LastBlockHeight, info.LastBlockAppHash)
	}
	if _, err := a2.FinalizeBlock(context.Background(), &abcitypes.RequestFinalizeBlock{Height: 4}); err == nil {
		t.Fatal("replay of a committed block accepted")
	}
	acct, _ := chain.LoadAccount(a2, bob)
	if acct.Balance != 40 {
		t.Fatalf("balance %d", acct.Balance)
	}
	q, _ := a2.Query(context.Background(), &abcitypes.RequestQuery{Path: "/account/" + bob.String()})
	if got, err := chain.UnmarshalAccount(q.Value); q.Code != 0 || err != nil || got.Balance != 40 {
		t.Fatalf("query: %d %v %+v", q.Code, err, got)
	}
	q, _ = a2.Query(context.Background(), &abcitypes.RequestQuery{Path: "/nope"})
	if q.Code != QueryBadPath {
		t.Fatalf("bad path: code %d", q.Code)
	}
	q, _ = a2.Query(context.Background(), &abcitypes.RequestQuery{Path: "/object/0x" + string(bytes.Repeat([]byte("0"), 64))})
	if q.Code != QueryNotFound {
		t.Fatalf("missing object: code %d", q.Code)
	}
}

func TestEventsQueryPaging(t *testing.T) {
	alice := seedKey("alice")
	a := openApp(t, alice)
	register := func(seed byte, base int) []chain.Call {
		root := sha256.Sum256([]byte{seed})
		id := blob.DeriveID(blob.RS2, 10, merkle.Node(root))
		return []chain.Call{&chain.ReserveSpace{EncodedSize: 1 << 20, EpochsAhead: 1},
			&chain.RegisterBlob{Storage: chain.CreatedRef(base), BlobID: id, RootHash: root, Size: 10, EncodingType: 1}}
	}
	// Three blocks with two BlobRegistered events each, then an empty block.
	for h := int64(1); h <= 3; h++ {
		calls := append(register(byte(2*h), 0), register(byte(2*h+1), 2)...)
		r := run(t, a, h, signTx(alice, uint64(h), 100, calls...))
		if r.TxResults[0].Code != 0 || len(r.TxResults[0].Events) != 2 {
			t.Fatalf("block %d: %s", h, r.TxResults[0].Log)
		}
	}
	run(t, a, 4)
	page := func(path string) *chain.EventPage {
		t.Helper()
		q, _ := a.Query(context.Background(), &abcitypes.RequestQuery{Path: path})
		p, err := chain.UnmarshalEventPage(q.Value)
		if q.Code != 0 || err != nil {
			t.Fatalf("%s: code %d %s %v", path, q.Code, q.Log, err)
		}
		return p
	}
	p := page("/events?limit=3")
	if len(p.Events) != 3 || p.Events[2].Cursor != (chain.Cursor{Height: 2}) || p.Through != 1 || p.LastHeight != 4 {
		t.Fatalf("first page: %d events, through %d, last %d, %v", len(p.Events), p.Through, p.LastHeight, p.Events[len(p.Events)-1].Cursor)
	}
	p = page("/events?limit=3&after=" + p.Events[2].Cursor.String())
	if len(p.Events) != 3 || p.Events[0].Cursor != (chain.Cursor{Height: 2, EventIndex: 1}) || p.Through != 4 {
		t.Fatalf("second page: %d events through %d", len(p.Events), p.Through)
	}
	if e, err := chain.ParseBlobRegistered(p.Events[0].Event.Data); err != nil || e.Size != 10 {
		t.Fatalf("payload %+v %v", e, err)
	}
	p = page("/events?after=" + p.Events[2].Cursor.String())
	if len(p.Events) != 0 || p.Through != 4 {
		t.Fatalf("last page: %d events through %d", len(p.Events), p.Through)
	}
	q, _ := a.Query(context.Background(), &abcitypes.RequestQuery{Path: "/events?after=bad"})
	if q.Code != QueryBadPath {
		t.Fatalf("bad cursor: code %d", q.Code)
	}
}

// FuzzCheckTx: CheckTx never panics and answers every input with a code.
func FuzzCheckTx(f *testing.F) {
	alice := seedKey("alice")
	a := openApp(f, alice)
	f.Add(signTx(alice, 1, 100, &chain.TransferWal{To: ids.Address{1}, Amount: 1}))
	f.Add(signTx(alice, 1, 100, &chain.ReserveSpace{EncodedSize: 10, EpochsAhead: 1}))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, tx []byte) {
		r := checkTx(a, tx)
		if r == nil {
			t.Fatal("nil response")
		}
		if r.Code != 0 && r.Log == "" {
			t.Fatalf("code %d without a log", r.Code)
		}
	})
}
