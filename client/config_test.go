package client

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const sampleConfig = `
contexts:
  devnet:
    chain_id: walrus-devnet
    rpc_urls: [http://127.0.0.1:26657]
    wallet_config: {path: wallet.json}
    faucet_wallet: faucet.json
    default_epochs: 2
    communication_config:
      max_concurrent_writes: 16
      max_data_in_flight: 1000000
      node_timeout: 30s
  other:
    rpc_urls: [http://10.0.0.1:26657]
default_context: devnet
`

func TestConfigFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "client_config.yaml")
	if err := os.WriteFile(p, []byte(sampleConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := LoadContext(p, "")
	if err != nil {
		t.Fatal(err)
	}
	if c.ChainID != "walrus-devnet" || c.WalletConfig.Path != filepath.Join(dir, "wallet.json") || c.FaucetWallet != filepath.Join(dir, "faucet.json") ||
		c.DefaultEpochs != 2 || c.CommunicationConfig.UploadConcurrency != 16 || c.CommunicationConfig.MaxDataInFlight != 1e6 ||
		c.CommunicationConfig.NodeTimeout != 30*time.Second {
		t.Fatalf("%+v", c)
	}
	if o, err := LoadContext(p, "other"); err != nil || o.RPCURLs[0] != "http://10.0.0.1:26657" || o.WalletConfig != nil {
		t.Fatalf("other: %+v %v", o, err)
	}
	if _, err := LoadContext(p, "nope"); err == nil {
		t.Fatal("unknown context")
	}
	// A flat file is one context.
	flat := "rpc_urls: [http://127.0.0.1:1]\nwallet_config: {path: /abs/w.json}\n"
	f, err := ParseConfigFile([]byte(flat))
	if err != nil {
		t.Fatal(err)
	}
	if c, err := f.Context(""); err != nil || c.WalletConfig.Path != "/abs/w.json" {
		t.Fatalf("flat: %+v %v", c, err)
	}
	// Round trip of what the devnet writes.
	b, err := MarshalConfigFile(&ConfigFile{Contexts: map[string]*ContextConfig{"d": {RPCURLs: []string{"http://a:1"}, DefaultEpochs: 1}}, DefaultContext: "d"})
	if err != nil {
		t.Fatal(err)
	}
	if g, err := ParseConfigFile(b); err != nil || g.Contexts["d"].DefaultEpochs != 1 {
		t.Fatalf("round trip %s: %v", b, err)
	}
}

func TestConfigFileErrors(t *testing.T) {
	for in, want := range map[string]string{
		"rpc_urls: [http://a:1]\nunknown: 1\n": "field unknown not found",
		"wallet_config: {path: w}\n":           "rpc_urls is empty",
		"rpc_urls: [nope]\n":                   "not a URL",
		"contexts: {a: {rpc_urls: [http://a:1]}, b: {rpc_urls: [http://b:1]}}":   "no default_context",
		"contexts: {a: {rpc_urls: [http://a:1]}}\ndefault_context: b\n":          "not among the contexts",
		"contexts: {a: {rpc_urls: [http://a:1]}}\nrpc_urls: [http://c:1]\n":      "both at the top level",
		"rpc_urls: [http://a:1]\ncommunication_config: {max_data_in_flight: -1}": "must not be negative",
		"[1, 2]": "cannot unmarshal",
	} {
		if _, err := ParseConfigFile([]byte(in)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", in, err, want)
		}
	}
}

func TestConfigSearch(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, "xdg"))
	t.Chdir(t.TempDir())
	if _, err := FindConfig(); err == nil {
		t.Fatal("found a config in an empty home")
	}
	want := filepath.Join(home, ".walrus", "client_config.yml")
	if err := os.MkdirAll(filepath.Dir(want), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(want, []byte("rpc_urls: [http://a:1]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := FindConfig(); err != nil || got != want {
		t.Fatalf("%s %v", got, err)
	}
	xdg := filepath.Join(home, "xdg", "walrus", "client_config.yaml")
	_ = os.MkdirAll(filepath.Dir(xdg), 0o700)
	_ = os.WriteFile(xdg, []byte("rpc_urls: [http://a:1]\n"), 0o600)
	if got, _ := FindConfig(); got != xdg {
		t.Fatalf("XDG first: %s", got)
	}
	_ = os.WriteFile("client_config.yaml", []byte("rpc_urls: [http://a:1]\n"), 0o600)
	if got, _ := FindConfig(); got != filepath.Join(".", "client_config.yaml") {
		t.Fatalf("the working directory first: %s", got)
	}
}

func FuzzParseConfigFile(f *testing.F) {
	f.Add([]byte(sampleConfig))
	f.Add([]byte("rpc_urls: [http://a:1]\n"))
	f.Add([]byte("contexts: {a: {rpc_urls: [http://a:1]}}\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		cf, err := ParseConfigFile(b)
		if err != nil {
			return
		}
		c, err := cf.Context("")
		if err != nil || c.Validate() != nil {
			t.Fatalf("a valid file whose default context fails: %v", err)
		}
		again, err := MarshalConfigFile(cf)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ParseConfigFile(again); err != nil {
			t.Fatalf("re-parse %q: %v", again, err)
		}
	})
}
