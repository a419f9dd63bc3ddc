package quilt

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/walrus-go/walrus/blob"
)

func TestEncodeErrors(t *testing.T) {
	p := blob.MustParams(4) // 2 rows × 3 columns: at most 2 patches, 393,204 bytes
	bigTags := map[string]string{"k": strings.Repeat("v", 65535)}
	cases := []struct {
		name    string
		patches []Patch
		want    error
	}{
		{"none", nil, ErrNoPatches},
		{"duplicate", []Patch{{Identifier: "same"}, {Identifier: "same"}}, ErrDuplicateIdentifier},
		{"empty identifier", []Patch{{Identifier: ""}}, ErrInvalidIdentifier},
		{"trailing space", []Patch{{Identifier: "a "}}, ErrInvalidIdentifier},
		{"control character", []Patch{{Identifier: "a\x00b"}}, ErrInvalidIdentifier},
		{"too many", []Patch{{Identifier: "a"}, {Identifier: "b"}, {Identifier: "c"}}, ErrTooManyPatches},
		{"too large", []Patch{{Identifier: "a", Data: make([]byte, 400000)}}, ErrTooLarge},
		{"too large together", []Patch{{Identifier: "a", Data: make([]byte, 131100)}, {Identifier: "b", Data: make([]byte, 131100)}}, ErrTooLarge},
		{"tags too large", []Patch{{Identifier: "a", Tags: bigTags}}, ErrInvalidTags},
		{"tag not UTF-8", []Patch{{Identifier: "a", Tags: map[string]string{"k": "\xff"}}}, ErrInvalidTags},
	}
	for _, c := range cases {
		if _, err := Encode(p, c.patches); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
		if _, err := CompareCost(p, c.patches); !errors.Is(err, c.want) {
			t.Errorf("CompareCost %s: %v, want %v", c.name, err, c.want)
		}
	}
	// The largest tags that fit: 65,535 bytes of BCS.
	okTags := map[string]string{"k": strings.Repeat("v", 65535-1-2-3)}
	if _, err := Encode(blob.MustParams(10), []Patch{{Identifier: "a", Tags: okTags}}); err != nil {
		t.Errorf("tags of 65,535 BCS bytes: %v", err)
	}
}

func TestReadErrors(t *testing.T) {
	p := blob.MustParams(7)
	q, err := Encode(p, []Patch{{Identifier: "a", Data: bytes.Repeat([]byte("x"), 300)}, {Identifier: "b", Data: []byte("y")}})
	if err != nil {
		t.Fatal(err)
	}
	a := q.Index.Entries[0]
	cols := func(from, to int) [][]byte {
		var out [][]byte
		for j := from; j < to; j++ {
			out = append(out, q.Column(j))
		}
		return out
	}
	if a.End-a.Start < 2 {
		t.Fatalf("patch a takes %d columns; the test wants several", a.End-a.Start)
	}
	// One column short of the patch.
	if _, err := ReadPatch(cols(int(a.Start), int(a.End)-1)); !errors.Is(err, ErrMissingColumns) {
		t.Errorf("a without its last column: %v", err)
	}
	if _, err := ReadPatch(nil); !errors.Is(err, ErrMissingColumns) {
		t.Errorf("no columns: %v", err)
	}
	// Columns of different sizes.
	bad := cols(int(a.Start), int(a.End))
	bad[1] = bad[1][1:]
	if _, err := ReadPatch(bad); !errors.Is(err, ErrMalformed) {
		t.Errorf("uneven columns: %v", err)
	}
	// A column that is not a patch (the index column has a version byte, then a length).
	if _, err := ReadPatch(cols(0, 1)); err == nil {
		t.Error("read the index column as a patch")
	}
	// Another version.
	c := cols(int(a.Start), int(a.End))
	c[0][0] = 2
	if _, err := ReadPatch(c); !errors.Is(err, ErrVersion) {
		t.Errorf("patch version 2: %v", err)
	}
	idx := cols(0, q.Index.Columns)
	idx[0][0] = 2
	if _, err := DecodeIndex(p, idx); !errors.Is(err, ErrVersion) {
		t.Errorf("index version 2: %v", err)
	}
	if _, err := DecodeIndex(p, nil); !errors.Is(err, ErrMissingColumns) {
		t.Errorf("no index columns: %v", err)
	}
	if _, err := DecodeIndex(p, [][]byte{make([]byte, 7)}); !errors.Is(err, ErrMalformed) {
		t.Errorf("a column of 7 bytes with 3 rows: %v", err)
	}
	// An index claiming more columns than given.
	idx = cols(0, 1)
	idx[0][1], idx[0][2] = 0xff, 0x01
	if _, err := DecodeIndex(p, idx); !errors.Is(err, ErrMissingColumns) && !errors.Is(err, ErrMalformed) {
		t.Errorf("oversized index: %v", err)
	}
	// Open: wrong lengths.
	for _, n := range []int{0, 1, p.SourceSymbols() - 1, p.SourceSymbols() * (blob.MaxSymbolSize + 1)} {
		if n > 1<<24 {
			continue
		}
		if _, err := Open(p, make([]byte, n)); !errors.Is(err, ErrMalformed) {
			t.Errorf("Open of %d bytes: %v", n, err)
		}
	}
	if _, err := Open(p, make([]byte, p.SourceSymbols()*2)); !errors.Is(err, ErrVersion) {
		t.Errorf("Open of zeros: %v", err)
	}
	if _, err := q.PatchAt(a.End, a.Start); !errors.Is(err, ErrInvalidPatchID) {
		t.Errorf("PatchAt reversed: %v", err)
	}
}

// An identifier in a patch header must be one Walrus accepts.
func TestReadRejectsInvalidHeaderIdentifier(t *testing.T) {
	q, err := Encode(blob.MustParams(7), []Patch{{Identifier: "ab", Data: []byte("data")}})
	if err != nil {
		t.Fatal(err)
	}
	e := q.Index.Entries[0]
	var stream []byte
	for j := e.Start; j < e.End; j++ {
		stream = append(stream, q.Column(int(j))...)
	}
	// header(6) | 03 00 | 02 'a' 'b': make it "a\x01".
	if stream[9] != 'a' || stream[10] != 'b' {
		t.Fatalf("unexpected layout % x", stream[:12])
	}
	stream[10] = 1
	var cols [][]byte
	for cs := len(q.Column(0)); len(stream) > 0; stream = stream[cs:] {
		cols = append(cols, stream[:cs])
	}
	if _, err := ReadPatch(cols); !errors.Is(err, ErrMalformed) || !errors.Is(err, ErrInvalidIdentifier) {
		t.Errorf("control character in a header: %v", err)
	}
}
