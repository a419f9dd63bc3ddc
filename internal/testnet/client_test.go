package testnet_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/chain"
	"github.com/walrus-go/walrus/chain/chainclient"
	"github.com/walrus-go/walrus/client"
	"github.com/walrus-go/walrus/ids"
	"github.com/walrus-go/walrus/internal/sdkinternal"
	"github.com/walrus-go/walrus/internal/testnet"
	"github.com/walrus-go/walrus/nodeapi"
	"github.com/walrus-go/walrus/redstuff"
	"github.com/walrus-go/walrus/wallet"
)

func ctxFor(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// TestStoreReadSizes: blobs of 0 B, 1 B, 1 MiB and 64 MiB (not in -short)
// store, certify, and read back byte for byte, also through ReadTo and
// with each consistency check; progress is reported.
func TestStoreReadSizes(t *testing.T) {
	net := testnet.Start(t, testnet.Config{Shards: 100}) // n = 10 stores at most 1.8 MB
	ctx := ctxFor(t, 3*time.Minute)
	sizes := []int{0, 1, 1 << 20}
	if !testing.Short() {
		sizes = append(sizes, 64<<20)
	}
	for i, size := range sizes {
		data := randomBytes(size, uint64(100+i))
		var mu sync.Mutex
		phases := map[client.Phase]bool{}
		var lastUp client.Progress
		start := time.Now()
		res, err := net.Client.Store(ctx, data, client.StoreOptions{Epochs: 2, Progress: func(p client.Progress) {
			mu.Lock()
			defer mu.Unlock()
			phases[p.Phase] = true
			if p.Phase == client.PhaseUpload {
				lastUp = p
			}
		}})
		if err != nil {
			t.Fatalf("%d bytes: %v", size, err)
		}
		took := time.Since(start)
		nc := res.Result.NewlyCreated
		if nc == nil || nc.BlobObject.BlobID != res.BlobID || nc.BlobObject.Size != uint64(size) || nc.BlobObject.CertifiedEpoch == nil ||
			nc.ResourceOperation.RegisterFromScratch == nil || nc.Cost == 0 {
			t.Fatalf("%d bytes: result %+v", size, res.Result)
		}
		mu.Lock()
		for _, p := range []client.Phase{client.PhaseEncode, client.PhaseStatus, client.PhaseRegister, client.PhaseUpload, client.PhaseCertify, client.PhaseDone} {
			if !phases[p] {
				t.Errorf("%d bytes: no %s progress (%v)", size, p, phases)
			}
		}
		if lastUp.Total == 0 || lastUp.Done == 0 {
			t.Errorf("%d bytes: upload progress %+v", size, lastUp)
		}
		mu.Unlock()
		if res.Tail != nil {
			if err := res.Tail.Wait(ctx); err != nil {
				t.Errorf("tail: %v", err)
			}
		}
		for _, mode := range []redstuff.Consistency{redstuff.ConsistencyDefault, redstuff.ConsistencyStrict, redstuff.ConsistencySkip} {
			got, err := net.Client.ReadWith(ctx, res.BlobID, client.ReadOptions{Consistency: mode})
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("%d bytes, %v: read %d bytes, %v", size, mode, len(got), err)
			}
		}
		var buf bytes.Buffer
		if n, err := net.Client.ReadTo(ctx, res.BlobID, &buf, client.ReadOptions{}); err != nil || n != int64(size) || !bytes.Equal(buf.Bytes(), data) {
			t.Fatalf("%d bytes: ReadTo %d, %v", size, n, err)
		}
		t.Logf("%d bytes: stored in %v (encode %v, register %v, upload %v, certify %v)", size, took.Round(time.Millisecond),
			res.Encode.Round(time.Millisecond), res.Register.Round(time.Millisecond), res.Upload.Round(time.Millisecond), res.Certify.Round(time.Millisecond))
	}
}

