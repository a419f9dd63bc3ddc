// Package bls implements the Walrus signature scheme: BLS12-381 in the
// min-pk variant (public keys in G1, 48 bytes compressed; signatures in G2,
// 96 bytes compressed) with the ciphersuite
// BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_NUL_, over supranational/blst.
//
// Every decoder rejects bytes that are not a canonical compressed point, the
// point at infinity, and points outside the prime-order subgroup, so a parsed
// PublicKey or Signature is always safe to aggregate. Keys are bound to their
// owners with a proof of possession over the wire.ProofOfPossession message,
// which makes fast aggregate verification (one pairing check over the sum of
// the signers' keys) safe against rogue-key attacks.
package bls

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"

	blst "github.com/supranational/blst/bindings/go"

	"github.com/walrus-go/walrus/ids"
	"github.com/walrus-go/walrus/wire"
)

const (
	// PublicKeyLen is the size of a compressed G1 public key.
	PublicKeyLen = 48
	// SignatureLen is the size of a compressed G2 signature.
	SignatureLen = 96
	// SecretKeyLen is the size of a secret key (a big-endian scalar).
	SecretKeyLen = 32
	// MinIKMLen is the least input keying material KeyFromIKM accepts.
	MinIKMLen = 32
)

// dst is the ciphersuite's domain separation tag.
var dst = []byte("BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_NUL_")

// Errors returned by this package.
var (
	// ErrSecretKey: bytes that are not a valid non-zero scalar, or IKM that is too short.
	ErrSecretKey = errors.New("bls: invalid secret key")
	// ErrPublicKey: bytes that are not a valid G1 public key (encoding, infinity or subgroup).
	ErrPublicKey = errors.New("bls: invalid public key")
	// ErrSignature: bytes that are not a valid G2 signature (encoding, infinity or subgroup).
	ErrSignature = errors.New("bls: invalid signature")
	// ErrVerify: a well-formed signature that does not verify.
	ErrVerify = errors.New("bls: signature verification failed")
	// ErrEmpty: an aggregate over nothing.
	ErrEmpty = errors.New("bls: nothing to aggregate")
)

// SecretKey is a BLS secret key.
type SecretKey struct {
	sk blst.SecretKey
}

// KeyFromIKM derives a secret key from at least 32 bytes of input keying
// material with the standard KeyGen (blst KeyGen, empty info).
func KeyFromIKM(ikm []byte) (*SecretKey, error) {
	if len(ikm) < MinIKMLen {
		return nil, fmt.Errorf("%w: %d bytes of IKM, want at least %d", ErrSecretKey, len(ikm), MinIKMLen)
	}
	sk := blst.KeyGen(ikm)
	if sk == nil {
		return nil, ErrSecretKey
	}
	return &SecretKey{sk: *sk}, nil
}

// GenerateKey draws 32 bytes of IKM from r (crypto/rand.Reader if nil).
func GenerateKey(r io.Reader) (*SecretKey, error) {
	if r == nil {
		r = rand.Reader
	}
	var ikm [32]byte
	if _, err := io.ReadFull(r, ikm[:]); err != nil {
		return nil, fmt.Errorf("bls: reading randomness: %w", err)
	}
	return KeyFromIKM(ikm[:])
}

// SecretKeyFromBytes parses a 32-byte big-endian scalar in [1, r).
func SecretKeyFromBytes(b []byte) (*SecretKey, error) {
	if len(b) != SecretKeyLen {
		return nil, fmt.Errorf("%w: %d bytes, want %d", ErrSecretKey, len(b), SecretKeyLen)
	}
	var sk blst.SecretKey
	if sk.Deserialize(b) == nil || !sk.Valid() {
		return nil, ErrSecretKey
	}
	return &SecretKey{sk: sk}, nil
}

// Bytes returns the secret scalar, 32 bytes big-endian.
func (k *SecretKey) Bytes() [SecretKeyLen]byte {
	var out [SecretKeyLen]byte
	copy(out[:], k.sk.Serialize())
	return out
}

// PublicKey returns the key's public half.
func (k *SecretKey) PublicKey() PublicKey {
	var p blst.P1Affine
	p.From(&k.sk)
	return newPublicKey(&p)
}

// Sign signs msg (the exact serialized message bytes).
func (k *SecretKey) Sign(msg []byte) Signature {
	var s blst.P2Affine
	s.Sign(&k.sk, msg, dst)
	return newSignature(&s)
}

// ProofOfPossession signs the proof-of-possession message that binds this key
// to addr in epoch, and returns the message with its signature.
func (k *SecretKey) ProofOfPossession(epoch uint32, addr ids.Address) (wire.ProofOfPossession, Signature) {
	pop := wire.ProofOfPossession{Epoch: epoch, Address: addr, PublicKey: k.PublicKey().Bytes()}
	return pop, k.Sign(pop.Marshal())
}

// PublicKey is a validated G1 public key. The zero value is not a valid key;
// obtain keys from ParsePublicKey, SecretKey.PublicKey or AggregatePublicKeys.
type PublicKey struct {
	p *blst.P1Affine
	b [PublicKeyLen]byte
}

