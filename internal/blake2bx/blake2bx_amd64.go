//go:build amd64 && !purego

package blake2bx

import "golang.org/x/sys/cpu"

var (
	useAVX512 = cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW
	useAVX2   = cpu.X86.HasAVX2
)

var impl = func() string {
	switch {
	case useAVX512:
		return "avx512"
	case useAVX2:
		return "avx2"
	}
	return "generic"
}()

// params describes the messages of one call to the assembly; the layout is
// fixed by the offsets used in blake2bx_amd64.s.
type params struct {
	nblocks uint64 // 0: blocks per message, ceil(length/128)
	length  uint64 // 8: message length 1+size, the final counter
	prefix  uint64 // 16: the prefix byte, ORed into word 0 of block 0
	lastLo  uint64 // 24: byte mask of the last block, bytes 0-63
	lastHi  uint64 // 32: bytes 64-127
}

// hash16AVX512 hashes n >= 1 messages of p.length-1 bytes that start stride
// bytes apart, 16 at a time (see blake2bx_amd64.s).
//
//go:noescape
func hash16AVX512(out *[32]byte, data *byte, stride int, n int, p *params)

// lowBits returns a mask of the n lowest bits, n in [0, 64].
func lowBits(n int) uint64 {
	if n >= 64 {
		return ^uint64(0)
	}
	return 1<<uint(n) - 1
}

// newParams describes messages prefix ‖ size bytes. The last block is block
// nblocks-1; its loaded bytes are message bytes [128*(nblocks-1), length)
// minus byte 0 of the message (the prefix), which is not read from data.
func newParams(prefix byte, size int) params {
	length := size + 1
	nb := (length + BlockSize - 1) / BlockSize
	end := length - BlockSize*(nb-1) // in [1, 128]
	start := 0
	if nb == 1 {
		start = 1
	}
	return params{
		nblocks: uint64(nb),
		length:  uint64(length),
		prefix:  uint64(prefix),
		lastLo:  lowBits(min(end, 64)) &^ lowBits(min(start, 64)),
		lastHi:  lowBits(max(end-64, 0)) &^ lowBits(max(start-64, 0)),
	}
}

func sum256Prefixed(out [][32]byte, prefix byte, data []byte, size int) {
	switch n := len(out); {
	case size == 0 || n < minBatch:
		sumGeneric(out, prefix, data, size)
	case useAVX512 && (n > maxAVX2Batch || !useAVX2):
		sumAVX512(out, prefix, data, size)
	case useAVX2:
		sumAVX2(out, prefix, data, size)
	default:
		sumGeneric(out, prefix, data, size)
	}
}

// Batch sizes where the paths cross over (BenchmarkSmallBatch): a lone
// message is fastest in scalar code, and up to four messages fill the lanes
// of one 4-lane AVX2 call, which is cheaper than a mostly empty 16-lane
// AVX-512 pass.
const (
	minBatch     = 2
	maxAVX2Batch = 4
)

// sumAVX512 needs len(out) >= 1 and size > 0.
func sumAVX512(out [][32]byte, prefix byte, data []byte, size int) {
	p := newParams(prefix, size)
	hash16AVX512(&out[0], &data[0], size, len(out), &p)
}

// compress4AVX2 compresses one block of each of 4 messages (see avx2_amd64.s).
//
//go:noescape
func compress4AVX2(h *[32]uint64, blocks *[4]*byte, t, f uint64)

// sumAVX2 needs len(out) >= 1 and size > 0. AVX2 has no byte-masked loads,
// so the first block (prefix ‖ 127 bytes) and the last (zero padded) of each
// message are copied to buffers; the blocks between are read in place. In a
// partial last group the missing lanes repeat the last message.
func sumAVX2(out [][32]byte, prefix byte, data []byte, size int) {
	length := size + 1
	nb := (length + BlockSize - 1) / BlockSize
	var (
		bufs [4][BlockSize]byte
		ptrs [4]*byte
		h    [32]uint64
	)
	for i := 0; i < len(out); i += 4 {
		live := min(4, len(out)-i)
		var msgs [4][]byte
		for l := range msgs {
			j := i + min(l, live-1)
			msgs[l] = data[j*size : (j+1)*size : (j+1)*size]
		}
		for w := 0; w < 8; w++ {
			h[4*w], h[4*w+1], h[4*w+2], h[4*w+3] = h0[w], h0[w], h0[w], h0[w]
		}
		for l := range bufs {
			b := &bufs[l]
			b[0] = prefix
			n := copy(b[1:], msgs[l])
			clear(b[1+n:])
			ptrs[l] = &b[0]
		}
		if nb == 1 {
			compress4AVX2(&h, &ptrs, uint64(length), ^uint64(0))
		} else {
			compress4AVX2(&h, &ptrs, BlockSize, 0)
			for k := 1; k < nb-1; k++ {
				for l := range ptrs {
					ptrs[l] = &msgs[l][BlockSize*k-1]
				}
				compress4AVX2(&h, &ptrs, uint64(BlockSize*(k+1)), 0)
			}
			for l := range bufs {
				b := &bufs[l]
				n := copy(b[:], msgs[l][BlockSize*(nb-1)-1:])
				clear(b[n:])
				ptrs[l] = &b[0]
			}
			compress4AVX2(&h, &ptrs, uint64(length), ^uint64(0))
		}
		for l := 0; l < live; l++ {
			d := &out[i+l]
			for w := 0; w < 4; w++ {
				putUint64(d[8*w:], h[4*w+l])
			}
		}
	}
}
