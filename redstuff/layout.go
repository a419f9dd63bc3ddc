package redstuff

// symLayout packs symbols of one size into the rs package's packed layout
// (64-byte blocks of 32 low bytes then 32 high bytes), so that many symbols
// of one codeword position ride in one shard and one RS call encodes many
// codewords.
//
// A symbol of s bytes is s/2 GF(2^16) elements; its own byte layout is the
// reed-solomon-simd one: full 64-byte blocks as in the packed layout, then a
// tail of t bytes with t/2 low bytes and t/2 high bytes. Symbols of 64 bytes
// or more start on a block boundary (the tail is padded to a block), so their
// full blocks are plain copies; smaller symbols are packed densely, element
// after element, so a 2-byte symbol costs one lane rather than a block.
type symLayout struct {
	s      int // symbol bytes
	stride int // elements per symbol in the packed form
	full   int // bytes of full 64-byte blocks in a symbol
}

func newSymLayout(s int) symLayout {
	l := symLayout{s: s, full: s &^ 63}
	if s >= 64 {
		l.stride = (s + 63) / 64 * 32
	} else {
		l.stride = s / 2
	}
	return l
}

// packedLen is the packed shard length for count symbols (a multiple of 64).
func (l symLayout) packedLen(count int) int {
	return (count*l.stride + 31) / 32 * 64
}

// putRun writes src as consecutive elements' low (plane 0) or high (plane 32)
// bytes starting at element g of the packed buffer.
func putRun(dst []byte, g int, src []byte, plane int) {
	for len(src) > 0 {
		lane := g & 31
		n := copy(dst[(g>>5)*64+plane+lane:(g>>5)*64+plane+32], src)
		src = src[n:]
		g += n
	}
}

// getRun is putRun's inverse.
func getRun(dst []byte, src []byte, g int, plane int) {
	for len(dst) > 0 {
		lane := g & 31
		n := copy(dst, src[(g>>5)*64+plane+lane:(g>>5)*64+plane+32])
		dst = dst[n:]
		g += n
	}
}

// pack writes symbol sym (exactly s bytes) as symbol idx of the packed shard dst.
func (l symLayout) pack(dst []byte, idx int, sym []byte) {
	g := idx * l.stride
	if l.full > 0 {
		copy(dst[g*2:g*2+l.full], sym[:l.full])
		g += l.full / 2
	}
	tail := sym[l.full:l.s]
	if len(tail) == 0 {
		return
	}
	h := len(tail) / 2
	putRun(dst, g, tail[:h], 0)
	putRun(dst, g, tail[h:], 32)
}

// unpack writes symbol idx of the packed shard src into sym (s bytes).
func (l symLayout) unpack(sym []byte, src []byte, idx int) {
	g := idx * l.stride
	if l.full > 0 {
		copy(sym[:l.full], src[g*2:g*2+l.full])
		g += l.full / 2
	}
	tail := sym[l.full:l.s]
	if len(tail) == 0 {
		return
	}
	h := len(tail) / 2
	getRun(tail[:h], src, g, 0)
	getRun(tail[h:], src, g, 32)
}

// packMany packs count consecutive symbols of src (count·s bytes) starting
// at symbol idx of dst. When symbols are multiples of 64 bytes the packed
// form is the same bytes.
func (l symLayout) packMany(dst []byte, idx int, src []byte, count int) {
	if l.s&63 == 0 {
		copy(dst[idx*l.s:(idx+count)*l.s], src[:count*l.s])
		return
	}
	for i := range count {
		l.pack(dst, idx+i, src[i*l.s:(i+1)*l.s])
	}
}

// unpackMany unpacks count consecutive symbols starting at idx into dst.
func (l symLayout) unpackMany(dst []byte, src []byte, idx, count int) {
	if l.s&63 == 0 {
		copy(dst[:count*l.s], src[idx*l.s:(idx+count)*l.s])
		return
	}
	for i := range count {
		l.unpack(dst[i*l.s:(i+1)*l.s], src, idx+i)
	}
}
