//go:build !purego

package rs

import (
	"crypto/subtle"

	"golang.org/x/sys/cpu"
)

// AVX2 kernels: a constant multiply of 32 elements is eight VPSHUFB nibble
// lookups (four input nibbles × low and high result bytes), so a packed
// block is exactly two YMM registers.

//go:noescape
func mulAddAVX2(x, y []byte, t *[8][16]byte)

//go:noescape
func mulAVX2(x, y []byte, t *[8][16]byte)

//go:noescape
func fftButterflyAVX2(x, y []byte, t *[8][16]byte)

//go:noescape
func ifftButterflyAVX2(x, y []byte, t *[8][16]byte)

//go:noescape
func mulAddGFNI(x, y []byte, t *[16]uint64)

//go:noescape
func mulGFNI(x, y []byte, t *[16]uint64)

//go:noescape
func fftButterflyGFNI(x, y []byte, t *[16]uint64)

//go:noescape
func ifftButterflyGFNI(x, y []byte, t *[16]uint64)

func xorSubtle(x, y []byte) { subtle.XORBytes(x, x[:len(y)], y) }

// Which SIMD kernels this CPU can run (tests compare every path).
var (
	hasAVX2 = cpu.X86.HasAVX2
	hasGFNI = cpu.X86.HasAVX512F && cpu.X86.HasAVX512GFNI
	impl    = "generic"
)

func init() {
	kXor = xorSubtle
	switch {
	case hasGFNI:
		useGFNI()
	case hasAVX2:
		useAVX2()
	}
}

func useGFNI() {
	kMulAdd = func(x, y []byte, t *mulTable) { mulAddGFNI(x, y, &t.gf) }
	kMul = func(x, y []byte, t *mulTable) { mulGFNI(x, y, &t.gf) }
	kFFTButterfly = func(x, y []byte, t *mulTable) { fftButterflyGFNI(x, y, &t.gf) }
	kIFFTButterfly = func(x, y []byte, t *mulTable) { ifftButterflyGFNI(x, y, &t.gf) }
	impl = "avx512-gfni"
}

func useAVX2() {
	kMulAdd = func(x, y []byte, t *mulTable) { mulAddAVX2(x, y, &t.nib) }
	kMul = func(x, y []byte, t *mulTable) { mulAVX2(x, y, &t.nib) }
	kFFTButterfly = func(x, y []byte, t *mulTable) { fftButterflyAVX2(x, y, &t.nib) }
	kIFFTButterfly = func(x, y []byte, t *mulTable) { ifftButterflyAVX2(x, y, &t.nib) }
	impl = "avx2"
}

func useGeneric() {
	kMulAdd, kMul, kFFTButterfly, kIFFTButterfly = mulAddGeneric, mulGeneric, fftButterflyGeneric, ifftButterflyGeneric
	impl = "generic"
}

// Impl names the active kernels.
func Impl() string { return impl }
