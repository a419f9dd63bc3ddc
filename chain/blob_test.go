package chain

import (
	"strings"
	"testing"

	"github.com/walrus-go/walrus/ids"
	"github.com/walrus-go/walrus/wire"
)

// Four equal nodes over 10 shards: weights 3, 3, 2, 2 (sorted by node ID), quorum 7, validity 4.
func fourNodes(t *testing.T) *harness { return newHarness(t, 10, 100, 100, 100, 100) }

func weights(s *System) []int {
	var w []int
	for _, a := range s.Committee {
		w = append(w, len(a.Shards))
	}
	return w
}

// signersFor picks member indices whose weight reaches at least w, largest first.
func signersOfWeight(s *System, w int) []uint16 {
	var out []uint16
	got := 0
	for i, a := range s.Committee {
		if got >= w {
			break
		}
		out = append(out, uint16(i))
		got += len(a.Shards)
	}
	return out
}

func TestBlobLifecycle(t *testing.T) {
	h := fourNodes(t)
	alice := h.users["alice"]
	s := h.sys()
	if s.Epoch != 1 || len(s.Committee) != 4 {
		t.Fatalf("genesis: epoch %d, %d members", s.Epoch, len(s.Committee))
	}
	size := uint64(1 << 20)
	enc := h.encoded(size)
	id, root := newBlob(1, size)
	before := h.balance(alice)
	r := h.ok(alice,
		&ReserveSpace{EncodedSize: enc, EpochsAhead: 3},
		&RegisterBlob{Storage: CreatedRef(0), BlobID: id, RootHash: root, Size: size, EncodingType: 1, Deletable: true})
	if len(r.Created) != 2 || len(r.Events) != 1 || r.Events[0].Event.Type != EventBlobRegistered {
		t.Fatalf("register: created %d, events %+v", len(r.Created), r.Events)
	}
	units := Units(enc)
	wantCost := units*100*3 + units*10 + testFee
	if got := before - h.balance(alice); got != wantCost {
		t.Errorf("paid %d, want %d (units %d)", got, wantCost, units)
	}
	ev, err := ParseBlobRegistered(r.Events[0].Event.Data)
	if err != nil || ev.BlobID != id || ev.Size != size || ev.EndEpoch != 4 || !ev.Deletable || ev.ObjectID != r.Created[1] || ev.Epoch != 1 {
		t.Fatalf("BlobRegistered %+v %v", ev, err)
	}
	blobObj := r.Created[1]
	if o := h.object(r.Created[0]); o != nil {
		t.Fatal("storage still exists after being absorbed by the blob")
	}

	// Certify with a quorum.
	sg := signersOfWeight(s, 7)
	r = h.ok(alice, h.certify(Ref(blobObj), 1, id, wire.Deletable(ids.ObjectID(blobObj)), sg...))
	cev, err := ParseBlobCertified(r.Events[0].Event.Data)
	if err != nil || cev.BlobID != id || cev.EndEpoch != 4 || cev.IsExtension || cev.ObjectID != blobObj {
		t.Fatalf("BlobCertified %+v %v", cev, err)
	}
	if b := h.object(blobObj).Blob; b.CertifiedEpoch == nil || *b.CertifiedEpoch != 1 {
		t.Fatal("blob not certified")
	}

	// Attributes.
	h.ok(alice, &SetBlobAttribute{Blob: Ref(blobObj), Key: "content-type", Value: "text/plain"},
		&SetBlobAttribute{Blob: Ref(blobObj), Key: "a", Value: "1"}, &SetBlobAttribute{Blob: Ref(blobObj), Key: "a", Value: "2"})
	if got := h.object(blobObj).Blob.Attributes; len(got) != 2 || got[0] != (Attribute{"a", "2"}) {
		t.Fatalf("attributes %+v", got)
	}
	h.ok(alice, &RemoveBlobAttribute{Blob: Ref(blobObj), Key: "a"})
	h.abort(EAttributeNotFound, alice, &RemoveBlobAttribute{Blob: Ref(blobObj), Key: "a"})

	// Extend by 2 epochs.
	before = h.balance(alice)
	r = h.ok(alice, &ExtendBlob{Blob: Ref(blobObj), Epochs: 2})
	if got := before - h.balance(alice); got != units*100*2+testFee {
		t.Errorf("extension cost %d", got)
	}
	if ev, _ := ParseBlobCertified(r.Events[0].Event.Data); !ev.IsExtension || ev.EndEpoch != 6 {
		t.Errorf("extension event %+v", ev)
	}

	// Delete returns the storage.
	r = h.ok(alice, &DeleteBlob{Blob: Ref(blobObj)})
	dev, err := ParseBlobDeleted(r.Events[0].Event.Data)
	if err != nil || !dev.WasCertified || dev.EndEpoch != 6 {
		t.Fatalf("BlobDeleted %+v %v", dev, err)
	}
	if h.object(blobObj) != nil {
		t.Fatal("blob still exists")
	}
	st := h.object(ownedStorage(h, alice, enc))
	if st == nil || st.Storage.EndEpoch != 6 || st.Storage.Size != enc {
		t.Fatalf("returned storage %+v", st)
	}
	// The returned storage registers the same blob again.
	h.ok(alice, &RegisterBlob{Storage: Ref(st.Storage.ID), BlobID: id, RootHash: root, Size: size, EncodingType: 1})
}

