package redstuff

import (
	"errors"
	"fmt"
	"slices"

	"github.com/walrus-go/walrus/bcs"
	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/merkle"
)

// More errors of recovery and proofs.
var (
	// ErrNotEnoughSymbols: fewer valid symbols than the code needs.
	ErrNotEnoughSymbols = errors.New("redstuff: not enough valid symbols")
	// ErrProofInvalid: an inconsistency proof does not prove anything.
	ErrProofInvalid = errors.New("redstuff: invalid inconsistency proof")
)

// DecodingSymbol is one symbol of a target sliver's codeword; Index is its
// position in that codeword, which is the index of the (orthogonal) source
// sliver it was computed from.
type DecodingSymbol struct {
	Index uint16
	Data  []byte
}

// RecoverySymbol is a decoding symbol with the Merkle proof that it is at the
// target's position in its source sliver's expansion.
type RecoverySymbol struct {
	DecodingSymbol
	Proof merkle.Proof
}

// GeneralRecoverySymbol is Walrus's axis-tagged recovery symbol. Target is
// the axis of the sliver it helps recover (BCS: Primary = 0 means usable for a
// primary sliver, i.e. computed from a secondary sliver).
type GeneralRecoverySymbol struct {
	Target      blob.SliverType
	TargetIndex uint16
	RecoverySymbol
}

// SymbolID is the symbol's (primary index, secondary index) in the expanded matrix.
func (g *GeneralRecoverySymbol) SymbolID() (primary, secondary uint16) {
	if g.Target == blob.Primary {
		return g.TargetIndex, g.Index
	}
	return g.Index, g.TargetIndex
}

// RecoverySymbols expands source once and returns, for each target index,
// the symbol at that position with its Merkle proof. The symbols help recover
// slivers of the axis orthogonal to source.
func (e *Encoder) RecoverySymbols(source *Sliver, targets []int) ([]GeneralRecoverySymbol, error) {
	n, s := e.p.N(), int(source.SymbolSize)
	if s == 0 || len(source.Data) != e.code(source.Type).K()*s {
		return nil, fmt.Errorf("%w: source sliver of %d bytes with symbol size %d", ErrSliverShape, len(source.Data), s)
	}
	exp := e.Expand(source)
	leaves := make([]merkle.Node, n)
	merkle.LeafHashes(leaves, exp, s)
	out := make([]GeneralRecoverySymbol, len(targets))
	for i, t := range targets {
		if t < 0 || t >= n {
			return nil, fmt.Errorf("%w: target %d, n = %d", ErrSymbol, t, n)
		}
		proof, err := merkle.BuildProof(leaves, t)
		if err != nil {
			return nil, err
		}
		out[i] = GeneralRecoverySymbol{
			Target:      source.Type.Orthogonal(),
			TargetIndex: uint16(t),
			RecoverySymbol: RecoverySymbol{
				DecodingSymbol: DecodingSymbol{Index: source.Index, Data: slices.Clone(exp[t*s : (t+1)*s])},
				Proof:          proof,
			},
		}
	}
	return out, nil
}

// DecodingSymbols is RecoverySymbols without proofs: cheaper to compute and
// to send, checked only by the hash of the sliver they rebuild.
func (e *Encoder) DecodingSymbols(source *Sliver, targets []int) ([]DecodingSymbol, error) {
	n, s := e.p.N(), int(source.SymbolSize)
	if s == 0 || len(source.Data) != e.code(source.Type).K()*s {
		return nil, fmt.Errorf("%w: source sliver of %d bytes with symbol size %d", ErrSliverShape, len(source.Data), s)
	}
	exp := e.Expand(source)
	out := make([]DecodingSymbol, len(targets))
	for i, t := range targets {
		if t < 0 || t >= n {
			return nil, fmt.Errorf("%w: target %d, n = %d", ErrSymbol, t, n)
		}
		out[i] = DecodingSymbol{Index: source.Index, Data: slices.Clone(exp[t*s : (t+1)*s])}
	}
	return out, nil
}

