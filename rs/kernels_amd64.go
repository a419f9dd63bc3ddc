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

func xorSubtle(x, y []byte) { subtle.XORBytes(x, x[:len(y)], y) }

// hasAVX2 is whether the SIMD kernels run (tests compare both paths).
var hasAVX2 = cpu.X86.HasAVX2

func init() {
	kXor = xorSubtle
	if hasAVX2 {
		useAVX2()
	}
}

func useAVX2() {
	kMulAdd = func(x, y []byte, t *mulTable) { mulAddAVX2(x, y, &t.nib) }
	kMul = func(x, y []byte, t *mulTable) { mulAVX2(x, y, &t.nib) }
	kFFTButterfly = func(x, y []byte, t *mulTable) { fftButterflyAVX2(x, y, &t.nib) }
	kIFFTButterfly = func(x, y []byte, t *mulTable) { ifftButterflyAVX2(x, y, &t.nib) }
}

func useGeneric() {
	kMulAdd, kMul, kFFTButterfly, kIFFTButterfly = mulAddGeneric, mulGeneric, fftButterflyGeneric, ifftButterflyGeneric
}

// Impl names the active kernels.
func Impl() string {
	if hasAVX2 {
		return "avx2"
	}
	return "generic"
}
