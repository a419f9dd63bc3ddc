package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"sync"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/chain/chainclient"
	"github.com/walrus-go/walrus/committee"
	"github.com/walrus-go/walrus/redstuff"
)

// Streaming reads. The systematic primary slivers 0..k_p-1 are the rows of
// the blob, so a read fetches them in order with a bounded window ahead,
// verifies each against the metadata, and writes the blob's bytes out as
// soon as the next row is there: memory is the window, whatever the size.
// When a systematic sliver cannot be had from any node, the read gathers
// k_p verified primary slivers (in memory or a temporary file, by the
// budget), rebuilds the missing rows column block by column block
// (redstuff.DecodeRows), verifies them like slivers (the Default
// consistency check) and goes on from there.

// rowSource is where one sliver pair's primary sliver can be read.
type rowSource struct {
	addresses []string // the shard's owner now, then in the previous committee
}

// sources lists, for every pair, the nodes that hold its primary sliver.
func (c *Client) sources(id blob.ID, cur, prev *committee.Committee) []rowSource {
	n := c.params.N()
	out := make([]rowSource, n)
	for shard := range n {
		pair := c.params.PairOfShard(id, shard)
		if i, ok := cur.ShardOwner(shard); ok && cur.Member(i).NetworkAddress != "" {
			out[pair].addresses = append(out[pair].addresses, cur.Member(i).NetworkAddress)
		}
		if prev != nil {
			if i, ok := prev.ShardOwner(shard); ok && prev.Member(i).NetworkAddress != "" {
				a := prev.Member(i).NetworkAddress
				if len(out[pair].addresses) == 0 || out[pair].addresses[0] != a {
					out[pair].addresses = append(out[pair].addresses, a)
				}
			}
		}
	}
	return out
}

