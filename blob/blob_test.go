package blob

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/walrus-go/walrus/bcs"
	"github.com/walrus-go/walrus/merkle"
)

// The parameter table of spec 1.1 (Walrus's own unit-test expectations).
func TestParamsTable(t *testing.T) {
	for _, c := range []struct{ n, f, kp, ks int }{
		{4, 1, 2, 3}, {7, 2, 3, 5}, {10, 3, 4, 7}, {100, 33, 34, 67}, {101, 33, 35, 68}, {301, 100, 101, 201}, {1000, 333, 334, 667},
	} {
		p := MustParams(c.n)
		if p.F() != c.f || p.PrimarySymbols() != c.kp || p.SecondarySymbols() != c.ks {
			t.Errorf("n=%d: f=%d kp=%d ks=%d", c.n, p.F(), p.PrimarySymbols(), p.SecondarySymbols())
		}
	}
	for _, n := range []int{0, 1, 2, 3, 65535, 60000} {
		if _, err := NewParams(n); !errors.Is(err, ErrShardCount) {
			t.Errorf("n=%d accepted", n)
		}
	}
}

// Numbers of spec 1.2, 1.9 and 9 for n = 1000.
func TestSizesN1000(t *testing.T) {
	p := MustParams(1000)
	if got := p.MaxBlobSize(); got != 14_599_533_452 {
		t.Errorf("max blob size %d", got)
	}
	for _, c := range []struct {
		len uint64
		s   int
	}{{0, 2}, {1, 2}, {17, 2}, {222778 * 2, 2}, {222778*2 + 1, 4}, {222778 * 3, 4}, {p.MaxBlobSize(), 65534}} {
		s, err := p.SymbolSize(c.len)
		if err != nil || s != c.s {
			t.Errorf("SymbolSize(%d) = %d, %v; want %d", c.len, s, err, c.s)
		}
	}
	if _, err := p.SymbolSize(p.MaxBlobSize() + 1); !errors.Is(err, ErrTooLarge) {
		t.Errorf("too large: %v", err)
	}
	if got, _ := p.EncodedLength(17); got != 66_034_000 {
		t.Errorf("encoded length of a small blob: %d", got)
	}
	if p.MetadataLength() != 64_032 || p.PrimarySliverSize(65534) != 43_711_178 {
		t.Error("metadata or max primary sliver size")
	}
}

func TestIDTextForms(t *testing.T) {
	const s = "RcU82Mwf-CFkv1LaI_2qcpANwpGUuG3TMwnVzZxD2kY"
	id, err := ParseID(s)
	if err != nil {
		t.Fatal(err)
	}
	if id.String() != s || id.Hex() != "45c53cd8cc1ff82164bf52da23fdaa72900dc29194b86dd33309d5cd9c43da46" {
		t.Fatalf("text forms: %s %s", id, id.Hex())
	}
	const dec = "32047538705383907710745794627166216794695117628018721399077707816295890470213"
	if id.Decimal() != dec {
		t.Fatalf("decimal %s", id.Decimal())
	}
	back, err := IDFromDecimal(dec)
	if err != nil || back != id {
		t.Fatalf("from decimal: %v %v", back, err)
	}
	for _, bad := range []string{"", "abc", s + "A", s[:42] + "=", s[:42] + "*", strings.Replace(s, "-", "+", 1), s[:42] + "l"} {
		if _, err := ParseID(bad); !errors.Is(err, ErrInvalidID) {
			t.Errorf("ParseID(%q) accepted", bad)
		}
	}
	for _, bad := range []string{"", "-1", "+5", "x", "115792089237316195423570985008687907853269984665640564039457584007913129639936"} {
		if _, err := IDFromDecimal(bad); !errors.Is(err, ErrInvalidID) {
			t.Errorf("IDFromDecimal(%q) accepted", bad)
		}
	}
	if max, err := IDFromDecimal("115792089237316195423570985008687907853269984665640564039457584007913129639935"); err != nil || max.String() != strings.Repeat("_", 42)+"8" {
		t.Errorf("2^256-1: %v %v", max, err)
	}
	var txt ID
	if err := txt.UnmarshalText([]byte(s)); err != nil || txt != id {
		t.Fatal("UnmarshalText")
	}
}

