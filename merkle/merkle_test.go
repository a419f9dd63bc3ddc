package merkle

import (
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"golang.org/x/crypto/blake2b"
)

// Facts from the Walrus merkle.rs tests (shared/spec/vectors/reed-solomon.md).
func TestPathLenAndNodeCountVectors(t *testing.T) {
	wantPath := []int{0, 0, 1, 2, 2, 3, 3, 3, 3, 4}
	wantNodes := []int{0, 1, 3, 7, 7, 13, 13, 15, 15, 23}
	for n := 0; n <= 9; n++ {
		if got := PathLen(n); got != wantPath[n] {
			t.Errorf("PathLen(%d) = %d, want %d", n, got, wantPath[n])
		}
		if got := NodeCount(n); got != wantNodes[n] {
			t.Errorf("NodeCount(%d) = %d, want %d", n, got, wantNodes[n])
		}
	}
}

func TestSmallTrees(t *testing.T) {
	if Root(nil) != Empty {
		t.Error("empty tree root is not zero")
	}
	a := LeafHash([]byte("a"))
	if Root([]Node{a}) != a {
		t.Error("one-leaf root is not the leaf hash")
	}
	// Leaf hash is H(0x00 || data).
	if want := blake2b.Sum256([]byte{0, 'a'}); a != want {
		t.Error("leaf prefix")
	}
	b, c := LeafHash([]byte("b")), LeafHash([]byte("c"))
	ab := InnerHash(&a, &b)
	var buf [65]byte
	buf[0] = 1
	copy(buf[1:], a[:])
	copy(buf[33:], b[:])
	if ab != blake2b.Sum256(buf[:]) {
		t.Error("inner prefix")
	}
	if Root([]Node{a, b}) != ab {
		t.Error("two-leaf root")
	}
	// Three leaves: the odd level is padded with 32 zero bytes.
	c0 := InnerHash(&c, &Empty)
	if Root([]Node{a, b, c}) != InnerHash(&ab, &c0) {
		t.Error("three-leaf root")
	}
}

// A tree padded level by level equals the tree padded to a power of two with
// empty subtrees replaced by the zero node.
func TestPaddingEquivalence(t *testing.T) {
	for n := 1; n <= 70; n++ {
		leaves := make([]Node, n)
		for i := range leaves {
			leaves[i] = LeafHash([]byte(fmt.Sprint(i)))
		}
		var rec func(lo, size int) Node
		rec = func(lo, size int) Node {
			if lo >= n {
				return Empty
			}
			if size == 1 {
				return leaves[lo]
			}
			l, r := rec(lo, size/2), rec(lo+size/2, size/2)
			return InnerHash(&l, &r)
		}
		if got, want := Root(leaves), rec(0, 1<<PathLen(n)); got != want {
			t.Fatalf("n=%d: root mismatch", n)
		}
	}
}

func TestProofs(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 2, 3, 4, 5, 7, 8, 9, 31, 100, 1000} {
		leaves := make([]Node, n)
		for i := range leaves {
			leaves[i] = LeafHash([]byte{byte(i), byte(i >> 8)})
		}
		root := Root(leaves)
		for trial := 0; trial < 10; trial++ {
			idx := rng.IntN(n)
			p, err := BuildProof(leaves, idx)
			if err != nil {
				t.Fatal(err)
			}
			if err := p.Verify(root, []byte{byte(idx), byte(idx >> 8)}, idx, n); err != nil {
				t.Fatalf("n=%d idx=%d: %v", n, idx, err)
			}
			// Wrong data, wrong index, wrong length, wrong count all fail.
			if p.Verify(root, []byte{0xff, 0xff, 0xff}, idx, n) == nil {
				t.Fatal("wrong data accepted")
			}
			if n > 1 && p.Verify(root, []byte{byte(idx), byte(idx >> 8)}, (idx+1)%n, n) == nil {
				t.Fatal("wrong index accepted")
			}
			if err := append(p, Empty).Verify(root, []byte{byte(idx), byte(idx >> 8)}, idx, n); !errors.Is(err, ErrProofLength) {
				t.Fatalf("long proof: %v", err)
			}
			if err := p.Verify(root, []byte{byte(idx), byte(idx >> 8)}, idx+n, n); !errors.Is(err, ErrLeafIndex) {
				t.Fatalf("index past count: %v", err)
			}
			if len(p) > 0 {
				q := append(Proof(nil), p...)
				q[len(q)-1][0] ^= 1
				if q.Verify(root, []byte{byte(idx), byte(idx >> 8)}, idx, n) == nil {
					t.Fatal("tampered proof accepted")
				}
			}
		}
	}
}

func TestNodeHex(t *testing.T) {
	n := LeafHash(nil)
	if n.String() != hex.EncodeToString(n[:]) {
		t.Fatal("hex")
	}
}
