package redstuff

import (
	"encoding/hex"
	"strconv"
	"strings"
	"testing"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/internal/vectors"
)

func vectorBlob(t *testing.T, spec string) []byte {
	t.Helper()
	switch {
	case strings.HasPrefix(spec, `"`):
		s, err := strconv.Unquote(spec)
		if err != nil {
			t.Fatal(err)
		}
		return []byte(s)
	case strings.HasPrefix(spec, "hex:"):
		b, err := hex.DecodeString(spec[4:])
		if err != nil {
			t.Fatal(err)
		}
		return b
	case spec == "range:0-255":
		b := make([]byte, 256)
		for i := range b {
			b[i] = byte(i)
		}
		return b
	}
	t.Fatalf("unknown blob spec %q", spec)
	return nil
}

// Every row of shared/spec/vectors/blob-ids.tsv: blob IDs (two from Walrus
// itself), symbol sizes, root hashes and rotation offsets.
func TestBlobIDVectors(t *testing.T) {
	rows, err := vectors.TSV("blob-ids.tsv")
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range rows {
		n, _ := strconv.Atoi(row[0])
		data := vectorBlob(t, row[1])
		p := blob.MustParams(n)
		enc, err := NewEncoder(p)
		if err != nil {
			t.Fatal(err)
		}
		s, _ := p.SymbolSize(uint64(len(data)))
		if strconv.Itoa(s) != row[2] {
			t.Errorf("n=%d %s: symbol size %d, want %s", n, row[1], s, row[2])
		}
		md, err := enc.Metadata(data)
		if err != nil {
			t.Fatal(err)
		}
		if md.ID.String() != row[3] {
			t.Errorf("n=%d %s: blob ID %s, want %s", n, row[1], md.ID, row[3])
		}
		if row[4] != "-" && md.Root().String() != row[4] {
			t.Errorf("n=%d %s: root %s, want %s", n, row[1], md.Root(), row[4])
		}
		if row[5] != "-" && strconv.Itoa(md.ID.RotationOffset(n)) != row[5] {
			t.Errorf("n=%d %s: rotation offset %d, want %s", n, row[1], md.ID.RotationOffset(n), row[5])
		}
		if err := md.Verify(p); err != nil {
			t.Error(err)
		}
	}
}

// expansionVector is one blob of expansion-small.md.
type expansionVector struct {
	n      int
	data   []byte
	id     string
	root   string
	matrix [][]string  // E[r][c] in hex
	pairs  [][2]string // primary, secondary hash per pair
}

func parseExpansionVectors(t *testing.T) []expansionVector {
	t.Helper()
	raw, err := vectors.Read("expansion-small.md")
	if err != nil {
		t.Fatal(err)
	}
	var out []expansionVector
	var cur *expansionVector
	for _, line := range strings.Split(string(raw), "\n") {
		switch {
		case strings.HasPrefix(line, "## n="):
			out = append(out, expansionVector{})
			cur = &out[len(out)-1]
			f := strings.Fields(line) // ## n=4, blob = gen(30, 5) = HEX
			cur.n, _ = strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(f[1], "n="), ","))
			d, err := hex.DecodeString(f[len(f)-1])
			if err != nil {
				t.Fatal(err)
			}
			cur.data = d
		case cur != nil && strings.HasPrefix(line, "k_p="):
			f := strings.Fields(line)
			for i, w := range f {
				if w == "ID" {
					cur.id = f[i+1]
				}
				if w == "root" {
					cur.root = f[i+1]
				}
			}
		case cur != nil && strings.HasPrefix(line, "| ") && !strings.HasPrefix(line, "| row") && !strings.HasPrefix(line, "| pair"):
			cells := strings.Split(strings.Trim(line, "| "), "|")
			for i := range cells {
				cells[i] = strings.TrimSpace(cells[i])
			}
			if len(cells) == 3 && len(cells[1]) == 64 {
				cur.pairs = append(cur.pairs, [2]string{cells[1], cells[2]})
			} else if len(cells) == cur.n+1 {
				cur.matrix = append(cur.matrix, cells[1:])
			}
		}
	}
	return out
}

// Both complete expansions of expansion-small.md: every symbol of the n×n
// matrix (through the slivers and their expansions), every pair hash, the
// blob ID and the root.
func TestExpansionVectors(t *testing.T) {
	vs := parseExpansionVectors(t)
	if len(vs) != 2 {
		t.Fatalf("parsed %d expansions", len(vs))
	}
	for _, v := range vs {
		if len(v.matrix) != v.n || len(v.pairs) != v.n {
			t.Fatalf("n=%d: parsed %d rows, %d pairs", v.n, len(v.matrix), len(v.pairs))
		}
		p := blob.MustParams(v.n)
		enc, _ := NewEncoder(p)
		x, err := enc.Encode(v.data)
		if err != nil {
			t.Fatal(err)
		}
		if x.Metadata.ID.String() != v.id || x.Metadata.Root().String() != v.root {
			t.Errorf("n=%d: id %s root %s", v.n, x.Metadata.ID, x.Metadata.Root())
		}
		s := x.SymbolSize
		for r := 0; r < v.n; r++ {
			prim := x.Primary(r)
			row := enc.Expand(&prim)
			for c := 0; c < v.n; c++ {
				sec := x.Secondary(c)
				col := enc.Expand(&sec)
				want := v.matrix[r][c]
				if got := hex.EncodeToString(row[c*s : (c+1)*s]); got != want {
					t.Errorf("n=%d E[%d][%d] via row = %s, want %s", v.n, r, c, got, want)
				}
				if got := hex.EncodeToString(col[r*s : (r+1)*s]); got != want {
					t.Errorf("n=%d E[%d][%d] via column = %s, want %s", v.n, r, c, got, want)
				}
			}
		}
		for i, h := range x.Metadata.Hashes {
			if h.Primary.String() != v.pairs[i][0] || h.Secondary.String() != v.pairs[i][1] {
				t.Errorf("n=%d pair %d hashes", v.n, i)
			}
		}
	}
}

// Pair-0 hashes of the n=10 regression blob (reed-solomon.md).
func TestRegressionPairHashes(t *testing.T) {
	enc, _ := NewEncoder(blob.MustParams(10))
	md, err := enc.Metadata([]byte("walrus blob id v1 regression test"))
	if err != nil {
		t.Fatal(err)
	}
	if md.Hashes[0].Primary.String() != "e72fef473a7821fd33d556b2c2cee51481e6198fbccc8904232ae517c25b507f" ||
		md.Hashes[0].Secondary.String() != "3e97b1aacf9199e3d46a777da0c6026de6aede8aeb509e53a5df0b01a5beacd2" {
		t.Fatalf("pair 0: %s %s", md.Hashes[0].Primary, md.Hashes[0].Secondary)
	}
	if md.ID.Hex() != "45c53cd8cc1ff82164bf52da23fdaa72900dc29194b86dd33309d5cd9c43da46" {
		t.Fatal(md.ID.Hex())
	}
}