// VerifyRecoverySymbol checks a symbol meant for sliver (target, targetIndex)
// against verified metadata: indices below n, the blob's symbol size, and the
// Merkle proof against the source sliver's hash at leaf targetIndex of n.
func (e *Encoder) VerifyRecoverySymbol(target blob.SliverType, targetIndex int, sym *RecoverySymbol, md *blob.Metadata) error {
	n := e.p.N()
	if targetIndex < 0 || targetIndex >= n || int(sym.Index) >= n {
		return fmt.Errorf("%w: source %d, target %d, n = %d", ErrSymbol, sym.Index, targetIndex, n)
	}
	if len(md.Hashes) != n {
		return fmt.Errorf("%w: metadata has %d pairs, n = %d", ErrSymbol, len(md.Hashes), n)
	}
	s, err := e.p.SymbolSize(md.UnencodedLength)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrSymbol, err)
	}
	if len(sym.Data) != s {
		return fmt.Errorf("%w: %d bytes, symbol size %d", ErrSymbol, len(sym.Data), s)
	}
	root := metadataHash(md, target.Orthogonal(), int(sym.Index))
	if err := sym.Proof.Verify(root, sym.Data, targetIndex, n); err != nil {
		return fmt.Errorf("%w: source %d: %w", ErrSymbol, sym.Index, err)
	}
	return nil
}

// decodeTarget rebuilds the k symbols of sliver (t, idx) from exactly k
// decoding symbols at distinct positions.
func (e *Encoder) decodeTarget(t blob.SliverType, s int, syms []DecodingSymbol) ([]byte, error) {
	code := e.code(t)
	k, n := code.K(), e.p.N()
	lay := newSymLayout(s)
	plen := lay.packedLen(1)
	shards := make([][]byte, n)
	buf := make([]byte, n*plen)
	for _, sym := range syms {
		sh := buf[int(sym.Index)*plen : (int(sym.Index)+1)*plen]
		lay.pack(sh, 0, sym.Data)
		shards[sym.Index] = sh
	}
	if err := code.ReconstructData(shards); err != nil {
		return nil, err
	}
	out := make([]byte, k*s)
	for p := range k {
		lay.unpack(out[p*s:(p+1)*s], shards[p], 0)
	}
	return out, nil
}

// pickSymbols returns the first k symbols with distinct in-range indices and the right size.
func pickSymbols(syms []DecodingSymbol, k, n, s int) []DecodingSymbol {
	seen := make(map[uint16]bool, k)
	out := make([]DecodingSymbol, 0, k)
	for _, sym := range syms {
		if len(out) == k {
			break
		}
		if int(sym.Index) >= n || len(sym.Data) != s || seen[sym.Index] {
			continue
		}
		seen[sym.Index] = true
		out = append(out, sym)
	}
	return out
}

// RecoverFromDecodingSymbols rebuilds sliver (t, idx) from unauthenticated
// decoding symbols (k_s for a primary sliver, k_p for a secondary one; extra
// symbols are ignored) and checks it against the metadata. A mismatch is
// ErrSliverHash: without proofs it may be a lying peer, so retry with
// RecoverFromRecoverySymbols.
func (e *Encoder) RecoverFromDecodingSymbols(t blob.SliverType, idx int, md *blob.Metadata, syms []DecodingSymbol) (Sliver, error) {
	s, err := e.p.SymbolSize(md.UnencodedLength)
	if err != nil {
		return Sliver{}, err
	}
	k, n := e.code(t).K(), e.p.N()
	if idx < 0 || idx >= n {
		return Sliver{}, fmt.Errorf("%w: index %d, n = %d", ErrSliverShape, idx, n)
	}
	use := pickSymbols(syms, k, n, s)
	if len(use) < k {
		return Sliver{}, fmt.Errorf("%w: %d of %d", ErrNotEnoughSymbols, len(use), k)
	}
	data, err := e.decodeTarget(t, s, use)
	if err != nil {
		return Sliver{}, err
	}
	sl := Sliver{Type: t, Index: uint16(idx), SymbolSize: uint16(s), Data: data}
	if e.SliverHash(&sl) != metadataHash(md, t, idx) {
		return Sliver{}, fmt.Errorf("%w: recovered %s sliver %d", ErrSliverHash, t, idx)
	}
	return sl, nil
}

