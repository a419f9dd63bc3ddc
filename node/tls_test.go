package node_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/walrus-go/walrus/client"
	"github.com/walrus-go/walrus/internal/nodetls"
	"github.com/walrus-go/walrus/internal/sdkinternal"
	"github.com/walrus-go/walrus/internal/testnet"
	"github.com/walrus-go/walrus/node"
)

// writeNetworkKey replaces a node's network key file with a new key.
func writeNetworkKey(t *testing.T, path string) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return k
}

// TestTLSKeyPinning: nodes serve TLS for their registered network key; a
// node that presents another key is refused by clients and by its peers,
// with ErrKeyMismatch, while the others keep answering.
func TestTLSKeyPinning(t *testing.T) {
	net := testnet.Start(t, testnet.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// Plain HTTP gets nowhere: the API is TLS.
	resp, err := http.Get("http://" + net.Address(1) + "/v1/health")
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Fatal("the node answered plain HTTP")
		}
	}
	c1, err := sdkinternal.Node(net.Client, net.Address(1))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c1.Health(ctx, false); err != nil {
		t.Fatalf("the client cannot reach a node by its registered key: %v", err)
	}
	if err := net.StopNode(1); err != nil {
		t.Fatal(err)
	}
	writeNetworkKey(t, filepath.Join(net.NodeDir(1), "network.key"))
	if err := net.StartNode(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := c1.Health(ctx, false); !errors.Is(err, nodetls.ErrKeyMismatch) {
		t.Fatalf("a client reached a node presenting another key: %v", err)
	}
	peer, err := net.Node(0).PeerForTest(net.Address(1))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := peer.Health(ctx, false); !errors.Is(err, nodetls.ErrKeyMismatch) {
		t.Fatalf("a peer reached a node presenting another key: %v", err)
	}
	good, err := net.Node(0).PeerForTest(net.Address(2))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := good.Health(ctx, false); err != nil {
		t.Fatalf("a peer with its registered key was refused: %v", err)
	}
	if _, err := net.Client.Store(ctx, randomBytes(5000, 9), client.StoreOptions{Epochs: 2}); err != nil {
		t.Fatalf("a store with one refused node of four: %v", err)
	}
}

// TestTLSOperatorCertificate: a node refuses to start with a certificate
// that does not carry its network key, saying so.
func TestTLSOperatorCertificate(t *testing.T) {
	dir := t.TempDir()
	other, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := nodetls.SelfSigned(other, "127.0.0.1", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	certPath := filepath.Join(dir, "cert.pem")
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]}), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	n, err := testnet.New(ctx, testnet.Config{Dir: filepath.Join(dir, "net"), NodeConfig: func(i int, c *node.Config) {
		if i == 0 {
			c.TLS.CertificatePath = certPath
		}
	}})
	if err == nil {
		n.Close()
		t.Fatal("a node started with a certificate for another key")
	}
	if !errors.Is(err, nodetls.ErrKeyMismatch) || !strings.Contains(err.Error(), "certificate_path") {
		t.Fatalf("unclear error: %v", err)
	}
}
