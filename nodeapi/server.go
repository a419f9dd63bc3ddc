package nodeapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/semaphore"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/bls"
	"github.com/walrus-go/walrus/ids"
	"github.com/walrus-go/walrus/internal/httpx"
	"github.com/walrus-go/walrus/redstuff"
	"github.com/walrus-go/walrus/wire"
)

// Store holds a node's metadata and slivers. Lookups report absence with
// ok = false; an error means the store failed. An implementation that finds
// a damaged value reports it, arranges its recovery and answers as if it
// were absent: a damaged value is never served.
type Store interface {
	// Metadata returns verified metadata. The caller must not modify it.
	Metadata(id blob.ID) (md *blob.MetadataWithID, ok bool, err error)
	// MetadataBCS returns the BCS BlobMetadataWithId.
	MetadataBCS(id blob.ID) (b []byte, ok bool, err error)
	// PutMetadata stores verified metadata; it is durable after the next Sync.
	PutMetadata(md *blob.MetadataWithID) error
	// Sliver returns a sliver held for a shard.
	Sliver(shard uint16, t blob.SliverType, id blob.ID) (s *redstuff.Sliver, ok bool, err error)
	// AppendSliverBCS appends the BCS SliverData held for a shard to dst
	// (so that a GET reuses buffers) and returns the extended slice.
	AppendSliverBCS(dst []byte, shard uint16, t blob.SliverType, id blob.ID) (b []byte, ok bool, err error)
	// HasSliver reports whether an intact sliver is held for a shard.
	HasSliver(shard uint16, t blob.SliverType, id blob.ID) (bool, error)
	// PutSliver stores a verified sliver for a shard; it is durable after
	// the next Sync.
	PutSliver(shard uint16, id blob.ID, s *redstuff.Sliver) error
	// PutSlivers stores verified slivers of one blob; they are durable
	// after the next Sync. The slivers' data belongs to the caller again
	// when it returns (the server reuses the buffers): the store copies
	// what it keeps.
	PutSlivers(id blob.ID, slivers []ShardSliver) error
	// Sync makes every earlier write durable. The server calls it before
	// it signs a confirmation: a signature is the node's promise that the
	// slivers are stored, so it must never precede their durability, while
	// a sliver PUT's answer promises nothing. One sync per confirmation
	// instead of one per sliver keeps a store at n = 1000 from waiting on
	// thousands of fsyncs.
	Sync() error
}

// ShardSliver is a sliver with the shard that holds it.
type ShardSliver struct {
	Shard  uint16
	Sliver *redstuff.Sliver
}

// Chain is the node's view of the chain: its committee position and what
// the chain said about blobs, as far as the node has followed events.
type Chain interface {
	// Epoch is the epoch of the current committee, the epoch confirmations
	// and attestations are signed for.
	Epoch() uint32
	// OwnedShards returns the node's shards in the current committee,
	// ascending. The caller must not modify the slice.
	OwnedShards() []uint16
	// Owns reports whether the node holds shard in the current committee.
	Owns(shard uint16) bool
	// ServingShards returns the shards whose slivers the node serves: its
	// own, plus those it handed over in an epoch change that is not done.
	ServingShards() []uint16
	// Registration returns the live registrations of a blob ID.
	Registration(id blob.ID) (Registration, error)
	// Status returns the node's BlobStatus of a blob ID.
	Status(id blob.ID) (BlobStatus, error)
}

// Registration is what the chain says about a blob ID now: whether it was
// declared invalid, and its live Blob objects.
type Registration struct {
	Invalid   *ids.EventID
	Permanent bool           // a live permanent Blob object
	Deletable []ids.ObjectID // live deletable Blob objects
}

// Registered reports whether a live registration keeps the blob and it is
// not invalid: its data is accepted.
func (r *Registration) Registered() bool {
	return r.Invalid == nil && (r.Permanent || len(r.Deletable) > 0)
}

// Covers reports whether a live registration of this persistence exists.
func (r *Registration) Covers(p wire.Persistence) bool {
	if r.Invalid != nil {
		return false
	}
	if !p.Deletable {
		return r.Permanent
	}
	for _, o := range r.Deletable {
		if o == p.ObjectID {
			return true
		}
	}
	return false
}

// Blocklist says which blobs the node neither stores nor serves.
type Blocklist interface {
	Blocked(id blob.ID) bool
}

// HealthSource reports the node's health.
type HealthSource interface {
	Health(detailed bool) HealthInfo
}

