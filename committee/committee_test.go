package committee

import (
	"errors"
	"testing"

	"github.com/walrus-go/walrus/bls"
	"github.com/walrus-go/walrus/wire"
)

func TestThresholds(t *testing.T) {
	for _, tc := range []struct{ n, f, quorum, validity int }{
		{1, 0, 1, 1}, {4, 1, 3, 2}, {5, 1, 4, 2}, {6, 1, 5, 3}, {7, 2, 5, 3}, {10, 3, 7, 4}, {1000, 333, 667, 334},
	} {
		if got := F(tc.n); got != tc.f {
			t.Errorf("F(%d) = %d, want %d", tc.n, got, tc.f)
		}
		if tc.quorum != tc.n-tc.f {
			t.Fatalf("table: quorum for n=%d", tc.n)
		}
		if !IsQuorum(tc.quorum, tc.n) || IsQuorum(tc.quorum-1, tc.n) {
			t.Errorf("n=%d: quorum boundary is not %d", tc.n, tc.quorum)
		}
		if !IsValidity(tc.validity, tc.n) || IsValidity(tc.validity-1, tc.n) {
			t.Errorf("n=%d: validity boundary is not %d", tc.n, tc.validity)
		}
	}
}

type testNode struct {
	sk *bls.SecretKey
	m  Member
}

// testCommittee builds 4 members over 10 shards with weights 4, 3, 2, 1.
func testCommittee(t testing.TB) (*Committee, []*bls.SecretKey) {
	t.Helper()
	shards := [][]uint16{{0, 1, 2, 3}, {4, 5, 6}, {7, 8}, {9}}
	var members []Member
	var keys []*bls.SecretKey
	for i, sh := range shards {
		ikm := make([]byte, 32)
		ikm[0] = byte(i + 1)
		sk, err := bls.KeyFromIKM(ikm)
		if err != nil {
			t.Fatal(err)
		}
		var id NodeID
		id[0] = byte(i + 1) // sorted
		members = append(members, Member{NodeID: id, PublicKey: sk.PublicKey(), Shards: sh})
		keys = append(keys, sk)
	}
	c, err := New(7, 10, members)
	if err != nil {
		t.Fatal(err)
	}
	return c, keys
}

func sign(t testing.TB, keys []*bls.SecretKey, signers []uint16, msg []byte) []byte {
	t.Helper()
	var sigs []bls.Signature
	for _, s := range signers {
		sigs = append(sigs, keys[s].Sign(msg))
	}
	agg, err := bls.AggregateSignatures(sigs)
	if err != nil {
		t.Fatal(err)
	}
	b := agg.Bytes()
	return b[:]
}

func TestNewValidates(t *testing.T) {
	c, _ := testCommittee(t)
	ms := c.Members()
	bad := []struct {
		name    string
		n       int
		members []Member
	}{
		{"unsorted", 10, []Member{ms[1], ms[0], ms[2], ms[3]}},
		{"missing shard", 11, ms},
		{"shard out of range", 9, ms},
		{"duplicate shard", 10, []Member{ms[0], {NodeID: ms[1].NodeID, PublicKey: ms[1].PublicKey, Shards: []uint16{0, 4, 5, 6}}, ms[2], ms[3]}},
		{"no key", 10, []Member{ms[0], {NodeID: ms[1].NodeID, Shards: ms[1].Shards}, ms[2], ms[3]}},
		{"zero shards", 0, nil},
	}
	for _, tc := range bad {
		if _, err := New(1, tc.n, tc.members); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", tc.name, err)
		}
	}
	if _, err := New(0, 10, nil); err != nil {
		t.Errorf("empty committee: %v", err)
	}
}

