package nodeapi

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"slices"
	"sync"

	"github.com/walrus-go/walrus/bcs"
	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/redstuff"
)

// Sliver batch v1: the body of PUT /v1/blobs/{blob_id}/slivers (our own
// route, not Walrus's), several slivers of one blob in one request. All
// integers are little-endian:
//
//	offset  size  field
//	0       4     magic "WSB1"
//	4       4     count u32: number of frames, >= 1
//	8       ...   count frames, back to back:
//	  +0    2       pair_index u16
//	  +2    1       sliver_type u8: 0 primary, 1 secondary
//	  +3    4       length u32: bytes of the sliver that follows
//	  +7    length  sliver: BCS SliverData, exactly the body of the
//	                single-sliver PUT: uleb128 data length ‖ data ‖
//	                symbol_size u16 ‖ index u16
//
// and then the end of the body: a byte after the last frame is an error.
// The length prefix lets a reader check a frame's size against the blob
// before it reads (or allocates for) the sliver.
const (
	batchMagic      = "WSB1"
	batchHeaderLen  = 8
	frameHeaderLen  = 7
	sliverFixedTail = 4 // symbol_size u16 ‖ index u16
)

// Errors of the sliver batch decoder (BatchReader), each wrapped with the
// details. A read error of the underlying reader other than an early end
// is returned wrapped as it is.
var (
	// ErrBatchMalformed: a bad magic, a zero count or an unknown sliver type.
	ErrBatchMalformed = errors.New("nodeapi: malformed sliver batch")
	// ErrBatchTruncated: the body ended inside the header or a frame, or
	// before the last frame the count announces.
	ErrBatchTruncated = errors.New("nodeapi: sliver batch cut off")
	// ErrBatchTrailing: bytes after the last frame.
	ErrBatchTrailing = errors.New("nodeapi: bytes after the sliver batch")
)

// SliverFrameSize is the bytes a frame carrying dataLen bytes of sliver
// data takes in a batch (frame header and BCS SliverData).
func SliverFrameSize(dataLen int) int {
	return frameHeaderLen + sliverBCSSize(dataLen)
}

// SliverBatchSize is the body size of a batch whose frames carry the given
// data lengths; use it as the capacity of NewSliverBatch.
func SliverBatchSize(dataLens ...int) int {
	n := batchHeaderLen
	for _, l := range dataLens {
		n += SliverFrameSize(l)
	}
	return n
}

// sliverBCSSize is the size of a BCS SliverData with dataLen bytes of data.
func sliverBCSSize(dataLen int) int {
	return len(bcs.AppendULEB128(nil, uint32(dataLen))) + dataLen + sliverFixedTail
}

// SliverBatch builds a sliver batch v1 body. Frames are reserved with Add,
// which returns the place of the sliver data in the body, so that a writer
// can read the data straight into the request (e.g. with ReadAt) without a
// copy. The zero value is an empty batch. It is not safe for concurrent use.
type SliverBatch struct {
	buf   []byte
	count int
}

// NewSliverBatch returns an empty batch whose buffer holds capacity bytes
// (see SliverBatchSize) before it grows.
func NewSliverBatch(capacity int) *SliverBatch {
	return SliverBatchOn(make([]byte, 0, max(capacity, batchHeaderLen)))
}

// SliverBatchOn returns an empty batch built in buf's capacity (its
// contents are overwritten), e.g. a pooled buffer of SliverBatchSize
// bytes. The batch grows out of buf if buf is too small.
func SliverBatchOn(buf []byte) *SliverBatch {
	return &SliverBatch{buf: buf[:0]}
}

