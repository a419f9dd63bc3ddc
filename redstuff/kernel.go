package redstuff

import (
	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/merkle"
)

// kernel is the computation both encoders share (the in-memory one and
// the streaming one): extending a batch of rows with the row code, or a
// batch of columns with the column code, and hashing every new symbol.
// Where the symbols come from and where the new ones go is the caller's.
type kernel struct {
	e          *Encoder
	lay        symLayout
	n, kp, ks  int
	s          int
	leaves     []merkle.Node             // n×n, row-major
	pairHashes []blob.SliverPairMetadata // for the columns' roots
}

// rows extends message rows r0..r1 (row(r) is row r's k_s symbols) with
// the row code, hashes all n symbols of each row, and hands the batch's
// new symbols to emit: symbol j of row r at ((r−r0)·(n−k_s) + j)·s.
// (Callers copy them out column by column, j outer and r inner: the
// order in which their destinations are contiguous.)
func (k *kernel) rows(a *arena, r0, r1 int, row func(r int) []byte, emit func(syms []byte)) {
	n, ks, s := k.n, k.ks, k.s
	cnt := r1 - r0
	sh := a.shardSet(n, k.lay.packedLen(cnt))
	src, par := sh[:ks], sh[ks:]
	for c := range ks {
		for r := r0; r < r1; r++ {
			k.lay.pack(src[c], r-r0, row(r)[c*s:(c+1)*s])
		}
	}
	if err := k.e.secondary.Encode(src, par); err != nil {
		panic(err) // shapes are fixed by construction
	}
	rr := n - ks
	syms := a.scratchBytes(cnt * rr * s)
	for j := range rr {
		for r := r0; r < r1; r++ {
			o := ((r-r0)*rr + j) * s
			k.lay.unpack(syms[o:o+s], par[j], r-r0)
		}
	}
	for r := r0; r < r1; r++ {
		merkle.LeafHashes(k.leaves[r*n:r*n+ks], row(r), s)
		merkle.LeafHashes(k.leaves[r*n+ks:(r+1)*n], syms[(r-r0)*rr*s:(r-r0+1)*rr*s], s)
	}
	emit(syms)
}

// colSource gives the symbols of the k_p systematic rows of a batch of
// columns: run(r, a, b) the contiguous symbols a..b of row r for columns
// below runEnd (nil: none), sym(r, c) any symbol.
type colSource struct {
	run    func(r, a, b int) []byte
	runEnd int
	sym    func(r, c int) []byte
}

// columns extends columns c0..c1 (symbols from src) with the column code, hashes the new symbols of
// rows k_p..n-1 and sets each column's Merkle root as its secondary sliver
// hash. The new symbols of row k_p+j for the batch (contiguous, column
// after column) are unpacked into dst(j) when dst is set (else into the
// arena), then handed to emit (nil: nobody wants them).
func (k *kernel) columns(a *arena, c0, c1 int, from colSource, dst func(j int) []byte, emit func(j int, row []byte)) {
	n, kp, s := k.n, k.kp, k.s
	cnt := c1 - c0
	sh := a.shardSet(n, k.lay.packedLen(cnt))
	src, par := sh[:kp], sh[kp:]
	hi := c0
	if from.run != nil {
		hi = max(c0, min(c1, from.runEnd))
	}
	for r := range kp {
		if hi > c0 {
			k.lay.packMany(src[r], 0, from.run(r, c0, hi), hi-c0)
		}
		for c := hi; c < c1; c++ {
			k.lay.pack(src[r], c-c0, from.sym(r, c))
		}
	}
	if err := k.e.primary.Encode(src, par); err != nil {
		panic(err)
	}
	rr := n - kp
	var syms []byte
	if dst == nil {
		syms = a.scratchBytes(rr * cnt * s)
	}
	for j := range rr {
		var row []byte
		if dst != nil {
			row = dst(j)
		} else {
			row = syms[j*cnt*s : (j+1)*cnt*s]
		}
		k.lay.unpackMany(row, par[j], 0, cnt)
		i := kp + j
		merkle.LeafHashes(k.leaves[i*n+c0:i*n+c1], row, s)
		if emit != nil {
			emit(j, row)
		}
	}
	if cap(a.leafBuf) < n {
		a.leafBuf = make([]merkle.Node, n)
	}
	col := a.leafBuf[:n]
	for c := c0; c < c1; c++ {
		for r := range n {
			col[r] = k.leaves[r*n+c]
		}
		k.pairHashes[n-1-c].Secondary = merkle.Root(col)
	}
}
