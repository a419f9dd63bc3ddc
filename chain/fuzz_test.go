package chain

import (
	"bytes"
	"testing"

	"github.com/walrus-go/walrus/ids"
	"github.com/walrus-go/walrus/wire"
)

func TestVotesSetPrices(t *testing.T) {
	h := fourNodes(t)
	ns := h.nodesByIndex() // weights 3, 3, 2, 2; quorum 7
	votes := []uint64{500, 100, 300, 200}
	for i, n := range ns {
		h.ok(n.op, &Vote{Node: Ref(n.id), StoragePrice: votes[i], WritePrice: votes[i] / 10, NodeCapacity: 1 << 40})
	}
	// Ascending: 100 (w3), 200 (w2), 300 (w2) → cumulative 3, 5, 7 → 300.
	s := h.sys()
	if s.StoragePrice != 300 || s.WritePrice != 30 {
		t.Fatalf("prices %d %d, want 300 30", s.StoragePrice, s.WritePrice)
	}
	ev := h.eventsOf(EventPricesUpdated)
	last, err := ParsePricesUpdated(ev[len(ev)-1].Event.Data)
	if err != nil || last.StoragePrice != 300 || last.WritePrice != 30 {
		t.Fatalf("PricesUpdated %+v %v", last, err)
	}
	h.abort(ENotAuthorized, h.users["alice"], &Vote{Node: Ref(ns[0].id), StoragePrice: 1})
}

// sampleTx has one call of every kind.
func sampleTx() *Tx {
	return &Tx{Sender: ids.Address{1}, Sequence: 3, Fee: 1000, Calls: []Call{
		&TransferWal{To: ids.Address{2}, Amount: 5},
		&ReserveSpace{EncodedSize: 1 << 30, EpochsAhead: 3},
		&SplitStorageBySize{Storage: CreatedRef(0), SplitSize: 10},
		&SplitStorageByEpoch{Storage: Ref(ids.ObjectID{3}), SplitEpoch: 4},
		&FuseStorage{Storage: Ref(ids.ObjectID{3}), Other: CreatedRef(1)},
		&TransferObject{Object: Ref(ids.ObjectID{4}), To: ids.Address{5}},
		&RegisterBlob{Storage: CreatedRef(0), BlobID: [32]byte{6}, RootHash: [32]byte{7}, Size: 99, EncodingType: 1, Deletable: true},
		&CertifyBlob{Blob: CreatedRef(1), Signature: [96]byte{8}, SignersBitmap: []byte{0xff, 1}, Message: (&wire.Confirmation{Epoch: 1}).Marshal()},
		&DeleteBlob{Blob: Ref(ids.ObjectID{9})},
		&ExtendBlob{Blob: Ref(ids.ObjectID{9}), Epochs: 2},
		&ExtendBlobWithResource{Blob: Ref(ids.ObjectID{9}), Storage: Ref(ids.ObjectID{10})},
		&BurnBlob{Blob: Ref(ids.ObjectID{9})},
		&ShareBlob{Blob: Ref(ids.ObjectID{9}), Funds: 11},
		&FundSharedBlob{Shared: Ref(ids.ObjectID{12}), Amount: 13},
		&ExtendSharedBlob{Shared: Ref(ids.ObjectID{12}), Epochs: 1},
		&SetBlobAttribute{Blob: Ref(ids.ObjectID{9}), Key: "k", Value: "v"},
		&RemoveBlobAttribute{Blob: Ref(ids.ObjectID{9}), Key: "k"},
		&InvalidateBlobID{Signature: [96]byte{14}, SignersBitmap: []byte{1}, Message: []byte{2, 0, 3}},
		&RegisterNode{Name: "n", NetworkAddress: "h:1", PublicKey: [48]byte{15}, ProofOfPossession: [96]byte{16}, NetworkPublicKey: []byte{17}, CommissionRate: 18, StoragePrice: 19, WritePrice: 20, NodeCapacity: 21},
		&UpdateNode{Node: Ref(ids.ObjectID{22}), Name: "m", NextPublicKey: make([]byte, 48), NextProofOfPossession: make([]byte, 96)},
		&StakeWithPool{Node: Ref(ids.ObjectID{22}), Amount: 23},
		&RequestWithdrawStake{Staked: Ref(ids.ObjectID{24})},
		&WithdrawStake{Staked: Ref(ids.ObjectID{24})},
		&SetCommissionRate{Node: Ref(ids.ObjectID{22}), Rate: 25},
		&CollectCommission{Node: Ref(ids.ObjectID{22})},
		&Vote{Node: Ref(ids.ObjectID{22}), StoragePrice: 26, WritePrice: 27, NodeCapacity: 28},
		&EpochSyncDone{Node: Ref(ids.ObjectID{22}), Epoch: 29},
		&FaucetMint{To: ids.Address{30}, Amount: 31},
	}}
}