// Add appends a frame for the sliver of type t of pair, with the given
// symbol size and sliver index (for a secondary sliver, n-1-pair), and
// returns its dataLen bytes of data for the caller to fill; their content
// is unspecified until then. The slice stays valid until the next Add or
// Reset, or for as long as the batch lives when its capacity covers the
// whole batch (then the buffer never moves). Add panics on an unknown
// sliver type or a length that does not fit the format.
func (b *SliverBatch) Add(pair uint16, t blob.SliverType, symbolSize, index uint16, dataLen int) []byte {
	if err := t.Validate(); err != nil {
		panic(err)
	}
	if dataLen < 0 || dataLen > math.MaxUint32-16 || b.count == math.MaxUint32 {
		panic(fmt.Sprintf("nodeapi: sliver batch frame of %d bytes", dataLen))
	}
	if len(b.buf) == 0 {
		b.buf = append(b.buf, batchMagic...)
		b.buf = binary.LittleEndian.AppendUint32(b.buf, 0)
	}
	b.buf = slices.Grow(b.buf, SliverFrameSize(dataLen))
	b.buf = binary.LittleEndian.AppendUint16(b.buf, pair)
	b.buf = append(b.buf, byte(t))
	b.buf = binary.LittleEndian.AppendUint32(b.buf, uint32(sliverBCSSize(dataLen)))
	b.buf = bcs.AppendULEB128(b.buf, uint32(dataLen))
	start := len(b.buf)
	b.buf = b.buf[:start+dataLen]
	b.buf = bcs.AppendU16(b.buf, symbolSize)
	b.buf = bcs.AppendU16(b.buf, index)
	b.count++
	binary.LittleEndian.PutUint32(b.buf[4:8], uint32(b.count))
	return b.buf[start : start+dataLen : start+dataLen]
}

// AddSliver appends a frame holding a copy of s, a sliver of pair.
func (b *SliverBatch) AddSliver(pair int, s *redstuff.Sliver) {
	copy(b.Add(uint16(pair), s.Type, s.SymbolSize, s.Index, len(s.Data)), s.Data)
}

// Len is the number of frames.
func (b *SliverBatch) Len() int { return b.count }

// Size is the size of the body in bytes.
func (b *SliverBatch) Size() int { return len(b.buf) }

// Bytes returns the body. It aliases the batch's buffer. An empty batch
// has no body (the server refuses it).
func (b *SliverBatch) Bytes() []byte { return b.buf }

// Reset empties the batch, keeping its buffer.
func (b *SliverBatch) Reset() { b.buf, b.count = b.buf[:0], 0 }

// FrameHeader is the header of one frame of a sliver batch.
type FrameHeader struct {
	Index  int // position in the batch, from 0
	Pair   uint16
	Type   blob.SliverType
	Length uint32 // bytes of the BCS SliverData
}

// BatchReader decodes a sliver batch v1 from a stream, one frame at a
// time, into buffers of the caller: it never holds more than a frame
// header. Errors are ErrBatchMalformed, ErrBatchTruncated, ErrBatchTrailing
// or those of the reader.
type BatchReader struct {
	r     io.Reader
	count int
	next  int   // frames whose header was read
	left  int64 // sliver bytes of the current frame not read yet
	hdr   [frameHeaderLen]byte
}

// NewBatchReader reads the batch header.
func NewBatchReader(r io.Reader) (*BatchReader, error) {
	d := &BatchReader{r: r}
	var h [batchHeaderLen]byte
	if err := d.readFull(h[:], "the batch header"); err != nil {
		return nil, err
	}
	if string(h[:4]) != batchMagic {
		return nil, fmt.Errorf("%w: magic %q, want %q", ErrBatchMalformed, h[:4], batchMagic)
	}
	c := binary.LittleEndian.Uint32(h[4:])
	if c == 0 {
		return nil, fmt.Errorf("%w: no frames", ErrBatchMalformed)
	}
	if uint64(c) > math.MaxInt32 {
		return nil, fmt.Errorf("%w: %d frames", ErrBatchMalformed, c)
	}
	d.count = int(c)
	return d, nil
}

// Count is the number of frames the header announces.
func (d *BatchReader) Count() int { return d.count }

// Next reads the next frame header, first skipping what the caller did not
// read of the previous frame's sliver. After the last frame it checks that
// the stream ends there and returns io.EOF (or ErrBatchTrailing).
func (d *BatchReader) Next() (FrameHeader, error) {
	if d.left > 0 {
		if _, err := io.CopyN(io.Discard, d.r, d.left); err != nil {
			return FrameHeader{}, d.readError(err, "a sliver")
		}
		d.left = 0
	}
	if d.next == d.count {
		var one [1]byte
		n, err := io.ReadFull(d.r, one[:])
		if n > 0 {
			return FrameHeader{}, fmt.Errorf("%w: after frame %d", ErrBatchTrailing, d.count-1)
		}
		if err != nil && err != io.EOF {
			return FrameHeader{}, d.readError(err, "the end of the batch")
		}
		return FrameHeader{}, io.EOF
	}
	if err := d.readFull(d.hdr[:], fmt.Sprintf("frame %d", d.next)); err != nil {
		return FrameHeader{}, err
	}
	h := FrameHeader{Index: d.next, Pair: binary.LittleEndian.Uint16(d.hdr[0:2]), Type: blob.SliverType(d.hdr[2]),
		Length: binary.LittleEndian.Uint32(d.hdr[3:7])}
	if err := h.Type.Validate(); err != nil {
		return FrameHeader{}, fmt.Errorf("%w: frame %d: %w", ErrBatchMalformed, d.next, err)
	}
	d.next++
	d.left = int64(h.Length)
	return h, nil
}

