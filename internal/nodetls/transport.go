package nodetls

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/walrus-go/walrus/committee"
)

// Pins are the network keys registered for node addresses ("host:port"),
// kept up to date from the committees. They are safe for concurrent use.
type Pins struct {
	mu   sync.RWMutex
	keys map[string][]byte
	// Roots verify nodes without a pinned key (nil: the system's).
	Roots *x509.CertPool
}

// NewPins returns an empty set of pins.
func NewPins() *Pins { return &Pins{keys: map[string][]byte{}} }

// Set pins key (compressed P-256) for address; an empty key removes it.
func (p *Pins) Set(address string, key []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(key) == 0 {
		delete(p.keys, address)
		return
	}
	p.keys[address] = append([]byte(nil), key...)
}

// Key is the key pinned for address (nil: none).
func (p *Pins) Key(address string) []byte {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.keys[address]
}

// Config is the client TLS configuration for a connection to address.
func (p *Pins) Config(address string) *tls.Config {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		host = address
	}
	return ClientConfig(p.Key(address), host, p.Roots)
}

// DialTLSContext dials address over TLS with its pin (an http.Transport's
// DialTLSContext). A node whose certificate carries another key than the
// one pinned fails the handshake with ErrKeyMismatch.
func (p *Pins) DialTLSContext(ctx context.Context, network, address string) (net.Conn, error) {
	d := &tls.Dialer{NetDialer: &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}, Config: p.Config(address)}
	return d.DialContext(ctx, network, address)
}

// Transport returns base (nil: a clone of http.DefaultTransport) with
// its TLS connections pinned by p. base is not modified.
func (p *Pins) Transport(base *http.Transport) *http.Transport {
	if base == nil {
		base = http.DefaultTransport.(*http.Transport)
	}
	t := base.Clone()
	t.DialTLSContext = p.DialTLSContext
	return t
}

// Committees pins the registered key of every member of the committees
// (nil ones are skipped) at its network address.
func (p *Pins) Committees(cs ...*committee.Committee) {
	for _, c := range cs {
		if c == nil {
			continue
		}
		for _, m := range c.Members() {
			if m.NetworkAddress != "" {
				p.Set(m.NetworkAddress, m.NetworkPublicKey)
			}
		}
	}
}
