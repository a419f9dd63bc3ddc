// Package committee holds a Walrus storage committee for one epoch: its
// members sorted by node ID (the order of BLS signer indices), each with the
// shards it holds, and the threshold arithmetic of the protocol (spec 3.5).
// A member's weight is the number of shards it holds, and the weights sum to
// n, the number of shards:
//
//   - quorum (blob certificates, epoch sync): 3w >= 2n+1, i.e. w >= n-f;
//   - validity (invalid-blob certificates): 3w >= n+1, i.e. w >= f+1;
//
// with f = floor((n-1)/3). Certificate verification checks the signer
// indices, the weight threshold and the aggregate BLS signature against the
// sum of the signers' keys. The package is pure: no I/O.
package committee

import (
	"bytes"
	"errors"
	"fmt"
	"slices"

	"github.com/walrus-go/walrus/bls"
	"github.com/walrus-go/walrus/ids"
	"github.com/walrus-go/walrus/wire"
)

// NodeID identifies a storage node: the object ID of its staking pool.
type NodeID = ids.ObjectID

// Errors returned by this package.
var (
	// ErrInvalid: New was given members that do not form a committee.
	ErrInvalid = errors.New("committee: invalid committee")
	// ErrSigners: signer indices out of range, repeated or unsorted, or a bad bitmap.
	ErrSigners = errors.New("committee: invalid signers")
	// ErrInsufficientWeight: the signers do not reach the threshold.
	ErrInsufficientWeight = errors.New("committee: signers below the weight threshold")
	// ErrSignature: the aggregate signature does not verify (wraps the bls error).
	ErrSignature = errors.New("committee: invalid aggregate signature")
)

// Member is one storage node of a committee.
type Member struct {
	NodeID           NodeID
	PublicKey        bls.PublicKey
	NetworkAddress   string
	NetworkPublicKey []byte
	Shards           []uint16
}

// Weight is the member's number of shards.
func (m *Member) Weight() int { return len(m.Shards) }

// Committee is the set of members of one epoch. It is immutable once built.
type Committee struct {
	epoch      uint32
	nShards    int
	members    []Member
	shardOwner []int32
}

// New builds a committee. Members must be sorted by node ID without
// duplicates, have valid public keys, and hold every shard in [0, nShards)
// exactly once. An empty member list is allowed (a chain before its first
// committee); it holds no shards and verifies nothing.
func New(epoch uint32, nShards int, members []Member) (*Committee, error) {
	if nShards <= 0 || nShards > 65535 {
		return nil, fmt.Errorf("%w: %d shards", ErrInvalid, nShards)
	}
	c := &Committee{epoch: epoch, nShards: nShards, members: slices.Clone(members), shardOwner: make([]int32, nShards)}
	for i := range c.shardOwner {
		c.shardOwner[i] = -1
	}
	assigned := 0
	for i := range c.members {
		m := &c.members[i]
		if i > 0 && bytes.Compare(c.members[i-1].NodeID[:], m.NodeID[:]) >= 0 {
			return nil, fmt.Errorf("%w: members not sorted by node ID at %d", ErrInvalid, i)
		}
		if !m.PublicKey.Valid() {
			return nil, fmt.Errorf("%w: member %d has no public key", ErrInvalid, i)
		}
		if len(m.Shards) == 0 {
			return nil, fmt.Errorf("%w: member %d holds no shard", ErrInvalid, i)
		}
		m.Shards = slices.Clone(m.Shards)
		for _, s := range m.Shards {
			if int(s) >= nShards || c.shardOwner[s] >= 0 {
				return nil, fmt.Errorf("%w: shard %d out of range or assigned twice", ErrInvalid, s)
			}
			c.shardOwner[s] = int32(i)
			assigned++
		}
	}
	if len(c.members) > 0 && assigned != nShards {
		return nil, fmt.Errorf("%w: %d of %d shards assigned", ErrInvalid, assigned, nShards)
	}
	return c, nil
}

// Epoch is the committee's epoch.
func (c *Committee) Epoch() uint32 { return c.epoch }

// NShards is n, the number of shards.
func (c *Committee) NShards() int { return c.nShards }

