package redstuff

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/merkle"
)

func randBytes(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

// propertySizes: 0, 1, exact multiples of the source-symbol count, one byte
// past, and a random size.
func propertySizes(rng *rand.Rand, p blob.Params) []int {
	src := p.SourceSymbols()
	return []int{0, 1, 2 * src, 2*src + 1, 6 * src, rng.IntN(10 * src)}
}

var propertyShards = []int{4, 7, 10, 31, 100, 301, 1000}

// The round trip at every n of the issue: encode; every sliver verifies;
// drop all but a random k_p primary (or k_s secondary) slivers; decode with
// each consistency check; get the input back.
func TestPropertyEncodeDecode(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 10))
	for _, n := range propertyShards {
		p := blob.MustParams(n)
		enc, _ := NewEncoder(p)
		sizes := propertySizes(rng, p)
		if testing.Short() || n >= 301 {
			sizes = []int{0, 1, 2*p.SourceSymbols() + 1, rng.IntN(4 * p.SourceSymbols())}
		}
		for _, size := range sizes {
			t.Run(fmt.Sprintf("n=%d/size=%d", n, size), func(t *testing.T) {
				data := randBytes(rng, size)
				x, err := enc.Encode(data)
				if err != nil {
					t.Fatal(err)
				}
				md := &x.Metadata
				if md.UnencodedLength != uint64(size) || md.Verify(p) != nil {
					t.Fatal("metadata")
				}
				// Metadata alone (the streaming path) agrees with Encode.
				if m2, err := enc.Metadata(data); err != nil || m2.ID != md.ID {
					t.Fatal("Metadata and Encode disagree")
				}
				// Slivers verify (all for small n, a sample for large).
				for _, i := range sample(rng, n, 40) {
					for _, typ := range []blob.SliverType{blob.Primary, blob.Secondary} {
						sl := x.Sliver(typ, i)
						if err := enc.VerifySliver(&sl, &md.Metadata); err != nil {
							t.Fatalf("%s sliver %d: %v", typ, i, err)
						}
					}
				}
				for _, typ := range []blob.SliverType{blob.Primary, blob.Secondary} {
					k := p.PrimarySymbols()
					if typ == blob.Secondary {
						k = p.SecondarySymbols()
					}
					for ci, check := range []Consistency{ConsistencyDefault, ConsistencyStrict, ConsistencySkip} {
						if n >= 301 && ci > 0 && typ == blob.Secondary {
							continue
						}
						keep := rng.Perm(n)[:k]
						var sl []Sliver
						for _, i := range keep {
							sl = append(sl, x.Sliver(typ, i))
						}
						got, err := enc.Decode(md, sl, check)
						if err != nil {
							t.Fatalf("decode %s (%v): %v", typ, check, err)
						}
						if !bytes.Equal(got, data) {
							t.Fatalf("decode %s (%v): wrong bytes", typ, check)
						}
						if _, err := enc.Decode(md, sl[:k-1], check); !errors.Is(err, ErrNotEnoughSymbols) {
							t.Fatalf("decode from k-1 slivers: %v", err)
						}
					}
				}
			})
		}
	}
}

func sample(rng *rand.Rand, n, max int) []int {
	if n <= max {
		s := make([]int, n)
		for i := range s {
			s[i] = i
		}
		return s
	}
	return rng.Perm(n)[:max]
}

// symbolsFor collects recovery symbols for sliver (t, idx) from the slivers
// of the other axis at the given source indices.
func symbolsFor(t *testing.T, enc *Encoder, x *Encoded, target blob.SliverType, idx int, sources []int) []RecoverySymbol {
	t.Helper()
	var out []RecoverySymbol
	for _, src := range sources {
		sl := x.Sliver(target.Orthogonal(), src)
		syms, err := enc.RecoverySymbols(&sl, []int{idx})
		if err != nil {
			t.Fatal(err)
		}
		if syms[0].Target != target || int(syms[0].TargetIndex) != idx {
			t.Fatal("symbol axis/target")
		}
		out = append(out, syms[0].RecoverySymbol)
	}
	return out
}

