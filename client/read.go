package client

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/committee"
	"github.com/walrus-go/walrus/nodeapi"
	"github.com/walrus-go/walrus/redstuff"
)

// ReadOptions are the choices of a read.
type ReadOptions struct {
	// Consistency is the check after decoding (default
	// redstuff.ConsistencyDefault; Strict re-encodes the whole blob; Skip
	// trusts the verified slivers).
	Consistency redstuff.Consistency
	// Progress, if set, is told about the phases and the slivers read.
	Progress func(Progress)
	// MemoryBudget bounds the memory of the read (0: the client's
	// Config.MemoryBudget): slivers fetched ahead, decoder blocks, and
	// slivers kept in memory rather than in a temporary file.
	MemoryBudget int64
}

// Read returns a blob's bytes with the default consistency check (see ReadWith).
func (c *Client) Read(ctx context.Context, id blob.ID) ([]byte, error) {
	return c.ReadWith(ctx, id, ReadOptions{})
}

// members lists the distinct members of the committees, current first.
func members(cur, prev *committee.Committee) []*committee.Member {
	var out []*committee.Member
	seen := map[committee.NodeID]bool{}
	for _, c := range []*committee.Committee{cur, prev} {
		if c == nil {
			continue
		}
		for i := range c.Len() {
			m := c.Member(i)
			if !seen[m.NodeID] && m.NetworkAddress != "" {
				seen[m.NodeID] = true
				out = append(out, m)
			}
		}
	}
	return out
}

// metadata fetches a blob's metadata from the committees' nodes in random
// order and returns the first answer that verifies against the blob ID.
func (c *Client) metadata(ctx context.Context, id blob.ID, cur, prev *committee.Committee) (*blob.MetadataWithID, error) {
	ms := members(cur, prev)
	peers := make([]nodeapi.Peer, len(ms))
	for i, m := range ms {
		peers[i] = nodeapi.Peer{Address: m.NetworkAddress, Weight: m.Weight()}
	}
	md, miss, err := c.nodes.Metadata(ctx, id, peers)
	if err == nil {
		return md, nil
	}
	n := c.params.N()
	switch {
	case ctx.Err() != nil:
		return nil, err
	case committee.IsQuorum(miss.NotFound, n):
		return nil, fmt.Errorf("%w: %s", ErrBlobNotFound, id)
	case miss.Blocked > 0 && committee.IsValidity(miss.Blocked, n):
		return nil, fmt.Errorf("%w: %s", ErrBlobBlocked, id)
	}
	return nil, fmt.Errorf("%w: %w", ErrNotEnoughSlivers, err)
}

// primarySlivers reads verified primary slivers until there are k_p.
func (c *Client) primarySlivers(ctx context.Context, md *blob.MetadataWithID, cur, prev *committee.Committee, p *reporter) ([]redstuff.Sliver, error) {
	n, need := c.params.N(), c.params.PrimarySymbols()
	p.bytes(PhaseSlivers, 0, int64(need))
	type source struct {
		pair    int
		address string
	}
	var first, fallback []source
	for s := range n {
		pair := c.params.PairOfShard(md.ID, s)
		if i, ok := cur.ShardOwner(s); ok {
			first = append(first, source{pair, cur.Member(i).NetworkAddress})
		}
		if prev != nil {
			if i, ok := prev.ShardOwner(s); ok && prev.Member(i).NetworkAddress != "" {
				fallback = append(fallback, source{pair, prev.Member(i).NetworkAddress})
			}
		}
	}
	rand.Shuffle(len(first), func(i, j int) { first[i], first[j] = first[j], first[i] })
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var mu sync.Mutex
	var got []redstuff.Sliver
	have := map[int]bool{}
	var errs []error
	queue := append(first, fallback...)
	sem := make(chan struct{}, c.cfg.ReadConcurrency)
	var wg sync.WaitGroup
	for _, src := range queue {
		mu.Lock()
		enough, dup := len(got) >= need, have[src.pair]
		mu.Unlock()
		if enough {
			break
		}
		if dup {
			continue
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			err := func() error {
				nc, err := c.node(src.address)
				if err != nil {
					return err
				}
				rctx, rcancel := context.WithTimeout(ctx, c.cfg.NodeTimeout)
				defer rcancel()
				s, err := nc.Sliver(rctx, md.ID, src.pair, blob.Primary)
				if err != nil {
					return err
				}
				if err := c.enc.VerifySliver(s, &md.Metadata); err != nil {
					return err
				}
				mu.Lock()
				defer mu.Unlock()
				if !have[src.pair] && len(got) < need {
					have[src.pair] = true
					got = append(got, *s)
					p.add(1)
					if len(got) >= need {
						cancel()
					}
				}
				return nil
			}()
			if err != nil && !errors.Is(err, context.Canceled) {
				mu.Lock()
				errs = append(errs, fmt.Errorf("%s pair %d: %w", src.address, src.pair, err))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(got) < need {
		return nil, fmt.Errorf("%w: %d of %d primary slivers: %w", ErrNotEnoughSlivers, len(got), need, errors.Join(errs...))
	}
	return got, nil
}