// fetchPrimary reads primary sliver pair from its nodes into buf and
// verifies it; it returns the sliver (aliasing buf) or the last error.
func (c *Client) fetchPrimary(ctx context.Context, md *blob.MetadataWithID, src rowSource, pair int, buf []byte) (*redstuff.Sliver, error) {
	var errs []error
	for _, addr := range src.addresses {
		nc, err := c.node(addr)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		rctx, cancel := context.WithTimeout(ctx, c.cfg.NodeTimeout)
		s, err := nc.SliverInto(rctx, md.ID, pair, blob.Primary, buf)
		cancel()
		if err == nil {
			if err = c.enc.VerifySliver(s, &md.Metadata); err == nil {
				return s, nil
			}
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		errs = append(errs, fmt.Errorf("%s pair %d: %w", addr, pair, err))
	}
	if len(errs) == 0 {
		errs = append(errs, fmt.Errorf("pair %d: no node holds its shard", pair))
	}
	return nil, errors.Join(errs...)
}

// readRows streams rows from..k_p-1 of the blob to w (only the bytes of
// the blob, not the padding past its end, though every row is fetched and
// verified). It returns the first row it could not read (k_p when all
// were), the bytes written and the error of that row. A write error ends
// the read.
func (c *Client) readRows(ctx context.Context, md *blob.MetadataWithID, srcs []rowSource, from int, w io.Writer, b budget, p *reporter) (int, int64, error) {
	kp := c.params.PrimarySymbols()
	s, err := c.params.SymbolSize(md.UnencodedLength)
	if err != nil {
		return from, 0, err
	}
	rowLen := c.params.SecondarySymbols() * s
	window := int(max(1, min(int64(kp-from), b.inFlight/int64(rowLen))))
	workers := min(window, c.cfg.ReadConcurrency)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	rw := c.newRowWindow(md, srcs, rowLen, window, workers)
	defer rw.release()
	rw.startWorkers(workers)
	defer rw.workers.Wait()
	go rw.produce(ctx, from, kp)
	r, written, err := rw.consume(cancel, from, w, p)
	if err != nil {
		return r, written, err
	}
	if ctx.Err() != nil && r < kp {
		return r, written, ctx.Err()
	}
	return r, written, nil
}

// rowWindow is the pipeline of one streaming read: a producer hands the
// rows, in order, to a pool of workers that fetch each into one of window
// buffers, and the consumer writes them out in the same order and gives
// each buffer back for a later row. The buffers bound the read's memory to
// the window, whatever the blob's size.
type rowWindow struct {
	c       *Client
	md      *blob.MetadataWithID
	srcs    []rowSource
	rowLen  int
	window  int
	bufs    chan []byte   // the free buffers
	slots   chan *rowSlot // the rows handed to the workers, in row order
	jobs    chan func()   // the fetches waiting for a worker
	workers sync.WaitGroup
}

// rowSlot is one row of a streaming read: done is closed once its fetch
// has ended, with either the sliver's data in buf or an error.
type rowSlot struct {
	done chan struct{}
	buf  []byte // the whole buffer
	data []byte // the sliver's data in it
	err  error
}

// newRowWindow makes the channels of a streaming read and takes window
// buffers of a row (plus its BCS framing) from the client's pool.
func (c *Client) newRowWindow(md *blob.MetadataWithID, srcs []rowSource, rowLen, window, workers int) *rowWindow {
	rw := &rowWindow{c: c, md: md, srcs: srcs, rowLen: rowLen, window: window,
		bufs: make(chan []byte, window), slots: make(chan *rowSlot, window), jobs: make(chan func(), workers)}
	for range window {
		rw.bufs <- c.getBuffer(rowLen + 16)[:rowLen+16]
	}
	return rw
}

// release gives the buffers that are free back to the client's pool; it
// runs once the workers have stopped, so none is being written to. The
// buffers of abandoned rows are left to the garbage collector.
func (rw *rowWindow) release() {
	for range rw.window {
		select {
		case buf := <-rw.bufs:
			rw.c.putBuffer(buf)
		default:
		}
	}
}

// startWorkers starts n workers that run the fetches until the producer
// closes the jobs channel.
func (rw *rowWindow) startWorkers(n int) {
	for range n {
		rw.workers.Go(func() {
			for j := range rw.jobs {
				j()
			}
		})
	}
}

// produce hands rows from..kp-1 to the workers in order, each as soon as
// a buffer is free, and queues its slot for the consumer. Once every row
// is handed out, or ctx is done, it closes the slots and jobs channels.
func (rw *rowWindow) produce(ctx context.Context, from, kp int) {
	defer close(rw.slots)
	defer close(rw.jobs)
	for r := from; r < kp; r++ {
		var buf []byte
		select {
		case buf = <-rw.bufs:
		case <-ctx.Done():
			return
		}
		sl := &rowSlot{done: make(chan struct{}), buf: buf}
		select {
		case rw.slots <- sl:
		case <-ctx.Done():
			rw.bufs <- buf
			return
		}
		rw.jobs <- func() {
			defer close(sl.done)
			s, err := rw.c.fetchPrimary(ctx, rw.md, rw.srcs[r], r, sl.buf)
			if err == nil {
				sl.data = s.Data
			}
			sl.err = err
		}
	}
}

// consume writes the rows to w in order as their fetches end (only the
// bytes of the blob, not the padding past its end), giving each buffer
// back and reporting each row. On a row's failure or a write error it
// stops the producer and waits for the rows already handed out. It
// returns the first row not written, the bytes written and the error.
func (rw *rowWindow) consume(cancel context.CancelFunc, from int, w io.Writer, p *reporter) (int, int64, error) {
	size := int64(rw.md.UnencodedLength)
	var written int64
	r := from
	for sl := range rw.slots {
		<-sl.done
		if sl.err != nil {
			rw.abandon(cancel)
			return r, written, sl.err
		}
		off := int64(r) * int64(rw.rowLen)
		if off < size {
			n, err := w.Write(sl.data[:min(int64(rw.rowLen), size-off)])
			written += int64(n)
			if err != nil {
				rw.abandon(cancel)
				return r, written, &writeError{err}
			}
		}
		rw.bufs <- sl.buf
		p.add(1)
		r++
	}
	return r, written, nil
}

// abandon cancels the read and waits until the producer has stopped and
// every row it handed out has ended, so no worker still writes a buffer.
func (rw *rowWindow) abandon(cancel context.CancelFunc) {
	cancel()
	for rest := range rw.slots {
		<-rest.done
	}
}

// writeError marks the failure of the caller's writer (not of the read).
type writeError struct{ err error }

func (e *writeError) Error() string { return e.err.Error() }
func (e *writeError) Unwrap() error { return e.err }

// decodeRest gathers k_p verified primary slivers, rebuilds the systematic
// rows from..k_p-1 they do not include, verifies them, and writes the rest
// of the blob to w.
func (c *Client) decodeRest(ctx context.Context, md *blob.MetadataWithID, srcs []rowSource, from int, w io.Writer, check redstuff.Consistency, b budget, p *reporter) (int64, error) {
	kp := c.params.PrimarySymbols()
	s, err := c.params.SymbolSize(md.UnencodedLength)
	if err != nil {
		return 0, err
	}
	rowLen := c.params.SecondarySymbols() * s
	store, release, err := c.scratch(int64(kp+(kp-from))*int64(rowLen), b)
	if err != nil {
		return 0, err
	}
	defer release()
	have, err := c.gatherPrimaries(ctx, md, srcs, from, store, rowLen, b)
	if err != nil {
		return 0, err
	}
	at := map[int]int{} // row → position in the gathered slivers
	for i, r := range have {
		at[r] = i
	}
	var want []int
	for r := from; r < kp; r++ {
		if _, ok := at[r]; !ok {
			want = append(want, r)
		}
	}
	p.phase(PhaseDecode)
	base := int64(kp) * int64(rowLen)
	if err := c.enc.DecodeRows(md, have, store, want, offsetWriter{store, base}, b.block); err != nil {
		return 0, err
	}
	row := make([]byte, rowLen)
	decoded := map[int]int{}
	for j, r := range want {
		if _, err := readAtFull(store, row, base+int64(j)*int64(rowLen)); err != nil {
			return 0, err
		}
		sl := redstuff.Sliver{Type: blob.Primary, Index: uint16(r), SymbolSize: uint16(s), Data: row}
		if check != redstuff.ConsistencySkip {
			if err := c.enc.VerifySliver(&sl, &md.Metadata); err != nil {
				return 0, fmt.Errorf("%w: %w: systematic primary sliver %d: %w", ErrBlobInvalid, redstuff.ErrInconsistent, r, err)
			}
		}
		decoded[r] = j
	}
	size := int64(md.UnencodedLength)
	var written int64
	for r := from; r < kp; r++ {
		off := int64(r) * int64(rowLen)
		if off >= size {
			break
		}
		pos := base + int64(decoded[r])*int64(rowLen)
		if i, ok := at[r]; ok {
			pos = int64(i) * int64(rowLen)
		}
		if _, err := readAtFull(store, row, pos); err != nil {
			return written, err
		}
		k, err := w.Write(row[:min(int64(rowLen), size-off)])
		written += int64(k)
		if err != nil {
			return written, &writeError{err}
		}
	}
	return written, nil
}

// gatherPrimaries reads verified primary slivers into store (the i-th at
// i·rowLen) until there are k_p, systematic rows from..k_p-1 first, then
// the others in random order, with ReadConcurrency requests at once. It
// returns the slivers' indices in store order.
func (c *Client) gatherPrimaries(ctx context.Context, md *blob.MetadataWithID, srcs []rowSource, from int, store io.WriterAt, rowLen int, b budget) ([]int, error) {
	kp := c.params.PrimarySymbols()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	g := &gathering{store: store, rowLen: rowLen, kp: kp, cancel: cancel}
	var wg sync.WaitGroup
	sem := make(chan struct{}, c.cfg.ReadConcurrency)
	for _, pair := range c.gatherOrder(from) {
		if g.enough() {
			break
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Go(func() {
			defer func() { <-sem }()
			buf := c.getBuffer(rowLen + 16)[:rowLen+16]
			defer c.putBuffer(buf)
			s, err := c.fetchPrimary(ctx, md, srcs[pair], pair, buf)
			g.record(pair, s, err)
		})
	}
	wg.Wait()
	if len(g.have) < kp {
		return nil, fmt.Errorf("%w: %d of %d primary slivers: %w", ErrNotEnoughSlivers, len(g.have), kp, errors.Join(g.errs...))
	}
	return g.have, nil
}

// gatherOrder is the order in which gatherPrimaries asks for primary
// slivers: the systematic rows from..k_p-1 first, as they save decoding,
// then every other pair in random order, to spread the load on the nodes.
func (c *Client) gatherOrder(from int) []int {
	n, kp := c.params.N(), c.params.PrimarySymbols()
	order := make([]int, 0, n)
	for r := from; r < kp; r++ {
		order = append(order, r)
	}
	rest := make([]int, 0, n)
	for i := range n {
		if i < from || i >= kp {
			rest = append(rest, i)
		}
	}
	rand.Shuffle(len(rest), func(i, j int) { rest[i], rest[j] = rest[j], rest[i] })
	return append(order, rest...)
}

// gathering is the shared state of gatherPrimaries' concurrent fetches:
// the pairs already written to store, in store order, and the failures.
// Its mutex guards have and errs until the fetches have ended.
type gathering struct {
	store  io.WriterAt
	rowLen int
	kp     int
	cancel context.CancelFunc // stops the other fetches once there are kp

	mu   sync.Mutex
	have []int
	errs []error
}

// enough reports whether k_p slivers have been gathered.
func (g *gathering) enough() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.have) >= g.kp
}