// TestStoreResultsAndReuse walks the store planning: a permanent blob
// certified long enough is alreadyCertified without cost (by event); an
// owned certified deletable blob is alreadyCertified by object; too short
// an owned blob is extended (reuseAndExtend); a deleted blob's storage is
// reused (reuseStorage) and a larger one split; --force makes a new
// certification; markedInvalid is not reachable here (see invalid_test).
func TestStoreResultsAndReuse(t *testing.T) {
	net := testnet.Start(t, testnet.Config{})
	ctx := ctxFor(t, 2*time.Minute)
	c := net.Client
	data := randomBytes(5000, 1)
	first, err := c.Store(ctx, data, client.StoreOptions{Epochs: 3})
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.Store(ctx, data, client.StoreOptions{Epochs: 2})
	if err != nil {
		t.Fatal(err)
	}
	// By the certification event once the nodes report it (before that, by
	// the wallet's own certified object).
	ac := again.Result.AlreadyCertified
	if ac == nil || (ac.Event == nil) == (ac.Object == nil) || ac.EndEpoch != first.EndEpoch || ac.BlobID != first.BlobID || again.Cost != 0 {
		t.Fatalf("permanent again: %+v", again.Result)
	}
	waitStatus(t, c, first.BlobID, func(s client.BlobStatus) bool { return s.Kind == nodeapi.Permanent && s.IsCertified })
	again, err = c.Store(ctx, data, client.StoreOptions{Epochs: 2})
	if err != nil {
		t.Fatal(err)
	}
	j, _ := json.Marshal(again.Result)
	var shape map[string]map[string]any
	if err := json.Unmarshal(j, &shape); err != nil || shape["alreadyCertified"]["event"] == nil || shape["alreadyCertified"]["blobId"] != first.BlobID.String() ||
		shape["alreadyCertified"]["endEpoch"] != float64(first.EndEpoch) {
		t.Fatalf("alreadyCertified JSON %s", j)
	}
	// Longer than the existing blob: an owned certified permanent blob is extended.
	longer, err := c.Store(ctx, data, client.StoreOptions{Epochs: 6})
	if err != nil {
		t.Fatal(err)
	}
	if op := longer.Result.NewlyCreated; op == nil || op.ResourceOperation.ReuseAndExtend == nil || op.ResourceOperation.ReuseAndExtend.EpochsExtended != 3 ||
		op.BlobObject.ID != first.ObjectID || op.BlobObject.Storage.EndEpoch != first.EndEpoch+3 {
		t.Fatalf("extend: %+v", longer.Result)
	}
	// Force: a new certification from scratch.
	forced, err := c.Store(ctx, data, client.StoreOptions{Epochs: 1, Force: true})
	if err != nil || forced.Result.NewlyCreated == nil || forced.Result.NewlyCreated.ResourceOperation.RegisterFromScratch == nil || forced.ObjectID == first.ObjectID {
		t.Fatalf("force: %+v %v", forced, err)
	}
	// Deletable: stored, stored again (its own object), deleted, and the
	// returned storage is reused (split: the new blob is smaller).
	ddata := randomBytes(300_000, 2)
	d1, err := c.Store(ctx, ddata, client.StoreOptions{Epochs: 4, Deletable: true})
	if err != nil {
		t.Fatal(err)
	}
	d2, err := c.Store(ctx, ddata, client.StoreOptions{Epochs: 2, Deletable: true})
	if err != nil || d2.Result.AlreadyCertified == nil || d2.Result.AlreadyCertified.Object == nil || *d2.Result.AlreadyCertified.Object != d1.ObjectID {
		t.Fatalf("deletable again: %+v %v", d2, err)
	}
	if _, err := c.DeleteBlob(ctx, d1.ObjectID); err != nil {
		t.Fatal(err)
	}
	before, _ := c.Balance(ctx)
	small := randomBytes(10, 3)
	r, err := c.Store(ctx, small, client.StoreOptions{Epochs: 2, Deletable: true})
	if err != nil {
		t.Fatal(err)
	}
	nc := r.Result.NewlyCreated
	if nc == nil || nc.ResourceOperation.ReuseStorage == nil || nc.BlobObject.Storage.EndEpoch != d1.EndEpoch {
		t.Fatalf("reuse storage: %+v", r.Result)
	}
	after, _ := c.Balance(ctx)
	sys, _ := net.Chain.System(ctx)
	write, _ := chain.WriteCost(r.EncodedSize, sys.WritePrice)
	if nc.Cost != write || before-after != write+2*sys.MinFee { // two transactions: register, certify
		t.Fatalf("reuse storage cost %d, paid %d, write fee %d", nc.Cost, before-after, write)
	}
	left, err := net.Chain.StorageByOwner(ctx, net.Signer.Address())
	if err != nil || len(left) != 1 || left[0].Storage.Size != d1.EncodedSize-r.EncodedSize {
		t.Fatalf("the rest of the split storage: %v %v", left, err)
	}
	// Send to another owner; share.
	other := wallet.Address(testnet.Key("other"))
	sent, err := c.Store(ctx, randomBytes(1234, 4), client.StoreOptions{Epochs: 1, SendObjectTo: &other})
	if err != nil {
		t.Fatal(err)
	}
	if o, err := net.Chain.Object(ctx, sent.ObjectID); err != nil || o.Owner.Address != other {
		t.Fatalf("sent object owner: %v %v", o, err)
	}
	shared, err := c.Store(ctx, randomBytes(4321, 5), client.StoreOptions{Epochs: 1, Share: true})
	if err != nil || shared.SharedObjectID == nil || shared.Result.NewlyCreated.SharedBlobObject == nil {
		t.Fatalf("share: %+v %v", shared, err)
	}
	if o, err := net.Chain.Object(ctx, *shared.SharedObjectID); err != nil || o.Kind != chain.KindSharedBlob {
		t.Fatalf("shared object: %v %v", o, err)
	}
	if err := c.FundSharedBlob(ctx, *shared.SharedObjectID, 1_000_000_000); err != nil {
		t.Fatal(err)
	}
	if end, err := c.Extend(ctx, *shared.SharedObjectID, 2, true); err != nil || end != shared.EndEpoch+2 {
		t.Fatalf("extend shared: %d %v", end, err)
	}
	if _, err := c.Store(ctx, data, client.StoreOptions{Share: true, SendObjectTo: &other}); !errors.Is(err, client.ErrInvalidArgument) {
		t.Fatalf("share and send: %v", err)
	}
}

