package chain

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/walrus-go/walrus/committee"
	"github.com/walrus-go/walrus/ids"
)

// BurnPercent is the share of an epoch's rewards burned at its end.
const BurnPercent = 3

// MaxActiveSet is the most nodes a committee can have (Walrus's
// TEMP_ACTIVE_SET_SIZE_LIMIT).
const MaxActiveSet = 150

// advanceTime moves the epoch timeline to the block time: voting end at
// half the epoch, epoch change at its end (spec 6.5).
func (c *txCtx) advanceTime() error {
	s := c.sys
	for range 3 {
		switch {
		case s.State == EpochChangeDone && c.now >= s.EpochStartMs+s.EpochDurationMs/2:
			if err := c.votingEnd(); err != nil {
				return err
			}
		case s.State == NextParamsSelected && c.now >= s.EpochStartMs+s.EpochDurationMs:
			if err := c.epochChange(); err != nil {
				return err
			}
		default:
			return nil
		}
	}
	return nil
}

// loadPools reads every pool, in node-ID order.
func (c *txCtx) loadPools() ([]*Object, error) {
	out := make([]*Object, 0, len(c.sys.Pools))
	for _, id := range c.sys.Pools {
		o, err := LoadObject(c.st, id)
		if err != nil {
			return nil, err
		}
		if o == nil || o.Kind != KindStakingPool {
			return nil, fmt.Errorf("chain: pool %s missing", id)
		}
		out = append(out, o)
	}
	return out, nil
}

// nextStake is a pool's stake in the next epoch: its active WAL, plus stake
// activating by then, minus withdrawals due by then (at today's rate).
func nextStake(p *StakingPool, next uint32) uint64 {
	stake := p.WalBalance
	r := ExchangeRate{p.WalBalance, p.Shares}
	for _, e := range p.PendingWithdraw {
		if e.Epoch <= next {
			stake -= min(stake, r.walFor(e.Amount))
		}
	}
	for _, e := range p.PendingStake {
		if e.Epoch <= next {
			stake += e.Amount
		}
	}
	return stake
}

// votingEnd selects the next committee and the next epoch's capacity.
func (c *txCtx) votingEnd() error {
	s := c.sys
	pools, err := c.loadPools()
	if err != nil {
		return err
	}
	var cands []Candidate
	keys := map[ids.ObjectID][48]byte{}
	for _, o := range pools {
		p := o.Pool
		if p.State != PoolActive {
			continue
		}
		if st := nextStake(p, s.Epoch+1); st > 0 {
			cands = append(cands, Candidate{NodeID: p.ID, Stake: st})
			k := p.PublicKey
			if p.NextPublicKey != nil {
				k = *p.NextPublicKey
			}
			keys[p.ID] = k
		}
		// Commission earned this epoch becomes collectable now.
		if p.CommissionLocked > 0 {
			prev := *o
			np := *p
			np.Commission += np.CommissionLocked
			np.CommissionLocked = 0
			o.Pool = &np
			c.save(o, &prev)
		}
	}
	next := SelectCommittee(cands, int(s.NShards), s.Committee)
	for i := range next {
		next[i].PublicKey = keys[next[i].NodeID]
	}
	s.Next = next
	s.NextCapacity = s.TotalCapacity
	if len(s.Committee) > 0 {
		s.NextCapacity, err = c.capacityVote()
		if err != nil {
			return err
		}
	}
	s.State, s.StateTimeMs = NextParamsSelected, c.now
	if len(next) > 0 {
		c.emit(epochEvent(EventEpochParametersSelected, s.Epoch+1))
	}
	return nil
}

// epochChange ends the epoch: rewards to the old committee, the accounting
// ring moves on, the next committee takes over, pools advance.
func (c *txCtx) epochChange() error {
	s := c.sys
	if len(s.Next) == 0 {
		// Nobody to hand over to: the epoch starts again.
		s.State, s.EpochStartMs, s.StateTimeMs = EpochChangeDone, c.now, c.now
		return nil
	}
	rewards := map[ids.ObjectID]uint64{}
	total := s.Future[0].Rewards
	burn := total * BurnPercent / 100
	s.Burned += burn
	s.TotalSupply -= min(burn, s.TotalSupply)
	dist := total - burn
	var paid uint64
	for _, a := range s.Committee {
		r := mulDiv(dist, uint64(len(a.Shards)), uint64(s.NShards))
		rewards[a.NodeID] = r
		paid += r
	}
	leftover := dist - paid
	if len(s.Committee) == 0 {
		leftover = dist
	}
	s.Future = append(s.Future[1:], Accounting{})
	s.Future[0].Rewards += leftover
	s.Epoch++
	s.Previous, s.Committee, s.Next = s.Committee, s.Next, nil
	if s.NextCapacity > 0 {
		s.TotalCapacity = max(s.NextCapacity, s.Future[0].Used)
	}
	pools, err := c.loadPools()
	if err != nil {
		return err
	}
	for _, o := range pools {
		prev := *o
		p := *o.Pool
		c.advancePool(&p, s.Epoch, rewards[p.ID], s.Committee)
		o.Pool = &p
		c.save(o, &prev)
	}
	s.State, s.SyncWeight, s.EpochStartMs, s.StateTimeMs = EpochChangeSync, 0, c.now, c.now
	c.emit(epochEvent(EventEpochChangeStart, s.Epoch))
	if err := c.updatePrices(); err != nil {
		return err
	}
	if len(s.Previous) == 0 {
		// The first committee has nothing to sync from.
		s.State = EpochChangeDone
		c.emit(epochEvent(EventEpochChangeDone, s.Epoch))
	}
	return nil
}

