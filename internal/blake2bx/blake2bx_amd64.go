//go:build amd64 && !purego

package blake2bx

import "golang.org/x/sys/cpu"

var useAVX512 = cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW

var impl = func() string {
	if useAVX512 {
		return "avx512"
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
	if !useAVX512 || size == 0 || len(out) < minAVX512 {
		sumGeneric(out, prefix, data, size)
		return
	}
	sumAVX512(out, prefix, data, size)
}

// minAVX512 is the smallest batch for which the AVX-512 kernel beats the
// generic code (a lone message is faster in scalar code).
const minAVX512 = 2

// sumAVX512 needs len(out) >= 1 and size > 0.
func sumAVX512(out [][32]byte, prefix byte, data []byte, size int) {
	p := newParams(prefix, size)
	hash16AVX512(&out[0], &data[0], size, len(out), &p)
}
