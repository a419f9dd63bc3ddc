// Package blake2bx computes many BLAKE2b-256 digests of equal-length,
// prefixed messages at once, as needed for the leaves and inner nodes of
// Walrus Merkle trees.
//
// On amd64 with AVX-512 (F and BW) the messages are hashed sixteen at a time,
// one per 64-bit lane of two sets of ZMM registers; with AVX2 only, four at a
// time in YMM lanes. Elsewhere, or when built with the purego tag, a pure-Go
// compression function is used for one message at a time. Impl reports which
// path is active.
package blake2bx

//go:generate go run gen.go

// Size is the digest size in bytes.
const Size = 32

// BlockSize is the BLAKE2b block size in bytes.
const BlockSize = 128

var iv = [8]uint64{
	0x6a09e667f3bcc908, 0xbb67ae8584caa73b, 0x3c6ef372fe94f82b, 0xa54ff53a5f1d36f1,
	0x510e527fade682d1, 0x9b05688c2b3e6c1f, 0x1f83d9abfb41bd6b, 0x5be0cd19137e2179,
}

// h0 is the initial chaining value of unkeyed BLAKE2b-256: parameter block
// digest length 32, key length 0, fanout 1, depth 1.
var h0 = [8]uint64{
	iv[0] ^ 0x01010020, iv[1], iv[2], iv[3], iv[4], iv[5], iv[6], iv[7],
}

// Sum256Prefixed sets out[i] = BLAKE2b-256(prefix ‖ data[i*size : (i+1)*size])
// for i in 0..len(out)-1. It panics if size < 0 or len(data) < len(out)*size.
// size may be 0. out must not overlap data. It is safe for concurrent use and
// does not allocate.
func Sum256Prefixed(out [][32]byte, prefix byte, data []byte, size int) {
	if !checkArgs(out, data, size) {
		return
	}
	sum256Prefixed(out, prefix, data, size)
}

// Sum256PrefixedGeneric is Sum256Prefixed computed by the pure-Go path,
// whatever the CPU supports.
func Sum256PrefixedGeneric(out [][32]byte, prefix byte, data []byte, size int) {
	if !checkArgs(out, data, size) {
		return
	}
	sumGeneric(out, prefix, data, size)
}

// Impl names the implementation Sum256Prefixed uses on this machine for
// batches of two or more messages: "avx512" (16 lanes), "avx2" (4 lanes) or
// "generic" (pure Go). Single messages always take the generic path, and
// with AVX-512, batches of up to four messages take the AVX2 path.
func Impl() string { return impl }

// checkArgs validates the arguments and handles the trivial cases; it
// reports whether there is work left.
func checkArgs(out [][32]byte, data []byte, size int) bool {
	if size < 0 {
		panic("blake2bx: negative size")
	}
	if size > 0 && len(out) > len(data)/size {
		panic("blake2bx: data shorter than len(out)*size")
	}
	return len(out) > 0
}

// sumGeneric hashes the messages one at a time in pure Go.
func sumGeneric(out [][32]byte, prefix byte, data []byte, size int) {
	if size == 0 {
		var d [32]byte
		sumOne(&d, prefix, nil)
		for i := range out {
			out[i] = d
		}
		return
	}
	for i := range out {
		sumOne(&out[i], prefix, data[i*size:(i+1)*size:(i+1)*size])
	}
}

// sumOne sets d = BLAKE2b-256(prefix ‖ msg).
func sumOne(d *[32]byte, prefix byte, msg []byte) {
	h := h0
	var blk [BlockSize]byte
	blk[0] = prefix
	length := uint64(len(msg)) + 1
	if length <= BlockSize {
		copy(blk[1:], msg)
		compressGeneric(&h, &blk, length, ^uint64(0))
	} else {
		copy(blk[1:], msg[:BlockSize-1])
		compressGeneric(&h, &blk, BlockSize, 0)
		msg = msg[BlockSize-1:]
		t := uint64(BlockSize)
		for len(msg) > BlockSize {
			t += BlockSize
			compressGeneric(&h, (*[BlockSize]byte)(msg), t, 0)
			msg = msg[BlockSize:]
		}
		blk = [BlockSize]byte{}
		copy(blk[:], msg)
		compressGeneric(&h, &blk, length, ^uint64(0))
	}
	for i := 0; i < 4; i++ {
		putUint64(d[8*i:], h[i])
	}
}

func putUint64(b []byte, v uint64) {
	_ = b[7]
	b[0] = byte(v)
	b[1] = byte(v >> 8)
	b[2] = byte(v >> 16)
	b[3] = byte(v >> 24)
	b[4] = byte(v >> 32)
	b[5] = byte(v >> 40)
	b[6] = byte(v >> 48)
	b[7] = byte(v >> 56)
}
