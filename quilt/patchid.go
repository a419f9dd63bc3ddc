package quilt

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"

	"github.com/walrus-go/walrus/blob"
)

// PatchIDSize is the byte length of a V1 patch ID: the 32-byte quilt ID and
// the 5-byte internal ID.
const PatchIDSize = 32 + internalIDSize

// PatchIDTextSize is the length of a patch ID's text form.
const PatchIDTextSize = (PatchIDSize*8 + 5) / 6

// internalIDSize is the size of QuiltPatchInternalIdV1: version, start u16 LE, end u16 LE.
const internalIDSize = 5

// PatchID names a patch in Walrus (QuiltPatchId with a QuiltPatchInternalIdV1):
// the quilt's blob ID and the columns [Start, End) the patch occupies. Its
// text form is the URL-safe base64 (no padding) of quilt ID ‖ 0x01 ‖ Start
// u16 LE ‖ End u16 LE: 50 characters.
type PatchID struct {
	Quilt      blob.ID
	Start, End uint16
}

var b64 = base64.RawURLEncoding.Strict()

// InternalID returns the 5-byte QuiltPatchInternalIdV1.
func (id PatchID) InternalID() [internalIDSize]byte {
	var b [internalIDSize]byte
	b[0] = Version
	binary.LittleEndian.PutUint16(b[1:3], id.Start)
	binary.LittleEndian.PutUint16(b[3:5], id.End)
	return b
}

// Bytes returns the 37-byte binary form.
func (id PatchID) Bytes() [PatchIDSize]byte {
	var b [PatchIDSize]byte
	copy(b[:32], id.Quilt[:])
	in := id.InternalID()
	copy(b[32:], in[:])
	return b
}

// String returns the text form (URL-safe base64 without padding).
func (id PatchID) String() string {
	b := id.Bytes()
	return b64.EncodeToString(b[:])
}

// MarshalText implements encoding.TextMarshaler (the text form).
func (id PatchID) MarshalText() ([]byte, error) { return []byte(id.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (id *PatchID) UnmarshalText(b []byte) error {
	v, err := ParsePatchID(string(b))
	if err != nil {
		return err
	}
	*id = v
	return nil
}

// ParsePatchID parses the text form. Errors wrap ErrInvalidPatchID (and
// ErrVersion for an internal ID of another version).
func ParsePatchID(s string) (PatchID, error) {
	if len(s) != PatchIDTextSize {
		return PatchID{}, fmt.Errorf("%w: %s is %d characters, want %d", ErrInvalidPatchID, short(s), len(s), PatchIDTextSize)
	}
	var b [PatchIDSize]byte
	if n, err := b64.Decode(b[:], []byte(s)); err != nil || n != PatchIDSize {
		return PatchID{}, fmt.Errorf("%w: %s is not URL-safe base64 of %d bytes", ErrInvalidPatchID, short(s), PatchIDSize)
	}
	return PatchIDFromBytes(b[:])
}

// PatchIDFromBytes parses the 37-byte binary form.
func PatchIDFromBytes(b []byte) (PatchID, error) {
	if len(b) != PatchIDSize {
		return PatchID{}, fmt.Errorf("%w: %d bytes, want %d", ErrInvalidPatchID, len(b), PatchIDSize)
	}
	var id PatchID
	copy(id.Quilt[:], b[:32])
	start, end, err := ParseInternalID(b[32:])
	if err != nil {
		return PatchID{}, err
	}
	id.Start, id.End = start, end
	return id, nil
}

// ParseInternalID parses a QuiltPatchInternalIdV1 (5 bytes) into its column
// range. Beyond Walrus's checks (length, version) it rejects an empty or
// reversed range, which no quilt contains.
func ParseInternalID(b []byte) (start, end uint16, err error) {
	if len(b) != internalIDSize {
		return 0, 0, fmt.Errorf("%w: internal ID of %d bytes, want %d", ErrInvalidPatchID, len(b), internalIDSize)
	}
	if b[0] != Version {
		return 0, 0, fmt.Errorf("%w: %w: internal ID version %d", ErrInvalidPatchID, ErrVersion, b[0])
	}
	start, end = binary.LittleEndian.Uint16(b[1:3]), binary.LittleEndian.Uint16(b[3:5])
	if start >= end {
		return 0, 0, fmt.Errorf("%w: empty column range [%d, %d)", ErrInvalidPatchID, start, end)
	}
	return start, end, nil
}

// Check reports whether the patch ID's range can exist in a quilt for p:
// after at least one index column and within the k_s columns.
func (id PatchID) Check(p blob.Params) error {
	if id.Start == 0 || id.Start >= id.End || int(id.End) > p.SecondarySymbols() {
		return fmt.Errorf("%w: columns [%d, %d) do not fit a quilt of %d columns", ErrInvalidPatchID, id.Start, id.End, p.SecondarySymbols())
	}
	return nil
}
