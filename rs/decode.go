package rs

import (
	"fmt"
	"math/bits"
	"sync"
)

// Decoding (both rates) places every shard at a point of a larger additive
// FFT domain of size N, where the codeword is the evaluation of a polynomial
// of low degree, and runs the classic erasure decoder there:
//
//   - low rate (m = next_pow2(k)): originals at 0..k-1, known zeros at k..m-1,
//     recovery shards at m..m+r-1; the polynomial has degree < m, and the
//     points m+r..N-1 are unknown.
//   - high rate (m = next_pow2(r)): recovery shards at 0..r-1, unknown
//     (truncated) values at r..m-1, originals at m..m+k-1, known zeros above;
//     the polynomial has degree < N-m.
//
// With E the unknown points and Λ(x) = Π_{e∈E}(x - e), the products Λ(i)·v_i
// are the values of Λf at every point (zero at E); an IFFT gives Λf's
// coefficients, the formal derivative (Λf)' = Λ'f + Λf', and an FFT its values,
// which at e ∈ E equal Λ'(e)·f(e). The logarithms of Λ(i) and Λ'(e) are one
// XOR-convolution of the erasure indicator with the log table, computed with
// Walsh–Hadamard transforms modulo 65535.

// position maps shard index s (originals first, then recovery) to its point.
func (c *Code) position(s int) int {
	if c.high {
		if s < c.k {
			return c.m + s
		}
		return s - c.k
	}
	if s < c.k {
		return s
	}
	return c.m + s - c.k
}

// domain returns N and the end of the points that can carry data.
func (c *Code) domain() (n, end int) {
	if c.high {
		end = c.m + c.k
	} else {
		end = c.m + c.r
	}
	return nextPow2(end), end
}