// ownedStorage finds a Storage object of the given size owned by u.
func ownedStorage(h *harness, u *user, size uint64) ids.ObjectID {
	keys, _ := h.st.Scan(KeyOwnerPrefix(u.addr), nil, 0)
	for _, k := range keys {
		var id ids.ObjectID
		copy(id[:], k[33:])
		if o := h.object(id); o != nil && o.Kind == KindStorage && o.Storage.Size == size {
			return id
		}
	}
	h.t.Fatal("no storage")
	return ids.ObjectID{}
}

func TestBlobAborts(t *testing.T) {
	h := fourNodes(t)
	alice, bob := h.users["alice"], h.users["bob"]
	s := h.sys()
	size := uint64(1000)
	enc := h.encoded(size)
	id, root := newBlob(2, size)
	register := func(u *user, deletable bool) ids.ObjectID {
		r := h.ok(u, &ReserveSpace{EncodedSize: enc, EpochsAhead: 2},
			&RegisterBlob{Storage: CreatedRef(0), BlobID: id, RootHash: root, Size: size, EncodingType: 1, Deletable: deletable})
		return r.Created[1]
	}
	quorum := signersOfWeight(s, 7)

	t.Run("bad blob ID", func(t *testing.T) {
		h.t = t
		bad := id
		bad[0] ^= 1
		h.abort(EInvalidBlobId, alice, &ReserveSpace{EncodedSize: enc, EpochsAhead: 1},
			&RegisterBlob{Storage: CreatedRef(0), BlobID: bad, RootHash: root, Size: size, EncodingType: 1})
		// Same root, other size: the derived ID differs.
		h.abort(EInvalidBlobId, alice, &ReserveSpace{EncodedSize: enc, EpochsAhead: 1},
			&RegisterBlob{Storage: CreatedRef(0), BlobID: id, RootHash: root, Size: size + 1, EncodingType: 1})
	})
	t.Run("bad encoding type", func(t *testing.T) {
		h.t = t
		h.abort(EInvalidEncodingType, alice, &ReserveSpace{EncodedSize: enc, EpochsAhead: 1},
			&RegisterBlob{Storage: CreatedRef(0), BlobID: id, RootHash: root, Size: size, EncodingType: 0})
	})
	t.Run("too little storage", func(t *testing.T) {
		h.t = t
		h.abort(EStorageTooSmall, alice, &ReserveSpace{EncodedSize: enc - 1, EpochsAhead: 1},
			&RegisterBlob{Storage: CreatedRef(0), BlobID: id, RootHash: root, Size: size, EncodingType: 1})
	})
	t.Run("aborted transaction changes only fee and sequence", func(t *testing.T) {
		h.t = t
		before := h.balance(alice)
		r := h.abort(EStorageTooSmall, alice, &ReserveSpace{EncodedSize: enc - 1, EpochsAhead: 1},
			&RegisterBlob{Storage: CreatedRef(0), BlobID: id, RootHash: root, Size: size, EncodingType: 1})
		if got := before - h.balance(alice); got != testFee {
			t.Errorf("aborted transaction cost %d, want the fee %d", got, testFee)
		}
		if len(r.Events) != 0 || len(r.Created) != 0 {
			t.Error("aborted transaction has events or objects")
		}
		if !strings.HasPrefix(r.Log, "EStorageTooSmall") {
			t.Errorf("log %q", r.Log)
		}
	})
	t.Run("epochs ahead", func(t *testing.T) {
		h.t = t
		h.abort(EInvalidEpochsAhead, alice, &ReserveSpace{EncodedSize: enc, EpochsAhead: 11})
		h.abort(EInvalidEpochsAhead, alice, &ReserveSpace{EncodedSize: enc, EpochsAhead: 0})
	})
	t.Run("capacity", func(t *testing.T) {
		h.t = t
		h.abort(EStorageExceeded, alice, &ReserveSpace{EncodedSize: 1<<40 + 1, EpochsAhead: 1})
	})
	t.Run("wrong epoch certificate", func(t *testing.T) {
		h.t = t
		b := register(alice, false)
		h.abort(ENotCertifiedEpoch, alice, h.certify(Ref(b), 2, id, wire.Permanent, quorum...))
		h.abort(ENotCertifiedEpoch, alice, h.certify(Ref(b), 0, id, wire.Permanent, quorum...))
	})
	t.Run("under-weight certificate", func(t *testing.T) {
		h.t = t
		b := register(alice, false)
		h.abort(EInsufficientWeight, alice, h.certify(Ref(b), 1, id, wire.Permanent, signersOfWeight(s, 6)[:2]...))
	})
	t.Run("bad aggregate signature", func(t *testing.T) {
		h.t = t
		b := register(alice, false)
		c := h.certify(Ref(b), 1, id, wire.Permanent, quorum...)
		// Claim one more signer than signed.
		c.SignersBitmap, _ = wire.SignersBitmap(all(4), 4)
		h.abort(EInvalidSignature, alice, c)
	})
	t.Run("signers bitmap of the wrong length", func(t *testing.T) {
		h.t = t
		b := register(alice, false)
		c := h.certify(Ref(b), 1, id, wire.Permanent, quorum...)
		c.SignersBitmap = append(c.SignersBitmap, 0)
		h.abort(EInvalidSigners, alice, c)
	})
	t.Run("certificate for another blob", func(t *testing.T) {
		h.t = t
		b := register(alice, false)
		other, _ := newBlob(9, size)
		h.abort(EInvalidBlobId, alice, h.certify(Ref(b), 1, other, wire.Permanent, quorum...))
	})
	t.Run("persistence mismatch", func(t *testing.T) {
		h.t = t
		b := register(alice, true)
		h.abort(EInvalidPersistence, alice, h.certify(Ref(b), 1, id, wire.Permanent, quorum...))
		h.abort(EInvalidPersistence, alice, h.certify(Ref(b), 1, id, wire.Deletable(ids.ObjectID{1}), quorum...))
		h.ok(alice, h.certify(Ref(b), 1, id, wire.Deletable(ids.ObjectID(b)), quorum...))
	})
	t.Run("double certify", func(t *testing.T) {
		h.t = t
		b := register(alice, false)
		h.ok(alice, h.certify(Ref(b), 1, id, wire.Permanent, quorum...))
		h.abort(EAlreadyCertified, alice, h.certify(Ref(b), 1, id, wire.Permanent, quorum...))
	})
	t.Run("non-owner", func(t *testing.T) {
		h.t = t
		b := register(alice, true)
		h.abort(ENotOwner, bob, &DeleteBlob{Blob: Ref(b)})
		h.abort(ENotOwner, bob, h.certify(Ref(b), 1, id, wire.Deletable(ids.ObjectID(b)), quorum...))
		h.abort(ENotOwner, bob, &ExtendBlob{Blob: Ref(b), Epochs: 1})
		h.abort(ENotOwner, bob, &TransferObject{Object: Ref(b), To: bob.addr})
		h.abort(ENotOwner, bob, &SetBlobAttribute{Blob: Ref(b), Key: "k", Value: "v"})
		// After a transfer bob owns it.
		h.ok(alice, &TransferObject{Object: Ref(b), To: bob.addr})
		h.ok(bob, &DeleteBlob{Blob: Ref(b)})
	})
	t.Run("permanent blob cannot be deleted", func(t *testing.T) {
		h.t = t
		b := register(alice, false)
		h.abort(ENotDeletable, alice, &DeleteBlob{Blob: Ref(b)})
	})
	t.Run("extend uncertified", func(t *testing.T) {
		h.t = t
		b := register(alice, false)
		h.abort(ENotCertified, alice, &ExtendBlob{Blob: Ref(b), Epochs: 1})
	})
	t.Run("expired: certify and extend", func(t *testing.T) {
		h.t = t
		b := register(alice, false)  // ends at epoch 3
		b2 := register(alice, false) // certified now, expires later
		h.ok(alice, h.certify(Ref(b2), 1, id, wire.Permanent, quorum...))
		h.advanceTo(3, true)
		q := signersOfWeight(h.sys(), 7)
		h.abort(EBlobExpired, alice, h.certify(Ref(b), 3, id, wire.Permanent, q...))
		h.abort(EBlobExpired, alice, &ExtendBlob{Blob: Ref(b2), Epochs: 1})
		// Old storage cannot register a blob either.
		r := h.ok(alice, &ReserveSpace{EncodedSize: enc, EpochsAhead: 1})
		st := r.Created[0]
		h.advanceTo(4, true)
		h.abort(EBlobExpired, alice, &RegisterBlob{Storage: Ref(st), BlobID: id, RootHash: root, Size: size, EncodingType: 1})
	})
	t.Run("unknown object", func(t *testing.T) {
		h.t = t
		h.abort(EObjectNotFound, alice, &DeleteBlob{Blob: Ref(ids.ObjectID{7})})
		h.abort(EObjectNotFound, alice, &DeleteBlob{Blob: CreatedRef(0)})
	})
	t.Run("wrong kind", func(t *testing.T) {
		h.t = t
		r := h.ok(alice, &ReserveSpace{EncodedSize: enc, EpochsAhead: 1})
		h.abort(EWrongObjectKind, alice, &DeleteBlob{Blob: Ref(r.Created[0])})
	})
}

