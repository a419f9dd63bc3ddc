package vectors

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// The committed copy must equal shared/spec/vectors, so that a change there
// is noticed rather than silently ignored.
func TestCopyMatchesShared(t *testing.T) {
	shared := SharedDir()
	if shared == "" {
		t.Skip("../shared/spec/vectors not present")
	}
	ents, err := os.ReadDir(shared)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) == 0 {
		t.Fatal("no shared vectors")
	}
	for _, e := range ents {
		want, err := os.ReadFile(filepath.Join(shared, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		got, err := Read(e.Name())
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: committed copy differs from %s (copy it over)", e.Name(), shared)
		}
	}
}

func TestTSV(t *testing.T) {
	rows, err := TSV("blob-ids.tsv")
	if err != nil || len(rows) < 9 || len(rows[0]) != 6 {
		t.Fatalf("blob-ids.tsv: %d rows, %v", len(rows), err)
	}
}
