package quilt

import (
	"bytes"
	"testing"

	"github.com/walrus-go/walrus/blob"
)

// fuzzQuilt is a small quilt with tags, for seeds.
func fuzzQuilt(f *testing.F, n int) *Quilt {
	q, err := Encode(blob.MustParams(n), []Patch{
		{Identifier: "alpha.txt", Data: []byte("the first patch"), Tags: map[string]string{"b": "2", "aa": "1"}},
		{Identifier: "beta", Data: bytes.Repeat([]byte{7}, 40)},
		{Identifier: "gamma", Data: nil},
	})
	if err != nil {
		f.Fatal(err)
	}
	return q
}

// split cuts b into columns of size bytes (the last one padded with zeros).
func split(b []byte, size int) [][]byte {
	var cols [][]byte
	for len(b) > 0 {
		c := make([]byte, size)
		b = b[copy(c, b):]
		cols = append(cols, c)
	}
	return cols
}

func FuzzParsePatchID(f *testing.F) {
	f.Add("6XUOE-Q5-nAXHRifN6n9nomVDtHZQbGuAkW3PjlBuKoBAQDQAA")
	f.Add("6XUOE-Q5-nAXHRifN6n9nomVDtHZQbGuAkW3PjlBuKoB0AB7Ah")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		id, err := ParsePatchID(s)
		if err != nil {
			return
		}
		if id.String() != s || id.Start >= id.End {
			t.Fatalf("%q parses to %+v", s, id)
		}
	})
}

func FuzzIndexBCS(f *testing.F) {
	q := fuzzQuilt(f, 7)
	f.Add(appendIndexBCS(nil, q.Index.Entries))
	f.Add([]byte{0})
	f.Add([]byte{1, 1, 0, 0, 2, 1, 'a', 0, 1, 'b', 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		entries, err := decodeIndexBCS(b, 1)
		if err != nil {
			return
		}
		// Canonical: what decodes encodes back to the same bytes.
		if got := appendIndexBCS(nil, entries); !bytes.Equal(got, b) {
			t.Fatalf("%x decodes and encodes as %x", b, got)
		}
		if indexBCSSize(entries) != len(b) {
			t.Fatalf("indexBCSSize %d, want %d", indexBCSSize(entries), len(b))
		}
	})
}

func FuzzDecodeIndex(f *testing.F) {
	p := blob.MustParams(7) // 3 rows
	q := fuzzQuilt(f, 7)
	var stream []byte
	for j := range q.Index.Columns {
		stream = append(stream, q.Column(j)...)
	}
	f.Add(stream, uint8(q.SymbolSize))
	f.Add([]byte{1, 0xff, 0xff, 0xff, 0xff}, uint8(2))
	f.Add([]byte{1, 1, 0, 0, 0, 0}, uint8(2))
	f.Fuzz(func(t *testing.T, b []byte, s uint8) {
		if s == 0 {
			return
		}
		ix, err := DecodeIndex(p, split(b, int(s)*p.PrimarySymbols()))
		if err != nil {
			return
		}
		if ix.Columns < 1 || ix.Columns > MaxIndexColumns || checkRanges(p, ix) != nil {
			t.Fatalf("accepted %+v", ix)
		}
	})
}

func FuzzReadPatch(f *testing.F) {
	q := fuzzQuilt(f, 10)
	for _, e := range q.Index.Entries {
		var stream []byte
		for j := e.Start; j < e.End; j++ {
			stream = append(stream, q.Column(int(j))...)
		}
		f.Add(stream, uint16(len(q.Column(0))))
	}
	f.Add([]byte{1, 3, 0, 0, 0, 1, 1, 0, 0}, uint16(9))
	f.Fuzz(func(t *testing.T, b []byte, colSize uint16) {
		if colSize == 0 {
			return
		}
		cols := split(b, int(colSize))
		pt, err := ReadPatch(cols)
		if err != nil {
			return
		}
		b = bytes.Join(cols, nil) // with the padding of the last column
		if ValidateIdentifier(pt.Identifier) != nil {
			t.Fatalf("accepted identifier %q", pt.Identifier)
		}
		// A canonical header (only the tags bit, set iff there are tags)
		// re-encodes to the bytes it was read from.
		if mask := b[5]; mask == 0 || (mask == maskHasTags && len(pt.Tags) > 0) {
			pre, err := pt.prefix()
			if err != nil {
				t.Fatal(err)
			}
			if got := append(pre, pt.Data...); !bytes.Equal(got, b[:len(got)]) {
				t.Fatalf("patch %+v re-encodes as %x, read from %x", pt, got, b)
			}
		}
	})
}

func FuzzOpen(f *testing.F) {
	p := blob.MustParams(7)
	q := fuzzQuilt(f, 7)
	f.Add(q.Blob)
	f.Add(make([]byte, p.SourceSymbols()*4))
	f.Fuzz(func(t *testing.T, b []byte) {
		o, err := Open(p, b)
		if err != nil {
			return
		}
		for _, e := range o.Index.Entries {
			_, _ = o.PatchAt(e.Start, e.End)
		}
		_, _ = o.PatchAt(1, uint16(p.SecondarySymbols()))
	})
}
