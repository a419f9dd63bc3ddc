package node

import (
	"context"
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
	// Now is the clock of the pending cache (nil: time.Now).
	Now func() time.Time
}

// Node is a running storage node: one explicit wiring of its store, REST
// server, chain event follower, blob sync, garbage collection, blocklist
// and metrics. Build it with New, run it with Run, release it with Close.
type Node struct {
	cfg       Config
	log       *slog.Logger
	keys      *Keys
	params    blob.Params
	enc       *redstuff.Encoder
	store     *store.Store
	chain     *chainclient.Client
	signer    *chainclient.Signer
	id        ids.ObjectID
	view      *view
	backend   *backend
	api       *nodeapi.Server
	blocklist *blocklist.List
	metrics   *metrics
	registry  *prometheus.Registry // the node's own registry, if it made one
	peers     *peerClients

	listener   net.Listener
	httpServer *http.Server
	started    time.Time
	syncWake   chan struct{}
	locks      [64]sync.Mutex // per-blob, striped by the first ID byte

	stats struct {
		events      atomic.Uint64 // events handled since start
		cursorH     atomic.Uint64 // height of the last handled event
		chainHeight atomic.Uint64 // latest height seen
	}
	closeOnce sync.Once
}

// New opens the node's store, connects to the chain, finds the node's
// registration and builds every component; nothing runs until Run.
func New(ctx context.Context, cfg Config, opts Options) (*Node, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	n := &Node{cfg: cfg, log: log, started: time.Now(), syncWake: make(chan struct{}, 1)}
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
	if n.chain, err = chainclient.Dial(ctx, cfg.Chain); err != nil {
		return nil, fmt.Errorf("node: chain: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			n.chain.Close()
		}
	}()
	n.signer = chainclient.NewSigner(n.keys.Account)
	sys, err := n.chain.System(ctx)
	if err != nil {
		return nil, fmt.Errorf("node: chain: %w", err)
	}
	if n.params, err = blob.NewParams(int(sys.NShards)); err != nil {
		return nil, err
	}
	if n.enc, err = redstuff.NewEncoder(n.params); err != nil {
		return nil, err
	}
	if n.blocklist, err = blocklist.Load(cfg.BlocklistPath); err != nil {
		return nil, err
	}
	if n.store, err = store.Open(store.Config{Dir: cfg.StoragePath, CacheSize: cfg.DBCacheSize, FileThreshold: cfg.SliverFileThreshold, Logger: log}); err != nil {
		return nil, err
	}
	defer func() {
		if !ok {
			n.store.Close()
		}
	}()
	if n.id, err = n.findNodeID(ctx); err != nil {
		return nil, err
	}
	n.view = newView(n.id)
	if err := n.view.refresh(ctx, n.chain); err != nil {
		return nil, fmt.Errorf("node: chain: %w", err)
	}
	n.peers = newPeerClients(n.params, cfg.Recovery.RequestTimeout, n.metrics)
	n.backend = newBackend(n)
	n.api, err = nodeapi.New(cfg.API, nodeapi.Deps{Params: n.params, Key: n.keys.Protocol, Store: n.backend, Chain: n.backend,
		Blocklist: n.blocklist, Health: n.backend, Logger: log.With("component", "api"), Registerer: reg, Now: opts.Now})
	if err != nil {
		return nil, err
	}
	n.listener = opts.Listener
	if n.listener == nil {
		if n.listener, err = net.Listen("tcp", cfg.RESTAPIAddress); err != nil {
			return nil, fmt.Errorf("node: listen: %w", err)
		}
	}
	n.httpServer = &http.Server{Handler: n.api.Handler(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelDebug)}
	ok = true
	return n, nil
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

const (
	metaNodeID    = "node_id"
	metaEpochSync = "epoch_sync" // u32 LE: an epoch change this node has yet to report synced
)

// ID is the node ID (its staking pool's object ID).
func (n *Node) ID() ids.ObjectID { return n.id }

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
	if err := n.startEpochs(ctx); err != nil {
		return fmt.Errorf("node: epoch state: %w", err)
	}
	g, ctx := errgroup.WithContext(ctx)
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
	g.Go(func() error { return n.followEvents(ctx) })
	g.Go(func() error { return n.runSync(ctx) })
	g.Go(func() error { return n.watchBlocklist(ctx) })
	g.Go(func() error { return n.watchChain(ctx) })
	n.log.Info("storage node running", "node_id", n.id, "address", n.Address(), "epoch", n.view.Epoch(),
		"shards", len(n.view.OwnedShards()))
	err := g.Wait()
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	return err
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
		n.peers.close()
		n.chain.Close()
		err = n.store.Close()
	})
	return err
}

// lock returns the lock of a blob: event handling, recovery and garbage
// collection of one blob never interleave.
func (n *Node) lock(id blob.ID) *sync.Mutex { return &n.locks[id[0]%uint8(len(n.locks))] }

// wakeSync nudges the blob sync loop.
func (n *Node) wakeSync() {
	select {
	case n.syncWake <- struct{}{}:
	default:
	}
}

// watchChain polls the chain's height for the event-lag metric and the
// health answer, and refreshes the view of the committees when the epoch
// moved on before the event follower got there (a node lagging behind the
// chain must still accept writes for, and sign with, the current epoch).
func (n *Node) watchChain(ctx context.Context) error {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		if sys, err := n.chain.System(ctx); err == nil {
			n.stats.chainHeight.Store(sys.Height)
			n.metrics.eventLag.Set(float64(sys.Height) - float64(n.stats.cursorH.Load()))
			if v := n.view.System(); v == nil || v.Epoch != sys.Epoch || v.State != sys.State {
				if err := n.view.refresh(ctx, n.chain); err != nil && ctx.Err() == nil {
					n.log.Warn("refreshing the committees", "err", err)
				}
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
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
	m, err := n.missing(id, n.view.OwnedShards())
	return len(m), err
}

// SyncBacklog is the number of blobs waiting for recovery.
func (n *Node) SyncBacklog() (int, error) { return n.store.SyncQueueLen() }

// Epoch is the epoch of the committee the node works for.
func (n *Node) Epoch() uint32 { return n.view.Epoch() }

// OwnedShards returns the node's shards in the current committee.
func (n *Node) OwnedShards() []uint16 { return n.view.OwnedShards() }
