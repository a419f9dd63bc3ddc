// Package ids holds the identifiers every layer shares: account
// addresses, object IDs, transaction digests and event IDs, with their
// text forms (0x-hex, base58, Walrus's JSON) and how they are derived. It
// is a leaf: it imports nothing of this module, so that wire, chain,
// store, nodeapi and the SDK use one type of each and convert nothing.
package ids

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"

	"golang.org/x/crypto/blake2b"
)

// ErrParse is returned (wrapped) when a text form does not parse.
var ErrParse = errors.New("ids: cannot parse")

// Address is a Sui-style account address: BLAKE2b-256(0x00 ‖ ed25519 public key).
type Address [32]byte

// AddressOf returns the address of an ed25519 public key.
func AddressOf(pub []byte) Address {
	h, _ := blake2b.New256(nil)
	h.Write([]byte{0x00})
	h.Write(pub)
	var a Address
	h.Sum(a[:0])
	return a
}

// String is 0x followed by 64 hex digits.
func (a Address) String() string { return "0x" + hex.EncodeToString(a[:]) }

// MarshalText implements encoding.TextMarshaler.
func (a Address) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (a *Address) UnmarshalText(b []byte) error {
	v, err := parseHex32(string(b))
	*a = v
	return err
}

// ParseAddress parses 0x + 64 hex digits.
func ParseAddress(s string) (Address, error) { return parseHex32(s) }

// ObjectID identifies an object: BLAKE2b-256(creating digest ‖ u64 LE creation index).
type ObjectID [32]byte

// NewObjectID derives the ID of the index-th object created under digest.
func NewObjectID(d Digest, index uint64) ObjectID {
	var pre [40]byte
	copy(pre[:], d[:])
	binary.LittleEndian.PutUint64(pre[32:], index)
	return blake2b.Sum256(pre[:])
}

// String is 0x followed by 64 hex digits.
func (id ObjectID) String() string { return "0x" + hex.EncodeToString(id[:]) }

// MarshalText implements encoding.TextMarshaler.
func (id ObjectID) MarshalText() ([]byte, error) { return []byte(id.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (id *ObjectID) UnmarshalText(b []byte) error {
	v, err := parseHex32(string(b))
	*id = ObjectID(v)
	return err
}

// ParseObjectID parses 0x + 64 hex digits.
func ParseObjectID(s string) (ObjectID, error) {
	a, err := parseHex32(s)
	return ObjectID(a), err
}

func parseHex32(s string) (Address, error) {
	var a Address
	h, ok := strings.CutPrefix(s, "0x")
	if !ok || len(h) != 64 {
		return a, fmt.Errorf("%w: %q is not 0x and 64 hex digits", ErrParse, s)
	}
	if _, err := hex.Decode(a[:], []byte(h)); err != nil {
		return a, fmt.Errorf("%w: %q: %w", ErrParse, s, err)
	}
	return a, nil
}

// Digest is a transaction digest: BLAKE2b-256 of the signed transaction
// bytes, shown in base58 as Sui shows digests.
type Digest [32]byte

// TxDigest returns the digest of signed transaction bytes.
func TxDigest(signedTx []byte) Digest { return blake2b.Sum256(signedTx) }

// BlockDigest is the digest under which block processing (epoch changes,
// price updates) creates objects and emits events: BLAKE2b-256("block" ‖ u64 LE height).
func BlockDigest(height uint64) Digest {
	pre := binary.LittleEndian.AppendUint64([]byte("block"), height)
	return blake2b.Sum256(pre)
}

// GenesisDigest is the digest of objects created at genesis: BLAKE2b-256("genesis" ‖ chain ID).
func GenesisDigest(chainID string) Digest { return blake2b.Sum256([]byte("genesis" + chainID)) }

const b58Alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

// maxDigestText is the longest base58 form of 32 bytes: ⌈256 / log2(58)⌉.
const maxDigestText = 44

// String is the base58 form (Bitcoin alphabet).
func (d Digest) String() string {
	x := new(big.Int).SetBytes(d[:])
	var out []byte
	mod, base := new(big.Int), big.NewInt(58)
	for x.Sign() > 0 {
		x.DivMod(x, base, mod)
		out = append(out, b58Alphabet[mod.Int64()])
	}
	for _, b := range d {
		if b != 0 {
			break
		}
		out = append(out, '1')
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return string(out)
}

// ParseDigest parses the base58 form.
func ParseDigest(s string) (Digest, error) {
	var d Digest
	if len(s) > maxDigestText {
		return d, fmt.Errorf("%w: digest of %d characters; base58 of 32 bytes has at most %d", ErrParse, len(s), maxDigestText)
	}
	x := new(big.Int)
	base := big.NewInt(58)
	zeros := 0
	for i, c := range []byte(s) {
		v := strings.IndexByte(b58Alphabet, c)
		if v < 0 {
			return d, fmt.Errorf("%w: digest %q: bad character", ErrParse, s)
		}
		if v == 0 && i == zeros {
			zeros++
		}
		x.Mul(x, base).Add(x, big.NewInt(int64(v)))
	}
	if x.BitLen() > 256 || zeros+len(x.Bytes()) != 32 && !(x.Sign() == 0 && zeros == 32) {
		return d, fmt.Errorf("%w: digest %q is not 32 bytes", ErrParse, s)
	}
	x.FillBytes(d[:])
	return d, nil
}

// MarshalText implements encoding.TextMarshaler.
func (d Digest) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Digest) UnmarshalText(b []byte) error {
	v, err := ParseDigest(string(b))
	*d = v
	return err
}

// EventID names a chain event: the digest of the transaction (or block
// step) that emitted it and its index there. Its JSON form is Walrus's
// {txDigest, eventSeq}, the digest in base58 and the sequence number a
// decimal string.
type EventID struct {
	TxDigest Digest
	Seq      uint64
}

type wireEventID struct {
	TxDigest string `json:"txDigest"`
	EventSeq string `json:"eventSeq"`
}

// MarshalJSON implements json.Marshaler.
func (e EventID) MarshalJSON() ([]byte, error) {
	return json.Marshal(wireEventID{e.TxDigest.String(), strconv.FormatUint(e.Seq, 10)})
}

// UnmarshalJSON implements json.Unmarshaler. It accepts eventSeq as a
// string or a number.
func (e *EventID) UnmarshalJSON(b []byte) error {
	var w struct {
		TxDigest string          `json:"txDigest"`
		EventSeq json.RawMessage `json:"eventSeq"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	d, err := ParseDigest(w.TxDigest)
	if err != nil {
		return err
	}
	seq := string(bytes.Trim(w.EventSeq, `"`))
	n, err := strconv.ParseUint(seq, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: eventSeq %s: %w", ErrParse, w.EventSeq, err)
	}
	*e = EventID{d, n}
	return nil
}
