// Package client is the Go SDK of Walrus in Go: it stores blobs (encode,
// register on chain, upload to the storage nodes, collect confirmations,
// certify) and reads them back (metadata and primary slivers from the nodes,
// each verified, decoded and checked). It talks to the chain through
// chainclient and to storage nodes through nodeapi's HTTP client; it never
// imports the node or its store.
//
// Storing follows Walrus's client: encode; ask the nodes for the blob's
// status (a permanent blob already certified long enough costs nothing:
// alreadyCertified); plan the resources (reuse an owned registration, else
// an owned Storage resource, else reserve and register in one
// transaction); upload metadata and slivers to every node of the committee
// with bounded concurrency and bytes in flight (uploads start with
// ?pending=true while the registration is in flight); collect and verify
// confirmations until n−f shard weight; aggregate; certify (with the
// transfer to another owner or the sharing in the same transaction); and
// let the uploads to the remaining nodes finish in the background
// (WaitUploads waits for them). The results are Walrus's JSON shapes
// (BlobStoreResult and friends), which the CLI prints and the gateway
// serves.
//
// Reading asks the chain whether the blob ID was invalidated, fetches
// metadata from the nodes (verified against the ID), then primary slivers
// (each verified) until k_p, decodes and checks consistency (Default,
// Strict or Skip). Management (list, delete, extend, share, fund, burn,
// attributes), staking, system information and node health are thin
// typed transactions and queries.
package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/chain"
	"github.com/walrus-go/walrus/chain/chainclient"
	"github.com/walrus-go/walrus/committee"
	"github.com/walrus-go/walrus/ids"
	"github.com/walrus-go/walrus/internal/nodetls"
	"github.com/walrus-go/walrus/nodeapi"
	"github.com/walrus-go/walrus/redstuff"
)

// Config configures a Client. Zero values take the defaults. The YAML
// names are those of Walrus's communication_config where Walrus has one.
type Config struct {
	// UploadConcurrency bounds the metadata and sliver uploads in flight
	// across the whole committee (default 64).
	UploadConcurrency int `yaml:"max_concurrent_writes"`
	// MaxDataInFlight bounds the sliver bytes being uploaded at once
	// (default 125 MB, Walrus's "balanced" preset). A sliver larger than
	// the bound is sent alone.
	MaxDataInFlight int64 `yaml:"max_data_in_flight"`
	// ReadConcurrency is how many sliver requests a read runs at once (default 32).
	ReadConcurrency int `yaml:"max_concurrent_sliver_reads"`
	// StatusConcurrency is how many nodes are asked for a blob status at
	// once (default 32).
	StatusConcurrency int `yaml:"max_concurrent_status_reads"`
	// NodeTimeout bounds the work with one node in a store or read,
	// including a background tail upload (default 2m).
	NodeTimeout time.Duration `yaml:"node_timeout"`
	// StatusTimeout bounds a blob-status request to one node (default 10s).
	StatusTimeout time.Duration `yaml:"status_timeout"`
	// ConfirmationWait is how long a node may wait for the registration
	// before confirming (the long-poll; default 5s).
	ConfirmationWait time.Duration `yaml:"confirmation_wait"`
	// MemoryBudget is the memory a store or read aims to stay within
	// (default 512 MiB): it sizes the encoder's and decoder's buffers and
	// the uploads in flight, and decides whether scratch space stays in
	// memory or goes to a temporary file. Memory does not grow with the
	// blob's size beyond it.
	MemoryBudget int64 `yaml:"memory_budget"`
	// TempDir is where scratch space and spooled streams go (default: the
	// system's temporary directory).
	TempDir string `yaml:"temp_dir"`
	// HTTP is the client for storage nodes (nil: one of the client's own).
	// Its transport, when an *http.Transport, is cloned and given the TLS
	// dialer that pins each node's registered network key; another
	// RoundTripper is used as it is and must do its own pinning (or use
	// WrapTransport instead).
	HTTP *http.Client `yaml:"-"`
	// WrapTransport, if set, wraps the pinned transport to storage nodes
	// (tests inject faults this way).
	WrapTransport func(http.RoundTripper) http.RoundTripper `yaml:"-"`
	// PlainHTTP reaches storage nodes over plain HTTP: only for debugging
	// a network whose nodes disable TLS (tls.disable_tls).
	PlainHTTP bool `yaml:"plain_http,omitempty"`
}

func (c Config) withDefaults() Config {
	if c.UploadConcurrency == 0 {
		c.UploadConcurrency = 64
	}
	if c.MaxDataInFlight == 0 {
		c.MaxDataInFlight = 125_000_000
	}
	if c.ReadConcurrency == 0 {
		c.ReadConcurrency = 32
	}
	if c.StatusConcurrency == 0 {
		c.StatusConcurrency = 32
	}
	if c.NodeTimeout == 0 {
		c.NodeTimeout = 2 * time.Minute
	}
	if c.StatusTimeout == 0 {
		c.StatusTimeout = 10 * time.Second
	}
	if c.ConfirmationWait == 0 {
		c.ConfirmationWait = 5 * time.Second
	}
	if c.MemoryBudget == 0 {
		c.MemoryBudget = DefaultMemoryBudget
	}
	return c
}

