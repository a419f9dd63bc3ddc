package rs

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// The active kernels agree with the generic ones on random data and multipliers.
func TestKernelsMatchGeneric(t *testing.T) {
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

// The vector suite passes on the generic kernels too (on amd64 the SIMD ones
// are the default and run in every other test).
func TestVectorsGenericKernels(t *testing.T) {
	if !hasAVX2 {
		t.Skip("generic kernels are already the default")
	}
	useGeneric()
	defer useAVX2()
	TestRawVectors(t)
	TestSmallVectors(t)
	TestDecodeRandomPatterns(t)
}