// TestManage: list, attributes, extend, burn, delete, status after delete.
func TestManage(t *testing.T) {
	net := testnet.Start(t, testnet.Config{})
	ctx := ctxFor(t, 2*time.Minute)
	c := net.Client
	a, err := c.Store(ctx, randomBytes(2000, 1), client.StoreOptions{Epochs: 2, Deletable: true})
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.Store(ctx, randomBytes(3000, 2), client.StoreOptions{Epochs: 2})
	if err != nil {
		t.Fatal(err)
	}
	list, err := c.ListBlobs(ctx, false)
	if err != nil || len(list) != 2 {
		t.Fatalf("list: %d %v", len(list), err)
	}
	if err := c.SetBlobAttributes(ctx, b.ObjectID, []client.Attribute{{Key: "content-type", Value: "text/plain"}, {Key: "x", Value: "1"}}); err != nil {
		t.Fatal(err)
	}
	if err := c.RemoveBlobAttributes(ctx, b.ObjectID, []string{"x"}); err != nil {
		t.Fatal(err)
	}
	attrs, err := c.BlobAttributes(ctx, b.ObjectID)
	if err != nil || len(attrs) != 1 || attrs[0] != (client.Attribute{Key: "content-type", Value: "text/plain"}) {
		t.Fatalf("attributes %v %v", attrs, err)
	}
	if err := c.RemoveBlobAttributes(ctx, b.ObjectID, []string{"nope"}); !errors.Is(err, client.ErrInvalidArgument) {
		t.Fatalf("remove a missing attribute: %v", err)
	}
	if end, err := c.Extend(ctx, b.ObjectID, 3, false); err != nil || end != b.EndEpoch+3 {
		t.Fatalf("extend %d %v", end, err)
	}
	if _, err := c.DeleteBlob(ctx, b.ObjectID); !errors.Is(err, client.ErrNotDeletable) {
		t.Fatalf("delete permanent: %v", err)
	}
	deleted, err := c.DeleteBlobID(ctx, a.BlobID)
	if err != nil || len(deleted) != 1 || deleted[0].ID != a.ObjectID {
		t.Fatalf("delete by blob ID: %v %v", deleted, err)
	}
	waitStatus(t, c, a.BlobID, func(s client.BlobStatus) bool { return s.Kind == nodeapi.Nonexistent })
	if _, err := c.DeleteBlobID(ctx, a.BlobID); !errors.Is(err, client.ErrBlobNotFound) {
		t.Fatalf("delete again: %v", err)
	}
	if err := c.BurnBlobs(ctx, []ids.ObjectID{b.ObjectID}); err != nil {
		t.Fatal(err)
	}
	if list, _ := c.ListBlobs(ctx, true); len(list) != 0 {
		t.Fatalf("after burn: %d blobs", len(list))
	}
	// Burnt, the data stays readable.
	if _, err := c.Read(ctx, b.BlobID); err != nil {
		t.Fatalf("read a burnt blob: %v", err)
	}
	if _, err := c.OwnedBlob(ctx, b.ObjectID); !errors.Is(err, client.ErrObjectNotFound) {
		t.Fatalf("burnt object: %v", err)
	}
}

