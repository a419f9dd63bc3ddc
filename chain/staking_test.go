package chain

import (
	"crypto/sha256"
	"slices"
	"testing"

	"github.com/walrus-go/walrus/bls"
	"github.com/walrus-go/walrus/ids"
	"github.com/walrus-go/walrus/wire"
)

func TestQuantiles(t *testing.T) {
	for _, tc := range []struct {
		name         string
		votes        []WeightedVote
		n            int
		below, above uint64
	}{
		{"four nodes", []WeightedVote{{100, 3}, {200, 3}, {300, 2}, {400, 2}}, 10, 300, 200},
		{"order does not matter", []WeightedVote{{400, 2}, {100, 3}, {300, 2}, {200, 3}}, 10, 300, 200},
		{"one heavy voter", []WeightedVote{{5, 7}, {1, 3}}, 10, 5, 5},
		{"n=1000 boundary", []WeightedVote{{10, 666}, {20, 1}, {30, 333}}, 1000, 20, 10},
		{"equal votes", []WeightedVote{{7, 1}, {7, 1}, {7, 1}, {7, 1}}, 4, 7, 7},
	} {
		b, ok := QuorumBelow(tc.votes, tc.n)
		a, ok2 := QuorumAbove(tc.votes, tc.n)
		if !ok || !ok2 || b != tc.below || a != tc.above {
			t.Errorf("%s: below %d above %d, want %d %d", tc.name, b, a, tc.below, tc.above)
		}
	}
	if _, ok := QuorumBelow([]WeightedVote{{1, 6}}, 10); ok {
		t.Error("quorum from 6 of 10")
	}
}

func id(b byte) ids.ObjectID { return ids.ObjectID{b} }

