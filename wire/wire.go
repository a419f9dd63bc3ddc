// Package wire holds the byte forms of Walrus's signed protocol messages
// (spec 3.3-3.5): the 7-byte intent header, the storage confirmation, the
// invalid-blob attestation, the proof of possession, the shard-sync request,
// signed messages and certificates. Nodes sign these exact bytes with BLS;
// the chain and clients parse and check them. The package is pure.
package wire

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/walrus-go/walrus/bcs"
	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/ids"
)

// IntentType says what a signed message means.
type IntentType uint8

// Intent types of Walrus messages.
const (
	IntentProofOfPossession  IntentType = 0
	IntentBlobCert           IntentType = 1
	IntentInvalidBlobID      IntentType = 2
	IntentSyncShard          IntentType = 3
	IntentDenyListUpdate     IntentType = 4
	IntentDenyListBlobDelete IntentType = 5
	IntentProtocolVersion    IntentType = 6
)

const (
	// IntentVersion is the only intent version.
	IntentVersion = 0
	// AppID is Walrus's intent app ID.
	AppID = 3
	// HeaderLen is intent type, version, app ID and the u32 epoch.
	HeaderLen = 7
	// SignatureLen is a BLS12-381 min-pk signature (compressed G2).
	SignatureLen = 96
	// PublicKeyLen is a BLS12-381 min-pk public key (compressed G1).
	PublicKeyLen = 48
)

// Errors returned by the parsers.
var (
	// ErrMessage: the bytes are not a well-formed message of the expected kind.
	ErrMessage = errors.New("wire: malformed message")
)

// Header is the intent header every signed message starts with.
type Header struct {
	Intent IntentType
	Epoch  uint32
}

func appendHeader(b []byte, intent IntentType, epoch uint32) []byte {
	b = append(b, byte(intent), IntentVersion, AppID)
	return binary.LittleEndian.AppendUint32(b, epoch)
}

// ParseHeader reads the header of a signed message and returns it with the body.
func ParseHeader(msg []byte) (Header, []byte, error) {
	if len(msg) < HeaderLen {
		return Header{}, nil, fmt.Errorf("%w: %d bytes, shorter than the header", ErrMessage, len(msg))
	}
	if msg[1] != IntentVersion || msg[2] != AppID {
		return Header{}, nil, fmt.Errorf("%w: intent version %d app %d, want %d and %d", ErrMessage, msg[1], msg[2], IntentVersion, AppID)
	}
	if msg[0] > byte(IntentProtocolVersion) {
		return Header{}, nil, fmt.Errorf("%w: unknown intent type %d", ErrMessage, msg[0])
	}
	return Header{Intent: IntentType(msg[0]), Epoch: binary.LittleEndian.Uint32(msg[3:7])}, msg[HeaderLen:], nil
}

func parseBody(msg []byte, want IntentType) (uint32, *bcs.Decoder, error) {
	h, body, err := ParseHeader(msg)
	if err != nil {
		return 0, nil, err
	}
	if h.Intent != want {
		return 0, nil, fmt.Errorf("%w: intent type %d, want %d", ErrMessage, h.Intent, want)
	}
	return h.Epoch, bcs.NewDecoder(body), nil
}

func finish(d *bcs.Decoder) error {
	if err := d.Finish(); err != nil {
		return fmt.Errorf("%w: %w", ErrMessage, err)
	}
	return nil
}

// Persistence says whether a confirmed blob is permanent or deletable; a
// deletable confirmation names the Blob object.
type Persistence struct {
	Deletable bool
	ObjectID  ids.ObjectID
}

// Permanent is the permanent persistence.
var Permanent = Persistence{}

// Deletable returns the persistence of the deletable Blob object id.
func Deletable(id ids.ObjectID) Persistence { return Persistence{Deletable: true, ObjectID: id} }

// Confirmation is a storage confirmation (BLOB_CERT): "every shard assigned to
// me in this epoch has received, checked and persisted its slivers of this blob".
type Confirmation struct {
	Epoch       uint32
	BlobID      blob.ID
	Persistence Persistence
}

