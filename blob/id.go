// Package blob holds the identity and shape of a Walrus blob: the blob ID and
// its text forms, the encoding parameters that follow from the shard count,
// the size formulas, the sliver-pair to shard rotation, and the blob metadata
// with its BCS encoding and verification. It is pure: no I/O, no goroutines.
package blob

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"golang.org/x/crypto/blake2b"

	"github.com/walrus-go/walrus/merkle"
)

// ID is a blob ID: BLAKE2b-256(encoding type ‖ unencoded length u64 LE ‖ root).
type ID [32]byte

// EncodingType identifies the erasure code. RS2 is the only one in use.
type EncodingType uint8

const (
	// RedStuffRaptorQ is the retired encoding; its tag is reserved and rejected.
	RedStuffRaptorQ EncodingType = 0
	// RS2 is RedStuff over Reed-Solomon (GF(2^16)), the current encoding.
	RS2 EncodingType = 1
)

// String names the encoding as Walrus's JSON does.
func (e EncodingType) String() string {
	switch e {
	case RS2:
		return "RS2"
	case RedStuffRaptorQ:
		return "RedStuffRaptorQ"
	}
	return fmt.Sprintf("EncodingType(%d)", uint8(e))
}

// ErrInvalidID is returned when a text or decimal blob ID does not parse.
var ErrInvalidID = errors.New("blob: invalid blob ID")

var b64 = base64.RawURLEncoding.Strict()

// DeriveID computes the blob ID from the encoding type, the unencoded length
// and the Merkle root over the sliver pairs (spec 2.3; Move derive_blob_id).
func DeriveID(enc EncodingType, unencodedLength uint64, root merkle.Node) ID {
	var pre [41]byte
	pre[0] = byte(enc)
	binary.LittleEndian.PutUint64(pre[1:9], unencodedLength)
	copy(pre[9:], root[:])
	return blake2b.Sum256(pre[:])
}

// String returns the URL-safe base64 form without padding (43 characters).
func (id ID) String() string { return b64.EncodeToString(id[:]) }

// Hex returns the ID in hexadecimal.
func (id ID) Hex() string { return hex.EncodeToString(id[:]) }

// ParseID parses the URL-safe base64 form (exactly 32 bytes, no padding).
func ParseID(s string) (ID, error) {
	var id ID
	if len(s) != 43 {
		return id, fmt.Errorf("%w: %q is %d characters, want 43", ErrInvalidID, s, len(s))
	}
	n, err := b64.Decode(id[:], []byte(s))
	if err != nil || n != 32 {
		return ID{}, fmt.Errorf("%w: %q is not URL-safe base64 of 32 bytes", ErrInvalidID, s)
	}
	return id, nil
}

// MarshalText implements encoding.TextMarshaler (base64url).
func (id ID) MarshalText() ([]byte, error) { return []byte(id.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (id *ID) UnmarshalText(b []byte) error {
	v, err := ParseID(string(b))
	if err != nil {
		return err
	}
	*id = v
	return nil
}

// Decimal returns the ID as the u256 that Move and Sui explorers show: the 32
// bytes read little-endian.
func (id ID) Decimal() string { return leToBig(id[:]).String() }

// IDFromDecimal parses the u256 decimal form (see Decimal).
func IDFromDecimal(s string) (ID, error) {
	s = strings.TrimSpace(s)
	v, ok := new(big.Int).SetString(s, 10)
	if !ok || v.Sign() < 0 || v.BitLen() > 256 || s == "" || s[0] == '+' {
		return ID{}, fmt.Errorf("%w: %q is not a decimal u256", ErrInvalidID, s)
	}
	var id ID
	be := v.FillBytes(make([]byte, 32))
	for i := range 32 {
		id[i] = be[31-i]
	}
	return id, nil
}

func leToBig(le []byte) *big.Int {
	be := make([]byte, len(le))
	for i := range le {
		be[len(le)-1-i] = le[i]
	}
	return new(big.Int).SetBytes(be)
}

// RotationOffset is the blob ID read as a big-endian integer, mod n (spec
// 1.6). Note: the big-endian reading differs from the u256 (little-endian) one.
func (id ID) RotationOffset(n int) int {
	off := 0
	for _, b := range id {
		off = (off<<8 | int(b)) % n
	}
	return off
}
