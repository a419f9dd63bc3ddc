package rs

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// simdPaths lists the SIMD kernel sets this CPU runs, with how to select them.
func simdPaths() map[string]func() {
	p := map[string]func(){}
	if hasAVX2 {
		p["avx2"] = useAVX2
	}
	if hasGFNI {
		p["avx512-gfni"] = useGFNI
	}
	return p
}

// restoreKernels re-selects the default kernels.
func restoreKernels() {
	switch {
	case hasGFNI:
		useGFNI()
	case hasAVX2:
		useAVX2()
	default:
		useGeneric()
	}
}

// Every SIMD path agrees with the generic kernels on random data and multipliers.
func TestKernelsMatchGeneric(t *testing.T) {
	paths := simdPaths()
	if len(paths) == 0 {
		t.Skip("no SIMD kernels on this CPU")
	}
	defer restoreKernels()
	for name, use := range paths {
		use()
		t.Run(name, testKernelsMatchGeneric)
	}
}

func testKernelsMatchGeneric(t *testing.T) {
	initTables()
	rng := rand.New(rand.NewPCG(5, 5))
	type kernel func(x, y []byte, t *mulTable)
	pairs := []struct {
		name            string
		active, generic kernel
	}{
		{"mulAdd", kMulAdd, mulAddGeneric},
		{"mul", kMul, mulGeneric},
		{"fft", kFFTButterfly, fftButterflyGeneric},
		{"ifft", kIFFTButterfly, ifftButterflyGeneric},
	}
	for trial := 0; trial < 300; trial++ {
		logM := uint16(rng.IntN(order))
		if trial < 3 {
			logM = []uint16{0, 1, modulus}[trial]
		}
		tab := tableFor(logM)
		blocks := 1 + rng.IntN(9)
		for _, p := range pairs {
			x := randShards(rng, 1, blocks*64)[0]
			y := randShards(rng, 1, blocks*64)[0]
			x2, y2 := bytes.Clone(x), bytes.Clone(y)
			p.active(x, y, tab)
			p.generic(x2, y2, tab)
			if !bytes.Equal(x, x2) || !bytes.Equal(y, y2) {
				t.Fatalf("%s (%s) differs from generic for log %d", p.name, Impl(), logM)
			}
		}
		// The tables multiply like the field.
		v := uint16(rng.Uint32())
		if got := tab.lo[v&0xff] ^ tab.hi[v>>8]; got != mulLog(v, logM%modulus) {
			t.Fatalf("table for log %d: %d * = %d", logM, v, got)
		}
	}
	x := randShards(rng, 1, 200)[0]
	y := randShards(rng, 1, 200)[0]
	want := bytes.Clone(x)
	xorGeneric(want, y)
	kXor(x, y)
	if !bytes.Equal(x, want) {
		t.Fatal("xor")
	}
}

// The vector suite passes on every kernel set (the default one runs it in
// the other tests too).
func TestVectorsAllKernels(t *testing.T) {
	paths := simdPaths()
	paths["generic"] = useGeneric
	defer restoreKernels()
	for name, use := range paths {
		use()
		t.Run(name, func(t *testing.T) {
			TestRawVectors(t)
			TestSmallVectors(t)
			TestDecodeRandomPatterns(t)
		})
	}
}

// BenchmarkKernels compares the kernel sets in one run (bytes = both shards):
//
//	go test -run '^$' -bench Kernels -count 6 ./rs | benchstat -col /path -
func BenchmarkKernels(b *testing.B) {
	paths := simdPaths()
	paths["generic"] = useGeneric
	defer restoreKernels()
	initTables()
	rng := rand.New(rand.NewPCG(1, 1))
	x, y := randShards(rng, 1, 8192)[0], randShards(rng, 1, 8192)[0]
	tab := tableFor(12345)
	for _, name := range []string{"generic", "avx2", "avx512-gfni"} {
		use, ok := paths[name]
		if !ok {
			continue
		}
		b.Run("path="+name, func(b *testing.B) {
			use()
			b.SetBytes(int64(len(x) + len(y)))
			for b.Loop() {
				kFFTButterfly(x, y, tab)
			}
		})
	}
}
