package wire

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/ids"
)

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Vector: shared/spec/vectors/reed-solomon.md (Walrus storage_confirmation.rs tests).
func TestConfirmationVector(t *testing.T) {
	var id blob.ID
	for i := range id {
		id[i] = 7
	}
	c := Confirmation{Epoch: 21, BlobID: id, Persistence: Permanent}
	want := unhex(t, "010003 15000000"+strings.Repeat("07", 32)+"00")
	got := c.Marshal()
	if !bytes.Equal(got, want) || len(got) != 40 {
		t.Fatalf("permanent confirmation\n got %x\nwant %x", got, want)
	}
	back, err := ParseConfirmation(got)
	if err != nil || back != c {
		t.Fatalf("parse: %+v %v", back, err)
	}
	var obj ids.ObjectID
	for i := range obj {
		obj[i] = byte(i)
	}
	c.Persistence = Deletable(obj)
	got = c.Marshal()
	want = append(append(want[:len(want)-1:len(want)-1], 1), obj[:]...)
	if !bytes.Equal(got, want) {
		t.Fatalf("deletable confirmation\n got %x\nwant %x", got, want)
	}
	if back, err := ParseConfirmation(got); err != nil || back != c {
		t.Fatalf("parse deletable: %+v %v", back, err)
	}
}

// Vector: shared/spec/vectors/bls.md pop_message_hex.
func TestProofOfPossessionVector(t *testing.T) {
	var p ProofOfPossession
	p.Epoch = 21
	for i := range p.Address {
		p.Address[i] = 0xab
	}
	copy(p.PublicKey[:], unhex(t, "a4440ee29a23de1a4b29a42011ce7ddb010e7711f91ef441321b18932afcccee7e20b0f00556b8a347fbe08c88d6004a"))
	want := unhex(t, "00000315000000ababababababababababababababababababababababababababababababababa4440ee29a23de1a4b29a42011ce7ddb010e7711f91ef441321b18932afcccee7e20b0f00556b8a347fbe08c88d6004a")
	if got := p.Marshal(); !bytes.Equal(got, want) {
		t.Fatalf("pop\n got %x\nwant %x", got, want)
	}
	if back, err := ParseProofOfPossession(want); err != nil || back != p {
		t.Fatalf("parse: %v", err)
	}
}

func TestInvalidBlobIDAndSyncShard(t *testing.T) {
	var id blob.ID
	id[0], id[31] = 1, 2
	m := InvalidBlobID{Epoch: 7, BlobID: id}
	b := m.Marshal()
	if !bytes.Equal(b[:7], []byte{2, 0, 3, 7, 0, 0, 0}) || len(b) != 39 {
		t.Fatalf("invalid blob id bytes %x", b)
	}
	if back, err := ParseInvalidBlobID(b); err != nil || back != m {
		t.Fatal(err)
	}
	r := SyncShardRequest{Epoch: 9, Shard: 513, SliverType: blob.Secondary, StartingBlobID: id, Count: 1000}
	b = r.Marshal()
	want := unhex(t, "030003 09000000 00 0102 01"+hex.EncodeToString(id[:])+"e803000000000000 09000000")
	if !bytes.Equal(b, want) {
		t.Fatalf("sync shard\n got %x\nwant %x", b, want)
	}
	if back, err := ParseSyncShardRequest(b); err != nil || back != r {
		t.Fatal(err)
	}
	bad := slices.Clone(b)
	bad[len(bad)-4] = 8 // inner epoch differs
	if _, err := ParseSyncShardRequest(bad); !errors.Is(err, ErrMessage) {
		t.Fatalf("epoch mismatch accepted: %v", err)
	}
}

