package quilt

import (
	"bytes"
	"testing"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/redstuff"
)

// Quilt blob IDs that the Walrus CLI 1.54.0 computed (store-quilt --dry-run
// --json, 1000 shards), as pinned by the Python SDK pytusk
// (Suitters/pytusk tests/unit_tests/test_quilt_assembly.py). Every quilt here
// has symbol size 2, so the blob is 334·667·2 = 445,556 bytes.
func TestWalrusQuiltBlobIDs(t *testing.T) {
	sixA := bytes.Repeat([]byte("A"), 6)
	nul300 := make([]byte, 300)
	cases := []struct {
		name    string
		patches []Patch
		want    string
		ranges  [][2]uint16
	}{
		{"one patch, no tags", []Patch{{Identifier: "alpha.txt", Data: sixA}},
			"phXaTRM7PLJtNMowr-thRJ7Gqw99X0HIjMN218nFPUQ", [][2]uint16{{1, 2}}},
		// "b" (01 62) sorts before "aa" (02 61 61) in BCS map order.
		{"tag keys of mixed length", []Patch{{Identifier: "alpha.txt", Data: sixA, Tags: map[string]string{"aa": "1", "b": "2"}}},
			"M15eRjEnstjqenyAOT1BPkulw9XyqMHN7m-rnCmhYYE", [][2]uint16{{1, 2}}},
		{"tags", []Patch{{Identifier: "alpha.txt", Data: sixA, Tags: map[string]string{"zeta": "last", "alpha": "first"}}},
			"ckRssT8Ys1ifD_OeEhDYikngc2u_WgGUaRQaMV6QADA", [][2]uint16{{1, 2}}},
		{"non-ASCII identifier", []Patch{{Identifier: "café-notes.txt", Data: sixA}},
			"MMH0HvblEzp2J1gSjvUM8x85X_USkI1TFiWU0yMl7Do", [][2]uint16{{1, 2}}},
		{"two patches", []Patch{{Identifier: "alpha.txt", Data: sixA}, {Identifier: "bravo.txt", Data: nul300}},
			"62O_PdRdI8hMM7n4EajY6IpScAS4J0U1iUqZdgzGhEQ", [][2]uint16{{1, 2}, {2, 3}}},
		{"two patches, given in reverse", []Patch{{Identifier: "bravo.txt", Data: nul300}, {Identifier: "alpha.txt", Data: sixA}},
			"62O_PdRdI8hMM7n4EajY6IpScAS4J0U1iUqZdgzGhEQ", [][2]uint16{{1, 2}, {2, 3}}},
	}
	p := blob.MustParams(1000)
	enc, err := redstuff.NewEncoder(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			q, err := Encode(p, c.patches)
			if err != nil {
				t.Fatal(err)
			}
			if len(q.Blob) != 445556 || q.SymbolSize != 2 {
				t.Fatalf("blob of %d bytes, symbol size %d; want 445556 and 2", len(q.Blob), q.SymbolSize)
			}
			for i, r := range c.ranges {
				if e := q.Index.Entries[i]; e.Start != r[0] || e.End != r[1] {
					t.Errorf("patch %d (%s) in columns [%d, %d), want %v", i, e.Identifier, e.Start, e.End, r)
				}
			}
			md, err := enc.Metadata(q.Blob)
			if err != nil {
				t.Fatal(err)
			}
			if got := md.ID.String(); got != c.want {
				t.Errorf("quilt blob ID %s, want %s", got, c.want)
			}
		})
	}
}

// Patch IDs from Walrus's documentation and sources.
func TestWalrusPatchIDs(t *testing.T) {
	cases := []struct {
		text       string
		quilt      string
		start, end uint16
		source     string
	}{
		// docs: system-overview/quilt, http-api (storedQuiltBlobs of a PUT /v1/quilts).
		{"6XUOE-Q5-nAXHRifN6n9nomVDtHZQbGuAkW3PjlBuKoBAQDQAA", "6XUOE-Q5-nAXHRifN6n9nomVDtHZQbGuAkW3PjlBuKo", 1, 208, "docs"},
		{"6XUOE-Q5-nAXHRifN6n9nomVDtHZQbGuAkW3PjlBuKoB0AB7Ag", "6XUOE-Q5-nAXHRifN6n9nomVDtHZQbGuAkW3PjlBuKo", 208, 635, "docs"},
		// walrus-service daemon routes.rs, list_patches_in_quilt example.
		{"uIiEbhP2qgZYygEGxJX1GeB-rQATo2yufC2DCp7B4iABAQANAA", "uIiEbhP2qgZYygEGxJX1GeB-rQATo2yufC2DCp7B4iA", 1, 13, "routes.rs"},
		{"uIiEbhP2qgZYygEGxJX1GeB-rQATo2yufC2DCp7B4iABDQBnAA", "uIiEbhP2qgZYygEGxJX1GeB-rQATo2yufC2DCp7B4iA", 13, 103, "routes.rs"},
		// Mysten Labs walrus-sites portal tests.
		{"jkZ5UWT2SPN46czhU-brz4JmQlc-bJlD14MiBzldouUBAQACAA", "jkZ5UWT2SPN46czhU-brz4JmQlc-bJlD14MiBzldouU", 1, 2, "walrus-sites"},
		{"jkZ5UWT2SPN46czhU-brz4JmQlc-bJlD14MiBzldouUBAgADAA", "jkZ5UWT2SPN46czhU-brz4JmQlc-bJlD14MiBzldouU", 2, 3, "walrus-sites"},
		{"zHQTGUBR_e_87X3UIJwBTZRngDUNLKXnzrf5j6dWNAMBBQAGAA", "zHQTGUBR_e_87X3UIJwBTZRngDUNLKXnzrf5j6dWNAM", 5, 6, "walrus-sites"},
	}
	for _, c := range cases {
		id, err := ParsePatchID(c.text)
		if err != nil {
			t.Fatalf("%s (%s): %v", c.text, c.source, err)
		}
		if id.Quilt.String() != c.quilt || id.Start != c.start || id.End != c.end {
			t.Errorf("%s (%s): quilt %s [%d, %d), want %s [%d, %d)", c.text, c.source, id.Quilt, id.Start, id.End, c.quilt, c.start, c.end)
		}
		if id.String() != c.text {
			t.Errorf("%s: formats back as %s", c.text, id)
		}
		if err := id.Check(blob.MustParams(1000)); err != nil {
			t.Errorf("%s: %v", c.text, err)
		}
	}
}
