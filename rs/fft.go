package rs

// fft evaluates, in place, the polynomial whose novel-basis coefficients are
// data[0:size] at the points delta+0 .. delta+size-1 (delta a multiple of
// size). Only outputs below trunc are needed; work for the others is skipped.
// Layers run dist = size/2 .. 1; the butterfly of block r uses
// skew[r+dist+delta-1].
func fft(data [][]byte, size, trunc, delta int) {
	sk := skewTab
	for dist := size >> 1; dist >= 1; dist >>= 1 {
		for r := 0; r < trunc; r += 2 * dist {
			logM := sk[r+dist+delta-1]
			for i := r; i < r+dist; i++ {
				fftButterfly(data[i], data[i+dist], logM)
			}
		}
	}
}

// ifft is the inverse of fft: it turns values at delta+0 .. delta+size-1 into
// novel-basis coefficients, in place. Inputs at trunc and above must be zero;
// blocks made only of those zeros are skipped. Layers run dist = 1 .. size/2.
func ifft(data [][]byte, size, trunc, delta int) {
	sk := skewTab
	for dist := 1; dist < size; dist <<= 1 {
		for r := 0; r < trunc; r += 2 * dist {
			logM := sk[r+dist+delta-1]
			for i := r; i < r+dist; i++ {
				ifftButterfly(data[i], data[i+dist], logM)
			}
		}
	}
}

// derivative replaces the novel-basis coefficients data[0:size] by those of
// (D + 1)·P, where D is the formal derivative. In the Cantor basis the
// subspace polynomials have derivative 1, so D(X_j) = sum over the set bits b
// of j of X_{j-2^b}: coefficient i of D·P is the XOR of the coefficients at
// i|2^b for the bits b clear in i. The decoder only evaluates the result
// where the error locator vanishes, and there (D+1)(Λf) = Λ'f like D(Λf), so
// the identity term is free to keep: each coefficient is XORed in place with
// those above it, which going upwards are still the old values.
func derivative(data [][]byte, size int) {
	for i := 0; i < size; i++ {
		for b := 1; i|b < size; b <<= 1 {
			if i&b == 0 {
				kXor(data[i], data[i|b])
			}
		}
	}
}
