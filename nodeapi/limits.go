package nodeapi

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"time"

	"github.com/walrus-go/walrus/internal/httpx"
)

// ReasonRateLimited is the reason of a 429 RESOURCE_EXHAUSTED answer: the
// client (its IP address) sent more requests of a route class than its
// token bucket allows. The answer carries Retry-After.
const ReasonRateLimited = "RATE_LIMIT_EXCEEDED"

// LimitsConfig bounds what clients may take of a node: connections,
// requests in flight, per-client request rates on the expensive routes,
// and how slowly a request body or an answer may move. Zero values take
// the defaults, which a public node can run with; a negative value turns
// a limit off (where the field says so).
type LimitsConfig struct {
	// MaxConnections bounds the connections the node holds (default
	// 4096; negative: none). At the bound, a new connection takes the
	// place of the connection that has been idle (kept alive between
	// requests) longest, or, when none is idle, is closed at once.
	MaxConnections int `yaml:"max_connections,omitempty"`
	// MaxConnectionsPerIP bounds the connections of one client address (an
	// IPv6 client is its /64); a connection above it is closed at once
	// (default 256; negative: none).
	MaxConnectionsPerIP int `yaml:"max_connections_per_ip,omitempty"`
	// MaxConcurrentRequests bounds the requests being answered at once,
	// all routes but /v1/health (default 1024; negative: none). Above it a
	// request is refused with 503 UNAVAILABLE and Retry-After.
	MaxConcurrentRequests int `yaml:"max_concurrent_requests,omitempty"`
	// ReadHeaderTimeout bounds the TLS handshake and then each request's
	// header (default 10s; negative: none).
	ReadHeaderTimeout time.Duration `yaml:"read_header_timeout,omitempty"`
	// IdleTimeout is how long a connection is kept alive between requests
	// (default 2m; negative: until the client closes it).
	IdleTimeout time.Duration `yaml:"idle_timeout,omitempty"`
	// MaxHeaderBytes bounds a request's header (default 16 KiB; Walrus's
	// requests send a few hundred bytes).
	MaxHeaderBytes int `yaml:"max_header_bytes,omitempty"`
	// MinTransferRate is the slowest average rate, in bytes per second, at
	// which a client may send a request body or read an answer (default
	// 64 KiB/s; negative: none). Only the time the node spends waiting on
	// the client counts, and TransferGrace comes on top: a body of s bytes
	// may keep the node waiting TransferGrace + s/MinTransferRate. A client
	// that falls behind has its connection closed.
	MinTransferRate int64 `yaml:"min_transfer_rate,omitempty"`
	// TransferGrace is the waiting allowed beyond MinTransferRate, for
	// latency and stalls (default 10s).
	TransferGrace time.Duration `yaml:"transfer_grace,omitempty"`
	// MaxClients bounds the client addresses whose token buckets are kept
	// (default 65536, about 200 bytes each). A client idle long enough for
	// its buckets to refill is forgotten at no cost; beyond MaxClients the
	// least recently seen one is.
	MaxClients int `yaml:"max_clients,omitempty"`
	// Health limits GET /v1/health (default 100/s per client, bursts of
	// 200, 64 at once). It is outside MaxConcurrentRequests, so that a
	// busy node still answers it.
	Health RouteLimit `yaml:"health,omitempty"`
	// SliverReads limits GET of a sliver (default 500/s per client, bursts
	// of 1000).
	SliverReads RouteLimit `yaml:"sliver_reads,omitempty"`
	// Symbols limits recoverySymbols, decodingSymbols and inconsistency
	// proofs (default 100/s per client, bursts of 200, 64 at once).
	Symbols RouteLimit `yaml:"symbols,omitempty"`
	// Uploads limits PUT of metadata, a sliver and a sliver batch (default
	// 500/s per client, bursts of 1000, 128 at once). An upload above
	// MaxConcurrent waits for a slot up to the API's upload_wait, parked
	// with its body unread, before it is refused with 503.
	Uploads RouteLimit `yaml:"uploads,omitempty"`
	// Confirmations limits the confirmation requests, which may long-poll
	// (default 100/s per client, bursts of 200, 256 at once).
	Confirmations RouteLimit `yaml:"confirmations,omitempty"`
}

