package nodeapi

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/redstuff"
)

// BatchResult is the data of the answer to a sliver batch: how many of its
// slivers were stored, buffered in the pending cache, or already stored.
type BatchResult struct {
	Stored        int `json:"stored"`
	Buffered      int `json:"buffered"`
	AlreadyStored int `json:"alreadyStored"`
	// Code is the HTTP code of the answer (set by the client): 201 stored,
	// 202 buffered, 200 all already stored.
	Code int `json:"-"`
}

// putSlivers stores a sliver batch (batch.go) of one blob: all of it, or
// nothing. It checks, in order: blob ID, blocklist, pending flag, a
// Content-Length (411) no larger than MaxBatchBytes (413), room under
// MaxUploadBytesInFlight (503), the batch header; then, frame by frame as
// the body arrives and in the single PUT's order: pair index, shard
// assignment, registration (or pending) and metadata (looked up once, at
// the first frame), the frame's length against the blob's sliver size, a
// duplicate (pair, type); and, by GOMAXPROCS verifiers while the rest of
// the body is still being read: decoding, the sliver's index against the
// pair, verification against the metadata. The answer names the first
// frame that failed. Then slivers already stored are skipped, and the rest
// stored (registered blob) or buffered (pending).
func (s *Server) putSlivers(w http.ResponseWriter, r *http.Request) error {
	id, pending, err := s.uploadTarget(r)
	if err != nil {
		return err
	}
	if r.ContentLength < 0 {
		return errLengthRequired()
	}
	if r.ContentLength > s.cfg.MaxBatchBytes {
		return errBatchTooLarge(s.cfg.MaxBatchBytes)
	}
	release, err := s.acquireUpload(r.Context(), r.ContentLength)
	if err != nil {
		return err
	}
	defer release()
	b := &batchUpload{s: s, id: id, pending: pending}
	defer b.free()
	if err := b.read(&exactReader{r: r.Body, n: r.ContentLength}); err != nil {
		return err
	}
	return b.commit(w)
}

// batchUpload is one sliver batch being read, verified and committed.
type batchUpload struct {
	s       *Server
	id      blob.ID
	pending bool

	// Set at the first frame, before any verifier starts.
	reg   Registration
	md    *blob.MetadataWithID
	sizes [2]int64 // the BCS size of a sliver, by type

	frames []batchFrame // by index; fixed length, so verifiers may index it
	nread  int          // frames read
	// errs holds the error of each failed frame (and, last, of the end of
	// the batch); a frame's entry is written by the reader before the
	// frame goes to a verifier, or by that verifier.
	errs      []error
	minFailed atomic.Int64 // the first failed frame, MaxInt64 if none

	jobs    chan int
	wg      sync.WaitGroup
	started time.Time
}

type batchFrame struct {
	hdr    FrameHeader
	shard  uint16
	buf    *[]byte
	sliver redstuff.Sliver // aliases buf once verified
}

// read reads and verifies every frame; it returns the error of the first
// frame that fails.
func (b *batchUpload) read(body io.Reader) error {
	dec, err := NewBatchReader(body)
	if err != nil {
		return batchReadError(err)
	}
	count, n := dec.Count(), b.s.deps.Params.N()
	if count > 2*n {
		return newError("INVALID_ARGUMENT", ReasonInvalidBatch,
			fmt.Sprintf("the batch has %d frames, a blob has %d slivers", count, 2*n), map[string]any{"count": count, "max": 2 * n})
	}
	b.frames = make([]batchFrame, count)
	b.errs = make([]error, count+1)
	b.minFailed.Store(math.MaxInt64)
	defer b.stop()
	seen := make([]bool, 2*n)
	for b.minFailed.Load() == math.MaxInt64 {
		i := b.nread
		h, err := dec.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			var e error = batchReadError(err)
			if i < count {
				e = frameError(e, i, nil)
			}
			b.fail(i, e)
			break
		}
		shard, err := b.check(&h, seen)
		if err != nil {
			b.fail(i, frameError(err, i, &h))
			break
		}
		f := &b.frames[i]
		f.hdr, f.shard, f.buf = h, shard, b.s.bufs.get(int(h.Length))
		b.nread++
		if err := dec.ReadSliver(*f.buf); err != nil {
			b.fail(i, frameError(batchReadError(err), i, &h))
			break
		}
		b.submit(i)
	}
	b.stop()
	for _, err := range b.errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// check makes the checks of a frame that need only its header, and
