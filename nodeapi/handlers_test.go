package nodeapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/bls"
	"github.com/walrus-go/walrus/ids"
	"github.com/walrus-go/walrus/nodeapi"
	"github.com/walrus-go/walrus/redstuff"
	"github.com/walrus-go/walrus/wire"
)

var permanent = nodeapi.Registration{Permanent: true}

func TestPutAndGetMetadata(t *testing.T) {
	f := newFixture(t, nodeapi.Config{})
	ctx := context.Background()
	x := encode(t, 3000, 1)
	id := x.Metadata.ID
	path := "/v1/blobs/" + id.String() + "/metadata"
	body := x.Metadata.Metadata.MarshalBCS()

	f.rejected(404, nodeapi.ReasonMetadataNotFound, "GET", path, nil)
	f.rejected(400, nodeapi.ReasonNotRegistered, "PUT", path, body)
	f.rejected(400, nodeapi.ReasonInvalidBlobID, "PUT", "/v1/blobs/notanid/metadata", body)
	f.rejected(400, nodeapi.ReasonInvalidBlobID, "GET", "/v1/blobs/notanid/metadata", nil)
	f.rejected(400, nodeapi.ReasonInvalidParameter, "PUT", path+"?pending=maybe", body)
	f.rejected(400, nodeapi.ReasonInvalidMetadata, "PUT", path, []byte{0, 1, 2})
	f.rejected(400, nodeapi.ReasonUnsupportedEncoding, "PUT", path, append([]byte{0, 0}, body[2:]...))
	f.rejected(403, nodeapi.ReasonBodyTooLarge, "PUT", path, make([]byte, 66*testN+17))
	other := encode(t, 3001, 2)
	f.rejected(400, nodeapi.ReasonInvalidMetadata, "PUT", path, other.Metadata.Metadata.MarshalBCS())

	// Pending: buffered, not served, flushed on registration.
	if code, err := f.client.PutMetadata(ctx, &x.Metadata, true); err != nil || code != 202 {
		t.Fatalf("pending put: %d %v", code, err)
	}
	if st, err := f.client.MetadataStatus(ctx, id); err != nil || st != nodeapi.StatusBuffered {
		t.Fatalf("status %q %v", st, err)
	}
	f.rejected(404, nodeapi.ReasonMetadataNotFound, "GET", path, nil)
	f.chain.register(id, permanent)
	f.srv.Registered(id)
	if st, _ := f.client.MetadataStatus(ctx, id); st != nodeapi.StatusStored {
		t.Fatalf("status after registration %q", st)
	}
	md, err := f.client.Metadata(ctx, id)
	if err != nil || !bytes.Equal(md.MarshalBCS(), x.Metadata.MarshalBCS()) {
		t.Fatalf("get metadata: %v", err)
	}
	if code, err := f.client.PutMetadata(ctx, &x.Metadata, false); err != nil || code != 200 {
		t.Fatalf("second put: %d %v", code, err)
	}

	// Registered: stored directly.
	y := encode(t, 10, 3)
	f.chain.register(y.Metadata.ID, nodeapi.Registration{Deletable: []ids.ObjectID{{1}}})
	if code, err := f.client.PutMetadata(ctx, &y.Metadata, false); err != nil || code != 201 {
		t.Fatalf("registered put: %d %v", code, err)
	}

	// Invalid and blocked blobs.
	z := encode(t, 20, 4)
	zp := "/v1/blobs/" + z.Metadata.ID.String() + "/metadata"
	f.chain.register(z.Metadata.ID, nodeapi.Registration{Invalid: &ids.EventID{Seq: 1}})
	f.rejected(400, nodeapi.ReasonInvalidBlob, "PUT", zp, z.Metadata.Metadata.MarshalBCS())
	f.block[id] = true
	f.rejected(451, nodeapi.ReasonForbiddenBlob, "GET", path, nil)
	f.rejected(451, nodeapi.ReasonForbiddenBlob, "PUT", path, body)
	f.rejected(451, nodeapi.ReasonForbiddenBlob, "GET", path+"/status", nil)
	f.rejected(400, nodeapi.ReasonInvalidBlobID, "GET", "/v1/blobs/AAAA/metadata/status", nil)
}

