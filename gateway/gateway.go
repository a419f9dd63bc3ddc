package gateway

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/sync/singleflight"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/blocklist"
	"github.com/walrus-go/walrus/client"
	"github.com/walrus-go/walrus/internal/clock"
	"github.com/walrus-go/walrus/internal/httpx"
	"github.com/walrus-go/walrus/quilt"
)

// Deps are what a Server is built on.
type Deps struct {
	// Client reads blobs and is the publisher's main wallet: it funds the
	// sub-wallets and receives the Blob objects they create.
	Client *client.Client
	// Key is the main wallet's key; sub-wallets are derived from it unless
	// Config.Wallets.Dir is set (publisher only).
	Key ed25519.PrivateKey
	// Logger receives the gateway's logs (nil: discarded).
	Logger *slog.Logger
	// Registry receives the metrics and is served on the metrics address
	// (nil: a registry of the server's own).
	Registry *prometheus.Registry
	// Now is the clock (nil: time.Now).
	Now func() time.Time
}

// Server is an aggregator and/or publisher. Start it, then Close it.
type Server struct {
	cfg     Config
	c       *client.Client
	log     *slog.Logger
	now     func() time.Time
	reg     *prometheus.Registry
	metrics *metrics
	handler http.Handler

	agg, pub  *limiter
	block     *blocklist.List
	auth      *authenticator
	wallets   *wallets
	owned     *ownedBlobs     // the main wallet's Blob objects, for reuse
	allowed   map[string]bool // canonical header names
	flight    singleflight.Group
	blobs     *cache[blob.ID, *blobEntry]
	patches   *cache[quilt.PatchID, *patchEntry]
	indexes   *cache[blob.ID, *indexEntry]
	readers   *cache[blob.ID, *client.QuiltReader]
	infos     *cache[blob.ID, blobInfo]
	listeners []net.Listener
	servers   []*http.Server
	cancel    context.CancelFunc
	wg        sync.WaitGroup
}

// New builds a server (the publisher's sub-wallets are made and funded
// here). It does not listen yet: see Start.
func New(ctx context.Context, cfg Config, deps Deps) (*Server, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if deps.Client == nil {
		return nil, errors.New("gateway: no client")
	}
	s := &Server{cfg: cfg, c: deps.Client, log: deps.Logger, now: deps.Now, reg: deps.Registry}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.reg == nil {
		s.reg = prometheus.NewRegistry()
	}
	var err error
	if s.metrics, err = newMetrics(s.reg); err != nil {
		return nil, err
	}
	if s.block, err = blocklist.Load(cfg.BlocklistPath); err != nil {
		return nil, err
	}
	if cfg.Auth != nil {
		if s.auth, err = newAuthenticator(*cfg.Auth, s.now); err != nil {
			return nil, err
		}
	}
	s.allowed = map[string]bool{}
	for _, h := range cfg.AllowedHeaders {
		s.allowed[http.CanonicalHeaderKey(h)] = true
	}
	s.agg = newLimiter("aggregator", cfg.AggregatorConcurrency, cfg.AggregatorBuffer)
	s.pub = newLimiter("publisher", cfg.PublisherConcurrency, cfg.PublisherBuffer)
	s.blobs = newCache[blob.ID, *blobEntry](cfg.CacheSize, s.now)
	s.patches = newCache[quilt.PatchID, *patchEntry](cfg.CacheSize/4, s.now)
	s.indexes = newCache[blob.ID, *indexEntry](cfg.CacheSize/8, s.now)
	s.readers = newCache[blob.ID, *client.QuiltReader](cfg.CacheSize/8, s.now)
	s.infos = newCache[blob.ID, blobInfo](1<<20, s.now)
	if cfg.Publisher {
		wc := cfg.Wallets.withDefaults()
		if wc.Client.TempDir == "" {
			wc.Client.TempDir = cfg.TempDir
		}
		keys, err := SubWalletKeys(deps.Key, wc.N, wc.Dir)
		if err != nil {
			return nil, err
		}
		if s.wallets, err = newWallets(ctx, wc, s.c, keys, s.log); err != nil {
			return nil, err
		}
		s.owned = newOwnedBlobs()
		s.loadOwned(ctx)
	}
	s.handler = s.routes()
	return s, nil
}

// Handler is the HTTP API (for tests and embedding).
func (s *Server) Handler() http.Handler { return s.handler }

