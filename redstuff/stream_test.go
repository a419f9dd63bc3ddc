package redstuff

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/walrus-go/walrus/blob"
)

// TestEncodeStreamMatchesEncode: for many shard counts, sizes and block
// sizes (down to one row or column per block), the streaming encoder gives
// the in-memory encoder's metadata and every sliver byte for byte.
func TestEncodeStreamMatchesEncode(t *testing.T) {
	cases := []struct {
		n     int
		sizes []int
	}{
		{4, []int{0, 1, 5, 100, 1000}},
		{7, []int{1, 63, 64, 65, 2000}},
		{10, []int{3, 999, 12345}},
		{31, []int{1, 4096, 100_000}},
		{100, []int{1 << 20}},
	}
	rng := rand.New(rand.NewPCG(7, 9))
	for _, c := range cases {
		p, err := blob.NewParams(c.n)
		if err != nil {
			t.Fatal(err)
		}
		for _, workers := range []int{1, 3} {
			enc, err := NewEncoder(p, WithWorkers(workers))
			if err != nil {
				t.Fatal(err)
			}
			for _, size := range c.sizes {
				data := make([]byte, size)
				for i := range data {
					data[i] = byte(rng.Uint32())
				}
				want, err := enc.Encode(data)
				if err != nil {
					t.Fatal(err)
				}
				s := want.SymbolSize
				for _, block := range []int{1, s * p.SecondarySymbols() * 2, 1 << 20} {
					t.Run(fmt.Sprintf("n%d/w%d/%dB/block%d", c.n, workers, size, block), func(t *testing.T) {
						need, err := enc.ScratchSize(uint64(size))
						if err != nil {
							t.Fatal(err)
						}
						scratch := make(MemScratch, need)
						got, err := enc.EncodeStream(bytes.NewReader(data), uint64(size), scratch, block)
						if err != nil {
							t.Fatal(err)
						}
						if got.Metadata.ID != want.Metadata.ID {
							t.Fatalf("blob ID %s, want %s", got.Metadata.ID, want.Metadata.ID)
						}
						compareSlivers(t, got, want)
					})
				}
			}
		}
	}
}

type sliverReader interface {
	SliverLen(blob.SliverType) int
	N() int
	ReadSlivers(blob.SliverType, []int, [][]byte) error
}

func compareSlivers(t *testing.T, got sliverReader, want *Encoded) {
	t.Helper()
	n := want.N()
	for _, typ := range []blob.SliverType{blob.Primary, blob.Secondary} {
		// All at once, ascending, then descending (runs either way), then one by one.
		asc := make([]int, n)
		for i := range asc {
			asc[i] = i
		}
		desc := make([]int, n)
		for i := range desc {
			desc[i] = n - 1 - i
		}
		for _, order := range [][]int{asc, desc, {n / 2}, {0, n - 1, 1}} {
			bufs := make([][]byte, len(order))
			for i := range bufs {
				bufs[i] = make([]byte, got.SliverLen(typ))
			}
			if err := got.ReadSlivers(typ, order, bufs); err != nil {
				t.Fatal(err)
			}
			for i, j := range order {
				if !bytes.Equal(bufs[i], want.Sliver(typ, j).Data) {
					t.Fatalf("%s sliver %d differs", typ, j)
				}
			}
		}
	}
}

// TestEncodeStreamErrors: a source shorter than the size it claims, a
// scratch space too small, and bad ReadSlivers arguments are errors.
func TestEncodeStreamErrors(t *testing.T) {
	p, _ := blob.NewParams(10)
	enc, _ := NewEncoder(p)
	need, _ := enc.ScratchSize(1000)
	if _, err := enc.EncodeStream(bytes.NewReader(make([]byte, 999)), 1000, make(MemScratch, need), 0); err == nil {
		t.Error("short source: no error")
	}
	if _, err := enc.EncodeStream(bytes.NewReader(make([]byte, 1000)), 1000, make(MemScratch, need-1), 0); err == nil {
		t.Error("small scratch: no error")
	}
	if _, err := enc.EncodeStream(bytes.NewReader(nil), p.MaxBlobSize()+1, make(MemScratch, 0), 0); err == nil {
		t.Error("too large: no error")
	}
	x, err := enc.EncodeStream(bytes.NewReader(make([]byte, 1000)), 1000, make(MemScratch, need), 0)
	if err != nil {
		t.Fatal(err)
	}
	l := x.SliverLen(blob.Primary)
	if err := x.ReadSlivers(blob.Primary, []int{10}, [][]byte{make([]byte, l)}); err == nil {
		t.Error("index n: no error")
	}
	if err := x.ReadSlivers(blob.Primary, []int{1}, [][]byte{make([]byte, l-1)}); err == nil {
		t.Error("short buffer: no error")
	}
	if err := x.ReadSlivers(blob.Primary, []int{1, 2}, [][]byte{make([]byte, l)}); err == nil {
		t.Error("count mismatch: no error")
	}
}