// returns the shard of its pair.
func (b *batchUpload) check(h *FrameHeader, seen []bool) (uint16, error) {
	p := b.s.deps.Params
	if int(h.Pair) >= p.N() {
		return 0, errIndexOutOfRange(int(h.Pair), p.N())
	}
	shard := uint16(p.ShardOfPair(b.id, int(h.Pair)))
	if !b.s.deps.Chain.Owns(shard) {
		return 0, errShardNotAssigned(int(shard), b.s.deps.Chain.Epoch())
	}
	if b.md == nil {
		if err := b.blobChecks(); err != nil {
			return 0, err
		}
	}
	if want := b.sizes[h.Type]; int64(h.Length) != want {
		return 0, newError("INVALID_ARGUMENT", ReasonInvalidSliver,
			fmt.Sprintf("the provided sliver is invalid: a frame of %d bytes, a %s sliver of this blob has %d", h.Length, h.Type, want), nil)
	}
	k := 2*int(h.Pair) + int(h.Type)
	if seen[k] {
		return 0, newError("INVALID_ARGUMENT", ReasonInvalidBatch, "a second frame for the same sliver", nil)
	}
	seen[k] = true
	return shard, nil
}

// blobChecks are the single PUT's checks of the blob: registration (or
// pending) and metadata.
func (b *batchUpload) blobChecks() error {
	reg, err := b.s.deps.Chain.Registration(b.id)
	if err != nil {
		return err
	}
	if reg.Invalid != nil {
		return errInvalidBlob(*reg.Invalid)
	}
	if !reg.Registered() && !b.pending {
		return errNotRegistered()
	}
	md, err := b.s.metadataFor(b.id, true)
	if err != nil {
		return err
	}
	for _, t := range []blob.SliverType{blob.Primary, blob.Secondary} {
		if b.sizes[t], err = sliverLimit(b.s.deps.Params, md, t); err != nil {
			return err
		}
	}
	b.reg, b.md = reg, md
	return nil
}

// submit hands frame i to the verifiers, starting them at the first frame.
func (b *batchUpload) submit(i int) {
	if b.jobs == nil {
		b.started = time.Now()
		b.jobs = make(chan int, len(b.frames))
		for range min(runtime.GOMAXPROCS(0), len(b.frames)) {
			b.wg.Add(1)
			go b.verifier()
		}
	}
	b.jobs <- i
}

// stop waits for the verifiers; it may be called more than once.
func (b *batchUpload) stop() {
	if b.jobs == nil {
		return
	}
	close(b.jobs)
	b.wg.Wait()
	b.jobs = nil
	if b.minFailed.Load() == math.MaxInt64 {
		b.s.metrics.batch(len(b.frames), time.Since(b.started))
	}
}

// verifier verifies frames until the jobs are closed. Frames after one
// that failed are skipped; earlier ones are still verified, so that the
// answer names the first bad frame whatever the timing.
func (b *batchUpload) verifier() {
	defer b.wg.Done()
	for i := range b.jobs {
		if int64(i) > b.minFailed.Load() {
			continue
		}
		f := &b.frames[i]
		if err := b.verify(f); err != nil {
			b.fail(i, frameError(err, i, &f.hdr))
		}
	}
}

func (b *batchUpload) verify(f *batchFrame) error {
	sl, err := parseSliver(*f.buf, f.hdr.Type)
	if err != nil {
		return newError("INVALID_ARGUMENT", ReasonInvalidSliver, "the provided sliver does not decode: "+err.Error(), nil)
	}
	want := int(f.hdr.Pair)
	if f.hdr.Type == blob.Secondary {
		want = b.s.deps.Params.SecondaryIndex(want)
	}
	if int(sl.Index) != want {
		return newError("INVALID_ARGUMENT", ReasonInvalidSliver,
			fmt.Sprintf("the provided sliver is invalid: sliver index %d does not belong to pair %d", sl.Index, f.hdr.Pair), nil)
	}
	if err := b.s.enc.VerifySliver(&sl, &b.md.Metadata); err != nil {
		return newError("INVALID_ARGUMENT", ReasonInvalidSliver, "the provided sliver is invalid: "+err.Error(), nil)
	}
	f.sliver = sl
	return nil
}