// ReadSliver reads the current frame's sliver into dst, which must be
// exactly FrameHeader.Length bytes long.
func (d *BatchReader) ReadSliver(dst []byte) error {
	if int64(len(dst)) != d.left {
		return fmt.Errorf("nodeapi: ReadSliver into %d bytes, the frame has %d left", len(dst), d.left)
	}
	d.left = 0
	return d.readFull(dst, fmt.Sprintf("frame %d", d.next-1))
}

func (d *BatchReader) readFull(b []byte, what string) error {
	if _, err := io.ReadFull(d.r, b); err != nil {
		return d.readError(err, what)
	}
	return nil
}

// readError classifies a read error: an early end is ErrBatchTruncated.
func (d *BatchReader) readError(err error, what string) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: in %s", ErrBatchTruncated, what)
	}
	return fmt.Errorf("nodeapi: reading %s of a sliver batch: %w", what, err)
}

// parseSliver decodes a BCS SliverData of type t like
// redstuff.UnmarshalSliver, but the data aliases b instead of a copy.
func parseSliver(b []byte, t blob.SliverType) (redstuff.Sliver, error) {
	d := bcs.NewDecoder(b)
	s := redstuff.Sliver{Type: t}
	s.Data = d.Bytes(len(b))
	s.SymbolSize = d.U16()
	s.Index = d.U16()
	if err := d.Finish(); err != nil {
		return redstuff.Sliver{}, fmt.Errorf("%w: sliver: %w", redstuff.ErrMalformed, err)
	}
	return s, nil
}

// exactReader reads exactly n bytes of r: the end of r before them is
// io.ErrUnexpectedEOF, and it reports io.EOF after them without reading
// more. It holds a request body to its Content-Length.
type exactReader struct {
	r io.Reader
	n int64
}

func (e *exactReader) Read(p []byte) (int, error) {
	if e.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > e.n {
		p = p[:e.n]
	}
	n, err := e.r.Read(p)
	e.n -= int64(n)
	if err == io.EOF && e.n > 0 {
		err = io.ErrUnexpectedEOF
	}
	if err == io.EOF && n > 0 {
		err = nil
	}
	return n, err
}

// bufPool recycles frame buffers in size classes, four per power of two
// from 4 KiB to 256 MiB, so that a buffer is at most 25% larger than asked
// for; larger buffers are not pooled.
type bufPool struct {
	classes [poolClasses]sync.Pool
}

const (
	minPoolShift = 12
	maxPoolShift = 28
	poolClasses  = (maxPoolShift-minPoolShift)*4 + 1
)

// poolClass returns the class of a buffer of n bytes and its capacity, or
// class -1 for a buffer too large to pool.
func poolClass(n int) (class, size int) {
	if n <= 1<<minPoolShift {
		return 0, 1 << minPoolShift
	}
	b := bits.Len(uint(n - 1)) // 2^(b-1) < n <= 2^b
	if b > maxPoolShift {
		return -1, n
	}
	base, step := 1<<(b-1), 1<<(b-3)
	k := (n - base + step - 1) / step // 1..4
	return (b-1-minPoolShift)*4 + k, base + k*step
}

// get returns a buffer of length n.
func (p *bufPool) get(n int) *[]byte {
	c, size := poolClass(n)
	if c >= 0 {
		if v, ok := p.classes[c].Get().(*[]byte); ok {
			*v = (*v)[:n]
			return v
		}
	}
	b := make([]byte, n, size)
	return &b
}

// put gives a buffer from get back.
func (p *bufPool) put(b *[]byte) {
	if c, size := poolClass(cap(*b)); c >= 0 && size == cap(*b) {
		p.classes[c].Put(b)
	}
}
