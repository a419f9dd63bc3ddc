package redstuff

import (
	"errors"
	"fmt"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/merkle"
)

// Consistency selects the check that follows decoding a blob (spec 1.8).
type Consistency int

const (
	// ConsistencyDefault re-derives each systematic sliver of the decoding
	// axis that was not supplied and checks its hash against the metadata.
	ConsistencyDefault Consistency = iota
	// ConsistencyStrict re-encodes the whole blob and compares the blob ID.
	ConsistencyStrict
	// ConsistencySkip checks nothing after decoding (the supplied slivers
	// must still have been verified).
	ConsistencySkip
)

func (c Consistency) String() string {
	switch c {
	case ConsistencyStrict:
		return "strict"
	case ConsistencySkip:
		return "skip"
	}
	return "default"
}

// ErrInconsistent: a decoded blob fails its consistency check.
var ErrInconsistent = errors.New("redstuff: decoded blob is inconsistent with its metadata")

// Decode rebuilds a blob from slivers of one axis: any k_p primary or k_s
// secondary slivers (extra ones are ignored). The slivers must already have
// been verified against md (VerifySliver); Decode checks their shapes, then
// applies the consistency check.
func (e *Encoder) Decode(md *blob.MetadataWithID, slivers []Sliver, check Consistency) ([]byte, error) {
	if len(slivers) == 0 {
		return nil, fmt.Errorf("%w: no slivers", ErrNotEnoughSymbols)
	}
	t := slivers[0].Type
	code := e.code(t.Orthogonal()) // the code along which slivers of type t are the symbols
	k, n := code.K(), e.p.N()
	s, err := e.p.SymbolSize(md.UnencodedLength)
	if err != nil {
		return nil, err
	}
	use := make([]*Sliver, 0, k)
	seen := make([]bool, n)
	for i := range slivers {
		sl := &slivers[i]
		if sl.Type != t {
			return nil, fmt.Errorf("%w: mixed sliver types", ErrSliverShape)
		}
		if _, err := e.checkShape(sl, &md.Metadata); err != nil {
			return nil, err
		}
		if seen[sl.Index] || len(use) == k {
			continue
		}
		seen[sl.Index] = true
		use = append(use, sl)
	}
	if len(use) < k {
		return nil, fmt.Errorf("%w: %d %s slivers of %d needed", ErrNotEnoughSymbols, len(use), t, k)
	}

	// Each sliver is one shard of the code and its symbols are the codewords,
	// so the slivers are decoded in batches of symbol positions, in parallel,
	// straight into the message matrix.
	kp, ks := e.p.PrimarySymbols(), e.p.SecondarySymbols()
	per := e.code(t).K() // symbols per sliver
	out := make([]byte, kp*ks*s)
	lay := newSymLayout(s)
	arenas := e.getArenas()
	defer e.putArenas(arenas)
	errs := make([]error, e.workers)
	parallelFor(e.workers, per, batch(per, e.workers, lay.stride), func(w, c0, c1 int) {
		a := arenas[w]
		cnt := c1 - c0
		sh := a.shardSet(len(use)+k, lay.packedLen(cnt))
		shards := make([][]byte, n)
		for o := range k { // room for missing originals, reused by ReconstructData
			shards[o] = sh[len(use)+o][:0]
		}
		for i, sl := range use {
			lay.packMany(sh[i], 0, sl.Data[c0*s:c1*s], cnt)
			shards[sl.Index] = sh[i]
		}
		if err := code.ReconstructData(shards); err != nil {
			errs[w] = err
			return
		}
		// Originals: rows 0..k_p-1 (primary) or columns 0..k_s-1 (secondary).
		for o := range k {
			if t == blob.Primary { // row o, columns c0..c1
				lay.unpackMany(out[(o*ks+c0)*s:(o*ks+c1)*s], shards[o], 0, cnt)
				continue
			}
			for c := c0; c < c1; c++ { // column o, row c
				lay.unpack(out[(c*ks+o)*s:(c*ks+o+1)*s], shards[o], c-c0)
			}
		}
	})
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	blobBytes := out[:md.UnencodedLength]

	switch check {
	case ConsistencySkip:
	case ConsistencyStrict:
		got, err := e.Metadata(blobBytes)
		if err != nil {
			return nil, err
		}
		if got.ID != md.ID {
			return nil, fmt.Errorf("%w: re-encoding gives blob ID %v, want %v", ErrInconsistent, got.ID, md.ID)
		}
	default:
		if err := e.checkSystematic(md, t, out, s, seen); err != nil {
			return nil, err
		}
	}
	return blobBytes, nil
}

// checkSystematic re-derives the systematic slivers of axis t (rows 0..k_p-1
// for primary, columns 0..k_s-1 for secondary) that were not supplied and
// compares their hashes with the metadata.
func (e *Encoder) checkSystematic(md *blob.MetadataWithID, t blob.SliverType, matrix []byte, s int, supplied []bool) error {
	count := e.p.PrimarySymbols()
	if t == blob.Secondary {
		count = e.p.SecondarySymbols()
	}
	var idx []int
	for i := range count {
		if !supplied[i] {
			idx = append(idx, i)
		}
	}
	hashes := e.systematicHashes(matrix, s, t, idx)
	for j, i := range idx {
		if hashes[j] != metadataHash(&md.Metadata, t, i) {
			return fmt.Errorf("%w: systematic %s sliver %d", ErrInconsistent, t, i)
		}
	}
	return nil
}

// systematicHashes computes the metadata hashes of the systematic slivers
// (t, idx[j]) of a message matrix (k_p × k_s symbols of s bytes, row-major):
// each is expanded along its code and its n symbols hashed into a Merkle
// root. Work is done in batches of slivers, in parallel, in reused buffers.
func (e *Encoder) systematicHashes(matrix []byte, s int, t blob.SliverType, idx []int) []merkle.Node {
	out := make([]merkle.Node, len(idx))
	if len(idx) == 0 {
		return out
	}
	n, ks := e.p.N(), e.p.SecondarySymbols()
	code := e.code(t)
	k, r := code.K(), code.R()
	lay := newSymLayout(s)
	// symbol p of sliver i in the matrix
	symbol := func(i, p int) []byte {
		if t == blob.Primary {
			return matrix[(i*ks+p)*s : (i*ks+p+1)*s]
		}
		return matrix[(p*ks+i)*s : (p*ks+i+1)*s]
	}
	arenas := e.getArenas()
	defer e.putArenas(arenas)
	parallelFor(e.workers, len(idx), batch(len(idx), e.workers, lay.stride), func(w, lo, hi int) {
		a := arenas[w]
		cnt := hi - lo
		sh := a.shardSet(n, lay.packedLen(cnt))
		for p := range k {
			for b := lo; b < hi; b++ {
				lay.pack(sh[p], b-lo, symbol(idx[b], p))
			}
		}
		if err := code.Encode(sh[:k], sh[k:]); err != nil {
			panic(err) // shapes are fixed by construction
		}
		syms := a.scratchBytes(n * s)
		if cap(a.leafBuf) < n {
			a.leafBuf = make([]merkle.Node, n)
		}
		leaves := a.leafBuf[:n]
		for b := lo; b < hi; b++ {
			for p := range k {
				copy(syms[p*s:(p+1)*s], symbol(idx[b], p))
			}
			for j := range r {
				lay.unpack(syms[(k+j)*s:(k+j+1)*s], sh[k+j], b-lo)
			}
			merkle.LeafHashes(leaves, syms, s)
			out[b] = merkle.Root(leaves)
		}
	})
	return out
}
