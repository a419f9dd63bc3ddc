// Package chainclient talks to the Walrus chain over CometBFT's RPC: it
// turns the application's queries into Go types, builds, signs and submits
// transactions and waits for their inclusion, and follows the event stream
// from a persisted cursor without gaps or duplicates across restarts.
package chainclient

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/walrus-go/walrus/bcs"
	"github.com/walrus-go/walrus/ids"

	rpcclient "github.com/cometbft/cometbft/rpc/client"
	rpchttp "github.com/cometbft/cometbft/rpc/client/http"
	jsonrpcclient "github.com/cometbft/cometbft/rpc/jsonrpc/client"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/chain"
)

// Errors returned by the client.
var (
	// ErrNotFound: the queried object or committee does not exist.
	ErrNotFound = errors.New("chainclient: not found")
	// ErrRejected: CheckTx refused the transaction (code and log in the message; see RejectedError).
	ErrRejected = errors.New("chainclient: transaction rejected")
	// ErrAborted: the transaction was included but aborted (see TxResult.Abort).
	ErrAborted = errors.New("chainclient: transaction aborted")
	// ErrQuery: the chain answered a query with an error.
	ErrQuery = errors.New("chainclient: query failed")
)

// RejectedError is a CheckTx rejection with its code (chain.Code*).
type RejectedError struct {
	Code uint32
	Log  string
}

func (e *RejectedError) Error() string {
	return fmt.Sprintf("chainclient: transaction rejected (code %d): %s", e.Code, e.Log)
}

// Unwrap makes errors.Is(err, ErrRejected) hold.
func (e *RejectedError) Unwrap() error { return ErrRejected }

// Config configures a Client.
type Config struct {
	// RPC is the CometBFT RPC address, e.g. http://127.0.0.1:26657.
	RPC string `yaml:"rpc"`
	// ChainID is checked against the node's (empty: taken from the node).
	ChainID string `yaml:"chain_id"`
	// PollInterval is how often inclusion and new events are polled (default 100ms).
	PollInterval time.Duration `yaml:"poll_interval"`
	// InclusionTimeout bounds waiting for a transaction (default 30s).
	InclusionTimeout time.Duration `yaml:"inclusion_timeout"`
}

// Validate reports every problem of the configuration.
func (c *Config) Validate() error {
	var errs []error
	if _, err := url.Parse(c.RPC); err != nil || c.RPC == "" {
		errs = append(errs, fmt.Errorf("chainclient: config: rpc %q is not a URL", c.RPC))
	}
	if c.PollInterval < 0 || c.InclusionTimeout < 0 {
		errs = append(errs, errors.New("chainclient: config: negative durations"))
	}
	return errors.Join(errs...)
}

// Client is a connection to one chain. It is safe for concurrent use.
type Client struct {
	rpc        rpcclient.Client
	httpClient *http.Client // made by Dial; nil for New
	chainID    string
	poll       time.Duration
	timeout    time.Duration
}

// Dial connects to a node's RPC and learns (or checks) the chain ID.
func Dial(ctx context.Context, cfg Config) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	hc, err := jsonrpcclient.DefaultHTTPClient(cfg.RPC)
	if err != nil {
		return nil, fmt.Errorf("chainclient: %w", err)
	}
	h, err := rpchttp.NewWithClient(cfg.RPC, "/websocket", hc)
	if err != nil {
		return nil, fmt.Errorf("chainclient: %w", err)
	}
	c, err := New(ctx, h, cfg)
	if err != nil {
		hc.CloseIdleConnections()
		return nil, err
	}
	c.httpClient = hc
	return c, nil
}

// Close releases the client's idle connections (a client made by Dial).
// The client must not be used afterwards.
func (c *Client) Close() {
	if c.httpClient != nil {
		c.httpClient.CloseIdleConnections()
	}
}

// New wraps an existing CometBFT RPC client (HTTP or in-process).
func New(ctx context.Context, rpc rpcclient.Client, cfg Config) (*Client, error) {
	st, err := rpc.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("chainclient: status: %w", err)
	}
	if cfg.ChainID != "" && cfg.ChainID != st.NodeInfo.Network {
		return nil, fmt.Errorf("chainclient: node is on chain %q, want %q", st.NodeInfo.Network, cfg.ChainID)
	}
	c := &Client{rpc: rpc, chainID: st.NodeInfo.Network, poll: cfg.PollInterval, timeout: cfg.InclusionTimeout}
	if c.poll == 0 {
		c.poll = 100 * time.Millisecond
	}
	if c.timeout == 0 {
		c.timeout = 30 * time.Second
	}
	return c, nil
}

// ChainID is the chain's ID.
func (c *Client) ChainID() string { return c.chainID }

