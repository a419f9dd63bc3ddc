package client

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/walrus-go/walrus/chain/chainclient"
	"github.com/walrus-go/walrus/wallet"
)

// OpenOptions adjust Open.
type OpenOptions struct {
	// WalletPath is the wallet file ("": the context's wallet_config.path).
	WalletPath string
	// RequireWallet makes Open fail (wrapping ErrNoWallet) when no wallet
	// loads; otherwise the client is read-only without one.
	RequireWallet bool
	// ReadOnly loads no wallet at all.
	ReadOnly bool
	// StatusTimeout overrides the configuration's (0: keep it).
	StatusTimeout time.Duration
	// HTTP is the client for storage nodes (nil: the client's own).
	HTTP *http.Client
	// DialTimeout bounds each RPC URL's attempt (default 10s).
	DialTimeout time.Duration
}

// Open connects to the network a context names: it dials the first of its
// RPC URLs that answers, loads the wallet and returns a client. Close
// closes the chain connection too.
func Open(ctx context.Context, cfg *ContextConfig, opts OpenOptions) (*Client, error) {
	if cfg == nil {
		return nil, ErrNoConfig
	}
	signer, err := openWallet(cfg, opts)
	if err != nil {
		return nil, err
	}
	ch, err := dial(ctx, cfg, opts.DialTimeout)
	if err != nil {
		return nil, err
	}
	ccfg := cfg.CommunicationConfig
	if opts.StatusTimeout > 0 {
		ccfg.StatusTimeout = opts.StatusTimeout
	}
	if opts.HTTP != nil {
		ccfg.HTTP = opts.HTTP
	}
	c, err := newClient(ctx, ch, signer, ccfg)
	if err != nil {
		ch.Close()
		return nil, err
	}
	c.ownsChain = true
	return c, nil
}

// openWallet loads the wallet Open is to use (nil: none).
func openWallet(cfg *ContextConfig, opts OpenOptions) (*chainclient.Signer, error) {
	if opts.ReadOnly {
		return nil, nil
	}
	path := opts.WalletPath
	if path == "" && cfg.WalletConfig != nil {
		path = cfg.WalletConfig.Path
	}
	if path == "" {
		if opts.RequireWallet {
			return nil, fmt.Errorf("%w: pass --wallet FILE or set wallet_config.path in the configuration (walrus generate-wallet makes one)", ErrNoWallet)
		}
		return nil, nil
	}
	k, err := wallet.Load(path)
	if err != nil {
		if opts.RequireWallet {
			return nil, fmt.Errorf("wallet: %w", err)
		}
		return nil, nil
	}
	return chainclient.NewSigner(k), nil
}

// dial connects to the first RPC URL that answers.
func dial(ctx context.Context, cfg *ContextConfig, timeout time.Duration) (*chainclient.Client, error) {
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	var errs []error
	for _, u := range cfg.RPCURLs {
		dctx, cancel := context.WithTimeout(ctx, timeout)
		ch, err := chainclient.Dial(dctx, chainclient.Config{RPC: u, ChainID: cfg.ChainID, PollInterval: 50 * time.Millisecond})
		cancel()
		if err == nil {
			return ch, nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", u, err))
	}
	if len(errs) == 0 {
		errs = append(errs, errors.New("the configuration has no rpc_urls"))
	}
	return nil, fmt.Errorf("cannot reach the chain (is the devnet running?): %w", errors.Join(errs...))
}

// WithKey returns a client that pays and signs with key over c's chain
// connection (the publisher's sub-wallets). Its Close leaves the shared
// connection open.
func (c *Client) WithKey(ctx context.Context, key ed25519.PrivateKey, cfg Config) (*Client, error) {
	return newClient(ctx, c.chain, chainclient.NewSigner(key), cfg)
}

// CanSign reports whether the client has a wallet (it is read-only otherwise).
func (c *Client) CanSign() bool { return c.signer != nil }

// ChainID is the chain's identifier.
func (c *Client) ChainID() string { return c.chain.ChainID() }