// Marshal returns the message bytes to sign.
func (c *Confirmation) Marshal() []byte {
	b := appendHeader(make([]byte, 0, 72), IntentBlobCert, c.Epoch)
	b = append(b, c.BlobID[:]...)
	if c.Persistence.Deletable {
		b = append(b, 1)
		return append(b, c.Persistence.ObjectID[:]...)
	}
	return append(b, 0)
}

// ParseConfirmation parses a BLOB_CERT message.
func ParseConfirmation(msg []byte) (Confirmation, error) {
	var c Confirmation
	epoch, d, err := parseBody(msg, IntentBlobCert)
	if err != nil {
		return c, err
	}
	c.Epoch = epoch
	c.BlobID = d.Array32()
	if d.Tag(2) == 1 {
		c.Persistence = Deletable(d.Array32())
	}
	return c, finish(d)
}

// InvalidBlobID attests that a blob is inconsistently encoded.
type InvalidBlobID struct {
	Epoch  uint32
	BlobID blob.ID
}

// Marshal returns the message bytes to sign.
func (m *InvalidBlobID) Marshal() []byte {
	return append(appendHeader(make([]byte, 0, 39), IntentInvalidBlobID, m.Epoch), m.BlobID[:]...)
}

// ParseInvalidBlobID parses an INVALID_BLOB_ID message.
func ParseInvalidBlobID(msg []byte) (InvalidBlobID, error) {
	var m InvalidBlobID
	epoch, d, err := parseBody(msg, IntentInvalidBlobID)
	if err != nil {
		return m, err
	}
	m.Epoch, m.BlobID = epoch, d.Array32()
	return m, finish(d)
}

// ProofOfPossession binds a BLS public key to an account: the key's owner
// signs (header ‖ address ‖ public key) with it.
type ProofOfPossession struct {
	Epoch     uint32
	Address   ids.Address
	PublicKey [PublicKeyLen]byte
}

// Marshal returns the message bytes to sign.
func (p *ProofOfPossession) Marshal() []byte {
	b := appendHeader(make([]byte, 0, 87), IntentProofOfPossession, p.Epoch)
	b = append(b, p.Address[:]...)
	return append(b, p.PublicKey[:]...)
}

// ParseProofOfPossession parses a PROOF_OF_POSSESSION message.
func ParseProofOfPossession(msg []byte) (ProofOfPossession, error) {
	var p ProofOfPossession
	epoch, d, err := parseBody(msg, IntentProofOfPossession)
	if err != nil {
		return p, err
	}
	p.Epoch, p.Address = epoch, d.Array32()
	copy(p.PublicKey[:], d.Fixed(PublicKeyLen))
	return p, finish(d)
}

// SyncShardRequest asks a shard's previous owner for a page of its slivers
// (node to node, at epoch change).
type SyncShardRequest struct {
	Epoch          uint32
	Shard          uint16
	SliverType     blob.SliverType
	StartingBlobID blob.ID
	Count          uint64
}

// Marshal returns the message bytes to sign: the header, then the V1 request
// (which repeats the epoch).
func (r *SyncShardRequest) Marshal() []byte {
	b := appendHeader(make([]byte, 0, 64), IntentSyncShard, r.Epoch)
	b = bcs.AppendULEB128(b, 0) // V1
	b = bcs.AppendU16(b, r.Shard)
	b = bcs.AppendULEB128(b, uint32(r.SliverType))
	b = append(b, r.StartingBlobID[:]...)
	b = bcs.AppendU64(b, r.Count)
	return bcs.AppendU32(b, r.Epoch)
}

// ParseSyncShardRequest parses a SYNC_SHARD message; the two epochs must agree.
func ParseSyncShardRequest(msg []byte) (SyncShardRequest, error) {
	var r SyncShardRequest
	epoch, d, err := parseBody(msg, IntentSyncShard)
	if err != nil {
		return r, err
	}
	d.Tag(1)
	r.Epoch = epoch
	r.Shard = d.U16()
	r.SliverType = blob.SliverType(d.Tag(2))
	r.StartingBlobID = d.Array32()
	r.Count = d.U64()
	if inner := d.U32(); d.Err() == nil && inner != epoch {
		return r, fmt.Errorf("%w: request epoch %d differs from header epoch %d", ErrMessage, inner, epoch)
	}
	return r, finish(d)
}
