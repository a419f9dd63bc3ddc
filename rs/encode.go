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

	encPool sync.Pool // *shardViews of 2·m segments of segMax(m) bytes
	decPool sync.Pool // *shardViews of N segments of segMax(N) bytes
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

// views takes a set of count segment views from pool (or allocates one).
func views(pool *sync.Pool, count int) *shardViews {
	if v, ok := pool.Get().(*shardViews); ok {
		return v
	}
	return newShardViews(count, segMax(count))
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

// shardViews is a reusable set of equal-width views into one buffer.
type shardViews struct {
	buf   []byte
	views [][]byte
}

func newShardViews(count, width int) *shardViews {
	return &shardViews{buf: make([]byte, count*width), views: make([][]byte, count)}
}

// at returns the views re-sliced to width w (w <= the allocated width).
func (s *shardViews) at(stride, w int) [][]byte {
	for i := range s.views {
		s.views[i] = s.buf[i*stride : i*stride+w]
	}
	return s.views
}

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
	work, tmp := views(&c.encPool, c.m), views(&c.encPool, c.m)
	defer c.encPool.Put(work)
	defer c.encPool.Put(tmp)
	for off := 0; off < l; off += seg {
		w := min(seg, l-off)
		if c.high {
			c.encodeHigh(originals, recovery, off, work.at(seg, w), tmp.at(seg, w))
		} else {
			c.encodeLow(originals, recovery, off, work.at(seg, w), tmp.at(seg, w))
		}
	}
	return nil
}

// encodeHigh: for each m-sized chunk j of originals (zero-padded), IFFT at
// skew offset (j+1)·m; XOR the results; FFT at offset 0; keep the first r.
func (c *Code) encodeHigh(orig, rec [][]byte, off int, work, tmp [][]byte) {
	m, w := c.m, len(work[0])
	for j := 0; j*m < c.k; j++ {
		cnt := min(m, c.k-j*m)
		dst := work
		if j > 0 {
			dst = tmp
		}
		for i := range cnt {
			copy(dst[i], orig[j*m+i][off:off+w])
		}
		for i := cnt; i < m; i++ {
			clear(dst[i])
		}
		ifft(dst, m, cnt, (j+1)*m)
		if j > 0 {
			for i := range m {
				kXor(work[i], tmp[i])
			}
		}
	}
	fft(work, m, c.r, 0)
	for i := range c.r {
		copy(rec[i][off:off+w], work[i])
	}
}

// encodeLow: IFFT of the originals zero-padded to m at offset 0 gives the
// coefficients; recovery chunk j is their FFT at offset (j+1)·m.
func (c *Code) encodeLow(orig, rec [][]byte, off int, work, tmp [][]byte) {
	m, w := c.m, len(work[0])
	for i := range c.k {
		copy(work[i], orig[i][off:off+w])
	}
	for i := c.k; i < m; i++ {
		clear(work[i])
	}
	ifft(work, m, c.k, 0)
	for j := 0; j*m < c.r; j++ {
		cnt := min(m, c.r-j*m)
		dst := work
		if (j+1)*m < c.r { // not the last chunk: keep the coefficients
			dst = tmp
			for i := range m {
				copy(tmp[i], work[i])
			}
		}
		fft(dst, m, cnt, (j+1)*m)
		for i := range cnt {
			copy(rec[j*m+i][off:off+w], dst[i])
		}
	}
}
