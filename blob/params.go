package blob

import (
	"errors"
	"fmt"
	"math/bits"
)

// Errors returned by Params.
var (
	// ErrShardCount: the shard count is outside what RS2 supports.
	ErrShardCount = errors.New("blob: unsupported number of shards")
	// ErrTooLarge: the blob needs a symbol larger than MaxSymbolSize.
	ErrTooLarge = errors.New("blob: data too large for the number of shards")
)

const (
	// MaxSymbolSize is the largest RS2 symbol (u16::MAX - 1).
	MaxSymbolSize = 65534
	// SymbolAlignment: RS2 symbols have an even number of bytes.
	SymbolAlignment = 2
	// MinShards is the smallest shard count for which both codes have recovery symbols.
	MinShards = 4
)

// Params are the encoding parameters that follow from the number of shards n
// (spec 1.1): f = floor((n-1)/3), k_p = n-2f primary source symbols (rows of
// the message matrix) and k_s = n-f secondary source symbols (its columns).
type Params struct {
	n int
}

// NewParams validates n and returns its parameters. n must be at least 4 and
// small enough that both Reed-Solomon codes exist in GF(2^16).
func NewParams(n int) (Params, error) {
	if n < MinShards || n > 65535 {
		return Params{}, fmt.Errorf("%w: %d (want %d..65535)", ErrShardCount, n, MinShards)
	}
	p := Params{n: n}
	if !rsSupported(p.PrimarySymbols(), n-p.PrimarySymbols()) || !rsSupported(p.SecondarySymbols(), n-p.SecondarySymbols()) {
		return Params{}, fmt.Errorf("%w: %d is too large for Reed-Solomon over GF(2^16)", ErrShardCount, n)
	}
	return p, nil
}

// MustParams is NewParams for constants known to be valid; it panics otherwise.
func MustParams(n int) Params {
	p, err := NewParams(n)
	if err != nil {
		panic(err)
	}
	return p
}

// rsSupported is the shard-count limit of the reed-solomon-simd codes.
func rsSupported(k, r int) bool {
	if k <= 0 || r <= 0 {
		return false
	}
	o, rr := nextPow2(k), nextPow2(r)
	return min(o, rr)+max(k, r) <= 65536
}

func nextPow2(x int) int { return 1 << bits.Len(uint(x-1)) }

// N is the number of shards (= sliver pairs).
func (p Params) N() int { return p.n }

// F is the maximum number of faulty shards, floor((n-1)/3).
func (p Params) F() int { return (p.n - 1) / 3 }

// PrimarySymbols is k_p = n-2f: rows of the message matrix, symbols per secondary sliver.
func (p Params) PrimarySymbols() int { return p.n - 2*p.F() }

// SecondarySymbols is k_s = n-f: columns of the message matrix, symbols per primary sliver.
func (p Params) SecondarySymbols() int { return p.n - p.F() }

// SourceSymbols is k_p·k_s, the number of symbols of the message matrix.
func (p Params) SourceSymbols() int { return p.PrimarySymbols() * p.SecondarySymbols() }

// MaxBlobSize is the largest blob these parameters can encode.
func (p Params) MaxBlobSize() uint64 { return uint64(p.SourceSymbols()) * MaxSymbolSize }

// SymbolSize is the symbol size for a blob of the given length: ceil(L/(k_p·k_s))
// rounded up to even, with L = max(length, 1).
func (p Params) SymbolSize(length uint64) (int, error) {
	if length > p.MaxBlobSize() {
		return 0, fmt.Errorf("%w: %d bytes, at most %d with %d shards", ErrTooLarge, length, p.MaxBlobSize(), p.n)
	}
	l := max(length, 1)
	src := uint64(p.SourceSymbols())
	s := (l + src - 1) / src
	s += s % SymbolAlignment
	return int(s), nil
}

// PrimarySliverSize is the byte length of a primary sliver: k_s·s.
func (p Params) PrimarySliverSize(symbolSize int) int { return p.SecondarySymbols() * symbolSize }

// SecondarySliverSize is the byte length of a secondary sliver: k_p·s.
func (p Params) SecondarySliverSize(symbolSize int) int { return p.PrimarySymbols() * symbolSize }

// MetadataLength is the metadata size counted per node in the encoded
// length: 64·n + 32.
func (p Params) MetadataLength() uint64 { return 64*uint64(p.n) + 32 }

// EncodedLength is n·((k_p+k_s)·s + 64·n + 32), the storage a blob of this
// length needs (spec 1.9; must equal Move's encoded_blob_length).
func (p Params) EncodedLength(length uint64) (uint64, error) {
	s, err := p.SymbolSize(length)
	if err != nil {
		return 0, err
	}
	return p.EncodedLengthForSymbolSize(s), nil
}

// EncodedLengthForSymbolSize is EncodedLength given the symbol size.
func (p Params) EncodedLengthForSymbolSize(s int) uint64 {
	perNode := uint64(p.PrimarySymbols()+p.SecondarySymbols())*uint64(s) + p.MetadataLength()
	return uint64(p.n) * perNode
}

// SecondaryIndex is the secondary sliver index of a sliver pair: n-1-pair.
func (p Params) SecondaryIndex(pair int) int { return p.n - 1 - pair }

// PairOfSecondary is the sliver pair holding secondary sliver idx: n-1-idx.
func (p Params) PairOfSecondary(idx int) int { return p.n - 1 - idx }

// ShardOfPair is the shard that stores a sliver pair of the blob: (pair + offset) mod n.
func (p Params) ShardOfPair(id ID, pair int) int { return (pair + id.RotationOffset(p.n)) % p.n }

// PairOfShard is the sliver pair stored on a shard: (n + shard - offset) mod n.
func (p Params) PairOfShard(id ID, shard int) int {
	return (p.n + shard - id.RotationOffset(p.n)) % p.n
}

// SliverType is the axis of a sliver: primary (a row of the expanded matrix)
// or secondary (a column). Its BCS tag and URL form follow Walrus.
type SliverType uint8

const (
	Primary   SliverType = 0
	Secondary SliverType = 1
)

// String is the lowercase URL form: "primary" or "secondary".
func (t SliverType) String() string {
	if t == Secondary {
		return "secondary"
	}
	return "primary"
}

// Orthogonal returns the other axis.
func (t SliverType) Orthogonal() SliverType { return t ^ 1 }

// ParseSliverType parses "primary" or "secondary".
func ParseSliverType(s string) (SliverType, error) {
	switch s {
	case "primary":
		return Primary, nil
	case "secondary":
		return Secondary, nil
	}
	return 0, fmt.Errorf("blob: sliver type %q is neither primary nor secondary", s)
}

// Validate reports an unknown sliver type.
func (t SliverType) Validate() error {
	if t > Secondary {
		return fmt.Errorf("blob: sliver type %d is neither primary nor secondary", t)
	}
	return nil
}
