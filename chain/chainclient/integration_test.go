package chainclient_test

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/bls"
	"github.com/walrus-go/walrus/chain"
	"github.com/walrus-go/walrus/chain/abci"
	"github.com/walrus-go/walrus/chain/chainclient"
	"github.com/walrus-go/walrus/ids"
	"github.com/walrus-go/walrus/merkle"
	"github.com/walrus-go/walrus/wire"
)

type devnet struct {
	genesis *chain.Genesis
	user    ed25519.PrivateKey
	nodes   []*bls.SecretKey
	ops     []ed25519.PrivateKey
}

func key(seed string) ed25519.PrivateKey {
	s := sha256.Sum256([]byte(seed))
	return ed25519.NewKeyFromSeed(s[:])
}

func addr(k ed25519.PrivateKey) ids.Address { return ids.AddressOf(k.Public().(ed25519.PublicKey)) }

// newDevnet builds a genesis with four storage nodes over 10 shards and a funded user.
func newDevnet(t testing.TB, epochMs uint64) *devnet {
	d := &devnet{user: key("user")}
	d.genesis = &chain.Genesis{NShards: 10, EpochDurationMs: epochMs, MaxEpochsAhead: 5, StoragePrice: 100, WritePrice: 10,
		Capacity: 1 << 40, MinFee: 1000, Accounts: []chain.GenesisAccount{{Address: addr(d.user), Balance: 1000 * chain.FrostPerWAL}}}
	for i := range 4 {
		ikm := sha256.Sum256([]byte{byte(i), 'b'})
		sk, err := bls.KeyFromIKM(ikm[:])
		if err != nil {
			t.Fatal(err)
		}
		op := key("op" + string(rune('a'+i)))
		d.nodes, d.ops = append(d.nodes, sk), append(d.ops, op)
		d.genesis.Accounts = append(d.genesis.Accounts, chain.GenesisAccount{Address: addr(op), Balance: 10 * chain.FrostPerWAL})
		d.genesis.Nodes = append(d.genesis.Nodes, chain.NewGenesisNode("node", "127.0.0.1:9185", sk, []byte{byte(i)}, addr(op), 100*chain.FrostPerWAL))
	}
	return d
}

// certificate signs a confirmation by every committee member.
func (d *devnet) certificate(t testing.TB, ctx context.Context, c *chainclient.Client, msg []byte) ([]byte, [96]byte) {
	t.Helper()
	com, err := c.Committee(ctx, "current")
	if err != nil {
		t.Fatal(err)
	}
	var sigs []bls.Signature
	var signers []uint16
	for i, m := range com.Members {
		for _, sk := range d.nodes {
			if sk.PublicKey().Bytes() == m.PublicKey {
				sigs = append(sigs, sk.Sign(msg))
				signers = append(signers, uint16(i))
			}
		}
	}
	agg, err := bls.AggregateSignatures(sigs)
	if err != nil {
		t.Fatal(err)
	}
	bm, err := wire.SignersBitmap(signers, len(com.Members))
	if err != nil {
		t.Fatal(err)
	}
	return bm, agg.Bytes()
}

func startEmbedded(t testing.TB, ctx context.Context, dir string, g *chain.Genesis) (*abci.Node, *chainclient.Client) {
	t.Helper()
	n, err := abci.StartEmbedded(ctx, abci.EmbeddedConfig{Dir: dir, ChainID: "walrus-it", Genesis: g})
	if err != nil {
		t.Fatal(err)
	}
	c, err := chainclient.Dial(ctx, chainclient.Config{RPC: n.RPCAddress(), ChainID: "walrus-it", PollInterval: 20 * time.Millisecond})
	if err != nil {
		n.Stop()
		t.Fatal(err)
	}
	return n, c
}

// follower runs Follow in the background and collects events.
type follower struct {
	mu     sync.Mutex
	events []chain.EventRecord
	cancel context.CancelFunc
	done   chan error
}

func follow(c *chainclient.Client, store chainclient.CursorStore) *follower {
	ctx, cancel := context.WithCancel(context.Background())
	f := &follower{cancel: cancel, done: make(chan error, 1)}
	go func() {
		f.done <- c.Follow(ctx, store, func(e chain.EventRecord) error {
			f.mu.Lock()
			f.events = append(f.events, e)
			f.mu.Unlock()
			return nil
		})
	}()
	return f
}

func (f *follower) stop(t testing.TB) {
	f.cancel()
	if err := <-f.done; !errors.Is(err, context.Canceled) {
		t.Errorf("follower: %v", err)
	}
}

// waitFor waits until the follower has seen an event of typ for object id.
func (f *follower) waitFor(t testing.TB, typ string, id ids.ObjectID) chain.EventRecord {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		f.mu.Lock()
		for _, e := range f.events {
			if e.Event.Type == typ && e.Event.ObjectID != nil && *e.Event.ObjectID == id {
				f.mu.Unlock()
				return e
			}
		}
		f.mu.Unlock()
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no %s event for %s", typ, id)
	return chain.EventRecord{}
}

func (f *follower) snapshot() []chain.EventRecord {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]chain.EventRecord(nil), f.events...)
}