// InconsistencyProof shows that a blob's metadata does not describe a
// consistent encoding: exactly k Merkle-proven symbols of the target sliver's
// codeword that decode to a sliver whose hash differs from the metadata.
type InconsistencyProof struct {
	Target      blob.SliverType
	TargetIndex uint16
	Symbols     []RecoverySymbol
}

// InconsistencyError is returned by recovery when proven symbols rebuild a
// sliver that contradicts the metadata: the blob is inconsistently encoded,
// and Proof is the evidence other nodes can check.
type InconsistencyError struct {
	BlobID blob.ID
	Proof  InconsistencyProof
}

func (e *InconsistencyError) Error() string {
	return fmt.Sprintf("redstuff: blob %v is inconsistently encoded (%s sliver %d)", e.BlobID, e.Proof.Target, e.Proof.TargetIndex)
}

// RecoverFromRecoverySymbols rebuilds sliver (t, idx) from recovery symbols,
// each checked against its Merkle proof first (invalid ones are skipped). If
// the result contradicts the metadata, it returns an *InconsistencyError.
func (e *Encoder) RecoverFromRecoverySymbols(t blob.SliverType, idx int, md *blob.MetadataWithID, syms []RecoverySymbol) (Sliver, error) {
	s, err := e.p.SymbolSize(md.UnencodedLength)
	if err != nil {
		return Sliver{}, err
	}
	k, n := e.code(t).K(), e.p.N()
	if idx < 0 || idx >= n {
		return Sliver{}, fmt.Errorf("%w: index %d, n = %d", ErrSliverShape, idx, n)
	}
	seen := make(map[uint16]bool, k)
	use := make([]RecoverySymbol, 0, k)
	for i := range syms {
		if len(use) == k {
			break
		}
		if seen[syms[i].Index] || e.VerifyRecoverySymbol(t, idx, &syms[i], &md.Metadata) != nil {
			continue
		}
		seen[syms[i].Index] = true
		use = append(use, syms[i])
	}
	if len(use) < k {
		return Sliver{}, fmt.Errorf("%w: %d of %d", ErrNotEnoughSymbols, len(use), k)
	}
	ds := make([]DecodingSymbol, k)
	for i := range use {
		ds[i] = use[i].DecodingSymbol
	}
	data, err := e.decodeTarget(t, s, ds)
	if err != nil {
		return Sliver{}, err
	}
	sl := Sliver{Type: t, Index: uint16(idx), SymbolSize: uint16(s), Data: data}
	if e.SliverHash(&sl) != metadataHash(&md.Metadata, t, idx) {
		return Sliver{}, &InconsistencyError{BlobID: md.ID, Proof: InconsistencyProof{Target: t, TargetIndex: uint16(idx), Symbols: use}}
	}
	return sl, nil
}

