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

// TestOneDoorIntoTheSDK: the gateway and the CLI's packages, all but the
// devnet and bench sub-packages (which run and measure a network), import
// no package below the SDK (go list's Imports: their own files, not tests).
func TestOneDoorIntoTheSDK(t *testing.T) {
	pkgs := []string{"gateway", "cmd/walrus", "cmd/walrus/cli", "cmd/walrus/cli/cmdenv"}
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", mod+"gateway/...", mod+"cmd/walrus/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		pkg := strings.TrimPrefix(f[0], mod)
		if pkg == "cmd/walrus/cli/devnet" || pkg == "cmd/walrus/cli/bench" {
			continue
		}
		seen[pkg] = true
		for _, imp := range f[1:] {
			for _, b := range belowTheSDK {
				if imp == mod+b {
					t.Errorf("%s imports %s: go through package client", pkg, imp)
				}
			}
		}
	}
	for _, p := range pkgs {
		if !seen[p] {
			t.Errorf("go list did not list %s", p)
		}
	}
}

// httpx is the HTTP plumbing of the node API and the gateway: a leaf on the
// standard library.
func TestHTTPXIsALeaf(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", mod+"internal/httpx").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	if deps := strings.Fields(string(out)); len(deps) != 1 || deps[0] != mod+"internal/httpx" {
		t.Errorf("internal/httpx depends on %v", deps)
	}
}