func TestParseRejects(t *testing.T) {
	var id blob.ID
	good := (&Confirmation{Epoch: 1, BlobID: id}).Marshal()
	cases := map[string][]byte{
		"empty":          nil,
		"short header":   good[:5],
		"wrong intent":   append([]byte{2}, good[1:]...),
		"wrong version":  append([]byte{1, 1}, good[2:]...),
		"wrong app":      append([]byte{1, 0, 4}, good[3:]...),
		"truncated":      good[:len(good)-1],
		"trailing":       append(slices.Clone(good), 0),
		"bad persist":    append(slices.Clone(good[:len(good)-1]), 2),
		"deletable half": append(slices.Clone(good[:len(good)-1]), 1, 2, 3),
	}
	for name, b := range cases {
		if _, err := ParseConfirmation(b); !errors.Is(err, ErrMessage) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

func TestSignedMessageJSON(t *testing.T) {
	s := SignedMessage{Message: []byte{1, 2, 3}}
	s.Signature[0] = 9
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"serializedMessage":"AQID"`) {
		t.Fatalf("json %s", b)
	}
	var back SignedMessage
	if err := json.Unmarshal(b, &back); err != nil || !bytes.Equal(back.Message, s.Message) || back.Signature != s.Signature {
		t.Fatalf("round trip: %v", err)
	}
	if err := json.Unmarshal([]byte(`{"serializedMessage":"AQID","signature":"AQID"}`), &back); err == nil {
		t.Fatal("short signature accepted")
	}
}

func TestCertificateBCS(t *testing.T) {
	c := Certificate{Signers: []uint16{0, 2, 300}, Message: []byte("msg")}
	c.Signature[95] = 1
	b := c.AppendBCS(nil)
	back, err := UnmarshalCertificate(b)
	if err != nil || !slices.Equal(back.Signers, c.Signers) || !bytes.Equal(back.Message, c.Message) || back.Signature != c.Signature {
		t.Fatalf("round trip %v", err)
	}
	if _, err := UnmarshalCertificate(b[:len(b)-1]); err == nil {
		t.Fatal("truncated accepted")
	}
}

func TestBitmap(t *testing.T) {
	bm, err := SignersBitmap([]uint16{0, 3, 8, 9}, 10)
	if err != nil || !bytes.Equal(bm, []byte{0b00001001, 0b00000011}) {
		t.Fatalf("bitmap %08b %v", bm, err)
	}
	s, err := BitmapSigners(bm, 10)
	if err != nil || !slices.Equal(s, []uint16{0, 3, 8, 9}) {
		t.Fatalf("signers %v %v", s, err)
	}
	if _, err := SignersBitmap([]uint16{10}, 10); err == nil {
		t.Error("out of range signer")
	}
	if _, err := SignersBitmap([]uint16{1, 1}, 10); err == nil {
		t.Error("duplicate signer")
	}
	if _, err := BitmapSigners([]byte{0, 0b100}, 10); err == nil {
		t.Error("bit beyond members")
	}
	if _, err := BitmapSigners([]byte{0}, 10); err == nil {
		t.Error("short bitmap")
	}
}

func FuzzParseMessages(f *testing.F) {
	var id blob.ID
	f.Add((&Confirmation{Epoch: 1, BlobID: id}).Marshal())
	f.Add((&SyncShardRequest{Epoch: 1}).Marshal())
	f.Add((&ProofOfPossession{}).Marshal())
	f.Fuzz(func(t *testing.T, b []byte) {
		if c, err := ParseConfirmation(b); err == nil && !bytes.Equal(c.Marshal(), b) {
			t.Fatalf("confirmation does not round-trip: %x", b)
		}
		if m, err := ParseInvalidBlobID(b); err == nil && !bytes.Equal(m.Marshal(), b) {
			t.Fatalf("invalid blob id does not round-trip: %x", b)
		}
		if p, err := ParseProofOfPossession(b); err == nil && !bytes.Equal(p.Marshal(), b) {
			t.Fatalf("pop does not round-trip: %x", b)
		}
		if r, err := ParseSyncShardRequest(b); err == nil && !bytes.Equal(r.Marshal(), b) {
			t.Fatalf("sync shard does not round-trip: %x", b)
		}
		if c, err := UnmarshalCertificate(b); err == nil && !bytes.Equal(c.AppendBCS(nil), b) {
			t.Fatalf("certificate does not round-trip: %x", b)
		}
	})
}