// RPC is the underlying CometBFT client.
func (c *Client) RPC() rpcclient.Client { return c.rpc }

// query runs an ABCI query and returns its value and the height it was answered at.
func (c *Client) query(ctx context.Context, path string) ([]byte, int64, error) {
	r, err := c.rpc.ABCIQuery(ctx, path, nil)
	if err != nil {
		return nil, 0, fmt.Errorf("chainclient: query %s: %w", path, err)
	}
	switch r.Response.Code {
	case 0:
		return r.Response.Value, r.Response.Height, nil
	case 2:
		return nil, r.Response.Height, fmt.Errorf("%w: %s", ErrNotFound, r.Response.Log)
	}
	return nil, r.Response.Height, fmt.Errorf("%w: %s: code %d: %s", ErrQuery, path, r.Response.Code, r.Response.Log)
}

// System returns the system state: epoch, shards, prices, capacity, timing.
func (c *Client) System(ctx context.Context) (*chain.System, error) {
	b, _, err := c.query(ctx, "/system")
	if err != nil {
		return nil, err
	}
	return chain.UnmarshalSystem(b)
}

// Committee returns a committee: which is "current", "previous", "next" or an epoch number.
func (c *Client) Committee(ctx context.Context, which string) (*chain.CommitteeInfo, error) {
	b, _, err := c.query(ctx, "/committee/"+which)
	if err != nil {
		return nil, err
	}
	return chain.UnmarshalCommitteeInfo(b)
}

// Account returns an account's balance and sequence.
func (c *Client) Account(ctx context.Context, a ids.Address) (chain.Account, error) {
	b, _, err := c.query(ctx, "/account/"+a.String())
	if err != nil {
		return chain.Account{}, err
	}
	return chain.UnmarshalAccount(b)
}

// NextSequence is the sequence an account's next transaction must carry:
// its committed sequence plus its transactions already accepted into the
// mempool (by any process), plus one.
func (c *Client) NextSequence(ctx context.Context, a ids.Address) (uint64, error) {
	acct, err := c.Account(ctx, a)
	if err != nil {
		return 0, err
	}
	b, _, err := c.query(ctx, "/account/"+a.String()+"/pending")
	if err != nil {
		return 0, err
	}
	d := bcs.NewDecoder(b)
	pending := d.U64()
	if err := d.Finish(); err != nil {
		return 0, fmt.Errorf("chainclient: pending count: %w", err)
	}
	return acct.Sequence + pending + 1, nil
}

// Object returns an object (ErrNotFound if it does not exist).
func (c *Client) Object(ctx context.Context, id ids.ObjectID) (*chain.Object, error) {
	b, _, err := c.query(ctx, "/object/"+id.String())
	if err != nil {
		return nil, err
	}
	return chain.UnmarshalObject(b)
}

func (c *Client) objects(ctx context.Context, path string) ([]*chain.Object, error) {
	b, _, err := c.query(ctx, path)
	if err != nil {
		return nil, err
	}
	return chain.UnmarshalObjects(b)
}

// BlobsByOwner returns the Blob objects an address owns.
func (c *Client) BlobsByOwner(ctx context.Context, a ids.Address) ([]*chain.Object, error) {
	return c.objects(ctx, "/blobs/owner/"+a.String())
}

// StorageByOwner returns the Storage resources an address owns.
func (c *Client) StorageByOwner(ctx context.Context, a ids.Address) ([]*chain.Object, error) {
	return c.objects(ctx, "/storage/owner/"+a.String())
}

// BlobStatus returns every Blob or SharedBlob object with a blob ID, and whether it was invalidated.
func (c *Client) BlobStatus(ctx context.Context, id blob.ID) (*chain.BlobStatus, error) {
	b, _, err := c.query(ctx, "/blobs/id/"+id.String())
	if err != nil {
		return nil, err
	}
	return chain.UnmarshalBlobStatus(b)
}

// Pools returns every staking pool (storage node).
func (c *Client) Pools(ctx context.Context) ([]*chain.Object, error) { return c.objects(ctx, "/pools") }

// Staked returns the StakedWal objects an address owns.
func (c *Client) Staked(ctx context.Context, a ids.Address) ([]*chain.Object, error) {
	return c.objects(ctx, "/staked/"+a.String())
}

// Events returns up to limit events after a cursor (the zero cursor: from the start).
func (c *Client) Events(ctx context.Context, after chain.Cursor, limit int) (*chain.EventPage, error) {
	path := "/events?limit=" + strconv.Itoa(limit)
	if after != (chain.Cursor{}) {
		path += "&after=" + after.String()
	}
	b, _, err := c.query(ctx, path)
	if err != nil {
		return nil, err
	}
	return chain.UnmarshalEventPage(b)
}
