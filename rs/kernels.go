package rs

import "sync/atomic"

// blockSize is the packed block: 32 low bytes then 32 high bytes.
const blockSize = 64

// mulTable multiplies by one constant. lo[b] = b·m and hi[b] = (b<<8)·m, so
// x·m = lo[x&0xff] ^ hi[x>>8]. nib holds the same products per nibble for the
// SIMD kernels: nib[0..3] low result bytes, nib[4..7] high result bytes, for
// input nibbles 0 (bits 0-3) .. 3 (bits 12-15).
type mulTable struct {
	lo, hi [256]uint16
	nib    [8][16]byte
	gf     [16]uint64 // GF2P8AFFINEQB matrices, see affineMatrices
}

var mulTables [order]atomic.Pointer[mulTable]

// tableFor returns the multiplication table of the element with logarithm
// logM (0..65534; 65535 is treated as log 0, i.e. multiplication by 1).
func tableFor(logM uint16) *mulTable {
	if t := mulTables[logM].Load(); t != nil {
		return t
	}
	initTables()
	t := new(mulTable)
	lm := logM
	if lm == modulus {
		lm = 0
	}
	for b := range 256 {
		t.lo[b] = mulLog(uint16(b), lm)
		t.hi[b] = mulLog(uint16(b)<<8, lm)
	}
	for p := range 4 {
		for v := range 16 {
			prod := mulLog(uint16(v)<<(4*p), lm)
			t.nib[p][v] = byte(prod)
			t.nib[4+p][v] = byte(prod >> 8)
		}
	}
	t.gf = affineMatrices(lm)
	mulTables[logM].CompareAndSwap(nil, t)
	return mulTables[logM].Load()
}

// The kernels below work on packed shards of equal length (a multiple of 64).
// The generic versions are the reference; kernels_amd64 may replace them.

// mulAddGeneric: x ^= y·m.
func mulAddGeneric(x, y []byte, t *mulTable) {
	for len(y) >= blockSize {
		xb, yb := (*[64]byte)(x), (*[64]byte)(y)
		for i := range 32 {
			p := t.lo[yb[i]] ^ t.hi[yb[32+i]]
			xb[i] ^= byte(p)
			xb[32+i] ^= byte(p >> 8)
		}
		x, y = x[blockSize:], y[blockSize:]
	}
}

// mulGeneric: x = y·m.
func mulGeneric(x, y []byte, t *mulTable) {
	for len(y) >= blockSize {
		xb, yb := (*[64]byte)(x), (*[64]byte)(y)
		for i := range 32 {
			p := t.lo[yb[i]] ^ t.hi[yb[32+i]]
			xb[i] = byte(p)
			xb[32+i] = byte(p >> 8)
		}
		x, y = x[blockSize:], y[blockSize:]
	}
}

// fftButterflyGeneric: x ^= y·m; y ^= x.
func fftButterflyGeneric(x, y []byte, t *mulTable) {
	for len(y) >= blockSize {
		xb, yb := (*[64]byte)(x), (*[64]byte)(y)
		for i := range 32 {
			p := t.lo[yb[i]] ^ t.hi[yb[32+i]]
			xl, xh := xb[i]^byte(p), xb[32+i]^byte(p>>8)
			xb[i], xb[32+i] = xl, xh
			yb[i] ^= xl
			yb[32+i] ^= xh
		}
		x, y = x[blockSize:], y[blockSize:]
	}
}

// ifftButterflyGeneric: y ^= x; x ^= y·m.
func ifftButterflyGeneric(x, y []byte, t *mulTable) {
	for len(y) >= blockSize {
		xb, yb := (*[64]byte)(x), (*[64]byte)(y)
		for i := range 32 {
			yl, yh := yb[i]^xb[i], yb[32+i]^xb[32+i]
			yb[i], yb[32+i] = yl, yh
			p := t.lo[yl] ^ t.hi[yh]
			xb[i] ^= byte(p)
			xb[32+i] ^= byte(p >> 8)
		}
		x, y = x[blockSize:], y[blockSize:]
	}
}

// xorGeneric: x ^= y.
func xorGeneric(x, y []byte) {
	x = x[:len(y)]
	for len(y) >= 8 {
		for i := range 8 {
			x[i] ^= y[i]
		}
		x, y = x[8:], y[8:]
	}
	for i := range y {
		x[i] ^= y[i]
	}
}

// Kernel entry points; the amd64 build swaps in SIMD versions when available.
var (
	kMulAdd        = mulAddGeneric
	kMul           = mulGeneric
	kFFTButterfly  = fftButterflyGeneric
	kIFFTButterfly = ifftButterflyGeneric
	kXor           = xorGeneric
)

// fftButterfly: x ^= y·skew; y ^= x, with the multiply skipped for log 65535.
func fftButterfly(x, y []byte, logM uint16) {
	if logM == modulus {
		kXor(y, x)
		return
	}
	kFFTButterfly(x, y, tableFor(logM))
}

// ifftButterfly: y ^= x; x ^= y·skew, with the multiply skipped for log 65535.
func ifftButterfly(x, y []byte, logM uint16) {
	kXor(y, x)
	if logM != modulus {
		kMulAdd(x, y, tableFor(logM))
	}
}

// affineMatrices returns multiplication by the element with log lm as
// GF(2) bit matrices for GF2P8AFFINEQB over a 64-byte block (32 low bytes,
// then 32 high bytes). Multiplication is GF(2)-linear, so with x = lo | hi<<8:
// product low byte = A_ll·lo ⊕ A_hl·hi, high byte = A_lh·lo ⊕ A_hh·hi.
// The first eight qwords apply A_ll to the low half and A_hh to the high half
// of a block; the next eight apply A_hl and A_lh to the block with its halves
// swapped; XOR gives the product block.
//
// In the instruction, output bit i of a byte is the parity of the input byte
// AND matrix byte 7-i.
func affineMatrices(lm uint16) (m [16]uint64) {
	matrix := func(in, out uint) uint64 { // in, out: 0 = low byte, 8 = high byte
		var a uint64
		for i := range uint(8) {
			var row uint64
			for b := range uint(8) {
				p := mulLog(uint16(1)<<(in+b), lm)
				row |= uint64(p>>(out+i)&1) << b
			}
			a |= row << (8 * (7 - i))
		}
		return a
	}
	all, ahh, ahl, alh := matrix(0, 0), matrix(8, 8), matrix(8, 0), matrix(0, 8)
	for i := range 4 {
		m[i], m[4+i] = all, ahh
		m[8+i], m[12+i] = ahl, alh
	}
	return m
}