// Config configures the server. Zero values take the defaults.
type Config struct {
	// MaxConfirmationWait caps the long-poll of confirmation requests
	// (wait_millis); default 5s.
	MaxConfirmationWait time.Duration `yaml:"max_confirmation_wait"`
	// Pending configures the cache of data for blobs not yet registered.
	Pending PendingConfig `yaml:"pending"`
	// SymbolConcurrency is how many symbol computations (recovery and
	// decoding symbols, inconsistency proofs) run at once; default 2.
	SymbolConcurrency int `yaml:"symbol_concurrency"`
	// SymbolWait is how long a symbol request waits for a slot before it is
	// refused with 503; default 2s.
	SymbolWait time.Duration `yaml:"symbol_wait"`
	// MaxSymbolResponse bounds the bytes of one symbols answer; default 64 MiB.
	MaxSymbolResponse int64 `yaml:"max_symbol_response"`
	// MaxSymbolIDs bounds the symbol IDs of one recoverySymbols request;
	// default 4096.
	MaxSymbolIDs int `yaml:"max_symbol_ids"`
	// MaxBatchBytes bounds the body of a sliver batch (PUT
	// /v1/blobs/{blob_id}/slivers); larger ones are refused with 413.
	// Default 64 MiB; at most MaxUploadBytesInFlight.
	MaxBatchBytes int64 `yaml:"max_batch_bytes"`
	// MaxUploadBytesInFlight bounds the request bodies of sliver uploads
	// (batches and single slivers) the node holds at once; default 512 MiB.
	MaxUploadBytesInFlight int64 `yaml:"max_upload_bytes_in_flight"`
	// UploadWait is how long an upload waits for room under
	// MaxUploadBytesInFlight before it is refused with 503; default 10s.
	UploadWait time.Duration `yaml:"upload_wait"`
	// Limits bound connections, requests in flight, per-client request
	// rates and slow transfers (limits.go).
	Limits LimitsConfig `yaml:"limits,omitempty"`
}

// PendingConfig bounds the pending cache.
type PendingConfig struct {
	MaxBytes int64         `yaml:"max_bytes"` // default 256 MiB
	MaxBlobs int           `yaml:"max_blobs"` // default 1024
	TTL      time.Duration `yaml:"ttl"`       // default 2m
}

// withDefaults fills zero fields.
func (c Config) withDefaults() Config {
	if c.MaxConfirmationWait == 0 {
		c.MaxConfirmationWait = 5 * time.Second
	}
	if c.Pending.MaxBytes == 0 {
		c.Pending.MaxBytes = 256 << 20
	}
	if c.Pending.MaxBlobs == 0 {
		c.Pending.MaxBlobs = 1024
	}
	if c.Pending.TTL == 0 {
		c.Pending.TTL = 2 * time.Minute
	}
	if c.SymbolConcurrency == 0 {
		c.SymbolConcurrency = 2
	}
	if c.SymbolWait == 0 {
		c.SymbolWait = 2 * time.Second
	}
	if c.MaxSymbolResponse == 0 {
		c.MaxSymbolResponse = 64 << 20
	}
	if c.MaxSymbolIDs == 0 {
		c.MaxSymbolIDs = 4096
	}
	if c.MaxBatchBytes == 0 {
		c.MaxBatchBytes = 64 << 20
	}
	if c.MaxUploadBytesInFlight == 0 {
		c.MaxUploadBytesInFlight = 512 << 20
	}
	if c.UploadWait == 0 {
		c.UploadWait = 10 * time.Second
	}
	c.Limits = c.Limits.withDefaults()
	return c
}

// Validate reports every problem of the configuration.
func (c *Config) Validate() error {
	var errs []error
	neg := func(name string, bad bool) {
		if bad {
			errs = append(errs, fmt.Errorf("nodeapi: %s must not be negative", name))
		}
	}
	neg("max_confirmation_wait", c.MaxConfirmationWait < 0)
	neg("pending.max_bytes", c.Pending.MaxBytes < 0)
	neg("pending.max_blobs", c.Pending.MaxBlobs < 0)
	neg("pending.ttl", c.Pending.TTL < 0)
	neg("symbol_concurrency", c.SymbolConcurrency < 0)
	neg("symbol_wait", c.SymbolWait < 0)
	neg("max_symbol_response", c.MaxSymbolResponse < 0)
	neg("max_symbol_ids", c.MaxSymbolIDs < 0)
	neg("max_batch_bytes", c.MaxBatchBytes < 0)
	neg("max_upload_bytes_in_flight", c.MaxUploadBytesInFlight < 0)
	neg("upload_wait", c.UploadWait < 0)
	errs = append(errs, c.Limits.validate()...)
	// A batch larger than the room for all uploads could never get in.
	if d := c.withDefaults(); d.MaxBatchBytes > d.MaxUploadBytesInFlight && c.MaxBatchBytes >= 0 && c.MaxUploadBytesInFlight >= 0 {
		errs = append(errs, fmt.Errorf("nodeapi: max_batch_bytes (%d) must not exceed max_upload_bytes_in_flight (%d)",
			d.MaxBatchBytes, d.MaxUploadBytesInFlight))
	}
	return errors.Join(errs...)
}

