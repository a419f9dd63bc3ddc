package node

import (
	"context"
	"errors"
	"slices"
	"sync"

	"github.com/walrus-go/walrus/chain"
	"github.com/walrus-go/walrus/chain/chainclient"
	"github.com/walrus-go/walrus/committee"
	"github.com/walrus-go/walrus/ids"
)

// view is the node's picture of the chain's committees: the current one
// (the epoch it signs for and accepts writes for), the previous one, and
// whether the change between them is still syncing. It is refreshed from
// chain queries, never from replayed events, so it always describes the
// chain as it is now.
type view struct {
	self ids.ObjectID
	// onChange, if set, hears of every new pair of committees (the peer
	// pool pins their keys).
	onChange func(cs ...*committee.Committee)

	mu struct {
		sync.RWMutex
		sys       *chain.System
		cur, prev *committee.Committee
		owned     []uint16 // shards held in the current committee, ascending
		prevOwned []uint16 // shards held in the previous committee
		serving   []uint16 // owned, plus prevOwned while the change syncs
	}
}

func newView(self ids.ObjectID) *view { return &view{self: self} }

// refresh reads the system state and the committees.
func (v *view) refresh(ctx context.Context, c *chainclient.Client) error {
	sys, err := c.System(ctx)
	if err != nil {
		return err
	}
	cur, err := committeeOf(ctx, c, "current")
	if err != nil {
		return err
	}
	prev, err := committeeOf(ctx, c, "previous")
	if err != nil {
		return err
	}
	v.set(sys, cur, prev)
	return nil
}

func committeeOf(ctx context.Context, c *chainclient.Client, which string) (*committee.Committee, error) {
	info, err := c.Committee(ctx, which)
	if errors.Is(err, chainclient.ErrNotFound) {
		return committee.New(0, 0, nil)
	}
	if err != nil {
		return nil, err
	}
	return info.Committee()
}

func (v *view) set(sys *chain.System, cur, prev *committee.Committee) {
	owned := shardsOf(cur, v.self)
	prevOwned := shardsOf(prev, v.self)
	serving := slices.Clone(owned)
	if sys.State == chain.EpochChangeSync {
		for _, s := range prevOwned {
			if !slices.Contains(owned, s) {
				serving = append(serving, s)
			}
		}
		slices.Sort(serving)
	}
	if v.onChange != nil {
		v.onChange(cur, prev)
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	v.mu.sys, v.mu.cur, v.mu.prev = sys, cur, prev
	v.mu.owned, v.mu.prevOwned, v.mu.serving = owned, prevOwned, serving
}

func shardsOf(c *committee.Committee, id ids.ObjectID) []uint16 {
	i, ok := c.Index(id)
	if !ok {
		return nil
	}
	s := slices.Clone(c.Member(i).Shards)
	slices.Sort(s)
	return s
}

// Epoch is the current committee's epoch.
func (v *view) Epoch() uint32 {
	v.mu.RLock()
	defer v.mu.RUnlock()
	if v.mu.sys == nil {
		return 0
	}
	return v.mu.sys.Epoch
}

// System returns the system state of the last refresh.
func (v *view) System() *chain.System {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.mu.sys
}

// Syncing reports whether an epoch change is in progress.
func (v *view) Syncing() bool {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.mu.sys != nil && v.mu.sys.State == chain.EpochChangeSync
}

// OwnedShards implements nodeapi.Chain.
func (v *view) OwnedShards() []uint16 {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.mu.owned
}

// PreviousShards returns the shards held in the previous committee.
func (v *view) PreviousShards() []uint16 {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.mu.prevOwned
}

// Owns implements nodeapi.Chain.
func (v *view) Owns(shard uint16) bool {
	_, ok := slices.BinarySearch(v.OwnedShards(), shard)
	return ok
}

// ServingShards implements nodeapi.Chain.
func (v *view) ServingShards() []uint16 {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.mu.serving
}

// Committees returns the current and previous committees.
func (v *view) Committees() (cur, prev *committee.Committee) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.mu.cur, v.mu.prev
}

// peer is another storage node: its address and the shards whose slivers
// it may hold now.
type peer struct {
	id      committee.NodeID
	address string
	shards  int // distinct shards across the committees considered
}

// peers lists the other nodes that may hold slivers: the current committee,
// and while an epoch change syncs, the previous one (whose members keep the
// shards they hand over until the change is done).
func (v *view) peers() []peer {
	v.mu.RLock()
	defer v.mu.RUnlock()
	byID := map[committee.NodeID]*peer{}
	held := map[committee.NodeID]map[uint16]bool{}
	var out []*peer
	add := func(c *committee.Committee) {
		for _, m := range c.Members() {
			if m.NodeID == v.self || m.NetworkAddress == "" {
				continue
			}
			p := byID[m.NodeID]
			if p == nil {
				p = &peer{id: m.NodeID, address: m.NetworkAddress}
				byID[m.NodeID], held[m.NodeID] = p, map[uint16]bool{}
				out = append(out, p)
			}
			for _, s := range m.Shards {
				held[m.NodeID][s] = true
			}
			p.shards = len(held[m.NodeID])
		}
	}
	add(v.mu.cur)
	if v.mu.sys != nil && v.mu.sys.State == chain.EpochChangeSync {
		add(v.mu.prev)
	}
	res := make([]peer, len(out))
	for i, p := range out {
		res[i] = *p
	}
	return res
}
