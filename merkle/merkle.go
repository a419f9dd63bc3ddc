// Package merkle builds BLAKE2b-256 Merkle trees exactly as Walrus does: a
// leaf is H(0x00 ‖ data), an inner node H(0x01 ‖ left ‖ right), and a level
// with an odd number of nodes (more than one) is padded with an empty node of
// 32 zero bytes. A tree without leaves has the zero root; a tree with one leaf
// has that leaf's hash as its root.
//
// Inclusion proofs list the sibling of each node on the path from the leaf to
// the root, bottom-up; the bits of the leaf index say whether the sibling is
// on the right (bit 0) or on the left (bit 1).
package merkle

import (
	"encoding/hex"
	"errors"
	"fmt"
	"math/bits"
	"sync"
	"unsafe"

	"github.com/walrus-go/walrus/internal/blake2bx"
)

// Node is a 32-byte tree node: a leaf hash, an inner hash, or the empty node (all zeros).
type Node [32]byte

// Empty is the padding node.
var Empty Node

// Domain-separation prefixes of leaves and inner nodes.
const (
	LeafPrefix  = 0x00
	InnerPrefix = 0x01
)

// String returns the node in hex.
func (n Node) String() string { return hex.EncodeToString(n[:]) }

// LeafHash returns H(0x00 ‖ data).
func LeafHash(data []byte) Node {
	var n [1][32]byte
	blake2bx.Sum256Prefixed(n[:], LeafPrefix, data, len(data))
	return n[0]
}

// InnerHash returns H(0x01 ‖ left ‖ right).
func InnerHash(left, right *Node) Node {
	var buf [64]byte
	copy(buf[:32], left[:])
	copy(buf[32:], right[:])
	var n [1][32]byte
	blake2bx.Sum256Prefixed(n[:], InnerPrefix, buf[:], 64)
	return n[0]
}

// LeafHashes sets out[i] to the leaf hash of data[i*size:(i+1)*size], hashing
// many leaves at once.
func LeafHashes(out []Node, data []byte, size int) {
	blake2bx.Sum256Prefixed(arrays(out), LeafPrefix, data, size)
}

func arrays(n []Node) [][32]byte {
	return unsafe.Slice((*[32]byte)(unsafe.Pointer(unsafe.SliceData(n))), len(n))
}

func nodeBytes(n []Node) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(n))), len(n)*32)
}

// PathLen is the number of siblings in a proof for a tree of leafCount
// leaves: ceil(log2(leafCount)), and 0 for at most one leaf.
func PathLen(leafCount int) int {
	if leafCount <= 1 {
		return 0
	}
	return bits.Len(uint(leafCount - 1))
}

// NodeCount is the number of nodes Walrus stores for a tree of leafCount
// leaves: every level counted after padding to an even length.
func NodeCount(leafCount int) int {
	if leafCount == 0 {
		return 0
	}
	total := 0
	for w := leafCount; ; w = w / 2 {
		if w == 1 {
			return total + 1
		}
		w += w & 1
		total += w
	}
}

var scratchPool sync.Pool // *[]Node

// Root returns the root over the given leaf hashes; leaves are not modified.
func Root(leaves []Node) Node {
	switch len(leaves) {
	case 0:
		return Empty
	case 1:
		return leaves[0]
	}
	half := (len(leaves) + 1) / 2
	sp, _ := scratchPool.Get().(*[]Node)
	if sp == nil || cap(*sp) < 2*half {
		sp = &[]Node{}
		*sp = make([]Node, 2*half)
	}
	a, b := (*sp)[:half], (*sp)[half:2*half]
	cur := reduce(a, leaves)
	for len(cur) > 1 {
		a, b = b, a
		cur = reduce(a, cur)
	}
	root := cur[0]
	scratchPool.Put(sp)
	return root
}

// reduce hashes the pairs of src into dst (which must not overlap src) and
// returns dst[:ceil(len(src)/2)]; an odd last node is paired with Empty.
func reduce(dst, src []Node) []Node {
	n := len(src)
	blake2bx.Sum256Prefixed(arrays(dst[:n/2]), InnerPrefix, nodeBytes(src[:n&^1]), 64)
	if n&1 == 1 {
		dst[n/2] = InnerHash(&src[n-1], &Empty)
	}
	return dst[:(n+1)/2]
}

// RootOfData returns the root over the leaf hashes of items.
func RootOfData(items [][]byte) Node {
	leaves := make([]Node, len(items))
	for i, it := range items {
		leaves[i] = LeafHash(it)
	}
	return Root(leaves)
}

// Proof is an inclusion proof: the sibling nodes from the leaf's level upwards.
type Proof []Node

// Errors returned by Verify.
var (
	ErrProofLength = errors.New("merkle: proof has the wrong length for the tree")
	ErrLeafIndex   = errors.New("merkle: leaf index out of range")
	ErrRoot        = errors.New("merkle: proof does not lead to the root")
)

// BuildProof returns the inclusion proof for leaves[index].
func BuildProof(leaves []Node, index int) (Proof, error) {
	if index < 0 || index >= len(leaves) {
		return nil, ErrLeafIndex
	}
	proof := make(Proof, 0, PathLen(len(leaves)))
	level := leaves
	bufs := [2][]Node{make([]Node, (len(leaves)+1)/2), make([]Node, (len(leaves)+1)/2)}
	for i := 0; len(level) > 1; i++ {
		sib := index ^ 1
		if sib < len(level) {
			proof = append(proof, level[sib])
		} else {
			proof = append(proof, Empty)
		}
		level = reduce(bufs[i&1], level)
		index >>= 1
	}
	return proof, nil
}

// ComputeRoot folds a leaf hash up the proof path for the given leaf index.
func (p Proof) ComputeRoot(leaf Node, index int) Node {
	cur := leaf
	for i := range p {
		if (index>>i)&1 == 0 {
			cur = InnerHash(&cur, &p[i])
		} else {
			cur = InnerHash(&p[i], &cur)
		}
	}
	return cur
}

// VerifyLeafHash checks that leaf is at position index of a tree with
// leafCount leaves and the given root. The proof must have exactly
// PathLen(leafCount) siblings.
func (p Proof) VerifyLeafHash(root, leaf Node, index, leafCount int) error {
	if index < 0 || index >= leafCount {
		return fmt.Errorf("%w: %d of %d", ErrLeafIndex, index, leafCount)
	}
	if len(p) != PathLen(leafCount) {
		return fmt.Errorf("%w: %d siblings, want %d", ErrProofLength, len(p), PathLen(leafCount))
	}
	if p.ComputeRoot(leaf, index) != root {
		return ErrRoot
	}
	return nil
}

// Verify checks that data is the leaf at position index (see VerifyLeafHash).
func (p Proof) Verify(root Node, data []byte, index, leafCount int) error {
	return p.VerifyLeafHash(root, LeafHash(data), index, leafCount)
}