func TestLookups(t *testing.T) {
	c, _ := testCommittee(t)
	if c.NShards() != 10 || c.F() != 3 || c.Len() != 4 || c.Epoch() != 7 {
		t.Fatalf("committee shape: n=%d f=%d len=%d epoch=%d", c.NShards(), c.F(), c.Len(), c.Epoch())
	}
	for s, want := range []int{0, 0, 0, 0, 1, 1, 1, 2, 2, 3} {
		if got, ok := c.ShardOwner(s); !ok || got != want {
			t.Errorf("shard %d: owner %d %v, want %d", s, got, ok, want)
		}
	}
	if _, ok := c.ShardOwner(10); ok {
		t.Error("shard 10 has an owner")
	}
	if i, ok := c.Index(c.Member(2).NodeID); !ok || i != 2 {
		t.Errorf("Index = %d %v", i, ok)
	}
	if _, ok := c.Index(NodeID{0xff}); ok {
		t.Error("unknown node found")
	}
}

func TestVerifyCertificate(t *testing.T) {
	c, keys := testCommittee(t)
	msg := (&wire.Confirmation{Epoch: 7}).Marshal()
	for _, tc := range []struct {
		name    string
		signers []uint16
		signed  []uint16 // who actually signed; defaults to signers
		t       Threshold
		want    error
	}{
		{"quorum 4+3", []uint16{0, 1}, nil, Quorum, nil},
		{"quorum 4+2+1", []uint16{0, 2, 3}, nil, Quorum, nil},
		{"below quorum 4+2", []uint16{0, 2}, nil, Quorum, ErrInsufficientWeight},
		{"below quorum 3+2+1 (6 of 10)", []uint16{1, 2, 3}, nil, Quorum, ErrInsufficientWeight},
		{"validity 4", []uint16{0}, nil, Validity, nil},
		{"validity 3+1", []uint16{1, 3}, nil, Validity, nil},
		{"below validity 2+1", []uint16{2, 3}, nil, Validity, ErrInsufficientWeight},
		{"signature by fewer", []uint16{0, 1}, []uint16{0}, Quorum, ErrSignature},
		{"signature by others", []uint16{0, 1, 2}, []uint16{0, 1, 3}, Quorum, ErrSignature},
		{"unsorted", []uint16{1, 0}, nil, Quorum, ErrSigners},
		{"duplicate", []uint16{0, 0, 1}, nil, Quorum, ErrSigners},
		{"out of range", []uint16{0, 1, 4}, nil, Quorum, ErrSigners},
	} {
		signed := tc.signed
		if signed == nil {
			signed = tc.signers
		}
		var sig []byte
		if len(signed) > 0 {
			valid := true
			for _, s := range signed {
				valid = valid && int(s) < len(keys)
			}
			if valid {
				sig = sign(t, keys, dedup(signed), msg)
			}
		}
		if sig == nil {
			sig = make([]byte, 96)
		}
		err := c.VerifyCertificate(tc.signers, msg, sig, tc.t)
		want := tc.want
		if want == nil && err != nil || want != nil && !errors.Is(err, want) {
			t.Errorf("%s: %v, want %v", tc.name, err, want)
		}
	}
	// Bitmap form, and a message other than the signed one.
	bm, _ := wire.SignersBitmap([]uint16{0, 1}, 4)
	sig := sign(t, keys, []uint16{0, 1}, msg)
	if err := c.VerifyBitmap(bm, msg, sig, Quorum); err != nil {
		t.Errorf("bitmap: %v", err)
	}
	other := (&wire.Confirmation{Epoch: 8}).Marshal()
	if err := c.VerifyBitmap(bm, other, sig, Quorum); !errors.Is(err, ErrSignature) {
		t.Errorf("other message: %v", err)
	}
	if err := c.VerifyBitmap([]byte{0x13}, msg, sig, Quorum); !errors.Is(err, ErrSigners) {
		t.Errorf("bit beyond members: %v", err)
	}
	if err := c.VerifyBitmap([]byte{3, 0}, msg, sig, Quorum); !errors.Is(err, ErrSigners) {
		t.Errorf("long bitmap: %v", err)
	}
	if err := c.VerifyBitmap(bm, msg, make([]byte, 96), Quorum); !errors.Is(err, ErrSignature) {
		t.Errorf("garbage signature: %v", err)
	}
}

func dedup(s []uint16) []uint16 {
	var out []uint16
	seen := map[uint16]bool{}
	for _, v := range s {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}