// Deps are what the server runs on.
type Deps struct {
	Params    blob.Params
	Key       *bls.SecretKey // the node's protocol key: signs confirmations and attestations
	Store     Store
	Chain     Chain
	Blocklist Blocklist    // nil: nothing blocked
	Health    HealthSource // nil: /v1/health answers from Chain only
	Logger    *slog.Logger
	// Registerer receives the server's metrics (nil: not registered).
	Registerer prometheus.Registerer
	// Now is the clock of the pending cache (nil: time.Now).
	Now func() time.Time
}

// Server serves the node API. Build it with New; it starts no goroutines.
type Server struct {
	cfg     Config
	deps    Deps
	log     *slog.Logger
	enc     *redstuff.Encoder
	pending *pendingCache
	symbols chan struct{}
	uploads *semaphore.Weighted // bytes of upload bodies held
	bufs    bufPool             // sliver batch frames
	metrics *metrics
	mux     *http.ServeMux
	handler http.Handler // mux under the transfer limits

	limits       *limits
	limitMetrics *limitMetrics
	conns        atomic.Pointer[connLimiter] // set by LimitListener

	mu struct {
		sync.Mutex
		registered chan struct{} // closed and replaced on every registration
	}
}

// New builds a server.
func New(cfg Config, deps Deps) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if deps.Key == nil || deps.Store == nil || deps.Chain == nil || deps.Params.N() == 0 {
		return nil, errors.New("nodeapi: params, key, store and chain are required")
	}
	cfg = cfg.withDefaults()
	enc, err := redstuff.NewEncoder(deps.Params)
	if err != nil {
		return nil, err
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	s := &Server{cfg: cfg, deps: deps, log: deps.Logger, enc: enc,
		pending: newPendingCache(cfg.Pending, deps.Now), symbols: make(chan struct{}, cfg.SymbolConcurrency),
		uploads: semaphore.NewWeighted(cfg.MaxUploadBytesInFlight)}
	s.mu.registered = make(chan struct{})
	if s.metrics, err = newMetrics(deps.Registerer); err != nil {
		return nil, err
	}
	if s.limitMetrics, err = newLimitMetrics(deps.Registerer); err != nil {
		return nil, err
	}
	s.limits = newLimits(cfg.Limits, cfg.UploadWait, s.limitMetrics)
	s.routes()
	s.handler = s.withTransfers(s.mux)
	return s, nil
}

// Handler is the server's HTTP handler. Serve it with an http.Server that
// ConfigureHTTPServer has set up, on a listener from LimitListener, for
// every limit to apply; the handler alone applies the per-client rates,
// the bounds on requests in flight and the transfer deadlines.
func (s *Server) Handler() http.Handler { return s.handler }

// Routes (Walrus's paths).
const (
	RouteMetadata          = "/v1/blobs/{blob_id}/metadata"
	RouteMetadataStatus    = "/v1/blobs/{blob_id}/metadata/status"
	RouteSliver            = "/v1/blobs/{blob_id}/slivers/{sliver_pair_index}/{sliver_type}"
	RouteSlivers           = "/v1/blobs/{blob_id}/slivers" // ours: a sliver batch
	RouteSliverStatus      = "/v1/blobs/{blob_id}/slivers/{sliver_pair_index}/{sliver_type}/status"
	RoutePermanentConfirm  = "/v1/blobs/{blob_id}/confirmation/permanent"
	RouteDeletableConfirm  = "/v1/blobs/{blob_id}/confirmation/deletable/{object_id}"
	RouteRecoverySymbols   = "/v1/blobs/{blob_id}/recoverySymbols"
	RouteDecodingSymbols   = "/v1/blobs/{blob_id}/decodingSymbols"
	RouteInconsistency     = "/v1/blobs/{blob_id}/inconsistencyProof/{sliver_type}"
	RouteBlobStatus        = "/v1/blobs/{blob_id}/status"
	RouteHealth            = "/v1/health"
	RouteAPIDocs           = "/v1/api"
	headerContentType      = "Content-Type"
	contentTypeOctetStream = "application/octet-stream"
)

