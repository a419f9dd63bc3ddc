package chainclient_test

import (
	"context"
	"crypto/ed25519"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/walrus-go/walrus/chain"
	"github.com/walrus-go/walrus/chain/chainclient"
	"github.com/walrus-go/walrus/ids"
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

// TestTwoSignersOneAccount: two Signers of one account — two processes, such
// as a CLI and a publisher sharing a wallet — submitting at the same time
// all succeed: a wrong-sequence rejection makes a Signer re-read the
// account's next sequence including the other's pending transactions.
func TestTwoSignersOneAccount(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	d := newDevnet(t, 3_600_000)
	n, c := startEmbedded(t, ctx, filepath.Join(t.TempDir(), "chain"), d.genesis)
	defer n.Stop()
	signers := []*chainclient.Signer{chainclient.NewSigner(d.user), chainclient.NewSigner(d.user)}
	to := addr(key("someone"))
	const each = 8
	var wg sync.WaitGroup
	errs := make(chan error, 2*each)
	for i, s := range signers {
		wg.Add(1)
		go func() { // one "process": its transactions one after the other
			defer wg.Done()
			for range each {
				_, err := c.Execute(ctx, s, &chain.TransferWal{To: to, Amount: uint64(1 + i)})
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if a, err := c.Account(ctx, to); err != nil || a.Balance != 3*each {
		t.Fatalf("balance %d %v", a.Balance, err)
	}
	user := ids.AddressOf(d.user.Public().(ed25519.PublicKey))
	next, err := c.NextSequence(ctx, user)
	if a, _ := c.Account(ctx, user); err != nil || next != a.Sequence+1 {
		t.Fatalf("next sequence %d with nothing pending, account at %d: %v", next, a.Sequence, err)
	}
}