// F is the number of shards that may be faulty, floor((n-1)/3).
func (c *Committee) F() int { return F(c.nShards) }

// Len is the number of members.
func (c *Committee) Len() int { return len(c.members) }

// Members returns the members in signer-index order. Callers must not modify them.
func (c *Committee) Members() []Member { return c.members }

// Member returns the member with signer index i.
func (c *Committee) Member(i int) *Member { return &c.members[i] }

// Index returns the signer index of a node.
func (c *Committee) Index(id NodeID) (int, bool) {
	return slices.BinarySearchFunc(c.members, id, func(m Member, id NodeID) int { return bytes.Compare(m.NodeID[:], id[:]) })
}

// ShardOwner returns the signer index of the member holding shard s.
func (c *Committee) ShardOwner(s int) (int, bool) {
	if s < 0 || s >= c.nShards || c.shardOwner[s] < 0 {
		return 0, false
	}
	return int(c.shardOwner[s]), true
}

// F is floor((n-1)/3) for n shards.
func F(n int) int { return (n - 1) / 3 }

// IsQuorum reports 3w >= 2n+1 (w >= n-f): enough weight for a blob certificate.
func IsQuorum(w, n int) bool { return 3*w >= 2*n+1 }

// IsValidity reports 3w >= n+1 (w >= f+1): at least one correct node among the signers.
func IsValidity(w, n int) bool { return 3*w >= n+1 }

// Threshold selects the weight a certificate needs.
type Threshold uint8

const (
	// Quorum is n-f: blob certificates, epoch sync.
	Quorum Threshold = iota
	// Validity is f+1: invalid-blob certificates.
	Validity
)

// Reached reports whether weight w meets the threshold for n shards.
func (t Threshold) Reached(w, n int) bool {
	if t == Validity {
		return IsValidity(w, n)
	}
	return IsQuorum(w, n)
}

func (t Threshold) String() string {
	if t == Validity {
		return "validity (f+1)"
	}
	return "quorum (n-f)"
}

// Weight sums the weight of the given signer indices, which must be strictly
// increasing and below Len.
func (c *Committee) Weight(signers []uint16) (int, error) {
	w := 0
	for i, s := range signers {
		if int(s) >= len(c.members) {
			return 0, fmt.Errorf("%w: index %d of %d members", ErrSigners, s, len(c.members))
		}
		if i > 0 && signers[i-1] >= s {
			return 0, fmt.Errorf("%w: indices not strictly increasing at %d", ErrSigners, i)
		}
		w += len(c.members[s].Shards)
	}
	return w, nil
}

// VerifyCertificate checks a certificate over msg by the given signers:
// indices, weight threshold, then the aggregate signature against the sum of
// the signers' public keys. It does not look inside msg.
func (c *Committee) VerifyCertificate(signers []uint16, msg []byte, sig []byte, t Threshold) error {
	w, err := c.Weight(signers)
	if err != nil {
		return err
	}
	if !t.Reached(w, c.nShards) {
		return fmt.Errorf("%w: weight %d of %d shards, need %s", ErrInsufficientWeight, w, c.nShards, t)
	}
	s, err := bls.ParseSignature(sig)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrSignature, err)
	}
	keys := make([]bls.PublicKey, len(signers))
	for i, idx := range signers {
		keys[i] = c.members[idx].PublicKey
	}
	if err := bls.FastAggregateVerify(keys, msg, s); err != nil {
		return fmt.Errorf("%w: %w", ErrSignature, err)
	}
	return nil
}

// VerifyBitmap is VerifyCertificate with the signers given as the on-chain
// bitmap (wire.SignersBitmap).
func (c *Committee) VerifyBitmap(bitmap, msg, sig []byte, t Threshold) error {
	signers, err := c.BitmapSigners(bitmap)
	if err != nil {
		return err
	}
	return c.VerifyCertificate(signers, msg, sig, t)
}

// BitmapSigners decodes a signer bitmap for this committee.
func (c *Committee) BitmapSigners(bitmap []byte) ([]uint16, error) {
	signers, err := wire.BitmapSigners(bitmap, len(c.members))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSigners, err)
	}
	return signers, nil
}
