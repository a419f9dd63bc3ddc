package rs

import (
	"encoding/binary"
	"encoding/hex"
	"testing"

	"golang.org/x/crypto/blake2b"
)

func tableDigest(t []uint16) string {
	b := make([]byte, 2*len(t))
	for i, v := range t {
		binary.LittleEndian.PutUint16(b[2*i:], v)
	}
	d := blake2b.Sum256(b)
	return hex.EncodeToString(d[:])
}

// Checkpoints of walrus-protocol.md Appendix B.1.
func TestTableCheckpoints(t *testing.T) {
	initTables()
	if got := tableDigest(skewTab[:]); got != "c461720ffb220f27a5f215fc037e0c93ac11a02995e1feced355688c2cdd5f6d" {
		t.Errorf("skew table digest %s", got)
	}
	if got := tableDigest(logTab[:]); got != "b12ea12d7e19b68b72f6016a906785e71d39c4af387f6e87de9eb7aa977e74bd" {
		t.Errorf("log table digest %s", got)
	}
	if got := tableDigest(expTab[:]); got != "1cd69fc106a7710cb71543e339a52fe587c916c1c8c817ba5186c62c35933dcf" {
		t.Errorf("exp table digest %s", got)
	}
	wantLog := []uint16{0, 21845, 43690, 17476}
	for i, w := range wantLog {
		if logTab[i+1] != w {
			t.Errorf("log[%d] = %d, want %d", i+1, logTab[i+1], w)
		}
	}
	if expTab[1] != 0x4690 {
		t.Errorf("exp[1] = %#x", expTab[1])
	}
	wantSkew := []uint16{65535, 65535, 21845, 65535, 17476, 21845, 34952, 65535, 56797}
	for i, w := range wantSkew {
		if skewTab[i] != w {
			t.Errorf("skew[%d] = %d, want %d", i, skewTab[i], w)
		}
	}
}

func TestFieldArithmetic(t *testing.T) {
	initTables()
	// log and exp are inverse bijections on the non-zero elements.
	seen := make([]bool, order)
	for x := 1; x < order; x++ {
		l := logTab[x]
		if l == modulus || seen[l] || expTab[l] != uint16(x) {
			t.Fatalf("log/exp at %d", x)
		}
		seen[l] = true
	}
	// Multiplication is commutative, associative and distributes over XOR.
	xs := []uint16{1, 2, 3, 0x1234, 0xffff, 0x8000, 0x4690, 77}
	for _, a := range xs {
		if mul(a, 1) != a || mul(a, 0) != 0 {
			t.Fatalf("identity/zero for %d", a)
		}
		for _, b := range xs {
			if mul(a, b) != mul(b, a) {
				t.Fatal("commutative")
			}
			for _, c := range xs {
				if mul(mul(a, b), c) != mul(a, mul(b, c)) {
					t.Fatal("associative")
				}
				if mul(a, b^c) != mul(a, b)^mul(a, c) {
					t.Fatal("distributive")
				}
			}
		}
	}
	if subMod(5, 7) != 65533 || addMod(65534, 1) != 65535 || addMod(65535, 5) != 5 {
		t.Fatal("mod arithmetic")
	}
}

// The derivative of the Cantor-basis subspace polynomials is 1, which makes
// the formal derivative in the novel basis a pure XOR pattern (see derivative).
func TestSubspaceDerivativeIsOne(t *testing.T) {
	initTables()
	for b := 0; b < fieldLen; b++ {
		// W_b'(x) = product of the non-zero elements of the subspace; W_b(2^b) = product of its coset.
		num, den := uint16(1), uint16(1)
		for a := 1; a < 1<<b; a++ {
			num = mul(num, uint16(a))
		}
		for a := 0; a < 1<<b; a++ {
			den = mul(den, uint16(1<<b|a))
		}
		if num != den {
			t.Fatalf("b=%d: W'=%#x, W(2^b)=%#x", b, num, den)
		}
	}
}

// The in-place derivative equals its definition: coefficient i of (D+1)·P is
// c_i XOR the c_{i|2^b} for every bit b clear in i.
func TestDerivativeForms(t *testing.T) {
	initTables()
	for _, n := range []int{1, 2, 4, 8, 64, 2048} {
		const w = 64
		data := make([]byte, n*w)
		for i := range data {
			data[i] = byte(i*131 + i>>8)
		}
		want := make([]byte, n*w)
		for i := range n {
			copy(want[i*w:(i+1)*w], data[i*w:(i+1)*w])
			for b := 1; i|b < n; b <<= 1 {
				if i&b == 0 {
					xorGeneric(want[i*w:(i+1)*w], data[(i|b)*w:(i|b+1)*w])
				}
			}
		}
		derivative(data, w, n)
		for i := range data {
			if data[i] != want[i] {
				t.Fatalf("n=%d: byte %d differs", n, i)
			}
		}
	}
}
