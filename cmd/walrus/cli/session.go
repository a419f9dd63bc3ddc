package cli

import (
	"context"

	"github.com/walrus-go/walrus/client"
)

// session is a connection to the network a configuration names.
type session struct {
	cfg    *client.ContextConfig
	path   string // of the configuration
	client *client.Client
}

// Close releases the session's connections.
func (s *session) Close() {
	if s.client != nil {
		s.client.Close()
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
	cl, err := client.Open(ctx, c, client.OpenOptions{WalletPath: e.walletPath(c), RequireWallet: needWallet, StatusTimeout: e.statusTimeout})
	if err != nil {
		return nil, err
	}
	return &session{cfg: c, path: path, client: cl}, nil
}