// ReconstructData fills in missing original shards. shards holds the k
// originals then the r recovery shards, in the packed layout; a shard of
// length 0 is missing, and if it has the capacity its memory is reused.
// At least k shards must be present; all present shards are used and must
// be consistent (a decoder cannot tell a wrong shard from a right one:
// callers authenticate the result). Missing recovery shards stay missing.
func (c *Code) ReconstructData(shards [][]byte) error {
	l, err := c.checkShards(shards)
	if err != nil {
		return err
	}
	var missing []int
	for i := range c.k {
		if len(shards[i]) == 0 {
			missing = append(missing, i)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	present := make([]bool, len(shards)) // the shards supplied, marked before the missing originals get room
	for i, s := range shards {
		present[i] = len(s) > 0
	}
	for _, i := range missing {
		if cap(shards[i]) >= l {
			shards[i] = shards[i][:l]
			clear(shards[i])
		} else {
			shards[i] = make([]byte, l)
		}
	}
	loc := c.locatorLogs(present)
	c.recoverOriginals(shards, present, missing, loc, l)
	return nil
}

// checkShards checks the shards given to ReconstructData (the count, at
// least k present, all present ones of one length, a multiple of the
// packed block) and returns the length of the present shards.
func (c *Code) checkShards(shards [][]byte) (int, error) {
	if len(shards) != c.k+c.r {
		return 0, fmt.Errorf("%w: %d shards, want %d", ErrShardCount, len(shards), c.k+c.r)
	}
	l, present := -1, 0
	for _, s := range shards {
		if len(s) == 0 {
			continue
		}
		if l >= 0 && len(s) != l {
			return 0, fmt.Errorf("%w: shards differ in length", ErrShardSize)
		}
		l = len(s)
		present++
	}
	if present < c.k {
		return 0, fmt.Errorf("%w: %d of %d needed", ErrTooFewShards, present, c.k)
	}
	if l%blockSize != 0 {
		return 0, fmt.Errorf("%w: packed shards must be a multiple of %d bytes, got %d", ErrShardSize, blockSize, l)
	}
	return l, nil
}

// locatorLogs returns the error locator logarithms (errorLocatorLogs) of
// the points of the decoding domain whose values are unknown: those of the
// shards not marked in present, and the points that carry no data (the
// truncated values of the high-rate code, or the points past the recovery
// shards of the low-rate one).
func (c *Code) locatorLogs(present []bool) []uint16 {
	n, end := c.domain()
	erased := make([]bool, n)
	if c.high {
		for p := c.r; p < c.m; p++ {
			erased[p] = true
		}
	} else {
		for p := end; p < n; p++ {
			erased[p] = true
		}
	}
	for s, ok := range present {
		if !ok {
			erased[c.position(s)] = true
		}
	}
	return errorLocatorLogs(erased)
}

// recoverOriginals computes the missing originals (already l bytes long)
// from the present shards, given the error locator logarithms loc, one
// segment of every shard at a time so that the work buffer stays
// cache-sized.
func (c *Code) recoverOriginals(shards [][]byte, present []bool, missing []int, loc []uint16, l int) {
	n, end := c.domain()
	outEnd := c.position(missing[len(missing)-1]) + 1
	seg := segmentBytes(l, n)
	work := getSlab(&c.decPool, n)
	defer c.decPool.Put(work)
	for off := 0; off < l; off += seg {
		w := min(seg, l-off)
		v := work.at(n, w)
		clear(v)
		for s := range shards {
			if present[s] {
				p := c.position(s)
				kMul(v[p*w:(p+1)*w], shards[s][off:off+w], tableFor(loc[p]))
			}
		}
		ifft(v, w, n, end, 0)
		derivative(v, w, n)
		fft(v, w, n, outEnd, 0)
		for _, i := range missing {
			p := c.position(i)
			kMul(shards[i][off:off+w], v[p*w:(p+1)*w], tableFor(negLog(loc[p])))
		}
	}
}

func negLog(l uint16) uint16 {
	if l == 0 {
		return 0
	}
	return modulus - l
}

// errorLocatorLogs returns, for every point i of the domain (len(erased) a
// power of two), log Λ(i) if i is not erased and log Λ'(i) if it is, each in
// 0..65534: the XOR-convolution of the erasure indicator with the log table
// (log 0 counted as 0), via Walsh–Hadamard transforms modulo 65535.
func errorLocatorLogs(erased []bool) []uint16 {
	n := len(erased)
	v := make([]uint32, n)
	for i, e := range erased {
		if e {
			v[i] = 1
		}
	}
	fwht(v)
	lw := logWalsh(n)
	for i := range v {
		v[i] = v[i] * lw[i] % modulus
	}
	fwht(v)
	// The transform applied twice multiplies by n = 2^a; 2^16 ≡ 1 (mod 65535)
	// so dividing by n is multiplying by 2^(16-a).
	inv := uint32(1) << (16 - bits.TrailingZeros(uint(n))) % modulus
	out := make([]uint16, n)
	for i := range v {
		out[i] = uint16(v[i] * inv % modulus)
	}
	return out
}

// fwht is the Walsh–Hadamard transform modulo 65535, in place.
func fwht(v []uint32) {
	for w := 1; w < len(v); w <<= 1 {
		for r := 0; r < len(v); r += 2 * w {
			for i := r; i < r+w; i++ {
				a, b := v[i], v[i+w]
				v[i] = (a + b) % modulus
				v[i+w] = (a + modulus - b) % modulus
			}
		}
	}
}

var logWalshCache sync.Map // domain size -> []uint32

// logWalsh is the Walsh–Hadamard transform of logTab[0:n] (log 0 ≡ 0).
func logWalsh(n int) []uint32 {
	if v, ok := logWalshCache.Load(n); ok {
		return v.([]uint32)
	}
	initTables()
	v := make([]uint32, n)
	for i := range v {
		v[i] = uint32(logTab[i]) % modulus
	}
	fwht(v)
	logWalshCache.Store(n, v)
	return v
}

// DecodeBytes reconstructs the original shards from shards in the
// reed-solomon-simd byte layout (k originals then r recovery, nil or empty
// for missing). It returns all k originals.
func (c *Code) DecodeBytes(shards [][]byte) ([][]byte, error) {
	if len(shards) != c.k+c.r {
		return nil, fmt.Errorf("%w: %d shards, want %d", ErrShardCount, len(shards), c.k+c.r)
	}
	size, err := shardSize(shards)
	if err != nil {
		return nil, err
	}
	packed := packAll(shards, size)
	for i := range packed {
		if len(shards[i]) == 0 {
			packed[i] = nil
		}
	}
	if err := c.ReconstructData(packed); err != nil {
		return nil, err
	}
	out := make([][]byte, c.k)
	for i := range out {
		if len(shards[i]) > 0 {
			out[i] = shards[i]
			continue
		}
		out[i] = make([]byte, size)
		Unpack(out[i], packed[i])
	}
	return out, nil
}