func TestEmbeddedChainRestart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	d := newDevnet(t, 3_600_000)
	n, c := startEmbedded(t, ctx, filepath.Join(dir, "chain"), d.genesis)
	stopped := false
	defer func() {
		if !stopped {
			n.Stop()
		}
	}()
	cursor := chainclient.FileCursor{Path: filepath.Join(dir, "cursor")}
	f := follow(c, cursor)
	user := chainclient.NewSigner(d.user)

	sys, err := c.System(ctx)
	if err != nil || sys.Epoch != 1 || sys.NShards != 10 {
		t.Fatalf("system: %+v %v", sys, err)
	}
	size := uint64(3000)
	enc, _ := blob.MustParams(10).EncodedLength(size)
	root := merkle.Node(sha256.Sum256([]byte("root")))
	id := blob.DeriveID(blob.RS2, size, root)
	res, err := c.Execute(ctx, user, &chain.ReserveSpace{EncodedSize: enc, EpochsAhead: 2},
		&chain.RegisterBlob{Storage: chain.CreatedRef(0), BlobID: id, RootHash: root, Size: size, EncodingType: 1, Deletable: true})
	if err != nil {
		t.Fatal(err)
	}
	blobObj := res.Created[1]
	if len(res.Events) != 1 || res.Events[0].Event.Type != chain.EventBlobRegistered {
		t.Fatalf("events %+v", res.Events)
	}
	msg := (&wire.Confirmation{Epoch: 1, BlobID: id, Persistence: wire.Deletable(blobObj)}).Marshal()
	bm, sig := d.certificate(t, ctx, c, msg)
	if _, err := c.Execute(ctx, user, &chain.CertifyBlob{Blob: chain.Ref(blobObj), Signature: sig, SignersBitmap: bm, Message: msg}); err != nil {
		t.Fatal(err)
	}
	// An abort comes back as ErrAborted with its name.
	res, err = c.Execute(ctx, user, &chain.CertifyBlob{Blob: chain.Ref(blobObj), Signature: sig, SignersBitmap: bm, Message: msg})
	if !errors.Is(err, chainclient.ErrAborted) || !errors.Is(err, chain.EAlreadyCertified) || errors.Is(err, chain.ENotOwner) {
		t.Fatalf("double certify: %v", err)
	}
	if a, ok := chain.AbortOf(err); !ok || a != chain.EAlreadyCertified || res.Abort() != chain.EAlreadyCertified {
		t.Fatalf("double certify: abort %v, result's %v", a, res.Abort())
	}
	// A rejected transaction: wrong chain ID signature.
	raw, _ := chain.Sign(&chain.Tx{Sender: user.Address(), Sequence: 99, Fee: 1000}, "other", d.user)
	var rej *chainclient.RejectedError
	if _, err := c.Submit(ctx, raw); !errors.As(err, &rej) || rej.Code != chain.CodeBadSignature {
		t.Fatalf("foreign chain tx: %v", err)
	}
	f.waitFor(t, chain.EventBlobRegistered, blobObj)
	f.waitFor(t, chain.EventBlobCertified, blobObj)
	f.stop(t)
	before := f.snapshot()
	st, err := c.BlobStatus(ctx, id)
	if err != nil || len(st.Objects) != 1 || !st.Objects[0].Blob.Certified() {
		t.Fatalf("blob status %+v %v", st, err)
	}
	height := n.App().Height()

	// Stop and restart from the home directory.
	if err := n.Stop(); err != nil {
		t.Fatal(err)
	}
	stopped = true
	n, c = startEmbedded(t, ctx, filepath.Join(dir, "chain"), nil)
	defer n.Stop()
	if n.App().Height() < height {
		t.Fatalf("height %d after restart, was %d", n.App().Height(), height)
	}
	o, err := c.Object(ctx, blobObj)
	if err != nil || !o.Blob.Certified() {
		t.Fatalf("blob after restart: %+v %v", o, err)
	}
	blobs, err := c.BlobsByOwner(ctx, user.Address())
	if err != nil || len(blobs) != 1 {
		t.Fatalf("blobs by owner: %d %v", len(blobs), err)
	}
	if _, err := c.Object(ctx, ids.ObjectID{1}); !errors.Is(err, chainclient.ErrNotFound) {
		t.Fatalf("missing object: %v", err)
	}
	com, err := c.Committee(ctx, "1")
	if err != nil || len(com.Members) != 4 || com.Members[0].NetworkAddress != "127.0.0.1:9185" {
		t.Fatalf("committee %+v %v", com, err)
	}
	pools, err := c.Pools(ctx)
	if err != nil || len(pools) != 4 {
		t.Fatalf("pools %d %v", len(pools), err)
	}
	staked, err := c.Staked(ctx, addr(d.ops[0]))
	if err != nil || len(staked) != 1 {
		t.Fatalf("staked %d %v", len(staked), err)
	}
	// The follower resumes from its cursor: it sees the new event and none twice.
	f = follow(c, cursor)
	user2 := chainclient.NewSigner(d.user) // a new process learns its sequence from the chain
	if _, err := c.Execute(ctx, user2, &chain.DeleteBlob{Blob: chain.Ref(blobObj)}); err != nil {
		t.Fatal(err)
	}
	f.waitFor(t, chain.EventBlobDeleted, blobObj)
	f.stop(t)
	after := f.snapshot()
	for _, e := range after {
		for _, b := range before {
			if e.Cursor == b.Cursor {
				t.Fatalf("event %s seen twice", e.Cursor)
			}
		}
	}
	// No gap: the full stream equals before ++ after.
	all, err := c.Events(ctx, chain.Cursor{}, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(before) + len(after); got != len(all.Events) {
		t.Fatalf("follower saw %d events, the chain has %d", got, len(all.Events))
	}
}