func TestTxRoundTrip(t *testing.T) {
	u := newUser("rt")
	tx := sampleTx()
	tx.Sender = u.addr
	if len(tx.Calls) != int(opCount) {
		t.Fatalf("sample has %d calls, there are %d kinds", len(tx.Calls), opCount)
	}
	b, dig := Sign(tx, testChainID, u.key)
	st, err := DecodeTx(b, testChainID)
	if err != nil {
		t.Fatal(err)
	}
	if st.Digest != dig || !bytes.Equal(st.Tx.Marshal(), tx.Marshal()) {
		t.Fatal("transaction does not round-trip")
	}
	if _, err := DecodeTx(b, "other"); CodeOf(err) != CodeBadSignature {
		t.Fatalf("other chain: %v", err)
	}
	// Another sender's key.
	tx.Sender = ids.Address{1}
	b, _ = Sign(tx, testChainID, u.key)
	if _, err := DecodeTx(b, testChainID); CodeOf(err) != CodeBadSignature {
		t.Fatalf("foreign sender: %v", err)
	}
	d, err := ids.ParseDigest(dig.String())
	if err != nil || d != dig {
		t.Fatalf("digest text form: %v", err)
	}
}

func TestObjectRoundTrip(t *testing.T) {
	e := uint32(4)
	next := [48]byte{9}
	for _, o := range []*Object{
		{Kind: KindStorage, Owner: AddressOwner(ids.Address{1}), Storage: &Storage{ID: ids.ObjectID{2}, StartEpoch: 1, EndEpoch: 3, Size: 99}},
		{Kind: KindBlob, Owner: AddressOwner(ids.Address{1}), Blob: &Blob{ID: ids.ObjectID{3}, CertifiedEpoch: &e, Attributes: []Attribute{{"a", "b"}}, Deletable: true}},
		{Kind: KindSharedBlob, Owner: Owner{Shared: true}, SharedBlob: &SharedBlob{ID: ids.ObjectID{5}, Funds: 7}},
		{Kind: KindStakingPool, Owner: Owner{Shared: true}, Pool: &StakingPool{ID: ids.ObjectID{6}, Name: "x", NextPublicKey: &next,
			PendingStake: []EpochAmount{{3, 4}}, PendingRates: []EpochAmount{{5, 6}}}},
		{Kind: KindStakedWal, Owner: AddressOwner(ids.Address{8}), Staked: &StakedWal{ID: ids.ObjectID{7}, Withdrawing: true, WithdrawShares: 5}},
	} {
		b := o.Marshal()
		got, err := UnmarshalObject(b)
		if err != nil || !bytes.Equal(got.Marshal(), b) || got.ID() != o.ID() {
			t.Errorf("%s: %v", o.Kind, err)
		}
	}
}

// FuzzDecodeTx: decoding never panics, and whatever decodes re-encodes to
// the same transaction bytes.
func FuzzDecodeTx(f *testing.F) {
	u := newUser("fuzz")
	tx := sampleTx()
	tx.Sender = u.addr
	b, _ := Sign(tx, testChainID, u.key)
	f.Add(b)
	b, _ = Sign(&Tx{Sender: u.addr, Sequence: 1, Fee: 1}, testChainID, u.key)
	f.Add(b)
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		st, err := decodeSigned(b)
		if err != nil {
			if CodeOf(err) != CodeUndecodable {
				t.Fatalf("decode error with code %d: %v", CodeOf(err), err)
			}
			return
		}
		if !bytes.Equal(st.Tx.Marshal(), st.TxBytes) {
			t.Fatal("decoded transaction does not re-encode to its bytes")
		}
		_, _ = DecodeTx(b, testChainID)
	})
}

// FuzzUnmarshalState: state decoders never panic on any bytes.
func FuzzUnmarshalState(f *testing.F) {
	h := newHarness(f, 10, 1, 2)
	sb, _ := h.st.Get(KeySystem())
	f.Add(sb)
	f.Add((&Object{Kind: KindBlob, Blob: &Blob{}}).Marshal())
	f.Add((&CommitteeInfo{Epoch: 1, NShards: 10, Members: []MemberInfo{{Name: "x", Shards: []uint16{1}}}}).Marshal())
	f.Add(MarshalObjects([]*Object{{Kind: KindStorage, Storage: &Storage{}}}))
	f.Fuzz(func(t *testing.T, b []byte) {
		if s, err := UnmarshalSystem(b); err == nil {
			if !bytes.Equal(s.Marshal(), b) {
				t.Fatal("system state does not round-trip")
			}
		}
		_, _ = UnmarshalObject(b)
		_, _ = UnmarshalEventRecord(b)
		_, _ = UnmarshalAccount(b)
		// Query answers: untrusted for a client.
		if c, err := UnmarshalCommitteeInfo(b); err == nil && !bytes.Equal(c.Marshal(), b) {
			t.Fatal("committee answer does not round-trip")
		}
		if objs, err := UnmarshalObjects(b); err == nil && !bytes.Equal(MarshalObjects(objs), b) {
			t.Fatal("object list does not round-trip")
		}
		_, _ = UnmarshalBlobStatus(b)
		_, _ = UnmarshalEventPage(b)
		_, _ = UnmarshalTxData(b)
		for _, parse := range []func([]byte) error{
			func(b []byte) error { _, err := ParseBlobRegistered(b); return err },
			func(b []byte) error { _, err := ParseBlobCertified(b); return err },
			func(b []byte) error { _, err := ParseBlobDeleted(b); return err },
			func(b []byte) error { _, err := ParseShardsEvent(b); return err },
			func(b []byte) error { _, err := ParsePricesUpdated(b); return err },
		} {
			_ = parse(b)
		}
	})
}
