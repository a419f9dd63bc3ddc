package rs

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/klauspost/reedsolomon"
)

// klauspost/reedsolomon's Leopard GF(2^16) code is byte-identical to the high
// rate (64-byte multiples only), and differs from the low rate: a
// cross-check independent of our vectors.
func TestCrossCheckKlauspost(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	shapes := [][2]int{{7, 3}, {667, 333}, {201, 100}, {67, 33}, {5, 5}, {100, 28}, {4, 6}, {334, 666}, {101, 200}}
	for _, sh := range shapes {
		k, r := sh[0], sh[1]
		c, _ := New(k, r)
		size := 64 * (1 + rng.IntN(4))
		orig := randShards(rng, k, size)
		ours, err := c.EncodeBytes(orig)
		if err != nil {
			t.Fatal(err)
		}
		kp, err := reedsolomon.New(k, r, reedsolomon.WithLeopardGF16(true))
		if err != nil {
			t.Fatal(err)
		}
		all := append(append([][]byte{}, orig...), make([][]byte, r)...)
		for i := k; i < k+r; i++ {
			all[i] = make([]byte, size)
		}
		if err := kp.Encode(all); err != nil {
			t.Fatal(err)
		}
		same := true
		for i := range r {
			same = same && bytes.Equal(all[k+i], ours[i])
		}
		if same != c.High() {
			t.Errorf("k=%d r=%d (high=%v): klauspost agrees = %v", k, r, c.High(), same)
		}
	}
}
