package redstuff

import (
	"fmt"
	"math/rand/v2"
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
