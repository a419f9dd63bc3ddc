// Package nodetls is the TLS identity of storage nodes, as Walrus has it.
// A node's identity is its network key, a P-256 key whose compressed form
// is registered on chain. By default a node serves a self-signed
// certificate for that key, naming itself <hex>.network.walrus.alt and its
// public host; an operator may serve a certificate from a public CA
// instead, so that browsers reach the node.
//
// Clients and peers pin the key the chain registered: a connection stands
// only if the node's certificate carries that key (the handshake proves
// the node holds it). Self-signed or issued by a CA, expired or not, the
// key decides, which is Walrus's rule; a CA cannot stand in for a node. A
// client that knows no key for an address (a URL typed by a user) falls
// back to the usual chain of trust for the host.
package nodetls

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"strings"
	"time"
)

// ErrKeyMismatch is the error of a node whose certificate carries another
// key than the one registered for it.
var ErrKeyMismatch = errors.New("nodetls: the node's certificate key is not the network key registered on chain")

// CompressedKey is the 33-byte compressed form of a P-256 public key, the
// form the chain registers.
func CompressedKey(pub *ecdsa.PublicKey) ([]byte, error) {
	if pub.Curve != elliptic.P256() {
		return nil, errors.New("nodetls: not a P-256 key")
	}
	k, err := pub.ECDH()
	if err != nil {
		return nil, fmt.Errorf("nodetls: not a P-256 key: %w", err)
	}
	raw := k.Bytes() // 0x04 ‖ X ‖ Y
	out := make([]byte, 33)
	out[0] = 2 | raw[64]&1
	copy(out[1:], raw[1:33])
	return out, nil
}

// ServerName is the name Walrus derives from a compressed network key:
// each of its first four bytes in lowercase hex without padding, then
// ".network.walrus.alt".
func ServerName(compressed []byte) string {
	var b strings.Builder
	for _, c := range compressed[:min(4, len(compressed))] {
		fmt.Fprintf(&b, "%x", c)
	}
	return b.String() + ".network.walrus.alt"
}

// SelfSigned is the certificate a node serves by default: self-signed with
// its network key, for ServerName(key) and host (a DNS name or an IP
// address; "" for none).
func SelfSigned(key *ecdsa.PrivateKey, host string, now time.Time) (tls.Certificate, error) {
	pub, err := CompressedKey(&key.PublicKey)
	if err != nil {
		return tls.Certificate{}, err
	}
	name := ServerName(pub)
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: name},
		DNSNames:     []string{name},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.AddDate(10, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if ip := net.ParseIP(host); ip != nil {
		tmpl.IPAddresses = []net.IP{ip}
	} else if host != "" {
		tmpl.DNSNames = append(tmpl.DNSNames, host)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("nodetls: self-signing: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, nil
}

// ServerConfig is a node's TLS configuration serving cert. It offers
// HTTP/1.1 only: bulk sliver uploads stream faster over one connection
// each than multiplexed under HTTP/2's flow-control windows.
func ServerConfig(cert tls.Certificate) *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12, NextProtos: []string{"http/1.1"}}
}

// LoadCertificate reads a PEM certificate chain for key (the node's
// network key, whose private half stays in its own file): an error wraps
// ErrKeyMismatch when the leaf carries another key.
func LoadCertificate(path string, key *ecdsa.PrivateKey) (tls.Certificate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return tls.Certificate{}, err
	}
	var cert tls.Certificate
	for {
		var block *pem.Block
		if block, b = pem.Decode(b); block == nil {
			break
		}
		if block.Type == "CERTIFICATE" {
			cert.Certificate = append(cert.Certificate, block.Bytes)
		}
	}
	if len(cert.Certificate) == 0 {
		return tls.Certificate{}, fmt.Errorf("nodetls: %s holds no PEM certificate", path)
	}
	if cert.Leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
		return tls.Certificate{}, fmt.Errorf("nodetls: %s: %w", path, err)
	}
	cert.PrivateKey = key
	if err := CheckCertificateKey(cert, key); err != nil {
		return tls.Certificate{}, err
	}
	return cert, nil
}

// CheckCertificateKey reports whether a certificate the operator gave
// carries the node's network key (a node refuses to start otherwise: no
// client would accept it).
func CheckCertificateKey(cert tls.Certificate, key *ecdsa.PrivateKey) error {
	leaf := cert.Leaf
	if leaf == nil {
		if len(cert.Certificate) == 0 {
			return errors.New("nodetls: the certificate file holds no certificate")
		}
		var err error
		if leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
			return fmt.Errorf("nodetls: parsing the certificate: %w", err)
		}
	}
	if pub, ok := leaf.PublicKey.(*ecdsa.PublicKey); !ok || !pub.Equal(&key.PublicKey) {
		return fmt.Errorf("%w: the certificate's key differs from network_key_pair", ErrKeyMismatch)
	}
	return nil
}

// ClientConfig is the TLS configuration of a connection to a node whose
// registered network key is pinned (compressed; nil when unknown: then
// the chain of trust to roots, nil for the system's, decides, for
// serverName).
func ClientConfig(pinned []byte, serverName string, roots *x509.CertPool) *tls.Config {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: serverName, RootCAs: roots}
	if pinned == nil {
		return cfg
	}
	want := append([]byte(nil), pinned...)
	// Go verifies chains before VerifyConnection; a pinned key replaces
	// that check, so it is skipped and VerifyConnection does the pinning.
	cfg.InsecureSkipVerify = true
	cfg.VerifyConnection = func(cs tls.ConnectionState) error { return verifyPinned(cs, want) }
	return cfg
}

// verifyPinned accepts a connection whose leaf certificate carries the
// pinned key. The handshake has already checked that the peer holds the
// private key of the leaf.
func verifyPinned(cs tls.ConnectionState, want []byte) error {
	if len(cs.PeerCertificates) == 0 {
		return fmt.Errorf("%w: the node sent no certificate", ErrKeyMismatch)
	}
	pub, ok := cs.PeerCertificates[0].PublicKey.(*ecdsa.PublicKey)
	if !ok {
		return fmt.Errorf("%w: the node's certificate key is not P-256", ErrKeyMismatch)
	}
	got, err := CompressedKey(pub)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrKeyMismatch, err)
	}
	if !equal(got, want) {
		return fmt.Errorf("%w: it presents %x, the chain registered %x", ErrKeyMismatch, got, want)
	}
	return nil
}

func equal(a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	var d byte
	for i := range a {
		d |= a[i] ^ b[i]
	}
	return d == 0
}
