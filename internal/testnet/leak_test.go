package testnet_test

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/walrus-go/walrus/client"
	"github.com/walrus-go/walrus/internal/testnet"
)

// leftover returns the stacks of goroutines other than the test's own and
// those CometBFT leaves running after its node stopped (its autofile
// signal handler and its app-connection watcher never exit).
func leftover() []string {
	buf := make([]byte, 4<<20)
	var out []string
	for _, g := range strings.Split(string(buf[:runtime.Stack(buf, true)]), "\n\n") {
		switch {
		case strings.Contains(g, "testing.(*T).Run"), strings.Contains(g, "testing.tRunner"),
			strings.Contains(g, "cometbft/libs/autofile"), strings.Contains(g, "os/signal.loop"),
			strings.Contains(g, "multiAppConn).killTMOnClientError"):
		default:
			out = append(out, g)
		}
	}
	return out
}

// TestNoGoroutinesLeft: a network that stored and read a blob, stopped and
// restarted a node, leaves no goroutine of its own behind once closed.
func TestNoGoroutinesLeft(t *testing.T) {
	net, err := testnet.New(context.Background(), testnet.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	res, err := net.Client.Store(ctx, randomBytes(10_000, 1), client.StoreOptions{Epochs: 2})
	if err != nil {
		t.Fatal(err)
	}
	if err := net.StopNode(1); err != nil {
		t.Fatal(err)
	}
	if err := net.StartNode(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := net.Client.Read(ctx, res.BlobID); err != nil {
		t.Fatal(err)
	}
	if err := net.Close(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(leftover()) > 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if l := leftover(); len(l) > 0 {
		t.Fatalf("%d goroutines left:\n%s", len(l), strings.Join(l, "\n\n"))
	}
}
