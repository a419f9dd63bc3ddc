package client_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestLayers fails when a package depends on a layer above it (see
// ARCHITECTURE.md): the client and the node API never reach the node, its
// store or Pebble; the store never reaches the API or the node; the
// gateway reaches neither the node, its store, nor the chain's application.
func TestLayers(t *testing.T) {
	forbidden := map[string][]string{
		"github.com/walrus-go/walrus/client":  {"github.com/walrus-go/walrus/node", "github.com/walrus-go/walrus/store", "github.com/cockroachdb/pebble"},
		"github.com/walrus-go/walrus/nodeapi": {"github.com/walrus-go/walrus/node", "github.com/walrus-go/walrus/store", "github.com/cockroachdb/pebble", "github.com/walrus-go/walrus/client"},
		"github.com/walrus-go/walrus/store":   {"github.com/walrus-go/walrus/node", "github.com/walrus-go/walrus/nodeapi", "github.com/walrus-go/walrus/client"},
		// The gateway builds on the client only.
		"github.com/walrus-go/walrus/gateway": {"github.com/walrus-go/walrus/node", "github.com/walrus-go/walrus/store", "github.com/cockroachdb/pebble",
			"github.com/walrus-go/walrus/chain/abci", "github.com/walrus-go/walrus/internal/testnet"},
	}
	for pkg, bad := range forbidden {
		out, err := exec.Command("go", "list", "-deps", pkg).Output()
		if err != nil {
			t.Skipf("go list: %v", err)
		}
		for _, dep := range strings.Fields(string(out)) {
			for _, b := range bad {
				if dep == b || strings.HasPrefix(dep, b+"/") {
					t.Errorf("%s depends on %s", pkg, dep)
				}
			}
		}
	}
}