func (s *Server) routes() {
	s.mux = http.NewServeMux()
	// Each route is in a class of limits (limits.go): the expensive ones
	// have per-client rates and bounds of their own, every one but health
	// counts towards MaxConcurrentRequests.
	route := func(method, path string, c class, h httpx.HandlerFunc) {
		pattern := method + " " + path
		s.mux.Handle(pattern, s.instrument(pattern, s.limited(c, h)))
	}
	route("GET", RouteMetadata, classOther, s.getMetadata)
	route("PUT", RouteMetadata, classUploads, s.putMetadata)
	route("GET", RouteMetadataStatus, classOther, s.getMetadataStatus)
	route("GET", RouteSliver, classSliverReads, s.getSliver)
	route("PUT", RouteSliver, classUploads, s.putSliver)
	route("PUT", RouteSlivers, classUploads, s.putSlivers)
	route("GET", RouteSliverStatus, classOther, s.getSliverStatus)
	route("GET", RoutePermanentConfirm, classConfirmations, s.getConfirmation)
	route("GET", RouteDeletableConfirm, classConfirmations, s.getConfirmation)
	route("GET", RouteRecoverySymbols, classSymbols, s.getRecoverySymbols)
	route("GET", RouteDecodingSymbols, classSymbols, s.getDecodingSymbols)
	route("POST", RouteInconsistency, classSymbols, s.postInconsistencyProof)
	route("GET", RouteBlobStatus, classOther, s.getBlobStatus)
	route("GET", RouteHealth, classHealth, s.getHealth)
	route("GET", RouteAPIDocs, classOther, s.getAPIDocs)
	s.mux.Handle("/", s.instrument("other", s.limited(classOther, func(w http.ResponseWriter, r *http.Request) error {
		return newError("NOT_FOUND", ReasonNotFound, fmt.Sprintf("no endpoint %s %s", r.Method, r.URL.Path), nil)
	})))
}

// instrument turns a handler into an http.Handler: errors become AIP-193
// answers (httpx.Serve sends an *Error as it is; internal ones are logged
// by fail, not shown), and every request is counted (httpx.Instrument
// measures, metrics.observe counts).
func (s *Server) instrument(pattern string, h httpx.HandlerFunc) http.Handler {
	return httpx.Instrument(pattern, httpx.Serve(h, s.fail), s.metrics.observe)
}

// fail answers an error that is not an *Error: it is logged, and the
// answer is Walrus's 500 INTERNAL, which says nothing of it.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	httpx.WriteError(w, errInternal())
}

// writeSuccess writes the JSON success envelope.
func writeSuccess(w http.ResponseWriter, code int, data any) { httpx.WriteSuccess(w, code, data) }

func writeBCS(w http.ResponseWriter, b []byte) {
	w.Header().Set(headerContentType, contentTypeOctetStream)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

// readBody reads a request body of at most limit bytes.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	if r.ContentLength > limit {
		return nil, errBodyTooLarge(limit)
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, errBodyTooLarge(limit)
	}
	if err != nil {
		return nil, newError("INVALID_ARGUMENT", ReasonInvalidParameter, "reading the request body: "+err.Error(), nil)
	}
	return b, nil
}

// Path and query parameters.

func (s *Server) blobID(r *http.Request) (blob.ID, error) {
	v := r.PathValue("blob_id")
	id, err := blob.ParseID(v)
	if err != nil {
		return blob.ID{}, errInvalidBlobID(v)
	}
	return id, nil
}

func (s *Server) index(name, v string) (int, error) {
	i, err := strconv.ParseUint(v, 10, 16)
	if err != nil {
		return 0, errInvalidParameter(name, v)
	}
	if int(i) >= s.deps.Params.N() {
		return 0, errIndexOutOfRange(int(i), s.deps.Params.N())
	}
	return int(i), nil
}

func sliverType(name, v string) (blob.SliverType, error) {
	t, err := blob.ParseSliverType(v)
	if err != nil {
		return 0, errInvalidParameter(name, v)
	}
	return t, nil
}

// sliverParams parses {blob_id}/slivers/{sliver_pair_index}/{sliver_type}.
func (s *Server) sliverParams(r *http.Request) (id blob.ID, pair int, t blob.SliverType, err error) {
	if id, err = s.blobID(r); err != nil {
		return
	}
	if pair, err = s.index("sliver_pair_index", r.PathValue("sliver_pair_index")); err != nil {
		return
	}
	t, err = sliverType("sliver_type", r.PathValue("sliver_type"))
	return
}

func (s *Server) blocked(id blob.ID) bool {
	return s.deps.Blocklist != nil && s.deps.Blocklist.Blocked(id)
}

