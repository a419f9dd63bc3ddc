package node

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/walrus-go/walrus/bls"
	"github.com/walrus-go/walrus/internal/fsutil"
)

// Key files:
//   - protocol key: standard base64 of the 32-byte BLS12-381 secret key;
//   - network key: a PKCS#8 PEM P-256 private key (Walrus's network keys are
//     secp256r1); its public key is registered compressed (33 bytes);
//   - wallet: a Sui-style keystore, a JSON array of base64 strings each
//     0x00 ‖ 32-byte ed25519 seed; the first key is the node's account.

// ErrKeyFile: a key file does not hold a key of the expected kind.
var ErrKeyFile = errors.New("node: invalid key file")

// Keys are a node's three keys.
type Keys struct {
	Protocol *bls.SecretKey
	Network  *ecdsa.PrivateKey
	Account  ed25519.PrivateKey
}

// GenerateKeys makes fresh keys from r (nil: crypto/rand).
func GenerateKeys(r io.Reader) (*Keys, error) {
	if r == nil {
		r = rand.Reader
	}
	p, err := bls.GenerateKey(r)
	if err != nil {
		return nil, err
	}
	seed := make([]byte, 32)
	if _, err := io.ReadFull(r, seed); err != nil {
		return nil, err
	}
	n, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	return &Keys{Protocol: p, Network: n, Account: ed25519.NewKeyFromSeed(seed)}, nil
}

// NetworkPublicKey is the compressed P-256 public key registered on chain.
func (k *Keys) NetworkPublicKey() []byte {
	return compressP256(&k.Network.PublicKey)
}

func compressP256(pk *ecdsa.PublicKey) []byte {
	ecdh, err := pk.ECDH()
	if err != nil {
		return nil
	}
	raw := ecdh.Bytes() // 0x04 ‖ X ‖ Y
	out := make([]byte, 33)
	out[0] = 2 | raw[64]&1
	copy(out[1:], raw[1:33])
	return out
}

// WriteKeys writes the three key files (mode 0600), refusing to overwrite
// existing ones.
func WriteKeys(k *Keys, protocolPath, networkPath, walletPath string) error {
	pb := k.Protocol.Bytes()
	der, err := x509.MarshalPKCS8PrivateKey(k.Network)
	if err != nil {
		return err
	}
	wallet, _ := json.Marshal([]string{base64.StdEncoding.EncodeToString(append([]byte{0}, k.Account.Seed()...))})
	files := []struct {
		path string
		data []byte
	}{
		{protocolPath, []byte(base64.StdEncoding.EncodeToString(pb[:]) + "\n")},
		{networkPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})},
		{walletPath, append(wallet, '\n')},
	}
	for _, f := range files {
		if _, err := os.Stat(f.path); err == nil {
			return fmt.Errorf("node: %s exists; not overwriting a key", f.path)
		}
	}
	for _, f := range files {
		if err := fsutil.WriteFileAtomic(f.path, f.data, 0o600); err != nil {
			return err
		}
	}
	return nil
}

// LoadKeys reads the key files a configuration names.
func LoadKeys(c *Config) (*Keys, error) {
	p, err := LoadProtocolKey(c.ProtocolKeyPair.Path)
	if err != nil {
		return nil, err
	}
	n, err := LoadNetworkKey(c.NetworkKeyPair.Path)
	if err != nil {
		return nil, err
	}
	a, err := LoadWallet(c.WalletPath)
	if err != nil {
		return nil, err
	}
	return &Keys{Protocol: p, Network: n, Account: a}, nil
}

// LoadProtocolKey reads a BLS protocol key file.
func LoadProtocolKey(path string) (*bls.SecretKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrKeyFile, path, err)
	}
	k, err := bls.SecretKeyFromBytes(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrKeyFile, path, err)
	}
	return k, nil
}

// LoadNetworkKey reads a PEM P-256 network key.
func LoadNetworkKey(path string) (*ecdsa.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, fmt.Errorf("%w: %s: no PEM block", ErrKeyFile, path)
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrKeyFile, path, err)
	}
	ek, ok := k.(*ecdsa.PrivateKey)
	if !ok || ek.Curve != elliptic.P256() {
		return nil, fmt.Errorf("%w: %s: not a P-256 key", ErrKeyFile, path)
	}
	return ek, nil
}

// LoadWallet reads the first key of a Sui-style keystore.
func LoadWallet(path string) (ed25519.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var keys []string
	if err := json.Unmarshal(b, &keys); err != nil || len(keys) == 0 {
		return nil, fmt.Errorf("%w: %s: want a JSON array of base64 keys", ErrKeyFile, path)
	}
	raw, err := base64.StdEncoding.DecodeString(keys[0])
	if err != nil || len(raw) != 33 || raw[0] != 0 {
		return nil, fmt.Errorf("%w: %s: want base64(0x00 ‖ 32-byte ed25519 seed)", ErrKeyFile, path)
	}
	return ed25519.NewKeyFromSeed(raw[1:]), nil
}
