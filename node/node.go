package node

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/sync/errgroup"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/blocklist"
	"github.com/walrus-go/walrus/chain/chainclient"
	"github.com/walrus-go/walrus/ids"
	"github.com/walrus-go/walrus/internal/clock"
	"github.com/walrus-go/walrus/internal/nodetls"
	"github.com/walrus-go/walrus/nodeapi"
	"github.com/walrus-go/walrus/redstuff"
	"github.com/walrus-go/walrus/store"
)

// Errors returned by New.
var (
	// ErrNotRegistered: no staking pool on chain has the node's protocol key.
	ErrNotRegistered = errors.New("node: not registered on chain (run walrus-node register)")
)

// Options are what a node is given besides its configuration. All are
// optional.
type Options struct {
	Logger *slog.Logger
	// Registerer receives the node's metrics; nil: a registry of the node's
	// own, served on MetricsAddress.
	Registerer prometheus.Registerer
	// Listener replaces listening on RESTAPIAddress (tests pass one bound
	// to 127.0.0.1:0 before the chain's genesis names the address).
	Listener net.Listener
	// Now is the clock of the pending cache (nil: Clock's Now).
	Now func() time.Time
	// Clock paces the background loops (event retries, blob sync retries,
	// chain polling) and measures uptime (nil: clock.System). Tests pass a
	// *clock.Manual to step the loops.
	Clock clock.Clock
}

// parts are what the node's services share. New builds them once; each
// service's constructor copies out the ones it uses, so that a service
// depends on its own fields only.
type parts struct {
	log       *slog.Logger
	clock     clock.Clock
	params    blob.Params
	enc       *redstuff.Encoder
	self      ids.ObjectID // the node ID
	store     *store.Store
	chain     *chainclient.Client
	view      *view
	blocklist *blocklist.List
	metrics   *metrics
	peers     *peerPool
	locks     *blobLocks
	wake      signal // nudges blob sync
	progress  *progress
	cache     *metadataCache
}

// Node is a running storage node, and the one place where it is wired: New
// builds the shared parts (store, chain client, committee view, blocklist,
// peer clients, metrics) and the services (event follower, blob sync,
// epochs, garbage collection, blocklist and chain watchers, the REST
// server); Run starts them and Close releases what they share.
type Node struct {
	parts
	cfg      Config
	keys     *Keys
	started  time.Time
	registry *prometheus.Registry // the node's own registry, if it made one

	api        *nodeapi.Server
	listener   net.Listener
	httpServer *http.Server

	epochs         *epochs
	follower       *follower
	syncer         *syncer
	recoverer      *recoverer
	chainWatcher   *chainWatcher
	blocklistWatch *blocklistWatcher

	closeOnce sync.Once
}

// New opens the node's store, connects to the chain, finds the node's
// registration and builds every component; nothing runs until Run.
func New(ctx context.Context, cfg Config, opts Options) (*Node, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	n := &Node{cfg: cfg}
	n.log, n.clock = opts.Logger, opts.Clock
	if n.log == nil {
		n.log = slog.New(slog.DiscardHandler)
	}
	if n.clock == nil {
		n.clock = clock.System
	}
	n.started = n.clock.Now()
	var err error
	if n.keys, err = LoadKeys(&cfg); err != nil {
		return nil, err
	}
	reg := opts.Registerer
	if reg == nil {
		n.registry = prometheus.NewRegistry()
		reg = n.registry
	}
	if n.metrics, err = newMetrics(reg); err != nil {
		return nil, err
	}
	if err := n.open(ctx); err != nil {
		return nil, err
	}
	if err := n.build(reg, opts); err != nil {
		n.store.Close()
		n.chain.Close()
		return nil, err
	}
	return n, nil
}