// RouteLimit limits a class of routes: a token bucket per client address
// that refills at Rate requests per second and holds Burst (over it: 429
// RESOURCE_EXHAUSTED with Retry-After), and the requests of the class in
// flight on the whole node (over it: 503 UNAVAILABLE with Retry-After).
type RouteLimit struct {
	// Rate is the requests per second a client may sustain (0: the
	// class's default; negative: no bucket).
	Rate float64 `yaml:"rate,omitempty"`
	// Burst is the bucket's size (0: twice Rate, at least 1).
	Burst int `yaml:"burst,omitempty"`
	// MaxConcurrent bounds the class's requests in flight (0: the class's
	// default; negative: none).
	MaxConcurrent int `yaml:"max_concurrent,omitempty"`
}

// class is a class of routes that share limits. The classes with a
// token bucket come first (numRated of them).
type class uint8

const (
	classHealth class = iota
	classSliverReads
	classSymbols
	classUploads
	classConfirmations
	numRated
	classOther = numRated // every other route: only MaxConcurrentRequests
	numClasses = classOther + 1
)

var classNames = [numClasses]string{"health", "sliver_reads", "symbols", "uploads", "confirmations", "other"}

func (c class) String() string { return classNames[c] }

// routeDefaults are each rated class's default rate and concurrency
// (negative: none).
var routeDefaults = [numRated]RouteLimit{
	classHealth:        {Rate: 100, MaxConcurrent: 64},
	classSliverReads:   {Rate: 500, MaxConcurrent: -1},
	classSymbols:       {Rate: 100, MaxConcurrent: 64},
	classUploads:       {Rate: 500, MaxConcurrent: 128},
	classConfirmations: {Rate: 100, MaxConcurrent: 256},
}

// routes returns the rated classes' limits, by class.
func (c *LimitsConfig) routes() [numRated]*RouteLimit {
	return [numRated]*RouteLimit{&c.Health, &c.SliverReads, &c.Symbols, &c.Uploads, &c.Confirmations}
}

// withDefaults fills zero fields.
func (c LimitsConfig) withDefaults() LimitsConfig {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	defDuration := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	def(&c.MaxConnections, 4096)
	def(&c.MaxConnectionsPerIP, 256)
	def(&c.MaxConcurrentRequests, 1024)
	def(&c.MaxHeaderBytes, 16<<10)
	def(&c.MaxClients, 65536)
	defDuration(&c.ReadHeaderTimeout, 10*time.Second)
	defDuration(&c.IdleTimeout, 2*time.Minute)
	defDuration(&c.TransferGrace, 10*time.Second)
	if c.MinTransferRate == 0 {
		c.MinTransferRate = 64 << 10
	}
	for i, r := range c.routes() {
		d := routeDefaults[i]
		if r.Rate == 0 {
			r.Rate = d.Rate
		}
		if r.Burst == 0 && r.Rate > 0 {
			r.Burst = int(max(1, math.Ceil(2*r.Rate)))
		}
		def(&r.MaxConcurrent, d.MaxConcurrent)
	}
	return c
}

// validate reports every problem of the limits.
func (c *LimitsConfig) validate() []error {
	var errs []error
	neg := func(name string, bad bool) {
		if bad {
			errs = append(errs, fmt.Errorf("nodeapi: limits.%s must not be negative", name))
		}
	}
	neg("max_header_bytes", c.MaxHeaderBytes < 0)
	neg("max_clients", c.MaxClients < 0)
	neg("transfer_grace", c.TransferGrace < 0)
	for i, r := range c.routes() {
		neg(classNames[i]+".burst", r.Burst < 0)
		if math.IsNaN(r.Rate) || math.IsInf(r.Rate, 0) {
			errs = append(errs, fmt.Errorf("nodeapi: limits.%s.rate must be a number", classNames[i]))
		}
	}
	return errs
}

// Limits returns the server's limits, defaults filled in.
func (s *Server) Limits() LimitsConfig { return s.cfg.Limits }

// ConfigureHTTPServer sets on srv what the limits ask of the http.Server
// that serves Handler: ReadHeaderTimeout (net/http also bounds a TLS
// handshake by it, when the listener's connections are *tls.Conn),
// IdleTimeout, MaxHeaderBytes, and the ConnState hook that tells the
// connection limit of LimitListener which connections are idle.
func (s *Server) ConfigureHTTPServer(srv *http.Server) {
	l := s.cfg.Limits
	srv.ReadHeaderTimeout = max(l.ReadHeaderTimeout, 0)
	// Zero, for a limit turned off, makes net/http fall back to
	// ReadTimeout, which the node does not set: no timeout.
	srv.IdleTimeout = max(l.IdleTimeout, 0)
	srv.MaxHeaderBytes = l.MaxHeaderBytes
	srv.ConnState = s.connState
}