// TestMetadataStream: the metadata alone, with the smaller scratch space.
func TestMetadataStream(t *testing.T) {
	p, _ := blob.NewParams(13)
	enc, _ := NewEncoder(p)
	for _, size := range []int{0, 7, 5000, 123457} {
		data := make([]byte, size)
		for i := range data {
			data[i] = byte(i * 31)
		}
		want, err := enc.Metadata(data)
		if err != nil {
			t.Fatal(err)
		}
		need, _ := enc.MetadataScratchSize(uint64(size))
		full, _ := enc.ScratchSize(uint64(size))
		if need >= full {
			t.Fatalf("metadata scratch %d not below %d", need, full)
		}
		got, err := enc.MetadataStream(bytes.NewReader(data), uint64(size), make(MemScratch, need), 1000)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != want.ID {
			t.Fatalf("%d bytes: blob ID %s, want %s", size, got.ID, want.ID)
		}
	}
}

// TestDecodeRows: systematic rows rebuilt in column blocks from any k_p
// primary slivers equal the encoder's, and too few slivers is an error.
func TestDecodeRows(t *testing.T) {
	for _, n := range []int{4, 10, 40} {
		p, _ := blob.NewParams(n)
		enc, _ := NewEncoder(p, WithWorkers(2))
		kp := p.PrimarySymbols()
		for _, size := range []int{1, 999, 54321} {
			data := make([]byte, size)
			for i := range data {
				data[i] = byte(i*7 + size)
			}
			x, err := enc.Encode(data)
			if err != nil {
				t.Fatal(err)
			}
			l := x.SliverLen(blob.Primary)
			// The last k_p slivers (every systematic one missing when n > 2k_p), plus a duplicate.
			var have []int
			for i := n - kp; i < n; i++ {
				have = append(have, i)
			}
			have = append([]int{n - 1}, have...)
			sl := make(MemScratch, len(have)*l)
			for j, i := range have {
				copy(sl[j*l:], x.Primary(i).Data)
			}
			var want []int
			for r := range kp {
				want = append(want, r)
			}
			for _, block := range []int{1, 3 * l, 0} {
				out := make(MemScratch, len(want)*l)
				if err := enc.DecodeRows(&x.Metadata, have, sl, want, out, block); err != nil {
					t.Fatalf("n=%d size=%d block=%d: %v", n, size, block, err)
				}
				for j, r := range want {
					if !bytes.Equal(out[j*l:(j+1)*l], x.Primary(r).Data) {
						t.Fatalf("n=%d size=%d block=%d: row %d differs", n, size, block, r)
					}
				}
			}
			if err := enc.DecodeRows(&x.Metadata, have[1:kp], sl[l:], want, make(MemScratch, len(want)*l), 0); err == nil {
				t.Errorf("n=%d: k_p-1 distinct slivers decoded", n)
			}
			if err := enc.DecodeRows(&x.Metadata, have, sl, []int{kp}, make(MemScratch, l), 0); err == nil {
				t.Errorf("n=%d: a parity row was accepted as wanted", n)
			}
		}
	}
}

// failingScratch fails every write after the first few.
type failingScratch struct {
	MemScratch
	left int
}

func (f *failingScratch) WriteAt(p []byte, off int64) (int, error) {
	if f.left <= 0 {
		return 0, errors.New("disk full")
	}
	f.left--
	return f.MemScratch.WriteAt(p, off)
}

// TestEncodeStreamScratchFailure: a scratch space that fails is an error,
// in either pass, and nothing hangs.
func TestEncodeStreamScratchFailure(t *testing.T) {
	p, _ := blob.NewParams(13)
	enc, _ := NewEncoder(p)
	data := make([]byte, 200_000)
	need, _ := enc.ScratchSize(uint64(len(data)))
	for _, left := range []int{0, 3, 40} {
		sc := &failingScratch{MemScratch: make(MemScratch, need), left: left}
		if _, err := enc.EncodeStream(bytes.NewReader(data), uint64(len(data)), sc, 2000); err == nil {
			t.Errorf("%d writes allowed: no error", left)
		}
	}
}