// Rotation vectors of spec 1.6 (Walrus mapping.rs tests).
func TestRotation(t *testing.T) {
	mk := func(v uint64) ID {
		var id ID
		binary.BigEndian.PutUint64(id[24:], v)
		return id
	}
	p := MustParams(7)
	for _, c := range []struct {
		id          uint64
		pair, shard int
	}{{15, 0, 1}, {15, 5, 6}, {15, 6, 0}, {16, 5, 0}, {16, 6, 1}, {16, 4, 6}} {
		id := mk(c.id)
		if got := p.ShardOfPair(id, c.pair); got != c.shard {
			t.Errorf("id %d pair %d -> shard %d, want %d", c.id, c.pair, got, c.shard)
		}
		if got := p.PairOfShard(id, c.shard); got != c.pair {
			t.Errorf("id %d shard %d -> pair %d, want %d", c.id, c.shard, got, c.pair)
		}
	}
	// Offsets of the vector blob IDs (big-endian reading).
	id, _ := ParseID("RcU82Mwf-CFkv1LaI_2qcpANwpGUuG3TMwnVzZxD2kY")
	if id.RotationOffset(10) != 8 {
		t.Errorf("offset %d, want 8", id.RotationOffset(10))
	}
}

func TestSliverType(t *testing.T) {
	for _, st := range []SliverType{Primary, Secondary} {
		back, err := ParseSliverType(st.String())
		if err != nil || back != st || st.Orthogonal().Orthogonal() != st || st.Validate() != nil {
			t.Fatal(st)
		}
	}
	if _, err := ParseSliverType("Primary"); err == nil {
		t.Fatal("case-insensitive parse")
	}
	if SliverType(2).Validate() == nil {
		t.Fatal("type 2 valid")
	}
}

func testMetadata(n int, length uint64) MetadataWithID {
	m := Metadata{EncodingType: RS2, UnencodedLength: length, Hashes: make([]SliverPairMetadata, n)}
	for i := range m.Hashes {
		m.Hashes[i].Primary = merkle.LeafHash([]byte{byte(i), 'p'})
		m.Hashes[i].Secondary = merkle.LeafHash([]byte{byte(i), 's'})
	}
	return MetadataWithID{ID: m.ComputeID(), Metadata: m}
}

func TestMetadataBCS(t *testing.T) {
	m := testMetadata(4, 5)
	b := m.MarshalBCS()
	if len(b) != 32+1+1+8+1+4*66 {
		t.Fatalf("length %d", len(b))
	}
	if b[32] != 0 || b[33] != 1 || binary.LittleEndian.Uint64(b[34:42]) != 5 || b[42] != 4 || b[43] != 1 {
		t.Fatalf("layout %x", b[:44])
	}
	back, err := UnmarshalMetadataWithID(b)
	if err != nil || back.ID != m.ID || back.Root() != m.Root() {
		t.Fatalf("round trip: %v", err)
	}
	if err := back.Verify(MustParams(4)); err != nil {
		t.Fatal(err)
	}
	// Verification failures.
	if err := back.Verify(MustParams(7)); !errors.Is(err, ErrMetadata) {
		t.Errorf("wrong n: %v", err)
	}
	back.Hashes[2].Primary[0] ^= 1
	if err := back.Verify(MustParams(4)); !errors.Is(err, ErrIDMismatch) {
		t.Errorf("tampered hash: %v", err)
	}
	big := testMetadata(4, MustParams(4).MaxBlobSize()+1)
	if err := big.Verify(MustParams(4)); !errors.Is(err, ErrMetadata) {
		t.Errorf("too long: %v", err)
	}
	// Decoding failures.
	for name, bad := range map[string][]byte{
		"truncated":    b[:len(b)-1],
		"trailing":     append(append([]byte{}, b...), 0),
		"raptorq":      append(append(append([]byte{}, b[:33]...), 0), b[34:]...),
		"version 1":    append(append(append([]byte{}, b[:32]...), 1), b[33:]...),
		"bad node tag": append(append(append([]byte{}, b[:43]...), 2), b[44:]...),
	} {
		if _, err := UnmarshalMetadataWithID(bad); !errors.Is(err, ErrMetadata) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestNodeEncoding(t *testing.T) {
	if b := AppendNode(nil, merkle.Empty); len(b) != 1 || b[0] != 0 {
		t.Fatalf("empty node %x", b)
	}
	n := merkle.LeafHash(nil)
	b := AppendNode(nil, n)
	if len(b) != 33 || b[0] != 1 {
		t.Fatal("digest node")
	}
	d := bcs.NewDecoder(append(b, 0))
	if DecodeNode(d) != n || DecodeNode(d) != merkle.Empty || d.Finish() != nil {
		t.Fatal("decode nodes")
	}
}

func FuzzUnmarshalMetadataWithID(f *testing.F) {
	m := testMetadata(4, 5)
	f.Add(m.MarshalBCS())
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := UnmarshalMetadataWithID(b)
		if err != nil {
			return
		}
		// Whatever decodes re-encodes to an equivalent value.
		back, err := UnmarshalMetadataWithID(m.MarshalBCS())
		if err != nil || back.ID != m.ID || back.UnencodedLength != m.UnencodedLength || len(back.Hashes) != len(m.Hashes) {
			t.Fatalf("re-decode: %v", err)
		}
		_ = m.Verify(MustParams(4))
		_ = hex.EncodeToString(b)
	})
}