// gate bounds the requests in flight of a class: a request above the
// bound waits up to wait for a slot (parked, its body unread, so that
// the client's own sending is held back by TCP), or is refused at once
// when wait is zero. A nil gate admits everything.
type gate struct {
	slots chan struct{}
	wait  time.Duration
}

func newGate(n int, wait time.Duration) *gate {
	if n <= 0 {
		return nil
	}
	return &gate{slots: make(chan struct{}, n), wait: max(wait, 0)}
}

// enter takes a slot, waiting at most the gate's wait or until ctx ends.
func (g *gate) enter(ctx context.Context) bool {
	if g == nil {
		return true
	}
	select {
	case g.slots <- struct{}{}:
		return true
	default:
	}
	if g.wait == 0 {
		return false
	}
	t := time.NewTimer(g.wait)
	defer t.Stop()
	select {
	case g.slots <- struct{}{}:
		return true
	case <-t.C:
		return false
	case <-ctx.Done():
		return false
	}
}

// leave gives back a slot that enter took.
func (g *gate) leave() {
	if g != nil {
		<-g.slots
	}
}

// limits are the server's request limits: the per-client buckets and
// the gates of the node and of each class.
type limits struct {
	rates   *rateTable // nil: no class has a bucket
	all     *gate      // every class but health
	classes [numClasses]*gate
	metrics *limitMetrics
}

// newLimits builds the limits of c. Uploads above their class's bound
// wait up to uploadWait, as for room under MaxUploadBytesInFlight; the
// other gates refuse at once.
func newLimits(c LimitsConfig, uploadWait time.Duration, m *limitMetrics) *limits {
	l := &limits{rates: newRateTable(c, time.Now), all: newGate(c.MaxConcurrentRequests, 0), metrics: m}
	for i, r := range c.routes() {
		var wait time.Duration
		if class(i) == classUploads {
			wait = uploadWait
		}
		l.classes[i] = newGate(r.MaxConcurrent, wait)
	}
	return l
}

// limited applies the limits of class c to a handler: the client's
// token bucket (429), then the class's room for requests in flight and
// the node's (503, with Retry-After). The class's gate comes first, so
// that uploads waiting for a slot of their own do not hold the node's
// slots that other requests need.
func (s *Server) limited(c class, h httpx.HandlerFunc) httpx.HandlerFunc {
	l := s.limits
	return func(w http.ResponseWriter, r *http.Request) error {
		if c < numRated {
			if wait, ok := l.rates.take(c, clientKey(r.RemoteAddr)); !ok {
				l.metrics.refused(c, "rate")
				return errRateLimited(c, wait)
			}
		}
		g := l.classes[c]
		if !g.enter(r.Context()) {
			l.metrics.refused(c, "max_concurrent")
			return errBusy(fmt.Sprintf("the node is answering too many %s requests", classNames[c]))
		}
		defer g.leave()
		if c != classHealth {
			if !l.all.enter(r.Context()) {
				l.metrics.refused(c, "max_concurrent_requests")
				return errBusy("the node is answering too many requests")
			}
			defer l.all.leave()
		}
		return h(w, r)
	}
}

// errRateLimited is the answer to a client over its bucket: 429
// RESOURCE_EXHAUSTED, with the whole seconds until a token is back.
func errRateLimited(c class, wait time.Duration) *Error {
	e := newError(httpx.StatusResourceExhausted, ReasonRateLimited,
		fmt.Sprintf("too many %s requests from this client; retry later", classNames[c]), map[string]any{"limit": classNames[c]})
	e.RetryAfter = int(max(1, math.Ceil(wait.Seconds())))
	return e
}

// errBusy is the answer to a request above a bound of the node: 503
// UNAVAILABLE, to be tried again in a second.
func errBusy(msg string) *Error {
	e := httpx.Unavailable(msg)
	e.RetryAfter = 1
	return e
}

// errTooSlow is the error of a body read or an answer write that fell
// behind the minimum transfer rate; the connection is closed after it.
var errTooSlow = errors.New("nodeapi: the client transfers more slowly than the node's minimum rate")