// fail records the error of frame i (or, i = count, of the batch's end).
func (b *batchUpload) fail(i int, err error) {
	b.errs[i] = err
	for {
		cur := b.minFailed.Load()
		if int64(i) >= cur || b.minFailed.CompareAndSwap(cur, int64(i)) {
			return
		}
	}
}

// free gives the frame buffers back; the verifiers are done with them and
// the store and the pending cache keep none.
func (b *batchUpload) free() {
	for i := range b.nread {
		b.s.bufs.put(b.frames[i].buf)
	}
}

// commit stores or buffers the verified frames that are not stored yet.
func (b *batchUpload) commit(w http.ResponseWriter) error {
	var res BatchResult
	put := make([]ShardSliver, 0, len(b.frames))
	for i := range b.frames {
		f := &b.frames[i]
		ok, err := b.s.deps.Store.HasSliver(f.shard, f.hdr.Type, b.id)
		if err != nil {
			return err
		}
		if ok {
			res.AlreadyStored++
			continue
		}
		put = append(put, ShardSliver{Shard: f.shard, Sliver: &f.sliver})
	}
	switch {
	case len(put) == 0:
		writeSuccess(w, http.StatusOK, res)
	case b.reg.Registered():
		if err := b.s.deps.Store.PutSlivers(b.id, put); err != nil {
			return err
		}
		res.Stored = len(put)
		writeSuccess(w, http.StatusCreated, res)
	default:
		// The cache keeps the slivers: they leave the pooled buffers.
		for i, x := range put {
			c := *x.Sliver
			c.Data = bytes.Clone(c.Data)
			put[i].Sliver = &c
		}
		if err := b.s.pending.putSlivers(b.id, put); err != nil {
			if errors.Is(err, errSaturated) {
				return newError("FAILED_PRECONDITION", ReasonCacheSaturated, "pending upload cache is saturated; retry once the node catches up",
					map[string]any{"slivers": len(put)})
			}
			return err
		}
		b.s.flushIfRegistered(b.id)
		res.Buffered = len(put)
		writeSuccess(w, http.StatusAccepted, res)
	}
	return nil
}

// batchReadError turns a BatchReader error into an answer.
func batchReadError(err error) *Error {
	switch {
	case errors.Is(err, ErrBatchMalformed), errors.Is(err, ErrBatchTrailing):
		return newError("INVALID_ARGUMENT", ReasonInvalidBatch, err.Error(), nil)
	case errors.Is(err, ErrBatchTruncated):
		return newError("INVALID_ARGUMENT", ReasonIncompleteBody, err.Error(), nil)
	}
	// The connection failed while the body was being read.
	return newError("INVALID_ARGUMENT", ReasonIncompleteBody, "the body could not be read: "+err.Error(), nil)
}

// frameError adds the frame (and, with its header, the pair and the sliver
// type) to an answer's message and metadata. Errors that are not answers
// (the store failed) stay as they are.
func frameError(err error, i int, h *FrameHeader) error {
	var e *Error
	if !errors.As(err, &e) {
		return err
	}
	c := *e
	c.Metadata = make(map[string]any, len(e.Metadata)+3)
	maps.Copy(c.Metadata, e.Metadata)
	c.Metadata["frame"] = i
	c.Message = fmt.Sprintf("frame %d: %s", i, e.Message)
	if h != nil {
		c.Metadata["pairIndex"] = int(h.Pair)
		c.Metadata["sliverType"] = h.Type.String()
		c.Message = fmt.Sprintf("frame %d (pair %d, %s): %s", i, h.Pair, h.Type, e.Message)
	}
	return &c
}
