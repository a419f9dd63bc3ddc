// Package client is the Go SDK of Walrus in Go: it stores blobs (encode,
// register on chain, upload to the storage nodes, collect confirmations,
// certify) and reads them back (metadata and primary slivers from the nodes,
// each verified, decoded and checked). It talks to the chain through
// chainclient and to storage nodes through nodeapi's HTTP client; it never
// imports the node or its store.
//
// This is the minimal store and read path the storage-node issue needs;
// the client issue extends it into the full SDK (resource reuse, status
// checks, background tail uploads, streaming, blob management).
package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/chain"
	"github.com/walrus-go/walrus/chain/chainclient"
	"github.com/walrus-go/walrus/committee"
	"github.com/walrus-go/walrus/nodeapi"
	"github.com/walrus-go/walrus/redstuff"
)

// Errors the client returns (wrapped with details); match with errors.Is.
var (
	// ErrNotEnoughConfirmations: the nodes that confirmed storage hold fewer
	// than n−f shards, so the blob cannot be certified.
	ErrNotEnoughConfirmations = errors.New("client: not enough storage confirmations to certify the blob")
	// ErrBlobNotFound: nodes holding a quorum of shards do not know the blob.
	ErrBlobNotFound = errors.New("client: blob not found")
	// ErrBlobInvalid: the blob was declared invalid, or decodes inconsistently.
	ErrBlobInvalid = errors.New("client: blob is invalid")
	// ErrBlobBlocked: the nodes refuse to serve the blob (HTTP 451).
	ErrBlobBlocked = errors.New("client: blob is blocked")
	// ErrNotEnoughSlivers: fewer valid slivers than decoding needs could be read.
	ErrNotEnoughSlivers = errors.New("client: not enough valid slivers to decode the blob")
	// ErrNoCommittee: the chain has no storage committee yet.
	ErrNoCommittee = errors.New("client: the chain has no storage committee")
)

// Config configures a Client. Zero values take the defaults.
type Config struct {
	// UploadConcurrency is how many nodes are written to at once (default 32).
	UploadConcurrency int `yaml:"upload_concurrency"`
	// ReadConcurrency is how many sliver requests run at once (default 32).
	ReadConcurrency int `yaml:"read_concurrency"`
	// NodeTimeout bounds the work with one node in a store or read (default 2m).
	NodeTimeout time.Duration `yaml:"node_timeout"`
	// ConfirmationWait is how long a node may wait for the registration
	// before confirming (the long-poll; default 5s).
	ConfirmationWait time.Duration `yaml:"confirmation_wait"`
	// HTTP is the client for storage nodes (nil: one of the client's own).
	HTTP *http.Client `yaml:"-"`
}

func (c Config) withDefaults() Config {
	if c.UploadConcurrency == 0 {
		c.UploadConcurrency = 32
	}
	if c.ReadConcurrency == 0 {
		c.ReadConcurrency = 32
	}
	if c.NodeTimeout == 0 {
		c.NodeTimeout = 2 * time.Minute
	}
	if c.ConfirmationWait == 0 {
		c.ConfirmationWait = 5 * time.Second
	}
	if c.HTTP == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = 32
		c.HTTP = &http.Client{Transport: tr}
	}
	return c
}

// Validate reports every problem of the configuration.
func (c *Config) Validate() error {
	var errs []error
	if c.UploadConcurrency < 0 || c.ReadConcurrency < 0 {
		errs = append(errs, errors.New("client: concurrency must not be negative"))
	}
	if c.NodeTimeout < 0 || c.ConfirmationWait < 0 {
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

	mu    sync.Mutex
	nodes map[string]*nodeapi.Client
}

// New returns a client that pays and signs with signer (nil: read-only).
func New(ctx context.Context, ch *chainclient.Client, signer *chainclient.Signer, cfg Config) (*Client, error) {
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
	return &Client{cfg: cfg.withDefaults(), chain: ch, signer: signer, params: p, enc: enc, nodes: map[string]*nodeapi.Client{}}, nil
}

// Params are the network's encoding parameters.
func (c *Client) Params() blob.Params { return c.params }

// Encoder is the client's encoder for the network's parameters.
func (c *Client) Encoder() *redstuff.Encoder { return c.enc }

// Chain is the client's chain connection.
func (c *Client) Chain() *chainclient.Client { return c.chain }

// Node returns the API client of the node at address.
func (c *Client) Node(address string) (*nodeapi.Client, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n := c.nodes[address]; n != nil {
		return n, nil
	}
	n, err := nodeapi.NewClient(address, nodeapi.ClientConfig{HTTP: c.cfg.HTTP, Params: c.params})
	if err != nil {
		return nil, err
	}
	c.nodes[address] = n
	return n, nil
}

// Committees returns the current committee and, while an epoch change is
// in progress, the previous one (nil otherwise).
func (c *Client) Committees(ctx context.Context) (cur, prev *committee.Committee, err error) {
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
	return cur, prev, nil
}

// Close releases the client's idle connections to storage nodes. It does
// not close the chain client it was given.
func (c *Client) Close() { c.cfg.HTTP.CloseIdleConnections() }
