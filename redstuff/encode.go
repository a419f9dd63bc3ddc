// Package redstuff is the RedStuff two-dimensional erasure code of Walrus
// (encoding type RS2), byte-compatible with Walrus: the message matrix, the
// n×n expansion, primary and secondary slivers and their pairs, metadata and
// blob ID, sliver verification, recovery symbols with Merkle proofs, sliver
// recovery, blob decoding with the Default / Strict / Skip consistency checks,
// and inconsistency proofs (the typed error *InconsistencyError carries one).
//
// Layout (spec 1.3-1.5): the blob, zero-padded, is a k_p × k_s matrix of
// s-byte symbols in row-major order. Each row is extended to n symbols with
// the row code (k_s → n, the "secondary encoding"), then each of the n
// columns to n symbols with the column code (k_p → n, the "primary
// encoding"). Primary sliver i is row i's first k_s symbols; secondary sliver
// j is column j's first k_p symbols; sliver pair p holds primary p and
// secondary n-1-p.
//
// The package is pure. Encoders use a fixed number of worker goroutines that
// they start and wait for within a call.
package redstuff

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/merkle"
	"github.com/walrus-go/walrus/rs"
)

// Encoder encodes and decodes blobs for one shard count. It is safe for
// concurrent use.
type Encoder struct {
	p         blob.Params
	primary   *rs.Code // the column code: k_p source symbols → n
	secondary *rs.Code // the row code: k_s source symbols → n
	workers   int

	arenas sync.Pool // *arena, reused across calls
	leaves sync.Pool // *[]merkle.Node of n² leaf hashes
	blocks sync.Pool // *[]byte, the streaming passes' block buffers
}

func (e *Encoder) getArenas() []*arena {
	out := make([]*arena, e.workers)
	for i := range out {
		if a, ok := e.arenas.Get().(*arena); ok {
			out[i] = a
		} else {
			out[i] = new(arena)
		}
	}
	return out
}

func (e *Encoder) putArenas(as []*arena) {
	for _, a := range as {
		e.arenas.Put(a)
	}
}

// Option configures an Encoder.
type Option func(*Encoder)

// WithWorkers sets how many goroutines one encode or decode may use
// (default GOMAXPROCS).
func WithWorkers(n int) Option {
	return func(e *Encoder) { e.workers = max(1, n) }
}

// NewEncoder returns the encoder for the parameters p.
func NewEncoder(p blob.Params, opts ...Option) (*Encoder, error) {
	n := p.N()
	prim, err := rs.New(p.PrimarySymbols(), n-p.PrimarySymbols())
	if err != nil {
		return nil, fmt.Errorf("redstuff: primary code: %w", err)
	}
	sec, err := rs.New(p.SecondarySymbols(), n-p.SecondarySymbols())
	if err != nil {
		return nil, fmt.Errorf("redstuff: secondary code: %w", err)
	}
	e := &Encoder{p: p, primary: prim, secondary: sec, workers: runtime.GOMAXPROCS(0)}
	for _, o := range opts {
		o(e)
	}
	return e, nil
}

// Params returns the encoding parameters.
func (e *Encoder) Params() blob.Params { return e.p }

// code returns the code that expands a sliver of the given type: a primary
// sliver (a row) is expanded with the row code, a secondary one with the column code.
func (e *Encoder) code(t blob.SliverType) *rs.Code {
	if t == blob.Primary {
		return e.secondary
	}
	return e.primary
}

// Encoded is a blob's metadata and all its sliver pairs.
type Encoded struct {
	Metadata   blob.MetadataWithID
	SymbolSize int
	n, kp, ks  int
	primary    []byte // n primary slivers of k_s·s bytes
	secondary  []byte // n secondary slivers of k_p·s bytes
}

// Primary returns primary sliver i (it aliases the Encoded's memory).
func (x *Encoded) Primary(i int) Sliver {
	l := x.ks * x.SymbolSize
	return Sliver{Type: blob.Primary, Index: uint16(i), SymbolSize: uint16(x.SymbolSize), Data: x.primary[i*l : (i+1)*l : (i+1)*l]}
}

// Secondary returns secondary sliver j (it aliases the Encoded's memory).
func (x *Encoded) Secondary(j int) Sliver {
	l := x.kp * x.SymbolSize
	return Sliver{Type: blob.Secondary, Index: uint16(j), SymbolSize: uint16(x.SymbolSize), Data: x.secondary[j*l : (j+1)*l : (j+1)*l]}
}