func TestPendingCacheBounds(t *testing.T) {
	f := newFixture(t, nodeapi.Config{Pending: nodeapi.PendingConfig{MaxBlobs: 1, TTL: time.Minute}})
	ctx := context.Background()
	a, b := encode(t, 100, 5), encode(t, 100, 6)
	if _, err := f.client.PutMetadata(ctx, &a.Metadata, true); err != nil {
		t.Fatal(err)
	}
	f.rejected(400, nodeapi.ReasonCacheSaturated, "PUT", "/v1/blobs/"+b.Metadata.ID.String()+"/metadata?pending=true", b.Metadata.Metadata.MarshalBCS())
	// Entries expire; the room comes back.
	f.advance(2 * time.Minute)
	if st, _ := f.client.MetadataStatus(ctx, a.Metadata.ID); st != nodeapi.StatusNonexistent {
		t.Fatalf("expired entry still %q", st)
	}
	if code, err := f.client.PutMetadata(ctx, &b.Metadata, true); err != nil || code != 202 {
		t.Fatalf("put after expiry: %d %v", code, err)
	}
	// An expired entry is not flushed.
	f.advance(2 * time.Minute)
	f.chain.register(b.Metadata.ID, permanent)
	f.srv.Registered(b.Metadata.ID)
	if _, ok, _ := f.store.Metadata(b.Metadata.ID); ok {
		t.Fatal("expired pending metadata was stored")
	}
}

