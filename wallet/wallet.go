// Package wallet reads and writes account keys in the Sui keystore format
// that Walrus wallets use: a JSON array of base64 strings, each a flag byte
// (0x00 for ed25519) followed by the 32-byte private key seed. The
// account's address is Sui's: BLAKE2b-256(0x00 ‖ public key). A Sui
// ed25519 key therefore gives the same address here.
package wallet

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/walrus-go/walrus/ids"
)

// ErrInvalid: the bytes are not a keystore with an ed25519 key.
var ErrInvalid = errors.New("wallet: not a Sui keystore with an ed25519 key")

// flagEd25519 is Sui's signature-scheme flag of ed25519.
const flagEd25519 = 0x00

// maxSize bounds a keystore file (thousands of keys).
const maxSize = 1 << 20

// Parse returns the ed25519 keys of a keystore, in file order. Entries of
// other schemes (secp256k1, secp256r1) are skipped; a keystore without an
// ed25519 key, or with a malformed entry, is ErrInvalid.
func Parse(b []byte) ([]ed25519.PrivateKey, error) {
	if len(b) > maxSize {
		return nil, fmt.Errorf("%w: %d bytes", ErrInvalid, len(b))
	}
	var entries []string
	if err := json.Unmarshal(b, &entries); err != nil {
		return nil, fmt.Errorf("%w: want a JSON array of base64 strings", ErrInvalid)
	}
	var keys []ed25519.PrivateKey
	for i, e := range entries {
		raw, err := base64.StdEncoding.DecodeString(e)
		if err != nil || len(raw) != 33 {
			return nil, fmt.Errorf("%w: entry %d is not base64 of a flag and a 32-byte key", ErrInvalid, i)
		}
		if raw[0] == flagEd25519 {
			keys = append(keys, ed25519.NewKeyFromSeed(raw[1:]))
		}
	}
	if len(keys) == 0 {
		return nil, ErrInvalid
	}
	return keys, nil
}

// Marshal encodes keys as a keystore.
func Marshal(keys ...ed25519.PrivateKey) []byte {
	entries := make([]string, len(keys))
	for i, k := range keys {
		entries[i] = base64.StdEncoding.EncodeToString(append([]byte{flagEd25519}, k.Seed()...))
	}
	b, _ := json.Marshal(entries)
	return append(b, '\n')
}

// Load reads a keystore file and returns its first ed25519 key.
func Load(path string) (ed25519.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	keys, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return keys[0], nil
}

// Generate makes a new key from r (nil: crypto/rand).
func Generate(r io.Reader) (ed25519.PrivateKey, error) {
	if r == nil {
		r = rand.Reader
	}
	_, k, err := ed25519.GenerateKey(r)
	return k, err
}

// Create writes a keystore with a new key to path (mode 0600, directories
// made as needed); it never overwrites an existing file.
func Create(path string) (ed25519.PrivateKey, error) {
	k, err := Generate(nil)
	if err != nil {
		return nil, err
	}
	return k, Write(path, k)
}

// Write writes a keystore holding k to path, refusing to overwrite.
func Write(path string, k ed25519.PrivateKey) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("wallet: %s exists; not overwriting a key", path)
		}
		return err
	}
	if _, err := f.Write(Marshal(k)); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Address is the Sui address of a key.
func Address(k ed25519.PrivateKey) ids.Address {
	return ids.AddressOf(k.Public().(ed25519.PublicKey))
}
