package quilt

import (
	"fmt"
	"testing"

	"github.com/walrus-go/walrus/blob"
)

// 600 files of 10 KiB at n=1000 (Mainnet): as separate blobs each pays the
// 66,034,000-byte floor of symbol size 2; as a quilt they take symbol size 32,
// 96,064,000 bytes in all. Walrus's docs report 409× cheaper in WAL for 600
// files of 10 KB (system-overview/quilt.mdx).
func TestCost600Files(t *testing.T) {
	p := blob.MustParams(1000)
	patches := make([]Patch, 600)
	for i := range patches {
		patches[i] = Patch{Identifier: fmt.Sprintf("file-%03d.txt", i), Data: make([]byte, 10240)}
	}
	c, err := CompareCost(p, patches)
	if err != nil {
		t.Fatal(err)
	}
	if c.Separate != 600*66_034_000 || c.Quilt != 96_064_000 {
		t.Fatalf("separate %d, quilt %d; want %d and %d", c.Separate, c.Quilt, 600*66_034_000, 96_064_000)
	}
	if c.Factor < 400 || c.Factor > 420 {
		t.Fatalf("factor %.1f", c.Factor)
	}
	t.Logf("600 × 10 KiB at n=1000: separate blobs %d B, quilt %d B: %.1f× less", c.Separate, c.Quilt, c.Factor)
	q, err := Encode(p, patches)
	if err != nil || q.EncodedLength() != c.Quilt {
		t.Fatalf("Encode: encoded length %d, %v", q.EncodedLength(), err)
	}
}
