package quilt

import (
	"fmt"

	"github.com/walrus-go/walrus/blob"
)

// MaxIndexColumns is the most columns the index may take
// (MAX_NUM_SLIVERS_FOR_QUILT_INDEX).
const MaxIndexColumns = 10

// MaxPatches is the most patches a quilt holds for the parameters: one
// column each, after at least one column of index (k_s − 1; 666 for n=1000).
func MaxPatches(p blob.Params) int { return p.SecondarySymbols() - 1 }

// computeSymbolSize is Walrus's compute_symbol_size: the smallest symbol size
// at which every item (sizes[0] is the index with its prefix, then the
// patches) fits in whole columns of a rows×cols matrix, found by binary search
// between bounds, then rounded up to even. Following Walrus to the letter
// matters: another search could settle on another size, hence another blob.
func computeSymbolSize(sizes []uint64, cols, rows, maxIndexCols int) (int, error) {
	if len(sizes) == 0 {
		return 0, ErrNoPatches
	}
	if len(sizes) > cols {
		return 0, fmt.Errorf("%w: %d patches, at most %d", ErrTooManyPatches, len(sizes)-1, cols-1)
	}
	var sum, biggest uint64
	for _, sz := range sizes {
		sum += sz
		biggest = max(biggest, sz)
	}
	ceil := func(a, b uint64) uint64 { return (a + b - 1) / b }
	r, c := uint64(rows), uint64(cols)
	lo := max(ceil(sum, c*r), ceil(sizes[0], r*uint64(maxIndexCols)), ceil(indexPrefixSize, r))
	hi := ceil(biggest, c/uint64(len(sizes))*r)
	for lo < hi {
		mid := (lo + hi) / 2
		if fits(sizes, c, mid*r) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	s := lo + lo%blob.SymbolAlignment
	if s > blob.MaxSymbolSize {
		return 0, fmt.Errorf("%w: the patches need symbols of %d bytes, at most %d", ErrTooLarge, s, blob.MaxSymbolSize)
	}
	return int(s), nil
}

// fits reports whether every item fits in whole columns of colSize bytes.
func fits(sizes []uint64, cols, colSize uint64) bool {
	var used uint64
	for _, sz := range sizes {
		used += (sz + colSize - 1) / colSize
		if used > cols {
			return false
		}
	}
	return true
}

// geometry is the shape of a quilt's message matrix: rows × cols symbols of
// s bytes, stored row-major.
type geometry struct{ rows, cols, s int }

func (g geometry) colSize() int { return g.rows * g.s }

// write copies data into matrix m as the column-major stream of columns
// col.., starting off bytes into that stream.
func (g geometry) write(m []byte, col, off int, data []byte) {
	cs := g.colSize()
	for len(data) > 0 {
		c, r, w := col+off/cs, off%cs/g.s, off%g.s
		pos := (r*g.cols+c)*g.s + w
		n := copy(m[pos:pos+g.s-w], data)
		data, off = data[n:], off+n
	}
}

// stream is the column-major byte stream of a run of columns.
type stream interface {
	size() int64
	// read returns a copy of bytes [off, off+n) of the stream, or an error
	// wrapping ErrMissingColumns if they run past its end.
	read(off, n int64) ([]byte, error)
}

func checkRead(st stream, off, n int64) error {
	if off < 0 || n < 0 || off+n > st.size() {
		return fmt.Errorf("%w: bytes [%d, %d) of the patch, the columns hold %d", ErrMissingColumns, off, off+n, st.size())
	}
	return nil
}

// columnStream is a stream over columns given one by one (secondary slivers).
type columnStream struct {
	cols    [][]byte
	colSize int
}

func (cs columnStream) size() int64 { return int64(len(cs.cols)) * int64(cs.colSize) }

func (cs columnStream) read(off, n int64) ([]byte, error) {
	if err := checkRead(cs, off, n); err != nil {
		return nil, err
	}
	out := make([]byte, n)
	cs64 := int64(cs.colSize)
	for i := int64(0); i < n; {
		col := cs.cols[(off+i)/cs64]
		i += int64(copy(out[i:], col[(off+i)%cs64:]))
	}
	return out, nil
}

// matrixStream is a stream over columns [start, end) of a whole quilt blob.
type matrixStream struct {
	m          []byte
	g          geometry
	start, end int
}

func (ms matrixStream) size() int64 {
	return int64(ms.end-ms.start) * int64(ms.g.colSize())
}

func (ms matrixStream) read(off, n int64) ([]byte, error) {
	if err := checkRead(ms, off, n); err != nil {
		return nil, err
	}
	g, cs := ms.g, int64(ms.g.colSize())
	out := make([]byte, n)
	for i := int64(0); i < n; {
		c, r, w := ms.start+int((off+i)/cs), int((off+i)%cs)/g.s, int((off+i)%int64(g.s))
		pos := (r*g.cols+c)*g.s + w
		i += int64(copy(out[i:], ms.m[pos:pos+g.s-w]))
	}
	return out, nil
}