func newPublicKey(p *blst.P1Affine) PublicKey {
	pk := PublicKey{p: p}
	copy(pk.b[:], p.Compress())
	return pk
}

// ParsePublicKey decodes a compressed public key and checks that it is on
// the curve, in the subgroup and not the identity.
func ParsePublicKey(b []byte) (PublicKey, error) {
	if len(b) != PublicKeyLen {
		return PublicKey{}, fmt.Errorf("%w: %d bytes, want %d", ErrPublicKey, len(b), PublicKeyLen)
	}
	p := new(blst.P1Affine).Uncompress(b)
	if p == nil || !p.KeyValidate() {
		return PublicKey{}, ErrPublicKey
	}
	var pk PublicKey
	pk.p = p
	copy(pk.b[:], b)
	return pk, nil
}

// Bytes returns the compressed key.
func (pk PublicKey) Bytes() [PublicKeyLen]byte { return pk.b }

// Valid reports whether pk holds a key (is not the zero value).
func (pk PublicKey) Valid() bool { return pk.p != nil }

// Equal reports whether two keys are the same point.
func (pk PublicKey) Equal(o PublicKey) bool { return pk.b == o.b }

// Signature is a validated G2 signature.
type Signature struct {
	p *blst.P2Affine
	b [SignatureLen]byte
}

func newSignature(p *blst.P2Affine) Signature {
	s := Signature{p: p}
	copy(s.b[:], p.Compress())
	return s
}

// ParseSignature decodes a compressed signature and checks that it is on the
// curve, in the subgroup and not the identity.
func ParseSignature(b []byte) (Signature, error) {
	if len(b) != SignatureLen {
		return Signature{}, fmt.Errorf("%w: %d bytes, want %d", ErrSignature, len(b), SignatureLen)
	}
	p := new(blst.P2Affine).Uncompress(b)
	if p == nil || !p.SigValidate(true) {
		return Signature{}, ErrSignature
	}
	var s Signature
	s.p = p
	copy(s.b[:], b)
	return s, nil
}

// Bytes returns the compressed signature.
func (s Signature) Bytes() [SignatureLen]byte { return s.b }

// Valid reports whether s holds a signature (is not the zero value).
func (s Signature) Valid() bool { return s.p != nil }

// AggregateSignatures sums signatures. The inputs are already validated.
func AggregateSignatures(sigs []Signature) (Signature, error) {
	if len(sigs) == 0 {
		return Signature{}, ErrEmpty
	}
	var acc blst.P2
	for _, s := range sigs {
		if s.p == nil {
			return Signature{}, ErrSignature
		}
		acc.AddAssign(s.p)
	}
	aff := acc.ToAffine()
	if !aff.SigValidate(true) {
		// The sum is the identity: not a usable signature.
		return Signature{}, fmt.Errorf("%w: aggregate is the identity", ErrSignature)
	}
	return newSignature(aff), nil
}

// AggregatePublicKeys sums public keys. The inputs are already validated;
// keys must come with proofs of possession for the sum to be meaningful.
func AggregatePublicKeys(pks []PublicKey) (PublicKey, error) {
	if len(pks) == 0 {
		return PublicKey{}, ErrEmpty
	}
	var acc blst.P1
	for _, pk := range pks {
		if pk.p == nil {
			return PublicKey{}, ErrPublicKey
		}
		acc.AddAssign(pk.p)
	}
	aff := acc.ToAffine()
	if !aff.KeyValidate() {
		return PublicKey{}, fmt.Errorf("%w: aggregate is the identity", ErrPublicKey)
	}
	return newPublicKey(aff), nil
}

// Verify checks sig over msg under pk.
func Verify(pk PublicKey, msg []byte, sig Signature) error {
	if pk.p == nil {
		return ErrPublicKey
	}
	if sig.p == nil {
		return ErrSignature
	}
	// Both points were validated when parsed or produced, so skip the checks here.
	if !sig.p.Verify(false, pk.p, false, msg, dst) {
		return ErrVerify
	}
	return nil
}

// FastAggregateVerify checks an aggregate signature of the same message by
// every key in pks (keys with proofs of possession).
func FastAggregateVerify(pks []PublicKey, msg []byte, sig Signature) error {
	agg, err := AggregatePublicKeys(pks)
	if err != nil {
		return err
	}
	return Verify(agg, msg, sig)
}

// VerifyProofOfPossession checks that sig is the proof of possession of the
// key named in pop, and returns that key.
func VerifyProofOfPossession(pop wire.ProofOfPossession, sig Signature) (PublicKey, error) {
	pk, err := ParsePublicKey(pop.PublicKey[:])
	if err != nil {
		return PublicKey{}, err
	}
	if err := Verify(pk, pop.Marshal(), sig); err != nil {
		return PublicKey{}, fmt.Errorf("proof of possession: %w", err)
	}
	return pk, nil
}
