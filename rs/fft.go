package rs

// The transforms work in place on a slab: size shards of w bytes each,
// stored contiguously (shard i is data[i*w:(i+1)*w]). In every layer the two
// halves of a block are contiguous runs of shards, so each block is one
// kernel call with one multiplication table.

// fft evaluates, in place, the polynomial whose novel-basis coefficients are
// the slab's shards at the points delta+0 .. delta+size-1 (delta a multiple
// of size). Only outputs below trunc are needed; work for the others is
// skipped. Layers run dist = size/2 .. 1; the butterfly of block r uses
// skew[r+dist+delta-1].
func fft(data []byte, w, size, trunc, delta int) {
	sk := skewTab
	for dist := size >> 1; dist >= 1; dist >>= 1 {
		span := dist * w
		for r := 0; r < trunc; r += 2 * dist {
			x := data[r*w : r*w+span]
			fftButterfly(x, data[r*w+span:r*w+2*span], sk[r+dist+delta-1])
		}
	}
}

// ifft is the inverse of fft: it turns values at delta+0 .. delta+size-1 into
// novel-basis coefficients, in place. Inputs at trunc and above must be zero;
// blocks made only of those zeros are skipped. Layers run dist = 1 .. size/2.
func ifft(data []byte, w, size, trunc, delta int) {
	sk := skewTab
	for dist := 1; dist < size; dist <<= 1 {
		span := dist * w
		for r := 0; r < trunc; r += 2 * dist {
			x := data[r*w : r*w+span]
			ifftButterfly(x, data[r*w+span:r*w+2*span], sk[r+dist+delta-1])
		}
	}
}

// derivative replaces the novel-basis coefficients in the slab by those of
// (D + 1)·P, where D is the formal derivative. In the Cantor basis the
// subspace polynomials have derivative 1, so D(X_j) = sum over the set bits b
// of j of X_{j-2^b}: coefficient i of D·P is the XOR of the coefficients at
// i|2^b for the bits b clear in i. The decoder only evaluates the result
// where the error locator vanishes, and there (D+1)(Λf) = Λ'f like D(Λf), so
// the identity term is free to keep. (D+1) is computed in place by XORing,
// for i = 1 .. size-1 in order, the run of shards [i, i+lowbit(i)) into
// [i-lowbit(i), i) (TestDerivativeForms checks it against the definition).
func derivative(data []byte, w, size int) {
	for i := 1; i < size; i++ {
		width := i & -i
		kXor(data[(i-width)*w:i*w], data[i*w:(i+width)*w])
	}
}