// Pair returns sliver pair p: primary sliver p and secondary sliver n-1-p.
func (x *Encoded) Pair(p int) SliverPair {
	return SliverPair{Primary: x.Primary(p), Secondary: x.Secondary(x.n - 1 - p)}
}

// Sliver returns the sliver of type t with index i.
func (x *Encoded) Sliver(t blob.SliverType, i int) Sliver {
	if t == blob.Primary {
		return x.Primary(i)
	}
	return x.Secondary(i)
}

// Metadata computes the metadata and blob ID of data without keeping the
// slivers: its memory is the blob, about half the blob for the secondary
// encoding, and n²·32 bytes of leaf hashes.
func (e *Encoder) Metadata(data []byte) (blob.MetadataWithID, error) {
	x, err := e.run(data, false)
	if err != nil {
		return blob.MetadataWithID{}, err
	}
	return x.Metadata, nil
}

// Encode computes the metadata and every sliver pair of data. The slivers
// take about 4.5 times the blob's size.
func (e *Encoder) Encode(data []byte) (*Encoded, error) { return e.run(data, true) }

// expansion is the state of one encode.
type expansion struct {
	e          *Encoder
	n, kp, ks  int
	s          int
	lay        symLayout
	rows       [][]byte // the k_p rows of the (zero-padded) message matrix
	sec        []byte   // secondary slivers from secBase on, k_p·s bytes each
	secBase    int
	prim       []byte        // all primary slivers (only when keeping slivers)
	leaves     []merkle.Node // n×n leaf hashes, row-major
	pairHashes []blob.SliverPairMetadata
}

func (e *Encoder) run(data []byte, keep bool) (*Encoded, error) {
	s, err := e.p.SymbolSize(uint64(len(data)))
	if err != nil {
		return nil, err
	}
	n, kp, ks := e.p.N(), e.p.PrimarySymbols(), e.p.SecondarySymbols()
	x := &expansion{e: e, n: n, kp: kp, ks: ks, s: s, lay: newSymLayout(s)}
	x.rows = matrixRows(data, kp, ks*s)
	if keep {
		x.sec = make([]byte, n*kp*s)
		x.prim = make([]byte, n*ks*s)
	} else {
		x.secBase = ks
		x.sec = make([]byte, (n-ks)*kp*s)
	}
	lp, _ := e.leaves.Get().(*[]merkle.Node)
	if lp == nil {
		lp = &[]merkle.Node{}
		*lp = make([]merkle.Node, n*n)
	}
	defer e.leaves.Put(lp)
	x.leaves = *lp
	x.pairHashes = make([]blob.SliverPairMetadata, n)

	arenas := e.getArenas()
	defer e.putArenas(arenas)
	x.phaseRows(arenas)
	x.phaseColumns(arenas)
	parallelFor(e.workers, n, 1, func(_ int, lo, hi int) {
		for r := lo; r < hi; r++ {
			x.pairHashes[r].Primary = merkle.Root(x.leaves[r*n : (r+1)*n])
		}
	})
	md := blob.Metadata{EncodingType: blob.RS2, UnencodedLength: uint64(len(data)), Hashes: x.pairHashes}
	out := &Encoded{
		Metadata:   blob.MetadataWithID{ID: md.ComputeID(), Metadata: md},
		SymbolSize: s, n: n, kp: kp, ks: ks,
		primary: x.prim, secondary: x.sec,
	}
	return out, nil
}

// matrixRows slices data into k_p rows of rowLen bytes, copying the rows that
// reach past the end of data into a zero-padded buffer.
func matrixRows(data []byte, kp, rowLen int) [][]byte {
	rows := make([][]byte, kp)
	full := min(len(data)/rowLen, kp)
	for r := range full {
		rows[r] = data[r*rowLen : (r+1)*rowLen : (r+1)*rowLen]
	}
	if full < kp {
		tail := make([]byte, (kp-full)*rowLen)
		copy(tail, data[full*rowLen:])
		for r := full; r < kp; r++ {
			off := (r - full) * rowLen
			rows[r] = tail[off : off+rowLen : off+rowLen]
		}
	}
	return rows
}

// secAt is symbol r of secondary sliver j (j >= secBase).
func (x *expansion) secAt(j, r int) []byte {
	off := ((j-x.secBase)*x.kp + r) * x.s
	return x.sec[off : off+x.s]
}

