package rs

import "fmt"

// PackedLen is the packed length of a shard of shardBytes bytes (even): the
// number of 64-byte blocks needed, times 64.
func PackedLen(shardBytes int) int { return (shardBytes + blockSize - 1) / blockSize * blockSize }

// Pack converts one shard from the reed-solomon-simd byte layout into the
// packed layout. Full 64-byte blocks are identical in both; a trailing block
// of t bytes holds t/2 low bytes then t/2 high bytes and becomes a padded
// block with the low bytes at 0 and the high bytes at 32. dst must have
// PackedLen(len(src)) bytes; len(src) must be even.
func Pack(dst, src []byte) {
	full := len(src) &^ (blockSize - 1)
	copy(dst, src[:full])
	tail := src[full:]
	if len(tail) == 0 {
		return
	}
	d := dst[full : full+blockSize]
	h := len(tail) / 2
	clear(d)
	copy(d[:h], tail[:h])
	copy(d[32:32+h], tail[h:])
}

// Unpack is the inverse of Pack: it writes len(dst) bytes of the byte layout.
func Unpack(dst, src []byte) {
	full := len(dst) &^ (blockSize - 1)
	copy(dst[:full], src[:full])
	tail := dst[full:]
	if len(tail) == 0 {
		return
	}
	h := len(tail) / 2
	copy(tail[:h], src[full:full+h])
	copy(tail[h:], src[full+32:full+32+h])
}

func packAll(shards [][]byte, size int) [][]byte {
	pl := PackedLen(size)
	buf := make([]byte, len(shards)*pl)
	out := make([][]byte, len(shards))
	for i, s := range shards {
		out[i] = buf[i*pl : (i+1)*pl]
		if s != nil {
			Pack(out[i], s)
		} else {
			out[i] = nil
		}
	}
	return out
}

func shardSize(shards [][]byte) (int, error) {
	size := -1
	for _, s := range shards {
		if s == nil {
			continue
		}
		if size >= 0 && len(s) != size {
			return 0, fmt.Errorf("%w: shards differ in length", ErrShardSize)
		}
		size = len(s)
	}
	if size < 0 {
		return 0, fmt.Errorf("%w: no shards", ErrShardSize)
	}
	if size%2 != 0 {
		return 0, fmt.Errorf("%w: %d bytes is odd", ErrShardSize, size)
	}
	return size, nil
}

// EncodeBytes encodes shards in the reed-solomon-simd byte layout (any even
// size, all equal) and returns the r recovery shards in the same layout.
func (c *Code) EncodeBytes(originals [][]byte) ([][]byte, error) {
	if len(originals) != c.k {
		return nil, fmt.Errorf("%w: %d original shards, want %d", ErrShardCount, len(originals), c.k)
	}
	size, err := shardSize(originals)
	if err != nil {
		return nil, err
	}
	for _, o := range originals {
		if o == nil {
			return nil, fmt.Errorf("%w: missing original shard", ErrShardSize)
		}
	}
	po := packAll(originals, size)
	pr := packAll(make([][]byte, c.r), size)
	pl := PackedLen(size)
	rbuf := make([]byte, c.r*pl)
	for i := range pr {
		pr[i] = rbuf[i*pl : (i+1)*pl]
	}
	if err := c.Encode(po, pr); err != nil {
		return nil, err
	}
	out := make([][]byte, c.r)
	obuf := make([]byte, c.r*size)
	for i := range out {
		out[i] = obuf[i*size : (i+1)*size]
		Unpack(out[i], pr[i])
	}
	return out, nil
}
