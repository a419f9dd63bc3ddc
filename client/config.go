package client

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// ErrNoConfig: no client_config.yaml was given or found.
var ErrNoConfig = errors.New("client: no client configuration found")

// ConfigFile is a client_config.yaml, modelled on Walrus's: either one
// context at the top level, or several under `contexts` with a
// `default_context`. The committee, shard count and prices are read from
// the chain, never configured. Unknown keys are an error.
//
//	contexts:
//	  devnet:
//	    chain_id: walrus-devnet
//	    rpc_urls: [http://127.0.0.1:26657]
//	    wallet_config: {path: wallet.json}   # relative to this file
//	    faucet_wallet: wallet.json           # optional: the key of the chain's faucet (get-wal)
//	    default_epochs: 1                    # optional: store without --epochs
//	    communication_config: {max_concurrent_writes: 64, max_data_in_flight: 125000000}
//	default_context: devnet
type ConfigFile struct {
	Contexts       map[string]*ContextConfig `yaml:"contexts,omitempty"`
	DefaultContext string                    `yaml:"default_context,omitempty"`
	ContextConfig  `yaml:",inline"`
}

// ContextConfig is one network's client settings.
type ContextConfig struct {
	// ChainID is checked against the chain (empty: taken from it).
	ChainID string `yaml:"chain_id,omitempty"`
	// RPCURLs are CometBFT RPC addresses; the first that answers is used.
	RPCURLs []string `yaml:"rpc_urls,omitempty"`
	// WalletConfig names the wallet (a Sui keystore file).
	WalletConfig *WalletConfig `yaml:"wallet_config,omitempty"`
	// FaucetWallet is the keystore of the chain's faucet account (devnet).
	FaucetWallet string `yaml:"faucet_wallet,omitempty"`
	// DefaultEpochs lets `store` run without an epoch flag.
	DefaultEpochs uint32 `yaml:"default_epochs,omitempty"`
	// CommunicationConfig tunes the SDK (see Config).
	CommunicationConfig Config `yaml:"communication_config,omitempty"`
}

// WalletConfig names a wallet file.
type WalletConfig struct {
	Path string `yaml:"path"`
}

// ParseConfigFile decodes a client_config.yaml.
func ParseConfigFile(b []byte) (*ConfigFile, error) {
	if len(b) > 1<<20 {
		return nil, errors.New("client: config file above 1 MiB")
	}
	var f ConfigFile
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("client: config: %w", err)
	}
	if err := f.Validate(); err != nil {
		return nil, err
	}
	return &f, nil
}

// Validate reports every problem of the file.
func (f *ConfigFile) Validate() error {
	var errs []error
	if len(f.Contexts) > 0 {
		if !f.ContextConfig.empty() {
			errs = append(errs, errors.New("client: config: settings both at the top level and under contexts"))
		}
		if f.DefaultContext == "" && len(f.Contexts) > 1 {
			errs = append(errs, errors.New("client: config: several contexts and no default_context"))
		}
		if _, ok := f.Contexts[f.DefaultContext]; f.DefaultContext != "" && !ok {
			errs = append(errs, fmt.Errorf("client: config: default_context %q is not among the contexts", f.DefaultContext))
		}
		names := make([]string, 0, len(f.Contexts))
		for name := range f.Contexts {
			names = append(names, name)
		}
		slices.Sort(names)
		for _, name := range names {
			c := f.Contexts[name]
			if c == nil {
				errs = append(errs, fmt.Errorf("client: config: context %q is empty", name))
				continue
			}
			if err := c.Validate(); err != nil {
				errs = append(errs, fmt.Errorf("context %q: %w", name, err))
			}
		}
	} else if err := f.ContextConfig.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func (c *ContextConfig) empty() bool {
	return c.ChainID == "" && len(c.RPCURLs) == 0 && c.WalletConfig == nil && c.FaucetWallet == "" && c.DefaultEpochs == 0 &&
		reflect.ValueOf(c.CommunicationConfig).IsZero()
}

// Validate reports every problem of a context.
func (c *ContextConfig) Validate() error {
	var errs []error
	if len(c.RPCURLs) == 0 {
		errs = append(errs, errors.New("client: config: rpc_urls is empty"))
	}
	for _, u := range c.RPCURLs {
		if p, err := url.Parse(u); err != nil || p.Scheme == "" || p.Host == "" {
			errs = append(errs, fmt.Errorf("client: config: rpc url %q is not a URL", u))
		}
	}
	if c.WalletConfig != nil && c.WalletConfig.Path == "" {
		errs = append(errs, errors.New("client: config: wallet_config.path is empty"))
	}
	if err := c.CommunicationConfig.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Context returns the named context ("" : the default one).
func (f *ConfigFile) Context(name string) (*ContextConfig, error) {
	if len(f.Contexts) == 0 {
		if name != "" {
			return nil, fmt.Errorf("client: config has no contexts, %q requested", name)
		}
		c := f.ContextConfig
		return &c, nil
	}
	if name == "" {
		name = f.DefaultContext
		if name == "" {
			for n := range f.Contexts {
				name = n // the only one (Validate)
			}
		}
	}
	c, ok := f.Contexts[name]
	if !ok {
		return nil, fmt.Errorf("client: config has no context %q", name)
	}
	cc := *c
	return &cc, nil
}

// LoadContext reads a client_config.yaml and returns a context with its
// relative paths made relative to the file's directory.
func LoadContext(path, context string) (*ContextConfig, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	f, err := ParseConfigFile(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	c, err := f.Context(context)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	dir := filepath.Dir(path)
	abs := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		if rest, ok := strings.CutPrefix(p, "~/"); ok {
			if home, err := os.UserHomeDir(); err == nil {
				return filepath.Join(home, rest)
			}
		}
		return filepath.Join(dir, p)
	}
	if c.WalletConfig != nil {
		w := *c.WalletConfig
		w.Path = abs(w.Path)
		c.WalletConfig = &w
	}
	c.FaucetWallet = abs(c.FaucetWallet)
	return c, nil
}

// ConfigSearchPaths are where FindConfig looks, in order, as Walrus does:
// ./client_config.yaml|yml, $XDG_CONFIG_HOME/walrus/, ~/.config/walrus/,
// ~/.walrus/.
func ConfigSearchPaths() []string {
	var dirs []string
	dirs = append(dirs, ".")
	if x := os.Getenv("XDG_CONFIG_HOME"); x != "" {
		dirs = append(dirs, filepath.Join(x, "walrus"))
	}
	if home, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(home, ".config", "walrus"), filepath.Join(home, ".walrus"))
	}
	var out []string
	for _, d := range dirs {
		out = append(out, filepath.Join(d, "client_config.yaml"), filepath.Join(d, "client_config.yml"))
	}
	return out
}

// FindConfig returns the first client_config.yaml of ConfigSearchPaths
// that exists, or ErrNoConfig.
func FindConfig() (string, error) {
	for _, p := range ConfigSearchPaths() {
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
	}
	return "", fmt.Errorf("%w (looked in %s); start a devnet with `walrus devnet` and pass --config devnet/client_config.yaml",
		ErrNoConfig, strings.Join(ConfigSearchPaths(), ", "))
}

// MarshalConfigFile encodes a configuration file.
func MarshalConfigFile(f *ConfigFile) ([]byte, error) { return yaml.Marshal(f) }
