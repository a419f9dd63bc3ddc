package redstuff

import (
	"errors"
	"fmt"
	"io"
	"sync/atomic"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/merkle"
)

// Streaming encoding: the blob is read from an io.ReaderAt in blocks and the
// parts of the expansion that are neither in the blob nor cheap to re-read
// from it are spilled to a scratch space, so that memory does not grow with
// the blob.
//
// Of the n primary slivers, rows 0..k_p-1 are rows of the blob and are read
// from it; rows k_p..n-1 (the column code's parity, about 2x the blob) are
// spilled. Of the n secondary slivers, columns 0..k_s-1 are columns of the
// blob (read from it with one read per row and run of columns); columns
// k_s..n-1 (the row code's parity, about half the blob) are spilled. The
// scratch space therefore holds about 2.5x the blob:
//
//	[0, secBytes)              secondary slivers k_s..n-1, k_p·s bytes each
//	[secBytes, +primBytes)     primary slivers k_p..n-1, k_s·s bytes each
//
// Two passes compute everything the metadata needs (every symbol of the n×n
// expansion is hashed):
//  1. rows, in blocks of whole rows (one read each): the row code extends
//     each row to n symbols; the new symbols are spilled as the secondary
//     slivers k_s..n-1 and every symbol of the row is hashed;
//  2. columns, in blocks of columns: the column code extends each column to
//     n symbols; the new symbols are hashed, and those of the systematic
//     columns spilled as the primary slivers k_p..n-1. Each column's Merkle
//     root is a secondary sliver hash; each row's, once all columns are
//     done, a primary sliver hash.
//
// Spilling was chosen over recomputing the parity rows per node: the parity
// rows are one third of the expansion and come out of the column pass one
// column at a time, so recomputing them for a window of rows costs a whole
// column pass per window, quadratic in the blob size for a fixed memory
// budget, while spilling writes them once.

// ReadWriterAt is random-access scratch space (a temporary file, or memory).
type ReadWriterAt interface {
	io.ReaderAt
	io.WriterAt
}

// ScratchSize is the scratch space EncodeStream needs for a blob of size bytes.
func (e *Encoder) ScratchSize(size uint64) (int64, error) {
	s, err := e.p.SymbolSize(size)
	if err != nil {
		return 0, err
	}
	n, kp, ks := int64(e.p.N()), int64(e.p.PrimarySymbols()), int64(e.p.SecondarySymbols())
	return (n-ks)*kp*int64(s) + (n-kp)*ks*int64(s), nil
}

// Stream is a blob encoded by EncodeStream: its metadata, and its slivers
// readable from the blob and the scratch space. It is safe for concurrent
// reads as long as src and scratch are (os.File is).
type Stream struct {
	Metadata   blob.MetadataWithID
	SymbolSize int

	src       io.ReaderAt
	size      int64
	scratch   io.ReaderAt
	n, kp, ks int
	s         int
	secBytes  int64 // bytes of the spilled secondary slivers
}

// DefaultBlockBytes is the default size of the encoder's read blocks.
const DefaultBlockBytes = 8 << 20

// EncodeStream encodes the blob of size bytes that src holds, spilling into
// scratch (at least ScratchSize bytes, written from offset 0). blockBytes
// bounds each of the encoder's block buffers (0: DefaultBlockBytes); the
// memory of an encode is about five blocks plus n²·32 bytes of leaf hashes
// (32 MiB at n = 1000), whatever the blob's size. The result reads its
// slivers from src and scratch, which must stay unchanged while it is used.
func (e *Encoder) EncodeStream(src io.ReaderAt, size uint64, scratch ReadWriterAt, blockBytes int) (*Stream, error) {
	return e.encodeStream(src, size, scratch, blockBytes, false)
}

// MetadataScratchSize is the scratch space MetadataStream needs: the
// secondary slivers k_s..n-1 only, about half the blob.
func (e *Encoder) MetadataScratchSize(size uint64) (int64, error) {
	s, err := e.p.SymbolSize(size)
	if err != nil {
		return 0, err
	}
	n, kp, ks := int64(e.p.N()), int64(e.p.PrimarySymbols()), int64(e.p.SecondarySymbols())
	return (n - ks) * kp * int64(s), nil
}

// MetadataStream computes the metadata and blob ID of the blob src holds,
// as EncodeStream does, without spilling the primary slivers (scratch needs
// only MetadataScratchSize bytes).
func (e *Encoder) MetadataStream(src io.ReaderAt, size uint64, scratch ReadWriterAt, blockBytes int) (blob.MetadataWithID, error) {
	x, err := e.encodeStream(src, size, scratch, blockBytes, true)
	if err != nil {
		return blob.MetadataWithID{}, err
	}
	return x.Metadata, nil
}