// VerifyInconsistencyProof returns nil if the proof shows the blob is
// inconsistent: exactly k symbols at distinct positions, each verified
// against the metadata, decoding to a sliver whose hash differs from the
// metadata's. Otherwise it returns an error wrapping ErrProofInvalid.
func (e *Encoder) VerifyInconsistencyProof(p *InconsistencyProof, md *blob.Metadata) error {
	if err := p.Target.Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrProofInvalid, err)
	}
	k, n := e.code(p.Target).K(), e.p.N()
	if int(p.TargetIndex) >= n {
		return fmt.Errorf("%w: target %d, n = %d", ErrProofInvalid, p.TargetIndex, n)
	}
	if len(p.Symbols) != k {
		return fmt.Errorf("%w: %d symbols, want exactly %d", ErrProofInvalid, len(p.Symbols), k)
	}
	seen := make(map[uint16]bool, k)
	ds := make([]DecodingSymbol, k)
	for i := range p.Symbols {
		sym := &p.Symbols[i]
		if seen[sym.Index] {
			return fmt.Errorf("%w: symbol %d twice", ErrProofInvalid, sym.Index)
		}
		seen[sym.Index] = true
		if err := e.VerifyRecoverySymbol(p.Target, int(p.TargetIndex), sym, md); err != nil {
			return fmt.Errorf("%w: %w", ErrProofInvalid, err)
		}
		ds[i] = sym.DecodingSymbol
	}
	s, _ := e.p.SymbolSize(md.UnencodedLength)
	data, err := e.decodeTarget(p.Target, s, ds)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrProofInvalid, err)
	}
	sl := Sliver{Type: p.Target, Index: p.TargetIndex, SymbolSize: uint16(s), Data: data}
	if e.SliverHash(&sl) == metadataHash(md, p.Target, int(p.TargetIndex)) {
		return fmt.Errorf("%w: the symbols decode to the sliver the metadata describes", ErrProofInvalid)
	}
	return nil
}

// BCS forms (spec 3.3).

// AppendBCS appends DecodingSymbol: index u16, data bytes.
func (d *DecodingSymbol) AppendBCS(b []byte) []byte {
	return bcs.AppendBytes(bcs.AppendU16(b, d.Index), d.Data)
}

func decodeDecodingSymbol(d *bcs.Decoder) DecodingSymbol {
	var s DecodingSymbol
	s.Index = d.U16()
	s.Data = slices.Clone(d.Bytes(65535))
	return s
}

// AppendProof appends a MerkleProof: a vector of nodes, padding as Node::Empty.
func AppendProof(b []byte, p merkle.Proof) []byte {
	b = bcs.AppendLen(b, len(p))
	for _, n := range p {
		b = blob.AppendNode(b, n)
	}
	return b
}

// DecodeProof reads a MerkleProof (at most 64 nodes).
func DecodeProof(d *bcs.Decoder) merkle.Proof {
	n := d.Len(64, 1)
	if d.Err() != nil {
		return nil
	}
	p := make(merkle.Proof, n)
	for i := range p {
		p[i] = blob.DecodeNode(d)
	}
	return p
}

// AppendBCS appends RecoverySymbol: the decoding symbol then its proof.
func (r *RecoverySymbol) AppendBCS(b []byte) []byte {
	return AppendProof(r.DecodingSymbol.AppendBCS(b), r.Proof)
}

func decodeRecoverySymbol(d *bcs.Decoder) RecoverySymbol {
	var r RecoverySymbol
	r.DecodingSymbol = decodeDecodingSymbol(d)
	r.Proof = DecodeProof(d)
	return r
}

// AppendBCS appends GeneralRecoverySymbol: EitherDecodingSymbol (axis tag and
// DecodingSymbol), target index u16, proof.
func (g *GeneralRecoverySymbol) AppendBCS(b []byte) []byte {
	b = bcs.AppendULEB128(b, uint32(g.Target))
	b = g.DecodingSymbol.AppendBCS(b)
	b = bcs.AppendU16(b, g.TargetIndex)
	return AppendProof(b, g.Proof)
}

// AppendRecoverySymbolsBCS appends a Vec<GeneralRecoverySymbol>.
func AppendRecoverySymbolsBCS(b []byte, syms []GeneralRecoverySymbol) []byte {
	b = bcs.AppendLen(b, len(syms))
	for i := range syms {
		b = syms[i].AppendBCS(b)
	}
	return b
}

