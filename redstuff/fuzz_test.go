package redstuff

import (
	"bytes"
	"testing"

	"github.com/walrus-go/walrus/blob"
)

func fuzzEncoded(f *testing.F) (*Encoder, *Encoded) {
	enc, _ := NewEncoder(blob.MustParams(7))
	x, err := enc.Encode([]byte("fuzzing the decoders of untrusted bytes"))
	if err != nil {
		f.Fatal(err)
	}
	return enc, x
}

func FuzzUnmarshalSliver(f *testing.F) {
	enc, x := fuzzEncoded(f)
	p := x.Primary(2)
	f.Add(p.MarshalBCS(), false)
	s := x.Secondary(5)
	f.Add(s.MarshalBCS(), true)
	f.Fuzz(func(t *testing.T, b []byte, secondary bool) {
		typ := blob.Primary
		if secondary {
			typ = blob.Secondary
		}
		sl, err := UnmarshalSliver(b, typ)
		if err != nil {
			return
		}
		if !bytes.Equal(sl.MarshalBCS(), b) {
			t.Fatal("sliver does not round-trip")
		}
		// Verification of arbitrary slivers never panics, and only genuine ones pass.
		if enc.VerifySliver(&sl, &x.Metadata.Metadata) == nil {
			want := x.Sliver(typ, int(sl.Index))
			if !bytes.Equal(want.Data, sl.Data) {
				t.Fatal("a forged sliver verified")
			}
		}
	})
}

func FuzzUnmarshalRecoverySymbols(f *testing.F) {
	enc, x := fuzzEncoded(f)
	src := x.Primary(1)
	syms, _ := enc.RecoverySymbols(&src, []int{0, 3, 6})
	f.Add(AppendRecoverySymbolsBCS(nil, syms))
	f.Fuzz(func(t *testing.T, b []byte) {
		syms, err := UnmarshalRecoverySymbols(b)
		if err != nil {
			return
		}
		if !bytes.Equal(AppendRecoverySymbolsBCS(nil, syms), b) && !hasZeroDigest(b) {
			t.Fatal("recovery symbols do not round-trip")
		}
		for i := range syms {
			_ = enc.VerifyRecoverySymbol(syms[i].Target, int(syms[i].TargetIndex), &syms[i].RecoverySymbol, &x.Metadata.Metadata)
		}
	})
}

// hasZeroDigest: a Node::Digest of 32 zero bytes re-encodes as Node::Empty,
// so such inputs decode to the same value but not the same bytes.
func hasZeroDigest(b []byte) bool {
	return bytes.Contains(b, append([]byte{1}, make([]byte, 32)...))
}

func FuzzUnmarshalInconsistencyProof(f *testing.F) {
	enc, x := fuzzEncoded(f)
	var rs []RecoverySymbol
	for j := range 3 {
		src := x.Primary(j)
		g, _ := enc.RecoverySymbols(&src, []int{4})
		rs = append(rs, g[0].RecoverySymbol)
	}
	p := InconsistencyProof{Target: blob.Secondary, TargetIndex: 4, Symbols: rs}
	f.Add(p.AppendBCS(nil), true)
	f.Fuzz(func(t *testing.T, b []byte, secondary bool) {
		typ := blob.Primary
		if secondary {
			typ = blob.Secondary
		}
		p, err := UnmarshalInconsistencyProof(b, typ)
		if err != nil {
			return
		}
		// The blob is consistent: no proof may ever verify.
		if enc.VerifyInconsistencyProof(&p, &x.Metadata.Metadata) == nil {
			t.Fatal("a proof against a consistent blob verified")
		}
	})
}

func FuzzUnmarshalDecodingSymbolMap(f *testing.F) {
	f.Add(AppendDecodingSymbolMapBCS(nil, map[uint16][]EitherDecodingSymbol{
		1: {{Target: blob.Secondary, DecodingSymbol: DecodingSymbol{Index: 2, Data: []byte{1, 2}}}},
		9: nil,
	}))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := UnmarshalDecodingSymbolMap(b)
		if err != nil {
			return
		}
		if !bytes.Equal(AppendDecodingSymbolMapBCS(nil, m), b) {
			t.Fatal("decoding symbols do not round-trip")
		}
	})
}
