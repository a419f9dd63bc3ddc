package node

import (
	"io"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/internal/nodetls"
	"github.com/walrus-go/walrus/nodeapi"
)

// peerPool is the node's clients of other nodes: a nodeapi.Pool whose
// shared HTTP client pins each peer's registered network key (the view
// keeps the pins in step with the committees) and counts the bytes
// received (the cost of recovery).
type peerPool struct {
	*nodeapi.Pool
	pins     *nodetls.Pins
	bytes    atomic.Int64 // for RecoveryStats
	received prometheus.Counter
}

func newPeerPool(p blob.Params, timeout time.Duration, plainHTTP bool, m *metrics) *peerPool {
	pp := &peerPool{received: m.recoveryBytes, pins: nodetls.NewPins()}
	base := http.DefaultTransport.(*http.Transport).Clone()
	base.MaxIdleConnsPerHost = 16
	hc := &http.Client{Timeout: timeout, Transport: &countingTransport{base: pp.pins.Transport(base), pool: pp}}
	pp.Pool = nodeapi.NewPool(nodeapi.ClientConfig{HTTP: hc, Params: p, PlainHTTP: plainHTTP})
	return pp
}

// count accounts for n bytes received.
func (pp *peerPool) count(n int) {
	pp.bytes.Add(int64(n))
	pp.received.Add(float64(n))
}

type countingTransport struct {
	base http.RoundTripper
	pool *peerPool
}

func (t *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	resp.Body = &countingReader{ReadCloser: resp.Body, pool: t.pool}
	return resp, nil
}

type countingReader struct {
	io.ReadCloser
	pool *peerPool
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	c.pool.count(n)
	return n, err
}
