package quilt

import (
	"encoding/binary"
	"fmt"

	"github.com/walrus-go/walrus/blob"
)

// Open parses a whole quilt blob for the parameters p: its length gives the
// symbol size, its first columns the index. Errors wrap ErrMalformed or
// ErrVersion.
func Open(p blob.Params, quiltBlob []byte) (*Quilt, error) {
	src := p.SourceSymbols()
	if len(quiltBlob) == 0 || len(quiltBlob)%src != 0 || len(quiltBlob)/src > blob.MaxSymbolSize {
		return nil, fmt.Errorf("%w: a quilt blob of %d bytes is not k_p·k_s = %d symbols of at most %d bytes",
			ErrMalformed, len(quiltBlob), src, blob.MaxSymbolSize)
	}
	g := geometry{rows: p.PrimarySymbols(), cols: p.SecondarySymbols(), s: len(quiltBlob) / src}
	ix, err := decodeIndex(p, matrixStream{m: quiltBlob, g: g, end: g.cols}, g.colSize())
	if err != nil {
		return nil, err
	}
	return &Quilt{Params: p, SymbolSize: g.s, Blob: quiltBlob, Index: *ix}, nil
}

// geometry returns the quilt's matrix shape.
func (q *Quilt) geometry() geometry {
	return geometry{rows: q.Params.PrimarySymbols(), cols: q.Params.SecondarySymbols(), s: q.SymbolSize}
}

// Column returns a copy of column j (0 <= j < k_s) of the quilt's matrix:
// the data of secondary sliver j of the quilt blob.
func (q *Quilt) Column(j int) []byte {
	g := q.geometry()
	if j < 0 || j >= g.cols {
		return nil
	}
	col, _ := matrixStream{m: q.Blob, g: g, start: j, end: j + 1}.read(0, int64(g.colSize()))
	return col
}

// Patch reads the first patch with the identifier (ErrNotFound if none).
func (q *Quilt) Patch(identifier string) (Patch, error) {
	e, err := q.Index.Lookup(identifier)
	if err != nil {
		return Patch{}, err
	}
	return q.PatchAt(e.Start, e.End)
}

// PatchAt reads the patch stored in columns [start, end), as a patch ID names
// it. It does not consult the index: like Walrus, a read by patch ID decodes
// the patch header found at column start.
func (q *Quilt) PatchAt(start, end uint16) (Patch, error) {
	g := q.geometry()
	if start >= end || int(end) > g.cols {
		return Patch{}, fmt.Errorf("%w: columns [%d, %d) of a quilt of %d columns", ErrInvalidPatchID, start, end, g.cols)
	}
	return readPatch(matrixStream{m: q.Blob, g: g, start: int(start), end: int(end)})
}

// Patches reads every patch, in index order.
func (q *Quilt) Patches() ([]Patch, error) { return q.read(q.Index.Entries) }

// PatchesByTag reads the patches whose tag key has the value, in index order.
func (q *Quilt) PatchesByTag(key, value string) ([]Patch, error) {
	return q.read(q.Index.ByTag(key, value))
}

func (q *Quilt) read(entries []Entry) ([]Patch, error) {
	out := make([]Patch, 0, len(entries))
	for _, e := range entries {
		pt, err := q.PatchAt(e.Start, e.End)
		if err != nil {
			return nil, err
		}
		out = append(out, pt)
	}
	return out, nil
}

// IndexColumns returns how many columns the index takes, from column 0 alone
// (the data of secondary sliver 0): fetch that many before DecodeIndex.
// Errors wrap ErrMalformed or ErrVersion.
func IndexColumns(first []byte) (int, error) {
	_, n, err := indexSpan(first, len(first))
	return n, err
}

