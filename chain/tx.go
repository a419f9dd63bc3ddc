package chain

import (
	"crypto/ed25519"
	"errors"
	"fmt"

	"golang.org/x/crypto/blake2b"

	"github.com/walrus-go/walrus/bcs"
	"github.com/walrus-go/walrus/ids"
)

// Limits on transaction contents.
const (
	MaxTxBytes        = 256 << 10
	MaxCalls          = 64
	maxNameLen        = 100 // Walrus: node name
	maxAddressLen     = 259 // Walrus: network address
	maxNetKeyLen      = 128
	maxAttrLen        = 1024
	maxAttributes     = 256
	maxMessageLen     = 4096
	maxBitmapLen      = 8192
	maxEpochsAheadCap = 1000 // Walrus's contract cap
)

// Errors returned by DecodeTx; the ABCI application maps them to codes.
var (
	// ErrUndecodable: the bytes are not a signed transaction.
	ErrUndecodable = errors.New("chain: undecodable transaction")
	// ErrBadSignature: the signature does not verify or the key is not the sender's.
	ErrBadSignature = errors.New("chain: bad transaction signature")
)

// ObjectRef names an object: by ID, or as the Index-th object created by an
// earlier call of the same transaction.
type ObjectRef struct {
	ID      ids.ObjectID
	Created bool
	Index   uint16
}

// Ref names an existing object.
func Ref(id ids.ObjectID) ObjectRef { return ObjectRef{ID: id} }

// CreatedRef names the index-th object created earlier in the same transaction.
func CreatedRef(index int) ObjectRef { return ObjectRef{Created: true, Index: uint16(index)} }

func appendRef(b []byte, r ObjectRef) []byte {
	if r.Created {
		return bcs.AppendU16(bcs.AppendULEB128(b, 1), r.Index)
	}
	return append(bcs.AppendULEB128(b, 0), r.ID[:]...)
}

func decodeRef(d *bcs.Decoder) ObjectRef {
	if d.Tag(2) == 1 {
		return ObjectRef{Created: true, Index: d.U16()}
	}
	return ObjectRef{ID: d.Array32()}
}

// Tx is an unsigned transaction: calls that run in order, atomically.
type Tx struct {
	Sender   ids.Address
	Sequence uint64
	Fee      uint64
	Calls    []Call
}

// Marshal encodes the transaction (the bytes that get signed).
func (t *Tx) Marshal() []byte {
	b := append([]byte(nil), t.Sender[:]...)
	b = bcs.AppendU64(b, t.Sequence)
	b = bcs.AppendU64(b, t.Fee)
	b = bcs.AppendLen(b, len(t.Calls))
	for _, c := range t.Calls {
		b = bcs.AppendULEB128(b, uint32(c.op()))
		b = c.appendTo(b)
	}
	return b
}

func decodeTx(d *bcs.Decoder) Tx {
	var t Tx
	t.Sender = d.Array32()
	t.Sequence = d.U64()
	t.Fee = d.U64()
	n := d.Len(MaxCalls, 1)
	for range n {
		c := newCall(op(d.Tag(int(opCount))))
		if d.Err() != nil {
			break
		}
		c.decode(d)
		t.Calls = append(t.Calls, c)
	}
	return t
}

// intent prefixes the signed bytes: (scope transaction, version 0, app Walrus-on-CometBFT).
var intent = []byte{0x00, 0x00, 0x57}

// SigningDigest is what the sender signs with ed25519: BLAKE2b-256(intent ‖
// chain ID (BCS string) ‖ transaction bytes). The chain ID keeps a
// transaction of one network from being replayed on another.
func SigningDigest(chainID string, txBytes []byte) [32]byte {
	h, _ := blake2b.New256(nil)
	h.Write(intent)
	h.Write(bcs.AppendString(nil, chainID))
	h.Write(txBytes)
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// SignedTx is a transaction with the sender's ed25519 key and signature.
type SignedTx struct {
	Tx        Tx
	TxBytes   []byte
	PublicKey ed25519.PublicKey
	Signature []byte
	Digest    ids.Digest
}

// Sign signs t for chainID and returns the signed transaction bytes, which
// is what gets broadcast, and their digest.
func Sign(t *Tx, chainID string, key ed25519.PrivateKey) ([]byte, ids.Digest) {
	txb := t.Marshal()
	dig := SigningDigest(chainID, txb)
	sig := ed25519.Sign(key, dig[:])
	b := bcs.AppendBytes(nil, txb)
	b = append(b, 0x00) // scheme flag: ed25519, as Sui
	b = append(b, key.Public().(ed25519.PublicKey)...)
	b = append(b, sig...)
	return b, ids.TxDigest(b)
}

// DecodeTx decodes signed transaction bytes and checks the signature for
// chainID and that the key is the sender's. It needs no state.
func DecodeTx(b []byte, chainID string) (*SignedTx, error) {
	st, err := decodeSigned(b)
	if err != nil {
		return nil, err
	}
	if ids.AddressOf(st.PublicKey) != st.Tx.Sender {
		return nil, fmt.Errorf("%w: key is not the sender's", ErrBadSignature)
	}
	dig := SigningDigest(chainID, st.TxBytes)
	if !ed25519.Verify(st.PublicKey, dig[:], st.Signature) {
		return nil, fmt.Errorf("%w: signature does not verify for chain %q", ErrBadSignature, chainID)
	}
	return st, nil
}

func decodeSigned(b []byte) (*SignedTx, error) {
	if len(b) > MaxTxBytes {
		return nil, fmt.Errorf("%w: %d bytes, at most %d", ErrUndecodable, len(b), MaxTxBytes)
	}
	d := bcs.NewDecoder(b)
	txb := d.Bytes(MaxTxBytes)
	if d.U8() != 0 && d.Err() == nil {
		return nil, fmt.Errorf("%w: unknown signature scheme", ErrUndecodable)
	}
	pk := d.Fixed(ed25519.PublicKeySize)
	sig := d.Fixed(ed25519.SignatureSize)
	if err := d.Finish(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUndecodable, err)
	}
	td := bcs.NewDecoder(txb)
	t := decodeTx(td)
	if err := td.Finish(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUndecodable, err)
	}
	return &SignedTx{Tx: t, TxBytes: txb, PublicKey: ed25519.PublicKey(pk), Signature: sig, Digest: ids.TxDigest(b)}, nil
}