// Recovering any lost sliver from n-f (primary) or n-2f (secondary) symbols
// gives the original bytes, with and without proofs; tampered symbols are
// rejected.
func TestPropertyRecovery(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 11))
	for _, n := range propertyShards {
		p := blob.MustParams(n)
		enc, _ := NewEncoder(p)
		size := rng.IntN(3 * p.SourceSymbols())
		data := randBytes(rng, size)
		x, err := enc.Encode(data)
		if err != nil {
			t.Fatal(err)
		}
		md := &x.Metadata
		trials := 3
		if n >= 301 {
			trials = 1
		}
		for trial := 0; trial < trials; trial++ {
			for _, target := range []blob.SliverType{blob.Primary, blob.Secondary} {
				idx := rng.IntN(n)
				k := enc.code(target).K()
				sources := rng.Perm(n)[:k]
				syms := symbolsFor(t, enc, x, target, idx, sources)
				want := x.Sliver(target, idx)
				got, err := enc.RecoverFromRecoverySymbols(target, idx, md, syms)
				if err != nil || !bytes.Equal(got.Data, want.Data) {
					t.Fatalf("n=%d recover %s %d: %v", n, target, idx, err)
				}
				ds := make([]DecodingSymbol, len(syms))
				for i := range syms {
					ds[i] = syms[i].DecodingSymbol
				}
				got, err = enc.RecoverFromDecodingSymbols(target, idx, &md.Metadata, ds)
				if err != nil || !bytes.Equal(got.Data, want.Data) {
					t.Fatalf("n=%d recover %s %d from decoding symbols: %v", n, target, idx, err)
				}
				// One fewer symbol is not enough.
				if _, err := enc.RecoverFromDecodingSymbols(target, idx, &md.Metadata, ds[:k-1]); !errors.Is(err, ErrNotEnoughSymbols) {
					t.Fatalf("k-1 symbols: %v", err)
				}
				// A tampered symbol fails its proof, and without proofs the
				// recovered sliver fails its hash.
				bad := slices.Clone(syms)
				bad[0].Data = slices.Clone(bad[0].Data)
				bad[0].Data[0] ^= 1
				if err := enc.VerifyRecoverySymbol(target, idx, &bad[0], &md.Metadata); !errors.Is(err, ErrSymbol) {
					t.Fatalf("tampered symbol verified: %v", err)
				}
				bds := slices.Clone(ds)
				bds[0] = bad[0].DecodingSymbol
				if _, err := enc.RecoverFromDecodingSymbols(target, idx, &md.Metadata, bds); !errors.Is(err, ErrSliverHash) {
					t.Fatalf("tampered decoding symbol: %v", err)
				}
				// With proofs the tampered one is skipped: k-1 valid remain.
				if _, err := enc.RecoverFromRecoverySymbols(target, idx, md, bad); !errors.Is(err, ErrNotEnoughSymbols) {
					t.Fatalf("tampered recovery symbol: %v", err)
				}
				// Symbols for another target do not verify for this one.
				// (Unless the two positions hold equal symbols, as zero padding can make them.)
				other := (idx + 1) % n
				src := x.Sliver(target.Orthogonal(), int(syms[0].Index))
				exp := enc.Expand(&src)
				s := len(syms[0].Data)
				if !bytes.Equal(exp[other*s:(other+1)*s], syms[0].Data) {
					if err := enc.VerifyRecoverySymbol(target, other, &syms[0], &md.Metadata); err == nil {
						t.Fatal("symbol verified for the wrong target")
					}
				}
			}
		}
	}
}

// A tampered sliver is rejected; so are slivers of the wrong shape.
func TestTamperedSliver(t *testing.T) {
	for _, n := range []int{4, 10, 100} {
		p := blob.MustParams(n)
		enc, _ := NewEncoder(p)
		x, _ := enc.Encode(randBytes(rand.New(rand.NewPCG(1, uint64(n))), 5000))
		md := &x.Metadata.Metadata
		for _, typ := range []blob.SliverType{blob.Primary, blob.Secondary} {
			sl := x.Sliver(typ, n/2)
			bad := sl
			bad.Data = slices.Clone(sl.Data)
			bad.Data[len(bad.Data)-1] ^= 0x80
			if err := enc.VerifySliver(&bad, md); !errors.Is(err, ErrSliverHash) {
				t.Fatalf("tampered %s sliver: %v", typ, err)
			}
			wrongIdx := sl
			wrongIdx.Index = uint16((n/2 + 1) % n)
			if err := enc.VerifySliver(&wrongIdx, md); !errors.Is(err, ErrSliverHash) {
				t.Fatalf("sliver at the wrong index: %v", err)
			}
			for name, s := range map[string]Sliver{
				"index n":     {Type: typ, Index: uint16(n), SymbolSize: sl.SymbolSize, Data: sl.Data},
				"symbol size": {Type: typ, Index: sl.Index, SymbolSize: sl.SymbolSize + 2, Data: sl.Data},
				"short data":  {Type: typ, Index: sl.Index, SymbolSize: sl.SymbolSize, Data: sl.Data[:len(sl.Data)-2]},
			} {
				if err := enc.VerifySliver(&s, md); !errors.Is(err, ErrSliverShape) {
					t.Fatalf("%s: %v", name, err)
				}
			}
		}
	}
}