// advancePool moves a pool into epoch e: commission changes, rewards of the
// epoch that ended, the exchange rate of e, withdrawals and new stake.
func (c *txCtx) advancePool(p *StakingPool, e uint32, reward uint64, committee []Assignment) {
	var rates []EpochAmount
	for _, r := range p.PendingRates {
		if r.Epoch <= e {
			p.CommissionRate = uint16(r.Amount)
		} else {
			rates = append(rates, r)
		}
	}
	p.PendingRates = rates
	if reward > 0 {
		com := mulDiv(reward, uint64(p.CommissionRate), MaxCommissionRate)
		p.CommissionLocked += com
		p.WalBalance += reward - com
	}
	rate := ExchangeRate{p.WalBalance, p.Shares}
	c.st.Set(keyRate(p.ID, e), rate.marshal())
	var keep []EpochAmount
	for _, w := range p.PendingWithdraw {
		if w.Epoch > e {
			keep = append(keep, w)
			continue
		}
		p.WalBalance -= min(rate.walFor(w.Amount), p.WalBalance)
		p.Shares -= min(w.Amount, p.Shares)
	}
	p.PendingWithdraw = keep
	keep = nil
	for _, st := range p.PendingStake {
		if st.Epoch > e {
			keep = append(keep, st)
			continue
		}
		p.Shares += rate.sharesFor(st.Amount)
		p.WalBalance += st.Amount
	}
	p.PendingStake = keep
	// A new BLS key takes over when the committee that starts now was
	// selected with it; a key set after voting end waits for the next change.
	if p.NextPublicKey != nil {
		rotate := true
		if i, in := memberIndex(committee, p.ID); in {
			rotate = committee[i].PublicKey == *p.NextPublicKey
		}
		if rotate {
			c.st.Delete(keyBLS(p.PublicKey))
			p.PublicKey, p.NextPublicKey = *p.NextPublicKey, nil
		}
	}
}

// WeightedVote is one committee member's vote and weight.
type WeightedVote struct {
	Value  uint64
	Weight int
}

// QuorumBelow is the lowest value v such that members voting at most v
// hold a quorum (n-f) of the n shards: the price rule of spec 6.3. It
// returns false if the votes do not reach a quorum.
func QuorumBelow(votes []WeightedVote, n int) (uint64, bool) {
	v := slices.Clone(votes)
	slices.SortStableFunc(v, func(a, b WeightedVote) int { return cmpU64(a.Value, b.Value) })
	w := 0
	for _, x := range v {
		w += x.Weight
		if committee.IsQuorum(w, n) {
			return x.Value, true
		}
	}
	return 0, false
}

// QuorumAbove is the highest value v such that members voting at least v
// hold a quorum: the capacity rule of spec 6.3.
func QuorumAbove(votes []WeightedVote, n int) (uint64, bool) {
	v := slices.Clone(votes)
	slices.SortStableFunc(v, func(a, b WeightedVote) int { return cmpU64(b.Value, a.Value) })
	w := 0
	for _, x := range v {
		w += x.Weight
		if committee.IsQuorum(w, n) {
			return x.Value, true
		}
	}
	return 0, false
}

func cmpU64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// committeeVotes reads the votes of the current committee's members.
func (c *txCtx) committeeVotes() ([]*StakingPool, []int, error) {
	var pools []*StakingPool
	var weights []int
	for _, a := range c.sys.Committee {
		o, err := LoadObject(c.st, a.NodeID)
		if err != nil {
			return nil, nil, err
		}
		if o == nil || o.Kind != KindStakingPool {
			return nil, nil, fmt.Errorf("chain: committee member %s has no pool", a.NodeID)
		}
		pools = append(pools, o.Pool)
		weights = append(weights, len(a.Shards))
	}
	return pools, weights, nil
}

// updatePrices sets the prices from the committee's votes and emits
// PricesUpdated when they change.
func (c *txCtx) updatePrices() error {
	s := c.sys
	pools, weights, err := c.committeeVotes()
	if err != nil || len(pools) == 0 {
		return err
	}
	var sv, wv []WeightedVote
	for i, p := range pools {
		sv = append(sv, WeightedVote{p.StoragePrice, weights[i]})
		wv = append(wv, WeightedVote{p.WritePrice, weights[i]})
	}
	sp, ok1 := QuorumBelow(sv, int(s.NShards))
	wp, ok2 := QuorumBelow(wv, int(s.NShards))
	if !ok1 || !ok2 || sp == s.StoragePrice && wp == s.WritePrice {
		return nil
	}
	s.StoragePrice, s.WritePrice = sp, wp
	c.emit((&PricesUpdated{Epoch: s.Epoch, StoragePrice: sp, WritePrice: wp}).event())
	return nil
}

