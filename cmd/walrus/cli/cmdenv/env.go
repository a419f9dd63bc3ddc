// Package cmdenv is what the walrus CLI's commands share: the global flags,
// where they print (data on stdout, talk on stderr), the connection to the
// network a client configuration names, progress bars, and Do, the one
// skeleton of a command that connects, calls the SDK and prints the result
// as text or as its typed --json form. The user commands (package cli), the
// devnet (cli/devnet) and the benchmarks (cli/bench) all build on it.
package cmdenv

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/walrus-go/walrus/client"
)

// Env is where commands print, and the global flags.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	JSON           bool   // --json
	Config         string // --config
	Context        string // --context
	Wallet         string // --wallet
	// StatusTimeout overrides the configuration's (blob-status --timeout).
	StatusTimeout time.Duration
}

// PrintJSON writes v as indented JSON on stdout.
func (e *Env) PrintJSON(v any) error {
	enc := json.NewEncoder(e.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// Say writes talk to stderr (never in the way of data on stdout).
func (e *Env) Say(format string, args ...any) {
	fmt.Fprintf(e.Stderr, format+"\n", args...)
}

// Confirm asks a yes/no question on stderr and reads the answer from stdin.
func (e *Env) Confirm(q string) bool {
	fmt.Fprint(e.Stderr, q)
	line, _ := bufio.NewReader(e.Stdin).ReadString('\n')
	a := strings.ToLower(strings.TrimSpace(line))
	return a == "y" || a == "yes"
}

// Session is a connection to the network a configuration names.
type Session struct {
	Cfg    *client.ContextConfig
	Path   string // of the configuration
	Client *client.Client
}

// Close releases the session's connections.
func (s *Session) Close() {
	if s.Client != nil {
		s.Client.Close()
	}
}

// LoadConfig finds and reads the client configuration.
func (e *Env) LoadConfig() (*client.ContextConfig, string, error) {
	path := e.Config
	if path == "" {
		p, err := client.FindConfig()
		if err != nil {
			return nil, "", err
		}
		path = p
	}
	c, err := client.LoadContext(path, e.Context)
	if err != nil {
		return nil, "", err
	}
	return c, path, nil
}

// WalletPath is --wallet, else the configuration's wallet.
func (e *Env) WalletPath(c *client.ContextConfig) string {
	if e.Wallet != "" {
		return e.Wallet
	}
	if c != nil && c.WalletConfig != nil {
		return c.WalletConfig.Path
	}
	return ""
}

// Connect opens a session; with needWallet the wallet must load, otherwise
// the client is read-only when there is none.
func (e *Env) Connect(ctx context.Context, needWallet bool) (*Session, error) {
	c, path, err := e.LoadConfig()
	if err != nil {
		return nil, err
	}
	cl, err := client.Open(ctx, c, client.OpenOptions{WalletPath: e.WalletPath(c), RequireWallet: needWallet, StatusTimeout: e.StatusTimeout})
	if err != nil {
		return nil, err
	}
	return &Session{Cfg: c, Path: path, Client: cl}, nil
}

// Wallet says whether a command needs a wallet (Do).
type Wallet bool

// The wallet needs of Do.
const (
	ReadOnly    Wallet = false
	NeedsWallet Wallet = true
)

// Do is the skeleton of a command: connect, call, then print the result,
// as indented JSON with --json, else with text (nil: print nothing).
func Do[T any](cmd *cobra.Command, e *Env, w Wallet, call func(ctx context.Context, s *Session) (T, error), text func(out io.Writer, v T) error) error {
	ctx := cmd.Context()
	s, err := e.Connect(ctx, bool(w))
	if err != nil {
		return err
	}
	defer s.Close()
	v, err := call(ctx, s)
	if err != nil {
		return err
	}
	if e.JSON {
		return e.PrintJSON(v)
	}
	if text == nil {
		return nil
	}
	return text(e.Stdout, v)
}