// open connects to the chain and opens the store, and reads what the rest
// is built on: the encoding parameters, the blocklist, the node ID and the
// committees. On an error it releases what it opened.
func (n *Node) open(ctx context.Context) (err error) {
	if n.chain, err = chainclient.Dial(ctx, n.cfg.Chain); err != nil {
		return fmt.Errorf("node: chain: %w", err)
	}
	defer func() {
		if err != nil {
			n.chain.Close()
		}
	}()
	sys, err := n.chain.System(ctx)
	if err != nil {
		return fmt.Errorf("node: chain: %w", err)
	}
	if n.params, err = blob.NewParams(int(sys.NShards)); err != nil {
		return err
	}
	if n.enc, err = redstuff.NewEncoder(n.params); err != nil {
		return err
	}
	if n.blocklist, err = blocklist.Load(n.cfg.BlocklistPath); err != nil {
		return err
	}
	n.store, err = store.Open(store.Config{Dir: n.cfg.StoragePath, CacheSize: n.cfg.DBCacheSize,
		FileThreshold: n.cfg.SliverFileThreshold, Logger: n.log})
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			n.store.Close()
		}
	}()
	if n.self, err = n.findNodeID(ctx); err != nil {
		return err
	}
	n.view = newView(n.self)
	if err := n.view.refresh(ctx, n.chain); err != nil {
		return fmt.Errorf("node: chain: %w", err)
	}
	return nil
}

// build wires the services over the shared parts, in dependency order, and
// prepares the REST server.
func (n *Node) build(reg prometheus.Registerer, opts Options) error {
	n.locks, n.wake, n.progress, n.cache = new(blobLocks), newSignal(), new(progress), newMetadataCache()
	n.peers = newPeerPool(n.params, n.cfg.Recovery.RequestTimeout, n.cfg.TLS.DisableTLS, n.metrics)
	n.view.onChange = n.peers.pins.Committees
	n.peers.pins.Committees(n.view.Committees())
	p := &n.parts
	signer := chainclient.NewSigner(n.keys.Account)
	be := newBackend(p, newRepairer(p))
	hl := newHealth(p, n.started, n.keys.Protocol.PublicKey().Bytes())
	now := opts.Now
	if now == nil {
		now = n.clock.Now
	}
	var err error
	n.api, err = nodeapi.New(n.cfg.API, nodeapi.Deps{Params: n.params, Key: n.keys.Protocol, Store: be, Chain: be,
		Blocklist: n.blocklist, Health: hl, Logger: n.log.With("component", "api"), Registerer: reg, Now: now})
	if err != nil {
		return err
	}
	gc := newCollector(p, n.api)
	n.epochs = newEpochs(p, signer, gc)
	n.recoverer = newRecoverer(p, be, newInvalidator(p, n.keys.Protocol, signer), n.cfg.Recovery.MaxResponseBytes)
	n.syncer = newSyncer(p, n.store, n.recoverer, n.cfg.Recovery, n.epochs.reportSynced)
	n.follower = newFollower(p, n.cfg.Chain.PollInterval, n.api, gc, n.epochs)
	n.chainWatcher = newChainWatcher(p, time.Second)
	n.blocklistWatch = newBlocklistWatcher(p, gc, n.cfg.BlocklistReload)
	tlsCfg, err := n.serverTLS()
	if err != nil {
		return err
	}
	n.listener = opts.Listener
	if n.listener == nil {
		if n.listener, err = net.Listen("tcp", n.cfg.RESTAPIAddress); err != nil {
			return fmt.Errorf("node: listen: %w", err)
		}
	}
	// The connection limits hold TCP connections; TLS goes around them, so
	// that net/http sees *tls.Conn and bounds the handshake by
	// ReadHeaderTimeout (api.limits).
	n.listener = n.api.LimitListener(n.listener)
	if tlsCfg != nil {
		n.listener = tls.NewListener(n.listener, tlsCfg)
	}
	n.httpServer = &http.Server{Handler: n.api.Handler(), ErrorLog: slog.NewLogLogger(n.log.Handler(), slog.LevelDebug)}
	n.api.ConfigureHTTPServer(n.httpServer)
	return nil
}

// serverTLS is the REST API's TLS configuration (nil: plain HTTP): the
// operator's certificate, which must carry the network key, or a
// self-signed one for it.
func (n *Node) serverTLS() (*tls.Config, error) {
	if n.cfg.TLS.DisableTLS {
		return nil, nil
	}
	if path := n.cfg.TLS.CertificatePath; path != "" {
		cert, err := nodetls.LoadCertificate(path, n.keys.Network)
		if err != nil {
			return nil, fmt.Errorf("node: tls.certificate_path %s: %w", path, err)
		}
		return nodetls.ServerConfig(cert), nil
	}
	cert, err := nodetls.SelfSigned(n.keys.Network, n.cfg.PublicHost, n.clock.Now())
	if err != nil {
		return nil, err
	}
	return nodetls.ServerConfig(cert), nil
}

