package redstuff

import (
	"fmt"
	"io"

	"github.com/walrus-go/walrus/blob"
)

// DecodeRows rebuilds systematic rows of a blob (primary slivers 0..k_p-1,
// the rows of its message matrix) from k_p primary slivers, in blocks of
// columns, so that memory does not grow with the blob: a streaming read
// that could not get some of the systematic slivers calls it for those.
//
// have lists the indices of the k_p (or more: extra ones are ignored)
// primary slivers available; their data (k_s·s bytes each, already
// verified against md) is read from slivers at offset i·k_s·s for the i-th
// entry of have. want lists the systematic rows to rebuild; row want[j] is
// written to out at offset j·k_s·s. blockBytes bounds the block buffers (0:
// DefaultBlockBytes).
//
// The rebuilt rows are not checked: a caller with the Default consistency
// check verifies each like a sliver it received (VerifySliver), which is
// what re-deriving the systematic slivers that were not supplied means.
func (e *Encoder) DecodeRows(md *blob.MetadataWithID, have []int, slivers io.ReaderAt, want []int, out io.WriterAt, blockBytes int) error {
	kp, ks := e.p.PrimarySymbols(), e.p.SecondarySymbols()
	s, err := e.p.SymbolSize(md.UnencodedLength)
	if err != nil {
		return err
	}
	if blockBytes <= 0 {
		blockBytes = DefaultBlockBytes
	}
	use, err := e.pickRows(have, want)
	if err != nil {
		return err
	}
	if len(want) == 0 {
		return nil
	}
	rowLen := int64(ks * s)
	cb := max(1, min(ks, blockBytes/(kp*s))) // columns per block
	d := &rowDecoder{e: e, lay: newSymLayout(s), have: have, use: use, want: want,
		in:   make([]byte, kp*cb*s),        // symbols c0..c1 of each used sliver, sliver after sliver
		got:  make([]byte, len(want)*cb*s), // the wanted rows' symbols c0..c1, row after row
		errs: make([]error, e.workers)}
	d.arenas = e.getArenas()
	defer e.putArenas(d.arenas)
	for c0 := 0; c0 < ks; c0 += cb {
		c1 := min(ks, c0+cb)
		w := (c1 - c0) * s
		for u, i := range use {
			if _, err := readFull(slivers, d.in[u*w:(u+1)*w], int64(i)*rowLen+int64(c0*s)); err != nil {
				return err
			}
		}
		if err := d.block(c1 - c0); err != nil {
			return err
		}
		for j := range want {
			if _, err := out.WriteAt(d.got[j*w:(j+1)*w], int64(j)*rowLen+int64(c0*s)); err != nil {
				return fmt.Errorf("redstuff: writing decoded rows: %w", err)
			}
		}
	}
	return nil
}

// pickRows checks DecodeRows's arguments: the indices of have are primary
// sliver indices, at least k_p of them distinct, and every wanted row is
// systematic. It returns the positions in have of the first k_p distinct
// slivers, the ones the decode uses.
func (e *Encoder) pickRows(have, want []int) ([]int, error) {
	kp, n := e.p.PrimarySymbols(), e.p.N()
	seen := make([]bool, n)
	use := make([]int, 0, kp) // positions in have
	for i, idx := range have {
		if idx < 0 || idx >= n {
			return nil, fmt.Errorf("%w: primary sliver %d, n = %d", ErrSliverShape, idx, n)
		}
		if seen[idx] || len(use) == kp {
			continue
		}
		seen[idx] = true
		use = append(use, i)
	}
	if len(use) < kp {
		return nil, fmt.Errorf("%w: %d primary slivers of %d needed", ErrNotEnoughSymbols, len(use), kp)
	}
	for _, r := range want {
		if r < 0 || r >= kp {
			return nil, fmt.Errorf("%w: row %d is not systematic (k_p = %d)", ErrSliverShape, r, kp)
		}
	}
	return use, nil
}

// rowDecoder is the state of one DecodeRows: the block buffers, reused from
// block to block, and the workers' arenas and errors.
type rowDecoder struct {
	e               *Encoder
	lay             symLayout
	have, use, want []int
	in, got         []byte
	arenas          []*arena
	errs            []error
}

// block decodes the current block of cnt columns: from the used slivers'
// symbols in d.in it rebuilds the wanted rows' symbols into d.got, in
// batches of columns, in parallel.
func (d *rowDecoder) block(cnt int) error {
	e := d.e
	kp, n, s := e.p.PrimarySymbols(), e.p.N(), d.lay.s
	lay, have, use, want, in, got := d.lay, d.have, d.use, d.want, d.in, d.got
	w := cnt * s
	parallelFor(e.workers, cnt, batch(cnt, e.workers, lay.stride), func(wk, lo, hi int) {
		a := d.arenas[wk]
		c := hi - lo
		sh := a.shardSet(2*kp, lay.packedLen(c))
		shards := make([][]byte, n)
		for o := range kp { // room for the missing originals
			shards[o] = sh[kp+o][:0]
		}
		for u, i := range use {
			lay.packMany(sh[u], 0, in[u*w+lo*s:u*w+hi*s], c)
			shards[have[i]] = sh[u]
		}
		if err := e.primary.ReconstructData(shards); err != nil {
			d.errs[wk] = err
			return
		}
		for j, r := range want {
			lay.unpackMany(got[j*w+lo*s:j*w+hi*s], shards[r], 0, c)
		}
	})
	for _, err := range d.errs {
		if err != nil {
			return err
		}
	}
	return nil
}