func (e *Encoder) encodeStream(src io.ReaderAt, size uint64, scratch ReadWriterAt, blockBytes int, metadataOnly bool) (*Stream, error) {
	s, err := e.p.SymbolSize(size)
	if err != nil {
		return nil, err
	}
	if blockBytes <= 0 {
		blockBytes = DefaultBlockBytes
	}
	n, kp, ks := e.p.N(), e.p.PrimarySymbols(), e.p.SecondarySymbols()
	x := &Stream{SymbolSize: s, src: src, size: int64(size), scratch: scratch, n: n, kp: kp, ks: ks, s: s,
		secBytes: int64(n-ks) * int64(kp) * int64(s)}
	lp, _ := e.leaves.Get().(*[]merkle.Node)
	if lp == nil {
		lp = &[]merkle.Node{}
		*lp = make([]merkle.Node, n*n)
	}
	defer e.leaves.Put(lp)
	st := &streamEncode{e: e, x: x, lay: newSymLayout(s), leaves: *lp, scratch: scratch, block: blockBytes,
		pairHashes: make([]blob.SliverPairMetadata, n), metadataOnly: metadataOnly}
	arenas := e.getArenas()
	defer e.putArenas(arenas)
	if err := st.rows(arenas); err != nil {
		return nil, err
	}
	if err := st.columns(arenas); err != nil {
		return nil, err
	}
	parallelFor(e.workers, n, 1, func(_ int, lo, hi int) {
		for r := lo; r < hi; r++ {
			st.pairHashes[r].Primary = merkle.Root(st.leaves[r*n : (r+1)*n])
		}
	})
	md := blob.Metadata{EncodingType: blob.RS2, UnencodedLength: size, Hashes: st.pairHashes}
	x.Metadata = blob.MetadataWithID{ID: md.ComputeID(), Metadata: md}
	return x, nil
}

// streamEncode is the state of one EncodeStream.
type streamEncode struct {
	e          *Encoder
	x          *Stream
	lay        symLayout
	leaves     []merkle.Node // n×n, row-major
	pairHashes []blob.SliverPairMetadata
	scratch    io.WriterAt
	block      int
	// metadataOnly skips spilling the primary slivers.
	metadataOnly bool
}

// readBlob reads blob bytes at off into dst, zero-filling past the end of
// the blob (the padding of the message matrix).
func (x *Stream) readBlob(dst []byte, off int64) error {
	n := 0
	if off < x.size {
		want := int(min(int64(len(dst)), x.size-off))
		got, err := x.src.ReadAt(dst[:want], off)
		if got < want {
			if err == nil || errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return fmt.Errorf("redstuff: reading the blob at %d: %w", off, err)
		}
		n = want
	}
	clear(dst[n:])
	return nil
}

// rows is the first pass (see the overview above).
func (st *streamEncode) rows(arenas []*arena) error {
	x := st.x
	n, kp, ks, s := x.n, x.kp, x.ks, x.s
	rowLen := ks * s
	rr := n - ks
	rb := max(1, min(kp, st.block/rowLen)) // rows per block
	blocks := (kp + rb - 1) / rb
	bounds := func(k int) (int, int) { return k * rb, min(kp, (k+1)*rb) }
	read := func(k int, in []byte) error {
		r0, r1 := bounds(k)
		return x.readBlob(in[:(r1-r0)*rowLen], int64(r0)*int64(rowLen))
	}
	kn := kernel{e: st.e, lay: st.lay, n: n, kp: kp, ks: ks, s: s, leaves: st.leaves}
	// out holds the block's new symbols column-major: column j's symbols together.
	compute := func(k int, in, out []byte) {
		r0, r1 := bounds(k)
		cnt := r1 - r0
		row := func(r int) []byte { return in[(r-r0)*rowLen : (r-r0+1)*rowLen] }
		b := batch(cnt, st.e.workers, st.lay.stride)
		parallelFor(st.e.workers, cnt, b, func(w int, lo, hi int) {
			kn.rows(arenas[w], r0+lo, r0+hi, row, func(syms []byte) {
				for j := range rr {
					for i := lo; i < hi; i++ {
						o := ((i-lo)*rr + j) * s
						copy(out[(j*cnt+i)*s:(j*cnt+i+1)*s], syms[o:o+s])
					}
				}
			})
		})
	}
	write := func(k int, out []byte) error {
		r0, r1 := bounds(k)
		cnt := r1 - r0
		for j := range rr {
			off := int64(j)*int64(kp*s) + int64(r0*s)
			if _, err := st.scratch.WriteAt(out[j*cnt*s:(j+1)*cnt*s], off); err != nil {
				return fmt.Errorf("redstuff: writing scratch: %w", err)
			}
		}
		return nil
	}
	return st.e.pipeline(blocks, rb*rowLen, rb*rr*s, read, compute, write)
}

