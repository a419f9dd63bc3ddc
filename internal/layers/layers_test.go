package layers

import (
	"os/exec"
	"strings"
	"testing"
)

const mod = "github.com/walrus-go/walrus/"

// The pure packages (codec, formats, the chain state machine) reach no
// network, storage, consensus engine or logger; bls is pure but for cgo.
func TestPurePackages(t *testing.T) {
	pure := []string{"ids", "bcs", "merkle", "rs", "redstuff", "blob", "wire", "bls", "committee", "chain", "quilt"}
	forbidden := []string{"net", "net/http", "log", "log/slog", "github.com/cockroachdb/pebble", "github.com/cometbft/cometbft",
		mod + "store", mod + "nodeapi", mod + "node", mod + "client", mod + "chain/abci", mod + "chain/chainclient"}
	for _, p := range pure {
		for _, dep := range deps(t, mod+p) {
			for _, f := range forbidden {
				if dep == f || strings.HasPrefix(dep, f+"/") {
					t.Errorf("pure package %s depends on %s", p, dep)
				}
			}
		}
	}
}

func deps(t *testing.T, pkg string) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", pkg).Output()
	if err != nil {
		t.Fatalf("go list -deps %s: %v", pkg, err)
	}
	return strings.Fields(string(out))
}

// ids is the leaf every layer names things with: it imports nothing of
// this module.
func TestIDsIsALeaf(t *testing.T) {
	for _, dep := range deps(t, mod+"ids") {
		if strings.HasPrefix(dep, mod) && dep != mod+"ids" {
			t.Errorf("ids depends on %s", dep)
		}
	}
}