func TestPutAndGetSliver(t *testing.T) {
	f := newFixture(t, nodeapi.Config{})
	ctx := context.Background()
	x := encode(t, 5000, 7)
	id := x.Metadata.ID
	p, _ := f.pair(id, true)
	np, _ := f.pair(id, false)
	pair := x.Pair(p)
	prim, sec := pair.Primary.MarshalBCS(), pair.Secondary.MarshalBCS()
	base := "/v1/blobs/" + id.String() + "/slivers/"
	path := func(p int, t string) string { return base + itoa(p) + "/" + t }

	f.rejected(400, nodeapi.ReasonInvalidBlobID, "PUT", "/v1/blobs/x/slivers/0/primary", prim)
	f.rejected(400, nodeapi.ReasonInvalidParameter, "PUT", base+"zero/primary", prim)
	f.rejected(400, nodeapi.ReasonIndexOutOfRange, "PUT", path(testN, "primary"), prim)
	f.rejected(400, nodeapi.ReasonInvalidParameter, "PUT", path(p, "tertiary"), prim)
	f.rejected(400, nodeapi.ReasonShardNotAssigned, "PUT", path(np, "primary"), prim)
	f.rejected(400, nodeapi.ReasonNotRegistered, "PUT", path(p, "primary"), prim)
	f.rejected(400, nodeapi.ReasonMetadataNotFound, "PUT", path(p, "primary")+"?pending=true", prim)

	// Pending metadata lets pending slivers in; they are not served.
	if _, err := f.client.PutMetadata(ctx, &x.Metadata, true); err != nil {
		t.Fatal(err)
	}
	if code, err := f.client.PutSliver(ctx, id, p, &pair.Primary, true); err != nil || code != 202 {
		t.Fatalf("pending sliver: %d %v", code, err)
	}
	if st, _ := f.client.SliverStatus(ctx, id, p, blob.Primary); st != nodeapi.StatusBuffered {
		t.Fatalf("pending sliver status %q", st)
	}
	f.rejected(404, nodeapi.ReasonSliverNotFound, "GET", path(p, "primary"), nil)

	f.chain.register(id, permanent)
	f.srv.Registered(id)
	got, err := f.client.Sliver(ctx, id, p, blob.Primary)
	if err != nil || !bytes.Equal(got.Data, pair.Primary.Data) {
		t.Fatalf("get flushed sliver: %v", err)
	}
	if st, _ := f.client.SliverStatus(ctx, id, p, blob.Primary); st != nodeapi.StatusStored {
		t.Fatalf("status %q", st)
	}

	// Checks on the body.
	f.rejected(403, nodeapi.ReasonBodyTooLarge, "PUT", path(p, "secondary"), append(bytes.Clone(sec), 0))
	f.rejected(400, nodeapi.ReasonInvalidSliver, "PUT", path(p, "secondary"), sec[:len(sec)-1])
	other := x.Pair((p + 1) % testN) // the wrong pair's sliver
	f.rejected(400, nodeapi.ReasonInvalidSliver, "PUT", path(p, "secondary"), other.Secondary.MarshalBCS())
	bad := pair.Secondary
	bad.Data = bytes.Clone(bad.Data)
	bad.Data[0] ^= 1
	f.rejected(400, nodeapi.ReasonInvalidSliver, "PUT", path(p, "secondary"), bad.MarshalBCS())
	// A primary sliver sent as secondary: wrong size.
	f.rejected(400, nodeapi.ReasonInvalidSliver, "PUT", path(p, "secondary"), prim[:len(sec)])

	if code, err := f.client.PutSliver(ctx, id, p, &pair.Secondary, false); err != nil || code != 201 {
		t.Fatalf("put: %d %v", code, err)
	}
	if code, err := f.client.PutSliver(ctx, id, p, &pair.Secondary, false); err != nil || code != 200 {
		t.Fatalf("second put: %d %v", code, err)
	}
	raw, _ := f.raw("GET", path(p, "secondary"), nil)
	if raw != 200 {
		t.Fatalf("get %d", raw)
	}

	// GET rejections.
	f.rejected(400, nodeapi.ReasonShardNotAssigned, "GET", path(np, "primary"), nil)
	f.rejected(400, nodeapi.ReasonShardNotAssigned, "GET", path(np, "primary")+"/status", nil)
	f.rejected(400, nodeapi.ReasonIndexOutOfRange, "GET", path(99, "primary"), nil)
	f.rejected(400, nodeapi.ReasonInvalidParameter, "GET", path(p, "x")+"/status", nil)
	f.chain.register(id, nodeapi.Registration{Invalid: &ids.EventID{}})
	f.rejected(400, nodeapi.ReasonInvalidBlob, "PUT", path(p, "primary"), prim)
	f.block[id] = true
	f.rejected(451, nodeapi.ReasonForbiddenBlob, "GET", path(p, "primary"), nil)
	f.rejected(451, nodeapi.ReasonForbiddenBlob, "GET", path(p, "primary")+"/status", nil)
	f.rejected(451, nodeapi.ReasonForbiddenBlob, "PUT", path(p, "primary"), prim)
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestConfirmation(t *testing.T) {
	f := newFixture(t, nodeapi.Config{MaxConfirmationWait: 3 * time.Second})
	ctx := context.Background()
	x := encode(t, 2000, 8)
	id := x.Metadata.ID
	perm := "/v1/blobs/" + id.String() + "/confirmation/permanent"
	f.rejected(400, nodeapi.ReasonNotRegistered, "GET", perm, nil)
	f.rejected(400, nodeapi.ReasonInvalidParameter, "GET", perm+"?wait_for_registration=perhaps", nil)
	f.rejected(400, nodeapi.ReasonInvalidParameter, "GET", perm+"?wait_millis=-1", nil)
	f.rejected(400, nodeapi.ReasonInvalidObjectID, "GET", "/v1/blobs/"+id.String()+"/confirmation/deletable/12", nil)

	// Long-poll: the upload is pending; the registration arrives while the
	// confirmation request waits.
	f.upload(x, true)
	type result struct {
		sm  *wire.SignedMessage
		err error
	}
	done := make(chan result, 1)
	start := time.Now()
	go func() {
		sm, err := f.client.Confirmation(ctx, id, wire.Permanent, 3*time.Second)
		done <- result{sm, err}
	}()
	time.Sleep(200 * time.Millisecond)
	f.chain.register(id, permanent)
	f.srv.Registered(id)
	r := <-done
	if r.err != nil {
		t.Fatalf("long-poll confirmation: %v", r.err)
	}
	if time.Since(start) > 2*time.Second {
		t.Fatalf("long-poll took %v", time.Since(start))
	}
	f.checkConfirmation(r.sm, id, wire.Permanent)
	// Writes are not synced one by one; a confirmation is signed only
	// after a Sync has made them all durable.
	if n := f.store.Unsynced(); n != 0 {
		t.Fatalf("confirmation signed with %d unsynced writes", n)
	}

	// A deletable confirmation needs that object's live registration.
	obj := ids.ObjectID{0xab}
	del := "/v1/blobs/" + id.String() + "/confirmation/deletable/0x" + strings.Repeat("ab", 1) + strings.Repeat("00", 31)
	f.rejected(400, nodeapi.ReasonNotRegistered, "GET", del, nil)
	f.chain.register(id, nodeapi.Registration{Permanent: true, Deletable: []ids.ObjectID{obj}})
	sm, err := f.client.Confirmation(ctx, id, wire.Deletable(obj), 0)
	if err != nil {
		t.Fatal(err)
	}
	f.checkConfirmation(sm, id, wire.Deletable(obj))

	// The wait is bounded.
	y := encode(t, 100, 9)
	start = time.Now()
	_, err = f.client.Confirmation(ctx, y.Metadata.ID, wire.Permanent, 300*time.Millisecond)
	if !nodeapi.IsReason(err, nodeapi.ReasonNotRegistered) || time.Since(start) > 2*time.Second {
		t.Fatalf("bounded wait: %v after %v", err, time.Since(start))
	}

	// Missing slivers: registered, but one owned shard lacks its pair.
	f.chain.register(y.Metadata.ID, permanent)
	f.srv.Registered(y.Metadata.ID)
	f.upload(y, false)
	// The node now also owns a shard it has no slivers for.
	_, notOwned := f.pair(y.Metadata.ID, false)
	f.chain.mu.Lock()
	f.chain.owned = append(f.chain.owned, notOwned)
	f.chain.mu.Unlock()
	if _, err := f.client.Confirmation(ctx, y.Metadata.ID, wire.Permanent, 0); !nodeapi.IsReason(err, nodeapi.ReasonMissingSlivers) {
		t.Fatalf("confirmation with a missing pair: %v", err)
	}
	f.chain.register(y.Metadata.ID, nodeapi.Registration{Invalid: &ids.EventID{}})
	f.rejected(400, nodeapi.ReasonInvalidBlob, "GET", "/v1/blobs/"+y.Metadata.ID.String()+"/confirmation/permanent", nil)
	f.block[id] = true
	f.rejected(451, nodeapi.ReasonForbiddenBlob, "GET", perm, nil)
}

// stored registers a blob and uploads every pair to the fixture, as if the
// node held all n shards for symbol tests.
func storedEverywhere(t *testing.T, f *fixture, x *redstuff.Encoded) {
	f.chain.mu.Lock()
	f.chain.owned = []uint16{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}
	f.chain.mu.Unlock()
	f.chain.register(x.Metadata.ID, permanent)
	f.upload(x, false)
}

func TestDecodingSymbols(t *testing.T) {
	f := newFixture(t, nodeapi.Config{})
	ctx := context.Background()
	x := encode(t, 4000, 10)
	id := x.Metadata.ID
	path := "/v1/blobs/" + id.String() + "/decodingSymbols"
	f.rejected(404, nodeapi.ReasonSliverNotFound, "GET", path+"?targetType=primary&targetSlivers=1", nil)
	storedEverywhere(t, f, x)
	enc, _ := redstuff.NewEncoder(params)
	for _, tt := range []blob.SliverType{blob.Primary, blob.Secondary} {
		targets := []int{0, 3, 9}
		m, err := f.client.DecodingSymbols(ctx, id, tt, targets)
		if err != nil {
			t.Fatal(err)
		}
		for _, target := range targets {
			var syms []redstuff.DecodingSymbol
			for _, e := range m[uint16(target)] {
				if e.Target != tt {
					t.Fatal("wrong axis")
				}
				syms = append(syms, e.DecodingSymbol)
			}
			if len(syms) != testN {
				t.Fatalf("%s target %d: %d symbols", tt, target, len(syms))
			}
			sl, err := enc.RecoverFromDecodingSymbols(tt, target, &x.Metadata.Metadata, syms)
			if err != nil || !bytes.Equal(sl.Data, x.Sliver(tt, target).Data) {
				t.Fatalf("recover %s %d: %v", tt, target, err)
			}
		}
	}
	f.rejected(400, nodeapi.ReasonNoSymbolsSpecified, "GET", path+"?targetType=primary", nil)
	f.rejected(400, nodeapi.ReasonInvalidFilter, "GET", path+"?targetSlivers=1", nil)
	f.rejected(400, nodeapi.ReasonInvalidFilter, "GET", path+"?targetSlivers=1&targetType=diagonal", nil)
	f.rejected(400, nodeapi.ReasonIndexOutOfRange, "GET", path+"?targetSlivers=10&targetType=primary", nil)
	f.rejected(400, nodeapi.ReasonInvalidParameter, "GET", path+"?targetSlivers=a&targetType=primary", nil)
	f.block[id] = true
	f.rejected(451, nodeapi.ReasonForbiddenBlob, "GET", path+"?targetSlivers=1&targetType=primary", nil)
}

func TestDecodingSymbolsSizeLimit(t *testing.T) {
	f := newFixture(t, nodeapi.Config{MaxSymbolResponse: 1000})
	x := encode(t, 40000, 11)
	storedEverywhere(t, f, x)
	code, body := f.raw("GET", "/v1/blobs/"+x.Metadata.ID.String()+"/decodingSymbols?targetType=primary&targetSlivers=1&targetSlivers=2", nil)
	if code != 400 || !strings.Contains(string(body), "max_targets") {
		t.Fatalf("%d %s", code, body)
	}
}

func TestRecoverySymbols(t *testing.T) {
	f := newFixture(t, nodeapi.Config{})
	ctx := context.Background()
	x := encode(t, 4000, 12)
	id := x.Metadata.ID
	path := "/v1/blobs/" + id.String() + "/recoverySymbols"
	storedEverywhere(t, f, x)
	enc, _ := redstuff.NewEncoder(params)
	for _, tt := range []blob.SliverType{blob.Primary, blob.Secondary} {
		syms, err := f.client.RecoverySymbolsFor(ctx, id, tt, 4)
		if err != nil || len(syms) != testN {
			t.Fatalf("%s: %d symbols, %v", tt, len(syms), err)
		}
		var rs []redstuff.RecoverySymbol
		for _, g := range syms {
			if g.Target != tt || g.TargetIndex != 4 {
				t.Fatal("wrong target")
			}
			rs = append(rs, g.RecoverySymbol)
		}
		sl, err := enc.RecoverFromRecoverySymbols(tt, 4, &x.Metadata, rs)
		if err != nil || !bytes.Equal(sl.Data, x.Sliver(tt, 4).Data) {
			t.Fatalf("recover: %v", err)
		}
	}
	// By symbol ID, with the proof axis chosen.
	prim := blob.Primary
	syms, err := f.client.RecoverySymbols(ctx, id, []nodeapi.SymbolID{{2, 7}, {3, 1}}, &prim)
	if err != nil || len(syms) != 2 {
		t.Fatalf("by id: %v", err)
	}
	for _, g := range syms {
		p, s := g.SymbolID()
		if g.Target != blob.Secondary || !(p == 2 && s == 7 || p == 3 && s == 1) {
			t.Fatalf("symbol %d-%d for %s", p, s, g.Target)
		}
		if err := enc.VerifyRecoverySymbol(g.Target, int(g.TargetIndex), &g.RecoverySymbol, &x.Metadata.Metadata); err != nil {
			t.Fatal(err)
		}
	}
	f.rejected(400, nodeapi.ReasonNoSymbolsSpecified, "GET", path, nil)
	f.rejected(400, nodeapi.ReasonInvalidFilter, "GET", path+"?targetSliver=1", nil)
	f.rejected(400, nodeapi.ReasonInvalidFilter, "GET", path+"?id=1+2", nil)
	f.rejected(400, nodeapi.ReasonInvalidFilter, "GET", path+"?id=1-2&proofAxis=z", nil)
	f.rejected(400, nodeapi.ReasonIndexOutOfRange, "GET", path+"?id=1-20", nil)
	f.rejected(400, nodeapi.ReasonIndexOutOfRange, "GET", path+"?targetSliver=11&targetType=primary", nil)
	// A node without the source slivers.
	f.chain.mu.Lock()
	f.chain.owned = nil
	f.chain.mu.Unlock()
	f.rejected(400, nodeapi.ReasonSymbolNotPresent, "GET", path+"?id=1-2", nil)
	f.block[id] = true
	f.rejected(451, nodeapi.ReasonForbiddenBlob, "GET", path+"?targetSliver=1&targetType=primary", nil)
}

// TestSymbolsRateLimited: when every slot is busy past the wait, 503.
func TestSymbolsRateLimited(t *testing.T) {
	f := newFixture(t, nodeapi.Config{SymbolConcurrency: 1, SymbolWait: time.Millisecond})
	x := encode(t, 1<<20, 13)
	storedEverywhere(t, f, x)
	path := "/v1/blobs/" + x.Metadata.ID.String() + "/decodingSymbols?targetType=primary"
	for i := range testN {
		path += "&targetSlivers=" + itoa(i)
	}
	var wg sync.WaitGroup
	codes := make(chan int, 16)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, _ := f.raw("GET", path, nil)
			codes <- code
		}()
	}
	wg.Wait()
	close(codes)
	seen := map[int]int{}
	for c := range codes {
		seen[c]++
	}
	if seen[200] == 0 || seen[503] == 0 || seen[200]+seen[503] != 16 {
		t.Fatalf("codes %v", seen)
	}
}

