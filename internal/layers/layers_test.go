package layers

import (
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"strconv"
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

// TestLayers fails when a package depends on a layer above it (see
// ARCHITECTURE.md): the client and the node API never reach the node, its
// store or Pebble; the store never reaches the API or the node; the
// gateway reaches neither the node, its store, nor the chain's application.
func TestLayers(t *testing.T) {
	forbidden := map[string][]string{
		"client":  {mod + "node", mod + "store", "github.com/cockroachdb/pebble"},
		"nodeapi": {mod + "node", mod + "store", "github.com/cockroachdb/pebble", mod + "client"},
		"store":   {mod + "node", mod + "nodeapi", mod + "client"},
		"gateway": {mod + "node", mod + "store", "github.com/cockroachdb/pebble", mod + "chain/abci", mod + "internal/testnet"},
	}
	for pkg, bad := range forbidden {
		for _, dep := range deps(t, mod+pkg) {
			for _, b := range bad {
				if dep == b || strings.HasPrefix(dep, b+"/") {
					t.Errorf("%s depends on %s", pkg, dep)
				}
			}
		}
	}
}

// belowTheSDK are the packages the SDK (package client) is built on: the
// gateway and the CLI's user commands go through the SDK instead.
var belowTheSDK = []string{"chain", "chain/chainclient", "chain/abci", "redstuff", "rs", "nodeapi", "node", "store", "committee",
	"internal/sdkinternal", "internal/testnet"}

// sdkInternalFiles are the CLI's files that run a network or measure one
// (the devnet and the benchmarks): they may reach behind the SDK.
var sdkInternalFiles = map[string]bool{"devnet.go": true, "bench.go": true, "benchnet.go": true}

// TestOneDoorIntoTheSDK: the gateway and the CLI's commands import no
// package below the SDK, file by file (test files excepted).
func TestOneDoorIntoTheSDK(t *testing.T) {
	for _, pkg := range []string{"gateway", "cmd/walrus/cli", "cmd/walrus"} {
		out, err := exec.Command("go", "list", "-f", "{{.Dir}}\n{{join .GoFiles \"\\n\"}}", mod+pkg).Output()
		if err != nil {
			t.Fatalf("go list %s: %v", pkg, err)
		}
		lines := strings.Fields(string(out))
		if len(lines) < 2 {
			t.Fatalf("go list %s: no files in %q", pkg, out)
		}
		dir, files := lines[0], lines[1:]
		for _, name := range files {
			if pkg == "cmd/walrus/cli" && sdkInternalFiles[name] {
				continue
			}
			f, err := parser.ParseFile(token.NewFileSet(), filepath.Join(dir, name), nil, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			for _, imp := range f.Imports {
				path, _ := strconv.Unquote(imp.Path.Value)
				for _, b := range belowTheSDK {
					if path == mod+b {
						t.Errorf("%s/%s imports %s: go through package client", pkg, name, path)
					}
				}
			}
		}
	}
}
