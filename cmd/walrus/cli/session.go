package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/walrus-go/walrus/chain/chainclient"
	"github.com/walrus-go/walrus/client"
	"github.com/walrus-go/walrus/wallet"
)

// session is a connection to the network a configuration names.
type session struct {
	cfg    *client.ContextConfig
	path   string // of the configuration
	chain  *chainclient.Client
	client *client.Client
}

// Close releases the session's connections.
func (s *session) Close() {
	if s.client != nil {
		s.client.Close()
	}
	if s.chain != nil {
		s.chain.Close()
	}
}

// loadConfig finds and reads the client configuration.
func (e *env) loadConfig() (*client.ContextConfig, string, error) {
	path := e.config
	if path == "" {
		p, err := client.FindConfig()
		if err != nil {
			return nil, "", err
		}
		path = p
	}
	c, err := client.LoadContext(path, e.context)
	if err != nil {
		return nil, "", err
	}
	return c, path, nil
}

// walletPath is --wallet, else the configuration's wallet.
func (e *env) walletPath(c *client.ContextConfig) string {
	if e.wallet != "" {
		return e.wallet
	}
	if c != nil && c.WalletConfig != nil {
		return c.WalletConfig.Path
	}
	return ""
}

// connect opens a session; with needWallet the wallet must load, otherwise
// the client is read-only when there is none.
func (e *env) connect(ctx context.Context, needWallet bool) (*session, error) {
	c, path, err := e.loadConfig()
	if err != nil {
		return nil, err
	}
	s := &session{cfg: c, path: path}
	var signer *chainclient.Signer
	if wp := e.walletPath(c); wp != "" {
		k, err := wallet.Load(wp)
		if err != nil {
			if needWallet {
				return nil, fmt.Errorf("wallet: %w", err)
			}
		} else {
			signer = chainclient.NewSigner(k)
		}
	}
	if signer == nil && needWallet {
		return nil, errors.New("no wallet: pass --wallet FILE or set wallet_config.path in the configuration (walrus generate-wallet makes one)")
	}
	if e.statusTimeout > 0 {
		c.CommunicationConfig.StatusTimeout = e.statusTimeout
	}
	if s.chain, err = dialChain(ctx, c); err != nil {
		return nil, err
	}
	if s.client, err = client.New(ctx, s.chain, signer, c.CommunicationConfig); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// dialChain connects to the first RPC URL that answers.
func dialChain(ctx context.Context, c *client.ContextConfig) (*chainclient.Client, error) {
	var errs []error
	for _, u := range c.RPCURLs {
		dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		ch, err := chainclient.Dial(dctx, chainclient.Config{RPC: u, ChainID: c.ChainID, PollInterval: 50 * time.Millisecond})
		cancel()
		if err == nil {
			return ch, nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", u, err))
	}
	return nil, fmt.Errorf("cannot reach the chain (is the devnet running?): %w", errors.Join(errs...))
}