func TestInconsistencyProof(t *testing.T) {
	f := newFixture(t, nodeapi.Config{})
	ctx := context.Background()
	x := encode(t, 3000, 14)
	id := x.Metadata.ID
	enc, _ := redstuff.NewEncoder(params)
	// A writer that lies about primary sliver 2: its hash in the metadata is
	// that of a tampered sliver; the blob ID follows the lie.
	bad := x.Primary(2)
	bad.Data = bytes.Clone(bad.Data)
	bad.Data[0] ^= 0xff
	md := x.Metadata
	md.Hashes = append([]blob.SliverPairMetadata(nil), md.Hashes...)
	md.Hashes[2].Primary = enc.SliverHash(&bad)
	md.ID = md.ComputeID()
	id = md.ID
	path := "/v1/blobs/" + id.String() + "/inconsistencyProof/primary"

	// Proof: k_s symbols towards primary sliver 2 from honest secondaries.
	var syms []redstuff.RecoverySymbol
	for j := range params.SecondarySymbols() {
		s := x.Secondary(j)
		g, err := enc.RecoverySymbols(&s, []int{2})
		if err != nil {
			t.Fatal(err)
		}
		syms = append(syms, g[0].RecoverySymbol)
	}
	proof := redstuff.InconsistencyProof{Target: blob.Primary, TargetIndex: 2, Symbols: syms}
	body := proof.AppendBCS(nil)

	f.rejected(400, nodeapi.ReasonMetadataNotFound, "POST", path, body)
	f.chain.register(id, permanent)
	if err := f.store.PutMetadata(&md); err != nil {
		t.Fatal(err)
	}
	sm, err := f.client.InconsistencyProof(ctx, id, &proof)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := wire.ParseInvalidBlobID(sm.Message)
	if err != nil || msg.BlobID != id || msg.Epoch != 3 {
		t.Fatalf("attestation %+v %v", msg, err)
	}
	f.rejected(400, nodeapi.ReasonInvalidProof, "POST", path, body[:len(body)-3])
	f.rejected(400, nodeapi.ReasonInvalidProof, "POST", "/v1/blobs/"+id.String()+"/inconsistencyProof/secondary", body)
	short := redstuff.InconsistencyProof{Target: blob.Primary, TargetIndex: 2, Symbols: syms[1:]}
	f.rejected(400, nodeapi.ReasonInvalidProof, "POST", path, short.AppendBCS(nil))
	// A proof against a consistent sliver proves nothing.
	honest := redstuff.InconsistencyProof{Target: blob.Primary, TargetIndex: 3, Symbols: nil}
	for j := range params.SecondarySymbols() {
		s := x.Secondary(j)
		g, _ := enc.RecoverySymbols(&s, []int{3})
		honest.Symbols = append(honest.Symbols, g[0].RecoverySymbol)
	}
	f.rejected(400, nodeapi.ReasonInvalidProof, "POST", path, honest.AppendBCS(nil))
	f.rejected(403, nodeapi.ReasonBodyTooLarge, "POST", path, make([]byte, 1<<20))
	f.rejected(400, nodeapi.ReasonInvalidParameter, "POST", "/v1/blobs/"+id.String()+"/inconsistencyProof/z", body)
}

