package node

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/walrus-go/walrus/chain/chainclient"
)

func TestConfigPathsRelativeToFile(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "conf")
	if err := os.MkdirAll(sub, 0o700); err != nil {
		t.Fatal(err)
	}
	c := &Config{Name: "n", StoragePath: "db", ProtocolKeyPair: KeyFile{"p.key"}, NetworkKeyPair: KeyFile{"/abs/n.key"},
		WalletPath: "w.json", PublicHost: "127.0.0.1", Chain: chainclient.Config{RPC: "http://127.0.0.1:1"}}
	path := filepath.Join(sub, "node_config.yaml")
	if err := WriteConfig(path, c); err != nil {
		t.Fatal(err)
	}
	got, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.StoragePath != filepath.Join(sub, "db") || got.ProtocolKeyPair.Path != filepath.Join(sub, "p.key") ||
		got.NetworkKeyPair.Path != "/abs/n.key" || got.WalletPath != filepath.Join(sub, "w.json") {
		t.Fatalf("paths %+v", got)
	}
	if got.PublicPort != DefaultRESTPort || got.RESTAPIAddress != "0.0.0.0:9185" || got.Recovery.MaxConcurrentBlobs == 0 {
		t.Fatalf("defaults %+v", got)
	}
	if got.PublicAddress() != "127.0.0.1:9185" {
		t.Fatal(got.PublicAddress())
	}
}

func TestConfigValidateReportsEverything(t *testing.T) {
	c := &Config{PublicPort: 70000, CommissionRate: 20000}
	err := c.Validate()
	for _, want := range []string{"name", "storage_path", "protocol_key_pair", "network_key_pair", "wallet_path", "public_host", "chain.rpc", "public_port", "commission_rate"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate does not report %s: %v", want, err)
		}
	}
	// Unknown fields are an error, not silently ignored.
	path := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(path, []byte("name: x\nstorage_pth: db\n"), 0o600)
	if _, err := LoadConfig(path); err == nil || !strings.Contains(err.Error(), "storage_pth") {
		t.Fatalf("unknown field: %v", err)
	}
}

func TestKeysRoundTrip(t *testing.T) {
	dir := t.TempDir()
	k, err := GenerateKeys(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &Config{ProtocolKeyPair: KeyFile{filepath.Join(dir, "p")}, NetworkKeyPair: KeyFile{filepath.Join(dir, "n")}, WalletPath: filepath.Join(dir, "w")}
	if err := WriteKeys(k, c.ProtocolKeyPair.Path, c.NetworkKeyPair.Path, c.WalletPath); err != nil {
		t.Fatal(err)
	}
	if err := WriteKeys(k, c.ProtocolKeyPair.Path, c.NetworkKeyPair.Path, c.WalletPath); err == nil {
		t.Fatal("keys overwritten")
	}
	got, err := LoadKeys(c)
	if err != nil {
		t.Fatal(err)
	}
	if got.Protocol.PublicKey().Bytes() != k.Protocol.PublicKey().Bytes() || !got.Network.Equal(k.Network) || !got.Account.Equal(k.Account) {
		t.Fatal("keys differ after the round trip")
	}
	if pk := got.NetworkPublicKey(); len(pk) != 33 || pk[0] != 2 && pk[0] != 3 {
		t.Fatalf("network public key %x", pk)
	}
	os.WriteFile(c.WalletPath, []byte(`["AAAA"]`), 0o600)
	if _, err := LoadWallet(c.WalletPath); !errors.Is(err, ErrKeyFile) {
		t.Fatalf("bad wallet: %v", err)
	}
	os.WriteFile(c.ProtocolKeyPair.Path, []byte("not base64!"), 0o600)
	if _, err := LoadProtocolKey(c.ProtocolKeyPair.Path); !errors.Is(err, ErrKeyFile) {
		t.Fatalf("bad protocol key: %v", err)
	}
}
