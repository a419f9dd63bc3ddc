package ids

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestAddressAndObjectIDText(t *testing.T) {
	a := AddressOf([]byte("a public key"))
	got, err := ParseAddress(a.String())
	if err != nil || got != a {
		t.Fatalf("ParseAddress(%s) = %s, %v", a, got, err)
	}
	id := NewObjectID(TxDigest([]byte("tx")), 3)
	if id == NewObjectID(TxDigest([]byte("tx")), 4) {
		t.Fatal("creation index does not change the object ID")
	}
	b, _ := json.Marshal(id)
	var back ObjectID
	if err := json.Unmarshal(b, &back); err != nil || back != id {
		t.Fatalf("JSON round trip: %s → %s, %v", b, back, err)
	}
	for _, bad := range []string{"", "0x", "0x12", "12" + strings.Repeat("0", 64), "0x" + strings.Repeat("g", 64)} {
		if _, err := ParseObjectID(bad); !errors.Is(err, ErrParse) {
			t.Errorf("ParseObjectID(%q) = %v, want ErrParse", bad, err)
		}
	}
}

func TestDigestBase58(t *testing.T) {
	cases := []Digest{{}, {0, 0, 1}, TxDigest(nil), GenesisDigest("walrus-devnet"), BlockDigest(7)}
	var ff Digest
	for i := range ff {
		ff[i] = 0xff
	}
	cases = append(cases, ff)
	for _, d := range cases {
		s := d.String()
		if len(s) > maxDigestText {
			t.Errorf("%x: %d characters", d, len(s))
		}
		got, err := ParseDigest(s)
		if err != nil || got != d {
			t.Errorf("ParseDigest(%q) = %x, %v; want %x", s, got, err, d)
		}
	}
	if s := (Digest{}).String(); s != strings.Repeat("1", 32) {
		t.Errorf("zero digest = %q", s)
	}
	for _, bad := range []string{"0", "O", "l", "I", "111", strings.Repeat("z", 45), strings.Repeat("z", 44)} {
		if _, err := ParseDigest(bad); !errors.Is(err, ErrParse) {
			t.Errorf("ParseDigest(%q) = %v, want ErrParse", bad, err)
		}
	}
}

func TestEventIDJSON(t *testing.T) {
	e := EventID{TxDigest: TxDigest([]byte("x")), Seq: 12}
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(`"eventSeq":"12"`)) {
		t.Fatalf("JSON %s: eventSeq is not a decimal string", b)
	}
	for _, in := range []string{string(b), `{"txDigest":"` + e.TxDigest.String() + `","eventSeq":12}`} {
		var got EventID
		if err := json.Unmarshal([]byte(in), &got); err != nil || got != e {
			t.Errorf("Unmarshal(%s) = %+v, %v", in, got, err)
		}
	}
	var got EventID
	if err := json.Unmarshal([]byte(`{"txDigest":"`+e.TxDigest.String()+`","eventSeq":"-1"}`), &got); !errors.Is(err, ErrParse) {
		t.Errorf("negative eventSeq: %v", err)
	}
}

// FuzzParse: every text form either fails with ErrParse or prints back to
// an equal value.
func FuzzParse(f *testing.F) {
	f.Add("0x" + strings.Repeat("ab", 32))
	f.Add(TxDigest(nil).String())
	f.Add(strings.Repeat("1", 32))
	f.Add(`{"txDigest":"11111111111111111111111111111111","eventSeq":"1"}`)
	f.Fuzz(func(t *testing.T, s string) {
		if a, err := ParseAddress(s); err == nil {
			if !strings.EqualFold(a.String(), s) {
				t.Fatalf("address %q prints as %s", s, a)
			}
		} else if !errors.Is(err, ErrParse) {
			t.Fatalf("address %q: %v", s, err)
		}
		if d, err := ParseDigest(s); err == nil {
			if d.String() != s {
				t.Fatalf("digest %q prints as %s", s, d)
			}
		} else if !errors.Is(err, ErrParse) {
			t.Fatalf("digest %q: %v", s, err)
		}
		var e EventID
		if json.Unmarshal([]byte(s), &e) == nil {
			b, _ := json.Marshal(e)
			var back EventID
			if err := json.Unmarshal(b, &back); err != nil || back != e {
				t.Fatalf("event ID %q → %s → %+v, %v", s, b, back, err)
			}
		}
	})
}