func TestBlobStatusHealthDocsAndUnknown(t *testing.T) {
	f := newFixture(t, nodeapi.Config{})
	ctx := context.Background()
	x := encode(t, 100, 15)
	id := x.Metadata.ID
	st, err := f.client.BlobStatus(ctx, id)
	if err != nil || st.Kind != nodeapi.Nonexistent {
		t.Fatalf("status %+v %v", st, err)
	}
	f.chain.register(id, nodeapi.Registration{Permanent: true, Deletable: []ids.ObjectID{{1}}})
	st, _ = f.client.BlobStatus(ctx, id)
	if st.Kind != nodeapi.Permanent || st.DeletableCounts.Total != 1 {
		t.Fatalf("status %+v", st)
	}
	f.rejected(400, nodeapi.ReasonInvalidBlobID, "GET", "/v1/blobs/zz/status", nil)

	h, err := f.client.Health(ctx, true)
	if err != nil || h.Epoch != 3 || h.ShardSummary.Owned != 5 || h.PublicKey != nodeapi.PublicKey(f.key.PublicKey().Bytes()) {
		t.Fatalf("health %+v %v", h, err)
	}
	f.rejected(400, nodeapi.ReasonInvalidParameter, "GET", "/v1/health?detailed=very", nil)
	f.rejected(404, nodeapi.ReasonNotFound, "GET", "/v2/nothing", nil)
	f.rejected(404, nodeapi.ReasonNotFound, "DELETE", "/v1/blobs/"+id.String()+"/metadata", nil)

	// The OpenAPI document parses and names every route the server has.
	code, doc := f.raw("GET", "/v1/api", nil)
	if code != 200 {
		t.Fatal(code)
	}
	var spec struct {
		Paths map[string]map[string]any `yaml:"paths"`
	}
	if err := yaml.Unmarshal(doc, &spec); err != nil {
		t.Fatal(err)
	}
	routes := map[string][]string{
		nodeapi.RouteMetadata: {"get", "put"}, nodeapi.RouteMetadataStatus: {"get"}, nodeapi.RouteSliver: {"get", "put"},
		nodeapi.RouteSlivers: {"put"}, nodeapi.RouteSliverStatus: {"get"}, nodeapi.RoutePermanentConfirm: {"get"}, nodeapi.RouteDeletableConfirm: {"get"},
		nodeapi.RouteRecoverySymbols: {"get"}, nodeapi.RouteDecodingSymbols: {"get"}, nodeapi.RouteInconsistency: {"post"},
		nodeapi.RouteBlobStatus: {"get"}, nodeapi.RouteHealth: {"get"}, nodeapi.RouteAPIDocs: {"get"},
	}
	for r, methods := range routes {
		for _, m := range methods {
			if spec.Paths[r][m] == nil {
				t.Errorf("OpenAPI lacks %s %s", m, r)
			}
		}
	}
	if len(spec.Paths) != len(routes) {
		t.Errorf("OpenAPI has %d paths, the server %d", len(spec.Paths), len(routes))
	}

	// Metrics were counted.
	mfs, err := f.reg.Gather()
	if err != nil || len(mfs) == 0 {
		t.Fatalf("metrics %v", err)
	}
}