// inconsistentBlob encodes data, then replaces secondary sliver j with
// garbage and rehashes it, giving metadata that each sliver matches on its
// own but that describes no consistent codeword. It returns the slivers'
// owner (with the replaced secondary sliver) and the forged metadata.
func inconsistentBlob(t *testing.T, enc *Encoder, data []byte, j int, rng *rand.Rand) (*Encoded, *blob.MetadataWithID) {
	t.Helper()
	x, err := enc.Encode(data)
	if err != nil {
		t.Fatal(err)
	}
	sl := x.Secondary(j)
	copy(sl.Data, randBytes(rng, len(sl.Data))) // aliases x's buffer
	md := x.Metadata.Metadata
	md.Hashes = slices.Clone(md.Hashes)
	md.Hashes[enc.p.N()-1-j].Secondary = enc.SliverHash(&sl)
	forged := blob.MetadataWithID{ID: md.ComputeID(), Metadata: md}
	x.Metadata = forged
	return x, &forged
}

// An inconsistently encoded blob yields a proof that verifies (when the bad
// sliver is among the symbols, or is the target), and proofs built from a
// consistent blob never verify.
func TestPropertyInconsistency(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 12))
	for _, n := range propertyShards {
		p := blob.MustParams(n)
		enc, _ := NewEncoder(p)
		data := randBytes(rng, 1+rng.IntN(3*p.SourceSymbols()))
		j := rng.IntN(n)
		x, md := inconsistentBlob(t, enc, data, j, rng)
		if err := md.Verify(p); err != nil {
			t.Fatal(err)
		}
		sl := x.Secondary(j)
		if err := enc.VerifySliver(&sl, &md.Metadata); err != nil {
			t.Fatalf("the forged sliver must verify on its own: %v", err)
		}

		// Case 1: recover the forged secondary sliver j itself from primary slivers.
		kp := p.PrimarySymbols()
		syms := symbolsFor(t, enc, x, blob.Secondary, j, rng.Perm(n)[:kp])
		_, err := enc.RecoverFromRecoverySymbols(blob.Secondary, j, md, syms)
		var ie *InconsistencyError
		if !errors.As(err, &ie) {
			t.Fatalf("n=%d: recovering the forged sliver: %v", n, err)
		}
		if ie.BlobID != md.ID || len(ie.Proof.Symbols) != kp {
			t.Fatal("proof contents")
		}
		if err := enc.VerifyInconsistencyProof(&ie.Proof, &md.Metadata); err != nil {
			t.Fatalf("n=%d: valid proof rejected: %v", n, err)
		}
		// The proof survives its BCS round trip.
		back, err := UnmarshalInconsistencyProof(ie.Proof.AppendBCS(nil), blob.Secondary)
		if err != nil || enc.VerifyInconsistencyProof(&back, &md.Metadata) != nil {
			t.Fatalf("proof after BCS: %v", err)
		}
		// A proof with a symbol dropped, duplicated or tampered is invalid.
		short := ie.Proof
		short.Symbols = short.Symbols[:kp-1]
		if err := enc.VerifyInconsistencyProof(&short, &md.Metadata); !errors.Is(err, ErrProofInvalid) {
			t.Fatalf("short proof: %v", err)
		}
		if kp > 1 {
			dup := ie.Proof
			dup.Symbols = slices.Clone(dup.Symbols)
			dup.Symbols[1] = dup.Symbols[0]
			if err := enc.VerifyInconsistencyProof(&dup, &md.Metadata); !errors.Is(err, ErrProofInvalid) {
				t.Fatalf("duplicate symbol: %v", err)
			}
		}

		// Case 2: recover a primary sliver with the forged sliver among the sources.
		ks := p.SecondarySymbols()
		i := rng.IntN(n)
		sources := append([]int{j}, without(rng.Perm(n), j)[:ks-1]...)
		syms = symbolsFor(t, enc, x, blob.Primary, i, sources)
		if _, err := enc.RecoverFromRecoverySymbols(blob.Primary, i, md, syms); !errors.As(err, &ie) {
			t.Fatalf("n=%d: recovering primary %d with the forged source: %v", n, i, err)
		} else if err := enc.VerifyInconsistencyProof(&ie.Proof, &md.Metadata); err != nil {
			t.Fatalf("primary-target proof rejected: %v", err)
		}

		// A consistent blob: the same procedure never produces a valid proof.
		good, _ := enc.Encode(data)
		gsyms := symbolsFor(t, enc, good, blob.Secondary, j, rng.Perm(n)[:kp])
		if _, err := enc.RecoverFromRecoverySymbols(blob.Secondary, j, &good.Metadata, gsyms); err != nil {
			t.Fatalf("consistent blob: %v", err)
		}
		fake := InconsistencyProof{Target: blob.Secondary, TargetIndex: uint16(j), Symbols: gsyms}
		if err := enc.VerifyInconsistencyProof(&fake, &good.Metadata.Metadata); !errors.Is(err, ErrProofInvalid) {
			t.Fatalf("proof over a consistent blob accepted: %v", err)
		}
	}
}