// acquireSymbols takes a slot for a symbol computation, waiting at most
// SymbolWait.
func (s *Server) acquireSymbols(ctx context.Context) (release func(), err error) {
	t := time.NewTimer(s.cfg.SymbolWait)
	defer t.Stop()
	select {
	case s.symbols <- struct{}{}:
		return func() { <-s.symbols }, nil
	case <-t.C:
		return nil, errUnavailable()
	case <-ctx.Done():
		return nil, errUnavailable()
	}
}

// acquireUpload takes room for an upload body of n bytes under
// MaxUploadBytesInFlight, waiting at most UploadWait.
func (s *Server) acquireUpload(ctx context.Context, n int64) (release func(), err error) {
	n = min(max(n, 0), s.cfg.MaxUploadBytesInFlight)
	ctx, cancel := context.WithTimeout(ctx, s.cfg.UploadWait)
	defer cancel()
	if err := s.uploads.Acquire(ctx, n); err != nil {
		return nil, errUnavailable()
	}
	s.metrics.uploadBytes(n)
	return func() {
		s.metrics.uploadBytes(-n)
		s.uploads.Release(n)
	}, nil
}

// Registered tells the server that a blob's registration has been recorded:
// its pending data is stored and confirmation requests waiting for it wake
// up. The node calls it after persisting a BlobRegistered event.
func (s *Server) Registered(id blob.ID) {
	s.flushPending(id)
	s.mu.Lock()
	close(s.mu.registered)
	s.mu.registered = make(chan struct{})
	s.mu.Unlock()
}

func (s *Server) registrationSignal() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mu.registered
}

// DropPending forgets the pending data of a blob (e.g. one just blocked).
func (s *Server) DropPending(id blob.ID) { s.pending.take(id) }

// PendingBytes is the size of the pending cache.
func (s *Server) PendingBytes() int64 { return s.pending.size() }

// flushPending stores the pending data of a newly registered blob. The
// data leaves the cache only once the store holds it, so that an upload
// racing with the flush finds the blob's metadata in one or the other
// (metadataFor reads the store again after missing in both). Data the
// store refuses stays in the cache as well, for the next flush (another
// upload of the blob, a confirmation request) or until it expires: a failed
// write must not lose what the client was told is buffered.
func (s *Server) flushPending(id blob.ID) {
	p := s.pending.peek(id)
	if p == nil {
		return
	}
	if p.md != nil {
		_, ok, err := s.deps.Store.Metadata(id)
		if err == nil && !ok {
			err = s.deps.Store.PutMetadata(p.md)
		}
		if err != nil {
			s.log.Error("storing pending metadata", "blob_id", id, "err", err)
			return
		}
	}
	var slivers []ShardSliver
	for k, sl := range p.slivers {
		if s.deps.Chain.Owns(k.shard) {
			slivers = append(slivers, ShardSliver{Shard: k.shard, Sliver: sl})
		}
	}
	if len(slivers) > 0 {
		if err := s.deps.Store.PutSlivers(id, slivers); err != nil {
			s.log.Error("storing pending slivers", "blob_id", id, "slivers", len(slivers), "err", err)
			return
		}
	}
	s.pending.remove(id, p)
}

// getAPIDocs serves the OpenAPI description. A failed write is not
// returned: the answer has started, there is no error answer to give.
func (s *Server) getAPIDocs(w http.ResponseWriter, _ *http.Request) error {
	w.Header().Set(headerContentType, "application/yaml")
	_, _ = w.Write(openAPI)
	return nil
}

func (s *Server) getHealth(w http.ResponseWriter, r *http.Request) error {
	detailed := false
	if v := r.URL.Query().Get("detailed"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return errInvalidParameter("detailed", v)
		}
		detailed = b
	}
	var h HealthInfo
	if s.deps.Health != nil {
		h = s.deps.Health.Health(detailed)
	} else {
		h = HealthInfo{Epoch: s.deps.Chain.Epoch(), PublicKey: PublicKey(s.deps.Key.PublicKey().Bytes()), NodeStatus: NodeStatusActive}
		h.ShardSummary.Owned = len(s.deps.Chain.OwnedShards())
		h.ShardSummary.OwnedShardStatus.Ready = h.ShardSummary.Owned
	}
	writeSuccess(w, http.StatusOK, h)
	return nil
}

func (s *Server) getBlobStatus(w http.ResponseWriter, r *http.Request) error {
	id, err := s.blobID(r)
	if err != nil {
		return err
	}
	st, err := s.deps.Chain.Status(id)
	if err != nil {
		return err
	}
	writeSuccess(w, http.StatusOK, st)
	return nil
}
