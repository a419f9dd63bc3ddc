package rs

import (
	"errors"
	"fmt"
	"math/bits"
	"sync"
)

// Errors returned by the encoder and decoder.
var (
	// ErrShardCount: the counts are outside what the code supports.
	ErrShardCount = errors.New("rs: unsupported shard counts")
	// ErrShardSize: shards differ in length or have the wrong size for the layout.
	ErrShardSize = errors.New("rs: invalid shard size")
	// ErrTooFewShards: fewer than k shards were supplied to the decoder.
	ErrTooFewShards = errors.New("rs: not enough shards to decode")
)

func nextPow2(x int) int { return 1 << bits.Len(uint(x-1)) }

// HighRate reports whether reed-solomon-simd uses its high-rate code for k
// originals and r recovery shards: with O = next_pow2(k) and R = next_pow2(r),
// high if O > R, low if O < R, and for O == R high iff k <= r.
func HighRate(k, r int) bool {
	o, rr := nextPow2(k), nextPow2(r)
	if o != rr {
		return o > rr
	}
	return k <= r
}

// Supported reports whether k originals and r recovery shards fit GF(2^16):
// both at least 1 and min(O, R) + max(k, r) <= 65536.
func Supported(k, r int) bool {
	if k < 1 || r < 1 || k >= order || r >= order {
		return false
	}
	return min(nextPow2(k), nextPow2(r))+max(k, r) <= order
}

// Code is the Reed-Solomon code with k original and r recovery shards. It is
// immutable and safe for concurrent use.
type Code struct {
	k, r int
	high bool
	m    int // chunk size: next_pow2(r) for high rate, next_pow2(k) for low rate

	encPool sync.Pool // *slab of m segments of segMax(m) bytes
	decPool sync.Pool // *slab of N segments of segMax(N) bytes
}

// New returns the code for k originals and r recovery shards.
func New(k, r int) (*Code, error) {
	if !Supported(k, r) {
		return nil, fmt.Errorf("%w: %d original, %d recovery", ErrShardCount, k, r)
	}
	initTables()
	c := &Code{k: k, r: r, high: HighRate(k, r)}
	if c.high {
		c.m = nextPow2(r)
	} else {
		c.m = nextPow2(k)
	}
	return c, nil
}

// K is the number of original shards.
func (c *Code) K() int { return c.k }

// R is the number of recovery shards.
func (c *Code) R() int { return c.r }

// High reports whether this is the high-rate code.
func (c *Code) High() bool { return c.high }

// segMax is the widest segment segmentBytes returns for count shards.
func segMax(count int) int { return segmentBytes(1<<62, count) }

// getSlab takes a slab of count segments from pool (or allocates one).
func getSlab(pool *sync.Pool, count int) *slab {
	if v, ok := pool.Get().(*slab); ok {
		return v
	}
	return &slab{buf: make([]byte, count*segMax(count))}
}

// segmentBytes picks how much of each shard one pass works on, so that the
// work buffer of `count` shard segments stays cache-sized.
func segmentBytes(shardLen, count int) int {
	const budget = 256 << 10
	w := budget / count &^ (blockSize - 1)
	w = max(w, 4*blockSize)
	return min(w, shardLen)
}

func checkPacked(shards [][]byte, n int, what string) (int, error) {
	if len(shards) != n {
		return 0, fmt.Errorf("%w: %d %s shards, want %d", ErrShardCount, len(shards), what, n)
	}
	l := len(shards[0])
	if l%blockSize != 0 {
		return 0, fmt.Errorf("%w: packed shards must be a multiple of %d bytes, got %d", ErrShardSize, blockSize, l)
	}
	for _, s := range shards {
		if len(s) != l {
			return 0, fmt.Errorf("%w: %s shards differ in length", ErrShardSize, what)
		}
	}
	return l, nil
}

// slab is a reusable work buffer for count shard segments.
type slab struct{ buf []byte }

// at returns the first count shards of width w, contiguous (w <= the
// segment width the slab was made for).
func (s *slab) at(count, w int) []byte { return s.buf[:count*w] }

// Encode computes the r recovery shards from the k originals. All shards are
// in the packed layout and have the same length. originals are not modified.
func (c *Code) Encode(originals, recovery [][]byte) error {
	l, err := checkPacked(originals, c.k, "original")
	if err != nil {
		return err
	}
	if l2, err := checkPacked(recovery, c.r, "recovery"); err != nil {
		return err
	} else if l2 != l {
		return fmt.Errorf("%w: recovery shards of %d bytes for originals of %d", ErrShardSize, l2, l)
	}
	if l == 0 {
		return nil
	}
	seg := segmentBytes(l, c.m)
	work, tmp := getSlab(&c.encPool, c.m), getSlab(&c.encPool, c.m)
	defer c.encPool.Put(work)
	defer c.encPool.Put(tmp)
	for off := 0; off < l; off += seg {
		w := min(seg, l-off)
		if c.high {
			c.encodeHigh(originals, recovery, off, w, work.at(c.m, w), tmp.at(c.m, w))
		} else {
			c.encodeLow(originals, recovery, off, w, work.at(c.m, w), tmp.at(c.m, w))
		}
	}
	return nil
}

// encodeHigh: for each m-sized chunk j of originals (zero-padded), IFFT at
// skew offset (j+1)·m; XOR the results; FFT at offset 0; keep the first r.
// It works on bytes [off, off+w) of every shard; work and tmp hold m shards of w.
func (c *Code) encodeHigh(orig, rec [][]byte, off, w int, work, tmp []byte) {
	m := c.m
	for j := 0; j*m < c.k; j++ {
		cnt := min(m, c.k-j*m)
		dst := work
		if j > 0 {
			dst = tmp
		}
		for i := range cnt {
			copy(dst[i*w:(i+1)*w], orig[j*m+i][off:off+w])
		}
		clear(dst[cnt*w:])
		ifft(dst, w, m, cnt, (j+1)*m)
		if j > 0 {
			kXor(work, tmp)
		}
	}
	fft(work, w, m, c.r, 0)
	for i := range c.r {
		copy(rec[i][off:off+w], work[i*w:(i+1)*w])
	}
}

// encodeLow: IFFT of the originals zero-padded to m at offset 0 gives the
// coefficients; recovery chunk j is their FFT at offset (j+1)·m.
func (c *Code) encodeLow(orig, rec [][]byte, off, w int, work, tmp []byte) {
	m := c.m
	for i := range c.k {
		copy(work[i*w:(i+1)*w], orig[i][off:off+w])
	}
	clear(work[c.k*w:])
	ifft(work, w, m, c.k, 0)
	for j := 0; j*m < c.r; j++ {
		cnt := min(m, c.r-j*m)
		dst := work
		if (j+1)*m < c.r { // not the last chunk: keep the coefficients
			dst = tmp
			copy(tmp, work)
		}
		fft(dst, w, m, cnt, (j+1)*m)
		for i := range cnt {
			copy(rec[j*m+i][off:off+w], dst[i*w:(i+1)*w])
		}
	}
}