// columns is the second pass: blocks of systematic columns (read from the
// blob, one read per row) and then of parity columns (the spilled
// secondary slivers, one read per column).
func (st *streamEncode) columns(arenas []*arena) error {
	x := st.x
	n, kp, ks, s := x.n, x.kp, x.ks, x.s
	cb := max(1, min(n, st.block/(kp*s))) // columns per block
	// Blocks do not straddle the end of the systematic columns.
	sysBlocks := (ks + cb - 1) / cb
	blocks := sysBlocks + (n-ks+cb-1)/cb
	bounds := func(k int) (int, int) {
		if k < sysBlocks {
			return k * cb, min(ks, (k+1)*cb)
		}
		c0 := ks + (k-sysBlocks)*cb
		return c0, min(n, c0+cb)
	}
	read := func(k int, in []byte) error {
		c0, c1 := bounds(k)
		return x.readColumnBlock(in, c0, c1)
	}
	kn := kernel{e: st.e, lay: st.lay, n: n, kp: kp, ks: ks, s: s, leaves: st.leaves, pairHashes: st.pairHashes}
	// out holds the parity rows of systematic columns, row-major in the block.
	compute := func(k int, in, out []byte) {
		c0, c1 := bounds(k)
		cnt := c1 - c0
		// A systematic block is row-major (one read per row), a parity
		// block column-major (the spilled secondary slivers).
		from := colSource{sym: func(r, c int) []byte { o := (c-c0)*kp*s + r*s; return in[o : o+s] }}
		if c0 < ks {
			from = colSource{run: func(r, a, b int) []byte { return in[r*cnt*s+(a-c0)*s : r*cnt*s+(b-c0)*s] }, runEnd: c1}
		}
		keep := c0 < ks && !st.metadataOnly
		b := batch(cnt, st.e.workers, st.lay.stride)
		parallelFor(st.e.workers, cnt, b, func(w int, lo, hi int) {
			var dst func(j int) []byte
			if keep { // the kept symbols go straight into the block's output
				dst = func(j int) []byte { return out[(j*cnt+lo)*s : (j*cnt+hi)*s] }
			}
			kn.columns(arenas[w], c0+lo, c0+hi, from, dst, nil)
		})
	}
	write := func(k int, out []byte) error {
		c0, c1 := bounds(k)
		if c0 >= ks || st.metadataOnly {
			return nil
		}
		return st.spillParityRows(out, c0, c1)
	}
	outLen := 0
	if !st.metadataOnly {
		outLen = (n - kp) * min(cb, ks) * s
	}
	return st.e.pipeline(blocks, kp*cb*s, outLen, read, compute, write)
}

// readColumnBlock reads columns c0..c1-1 into in for the column pass. A
// block of systematic columns comes from the blob with one read per row
// (row-major in in); a block of parity columns is one read of the spilled
// secondary slivers (column-major).
func (x *Stream) readColumnBlock(in []byte, c0, c1 int) error {
	kp, ks, s := x.kp, x.ks, x.s
	cnt := c1 - c0
	if c0 < ks {
		rowLen := int64(ks * s)
		w := cnt * s
		for r := range kp {
			if err := x.readBlob(in[r*w:(r+1)*w], int64(r)*rowLen+int64(c0*s)); err != nil {
				return err
			}
		}
		return nil
	}
	w := kp * s
	_, err := readFull(x.scratch, in[:cnt*w], int64(c0-ks)*int64(w))
	return err
}

// spillParityRows writes the parity-row symbols of systematic columns
// c0..c1-1, which out holds row-major, into the primary slivers k_p..n-1
// of the scratch space.
func (st *streamEncode) spillParityRows(out []byte, c0, c1 int) error {
	x := st.x
	s, cnt := x.s, c1-c0
	rowLen := int64(x.ks * s)
	for j := range x.n - x.kp {
		off := x.secBytes + int64(j)*rowLen + int64(c0*s)
		if _, err := st.scratch.WriteAt(out[j*cnt*s:(j+1)*cnt*s], off); err != nil {
			return fmt.Errorf("redstuff: writing scratch: %w", err)
		}
	}
	return nil
}

