package redstuff

import (
	"errors"
	"fmt"
	"slices"

	"github.com/walrus-go/walrus/bcs"
	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/merkle"
)

// Errors of sliver and symbol checks. Each is wrapped with the details.
var (
	// ErrMalformed: bytes that do not decode to the expected type.
	ErrMalformed = errors.New("redstuff: malformed encoding")
	// ErrSliverShape: a sliver's index, symbol size or length does not fit the metadata.
	ErrSliverShape = errors.New("redstuff: sliver does not fit the blob")
	// ErrSliverHash: a sliver's Merkle root differs from the metadata.
	ErrSliverHash = errors.New("redstuff: sliver does not match the metadata")
	// ErrSymbol: a recovery symbol fails its checks (index, size or Merkle proof).
	ErrSymbol = errors.New("redstuff: invalid recovery symbol")
)

// Sliver is a primary or secondary sliver: Walrus's SliverData.
type Sliver struct {
	Type       blob.SliverType
	Index      uint16 // the sliver index (for a secondary sliver, n-1-pair)
	SymbolSize uint16
	Data       []byte // k_s·s bytes (primary) or k_p·s bytes (secondary)
}

// SliverPair is the two slivers stored together on a shard.
type SliverPair struct {
	Primary   Sliver
	Secondary Sliver
}

// Symbols returns the number of symbols in the sliver.
func (s *Sliver) Symbols() int {
	if s.SymbolSize == 0 {
		return 0
	}
	return len(s.Data) / int(s.SymbolSize)
}

// PairIndex returns the sliver pair that holds this sliver.
func (s *Sliver) PairIndex(n int) int {
	if s.Type == blob.Primary {
		return int(s.Index)
	}
	return n - 1 - int(s.Index)
}

// AppendBCS appends SliverData: Symbols{data: bytes, symbol_size: u16} then index: u16.
// The axis is not encoded; it comes from context (the URL, the request).
func (s *Sliver) AppendBCS(b []byte) []byte {
	b = bcs.AppendBytes(b, s.Data)
	b = bcs.AppendU16(b, s.SymbolSize)
	return bcs.AppendU16(b, s.Index)
}

// MarshalBCS returns the BCS bytes.
func (s *Sliver) MarshalBCS() []byte { return s.AppendBCS(make([]byte, 0, len(s.Data)+10)) }

// MaxSliverBytes bounds a decoded sliver: the largest primary sliver of any
// supported shard count is below this.
const MaxSliverBytes = 1 << 31

// UnmarshalSliver decodes a SliverData of type t. The data is copied.
func UnmarshalSliver(b []byte, t blob.SliverType) (Sliver, error) {
	d := bcs.NewDecoder(b)
	s := Sliver{Type: t}
	s.Data = slices.Clone(d.Bytes(MaxSliverBytes))
	s.SymbolSize = d.U16()
	s.Index = d.U16()
	if err := d.Finish(); err != nil {
		return Sliver{}, fmt.Errorf("%w: sliver: %w", ErrMalformed, err)
	}
	if err := t.Validate(); err != nil {
		return Sliver{}, err
	}
	return s, nil
}

// checkShape verifies everything about a sliver but its hash.
func (e *Encoder) checkShape(s *Sliver, md *blob.Metadata) (int, error) {
	n := e.p.N()
	if int(s.Index) >= n {
		return 0, fmt.Errorf("%w: index %d, n = %d", ErrSliverShape, s.Index, n)
	}
	want, err := e.p.SymbolSize(md.UnencodedLength)
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrSliverShape, err)
	}
	if int(s.SymbolSize) != want {
		return 0, fmt.Errorf("%w: symbol size %d, want %d", ErrSliverShape, s.SymbolSize, want)
	}
	k := e.code(s.Type).K()
	if len(s.Data) != k*want {
		return 0, fmt.Errorf("%w: %s sliver of %d bytes, want %d", ErrSliverShape, s.Type, len(s.Data), k*want)
	}
	if len(md.Hashes) != n {
		return 0, fmt.Errorf("%w: metadata has %d pairs, n = %d", ErrSliverShape, len(md.Hashes), n)
	}
	return want, nil
}

// metadataHash is the metadata's hash for sliver (t, i).
func metadataHash(md *blob.Metadata, t blob.SliverType, i int) merkle.Node {
	if t == blob.Primary {
		return md.PrimaryHash(i)
	}
	return md.SecondaryHash(i)
}

// VerifySliver checks a sliver against verified metadata: index below n,
// the expected symbol size and length, and the Merkle root of its expansion
// equal to the metadata's hash for it.
func (e *Encoder) VerifySliver(s *Sliver, md *blob.Metadata) error {
	if _, err := e.checkShape(s, md); err != nil {
		return err
	}
	if got := e.SliverHash(s); got != metadataHash(md, s.Type, int(s.Index)) {
		return fmt.Errorf("%w: %s sliver %d", ErrSliverHash, s.Type, s.Index)
	}
	return nil
}

// SliverHash is the Merkle root over the n symbols of the sliver's expansion
// along the orthogonal code: the hash the metadata holds for it. Its
// buffers come from the encoder's pool, so that verifying many slivers
// (a node receiving uploads, a reader) does not allocate per sliver.
func (e *Encoder) SliverHash(s *Sliver) merkle.Node {
	a, _ := e.arenas.Get().(*arena)
	if a == nil {
		a = new(arena)
	}
	defer e.arenas.Put(a)
	sz := int(s.SymbolSize)
	n := e.p.N()
	// The sliver's own symbols are hashed where they are; only the code's
	// recovery symbols go to a buffer (the arena's scratch, apart from the
	// packed shards in its buf).
	code := e.code(s.Type)
	k := code.K()
	rec := a.scratchBytes((n - k) * sz)
	e.recoveryInto(a, code, sz, s.Data, rec)
	if cap(a.leafBuf) < n {
		a.leafBuf = make([]merkle.Node, n)
	}
	leaves := a.leafBuf[:n]
	merkle.LeafHashes(leaves[:k], s.Data[:k*sz], sz)
	merkle.LeafHashes(leaves[k:], rec, sz)
	return merkle.Root(leaves)
}

// Expand returns the n symbols of the sliver's expansion (n·s bytes): its own
// k symbols followed by the code's recovery symbols. For a primary sliver i
// that is row i of the expanded matrix, for a secondary sliver j column j.
func (e *Encoder) Expand(s *Sliver) []byte {
	out := make([]byte, e.p.N()*int(s.SymbolSize))
	var a arena
	code := e.code(s.Type)
	k, sz := code.K(), int(s.SymbolSize)
	copy(out[:k*sz], s.Data[:k*sz])
	e.recoveryInto(&a, code, sz, s.Data, out[k*sz:])
	return out
}

// recoveryInto writes the r recovery symbols of one codeword (its k
// symbols in src) to dst, with the arena's shard buffers.
func (e *Encoder) recoveryInto(a *arena, code interface {
	K() int
	R() int
	Encode(o, r [][]byte) error
}, s int, src, dst []byte) {
	k, r := code.K(), code.R()
	lay := newSymLayout(s)
	sh := a.shardSet(k+r, lay.packedLen(1))
	for p := range k {
		lay.pack(sh[p], 0, src[p*s:(p+1)*s])
	}
	if err := code.Encode(sh[:k], sh[k:]); err != nil {
		panic(err)
	}
	for j := range r {
		lay.unpack(dst[j*s:(j+1)*s], sh[k+j], 0)
	}
}
