package quilt

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/redstuff"
)

// randomPatches returns count patches with random sizes in [minSize, maxSize],
// every third one with tags.
func randomPatches(rng *rand.Rand, count, minSize, maxSize int) []Patch {
	out := make([]Patch, count)
	for i := range out {
		data := make([]byte, minSize+rng.IntN(maxSize-minSize+1))
		for j := range data {
			data[j] = byte(rng.Uint32())
		}
		out[i] = Patch{Identifier: fmt.Sprintf("file-%04d-%x.bin", rng.IntN(10000), i), Data: data}
		if i%3 == 0 {
			out[i].Tags = map[string]string{"kind": []string{"image", "text"}[i%2], "n": fmt.Sprint(i), "longer-key": "v"}
		}
	}
	return out
}

// samePatch compares patches, treating nil and empty tags alike.
func samePatch(a, b Patch) bool {
	return a.Identifier == b.Identifier && bytes.Equal(a.Data, b.Data) &&
		(len(a.Tags) == 0 && len(b.Tags) == 0 || maps.Equal(a.Tags, b.Tags))
}

// checkRoundTrip encodes the patches as a quilt, encodes the quilt blob with
// RedStuff, and reads the index and every patch back from secondary slivers
// alone: the index from the first columns, each patch from its own columns,
// by identifier and by patch ID. It returns the quilt.
func checkRoundTrip(t *testing.T, n int, patches []Patch) *Quilt {
	t.Helper()
	p := blob.MustParams(n)
	q, err := Encode(p, patches)
	if err != nil {
		t.Fatalf("n=%d, %d patches: %v", n, len(patches), err)
	}
	if len(q.Blob) != p.SourceSymbols()*q.SymbolSize {
		t.Fatalf("blob of %d bytes, want %d", len(q.Blob), p.SourceSymbols()*q.SymbolSize)
	}
	enc, err := redstuff.NewEncoder(p)
	if err != nil {
		t.Fatal(err)
	}
	x, err := enc.Encode(q.Blob)
	if err != nil {
		t.Fatal(err)
	}
	if x.SymbolSize != q.SymbolSize {
		t.Fatalf("RedStuff picked symbol size %d for the quilt blob, the quilt %d", x.SymbolSize, q.SymbolSize)
	}
	secondary := func(from, to int) [][]byte {
		cols := make([][]byte, 0, to-from)
		for j := from; j < to; j++ {
			s := x.Secondary(j)
			cols = append(cols, s.Data)
		}
		return cols
	}

	// The index, from column 0 and then the index columns only.
	k, err := IndexColumns(secondary(0, 1)[0])
	if err != nil || k != q.Index.Columns || k < 1 || k > MaxIndexColumns {
		t.Fatalf("IndexColumns = %d, %v; want %d", k, err, q.Index.Columns)
	}
	ix, err := DecodeIndex(p, secondary(0, k))
	if err != nil {
		t.Fatal(err)
	}
	if !sameIndex(ix, &q.Index) {
		t.Fatalf("index from slivers %+v\nwant %+v", ix, q.Index)
	}
	if !slices.IsSortedFunc(ix.Entries, func(a, b Entry) int { return strings.Compare(a.Identifier, b.Identifier) }) {
		t.Fatal("index not sorted by identifier")
	}

	// Every patch, from its columns only, by identifier and by patch ID.
	for _, want := range patches {
		e, err := ix.Lookup(want.Identifier)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ReadPatch(secondary(int(e.Start), int(e.End)))
		if err != nil || !samePatch(got, want) {
			t.Fatalf("patch %s by identifier: %v (%d bytes, want %d)", short(want.Identifier), err, len(got.Data), len(want.Data))
		}
		id, err := ParsePatchID(e.PatchID(x.Metadata.ID).String())
		if err != nil || id.Quilt != x.Metadata.ID || id.Check(p) != nil {
			t.Fatalf("patch ID of %s: %v", short(want.Identifier), err)
		}
		got, err = ReadPatch(secondary(int(id.Start), int(id.End)))
		if err != nil || !samePatch(got, want) {
			t.Fatalf("patch %s by patch ID: %v", short(want.Identifier), err)
		}
		if e2, err := ix.ByRange(id.Start, id.End); err != nil || e2.Identifier != want.Identifier {
			t.Fatalf("ByRange(%d, %d) = %v, %v", id.Start, id.End, e2.Identifier, err)
		}
	}

	// The whole blob, as a reader that decoded it would see it.
	o, err := Open(p, q.Blob)
	if err != nil {
		t.Fatal(err)
	}
	if !sameIndex(&o.Index, &q.Index) || o.SymbolSize != q.SymbolSize {
		t.Fatal("Open: another index or symbol size")
	}
	all, err := o.Patches()
	if err != nil || len(all) != len(patches) {
		t.Fatalf("Open: %d patches, %v", len(all), err)
	}
	for i, e := range o.Index.Entries {
		if all[i].Identifier != e.Identifier {
			t.Fatalf("patch %d is %s, the index says %s", i, all[i].Identifier, e.Identifier)
		}
		if j := int(e.Start); !bytes.Equal(o.Column(j), secondary(j, j+1)[0]) {
			t.Fatalf("column %d differs from secondary sliver %d", j, j)
		}
	}
	return q
}