// indexSpan reads the index prefix at the start of head and returns the BCS
// index size and the number of columns of colSize bytes the index takes.
func indexSpan(head []byte, colSize int) (size int64, columns int, err error) {
	if len(head) < indexPrefixSize || colSize < indexPrefixSize {
		return 0, 0, fmt.Errorf("%w: a column of %d bytes cannot hold the index prefix", ErrMalformed, colSize)
	}
	if head[0] != Version {
		return 0, 0, fmt.Errorf("%w: index version %d", ErrVersion, head[0])
	}
	size = int64(binary.LittleEndian.Uint32(head[1:indexPrefixSize]))
	n := (indexPrefixSize + size + int64(colSize) - 1) / int64(colSize)
	if n > MaxIndexColumns {
		return 0, 0, fmt.Errorf("%w: an index of %d bytes takes %d columns, at most %d",
			ErrMalformed, indexPrefixSize+size, n, MaxIndexColumns)
	}
	return size, int(n), nil
}

// DecodeIndex decodes the index from the first columns of a quilt (the data
// of secondary slivers 0, 1, …, in order): at least IndexColumns(columns[0])
// of them; further ones are ignored. Errors wrap ErrMalformed, ErrVersion or
// ErrMissingColumns.
func DecodeIndex(p blob.Params, columns [][]byte) (*Index, error) {
	if len(columns) == 0 {
		return nil, fmt.Errorf("%w: the index needs column 0", ErrMissingColumns)
	}
	colSize := len(columns[0])
	if colSize == 0 || colSize%p.PrimarySymbols() != 0 || colSize/p.PrimarySymbols() > blob.MaxSymbolSize {
		return nil, fmt.Errorf("%w: a column of %d bytes is not %d symbols of at most %d bytes",
			ErrMalformed, colSize, p.PrimarySymbols(), blob.MaxSymbolSize)
	}
	n, err := IndexColumns(columns[0])
	if err != nil {
		return nil, err
	}
	if len(columns) < n {
		return nil, fmt.Errorf("%w: the index takes %d columns, %d given", ErrMissingColumns, n, len(columns))
	}
	if err := sameSize(columns[:n]); err != nil {
		return nil, err
	}
	return decodeIndex(p, columnStream{cols: columns[:n], colSize: colSize}, colSize)
}

// decodeIndex reads the index at the start of st (Walrus decode_quilt_index).
func decodeIndex(p blob.Params, st stream, colSize int) (*Index, error) {
	head, err := st.read(0, indexPrefixSize)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	size, n, err := indexSpan(head, colSize)
	if err != nil {
		return nil, err
	}
	if n > p.SecondarySymbols() {
		return nil, fmt.Errorf("%w: the index takes %d of %d columns", ErrMalformed, n, p.SecondarySymbols())
	}
	b, err := st.read(indexPrefixSize, size)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	entries, err := decodeIndexBCS(b, n)
	if err != nil {
		return nil, err
	}
	ix := &Index{Columns: n, Entries: entries}
	if err := checkRanges(p, ix); err != nil {
		return nil, err
	}
	return ix, nil
}

// ReadPatch decodes one patch from its columns (the data of the secondary
// slivers of its column range, in order; the range is in its patch ID or its
// index entry): the identifier, the tags (nil if none) and a copy of the data.
// Like Walrus it decodes the header at the first column and checks that the
// patch ends within the columns given (ErrMissingColumns otherwise). Other
// errors wrap ErrMalformed or ErrVersion.
func ReadPatch(columns [][]byte) (Patch, error) {
	if len(columns) == 0 || len(columns[0]) == 0 {
		return Patch{}, fmt.Errorf("%w: no columns given", ErrMissingColumns)
	}
	if err := sameSize(columns); err != nil {
		return Patch{}, err
	}
	return readPatch(columnStream{cols: columns, colSize: len(columns[0])})
}

func sameSize(columns [][]byte) error {
	for j, c := range columns {
		if len(c) != len(columns[0]) {
			return fmt.Errorf("%w: column %d has %d bytes, column 0 has %d", ErrMalformed, j, len(c), len(columns[0]))
		}
	}
	return nil
}