// record takes the outcome of one fetch: a failure other than the
// cancellation is kept for the error, and a sliver is written at the next
// position in store unless k_p are there already. A write failure, or the
// k_p-th sliver, cancels the other fetches.
func (g *gathering) record(pair int, s *redstuff.Sliver, err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if err != nil {
		if !errors.Is(err, context.Canceled) {
			g.errs = append(g.errs, err)
		}
		return
	}
	if len(g.have) >= g.kp {
		return
	}
	pos := len(g.have)
	g.have = append(g.have, pair)
	if _, err := g.store.WriteAt(s.Data, int64(pos)*int64(g.rowLen)); err != nil {
		g.errs = append(g.errs, err)
		g.have = g.have[:pos]
		g.cancel()
		return
	}
	if len(g.have) >= g.kp {
		g.cancel()
	}
}

// offsetWriter writes at a fixed offset into w.
type offsetWriter struct {
	w   io.WriterAt
	off int64
}

func (o offsetWriter) WriteAt(p []byte, off int64) (int, error) { return o.w.WriteAt(p, o.off+off) }

func readAtFull(r io.ReaderAt, p []byte, off int64) (int, error) {
	n, err := r.ReadAt(p, off)
	if n == len(p) {
		return n, nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

// ReadTo reads a blob and writes its bytes to w as they become ready, in
// memory bounded by opts.MemoryBudget (else the client's), whatever the
// blob's size. With the Default and Skip checks every byte written comes
// from a verified systematic sliver or from rows rebuilt and verified
// against the metadata; with Strict the whole blob is re-encoded before
// anything is written, so it is first spooled to a temporary file. It
// returns the number of bytes written. Errors: as ReadWith; a failure of w
// itself is returned as it is.
func (c *Client) ReadTo(ctx context.Context, id blob.ID, w io.Writer, opts ReadOptions) (int64, error) {
	if opts.Consistency == redstuff.ConsistencyStrict {
		return c.readStrict(ctx, id, w, opts)
	}
	n, err := c.readTo(ctx, id, w, opts)
	var we *writeError
	if errors.As(err, &we) {
		return n, we.err
	}
	return n, err
}

func (c *Client) readTo(ctx context.Context, id blob.ID, w io.Writer, opts ReadOptions) (int64, error) {
	p := newReporter(opts.Progress)
	md, cur, prev, err := c.readMetadata(ctx, id, p)
	if err != nil {
		return 0, err
	}
	return c.readFrom(ctx, md, cur, prev, w, opts, p)
}

// readFrom streams a blob whose metadata is known (Default or Skip check).
func (c *Client) readFrom(ctx context.Context, md *blob.MetadataWithID, cur, prev *committee.Committee, w io.Writer, opts ReadOptions, p *reporter) (int64, error) {
	b := c.splitBudget(opts.MemoryBudget)
	srcs := c.sources(md.ID, cur, prev)
	p.bytes(PhaseSlivers, 0, int64(c.params.PrimarySymbols()))
	r, written, err := c.readRows(ctx, md, srcs, 0, w, b, p)
	var we *writeError
	if err != nil && (ctx.Err() != nil || errors.As(err, &we)) {
		return written, err
	}
	if r < c.params.PrimarySymbols() {
		n, err := c.decodeRest(ctx, md, srcs, r, w, opts.Consistency, b, p)
		written += n
		if err != nil {
			return written, err
		}
	}
	p.phase(PhaseDone)
	return written, nil
}

// WriteTo streams the whole blob to w as ReadTo does (without fetching the
// metadata again); a Strict check is refused here (it needs the whole blob
// before writing: use ReadTo). A failure of w is returned as it is.
func (r *BlobReader) WriteTo(ctx context.Context, w io.Writer, opts ReadOptions) (int64, error) {
	if opts.Consistency == redstuff.ConsistencyStrict {
		return 0, fmt.Errorf("%w: a strict read cannot stream", ErrInvalidArgument)
	}
	n, err := r.c.readFrom(ctx, r.md, r.cur, r.prev, w, opts, newReporter(opts.Progress))
	var we *writeError
	if errors.As(err, &we) {
		return n, we.err
	}
	return n, err
}

// readMetadata checks the chain for an invalidation and fetches verified
// metadata.
func (c *Client) readMetadata(ctx context.Context, id blob.ID, p *reporter) (*blob.MetadataWithID, *committee.Committee, *committee.Committee, error) {
	st, err := c.chain.BlobStatus(ctx, id)
	switch {
	case errors.Is(err, chainclient.ErrNotFound):
	case err != nil:
		return nil, nil, nil, fmt.Errorf("client: the blob's status on chain: %w", err)
	case st.Invalid:
		return nil, nil, nil, fmt.Errorf("%w: %s was declared invalid on chain", ErrBlobInvalid, id)
	}
	cur, prev, err := c.committees(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	p.phase(PhaseMetadata)
	md, err := c.metadata(ctx, id, cur, prev)
	if err != nil {
		return nil, nil, nil, err
	}
	return md, cur, prev, nil
}

// readStrict spools the blob, re-encodes it and compares the blob ID
// before writing anything to w.
func (c *Client) readStrict(ctx context.Context, id blob.ID, w io.Writer, opts ReadOptions) (int64, error) {
	f, err := os.CreateTemp(c.cfg.TempDir, "walrus-read-*")
	if err != nil {
		return 0, fmt.Errorf("client: spooling the blob: %w", err)
	}
	_ = os.Remove(f.Name())
	defer f.Close()
	o := opts
	o.Consistency = redstuff.ConsistencyDefault
	size, err := c.readTo(ctx, id, f, o)
	if err != nil {
		var we *writeError
		if errors.As(err, &we) {
			err = fmt.Errorf("client: spooling the blob: %w", we.err)
		}
		return 0, err
	}
	md, err := c.ComputeMetadata(f, size, opts.MemoryBudget)
	if err != nil {
		return 0, err
	}
	if md.ID != id {
		return 0, fmt.Errorf("%w: %w: re-encoding gives blob ID %s", ErrBlobInvalid, redstuff.ErrInconsistent, md.ID)
	}
	return io.Copy(w, io.NewSectionReader(f, 0, size))
}

// ReadWith returns a blob's bytes (see ReadTo): the chain tells whether
// the blob ID was invalidated; metadata comes from the first node whose
// answer verifies against the blob ID; then the systematic primary slivers
// (each verified), or, where some cannot be had, k_p primary slivers
// decoded and checked. During an epoch change, shards not yet available
// from their new owner are read from the previous one. Errors:
// ErrBlobNotFound, ErrBlobInvalid, ErrBlobBlocked, ErrNotEnoughSlivers.
func (c *Client) ReadWith(ctx context.Context, id blob.ID, opts ReadOptions) ([]byte, error) {
	var buf bytes.Buffer
	if _, err := c.ReadTo(ctx, id, &buf, opts); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