// findNodeID returns the node ID: remembered in the store, or found on chain
// as the pool whose protocol key is the node's.
func (n *Node) findNodeID(ctx context.Context) (ids.ObjectID, error) {
	if b, err := n.store.Meta(metaNodeID); err == nil && len(b) == 32 {
		return ids.ObjectID(b), nil
	}
	pools, err := n.chain.Pools(ctx)
	if err != nil {
		return ids.ObjectID{}, fmt.Errorf("node: chain: %w", err)
	}
	pk := n.keys.Protocol.PublicKey().Bytes()
	for _, o := range pools {
		if o.Pool != nil && (o.Pool.PublicKey == pk || o.Pool.NextPublicKey != nil && *o.Pool.NextPublicKey == pk) {
			if err := n.store.SetMeta(metaNodeID, o.Pool.ID[:]); err != nil {
				return ids.ObjectID{}, err
			}
			return o.Pool.ID, nil
		}
	}
	return ids.ObjectID{}, ErrNotRegistered
}

// metaNodeID is the node fact holding the node ID.
const metaNodeID = "node_id"

// ID is the node ID (its staking pool's object ID).
func (n *Node) ID() ids.ObjectID { return n.self }

// Address is where the API listens.
func (n *Node) Address() string { return n.listener.Addr().String() }

// Params are the network's encoding parameters.
func (n *Node) Params() blob.Params { return n.params }

// Registry is the node's own metrics registry (nil if Options gave one).
func (n *Node) Registry() *prometheus.Registry { return n.registry }

// Run serves the API and runs the event follower, blob sync, the blocklist
// watcher and the chain watcher until ctx ends or one of them fails. It
// shuts the server down before returning; a ctx cancellation is a clean
// stop and returns nil.
func (n *Node) Run(ctx context.Context) error {
	if err := n.epochs.start(ctx); err != nil {
		return fmt.Errorf("node: epoch state: %w", err)
	}
	g, ctx := errgroup.WithContext(ctx)
	n.serveAPI(ctx, g)
	if n.registry != nil && n.cfg.MetricsAddress != "" {
		serveSide(ctx, g, "metrics", n.cfg.MetricsAddress, promhttp.HandlerFor(n.registry, promhttp.HandlerOpts{}))
	}
	if n.cfg.PprofAddress != "" {
		mux := http.NewServeMux()
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
		serveSide(ctx, g, "pprof", n.cfg.PprofAddress, mux)
	}
	for _, run := range []func(context.Context) error{n.follower.run, n.syncer.run, n.blocklistWatch.run, n.chainWatcher.run} {
		g.Go(func() error { return run(ctx) })
	}
	n.log.Info("storage node running", "node_id", n.self, "address", n.Address(), "epoch", n.view.Epoch(),
		"shards", len(n.view.OwnedShards()))
	err := g.Wait()
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	return err
}

// serveAPI runs the REST server in g until ctx ends.
func (n *Node) serveAPI(ctx context.Context, g *errgroup.Group) {
	// Requests run under a context that ends when the node stops, so that
	// long-polls (confirmations wait up to MaxConfirmationWait) return at
	// once: Shutdown waits for active handlers but does not cancel them.
	reqCtx, stopRequests := context.WithCancel(context.WithoutCancel(ctx))
	n.httpServer.BaseContext = func(net.Listener) context.Context { return reqCtx }
	g.Go(func() error {
		if err := n.httpServer.Serve(n.listener); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("node: serve: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		<-ctx.Done()
		stopRequests()
		// A short grace, then Close: with the requests cancelled the
		// handlers end at once, and net/http counts a dialled connection
		// that never sent a request as busy for 5 s, which would hold a
		// plain Shutdown that long. A write cut here was not acknowledged.
		sctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if err := n.httpServer.Shutdown(sctx); err != nil {
			n.httpServer.Close()
		}
		return nil
	})
}

// serveSide runs a side server (metrics, profiling) in g until ctx ends.
func serveSide(ctx context.Context, g *errgroup.Group, name, addr string, h http.Handler) {
	srv := &http.Server{Addr: addr, Handler: h, ReadHeaderTimeout: 10 * time.Second}
	g.Go(func() error {
		if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("node: %s: %w", name, err)
		}
		return nil
	})
	g.Go(func() error {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		return srv.Shutdown(sctx)
	})
}