// nodeHTTP is the HTTP client for storage nodes: cfg's (or a default one)
// with a transport that pins the nodes' registered keys.
func nodeHTTP(cfg Config, pins *nodetls.Pins) *http.Client {
	var hc http.Client
	if cfg.HTTP != nil {
		hc = *cfg.HTTP
	}
	switch t := hc.Transport.(type) {
	case nil:
		base := http.DefaultTransport.(*http.Transport).Clone()
		base.MaxIdleConnsPerHost = 64
		hc.Transport = pins.Transport(base)
	case *http.Transport:
		hc.Transport = pins.Transport(t)
	}
	if cfg.WrapTransport != nil {
		hc.Transport = cfg.WrapTransport(hc.Transport)
	}
	return &hc
}

// Validate reports every problem of the configuration.
func (c *Config) Validate() error {
	var errs []error
	if c.UploadConcurrency < 0 || c.ReadConcurrency < 0 || c.StatusConcurrency < 0 {
		errs = append(errs, errors.New("client: concurrency must not be negative"))
	}
	if c.MaxDataInFlight < 0 {
		errs = append(errs, errors.New("client: max_data_in_flight must not be negative"))
	}
	if c.MemoryBudget < 0 || c.MemoryBudget > 0 && c.MemoryBudget < 64<<20 {
		errs = append(errs, errors.New("client: memory_budget must be at least 64 MiB"))
	}
	if c.NodeTimeout < 0 || c.ConfirmationWait < 0 || c.StatusTimeout < 0 {
		errs = append(errs, errors.New("client: timeouts must not be negative"))
	}
	return errors.Join(errs...)
}

// Client stores and reads blobs. It is safe for concurrent use.
type Client struct {
	cfg    Config
	chain  *chainclient.Client
	signer *chainclient.Signer
	params blob.Params
	enc    *redstuff.Encoder

	nodes *nodeapi.Pool
	// pins are the storage nodes' registered network keys by address,
	// refreshed with every look at the committees.
	pins *nodetls.Pins

	mu sync.Mutex
	// claimed are the Storage objects that stores in flight register on.
	claimed map[ids.ObjectID]bool
	// ownsChain: Close closes the chain connection (Open made it).
	ownsChain bool
	// lastTx is the height of the latest transaction of this client's
	// that made it into a block.
	lastTx atomic.Int64
	// planMu orders listing owned Storage and claiming from it (plan.go).
	planMu sync.Mutex
	// bufs are reusable buffers by capacity: *sync.Pool of *[]byte.
	bufs sync.Map

	// tails are the background uploads still running (see Store).
	tails struct {
		sync.WaitGroup
		ctx    context.Context
		cancel context.CancelFunc
	}
}

// newClient returns a client over ch that pays and signs with signer (nil: read-only).
func newClient(ctx context.Context, ch *chainclient.Client, signer *chainclient.Signer, cfg Config) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	sys, err := ch.System(ctx)
	if err != nil {
		return nil, fmt.Errorf("client: chain: %w", err)
	}
	p, err := blob.NewParams(int(sys.NShards))
	if err != nil {
		return nil, err
	}
	enc, err := redstuff.NewEncoder(p)
	if err != nil {
		return nil, err
	}
	c := &Client{cfg: cfg.withDefaults(), chain: ch, signer: signer, params: p, enc: enc, pins: nodetls.NewPins()}
	c.cfg.HTTP = nodeHTTP(c.cfg, c.pins)
	c.nodes = nodeapi.NewPool(nodeapi.ClientConfig{HTTP: c.cfg.HTTP, Params: p, PlainHTTP: c.cfg.PlainHTTP})
	_, _, _ = c.committees(ctx) // pins the nodes' keys; a network without a committee yet gets them later
	c.tails.ctx, c.tails.cancel = context.WithCancel(context.Background())
	return c, nil
}

// Params are the network's encoding parameters.
func (c *Client) Params() blob.Params { return c.params }

// node returns the API client of the node at address.
func (c *Client) node(address string) (*nodeapi.Client, error) { return c.nodes.Get(address) }

// committees returns the current committee and, while an epoch change is
// in progress, the previous one (nil otherwise).
func (c *Client) committees(ctx context.Context) (cur, prev *committee.Committee, err error) {
	sys, err := c.chain.System(ctx)
	if err != nil {
		return nil, nil, err
	}
	info, err := c.chain.Committee(ctx, "current")
	if err != nil {
		return nil, nil, err
	}
	if cur, err = info.Committee(); err != nil {
		return nil, nil, err
	}
	if cur.Len() == 0 {
		return nil, nil, ErrNoCommittee
	}
	if sys.State == chain.EpochChangeSync {
		if info, err := c.chain.Committee(ctx, "previous"); err == nil {
			if prev, err = info.Committee(); err != nil {
				return nil, nil, err
			}
		}
	}
	c.pins.Committees(cur, prev)
	return cur, prev, nil
}

// Address is the wallet's address (the zero address for a read-only client).
func (c *Client) Address() ids.Address {
	if c.signer == nil {
		return ids.Address{}
	}
	return c.signer.Address()
}

// WaitUploads waits until every background tail upload of earlier stores
// has finished (or ctx ends). A program that exits right after a store
// calls it so that the nodes that had not confirmed yet still get their
// slivers from the writer rather than by recovery.
func (c *Client) WaitUploads(ctx context.Context) error {
	done := make(chan struct{})
	go func() { c.tails.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close stops the background uploads and releases the client's idle
// connections to storage nodes, and the chain connection when Open made it
// (not one shared with WithKey's clients).
func (c *Client) Close() {
	c.tails.cancel()
	c.tails.Wait()
	c.cfg.HTTP.CloseIdleConnections()
	if c.ownsChain {
		c.chain.Close()
	}
}
