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
	// ConsistencyDefault; Strict re-encodes the whole blob; Skip
	// trusts the verified slivers).
	Consistency Consistency
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
	need := c.params.PrimarySymbols()
	p.bytes(PhaseSlivers, 0, int64(need))
	queue := c.pairSources(md.ID, cur, prev)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pc := &primaryCollector{need: need, cancel: cancel, p: p, have: map[int]bool{}}
	sem := make(chan struct{}, c.cfg.ReadConcurrency)
	var wg sync.WaitGroup
	for _, src := range queue {
		enough, dup := pc.state(src.pair)
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
		wg.Go(func() {
			defer func() { <-sem }()
			err := c.collectPrimary(ctx, md, src, pc)
			if err != nil && !errors.Is(err, context.Canceled) {
				pc.fail(fmt.Errorf("%s pair %d: %w", src.address, src.pair, err))
			}
		})
	}
	wg.Wait()
	if len(pc.got) < need {
		return nil, fmt.Errorf("%w: %d of %d primary slivers: %w", ErrNotEnoughSlivers, len(pc.got), need, errors.Join(pc.errs...))
	}
	return pc.got, nil
}

// pairSource is a node to ask for one sliver pair's primary sliver.
type pairSource struct {
	pair    int
	address string
}

// pairSources lists where primarySlivers asks for primary slivers: every
// shard's owner in the current committee, in random order to spread the
// load, then (during an epoch change) the owners in the previous one, for
// shards their new owner cannot serve yet.
func (c *Client) pairSources(id blob.ID, cur, prev *committee.Committee) []pairSource {
	var first, fallback []pairSource
	for s := range c.params.N() {
		pair := c.params.PairOfShard(id, s)
		if i, ok := cur.ShardOwner(s); ok {
			first = append(first, pairSource{pair, cur.Member(i).NetworkAddress})
		}
		if prev != nil {
			if i, ok := prev.ShardOwner(s); ok && prev.Member(i).NetworkAddress != "" {
				fallback = append(fallback, pairSource{pair, prev.Member(i).NetworkAddress})
			}
		}
	}
	rand.Shuffle(len(first), func(i, j int) { first[i], first[j] = first[j], first[i] })
	return append(first, fallback...)
}

// collectPrimary fetches the primary sliver of src, verifies it against
// the metadata and hands it to pc; it returns the failure of the fetch or
// of the verification.
func (c *Client) collectPrimary(ctx context.Context, md *blob.MetadataWithID, src pairSource, pc *primaryCollector) error {
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
	pc.keep(src.pair, s)
	return nil
}

// primaryCollector is the shared state of primarySlivers' concurrent
// fetches: the verified slivers so far (at most one per pair, at most
// need) and the failures. Its mutex guards them until the fetches end.
type primaryCollector struct {
	need   int
	cancel context.CancelFunc // stops the other fetches once there are need
	p      *reporter

	mu   sync.Mutex
	got  []redstuff.Sliver
	have map[int]bool // the pairs in got
	errs []error
}

// state reports whether enough slivers are there, and whether pair's is
// among them (so that asking another node for it would be wasted).
func (pc *primaryCollector) state(pair int) (enough, dup bool) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	return len(pc.got) >= pc.need, pc.have[pair]
}

// keep adds a verified sliver of pair unless that pair's or enough slivers
// are there already, reports it, and cancels the other fetches when it is
// the last one needed.
func (pc *primaryCollector) keep(pair int, s *redstuff.Sliver) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if !pc.have[pair] && len(pc.got) < pc.need {
		pc.have[pair] = true
		pc.got = append(pc.got, *s)
		pc.p.add(1)
		if len(pc.got) >= pc.need {
			pc.cancel()
		}
	}
}

// fail records the failure of one fetch.
func (pc *primaryCollector) fail(err error) {
	pc.mu.Lock()
	pc.errs = append(pc.errs, err)
	pc.mu.Unlock()
}