func sameIndex(a, b *Index) bool {
	return a.Columns == b.Columns && slices.EqualFunc(a.Entries, b.Entries, func(x, y Entry) bool {
		return x.Identifier == y.Identifier && x.Start == y.Start && x.End == y.End &&
			(len(x.Tags) == 0 && len(y.Tags) == 0 || maps.Equal(x.Tags, y.Tags))
	})
}

func TestRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	cases := []struct {
		n, count, minSize, maxSize int
	}{
		{4, 1, 0, 0},
		{4, 2, 1, 40},
		{7, 3, 5, 16},
		{7, 4, 1024, 10240},
		{10, 6, 0, 2},
		{10, 1, 100000, 100000},
		{100, 60, 1, 1000},
		{100, 66, 0, 5000},
		{1000, 1, 0, 0},
		{1000, 25, 10000, 100000},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("n=%d/%d×%d-%dB", c.n, c.count, c.minSize, c.maxSize), func(t *testing.T) {
			checkRoundTrip(t, c.n, randomPatches(rng, c.count, c.minSize, c.maxSize))
		})
	}
}

// The example: 600 files of 10 KiB at n=1000, each read back from its
// own secondary slivers, by identifier and by patch ID.
func TestRoundTrip600Files(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	patches := randomPatches(rng, 600, 10240, 10240)
	q := checkRoundTrip(t, 1000, patches)
	// 10,240 bytes and about 30 of header fit one column of 334 symbols of 32 bytes.
	if q.SymbolSize != 32 {
		t.Fatalf("symbol size %d, want 32", q.SymbolSize)
	}
	for _, e := range q.Index.Entries {
		if e.End-e.Start != 1 {
			t.Fatalf("%s takes columns [%d, %d), want one", e.Identifier, e.Start, e.End)
		}
	}
}

// The most patches a quilt holds, k_s − 1, for each shard count; one more is an error.
func TestMaxPatches(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{4, 7, 10, 100, 1000} {
		p := blob.MustParams(n)
		max := MaxPatches(p)
		patches := randomPatches(rng, max+1, 0, 64)
		q := checkRoundTrip(t, n, patches[:max])
		if last := q.Index.Entries[max-1].End; int(last) != p.SecondarySymbols() {
			t.Errorf("n=%d: %d patches end at column %d, want all %d", n, max, last, p.SecondarySymbols())
		}
		if _, err := Encode(p, patches); !errors.Is(err, ErrTooManyPatches) {
			t.Errorf("n=%d, %d patches: %v, want ErrTooManyPatches", n, max+1, err)
		}
	}
}

func TestEncodeDoesNotReorderInput(t *testing.T) {
	in := []Patch{{Identifier: "b"}, {Identifier: "a"}}
	if _, err := Encode(blob.MustParams(7), in); err != nil {
		t.Fatal(err)
	}
	if in[0].Identifier != "b" {
		t.Fatal("Encode sorted its input")
	}
}

func TestSelectByTag(t *testing.T) {
	p := blob.MustParams(10)
	q, err := Encode(p, []Patch{
		{Identifier: "cat.jpg", Tags: map[string]string{"type": "image", "animal": "cat"}, Data: []byte("meow")},
		{Identifier: "dog.jpg", Tags: map[string]string{"type": "image"}, Data: []byte("woof")},
		{Identifier: "notes.txt", Tags: map[string]string{"type": "text"}, Data: []byte("notes")},
		{Identifier: "plain", Data: []byte("no tags")},
	})
	if err != nil {
		t.Fatal(err)
	}
	images, err := q.PatchesByTag("type", "image")
	if err != nil || len(images) != 2 || images[0].Identifier != "cat.jpg" || images[1].Identifier != "dog.jpg" {
		t.Fatalf("type=image: %+v, %v", images, err)
	}
	if got := q.Index.ByTag("animal", "dog"); len(got) != 0 {
		t.Fatalf("animal=dog: %+v", got)
	}
	pt, err := q.Patch("plain")
	if err != nil || pt.Tags != nil || string(pt.Data) != "no tags" {
		t.Fatalf("plain: %+v, %v", pt, err)
	}
	if _, err := q.Patch("missing"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing: %v", err)
	}
}