// UnmarshalRecoverySymbols decodes a Vec<GeneralRecoverySymbol>.
func UnmarshalRecoverySymbols(b []byte) ([]GeneralRecoverySymbol, error) {
	d := bcs.NewDecoder(b)
	n := d.Len(1<<20, 6)
	var out []GeneralRecoverySymbol
	for i := 0; i < n && d.Err() == nil; i++ {
		var g GeneralRecoverySymbol
		g.Target = blob.SliverType(d.Tag(2))
		g.DecodingSymbol = decodeDecodingSymbol(d)
		g.TargetIndex = d.U16()
		g.Proof = DecodeProof(d)
		out = append(out, g)
	}
	if err := d.Finish(); err != nil {
		return nil, fmt.Errorf("%w: recovery symbols: %w", ErrMalformed, err)
	}
	return out, nil
}

// AppendBCS appends InconsistencyProof<axis>: target index u16 then the
// vector of recovery symbols. The axis comes from context (the URL).
func (p *InconsistencyProof) AppendBCS(b []byte) []byte {
	b = bcs.AppendU16(b, p.TargetIndex)
	b = bcs.AppendLen(b, len(p.Symbols))
	for i := range p.Symbols {
		b = p.Symbols[i].AppendBCS(b)
	}
	return b
}

// UnmarshalInconsistencyProof decodes a proof whose target axis is t.
func UnmarshalInconsistencyProof(b []byte, t blob.SliverType) (InconsistencyProof, error) {
	d := bcs.NewDecoder(b)
	p := InconsistencyProof{Target: t}
	p.TargetIndex = d.U16()
	n := d.Len(65535, 4)
	for i := 0; i < n && d.Err() == nil; i++ {
		p.Symbols = append(p.Symbols, decodeRecoverySymbol(d))
	}
	if err := d.Finish(); err != nil {
		return InconsistencyProof{}, fmt.Errorf("%w: inconsistency proof: %w", ErrMalformed, err)
	}
	if err := t.Validate(); err != nil {
		return InconsistencyProof{}, err
	}
	return p, nil
}

// EitherDecodingSymbol is a decoding symbol tagged with the axis it helps recover.
type EitherDecodingSymbol struct {
	Target blob.SliverType
	DecodingSymbol
}

// AppendDecodingSymbolMapBCS appends BTreeMap<u16, Vec<EitherDecodingSymbol>>
// (keys ascending), the decodingSymbols response body.
func AppendDecodingSymbolMapBCS(b []byte, m map[uint16][]EitherDecodingSymbol) []byte {
	keys := make([]uint16, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = bcs.AppendLen(b, len(keys))
	for _, k := range keys {
		b = bcs.AppendU16(b, k)
		b = bcs.AppendLen(b, len(m[k]))
		for _, s := range m[k] {
			b = s.DecodingSymbol.AppendBCS(bcs.AppendULEB128(b, uint32(s.Target)))
		}
	}
	return b
}

// UnmarshalDecodingSymbolMap decodes the decodingSymbols body; keys must be
// strictly ascending, as BCS maps are canonical.
func UnmarshalDecodingSymbolMap(b []byte) (map[uint16][]EitherDecodingSymbol, error) {
	d := bcs.NewDecoder(b)
	n := d.Len(65535, 3)
	out := make(map[uint16][]EitherDecodingSymbol, min(n, 1024))
	last := -1
	for i := 0; i < n && d.Err() == nil; i++ {
		k := d.U16()
		if d.Err() == nil && int(k) <= last {
			d.Fail(fmt.Errorf("map keys not strictly ascending at %d", k))
		}
		last = int(k)
		m := d.Len(65535, 4)
		if d.Err() == nil {
			out[k] = make([]EitherDecodingSymbol, 0, m)
		}
		for j := 0; j < m && d.Err() == nil; j++ {
			var s EitherDecodingSymbol
			s.Target = blob.SliverType(d.Tag(2))
			s.DecodingSymbol = decodeDecodingSymbol(d)
			out[k] = append(out[k], s)
		}
	}
	if err := d.Finish(); err != nil {
		return nil, fmt.Errorf("%w: decoding symbols: %w", ErrMalformed, err)
	}
	return out, nil
}
