package chainclient_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/walrus-go/walrus/chain"
	"github.com/walrus-go/walrus/chain/chainclient"
)

// TestConcurrentExecuteOneSigner: many goroutines executing with one Signer
// all succeed; sequences reach CheckTx in order.
func TestConcurrentExecuteOneSigner(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	d := newDevnet(t, 3_600_000)
	n, c := startEmbedded(t, ctx, filepath.Join(t.TempDir(), "chain"), d.genesis)
	defer n.Stop()
	s := chainclient.NewSigner(d.user)
	to := addr(key("someone"))
	var wg sync.WaitGroup
	errs := make(chan error, 24)
	for range 24 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c.Execute(ctx, s, &chain.TransferWal{To: to, Amount: 1})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	a, err := c.Account(ctx, to)
	if err != nil || a.Balance != 24 {
		t.Fatalf("balance %d %v", a.Balance, err)
	}
}
