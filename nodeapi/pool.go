package nodeapi

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"

	"github.com/walrus-go/walrus/blob"
)

// Pool keeps one Client per node address, all sharing one HTTP client. It
// is safe for concurrent use; the client SDK and the storage node (talking
// to its peers) each hold one.
type Pool struct {
	cfg ClientConfig

	mu      sync.Mutex
	clients map[string]*Client
}

// NewPool returns a pool whose clients use cfg (cfg.Params is required).
func NewPool(cfg ClientConfig) *Pool {
	return &Pool{cfg: cfg, clients: map[string]*Client{}}
}

// Get returns the client of the node at address, making it on first use.
func (p *Pool) Get(address string) (*Client, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if c := p.clients[address]; c != nil {
		return c, nil
	}
	c, err := NewClient(address, p.cfg)
	if err != nil {
		return nil, err
	}
	p.clients[address] = c
	return c, nil
}

// HTTP is the pool's HTTP client (nil when each Client has its own).
func (p *Pool) HTTP() *http.Client { return p.cfg.HTTP }

// CloseIdle closes the idle connections of the pool's HTTP client.
func (p *Pool) CloseIdle() {
	if p.cfg.HTTP != nil {
		p.cfg.HTTP.CloseIdleConnections()
	}
}

// Peer is a node to ask, with the shard weight its answer stands for.
type Peer struct {
	Address string
	Weight  int
}

// MetadataMisses sums the weight of the peers that answered that they do
// not have a blob (404) or that it is blocked (451), so a caller can tell
// "not stored" from "unreachable".
type MetadataMisses struct {
	NotFound, Blocked int
}

// Metadata asks peers in random order for a blob's metadata and returns
// the first answer that verifies against the blob ID. On failure it
// returns the misses and every peer's error.
func (p *Pool) Metadata(ctx context.Context, id blob.ID, peers []Peer) (*blob.MetadataWithID, MetadataMisses, error) {
	var miss MetadataMisses
	var errs []error
	peers = slices.Clone(peers)
	rand.Shuffle(len(peers), func(i, j int) { peers[i], peers[j] = peers[j], peers[i] })
	for _, peer := range peers {
		if err := ctx.Err(); err != nil {
			return nil, miss, err
		}
		c, err := p.Get(peer.Address)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		md, err := c.Metadata(ctx, id)
		if err == nil {
			if err = md.Verify(p.cfg.Params); err == nil {
				return md, miss, nil
			}
		}
		var apiErr *Error
		if errors.As(err, &apiErr) {
			switch apiErr.Code {
			case http.StatusNotFound:
				miss.NotFound += peer.Weight
			case http.StatusUnavailableForLegalReasons:
				miss.Blocked += peer.Weight
			}
		}
		errs = append(errs, fmt.Errorf("%s: %w", peer.Address, err))
	}
	if len(errs) == 0 {
		errs = append(errs, errors.New("no peer to ask"))
	}
	return nil, miss, fmt.Errorf("nodeapi: no peer gave valid metadata of %s: %w", id, errors.Join(errs...))
}