func TestBlobStatusJSON(t *testing.T) {
	two := uint32(2)
	d, _ := ids.ParseDigest("11111111111111111111111111111111")
	cases := []struct {
		s    nodeapi.BlobStatus
		json string
	}{
		{nodeapi.BlobStatus{}, `"nonexistent"`},
		{nodeapi.BlobStatus{Kind: nodeapi.Invalid, Event: ids.EventID{TxDigest: d, Seq: 3}},
			`{"invalid":{"event":{"txDigest":"11111111111111111111111111111111","eventSeq":"3"}}}`},
		{nodeapi.BlobStatus{Kind: nodeapi.Permanent, EndEpoch: 7, IsCertified: true, Event: ids.EventID{TxDigest: d},
			DeletableCounts: nodeapi.DeletableCounts{Total: 2, Certified: 1}, InitialCertifiedEpoch: &two},
			`{"permanent":{"endEpoch":7,"isCertified":true,"statusEvent":{"txDigest":"11111111111111111111111111111111","eventSeq":"0"},"deletableCounts":{"count_deletable_total":2,"count_deletable_certified":1},"initialCertifiedEpoch":2}}`},
		{nodeapi.BlobStatus{Kind: nodeapi.Deletable, DeletableCounts: nodeapi.DeletableCounts{Total: 1}},
			`{"deletable":{"initialCertifiedEpoch":null,"deletableCounts":{"count_deletable_total":1,"count_deletable_certified":0}}}`},
	}
	for _, c := range cases {
		b, err := json.Marshal(c.s)
		if err != nil || string(b) != c.json {
			t.Fatalf("marshal: %s %v, want %s", b, err, c.json)
		}
		var back nodeapi.BlobStatus
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		b2, _ := json.Marshal(back)
		if string(b2) != c.json {
			t.Fatalf("round trip %s", b2)
		}
	}
	// Ranking as Walrus clients rank statuses.
	one := uint32(1)
	order := []nodeapi.BlobStatus{
		{},
		{Kind: nodeapi.Deletable, DeletableCounts: nodeapi.DeletableCounts{Total: 1}},
		{Kind: nodeapi.Deletable, DeletableCounts: nodeapi.DeletableCounts{Total: 1, Certified: 1}, InitialCertifiedEpoch: &two},
		{Kind: nodeapi.Deletable, DeletableCounts: nodeapi.DeletableCounts{Total: 1, Certified: 1}, InitialCertifiedEpoch: &one},
		{Kind: nodeapi.Permanent, EndEpoch: 9},
		{Kind: nodeapi.Permanent, EndEpoch: 3, IsCertified: true},
		{Kind: nodeapi.Permanent, EndEpoch: 4, IsCertified: true},
		{Kind: nodeapi.Invalid},
	}
	for i := 1; i < len(order); i++ {
		if order[i-1].Compare(order[i]) >= 0 || order[i].Compare(order[i-1]) <= 0 {
			t.Fatalf("order %d", i)
		}
	}
}