// Close releases the store and the listener. Call it after Run returned
// (or instead of Run).
func (n *Node) Close() error {
	var err error
	n.closeOnce.Do(func() {
		n.httpServer.Close()
		n.listener.Close()
		n.peers.CloseIdle()
		n.chain.Close()
		err = n.store.Close()
	})
	return err
}

// RecoveryStats are the node's totals of blob sync since it started.
type RecoveryStats struct {
	BytesDownloaded  int64 // bytes of answers received from peers
	SliversRecovered int64
	BlobsSynced      int64
}

// RecoveryStats returns the blob sync totals.
func (n *Node) RecoveryStats() RecoveryStats {
	return RecoveryStats{BytesDownloaded: n.peers.bytes.Load(), SliversRecovered: n.metrics.recovered.Load(),
		BlobsSynced: n.metrics.synced.Load()}
}

// MissingSlivers counts the slivers of the node's current shards that it
// does not hold for a blob.
func (n *Node) MissingSlivers(id blob.ID) (int, error) {
	m, err := n.recoverer.missing(id, n.view.OwnedShards())
	return len(m), err
}

// SyncBacklog is the number of blobs waiting for recovery.
func (n *Node) SyncBacklog() (int, error) { return n.store.SyncQueueLen() }

// Epoch is the epoch of the committee the node works for.
func (n *Node) Epoch() uint32 { return n.view.Epoch() }

// OwnedShards returns the node's shards in the current committee.
func (n *Node) OwnedShards() []uint16 { return n.view.OwnedShards() }

// blobLocks are the per-blob locks, striped by the first byte of the ID:
// event handling, uploads, recovery and garbage collection of one blob
// never interleave.
type blobLocks [64]sync.Mutex

// of returns the lock of a blob.
func (l *blobLocks) of(id blob.ID) *sync.Mutex { return &l[id[0]%uint8(len(l))] }

// loadBlobInfo loads a blob's record (empty if none).
func loadBlobInfo(s *store.Store, id blob.ID) (store.BlobInfo, error) {
	info, err := s.BlobInfo(id)
	if errors.Is(err, store.ErrNotFound) {
		return store.BlobInfo{}, nil
	}
	return info, err
}

// signal is a wake-up call that coalesces: any number of wakes before the
// sleeper looks count as one.
type signal chan struct{}

func newSignal() signal { return make(signal, 1) }

// wake nudges the sleeper without ever blocking.
func (s signal) wake() {
	select {
	case s <- struct{}{}:
	default:
	}
}

// progress is how far the node has followed the chain: the event follower
// and the chain watcher write it, health and the lag metric read it.
type progress struct {
	events  atomic.Uint64 // events handled since start
	cursorH atomic.Uint64 // height of the last handled event
	// processedH is the height up to which the follower has handled every
	// event: the height through which the last events page it finished was
	// complete (it moves on in blocks without events), or, while it works
	// through a page, the height just below its last handled event's. It
	// never goes back.
	processedH  atomic.Uint64
	chainHeight atomic.Uint64 // latest height seen
}

// processedThrough records that every event up to height h is handled.
func (p *progress) processedThrough(h uint64) {
	for {
		old := p.processedH.Load()
		if h <= old || p.processedH.CompareAndSwap(old, h) {
			return
		}
	}
}

// handledEventAt records that the follower handled an event at height h,
// in cursor order: every event of the blocks below h is handled too (the
// events of block h after it may not be).
func (p *progress) handledEventAt(h uint64) {
	if h > 0 {
		p.processedThrough(h - 1)
	}
}

// lag is how many blocks of the chain the follower has not processed yet:
// the chain's height as last seen less the height up to which every event
// is handled (0 when the follower has seen a later height than the chain
// watcher).
func (p *progress) lag() uint64 {
	chainH, done := p.chainHeight.Load(), p.processedH.Load()
	if chainH <= done {
		return 0
	}
	return chainH - done
}
