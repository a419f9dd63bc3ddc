package quilt

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/walrus-go/walrus/blob"
)

// Walrus's own cases for compute_symbol_size (quilt_encoding.rs,
// test_quilt_find_min_length): sizes, columns, rows, index column limit.
func TestComputeSymbolSizeWalrusCases(t *testing.T) {
	cases := []struct {
		sizes            []uint64
		cols, rows, maxI int
		want             int
		err              error
	}{
		{[]uint64{2, 1, 2, 1}, 3, 3, 1, 0, ErrTooManyPatches},
		{[]uint64{1000, 1, 1}, 4, 7, 2, 72, nil},
		{nil, 3, 1, 1, 0, ErrNoPatches},
		{[]uint64{1}, 3, 2, 1, 4, nil},
		{[]uint64{115, 80, 4}, 17, 9, 3, 6, nil},
		{[]uint64{20, 20, 20}, 3, 5, 2, 4, nil},
		{[]uint64{5, 5, 5}, 5, 1, 1, 6, nil},
		{[]uint64{25, 35, 45}, 200, 1, 3, 10, nil},
		{[]uint64{10, 0, 0, 0}, 17, 9, 2, 2, nil},
		{[]uint64{416, 253, 258, 384, 492, 303, 276, 464, 143, 251, 388, 263, 515, 433, 505,
			385, 346, 69, 48, 495, 329, 450, 494, 104, 539, 245, 109, 317, 60}, 34, 16, 3, 32, nil},
	}
	for _, c := range cases {
		got, err := computeSymbolSize(c.sizes, c.cols, c.rows, c.maxI)
		if !errors.Is(err, c.err) || got != c.want {
			t.Errorf("%v in %d×%d (index ≤ %d columns): %d, %v; want %d, %v", c.sizes, c.rows, c.cols, c.maxI, got, err, c.want, c.err)
		}
		if err == nil && !fits(c.sizes, uint64(c.cols), uint64(got*c.rows)) {
			t.Errorf("%v: symbol size %d does not fit", c.sizes, got)
		}
	}
}

// The smallest even symbol size is what the binary search finds whenever it
// fits at all (a brute-force cross-check of the bounds).
func TestComputeSymbolSizeIsMinimal(t *testing.T) {
	for _, n := range []int{4, 7, 10, 13} {
		p := blob.MustParams(n)
		rows, cols := p.PrimarySymbols(), p.SecondarySymbols()
		for seed := range uint64(300) {
			sizes := []uint64{5 + seed%40}
			for i := range int(seed % uint64(cols)) {
				sizes = append(sizes, (seed*7919+uint64(i)*104729)%(1+seed*3))
			}
			got, err := computeSymbolSize(sizes, cols, rows, MaxIndexColumns)
			if err != nil {
				t.Fatal(err)
			}
			want := 2
			for ; ; want += 2 {
				if fits(sizes, uint64(cols), uint64(want*rows)) &&
					(sizes[0]+uint64(want*rows)-1)/uint64(want*rows) <= MaxIndexColumns &&
					want*rows >= indexPrefixSize {
					break
				}
			}
			if got != want {
				t.Errorf("n=%d sizes %v: symbol size %d, the smallest that fits is %d", n, sizes, got, want)
			}
		}
	}
}

// The exact bytes of a tiny quilt, worked out by hand: n=4 (2 rows × 3
// columns), one patch "a" holding "hi". Index: 01 | len 6 | [01 | end 0200 |
// 01 61 | 00]; patch: 01 | len 6 | mask 00 | 0200 | 01 61 | 68 69. Sizes 11
// and 12 give symbol size 6: one column each.
func TestLayoutBytes(t *testing.T) {
	q, err := Encode(blob.MustParams(4), []Patch{{Identifier: "a", Data: []byte("hi")}})
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Join([]string{
		"010600000001", "010600000000", "000000000000", // row 0: columns 0, 1, 2
		"020001610000", "020001616869", "000000000000", // row 1
	}, "")
	if got := hex.EncodeToString(q.Blob); got != want || q.SymbolSize != 6 {
		t.Fatalf("blob %s (s=%d)\nwant %s (s=6)", got, q.SymbolSize, want)
	}
	if !bytes.Equal(q.Column(1), []byte("\x01\x06\x00\x00\x00\x00\x02\x00\x01ahi")) {
		t.Fatalf("column 1 = %x", q.Column(1))
	}
	if e := q.Index.Entries[0]; q.Index.Columns != 1 || e.Start != 1 || e.End != 2 {
		t.Fatalf("index %+v", q.Index)
	}
}