// Registry is the server's metrics registry.
func (s *Server) Registry() *prometheus.Registry { return s.reg }

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	handle := func(pattern string, h httpx.HandlerFunc) {
		mux.Handle(pattern, s.instrument(pattern, h))
	}
	handle("GET /status", func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("OK"))
		return nil
	})
	handle("GET /v1/api", s.getAPI)
	if s.cfg.Aggregator {
		handle("GET /v1/blobs/{blob_id}", s.limited(s.agg, s.getBlob))
		handle("GET /v1/blobs/{first}/{second}", s.limited(s.agg, s.getBlobSub))
		handle("GET /v1/blobs/by-quilt-id/{quilt_id}/{identifier...}", s.limited(s.agg, s.getPatchByIdentifier))
		handle("GET /v1/quilts/{quilt_id}/patches", s.limited(s.agg, s.listPatches))
	}
	if s.cfg.Publisher {
		handle("PUT /v1/blobs", s.guardBody(s.cfg.MaxBodySize, s.limited(s.pub, s.putBlob)))
		handle("PUT /v1/quilts", s.guardBody(s.cfg.MaxQuiltBodySize, s.limited(s.pub, s.putQuilt)))
	}
	// No catch-all pattern: a "/" route would match every path whatever
	// its method, and the mux could no longer tell a wrong method (405
	// with Allow) from an unknown path (404). Requests no pattern matches
	// get the gateway's own 404 or 405 instead of the mux's text ones.
	unrouted := s.instrument("/", func(w http.ResponseWriter, r *http.Request) error { return s.unrouted(mux, w, r) })
	return cors(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := mux.Handler(r); pattern == "" {
			unrouted.ServeHTTP(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	}))
}

// unrouted answers a request that no pattern of mux matches: the mux's
// answer (404, 405 with Allow, or a redirect to the cleaned path) is
// recorded, then a 404 or 405 is sent as the gateway's AIP-193 error and
// anything else as the mux wrote it.
func (s *Server) unrouted(mux *http.ServeMux, w http.ResponseWriter, r *http.Request) error {
	h, _ := mux.Handler(r)
	rec := &muxAnswer{header: http.Header{}}
	h.ServeHTTP(rec, r)
	switch rec.code {
	case http.StatusMethodNotAllowed:
		return methodNotAllowed(r.Method, r.URL.Path, rec.header.Get("Allow"))
	case http.StatusNotFound, 0:
		return errf(http.StatusNotFound, ReasonNotFound, "no endpoint %s %s", clip(r.Method), clip(r.URL.Path))
	}
	for k, v := range rec.header {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.code)
	_, _ = w.Write(rec.body)
	return nil
}

// muxAnswer records the answer of the mux's own handlers (404, 405,
// redirects), which are small.
type muxAnswer struct {
	header http.Header
	code   int
	body   []byte
}

// Header is the recorded answer's header.
func (m *muxAnswer) Header() http.Header { return m.header }

// WriteHeader records the first code.
func (m *muxAnswer) WriteHeader(code int) {
	if m.code == 0 {
		m.code = code
	}
}

// Write records body bytes (200 if no code was written).
func (m *muxAnswer) Write(b []byte) (int, error) {
	if m.code == 0 {
		m.code = http.StatusOK
	}
	m.body = append(m.body, b...)
	return len(b), nil
}

// limited runs h within a limiter's admission (429 beyond it).
func (s *Server) limited(l *limiter, h httpx.HandlerFunc) httpx.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		release, e := l.acquire(r.Context())
		if e != nil {
			s.metrics.rejected.WithLabelValues(l.name).Inc()
			return e
		}
		defer release()
		return h(w, r)
	}
}

// cors lets browsers on any origin call the API (Walrus's CORS layer:
// any origin, method and header; preflights cached for a day).
func cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", "*")
		h.Set("Access-Control-Expose-Headers", "ETag, Content-Range, Content-Length, Content-Type, Content-Disposition, X-Quilt-Patch-Identifier, Retry-After")
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			h.Set("Access-Control-Allow-Methods", "GET, HEAD, PUT, OPTIONS")
			if rh := r.Header.Get("Access-Control-Request-Headers"); rh != "" {
				h.Set("Access-Control-Allow-Headers", rh)
			}
			h.Set("Access-Control-Max-Age", "86400")
			h.Add("Vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers")
			w.WriteHeader(http.StatusOK)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// Start listens on the configured addresses and serves until Close. When
