package redstuff

import (
	"fmt"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/walrus-go/walrus/blob"
)

// Benchmarks at n = 1000 for the sizes of the issue. Run with, e.g.:
//
//	go test -run '^$' -bench . -benchtime 3x -count 6 ./redstuff | tee new.txt; benchstat new.txt
var benchSizes = []int{1, 1 << 20, 32 << 20, 256 << 20}

func benchName(size int) string {
	switch {
	case size >= 1<<20:
		return fmt.Sprintf("%dMiB", size>>20)
	}
	return fmt.Sprintf("%dB", size)
}

// BenchmarkEncodeMetadata: encode, metadata and blob ID (what blob-id does).
func BenchmarkEncodeMetadata(b *testing.B) {
	enc, _ := NewEncoder(blob.MustParams(1000))
	for _, size := range benchSizes {
		b.Run(benchName(size), func(b *testing.B) {
			data := randBytes(rand.New(rand.NewPCG(1, 2)), size)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := enc.Metadata(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDecode: decode from the k_p non-systematic primary slivers (the
// worst case) with the Default consistency check.
func BenchmarkDecode(b *testing.B) {
	p := blob.MustParams(1000)
	enc, _ := NewEncoder(p)
	for _, size := range benchSizes {
		b.Run(benchName(size), func(b *testing.B) {
			data := randBytes(rand.New(rand.NewPCG(1, 2)), size)
			x, err := enc.Encode(data)
			if err != nil {
				b.Fatal(err)
			}
			var sl []Sliver
			for i := p.N() - p.PrimarySymbols(); i < p.N(); i++ {
				sl = append(sl, x.Primary(i))
			}
			b.SetBytes(int64(size))
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := enc.Decode(&x.Metadata, sl, ConsistencyDefault); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkEncodeStream: the streaming encoder from a file with its scratch
// space in a temporary file (what a store of a file does), against Encode
// of the same bytes in memory (the "memory" rows).
func BenchmarkEncodeStream(b *testing.B) {
	enc, _ := NewEncoder(blob.MustParams(1000))
	for _, size := range []int{32 << 20, 256 << 20} {
		data := randBytes(rand.New(rand.NewPCG(1, 2)), size)
		src, err := os.CreateTemp(b.TempDir(), "blob")
		if err != nil {
			b.Fatal(err)
		}
		if _, err := src.Write(data); err != nil {
			b.Fatal(err)
		}
		b.Run("file/"+benchName(size), func(b *testing.B) {
			need, _ := enc.ScratchSize(uint64(size))
			scratch, err := os.CreateTemp(b.TempDir(), "scratch")
			if err != nil {
				b.Fatal(err)
			}
			defer scratch.Close()
			if err := scratch.Truncate(need); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(size))
			for b.Loop() {
				if _, err := enc.EncodeStream(src, uint64(size), scratch, 0); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("memory/"+benchName(size), func(b *testing.B) {
			b.SetBytes(int64(size))
			for b.Loop() {
				if _, err := enc.Encode(data); err != nil {
					b.Fatal(err)
				}
			}
		})
		src.Close()
	}
}

// BenchmarkVerifySliver: a node's check of one uploaded sliver of a
// 256 MiB blob at n = 1000 (RS expansion of the sliver, n leaf hashes, the
// Merkle root).
func BenchmarkVerifySliver(b *testing.B) {
	p := blob.MustParams(1000)
	enc, _ := NewEncoder(p)
	size := 256 << 20
	s, _ := p.SymbolSize(uint64(size))
	for _, t := range []blob.SliverType{blob.Primary, blob.Secondary} {
		b.Run(t.String(), func(b *testing.B) {
			k := p.SecondarySymbols()
			if t == blob.Secondary {
				k = p.PrimarySymbols()
			}
			sl := Sliver{Type: t, Index: 1, SymbolSize: uint16(s), Data: randBytes(rand.New(rand.NewPCG(1, 2)), k*s)}
			b.SetBytes(int64(len(sl.Data)))
			for b.Loop() {
				_ = enc.SliverHash(&sl)
			}
		})
	}
}

// BenchmarkDecodeRows: every systematic row rebuilt, in column blocks, from
// the k_p non-systematic primary slivers (what a streaming read that got
// none of the systematic slivers does).
func BenchmarkDecodeRows(b *testing.B) {
	p := blob.MustParams(1000)
	enc, _ := NewEncoder(p)
	kp := p.PrimarySymbols()
	for _, size := range []int{1 << 20, 32 << 20} {
		b.Run(benchName(size), func(b *testing.B) {
			data := randBytes(rand.New(rand.NewPCG(1, 2)), size)
			x, err := enc.Encode(data)
			if err != nil {
				b.Fatal(err)
			}
			l := x.SliverLen(blob.Primary)
			var have, want []int
			for i := p.N() - kp; i < p.N(); i++ {
				have = append(have, i)
			}
			for r := range kp {
				want = append(want, r)
			}
			sl := make(MemScratch, len(have)*l)
			for j, i := range have {
				copy(sl[j*l:], x.Primary(i).Data)
			}
			out := make(MemScratch, len(want)*l)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if err := enc.DecodeRows(&x.Metadata, have, sl, want, out, 0); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
