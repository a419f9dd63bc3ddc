package quilt

import (
	"encoding/json"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/walrus-go/walrus/blob"
)

func TestPatchIDRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for range 1000 {
		var id PatchID
		for i := range id.Quilt {
			id.Quilt[i] = byte(rng.Uint32())
		}
		id.Start = uint16(rng.IntN(65535))
		id.End = id.Start + 1 + uint16(rng.IntN(65535-int(id.Start)))
		s := id.String()
		if len(s) != PatchIDTextSize {
			t.Fatalf("%s: %d characters", s, len(s))
		}
		got, err := ParsePatchID(s)
		if err != nil || got != id {
			t.Fatalf("%s: %+v, %v; want %+v", s, got, err, id)
		}
		b := id.Bytes()
		if got, err := PatchIDFromBytes(b[:]); err != nil || got != id {
			t.Fatalf("bytes %x: %+v, %v", b, got, err)
		}
		if !strings.HasPrefix(s, id.Quilt.String()[:42]) {
			t.Fatalf("%s does not start with the quilt ID %s", s, id.Quilt)
		}
	}
}

func TestParsePatchIDErrors(t *testing.T) {
	const good = "6XUOE-Q5-nAXHRifN6n9nomVDtHZQbGuAkW3PjlBuKoBAQDQAA"
	cases := map[string]string{
		"empty":                    "",
		"a blob ID":                "6XUOE-Q5-nAXHRifN6n9nomVDtHZQbGuAkW3PjlBuKo",
		"too long":                 good + "A",
		"padding":                  good[:48] + "==",
		"standard base64 alphabet": strings.ReplaceAll(good, "-", "+"),
		// A typo in Walrus's HTTP docs: the last character carries bits
		// beyond the 37 bytes, which strict base64 (and Walrus) rejects.
		"non-canonical trailing bits": "6XUOE-Q5-nAXHRifN6n9nomVDtHZQbGuAkW3PjlBuKoB0AB7Ah",
		"version 2":                   mutate(good, func(b []byte) { b[32] = 2 }),
		"version 0":                   mutate(good, func(b []byte) { b[32] = 0 }),
		"empty range":                 mutate(good, func(b []byte) { b[33], b[34], b[35], b[36] = 5, 0, 5, 0 }),
		"reversed range":              mutate(good, func(b []byte) { b[33], b[34], b[35], b[36] = 6, 0, 5, 0 }),
	}
	for name, s := range cases {
		if _, err := ParsePatchID(s); !errors.Is(err, ErrInvalidPatchID) {
			t.Errorf("%s (%q): %v, want ErrInvalidPatchID", name, s, err)
		}
	}
	if _, err := ParsePatchID(cases["version 2"]); !errors.Is(err, ErrVersion) {
		t.Errorf("version 2: %v, want ErrVersion too", err)
	}
	if _, _, err := ParseInternalID([]byte{1, 0, 0}); !errors.Is(err, ErrInvalidPatchID) {
		t.Errorf("short internal ID: %v", err)
	}
	p := blob.MustParams(1000)
	for _, r := range [][2]uint16{{0, 1}, {5, 5}, {1, 668}} {
		if err := (PatchID{Start: r[0], End: r[1]}).Check(p); !errors.Is(err, ErrInvalidPatchID) {
			t.Errorf("range %v at n=1000: %v", r, err)
		}
	}
	if err := (PatchID{Start: 1, End: 667}).Check(p); err != nil {
		t.Errorf("[1, 667) at n=1000: %v", err)
	}
}

func mutate(s string, f func([]byte)) string {
	id, err := ParsePatchID(s)
	if err != nil {
		panic(err)
	}
	b := id.Bytes()
	f(b[:])
	return b64.EncodeToString(b[:])
}

// The listing encodes as Walrus's QuiltPatchItem: identifier, patch_id (text)
// and tags ({} when there are none).
func TestListJSON(t *testing.T) {
	q, err := Encode(blob.MustParams(10), []Patch{
		{Identifier: "b.txt", Data: []byte("b")},
		{Identifier: "a.txt", Data: []byte("a"), Tags: map[string]string{"k": "v"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	quilt, _ := blob.ParseID("6XUOE-Q5-nAXHRifN6n9nomVDtHZQbGuAkW3PjlBuKo")
	got, err := json.Marshal(q.Index.List(quilt))
	if err != nil {
		t.Fatal(err)
	}
	a, b := q.Index.Entries[0].PatchID(quilt), q.Index.Entries[1].PatchID(quilt)
	want := `[{"identifier":"a.txt","patch_id":"` + a.String() + `","tags":{"k":"v"}},` +
		`{"identifier":"b.txt","patch_id":"` + b.String() + `","tags":{}}]`
	if string(got) != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	var back []PatchInfo
	if err := json.Unmarshal(got, &back); err != nil || back[1].PatchID != b {
		t.Fatalf("unmarshal: %+v, %v", back, err)
	}
}
