package nodetls

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func newKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func compressed(t *testing.T, k *ecdsa.PrivateKey) []byte {
	t.Helper()
	c, err := CompressedKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// serve runs an HTTPS server on 127.0.0.1 with cert and returns its URL.
func serve(t *testing.T, cert tls.Certificate) string {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	srv.TLS = ServerConfig(cert)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv.URL
}

func get(url string, cfg *tls.Config) error {
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}, Timeout: 10 * time.Second}
	defer c.CloseIdleConnections()
	resp, err := c.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err == nil && string(b) != "ok" {
		err = errors.New("unexpected body " + string(b))
	}
	return err
}

func TestServerName(t *testing.T) {
	// Walrus formats each byte with {:x}: no zero padding.
	for in, want := range map[string]string{"\x02\xab\x0c\x00\xff": "2abc0.network.walrus.alt", "\x03\x10\x01\xfe": "3101fe.network.walrus.alt"} {
		if got := ServerName([]byte(in)); got != want {
			t.Errorf("ServerName(%x) = %q, want %q", in, got, want)
		}
	}
}

func TestPinnedKey(t *testing.T) {
	node, other := newKey(t), newKey(t)
	cert, err := SelfSigned(node, "127.0.0.1", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckCertificateKey(cert, node); err != nil {
		t.Fatal(err)
	}
	if err := CheckCertificateKey(cert, other); !errors.Is(err, ErrKeyMismatch) {
		t.Fatalf("a certificate checked against another key: %v", err)
	}
	url := serve(t, cert)
	if err := get(url, ClientConfig(compressed(t, node), "", nil)); err != nil {
		t.Fatalf("the registered key was refused: %v", err)
	}
	if err := get(url, ClientConfig(compressed(t, other), "", nil)); !errors.Is(err, ErrKeyMismatch) {
		t.Fatalf("a node presenting another key was accepted: %v", err)
	}
	// Without a pin, a self-signed certificate is not trusted.
	if err := get(url, ClientConfig(nil, "127.0.0.1", nil)); err == nil {
		t.Fatal("a self-signed certificate was trusted without a pin")
	}
	// An expired self-signed certificate of the pinned key still stands (Walrus's rule).
	old, err := SelfSigned(node, "127.0.0.1", time.Now().AddDate(-20, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	if err := get(serve(t, old), ClientConfig(compressed(t, node), "", nil)); err != nil {
		t.Fatalf("an expired certificate of the pinned key was refused: %v", err)
	}
}

// TestCAIssued: an operator's certificate from a CA passes the chain of
// trust for clients that know no key, and the pin only if it carries the
// network key.
func TestCAIssued(t *testing.T) {
	caKey, node, other := newKey(t), newKey(t), newKey(t)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	issue := func(k *ecdsa.PrivateKey) tls.Certificate {
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "node.example"}, DNSNames: []string{"node.example"},
			IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &k.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		return tls.Certificate{Certificate: [][]byte{der, caDER}, PrivateKey: k}
	}
	good := serve(t, issue(node))
	if err := get(good, ClientConfig(nil, "127.0.0.1", roots)); err != nil {
		t.Fatalf("the chain of trust was refused: %v", err)
	}
	if err := get(good, ClientConfig(compressed(t, node), "", nil)); err != nil {
		t.Fatalf("a CA certificate of the network key was refused: %v", err)
	}
	if err := get(serve(t, issue(other)), ClientConfig(compressed(t, node), "", roots)); !errors.Is(err, ErrKeyMismatch) {
		t.Fatalf("a CA certificate of another key passed the pin: %v", err)
	}
}

func TestCompressedKey(t *testing.T) {
	k := newKey(t)
	c := compressed(t, k)
	if len(c) != 33 || c[0] != 2 && c[0] != 3 {
		t.Fatalf("compressed key %x", c)
	}
	x, y := elliptic.UnmarshalCompressed(elliptic.P256(), c)
	if x == nil || x.Cmp(k.X) != 0 || y.Cmp(k.Y) != 0 {
		t.Fatal("the compressed key does not decompress to the key")
	}
	k384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if _, err := CompressedKey(&k384.PublicKey); err == nil {
		t.Fatal("a P-384 key was compressed")
	}
}

func TestPinsTransport(t *testing.T) {
	node, other := newKey(t), newKey(t)
	cert, err := SelfSigned(node, "127.0.0.1", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	url := serve(t, cert)
	addr := url[len("https://"):]
	pins := NewPins()
	c := &http.Client{Transport: pins.Transport(nil), Timeout: 10 * time.Second}
	defer c.CloseIdleConnections()
	fetch := func() error {
		resp, err := c.Get(url)
		if err != nil {
			return err
		}
		resp.Body.Close()
		return nil
	}
	if err := fetch(); err == nil {
		t.Fatal("an unpinned self-signed node was trusted")
	}
	pins.Set(addr, compressed(t, other))
	if err := fetch(); !errors.Is(err, ErrKeyMismatch) {
		t.Fatalf("a node presenting another key: %v", err)
	}
	pins.Set(addr, compressed(t, node))
	if err := fetch(); err != nil {
		t.Fatalf("the pinned node: %v", err)
	}
	if got := pins.Key(addr); !bytes.Equal(got, compressed(t, node)) {
		t.Fatalf("Key = %x", got)
	}
	pins.Set(addr, nil)
	if pins.Key(addr) != nil {
		t.Fatal("an empty key did not remove the pin")
	}
}

func TestLoadCertificate(t *testing.T) {
	node, other := newKey(t), newKey(t)
	cert, err := SelfSigned(node, "node.example", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "cert.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]}), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := LoadCertificate(path, node)
	if err != nil || got.Leaf == nil || got.PrivateKey != node {
		t.Fatalf("LoadCertificate: %+v %v", got, err)
	}
	if err := get(serve(t, got), ClientConfig(compressed(t, node), "", nil)); err != nil {
		t.Fatalf("serving the loaded certificate: %v", err)
	}
	if _, err := LoadCertificate(path, other); !errors.Is(err, ErrKeyMismatch) {
		t.Fatalf("a certificate for another key loaded: %v", err)
	}
	empty := filepath.Join(dir, "empty.pem")
	if err := os.WriteFile(empty, []byte("not pem"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadCertificate(empty, node); err == nil {
		t.Fatal("a file without a certificate loaded")
	}
}