func TestSequenceAndFees(t *testing.T) {
	h := fourNodes(t)
	alice := h.users["alice"]
	// Wrong sequence: rejected, no fee.
	before := h.balance(alice)
	b, _ := Sign(&Tx{Sender: alice.addr, Sequence: 5, Fee: testFee}, testChainID, alice.key)
	if r := h.block(1, b).Txs[0]; r.Code != CodeWrongSequence {
		t.Fatalf("code %d", r.Code)
	}
	b, _ = Sign(&Tx{Sender: alice.addr, Sequence: 1, Fee: testFee - 1}, testChainID, alice.key)
	if r := h.block(1, b).Txs[0]; r.Code != CodeFeeTooLow {
		t.Fatalf("code %d", r.Code)
	}
	b, _ = Sign(&Tx{Sender: alice.addr, Sequence: 1, Fee: testFee}, "other-chain", alice.key)
	if r := h.block(1, b).Txs[0]; r.Code != CodeBadSignature {
		t.Fatalf("other chain: code %d", r.Code)
	}
	if h.balance(alice) != before {
		t.Fatal("rejected transactions cost something")
	}
	// Two in one block with consecutive sequences; a replay is rejected.
	t1 := h.sign(alice, &TransferWal{To: h.users["bob"].addr, Amount: 5})
	t2 := h.sign(alice, &TransferWal{To: h.users["bob"].addr, Amount: 5})
	res := h.block(1, t1, t2, t1)
	if res.Txs[0].Code != 0 || res.Txs[1].Code != 0 || res.Txs[2].Code != CodeWrongSequence {
		t.Fatalf("codes %d %d %d", res.Txs[0].Code, res.Txs[1].Code, res.Txs[2].Code)
	}
	if got := before - h.balance(alice); got != 10+2*testFee {
		t.Fatalf("paid %d", got)
	}
	// An account that cannot pay the fee.
	poor := newUser("poor")
	b, _ = Sign(&Tx{Sender: poor.addr, Sequence: 1, Fee: testFee}, testChainID, poor.key)
	if r := h.block(1, b).Txs[0]; r.Code != CodeBalanceTooLow {
		t.Fatalf("code %d", r.Code)
	}
	if r := h.block(1, []byte{1, 2, 3}).Txs[0]; r.Code != CodeUndecodable {
		t.Fatalf("garbage: code %d", r.Code)
	}
	h.abort(EInsufficientBalance, alice, &TransferWal{To: poor.addr, Amount: 10 * testBalance})
	h.abort(ENotAuthorized, alice, &FaucetMint{To: poor.addr, Amount: 1})
}

