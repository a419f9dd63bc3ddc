package gateway

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/walrus-go/walrus/client"
	"github.com/walrus-go/walrus/wallet"
)

// WalletsConfig configures the publisher's sub-wallets (Walrus's
// --n-clients, --sub-wallets-dir, --sub-wallets-min-balance,
// --wal-refill-amount, --refill-interval).
type WalletsConfig struct {
	// N is the number of sub-wallets, each with its own client and
	// sequence numbers, so that N stores run at once (default 8).
	N int `yaml:"n_clients"`
	// Dir keeps the sub-wallets' keystores (sub-wallet-K.json, created if
	// missing). Empty: the keys are derived from the main wallet's key,
	// so the same sub-wallets (and their WAL) come back on restart.
	Dir string `yaml:"sub_wallets_dir"`
	// MinBalance: a sub-wallet below it gets RefillAmount from the main
	// wallet (defaults 0.5 WAL and 0.5 WAL, in FROST).
	MinBalance   uint64 `yaml:"sub_wallets_min_balance"`
	RefillAmount uint64 `yaml:"wal_refill_amount"`
	// RefillInterval is how often balances are checked (default 1s).
	RefillInterval time.Duration `yaml:"refill_interval"`
	// Client configures each sub-wallet's client.
	Client client.Config `yaml:"-"`
}

func (c WalletsConfig) withDefaults() WalletsConfig {
	if c.N == 0 {
		c.N = 8
	}
	if c.MinBalance == 0 {
		c.MinBalance = client.FrostPerWAL / 2
	}
	if c.RefillAmount == 0 {
		c.RefillAmount = client.FrostPerWAL / 2
	}
	if c.RefillInterval == 0 {
		c.RefillInterval = time.Second
	}
	return c
}

// wallets is the publisher's pool of sub-wallet clients over the main
// client's chain connection: a store takes one, so concurrent stores sign
// with different accounts.
type wallets struct {
	cfg   WalletsConfig
	main  *client.Client
	all   []*client.Client
	free  chan *client.Client
	log   *slog.Logger
	httpc *http.Client
}

// SubWalletKeys returns the n sub-wallet keys of a main key: loaded from
// (or created in) dir, or derived from the main key when dir is empty.
func SubWalletKeys(main ed25519.PrivateKey, n int, dir string) ([]ed25519.PrivateKey, error) {
	keys := make([]ed25519.PrivateKey, n)
	if dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, err
		}
	}
	for i := range n {
		if dir == "" {
			if main == nil {
				return nil, errors.New("gateway: sub-wallets need the main wallet's key or a directory")
			}
			h := sha256.New()
			h.Write([]byte("walrus-go publisher sub-wallet\x00"))
			h.Write(main.Seed())
			h.Write(binary.LittleEndian.AppendUint32(nil, uint32(i)))
			keys[i] = ed25519.NewKeyFromSeed(h.Sum(nil))
			continue
		}
		path := filepath.Join(dir, fmt.Sprintf("sub-wallet-%d.json", i))
		k, err := wallet.Load(path)
		if errors.Is(err, os.ErrNotExist) {
			k, err = wallet.Create(path)
		}
		if err != nil {
			return nil, fmt.Errorf("gateway: sub-wallet %s: %w", path, err)
		}
		keys[i] = k
	}
	return keys, nil
}

// newWallets makes a client per key, funds those below the minimum balance
// from the main wallet (in one transaction) and returns the pool.
func newWallets(ctx context.Context, cfg WalletsConfig, main *client.Client, keys []ed25519.PrivateKey, log *slog.Logger) (*wallets, error) {
	if !main.CanSign() {
		return nil, fmt.Errorf("gateway: the publisher needs a wallet: %w", client.ErrNoWallet)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	w := &wallets{cfg: cfg, main: main, free: make(chan *client.Client, len(keys)), log: log, httpc: &http.Client{Transport: tr}}
	ccfg := cfg.Client
	if ccfg.HTTP == nil {
		ccfg.HTTP = w.httpc
	}
	for _, k := range keys {
		c, err := main.WithKey(ctx, k, ccfg)
		if err != nil {
			w.close()
			return nil, err
		}
		w.all = append(w.all, c)
		w.free <- c
	}
	if err := w.refill(ctx, w.all...); err != nil {
		w.close()
		return nil, err
	}
	return w, nil
}

// acquire takes a sub-wallet client; put it back with release.
func (w *wallets) acquire(ctx context.Context) (*client.Client, error) {
	select {
	case c := <-w.free:
		return c, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (w *wallets) release(c *client.Client) { w.free <- c }

// refill tops up, in one transaction from the main wallet, the given
// sub-wallets whose balance is below the minimum.
func (w *wallets) refill(ctx context.Context, subs ...*client.Client) error {
	var transfers []client.WalTransfer
	for _, c := range subs {
		bal, err := c.Balance(ctx)
		if err != nil {
			return fmt.Errorf("gateway: sub-wallet %s balance: %w", c.Address(), err)
		}
		if bal < w.cfg.MinBalance {
			transfers = append(transfers, client.WalTransfer{To: c.Address(), Amount: w.cfg.RefillAmount})
		}
	}
	if len(transfers) == 0 {
		return nil
	}
	if err := w.main.TransferWal(ctx, transfers...); err != nil {
		return fmt.Errorf("gateway: funding %d sub-wallets from %s: %w", len(transfers), w.main.Address(), err)
	}
	w.log.Info("refilled sub-wallets", "count", len(transfers), "amount", w.cfg.RefillAmount)
	return nil
}

// run refills the sub-wallets every RefillInterval until ctx ends.
func (w *wallets) run(ctx context.Context) {
	t := time.NewTicker(w.cfg.RefillInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := w.refill(ctx, w.all...); err != nil && ctx.Err() == nil {
			w.log.Warn("refilling sub-wallets", "err", err)
		}
	}
}

// waitUploads waits for the sub-wallets' background tail uploads.
func (w *wallets) waitUploads(ctx context.Context) {
	for _, c := range w.all {
		_ = c.WaitUploads(ctx)
	}
}

func (w *wallets) close() {
	for _, c := range w.all {
		c.Close()
	}
	w.httpc.CloseIdleConnections()
}