// batch picks how many rows or columns one task takes: enough symbols for
// shards of a few KiB, but at least two tasks per worker when possible.
func batch(total, workers, stride int) int {
	b := max(1, (8<<10)/(2*stride))
	per := (total + 2*workers - 1) / (2 * workers)
	return max(1, min(b, per))
}

// arena is a worker's reusable buffers.
type arena struct {
	buf     []byte
	shards  [][]byte
	scratch []byte
	leafBuf []merkle.Node
}

// shardSet returns count shards of plen bytes from the arena. They are not
// cleared: every codeword position is written before it is read, and stale
// bytes in padding lanes only reach padding lanes of the outputs (the code is
// element-wise), which are never unpacked.
func (a *arena) shardSet(count, plen int) [][]byte {
	if cap(a.buf) < count*plen {
		a.buf = make([]byte, count*plen)
	}
	buf := a.buf[:count*plen]
	if cap(a.shards) < count {
		a.shards = make([][]byte, count)
	}
	sh := a.shards[:count]
	for i := range sh {
		sh[i] = buf[i*plen : (i+1)*plen : (i+1)*plen]
	}
	return sh
}

func (a *arena) scratchBytes(n int) []byte {
	if cap(a.scratch) < n {
		a.scratch = make([]byte, n)
	}
	return a.scratch[:n]
}

// phaseRows runs the row code over batches of the k_p message rows: it fills
// the secondary slivers k_s..n-1 and hashes every symbol of rows 0..k_p-1.
func (x *expansion) phaseRows(arenas []*arena) {
	n, ks, s := x.n, x.ks, x.s
	k := kernel{e: x.e, lay: x.lay, n: n, kp: x.kp, ks: ks, s: s, leaves: x.leaves}
	b := batch(x.kp, x.e.workers, x.lay.stride)
	parallelFor(x.e.workers, x.kp, b, func(w int, r0, r1 int) {
		k.rows(arenas[w], r0, r1, func(r int) []byte { return x.rows[r] }, func(syms []byte) {
			rr := n - ks
			for j := range rr {
				for r := r0; r < r1; r++ {
					o := ((r-r0)*rr + j) * s
					copy(x.secAt(ks+j, r), syms[o:o+s])
				}
			}
			if x.prim != nil {
				for r := r0; r < r1; r++ {
					copy(x.prim[r*ks*s:(r+1)*ks*s], x.rows[r])
					for c := range ks {
						copy(x.secAt(c, r), x.rows[r][c*s:(c+1)*s])
					}
				}
			}
		})
	})
}

// phaseColumns runs the column code over batches of the n columns: it hashes
// the symbols of rows k_p..n-1, fills primary slivers k_p..n-1 when kept, and
// computes every column's Merkle root (the secondary sliver hashes).
func (x *expansion) phaseColumns(arenas []*arena) {
	n, kp, ks, s := x.n, x.kp, x.ks, x.s
	k := kernel{e: x.e, lay: x.lay, n: n, kp: kp, ks: ks, s: s, leaves: x.leaves, pairHashes: x.pairHashes}
	from := colSource{run: func(r, a, b int) []byte { return x.rows[r][a*s : b*s] }, runEnd: ks,
		sym: func(r, c int) []byte { return x.secAt(c, r) }}
	b := batch(n, x.e.workers, x.lay.stride)
	parallelFor(x.e.workers, n, b, func(w int, c0, c1 int) {
		k.columns(arenas[w], c0, c1, from, nil, func(j int, row []byte) {
			if x.prim != nil && c0 < ks {
				i, hi := kp+j, min(c1, ks)
				copy(x.prim[(i*ks+c0)*s:(i*ks+hi)*s], row[:(hi-c0)*s])
			}
		})
	})
}

// parallelFor splits [0, total) into chunks of size step and runs fn on them
// from `workers` goroutines; fn gets the worker index and the chunk bounds.
func parallelFor(workers, total, step int, fn func(worker, lo, hi int)) {
	chunks := (total + step - 1) / step
	workers = max(1, min(workers, chunks))
	if workers == 1 {
		for lo := 0; lo < total; lo += step {
			fn(0, lo, min(lo+step, total))
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				c := int(next.Add(1) - 1)
				if c >= chunks {
					return
				}
				lo := c * step
				fn(w, lo, min(lo+step, total))
			}
		}()
	}
	wg.Wait()
}