// capacityVote is the quorum_above of the committee's capacity votes, each
// scaled to the whole system (node_capacity × n / node_shards).
func (c *txCtx) capacityVote() (uint64, error) {
	s := c.sys
	pools, weights, err := c.committeeVotes()
	if err != nil {
		return 0, err
	}
	var v []WeightedVote
	for i, p := range pools {
		v = append(v, WeightedVote{mulDiv(p.NodeCapacity, uint64(s.NShards), uint64(weights[i])), weights[i]})
	}
	capacity, ok := QuorumAbove(v, int(s.NShards))
	if !ok {
		return s.TotalCapacity, nil
	}
	return capacity, nil
}

// Candidate is a node competing for shards, with its stake.
type Candidate struct {
	NodeID ids.ObjectID
	Stake  uint64
}

// MaxShardsPerNode is the per-node cap of the apportionment: n/10 with 20
// nodes or more, else ceil(2n/nodes) (and never below ceil(n/nodes)).
func MaxShardsPerNode(n, nodes int) int {
	if nodes == 0 {
		return n
	}
	cap := (2*n + nodes - 1) / nodes
	if nodes >= 20 {
		cap = n / 10
	}
	return max(cap, (n+nodes-1)/nodes)
}

// Apportion distributes n shards over candidates ranked by stake (highest
// first, ties by node ID) with D'Hondt, starting from the
// Hagenbach-Bischoff lower bounds and respecting the per-node cap. It
// returns the shard counts in the ranked order, and the ranking.
func Apportion(cands []Candidate, n int) ([]Candidate, []int) {
	ranked := slices.Clone(cands)
	slices.SortStableFunc(ranked, func(a, b Candidate) int {
		if c := cmpU64(b.Stake, a.Stake); c != 0 {
			return c
		}
		return bytes.Compare(a.NodeID[:], b.NodeID[:])
	})
	if len(ranked) > MaxActiveSet {
		ranked = ranked[:MaxActiveSet]
	}
	counts := make([]int, len(ranked))
	if len(ranked) == 0 {
		return ranked, counts
	}
	capN := MaxShardsPerNode(n, len(ranked))
	var total uint64
	for _, c := range ranked {
		total += c.Stake
	}
	quota := total/uint64(n+1) + 1
	assigned := 0
	for i, c := range ranked {
		counts[i] = min(int(c.Stake/quota), capN)
		assigned += counts[i]
	}
	for ; assigned < n; assigned++ {
		best := -1
		for i, c := range ranked {
			if counts[i] >= capN {
				continue
			}
			// stake_i/(counts_i+1) > stake_best/(counts_best+1), exactly.
			if best < 0 || greaterQuotient(c.Stake, uint64(counts[i]+1), ranked[best].Stake, uint64(counts[best]+1)) {
				best = i
			}
		}
		counts[best]++
	}
	return ranked, counts
}

func greaterQuotient(a, da, b, db uint64) bool {
	ah, al := mul128(a, db)
	bh, bl := mul128(b, da)
	return ah > bh || ah == bh && al > bl
}

// SelectCommittee picks the next committee: the apportionment by stake,
// then minimal shard movement from the current committee. Nodes with no
// shards are left out; the result is sorted by node ID.
func SelectCommittee(cands []Candidate, n int, current []Assignment) []Assignment {
	ranked, counts := Apportion(cands, n)
	want := map[ids.ObjectID]int{}
	for i, c := range ranked {
		if counts[i] > 0 {
			want[c.NodeID] = counts[i]
		}
	}
	if len(want) == 0 {
		return nil
	}
	return Transition(current, want, n)
}

// Transition moves shards from the current assignment to the wanted shard
// counts, keeping every node's shards where it can: shrinking or leaving
// nodes give up shards from the end of their lists, growing or new nodes
// (in node-ID order) take the freed shards in ascending order. With no
// current committee, shards go out in order 0, 1, 2, … by node ID.
func Transition(current []Assignment, want map[ids.ObjectID]int, n int) []Assignment {
	sorted := make([]ids.ObjectID, 0, len(want))
	for id := range want {
		sorted = append(sorted, id)
	}
	slices.SortFunc(sorted, func(a, b ids.ObjectID) int { return bytes.Compare(a[:], b[:]) })
	held := make([]bool, n)
	kept := map[ids.ObjectID][]uint16{}
	for _, a := range current {
		k := min(want[a.NodeID], len(a.Shards))
		kept[a.NodeID] = slices.Clone(a.Shards[:k])
		for _, s := range a.Shards[:k] {
			held[s] = true
		}
	}
	var free []uint16
	for s := range n {
		if !held[s] {
			free = append(free, uint16(s))
		}
	}
	out := make([]Assignment, 0, len(sorted))
	for _, id := range sorted {
		shards := kept[id]
		need := want[id] - len(shards)
		shards = append(shards, free[:need]...)
		free = free[need:]
		out = append(out, Assignment{NodeID: id, Shards: shards})
	}
	return out
}
