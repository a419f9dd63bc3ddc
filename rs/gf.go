// Package rs is Reed-Solomon erasure coding over GF(2^16), byte for byte the
// code of reed-solomon-simd 3.1.0 that Walrus RS2 uses: the Leopard-RS FF16
// construction (field polynomial 0x1002D in the Cantor basis, the additive FFT
// in the Lin–Chung–Han novel polynomial basis), with both of its variants, the
// high-rate and the low-rate code, and the rule that picks between them.
//
// The code acts element-wise on shards: element t of every recovery shard
// depends only on element t of the original shards. Shards in the packed
// layout this package computes on are sequences of 64-byte blocks, each
// holding 32 GF(2^16) elements as 32 low bytes followed by 32 high bytes;
// this is exactly the reed-solomon-simd layout of shards whose size is a
// multiple of 64. EncodeBytes and DecodeBytes accept any even shard size and
// convert the trailing partial block (t/2 low bytes then t/2 high bytes).
//
// The package is pure: no I/O, no goroutines, no logging.
package rs

import (
	"math/bits"
	"sync"
)

const (
	order    = 1 << 16
	modulus  = order - 1 // also the "log of zero" marker: multiply is skipped
	polynom  = 0x1002D
	fieldLen = 16
)

// cantorBasis maps the 16 bits of an element index to field elements.
var cantorBasis = [fieldLen]uint16{
	0x0001, 0xACCA, 0x3C0E, 0x163E, 0xC582, 0xED2E, 0x914C, 0x4012,
	0x6C98, 0x10D8, 0x6A72, 0xB900, 0xFDB8, 0xFB34, 0xFF38, 0x991E,
}

var (
	tablesOnce sync.Once
	logTab     *[order]uint16 // logTab[0] = modulus
	expTab     *[order]uint16 // expTab[modulus] = expTab[0] = 1
	skewTab    *[modulus]uint16
)

func initTables() {
	tablesOnce.Do(buildTables)
}

func buildTables() {
	var lg, ex [order]uint16
	// Logarithms in the polynomial basis, by running the LFSR from 1.
	var polyLog [order]uint16
	state := uint32(1)
	for i := range uint32(modulus) {
		polyLog[state] = uint16(i)
		state <<= 1
		if state >= order {
			state ^= polynom
		}
	}
	polyLog[0] = modulus
	// Element index -> polynomial-basis value through the Cantor basis.
	var cantor [order]uint16
	for b := range fieldLen {
		w := 1 << b
		for j := range w {
			cantor[j+w] = cantor[j] ^ cantorBasis[b]
		}
	}
	for x := range order {
		lg[x] = polyLog[cantor[x]]
	}
	for x := range order {
		ex[lg[x]] = uint16(x)
	}
	ex[modulus] = ex[0]
	logTab, expTab = &lg, &ex
	skewTab = buildSkew()
}

// addMod adds logarithms modulo 65535, leaving 65535 for a sum of 65535
// (as Leopard does; expTab[65535] = expTab[0] makes that harmless).
func addMod(a, b uint16) uint16 {
	s := uint32(a) + uint32(b)
	return uint16(s + s>>16)
}

// subMod subtracts logarithms modulo 65535 (32-bit wrap, then fold).
func subMod(a, b uint16) uint16 {
	d := uint32(a) - uint32(b)
	return uint16(d + d>>16)
}

// mulLog multiplies x by the element whose logarithm is logM.
func mulLog(x, logM uint16) uint16 {
	if x == 0 {
		return 0
	}
	return expTab[addMod(logTab[x], logM)]
}

// mul multiplies two field elements.
func mul(a, b uint16) uint16 {
	if a == 0 || b == 0 {
		return 0
	}
	return expTab[addMod(logTab[a], logTab[b])]
}

// logDiv returns log(a/b) in 0..65534 for non-zero a and b.
func logDiv(a, b uint16) uint16 {
	d := int(logTab[a]) - int(logTab[b])
	if d < 0 {
		d += modulus
	}
	return uint16(d)
}

// buildSkew computes the FFT skew factors (as logarithms) in closed form:
// for j in 0..65534 let i = trailing zeros of j+1 and p = j+1-2^i; then
// skew[j] = log(W_i(p) / W_i(2^i)), where W_i is the subspace polynomial
// vanishing on the elements 0..2^i-1, and 65535 (zero) when p = 0.
// W_i is GF(2)-linear, so W_i(p) is the XOR of W_i at the bits of p, and
// W_{i+1}(x) = W_i(x)·(W_i(x) ⊕ W_i(2^i)).
func buildSkew() *[modulus]uint16 {
	var w [fieldLen][fieldLen]uint16 // w[i][b] = W_i(2^b)
	for b := range fieldLen {
		w[0][b] = 1 << b
	}
	for i := 0; i+1 < fieldLen; i++ {
		for b := range fieldLen {
			w[i+1][b] = mul(w[i][b], w[i][b]^w[i][i])
		}
	}
	var sk [modulus]uint16
	for j := range modulus {
		v := uint32(j + 1)
		i := bits.TrailingZeros32(v)
		p := v &^ (1 << i)
		if p == 0 {
			sk[j] = modulus
			continue
		}
		var wp uint16
		for q := p; q != 0; q &= q - 1 {
			wp ^= w[i][bits.TrailingZeros32(q)]
		}
		sk[j] = logDiv(wp, w[i][i])
	}
	return &sk
}