func waitStatus(t *testing.T, c *client.Client, id blob.ID, ok func(client.BlobStatus) bool) client.BlobStatus {
	t.Helper()
	ctx := ctxFor(t, 30*time.Second)
	for {
		st, err := c.BlobStatus(ctx, id)
		if err == nil && ok(st) {
			return st
		}
		if ctx.Err() != nil {
			t.Fatalf("status of %s: %+v %v", id, st, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestStakingAndInfo: stake, list, withdraw stake not yet active; operator
// votes and commission; system info; health.
func TestStakingAndInfo(t *testing.T) {
	net := testnet.Start(t, testnet.Config{})
	ctx := ctxFor(t, time.Minute)
	c := net.Client
	pools, err := c.Pools(ctx)
	if err != nil || len(pools) != 4 {
		t.Fatalf("pools: %v", err)
	}
	for _, p := range pools {
		if p.State != "active" || p.Stake != 1000*chain.FrostPerWAL || p.NetworkAddress == "" || p.Name == "" {
			t.Fatalf("pool %+v", p)
		}
	}
	staked, err := c.Stake(ctx, []ids.ObjectID{pools[0].ID, pools[1].ID}, []uint64{2 * chain.FrostPerWAL, 3 * chain.FrostPerWAL})
	if err != nil || len(staked) != 2 || staked[1].Principal != 3*chain.FrostPerWAL {
		t.Fatalf("stake: %+v %v", staked, err)
	}
	list, err := c.ListStakedWal(ctx)
	if err != nil || len(list) != 2 {
		t.Fatalf("list staked: %v %v", list, err)
	}
	got, err := c.WithdrawStake(ctx, staked[0].ID) // not active yet: withdrawn at once
	if err != nil || got != 2*chain.FrostPerWAL {
		t.Fatalf("withdraw inactive stake: %d %v", got, err)
	}
	if _, err := c.RequestWithdrawStake(ctx, staked[0].ID); !errors.Is(err, client.ErrObjectNotFound) {
		t.Fatalf("withdrawn twice: %v", err)
	}
	// The operator votes; a stranger may not.
	if err := c.Vote(ctx, pools[0].ID, client.VoteParams{StoragePrice: 5}); !errors.Is(err, client.ErrNotAuthorized) {
		t.Fatalf("vote by a stranger: %v", err)
	}
	op := operatorClient(t, net, 0, pools[0].ID)
	if err := op.Vote(ctx, pools[0].ID, client.VoteParams{StoragePrice: 5}); err != nil {
		t.Fatal(err)
	}
	if err := op.SetCommissionRate(ctx, pools[0].ID, 500); err != nil {
		t.Fatal(err)
	}
	if _, err := op.CollectCommission(ctx, pools[0].ID); err != nil {
		t.Fatal(err)
	}
	info, err := c.SystemInfo(ctx, true)
	if err != nil || info.StorageInfo.NShards != 10 || info.StorageInfo.NNodes != 4 || info.BftInfo.MaxFaultyShards != 3 ||
		len(info.CommitteeInfo.StorageNodes) != 4 || len(info.PriceInfo.EncodingDependentPriceInfo[0].ExampleBlobs) != 3 {
		t.Fatalf("info %+v %v", info, err)
	}
	hs, err := c.Health(ctx, client.NodeSelection{}, false)
	if err != nil || len(hs) != 4 {
		t.Fatalf("health %v", err)
	}
	for _, h := range hs {
		if h.HealthInfo.Info == nil {
			t.Fatalf("health of %s: %s", h.NodeName, h.HealthInfo.Err)
		}
	}
	if err := net.StopNode(2); err != nil {
		t.Fatal(err)
	}
	hs, _ = c.Health(ctx, client.NodeSelection{}, false)
	if hs[3].HealthInfo.Info != nil || hs[3].NodeURL != net.Address(2) {
		t.Fatalf("a stopped node sorts last with its error: %+v", hs[3])
	}
}

// operatorClient is a client paying with node i's operator account.
func operatorClient(t *testing.T, net *testnet.Network, i int, _ ids.ObjectID) *client.Client {
	t.Helper()
	k, err := wallet.Load(filepath.Join(net.NodeDir(i), "wallet.json"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := sdkinternal.New(context.Background(), net.Chain, chainclient.NewSigner(k), client.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// TestConcurrentStoresShareNothing: concurrent stores of one client never
// pick the same owned Storage resource: two freed resources serve two of
// three concurrent stores, the third buys its own.
func TestConcurrentStoresShareNothing(t *testing.T) {
	net := testnet.Start(t, testnet.Config{})
	ctx := ctxFor(t, time.Minute)
	c := net.Client
	var stored []*client.StoreResult
	for i := range 2 {
		r, err := c.Store(ctx, randomBytes(1000, uint64(i)), client.StoreOptions{Epochs: 3, Deletable: true})
		if err != nil {
			t.Fatal(err)
		}
		stored = append(stored, r)
	}
	for _, r := range stored {
		if _, err := c.DeleteBlob(ctx, r.ObjectID); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	ops := make([]client.ResourceOperation, 3)
	errs := make([]error, 3)
	for i := range 3 {
		wg.Go(func() {
			r, err := c.Store(ctx, randomBytes(1000, uint64(10+i)), client.StoreOptions{Epochs: 2, Deletable: true})
			errs[i] = err
			if err == nil {
				ops[i] = r.Result.NewlyCreated.ResourceOperation
			}
		})
	}
	wg.Wait()
	reused, scratch := 0, 0
	for i := range 3 {
		if errs[i] != nil {
			t.Fatalf("store %d: %v", i, errs[i])
		}
		if ops[i].ReuseStorage != nil {
			reused++
		}
		if ops[i].RegisterFromScratch != nil {
			scratch++
		}
	}
	if reused != 2 || scratch != 1 {
		left, _ := net.Chain.StorageByOwner(ctx, net.Signer.Address())
		t.Fatalf("%d reused, %d from scratch; storage left %d", reused, scratch, len(left))
	}
}

// TestReuseOwnedRegistration: an owned registration that was never
// certified is completed (reuseRegistration), or completed and extended in
// the certify transaction when too short (reuseAndExtendNonCertified).
func TestReuseOwnedRegistration(t *testing.T) {
	net := testnet.Start(t, testnet.Config{})
	ctx := ctxFor(t, time.Minute)
	c := net.Client
	register := func(data []byte, epochs uint32) ids.ObjectID {
		x, err := sdkinternal.Encoder(c).Encode(data)
		if err != nil {
			t.Fatal(err)
		}
		size, _ := c.Params().EncodedLength(x.Metadata.UnencodedLength)
		tx, err := net.Chain.Execute(ctx, net.Signer, &chain.ReserveSpace{EncodedSize: size, EpochsAhead: epochs},
			&chain.RegisterBlob{Storage: chain.CreatedRef(0), BlobID: x.Metadata.ID, RootHash: x.Metadata.Root(), Size: x.Metadata.UnencodedLength, EncodingType: uint8(blob.RS2)})
		if err != nil {
			t.Fatal(err)
		}
		return tx.Created[1]
	}
	a := randomBytes(7000, 1)
	objA := register(a, 4)
	r, err := c.Store(ctx, a, client.StoreOptions{Epochs: 2})
	if err != nil {
		t.Fatal(err)
	}
	if nc := r.Result.NewlyCreated; nc == nil || nc.ResourceOperation.ReuseRegistration == nil || nc.Cost != 0 || nc.BlobObject.ID != objA || nc.BlobObject.CertifiedEpoch == nil {
		t.Fatalf("reuse registration: %+v", r.Result)
	}
	b := randomBytes(8000, 2)
	objB := register(b, 1)
	r, err = c.Store(ctx, b, client.StoreOptions{Epochs: 4})
	if err != nil {
		t.Fatal(err)
	}
	nc := r.Result.NewlyCreated
	if nc == nil || nc.ResourceOperation.ReuseAndExtendNonCertified == nil || nc.ResourceOperation.ReuseAndExtendNonCertified.EpochsExtended != 3 ||
		nc.BlobObject.ID != objB || nc.BlobObject.CertifiedEpoch == nil || nc.BlobObject.Storage.EndEpoch != r.EndEpoch {
		t.Fatalf("reuse and extend: %+v", r.Result)
	}
	if got, err := c.Read(ctx, r.BlobID); err != nil || !bytes.Equal(got, b) {
		t.Fatalf("read: %v", err)
	}
}
