package redstuff

import (
	"errors"
	"fmt"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/merkle"
	"github.com/walrus-go/walrus/rs"
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
	s, err := e.p.SymbolSize(md.UnencodedLength)
	if err != nil {
		return nil, err
	}
	seen := make([]bool, e.p.N())
	use, err := e.pickSlivers(md, slivers, seen)
	if err != nil {
		return nil, err
	}
	out, err := e.decodeMatrix(t, use, s)
	if err != nil {
		return nil, err
	}
	if err := e.checkDecoded(md, check, t, out, s, seen); err != nil {
		return nil, err
	}
	return out[:md.UnencodedLength], nil
}

// pickSlivers checks that the slivers are all of the first one's type and
// each has the shape md gives it, and picks the first k of distinct indices,
// k being the number of slivers of that type a decode needs. It marks the
// indices picked in seen (n entries, all false on entry), which the Default
// consistency check then need not re-derive.
func (e *Encoder) pickSlivers(md *blob.MetadataWithID, slivers []Sliver, seen []bool) ([]*Sliver, error) {
	t := slivers[0].Type
	k := e.code(t.Orthogonal()).K() // the code along which slivers of type t are the symbols
	use := make([]*Sliver, 0, k)
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
	return use, nil
}

// decodeMatrix rebuilds the message matrix (k_p × k_s symbols of s bytes,
// row-major) from the k slivers of type t in use. Each sliver is one shard
// of the orthogonal code and its symbols are the codewords, so the slivers
// are decoded in batches of symbol positions, in parallel, straight into
// the matrix.
func (e *Encoder) decodeMatrix(t blob.SliverType, use []*Sliver, s int) ([]byte, error) {
	kp, ks := e.p.PrimarySymbols(), e.p.SecondarySymbols()
	d := sliverDecoder{code: e.code(t.Orthogonal()), lay: newSymLayout(s), t: t, use: use,
		n: e.p.N(), ks: ks, out: make([]byte, kp*ks*s)}
	per := e.code(t).K() // symbols per sliver
	arenas := e.getArenas()
	defer e.putArenas(arenas)
	errs := make([]error, e.workers)
	parallelFor(e.workers, per, batch(per, e.workers, d.lay.stride), func(w, c0, c1 int) {
		if err := d.positions(arenas[w], c0, c1); err != nil {
			errs[w] = err
		}
	})
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return d.out, nil
}

// sliverDecoder is the shared, read-only state of one decodeMatrix; its
// workers write disjoint parts of out.
type sliverDecoder struct {
	code *rs.Code // the code along which the slivers are the symbols
	lay  symLayout
	t    blob.SliverType
	use  []*Sliver // k slivers of distinct indices
	n    int
	ks   int
	out  []byte // the message matrix
}

// positions decodes symbol positions c0..c1-1 of the slivers in a's
// buffers: it packs those symbols of every sliver into one shard each,
// rebuilds the k original shards and unpacks them into the matrix.
func (d *sliverDecoder) positions(a *arena, c0, c1 int) error {
	code, lay, use, out := d.code, d.lay, d.use, d.out
	k, n, ks, s := code.K(), d.n, d.ks, lay.s
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
		return err
	}
	// Originals: rows 0..k_p-1 (primary) or columns 0..k_s-1 (secondary).
	for o := range k {
		if d.t == blob.Primary { // row o, columns c0..c1
			lay.unpackMany(out[(o*ks+c0)*s:(o*ks+c1)*s], shards[o], 0, cnt)
			continue
		}
		for c := c0; c < c1; c++ { // column o, row c
			lay.unpack(out[(c*ks+o)*s:(c*ks+o+1)*s], shards[o], c-c0)
		}
	}
	return nil
}

// checkDecoded applies the consistency check to a decoded message matrix of
// symbols of s bytes, decoded from the slivers of type t marked in supplied.
func (e *Encoder) checkDecoded(md *blob.MetadataWithID, check Consistency, t blob.SliverType, matrix []byte, s int, supplied []bool) error {
	switch check {
	case ConsistencySkip:
		return nil
	case ConsistencyStrict:
		got, err := e.Metadata(matrix[:md.UnencodedLength])
		if err != nil {
			return err
		}
		if got.ID != md.ID {
			return fmt.Errorf("%w: re-encoding gives blob ID %v, want %v", ErrInconsistent, got.ID, md.ID)
		}
		return nil
	}
	return e.checkSystematic(md, t, matrix, s, supplied)
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
