package node

import (
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/nodeapi"
)

// peerClients are the node's clients of other nodes, sharing one HTTP
// client whose transport counts the bytes received (the cost of recovery).
type peerClients struct {
	params  blob.Params
	hc      *http.Client
	bytes   atomic.Int64
	metrics *metrics

	mu      sync.Mutex
	clients map[string]*nodeapi.Client
}

func newPeerClients(p blob.Params, timeout time.Duration, m *metrics) *peerClients {
	pc := &peerClients{params: p, metrics: m, clients: map[string]*nodeapi.Client{}}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 16
	pc.hc = &http.Client{Timeout: timeout, Transport: &countingTransport{base: tr, pc: pc}}
	return pc
}

func (pc *peerClients) get(address string) (*nodeapi.Client, error) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if c := pc.clients[address]; c != nil {
		return c, nil
	}
	c, err := nodeapi.NewClient(address, nodeapi.ClientConfig{HTTP: pc.hc, Params: pc.params})
	if err != nil {
		return nil, err
	}
	pc.clients[address] = c
	return c, nil
}

func (pc *peerClients) close() { pc.hc.CloseIdleConnections() }

type countingTransport struct {
	base http.RoundTripper
	pc   *peerClients
}

func (t *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	resp.Body = &countingReader{ReadCloser: resp.Body, pc: t.pc}
	return resp, nil
}

type countingReader struct {
	io.ReadCloser
	pc *peerClients
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	c.pc.bytes.Add(int64(n))
	c.pc.metrics.recoveryBytes.Add(float64(n))
	return n, err
}
