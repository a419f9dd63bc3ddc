package blob

import (
	"errors"
	"fmt"

	"github.com/walrus-go/walrus/bcs"
	"github.com/walrus-go/walrus/merkle"
)

// Errors returned by metadata decoding and verification.
var (
	// ErrMetadata: the metadata bytes do not decode, or do not fit the parameters.
	ErrMetadata = errors.New("blob: invalid metadata")
	// ErrIDMismatch: the metadata does not derive the claimed blob ID.
	ErrIDMismatch = errors.New("blob: metadata does not match the blob ID")
)

// SliverPairMetadata holds the Merkle roots of the two slivers of a pair:
// each is the root over the n symbols of that sliver's orthogonal expansion.
type SliverPairMetadata struct {
	Primary   merkle.Node
	Secondary merkle.Node
}

// LeafHash is the pair's leaf in the blob root tree: H(0x00 ‖ primary ‖ secondary).
func (h *SliverPairMetadata) LeafHash() merkle.Node {
	var in [64]byte
	copy(in[:32], h.Primary[:])
	copy(in[32:], h.Secondary[:])
	return merkle.LeafHash(in[:])
}

// Metadata is Walrus's BlobMetadata (V1): the encoding, the unencoded length and
// one SliverPairMetadata per sliver pair, in pair order.
type Metadata struct {
	EncodingType    EncodingType
	UnencodedLength uint64
	Hashes          []SliverPairMetadata
}

// Root is the Merkle root over the pair leaves.
func (m *Metadata) Root() merkle.Node {
	leaves := make([]merkle.Node, len(m.Hashes))
	for i := range m.Hashes {
		leaves[i] = m.Hashes[i].LeafHash()
	}
	return merkle.Root(leaves)
}

// ComputeID derives the blob ID from the metadata.
func (m *Metadata) ComputeID() ID { return DeriveID(m.EncodingType, m.UnencodedLength, m.Root()) }

// PrimaryHash is the metadata hash of primary sliver idx (held by pair idx).
func (m *Metadata) PrimaryHash(idx int) merkle.Node { return m.Hashes[idx].Primary }

// SecondaryHash is the metadata hash of secondary sliver idx (held by pair n-1-idx).
func (m *Metadata) SecondaryHash(idx int) merkle.Node {
	return m.Hashes[len(m.Hashes)-1-idx].Secondary
}

// AppendBCS appends BlobMetadata::V1: tag 0, encoding tag, u64 length, the
// vector of pairs with each hash as Node::Digest.
func (m *Metadata) AppendBCS(b []byte) []byte {
	b = bcs.AppendULEB128(b, 0) // V1
	b = bcs.AppendULEB128(b, uint32(m.EncodingType))
	b = bcs.AppendU64(b, m.UnencodedLength)
	b = bcs.AppendLen(b, len(m.Hashes))
	for i := range m.Hashes {
		b = AppendNodeDigest(b, m.Hashes[i].Primary)
		b = AppendNodeDigest(b, m.Hashes[i].Secondary)
	}
	return b
}

// MarshalBCS returns the BCS bytes of the metadata.
func (m *Metadata) MarshalBCS() []byte { return m.AppendBCS(make([]byte, 0, 16+66*len(m.Hashes))) }

// DecodeMetadata reads a BlobMetadata from d.
func DecodeMetadata(d *bcs.Decoder) Metadata {
	var m Metadata
	if d.Tag(1) != 0 { // only V1
		return m
	}
	enc := d.Tag(2)
	if d.Err() == nil && EncodingType(enc) != RS2 {
		d.Fail(fmt.Errorf("%w: encoding type %v is not supported", ErrMetadata, EncodingType(enc)))
		return m
	}
	m.EncodingType = EncodingType(enc)
	m.UnencodedLength = d.U64()
	n := d.Len(65535, 2)
	if d.Err() != nil {
		return m
	}
	m.Hashes = make([]SliverPairMetadata, n)
	for i := range m.Hashes {
		m.Hashes[i].Primary = DecodeNode(d)
		m.Hashes[i].Secondary = DecodeNode(d)
	}
	if d.Err() != nil {
		m.Hashes = nil
	}
	return m
}

// UnmarshalMetadata decodes exactly one BlobMetadata from b.
func UnmarshalMetadata(b []byte) (Metadata, error) {
	d := bcs.NewDecoder(b)
	m := DecodeMetadata(d)
	if err := d.Finish(); err != nil {
		return Metadata{}, fmt.Errorf("%w: %w", ErrMetadata, err)
	}
	return m, nil
}

// MetadataWithID is BlobMetadataWithId: the blob ID then the metadata.
type MetadataWithID struct {
	ID ID
	Metadata
}

// AppendBCS appends the 32 ID bytes then the metadata.
func (m *MetadataWithID) AppendBCS(b []byte) []byte {
	return m.Metadata.AppendBCS(append(b, m.ID[:]...))
}

// MarshalBCS returns the BCS bytes.
func (m *MetadataWithID) MarshalBCS() []byte {
	return m.AppendBCS(make([]byte, 0, 48+66*len(m.Hashes)))
}

// UnmarshalMetadataWithID decodes exactly one BlobMetadataWithId from b. It
// does not verify it; call Verify.
func UnmarshalMetadataWithID(b []byte) (MetadataWithID, error) {
	d := bcs.NewDecoder(b)
	var m MetadataWithID
	m.ID = d.Array32()
	m.Metadata = DecodeMetadata(d)
	if err := d.Finish(); err != nil {
		return MetadataWithID{}, fmt.Errorf("%w: %w", ErrMetadata, err)
	}
	return m, nil
}

// Verify checks metadata received from elsewhere against the parameters and the
// blob ID it claims: one hash pair per shard, a length these parameters can
// encode, and a matching derived ID.
func (m *MetadataWithID) Verify(p Params) error {
	if m.EncodingType != RS2 {
		return fmt.Errorf("%w: encoding type %v", ErrMetadata, m.EncodingType)
	}
	if len(m.Hashes) != p.N() {
		return fmt.Errorf("%w: %d sliver pairs for %d shards", ErrMetadata, len(m.Hashes), p.N())
	}
	if m.UnencodedLength > p.MaxBlobSize() {
		return fmt.Errorf("%w: length %d above the maximum %d", ErrMetadata, m.UnencodedLength, p.MaxBlobSize())
	}
	if got := m.ComputeID(); got != m.ID {
		return fmt.Errorf("%w: derived %v, claimed %v", ErrIDMismatch, got, m.ID)
	}
	return nil
}

// AppendNodeDigest appends a Merkle node as Node::Digest (tag 1 and 32 bytes).
func AppendNodeDigest(b []byte, n merkle.Node) []byte {
	return append(append(b, 1), n[:]...)
}

// AppendNode appends a Merkle node, writing the all-zero node as Node::Empty
// (tag 0), as Walrus does for padding siblings in proofs.
func AppendNode(b []byte, n merkle.Node) []byte {
	if n == merkle.Empty {
		return append(b, 0)
	}
	return AppendNodeDigest(b, n)
}

// DecodeNode reads a Node: Empty (tag 0) becomes the zero node.
func DecodeNode(d *bcs.Decoder) merkle.Node {
	if d.Tag(2) == 0 {
		return merkle.Empty
	}
	return d.Array32()
}