func TestStorageResources(t *testing.T) {
	h := fourNodes(t)
	alice, bob := h.users["alice"], h.users["bob"]
	r := h.ok(alice, &ReserveSpace{EncodedSize: 1000, EpochsAhead: 4})
	st := r.Created[0]
	r = h.ok(alice, &SplitStorageBySize{Storage: Ref(st), SplitSize: 300})
	part := r.Created[0]
	if a, b := h.object(st).Storage, h.object(part).Storage; a.Size != 300 || b.Size != 700 || b.EndEpoch != 5 {
		t.Fatalf("split by size: %+v %+v", a, b)
	}
	h.ok(alice, &FuseStorage{Storage: Ref(st), Other: Ref(part)})
	if a := h.object(st).Storage; a.Size != 1000 || h.object(part) != nil {
		t.Fatalf("fuse amounts: %+v", a)
	}
	r = h.ok(alice, &SplitStorageByEpoch{Storage: Ref(st), SplitEpoch: 3})
	later := r.Created[0]
	if a, b := h.object(st).Storage, h.object(later).Storage; a.EndEpoch != 3 || b.StartEpoch != 3 || b.EndEpoch != 5 {
		t.Fatalf("split by epoch: %+v %+v", a, b)
	}
	h.abort(EInvalidArgument, alice, &SplitStorageByEpoch{Storage: Ref(st), SplitEpoch: 3})
	h.abort(EInvalidArgument, alice, &SplitStorageBySize{Storage: Ref(st), SplitSize: 1000})
	h.ok(alice, &FuseStorage{Storage: Ref(later), Other: Ref(st)})
	if a := h.object(later).Storage; a.StartEpoch != 1 || a.EndEpoch != 5 {
		t.Fatalf("fuse periods: %+v", a)
	}
	r = h.ok(alice, &ReserveSpace{EncodedSize: 10, EpochsAhead: 1})
	h.abort(EIncompatibleStorage, alice, &FuseStorage{Storage: Ref(later), Other: Ref(r.Created[0])})
	h.ok(alice, &TransferObject{Object: Ref(later), To: bob.addr})
	h.abort(ENotOwner, alice, &SplitStorageBySize{Storage: Ref(later), SplitSize: 1})
	h.ok(bob, &SplitStorageBySize{Storage: Ref(later), SplitSize: 1})
	// Capacity accounting per future epoch.
	s := h.sys()
	if s.Future[0].Used != 1010 || s.Future[3].Used != 1000 || s.Future[4].Used != 0 {
		t.Fatalf("used %+v", s.Future[:5])
	}
}