func TestApportion(t *testing.T) {
	for _, tc := range []struct {
		name   string
		stakes []uint64
		n      int
		want   []int // in the order of the candidates given (IDs 1, 2, …)
	}{
		{"equal", []uint64{100, 100, 100, 100}, 10, []int{3, 3, 2, 2}},
		{"proportional", []uint64{500, 300, 200}, 10, []int{5, 3, 2}},
		{"D'Hondt favours large", []uint64{700, 200, 100}, 10, []int{7, 2, 1}},
		{"cap of ceil(2n/nodes)", []uint64{1000, 1, 1}, 9, []int{6, 2, 1}},
		{"single node takes all", []uint64{5}, 7, []int{7}},
		{"n=1000 proportional", []uint64{4, 3, 2, 1}, 1000, []int{400, 300, 200, 100}},
	} {
		var cands []Candidate
		for i, s := range tc.stakes {
			cands = append(cands, Candidate{NodeID: id(byte(i + 1)), Stake: s})
		}
		ranked, counts := Apportion(cands, tc.n)
		got := make([]int, len(cands))
		total := 0
		for i, c := range ranked {
			got[c.NodeID[0]-1] = counts[i]
			total += counts[i]
		}
		if !slices.Equal(got, tc.want) || total != tc.n {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
	if got := MaxShardsPerNode(1000, 25); got != 100 {
		t.Errorf("cap for 25 nodes: %d", got)
	}
	if got := MaxShardsPerNode(1000, 4); got != 500 {
		t.Errorf("cap for 4 nodes: %d", got)
	}
	// More than 150 candidates: only the 150 largest get shards.
	var many []Candidate
	for i := range 160 {
		many = append(many, Candidate{NodeID: ids.ObjectID{byte(i), 1}, Stake: uint64(1000 + i)})
	}
	ranked, counts := Apportion(many, 1000)
	if len(ranked) != MaxActiveSet || ranked[0].Stake != 1159 || slices.Min(counts) == 0 {
		t.Errorf("active set: %d ranked, first stake %d", len(ranked), ranked[0].Stake)
	}
}

func TestTransitionMinimalMovement(t *testing.T) {
	first := Transition(nil, map[ids.ObjectID]int{id(2): 5, id(1): 5}, 10)
	if !slices.Equal(first[0].Shards, []uint16{0, 1, 2, 3, 4}) || first[0].NodeID != id(1) || !slices.Equal(first[1].Shards, []uint16{5, 6, 7, 8, 9}) {
		t.Fatalf("first committee %+v", first)
	}
	// A new node 3 joins; 1 and 2 shrink, giving up shards from the end of their lists.
	next := Transition(first, map[ids.ObjectID]int{id(1): 3, id(2): 4, id(3): 3}, 10)
	want := [][]uint16{{0, 1, 2}, {5, 6, 7, 8}, {3, 4, 9}}
	for i, a := range next {
		if !slices.Equal(a.Shards, want[i]) {
			t.Errorf("member %d: %v, want %v", i, a.Shards, want[i])
		}
	}
	// Node 1 leaves; node 3 grows.
	after := Transition(next, map[ids.ObjectID]int{id(2): 5, id(3): 5}, 10)
	if after[0].NodeID != id(2) || !slices.Equal(after[0].Shards, []uint16{5, 6, 7, 8, 0}) || !slices.Equal(after[1].Shards, []uint16{3, 4, 9, 1, 2}) {
		t.Errorf("after leave: %+v", after)
	}
	moved := 0
	for _, a := range after {
		for _, s := range a.Shards {
			for _, b := range next {
				if slices.Contains(b.Shards, s) && b.NodeID != a.NodeID {
					moved++
				}
			}
		}
	}
	if moved != 3 {
		t.Errorf("%d shards moved, want 3 (node 1's)", moved)
	}
}

func TestEpochTimeline(t *testing.T) {
	h := fourNodes(t)
	s := h.sys()
	start := s.EpochStartMs
	h.block(testEpochMs/2 - 10)
	if h.sys().State != EpochChangeDone {
		t.Fatal("voting ended early")
	}
	h.block(10)
	if s := h.sys(); s.State != NextParamsSelected || len(s.Next) != 4 {
		t.Fatalf("voting end: state %s, next %d", s.State, len(s.Next))
	}
	if ev := h.eventsOf(EventEpochParametersSelected); len(ev) != 1 || ev[0].Event.Epoch != 2 {
		t.Fatalf("EpochParametersSelected: %+v", ev)
	}
	h.block(start + testEpochMs - h.now)
	s = h.sys()
	if s.Epoch != 2 || s.State != EpochChangeSync || len(s.Previous) != 4 {
		t.Fatalf("epoch change: %d %s", s.Epoch, s.State)
	}
	ev := h.eventsOf(EventEpochChangeStart)
	if len(ev) != 1 || ev[0].Event.Epoch != 2 || ev[0].Cursor.TxIndex != 0 || ev[0].TxDigest != ids.BlockDigest(h.height) {
		t.Fatalf("EpochChangeStart %+v", ev)
	}
	// Voting does not end while syncing.
	h.block(testEpochMs * 3 / 4)
	if h.sys().State != EpochChangeSync {
		t.Fatal("left sync without reports")
	}
	byIndex := h.nodesByIndex() // weights 3, 3, 2, 2
	n0, n1, n2 := byIndex[0], byIndex[1], byIndex[2]
	h.abort(EWrongEpochState, n0.op, &EpochSyncDone{Node: Ref(n0.id), Epoch: 1})
	h.abort(ENotAuthorized, n1.op, &EpochSyncDone{Node: Ref(n0.id), Epoch: 2})
	h.ok(n0.op, &EpochSyncDone{Node: Ref(n0.id), Epoch: 2})
	h.abort(EAlreadySynced, n0.op, &EpochSyncDone{Node: Ref(n0.id), Epoch: 2})
	h.ok(n1.op, &EpochSyncDone{Node: Ref(n1.id), Epoch: 2})
	if h.sys().State != EpochChangeSync {
		t.Fatal("done below quorum")
	}
	r := h.ok(n2.op, &EpochSyncDone{Node: Ref(n2.id), Epoch: 2})
	if len(r.Events) != 2 || r.Events[0].Event.Type != EventShardsReceived || r.Events[1].Event.Type != EventEpochChangeDone {
		t.Fatalf("events %+v", r.Events)
	}
	if se, _ := ParseShardsEvent(r.Events[0].Event.Data); len(se.Shards) == 0 || se.Epoch != 2 {
		t.Fatalf("ShardsReceived %+v", se)
	}
	// Half the epoch has passed, so voting ends in the same block as the sync completes.
	if s := h.sys(); s.State != NextParamsSelected || s.Epoch != 2 {
		t.Fatalf("after quorum: epoch %d state %s", s.Epoch, s.State)
	}
	h.abort(EWrongEpochState, byIndex[3].op, &EpochSyncDone{Node: Ref(byIndex[3].id), Epoch: 2})
}

func TestChainWithoutGenesisNodes(t *testing.T) {
	h := newHarness(t, 10)
	alice := h.users["alice"]
	s := h.sys()
	if s.Epoch != 0 || len(s.Committee) != 0 {
		t.Fatalf("epoch %d committee %d", s.Epoch, len(s.Committee))
	}
	// An empty chain cycles epoch 0 until a staked node exists.
	h.block(2 * testEpochMs)
	h.block(testEpochMs)
	if h.sys().Epoch != 0 {
		t.Fatal("epoch advanced without nodes")
	}
	ikm := sha256.Sum256([]byte("fresh node"))
	sk, _ := bls.KeyFromIKM(ikm[:])
	pop, sig := sk.ProofOfPossession(0, alice.addr)
	r := h.ok(alice, &RegisterNode{Name: "n", NetworkAddress: "a:1", PublicKey: pop.PublicKey, ProofOfPossession: sig.Bytes(), CommissionRate: 100,
		StoragePrice: 7, WritePrice: 3, NodeCapacity: 1 << 30})
	nodeID := r.Created[0]
	h.nodes = append(h.nodes, &node{bls: sk, op: alice, id: nodeID})
	h.ok(alice, &StakeWithPool{Node: Ref(nodeID), Amount: 10 * FrostPerWAL})
	h.advanceTo(1, false)
	s = h.sys()
	if len(s.Committee) != 1 || len(s.Committee[0].Shards) != 10 || s.State != EpochChangeDone {
		t.Fatalf("first committee %+v state %s", s.Committee, s.State)
	}
	if s.StoragePrice != 7 || s.WritePrice != 3 {
		t.Errorf("prices %d %d from the single voter", s.StoragePrice, s.WritePrice)
	}
	if ev := h.eventsOf(EventEpochChangeDone); len(ev) != 1 {
		t.Errorf("first epoch change done events: %d", len(ev))
	}
}

func TestRegisterNodeAndCommitteeChange(t *testing.T) {
	h := fourNodes(t)
	carol := h.users["carol"]
	ikm := sha256.Sum256([]byte("node 5"))
	sk, _ := bls.KeyFromIKM(ikm[:])
	// Proof for another address or epoch is refused.
	pop, sig := sk.ProofOfPossession(1, h.users["bob"].addr)
	h.abort(EInvalidProofOfPossession, carol, &RegisterNode{Name: "x", PublicKey: pop.PublicKey, ProofOfPossession: sig.Bytes()})
	pop, sig = sk.ProofOfPossession(2, carol.addr)
	h.abort(EInvalidProofOfPossession, carol, &RegisterNode{Name: "x", PublicKey: pop.PublicKey, ProofOfPossession: sig.Bytes()})
	// A genesis node's key is taken.
	gpop, gsig := h.nodes[0].bls.ProofOfPossession(1, carol.addr)
	h.abort(EDuplicateBlsKey, carol, &RegisterNode{Name: "x", PublicKey: gpop.PublicKey, ProofOfPossession: gsig.Bytes()})
	pop, sig = sk.ProofOfPossession(1, carol.addr)
	r := h.ok(carol, &RegisterNode{Name: "five", NetworkAddress: "h:5", PublicKey: pop.PublicKey, ProofOfPossession: sig.Bytes(), NetworkPublicKey: []byte{5}})
	five := r.Created[0]
	h.nodes = append(h.nodes, &node{bls: sk, op: carol, id: five})
	h.ok(carol, &StakeWithPool{Node: Ref(five), Amount: 100 * FrostPerWAL})
	before := h.sys().Committee
	h.advanceTo(2, true)
	after := h.sys().Committee
	if len(after) != 5 {
		t.Fatalf("committee of %d", len(after))
	}
	// 5 equal stakes over 10 shards: 2 each; every old member kept the first 2 of its shards.
	for _, a := range after {
		if len(a.Shards) != 2 {
			t.Errorf("node %s has %d shards", a.NodeID, len(a.Shards))
		}
		if i, ok := memberIndex(before, a.NodeID); ok && !slices.Equal(a.Shards, before[i].Shards[:2]) {
			t.Errorf("node %s: %v, was %v", a.NodeID, a.Shards, before[i].Shards)
		}
	}
	h.abort(ENotAuthorized, h.users["alice"], &UpdateNode{Node: Ref(five), Name: "mine"})
	h.ok(carol, &UpdateNode{Node: Ref(five), NetworkAddress: "h:55"})
	if p := h.object(five).Pool; p.NetworkAddress != "h:55" || p.Name != "five" {
		t.Errorf("update: %+v", p)
	}
}

func TestBLSKeyRotation(t *testing.T) {
	h := fourNodes(t)
	x := h.nodesByIndex()[0]
	ikm := sha256.Sum256([]byte("rotated key"))
	next, _ := bls.KeyFromIKM(ikm[:])
	pop, sig := next.ProofOfPossession(1, x.op.addr)
	s := sig.Bytes()
	h.abort(EInvalidArgument, x.op, &UpdateNode{Node: Ref(x.id), NextPublicKey: pop.PublicKey[:5]})
	h.ok(x.op, &UpdateNode{Node: Ref(x.id), NextPublicKey: pop.PublicKey[:], NextProofOfPossession: s[:]})
	// Until the change the old key signs; the next committee carries the new key.
	h.block(testEpochMs / 2)
	if i, _ := memberIndex(h.sys().Next, x.id); h.sys().Next[i].PublicKey != pop.PublicKey {
		t.Fatal("next committee does not carry the new key")
	}
	h.advanceTo(2, true)
	old := x.bls
	x.bls = next
	if p := h.object(x.id).Pool; p.PublicKey != pop.PublicKey || p.NextPublicKey != nil {
		t.Fatal("key not rotated at the epoch change")
	}
	// A certificate with the new key verifies in epoch 2; the old key no longer counts.
	alice := h.users["alice"]
	size := uint64(100)
	id, root := newBlob(11, size)
	r := h.ok(alice, &ReserveSpace{EncodedSize: h.encoded(size), EpochsAhead: 2},
		&RegisterBlob{Storage: CreatedRef(0), BlobID: id, RootHash: root, Size: size, EncodingType: 1})
	h.ok(alice, h.certify(Ref(r.Created[1]), 2, id, wire.Permanent, all(4)...))
	x.bls = old
	r = h.ok(alice, &ReserveSpace{EncodedSize: h.encoded(size), EpochsAhead: 2},
		&RegisterBlob{Storage: CreatedRef(0), BlobID: id, RootHash: root, Size: size, EncodingType: 1})
	h.abort(EInvalidSignature, alice, h.certify(Ref(r.Created[1]), 2, id, wire.Permanent, all(4)...))
	// The old key is free again, the new one taken.
	if v, _ := h.st.Get(keyBLS(old.PublicKey().Bytes())); v != nil {
		t.Error("old key still registered")
	}
}