// pipeline runs blocks 0..count-1 through read, compute and write with two
// buffers of each kind: block k+1 is read and block k-1 written while
// block k is computed, so that the I/O of the streaming passes fills the
// gaps of the parallel computation instead of stopping it. Every write
// has completed when it returns; the first error stops it.
func (e *Encoder) pipeline(count, inLen, outLen int, read func(k int, in []byte) error,
	compute func(k int, in, out []byte), write func(k int, out []byte) error) error {
	p := &blockPipe{
		inFree: make(chan []byte, 2), outFree: make(chan []byte, 2),
		stop: make(chan struct{}), reads: make(chan pipeBlock),
		writes: make(chan pipeBlock, 1), written: make(chan error, 1),
	}
	for range 2 {
		p.inFree <- e.getBlock(inLen)
		p.outFree <- e.getBlock(outLen)
	}
	go p.readAhead(count, read)
	go p.writeBehind(write)
	err := p.computeAll(count, compute)
	close(p.stop)
	close(p.writes)
	if werr := <-p.written; err == nil {
		err = werr
	}
	// Buffers go back to the pool only once nothing uses them.
	for b := range p.reads {
		p.inFree <- b.buf
	}
	for range 2 {
		e.putBlock(<-p.inFree)
		e.putBlock(<-p.outFree)
	}
	return err
}

// pipeBlock is one block on its way through a pipeline: its index, its
// buffer, and the error of reading it.
type pipeBlock struct {
	k   int
	buf []byte
	err error
}

// blockPipe is the state one pipeline shares between its reader and
// writer goroutines and its compute loop.
type blockPipe struct {
	inFree, outFree chan []byte    // idle buffers, two of each kind in all
	stop            chan struct{}  // closed when the compute loop is done
	reads           chan pipeBlock // blocks read, in order; closed by the reader
	writes          chan pipeBlock // blocks computed, in order; closed by pipeline
	written         chan error     // the writer's first error, once writes is drained
	failed          atomic.Bool    // a write has failed: compute no more blocks
}

// readAhead reads blocks 0..count-1 into idle input buffers and hands them
// on in order, until a read fails (that block, with its error, is the last
// one handed on) or stop is closed. It closes reads when it returns.
func (p *blockPipe) readAhead(count int, read func(k int, in []byte) error) {
	defer close(p.reads)
	for k := range count {
		var in []byte
		select {
		case in = <-p.inFree:
		case <-p.stop:
			return
		}
		err := read(k, in)
		select {
		case p.reads <- pipeBlock{k, in, err}:
		case <-p.stop:
			p.inFree <- in
			return
		}
		if err != nil {
			return
		}
	}
}

// writeBehind writes the computed blocks in order until writes is closed,
// returning every buffer to outFree. After the first failed write it sets
// failed and only drains the rest; the first error goes to written.
func (p *blockPipe) writeBehind(write func(k int, out []byte) error) {
	var first error
	for b := range p.writes {
		if first == nil {
			if first = write(b.k, b.buf); first != nil {
				p.failed.Store(true)
			}
		}
		p.outFree <- b.buf
	}
	p.written <- first
}

// computeAll computes the blocks as they are read and passes them to the
// writer, stopping at the first read error (which it returns), a failed
// write, or the end of the reads.
func (p *blockPipe) computeAll(count int, compute func(k int, in, out []byte)) error {
	for range count {
		if p.failed.Load() {
			return nil
		}
		r, ok := <-p.reads
		if !ok {
			return nil
		}
		if r.err != nil {
			p.inFree <- r.buf
			return r.err
		}
		out := <-p.outFree
		compute(r.k, r.buf, out)
		p.inFree <- r.buf
		p.writes <- pipeBlock{k: r.k, buf: out}
	}
	return nil
}

// getBlock returns a block buffer of n bytes (reused across encodes: fresh
// memory costs a page fault per page).
func (e *Encoder) getBlock(n int) []byte {
	if p, ok := e.blocks.Get().(*[]byte); ok && cap(*p) >= n {
		return (*p)[:n]
	}
	return make([]byte, n)
}

func (e *Encoder) putBlock(b []byte) {
	if cap(b) > 0 {
		e.blocks.Put(&b)
	}
}