// TestErrorsParseAsWalrus: every error the server writes uses a (code,
// status) pair of Walrus's table.
func TestErrorsParseAsWalrus(t *testing.T) {
	f := newFixture(t, nodeapi.Config{})
	code, body := f.raw("GET", "/v1/blobs/x/metadata", nil)
	var e map[string]map[string]any
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatal(err)
	}
	if code != http.StatusBadRequest || e["error"]["status"] != "INVALID_ARGUMENT" || e["error"]["code"].(float64) != 400 {
		t.Fatalf("%d %s", code, body)
	}
}

// failingStore fails every write.
type failingStore struct{ *memStore }

func (failingStore) PutMetadata(*blob.MetadataWithID) error { return errors.New("disk on fire") }
func (failingStore) PutSliver(uint16, blob.ID, *redstuff.Sliver) error {
	return errors.New("disk on fire")
}
func (failingStore) PutSlivers(blob.ID, []nodeapi.ShardSliver) error {
	return errors.New("disk on fire")
}

// TestInternalErrorsHidden: a failing store is a 500 INTERNAL answer that
// does not show the cause.
func TestInternalErrorsHidden(t *testing.T) {
	key, _ := bls.KeyFromIKM(bytes.Repeat([]byte{1}, 32))
	ch := &memChain{epoch: 1, owned: []uint16{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, regs: map[blob.ID]nodeapi.Registration{}}
	srv, err := nodeapi.New(nodeapi.Config{}, nodeapi.Deps{Params: params, Key: key, Store: failingStore{newMemStore()}, Chain: ch})
	if err != nil {
		t.Fatal(err)
	}
	x := encode(t, 100, 30)
	ch.register(x.Metadata.ID, permanent)
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, httptest.NewRequest("PUT", "/v1/blobs/"+x.Metadata.ID.String()+"/metadata", bytes.NewReader(x.Metadata.Metadata.MarshalBCS())))
	if rec.Code != 500 || strings.Contains(rec.Body.String(), "fire") || !strings.Contains(rec.Body.String(), nodeapi.ReasonInternal) {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
}

// TestMoreRejections covers the remaining rejection paths of the sliver,
// confirmation and symbol endpoints.
func TestMoreRejections(t *testing.T) {
	f := newFixture(t, nodeapi.Config{Pending: nodeapi.PendingConfig{MaxBytes: 2000}, MaxSymbolResponse: 300})
	ctx := context.Background()
	x := encode(t, 20_000, 40)
	id := x.Metadata.ID
	p, _ := f.pair(id, true)
	pair := x.Pair(p)
	sliverPath := "/v1/blobs/" + id.String() + "/slivers/" + itoa(p) + "/primary"
	f.rejected(400, nodeapi.ReasonInvalidParameter, "PUT", sliverPath+"?pending=often", pair.Primary.MarshalBCS())
	// The pending cache holds the metadata but not the sliver.
	if _, err := f.client.PutMetadata(ctx, &x.Metadata, true); err != nil {
		t.Fatal(err)
	}
	f.rejected(400, nodeapi.ReasonCacheSaturated, "PUT", sliverPath+"?pending=true", pair.Primary.MarshalBCS())
	f.rejected(400, nodeapi.ReasonInvalidBlobID, "GET", "/v1/blobs/abc/confirmation/permanent", nil)
	f.rejected(400, nodeapi.ReasonInvalidBlobID, "GET", "/v1/blobs/abc/recoverySymbols?id=1-2", nil)
	f.rejected(400, nodeapi.ReasonInvalidBlobID, "GET", "/v1/blobs/abc/decodingSymbols?targetSlivers=1&targetType=primary", nil)
	f.rejected(400, nodeapi.ReasonInvalidBlobID, "POST", "/v1/blobs/abc/inconsistencyProof/primary", nil)
	f.rejected(400, nodeapi.ReasonInvalidBlobID, "GET", "/v1/blobs/abc/slivers/1/primary/status", nil)
	// Symbols of a blob the node holds nothing of.
	f.rejected(404, nodeapi.ReasonSliverNotFound, "GET", "/v1/blobs/"+id.String()+"/recoverySymbols?targetSliver=1&targetType=primary", nil)
	// Answers above the configured size.
	storedEverywhere(t, f, x)
	f.rejected(400, nodeapi.ReasonInvalidFilter, "GET", "/v1/blobs/"+id.String()+"/recoverySymbols?targetSliver=1&targetType=primary", nil)
}