func TestExtendWithResourceAndSharedBlob(t *testing.T) {
	h := fourNodes(t)
	alice, bob := h.users["alice"], h.users["bob"]
	s := h.sys()
	size := uint64(5000)
	enc := h.encoded(size)
	id, root := newBlob(3, size)
	r := h.ok(alice, &ReserveSpace{EncodedSize: enc, EpochsAhead: 2},
		&RegisterBlob{Storage: CreatedRef(0), BlobID: id, RootHash: root, Size: size, EncodingType: 1},
		&ReserveSpace{EncodedSize: enc, EpochsAhead: 5})
	b, later := r.Created[1], r.Created[2]
	h.ok(alice, h.certify(Ref(b), 1, id, wire.Permanent, signersOfWeight(s, 7)...))
	h.abort(EIncompatibleStorage, alice, &ExtendBlobWithResource{Blob: Ref(b), Storage: Ref(later)})
	r = h.ok(alice, &SplitStorageByEpoch{Storage: Ref(later), SplitEpoch: 3})
	h.ok(alice, &ExtendBlobWithResource{Blob: Ref(b), Storage: Ref(r.Created[0])})
	if got := h.object(b).Blob.EndEpoch(); got != 6 {
		t.Fatalf("end epoch %d", got)
	}
	// Share with funds; anyone extends from the funds; anyone funds.
	units := Units(enc)
	r = h.ok(alice, &ShareBlob{Blob: Ref(b), Funds: units * 100})
	shared := r.Created[0]
	if h.object(b) != nil || h.object(shared).SharedBlob.Blob.ID != b {
		t.Fatal("share: blob not moved into the shared blob")
	}
	h.ok(bob, &ExtendSharedBlob{Shared: Ref(shared), Epochs: 1})
	h.abort(EInsufficientBalance, bob, &ExtendSharedBlob{Shared: Ref(shared), Epochs: 1})
	h.ok(bob, &FundSharedBlob{Shared: Ref(shared), Amount: units * 100})
	h.ok(bob, &ExtendSharedBlob{Shared: Ref(shared), Epochs: 1})
	sb := h.object(shared).SharedBlob
	if sb.Funds != 0 || sb.Blob.EndEpoch() != 8 {
		t.Fatalf("shared blob %+v", sb)
	}
	h.abort(EWrongObjectKind, alice, &BurnBlob{Blob: Ref(shared)})
}