// readFull reads len(dst) bytes at off.
func readFull(r io.ReaderAt, dst []byte, off int64) (int, error) {
	got, err := r.ReadAt(dst, off)
	if got == len(dst) {
		return got, nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return got, fmt.Errorf("redstuff: reading scratch at %d: %w", off, err)
}

// SliverLen is the data length of a sliver of type t.
func (x *Stream) SliverLen(t blob.SliverType) int {
	if t == blob.Primary {
		return x.ks * x.s
	}
	return x.kp * x.s
}

// N is the number of sliver pairs.
func (x *Stream) N() int { return x.n }

// ReadSlivers reads the data of the slivers of type t with the given
// indices into dst (dst[i] receives sliver idx[i] and must be SliverLen(t)
// bytes). Runs of consecutive systematic secondary slivers (columns of the
// blob) are gathered with one read per row of the blob, so callers should
// ask for many at once.
func (x *Stream) ReadSlivers(t blob.SliverType, idx []int, dst [][]byte) error {
	if len(idx) != len(dst) {
		return errors.New("redstuff: ReadSlivers: indices and buffers differ in number")
	}
	l := x.SliverLen(t)
	for i, j := range idx {
		if j < 0 || j >= x.n {
			return fmt.Errorf("%w: sliver index %d, n = %d", ErrSliverShape, j, x.n)
		}
		if len(dst[i]) != l {
			return fmt.Errorf("redstuff: ReadSlivers: buffer of %d bytes for a sliver of %d", len(dst[i]), l)
		}
	}
	if t == blob.Primary {
		for i, j := range idx {
			var err error
			if j < x.kp {
				err = x.readBlob(dst[i], int64(j)*int64(l))
			} else {
				_, err = readFull(x.scratch, dst[i], x.secBytes+int64(j-x.kp)*int64(l))
			}
			if err != nil {
				return err
			}
		}
		return nil
	}
	var cols []int // positions in idx of systematic columns
	for i, j := range idx {
		if j >= x.ks {
			if _, err := readFull(x.scratch, dst[i], int64(j-x.ks)*int64(l)); err != nil {
				return err
			}
			continue
		}
		cols = append(cols, i)
	}
	return x.readColumns(idx, dst, cols)
}

// readColumns gathers systematic columns: for every run of consecutive
// column indices, one read per blob row covers the whole run.
func (x *Stream) readColumns(idx []int, dst [][]byte, cols []int) error {
	s := x.s
	rowLen := int64(x.ks * s)
	var buf []byte
	for len(cols) > 0 {
		// A run: positions whose column indices increase by one.
		lo := idx[cols[0]]
		run := 1
		for run < len(cols) && idx[cols[run]] == lo+run {
			run++
		}
		// Runs in descending order (pairs ascending map to columns descending).
		if run == 1 {
			for run < len(cols) && idx[cols[run]] == lo-run {
				run++
			}
			if run > 1 {
				lo = idx[cols[run-1]]
			}
		}
		w := run * s
		if cap(buf) < w {
			buf = make([]byte, w)
		}
		b := buf[:w]
		for r := range x.kp {
			if err := x.readBlob(b, int64(r)*rowLen+int64(lo*s)); err != nil {
				return err
			}
			for k := range run {
				p := cols[k]
				c := idx[p] - lo
				copy(dst[p][r*s:(r+1)*s], b[c*s:(c+1)*s])
			}
		}
		cols = cols[run:]
	}
	return nil
}

// SliverLen is the data length of a sliver of type t.
func (x *Encoded) SliverLen(t blob.SliverType) int {
	if t == blob.Primary {
		return x.ks * x.SymbolSize
	}
	return x.kp * x.SymbolSize
}

// N is the number of sliver pairs.
func (x *Encoded) N() int { return x.n }

// ReadSlivers copies the data of the slivers of type t with the given
// indices into dst, as Stream.ReadSlivers does.
func (x *Encoded) ReadSlivers(t blob.SliverType, idx []int, dst [][]byte) error {
	if len(idx) != len(dst) {
		return errors.New("redstuff: ReadSlivers: indices and buffers differ in number")
	}
	for i, j := range idx {
		if j < 0 || j >= x.n {
			return fmt.Errorf("%w: sliver index %d, n = %d", ErrSliverShape, j, x.n)
		}
		d := x.Sliver(t, j).Data
		if len(dst[i]) != len(d) {
			return fmt.Errorf("redstuff: ReadSlivers: buffer of %d bytes for a sliver of %d", len(dst[i]), len(d))
		}
		copy(dst[i], d)
	}
	return nil
}

// MemScratch is scratch space in memory, for blobs small enough to keep.
type MemScratch []byte

// ReadAt implements io.ReaderAt.
func (m MemScratch) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off > int64(len(m)) {
		return 0, io.EOF
	}
	n := copy(p, m[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// WriteAt implements io.WriterAt; it never grows the space.
func (m MemScratch) WriteAt(p []byte, off int64) (int, error) {
	if off < 0 || off+int64(len(p)) > int64(len(m)) {
		return 0, fmt.Errorf("redstuff: scratch write of %d bytes at %d beyond its %d bytes", len(p), off, len(m))
	}
	return copy(m[off:], p), nil
}