func without(xs []int, v int) []int {
	out := xs[:0:0]
	for _, x := range xs {
		if x != v {
			out = append(out, x)
		}
	}
	return out
}

// Decoding the forged blob with the Default check catches it when the forged
// column is systematic and not among the supplied slivers; Strict always does.
func TestDecodeDetectsInconsistency(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 13))
	p := blob.MustParams(10)
	enc, _ := NewEncoder(p)
	data := randBytes(rng, 500)
	j := 2 // systematic secondary sliver (j < k_s)
	x, md := inconsistentBlob(t, enc, data, j, rng)
	var sl []Sliver
	for i := 0; i < p.N() && len(sl) < p.SecondarySymbols(); i++ {
		if i != j {
			sl = append(sl, x.Secondary(i))
		}
	}
	if _, err := enc.Decode(md, sl, ConsistencyDefault); !errors.Is(err, ErrInconsistent) {
		t.Fatalf("default check: %v", err)
	}
	if _, err := enc.Decode(md, sl, ConsistencyStrict); !errors.Is(err, ErrInconsistent) {
		t.Fatalf("strict check: %v", err)
	}
	if _, err := enc.Decode(md, sl, ConsistencySkip); err != nil {
		t.Fatalf("skip: %v", err)
	}
}

func TestSliverBCS(t *testing.T) {
	s := Sliver{Type: blob.Secondary, Index: 0x0102, SymbolSize: 4, Data: []byte{1, 2, 3, 4, 5, 6, 7, 8}}
	b := s.MarshalBCS()
	want := []byte{8, 1, 2, 3, 4, 5, 6, 7, 8, 4, 0, 2, 1}
	if !bytes.Equal(b, want) {
		t.Fatalf("sliver bcs %x", b)
	}
	back, err := UnmarshalSliver(b, blob.Secondary)
	if err != nil || back.Index != s.Index || back.SymbolSize != 4 || !bytes.Equal(back.Data, s.Data) {
		t.Fatal(err)
	}
	for _, bad := range [][]byte{b[:len(b)-1], append(slices.Clone(b), 0), {9, 1}} {
		if _, err := UnmarshalSliver(bad, blob.Primary); !errors.Is(err, ErrMalformed) {
			t.Errorf("%x: %v", bad, err)
		}
	}
}

func TestRecoverySymbolsBCS(t *testing.T) {
	p := blob.MustParams(7)
	enc, _ := NewEncoder(p)
	x, _ := enc.Encode([]byte("some bytes for symbols"))
	sl := x.Primary(3)
	syms, err := enc.RecoverySymbols(&sl, []int{0, 4, 6})
	if err != nil {
		t.Fatal(err)
	}
	b := AppendRecoverySymbolsBCS(nil, syms)
	back, err := UnmarshalRecoverySymbols(b)
	if err != nil || len(back) != 3 {
		t.Fatal(err)
	}
	for i := range back {
		if back[i].Target != blob.Secondary || back[i].TargetIndex != syms[i].TargetIndex || !bytes.Equal(back[i].Data, syms[i].Data) {
			t.Fatal("round trip")
		}
		pi, si := back[i].SymbolID()
		if pi != 3 || int(si) != int(syms[i].TargetIndex) {
			t.Fatalf("symbol id %d-%d", pi, si)
		}
		if err := enc.VerifyRecoverySymbol(blob.Secondary, int(back[i].TargetIndex), &back[i].RecoverySymbol, &x.Metadata.Metadata); err != nil {
			t.Fatal(err)
		}
	}
	// Padding siblings are encoded as Node::Empty: 7 leaves pad to 8.
	if syms[2].Proof[0] != merkle.Empty {
		t.Fatal("expected an empty sibling for leaf 6 of 7")
	}
	m := map[uint16][]EitherDecodingSymbol{5: {{Target: blob.Primary, DecodingSymbol: DecodingSymbol{Index: 1, Data: []byte{1, 2}}}}, 2: nil}
	mb := AppendDecodingSymbolMapBCS(nil, m)
	mback, err := UnmarshalDecodingSymbolMap(mb)
	if err != nil || len(mback[5]) != 1 || mback[5][0].Index != 1 {
		t.Fatal(err)
	}
	// Keys out of order are rejected.
	bad := []byte{2, 5, 0, 0, 2, 0, 0}
	if _, err := UnmarshalDecodingSymbolMap(bad); err == nil {
		t.Fatal("unordered map accepted")
	}
}
