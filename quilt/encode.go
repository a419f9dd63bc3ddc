package quilt

import (
	"encoding/binary"
	"fmt"
	"slices"
	"strings"

	"github.com/walrus-go/walrus/blob"
)

// Quilt is an encoded quilt: the blob to store, its shape and its index.
type Quilt struct {
	Params     blob.Params
	SymbolSize int
	// Blob is the quilt blob, k_p·k_s·SymbolSize bytes: store it as an
	// ordinary blob (with the attribute _walrusBlobType=quilt). Its blob ID is
	// the quilt ID of every patch ID.
	Blob  []byte
	Index Index
}

// plan is a quilt's layout before any byte is written.
type plan struct {
	patches  []*Patch // sorted by identifier
	prefixes [][]byte
	index    Index // ranges filled in
	s        int
}

// newPlan checks the patches and lays them out as Walrus construct_quilt does:
// sorted by identifier (bytewise), the index first, each patch in whole
// columns after the previous, at the smallest symbol size that fits.
func newPlan(p blob.Params, patches []Patch) (*plan, error) {
	if len(patches) == 0 {
		return nil, ErrNoPatches
	}
	if len(patches) > MaxPatches(p) {
		return nil, fmt.Errorf("%w: %d patches, at most %d with %d shards", ErrTooManyPatches, len(patches), MaxPatches(p), p.N())
	}
	pl := &plan{patches: make([]*Patch, len(patches))}
	for i := range patches {
		if err := ValidateIdentifier(patches[i].Identifier); err != nil {
			return nil, err
		}
		if err := checkTags(patches[i].Tags); err != nil {
			return nil, err
		}
		pl.patches[i] = &patches[i]
	}
	slices.SortFunc(pl.patches, func(a, b *Patch) int { return strings.Compare(a.Identifier, b.Identifier) })
	for i := 1; i < len(pl.patches); i++ {
		if pl.patches[i].Identifier == pl.patches[i-1].Identifier {
			return nil, fmt.Errorf("%w: %s", ErrDuplicateIdentifier, short(pl.patches[i].Identifier))
		}
	}
	entries := make([]Entry, len(pl.patches))
	sizes := make([]uint64, 1, len(pl.patches)+1)
	pl.prefixes = make([][]byte, len(pl.patches))
	for i, pt := range pl.patches {
		pre, err := pt.prefix()
		if err != nil {
			return nil, err
		}
		pl.prefixes[i] = pre
		entries[i] = Entry{Identifier: pt.Identifier, Tags: pt.Tags}
		sizes = append(sizes, uint64(len(pre))+uint64(len(pt.Data)))
	}
	sizes[0] = uint64(indexPrefixSize + indexBCSSize(entries))
	s, err := computeSymbolSize(sizes, p.SecondarySymbols(), p.PrimarySymbols(), MaxIndexColumns)
	if err != nil {
		return nil, err
	}
	pl.s = s
	colSize := uint64(p.PrimarySymbols() * s)
	columns := func(size uint64) int { return int((size + colSize - 1) / colSize) }
	pl.index.Columns = columns(sizes[0])
	col := pl.index.Columns
	for i := range entries {
		entries[i].Start = uint16(col)
		col += columns(sizes[i+1])
		entries[i].End = uint16(col)
	}
	pl.index.Entries = entries
	return pl, nil
}

// Encode lays the patches out as a QuiltV1 for the parameters p, byte for
// byte as Walrus does. The patches are sorted by identifier (the input slice
// is not modified); identifiers must be valid (ValidateIdentifier) and
// distinct. Errors wrap ErrNoPatches, ErrTooManyPatches, ErrInvalidIdentifier,
// ErrDuplicateIdentifier, ErrInvalidTags or ErrTooLarge.
//
// The returned quilt's index and blob share nothing with the input except the
// tag maps.
func Encode(p blob.Params, patches []Patch) (*Quilt, error) {
	pl, err := newPlan(p, patches)
	if err != nil {
		return nil, err
	}
	g := geometry{rows: p.PrimarySymbols(), cols: p.SecondarySymbols(), s: pl.s}
	m := make([]byte, g.rows*g.cols*g.s)
	for i, pt := range pl.patches {
		col := int(pl.index.Entries[i].Start)
		g.write(m, col, 0, pl.prefixes[i])
		g.write(m, col, len(pl.prefixes[i]), pt.Data)
	}
	idx := appendIndexBCS(nil, pl.index.Entries)
	head := binary.LittleEndian.AppendUint32([]byte{Version}, uint32(len(idx)))
	g.write(m, 0, 0, head)
	g.write(m, 0, len(head), idx)
	return &Quilt{Params: p, SymbolSize: pl.s, Blob: m, Index: pl.index}, nil
}