// it returns without error the API accepts connections.
func (s *Server) Start(ctx context.Context) error {
	ctx, s.cancel = context.WithCancel(context.Background())
	l, err := net.Listen("tcp", s.cfg.BindAddress)
	if err != nil {
		return fmt.Errorf("gateway: listening on %s: %w", s.cfg.BindAddress, err)
	}
	s.serve(l, s.handler)
	if s.cfg.MetricsAddress != "off" {
		ml, err := net.Listen("tcp", s.cfg.MetricsAddress)
		if err != nil {
			s.Close()
			return fmt.Errorf("gateway: metrics on %s: %w", s.cfg.MetricsAddress, err)
		}
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{}))
		s.serve(ml, mux)
	}
	s.background(ctx, func(ctx context.Context) {
		s.block.Watch(ctx, clock.System, s.cfg.BlocklistReload, s.log, s.dropBlocked)
	})
	if s.wallets != nil {
		s.background(ctx, s.wallets.run)
	}
	s.log.Info("gateway listening", "address", s.Addr(), "metrics", s.MetricsAddr(),
		"aggregator", s.cfg.Aggregator, "publisher", s.cfg.Publisher)
	return nil
}

// serve serves h on l until Close. The server bounds the reading of
// headers and idle connections; whole-request Read and Write timeouts are
// off unless configured, since any bound there would cut large uploads
// and streamed reads: publisher bodies have their own deadlines
// (guardBody).
func (s *Server) serve(l net.Listener, h http.Handler) {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: s.cfg.ReadHeaderTimeout, IdleTimeout: s.cfg.IdleTimeout,
		ReadTimeout: s.cfg.ReadTimeout, WriteTimeout: s.cfg.WriteTimeout,
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelDebug)}
	s.listeners = append(s.listeners, l)
	s.servers = append(s.servers, srv)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("gateway server stopped", "address", l.Addr(), "err", err)
		}
	}()
}

func (s *Server) background(ctx context.Context, f func(context.Context)) {
	s.wg.Add(1)
	go func() { defer s.wg.Done(); f(ctx) }()
}

// Addr is the API's address once started ("" before).
func (s *Server) Addr() string {
	if len(s.listeners) == 0 {
		return ""
	}
	return s.listeners[0].Addr().String()
}

// MetricsAddr is the metrics address once started ("" if none).
func (s *Server) MetricsAddr() string {
	if len(s.listeners) < 2 {
		return ""
	}
	return s.listeners[1].Addr().String()
}

// Close stops serving (requests in flight get up to 5 seconds), waits for
// the background uploads of stores (up to 30 seconds) and releases the
// sub-wallets. It does not close Deps.Client.
func (s *Server) Close() error {
	if s.cancel != nil {
		s.cancel()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var errs []error
	for _, srv := range s.servers {
		if err := srv.Shutdown(ctx); err != nil {
			errs = append(errs, srv.Close())
		}
	}
	s.wg.Wait()
	if s.wallets != nil {
		wctx, wcancel := context.WithTimeout(context.Background(), 30*time.Second)
		s.wallets.waitUploads(wctx)
		wcancel()
		s.wallets.close()
	}
	return errors.Join(errs...)
}

// dropBlocked is the blocklist's onAdded: it forgets what the caches hold
// of newly blocked blobs (their data, a quilt's index, opened reader and
// patches). Reads check the blocklist before any cache, so no answer
// changes; the memory goes to blobs that may still be served.
func (s *Server) dropBlocked(ids []blob.ID) {
	blocked := make(map[blob.ID]bool, len(ids))
	for _, id := range ids {
		blocked[id] = true
		s.blobs.remove(id)
		s.indexes.remove(id)
		s.readers.remove(id)
	}
	s.patches.removeFunc(func(pid quilt.PatchID) bool { return blocked[pid.Quilt] })
}

// instrument turns a handler into an http.Handler: the error it returns
// becomes the answer (httpx.Serve, with fail for the gateway's errors),
// and every request of the route is counted and logged (httpx.Instrument
// measures, observe counts and logs). The route label is the pattern's
// path: the method is in the pattern only to route.
func (s *Server) instrument(pattern string, h httpx.HandlerFunc) http.Handler {
	route := pattern
	if _, p, ok := strings.Cut(pattern, " "); ok {
		route = p
	}
	return httpx.Instrument(route, httpx.Serve(h, s.fail), s.observe)
}

// observe counts a request and logs it, at Warn for a 5xx answer, else at
// Debug; it is the server's httpx.Observer.
func (s *Server) observe(r *http.Request, route string, code int, d time.Duration, _, out int64) {
	s.metrics.observe(route, code, d, out)
	level := slog.LevelDebug
	if code >= 500 {
		level = slog.LevelWarn
	}
	s.log.Log(r.Context(), level, "request", "method", r.Method, "path", clip(r.URL.Path), "status", code,
		"bytes", out, "took", d)
}