func TestBurnBlob(t *testing.T) {
	h := fourNodes(t)
	alice := h.users["alice"]
	size := uint64(10)
	id, root := newBlob(4, size)
	r := h.ok(alice, &ReserveSpace{EncodedSize: h.encoded(size), EpochsAhead: 1},
		&RegisterBlob{Storage: CreatedRef(0), BlobID: id, RootHash: root, Size: size, EncodingType: 1, Deletable: true})
	h.ok(alice, &BurnBlob{Blob: Ref(r.Created[1])})
	if h.object(r.Created[1]) != nil {
		t.Fatal("burned blob exists")
	}
	if k, _ := h.st.Scan(KeyBlobIDPrefix(id), nil, 0); len(k) != 0 {
		t.Fatal("burned blob still indexed by blob ID")
	}
}

func TestInvalidateBlobID(t *testing.T) {
	h := fourNodes(t)
	alice := h.users["alice"]
	s := h.sys()
	id, _ := newBlob(5, 10)
	msg := (&wire.InvalidBlobID{Epoch: 1, BlobID: id}).Marshal()
	// Validity needs 3w >= 11, i.e. w >= 4: one member of weight 2 is not enough.
	var small uint16
	for i, a := range s.Committee {
		if len(a.Shards) == 2 {
			small = uint16(i)
		}
	}
	bm, sig := h.certificate(msg, small)
	h.abort(EInsufficientWeight, alice, &InvalidateBlobID{Signature: sig, SignersBitmap: bm, Message: msg})
	sg := signersOfWeight(s, 4)
	bm, sig = h.certificate(msg, sg...)
	r := h.ok(alice, &InvalidateBlobID{Signature: sig, SignersBitmap: bm, Message: msg})
	ev, err := ParseInvalidBlobID(r.Events[0].Event.Data)
	if err != nil || ev.BlobID != id || ev.Epoch != 1 {
		t.Fatalf("InvalidBlobID %+v %v", ev, err)
	}
	if v, _ := h.st.Get(KeyInvalid(id)); v == nil {
		t.Fatal("blob ID not marked invalid")
	}
	old := (&wire.InvalidBlobID{Epoch: 0, BlobID: id}).Marshal()
	bm, sig = h.certificate(old, sg...)
	h.abort(ENotCertifiedEpoch, alice, &InvalidateBlobID{Signature: sig, SignersBitmap: bm, Message: old})
	h.abort(EInvalidMessage, alice, &InvalidateBlobID{Signature: sig, SignersBitmap: bm, Message: []byte{1, 2}})
}
