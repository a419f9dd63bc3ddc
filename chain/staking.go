package chain

import (
	"github.com/walrus-go/walrus/bls"
	"github.com/walrus-go/walrus/committee"
	"github.com/walrus-go/walrus/ids"
	"github.com/walrus-go/walrus/wire"
)

// MaxCommissionRate is 100 % in basis points.
const MaxCommissionRate = 10_000

// loadPool reads a staking pool and, with operator set, checks that the
// sender operates it (Walrus: holds its StorageNodeCap).
func (c *txCtx) loadPool(r ObjectRef, operator bool) (*Object, error) {
	o, err := c.load(r, KindStakingPool)
	if err != nil {
		return nil, err
	}
	if operator && o.Pool.Operator != c.sender {
		return nil, abortf(ENotAuthorized, "%s does not operate node %s", c.sender, o.Pool.ID)
	}
	return o, nil
}

// checkPoP verifies a proof of possession of key by the sender in the current epoch.
func (c *txCtx) checkPoP(key [48]byte, sig []byte) error {
	s, err := bls.ParseSignature(sig)
	if err != nil {
		return abortf(EInvalidProofOfPossession, "%v", err)
	}
	pop := wire.ProofOfPossession{Epoch: c.sys.Epoch, Address: c.sender, PublicKey: key}
	if _, err := bls.VerifyProofOfPossession(pop, s); err != nil {
		return abortf(EInvalidProofOfPossession, "%v", err)
	}
	if prev, err := c.st.Get(keyBLS(key)); err != nil {
		return err
	} else if prev != nil {
		return abortf(EDuplicateBlsKey, "BLS key already registered")
	}
	return nil
}

func (c *txCtx) registerNode(call *RegisterNode) error {
	if call.CommissionRate > MaxCommissionRate {
		return abortf(EInvalidArgument, "commission rate %d bps above %d", call.CommissionRate, MaxCommissionRate)
	}
	if err := c.checkPoP(call.PublicKey, call.ProofOfPossession[:]); err != nil {
		return err
	}
	p := &StakingPool{ID: c.newID(), Name: call.Name, NetworkAddress: call.NetworkAddress, PublicKey: call.PublicKey,
		NetworkPublicKey: call.NetworkPublicKey, Operator: c.sender, CommissionRate: call.CommissionRate,
		StoragePrice: call.StoragePrice, WritePrice: call.WritePrice, NodeCapacity: call.NodeCapacity,
		ActivationEpoch: c.sys.Epoch + 1}
	c.addPool(p)
	return nil
}

func (c *txCtx) addPool(p *StakingPool) {
	c.st.Set(keyBLS(p.PublicKey), p.ID[:])
	c.sys.Pools = insertSorted(c.sys.Pools, p.ID)
	c.save(&Object{Kind: KindStakingPool, Owner: Owner{Shared: true}, Pool: p}, nil)
}

func (c *txCtx) updateNode(call *UpdateNode) error {
	o, err := c.loadPool(call.Node, true)
	if err != nil {
		return err
	}
	prev := *o
	p := *o.Pool
	if call.Name != "" {
		p.Name = call.Name
	}
	if call.NetworkAddress != "" {
		p.NetworkAddress = call.NetworkAddress
	}
	if len(call.NetworkPublicKey) > 0 {
		p.NetworkPublicKey = call.NetworkPublicKey
	}
	switch len(call.NextPublicKey) {
	case 0:
	case 48:
		var k [48]byte
		copy(k[:], call.NextPublicKey)
		if err := c.checkPoP(k, call.NextProofOfPossession); err != nil {
			return err
		}
		if p.NextPublicKey != nil {
			c.st.Delete(keyBLS(*p.NextPublicKey))
		}
		p.NextPublicKey = &k
		c.st.Set(keyBLS(k), p.ID[:])
	default:
		return abortf(EInvalidArgument, "next public key of %d bytes", len(call.NextPublicKey))
	}
	o.Pool = &p
	c.save(o, &prev)
	return nil
}

// activationEpoch is when stake added now becomes active: the next epoch,
// or the one after if the next committee is already selected.
func (c *txCtx) activationEpoch() uint32 {
	if c.sys.State == NextParamsSelected {
		return c.sys.Epoch + 2
	}
	return c.sys.Epoch + 1
}

func addAt(v []EpochAmount, epoch uint32, amount uint64) []EpochAmount {
	for i := range v {
		if v[i].Epoch == epoch {
			v[i].Amount += amount
			return v
		}
	}
	out := append([]EpochAmount(nil), v...)
	i := len(out)
	for i > 0 && out[i-1].Epoch > epoch {
		i--
	}
	out = append(out, EpochAmount{})
	copy(out[i+1:], out[i:])
	out[i] = EpochAmount{epoch, amount}
	return out
}

func subAt(v []EpochAmount, epoch uint32, amount uint64) []EpochAmount {
	out := append([]EpochAmount(nil), v...)
	for i := range out {
		if out[i].Epoch == epoch {
			out[i].Amount -= min(amount, out[i].Amount)
			if out[i].Amount == 0 {
				out = append(out[:i], out[i+1:]...)
			}
			break
		}
	}
	return out
}

func (c *txCtx) stakeWithPool(call *StakeWithPool) error {
	o, err := c.loadPool(call.Node, false)
	if err != nil {
		return err
	}
	if call.Amount == 0 {
		return abortf(EInvalidArgument, "zero stake")
	}
	if err := c.debit(c.sender, call.Amount); err != nil {
		return err
	}
	prev := *o
	p := *o.Pool
	act := c.activationEpoch()
	p.PendingStake = addAt(p.PendingStake, act, call.Amount)
	o.Pool = &p
	c.save(o, &prev)
	sw := &StakedWal{ID: c.newID(), NodeID: p.ID, Principal: call.Amount, ActivationEpoch: act}
	c.save(&Object{Kind: KindStakedWal, Owner: AddressOwner(c.sender), Staked: sw}, nil)
	return nil
}

func (c *txCtx) rate(pool ids.ObjectID, epoch uint32) (ExchangeRate, error) {
	r, _, err := LoadRate(c.st, pool, epoch)
	return r, err
}

func (c *txCtx) requestWithdrawStake(call *RequestWithdrawStake) error {
	so, err := c.loadOwned(call.Staked, KindStakedWal)
	if err != nil {
		return err
	}
	sw := *so.Staked
	if sw.Withdrawing {
		return abortf(EWrongStakeState, "withdrawal already requested")
	}
	if sw.ActivationEpoch > c.sys.Epoch {
		return abortf(EWrongStakeState, "stake not active until epoch %d: withdraw it directly", sw.ActivationEpoch)
	}
	po, err := c.load(Ref(sw.NodeID), KindStakingPool)
	if err != nil {
		return err
	}
	r, err := c.rate(sw.NodeID, sw.ActivationEpoch)
	if err != nil {
		return err
	}
	we := c.sys.Epoch + 1
	if c.sys.State == NextParamsSelected {
		if _, in := memberIndex(c.sys.Next, sw.NodeID); in {
			we = c.sys.Epoch + 2
		}
	}
	prevPool := *po
	p := *po.Pool
	sw.Withdrawing, sw.WithdrawEpoch, sw.WithdrawShares = true, we, r.sharesFor(sw.Principal)
	p.PendingWithdraw = addAt(p.PendingWithdraw, we, sw.WithdrawShares)
	po.Pool = &p
	c.save(po, &prevPool)
	prev := *so
	so.Staked = &sw
	c.save(so, &prev)
	return nil
}

func (c *txCtx) withdrawStake(call *WithdrawStake) error {
	so, err := c.loadOwned(call.Staked, KindStakedWal)
	if err != nil {
		return err
	}
	sw := so.Staked
	var amount uint64
	switch {
	case !sw.Withdrawing && sw.ActivationEpoch > c.sys.Epoch:
		// Never active: take it back out of the pending stake.
		po, err := c.load(Ref(sw.NodeID), KindStakingPool)
		if err != nil {
			return err
		}
		prev := *po
		p := *po.Pool
		p.PendingStake = subAt(p.PendingStake, sw.ActivationEpoch, sw.Principal)
		po.Pool = &p
		c.save(po, &prev)
		amount = sw.Principal
	case sw.Withdrawing && c.sys.Epoch >= sw.WithdrawEpoch:
		r, err := c.rate(sw.NodeID, sw.WithdrawEpoch)
		if err != nil {
			return err
		}
		amount = r.walFor(sw.WithdrawShares)
	case sw.Withdrawing:
		return abortf(EWithdrawNotReady, "withdrawable from epoch %d, now %d", sw.WithdrawEpoch, c.sys.Epoch)
	default:
		return abortf(EWithdrawNotReady, "active stake: request the withdrawal first")
	}
	c.remove(so)
	return c.credit(c.sender, amount)
}

func (c *txCtx) setCommissionRate(call *SetCommissionRate) error {
	o, err := c.loadPool(call.Node, true)
	if err != nil {
		return err
	}
	if call.Rate > MaxCommissionRate {
		return abortf(EInvalidArgument, "commission rate %d bps above %d", call.Rate, MaxCommissionRate)
	}
	prev := *o
	p := *o.Pool
	e := c.sys.Epoch + 2
	rates := append([]EpochAmount(nil), p.PendingRates...)
	replaced := false
	for i := range rates {
		if rates[i].Epoch == e {
			rates[i].Amount, replaced = uint64(call.Rate), true
		}
	}
	if !replaced {
		rates = append(rates, EpochAmount{e, uint64(call.Rate)})
	}
	p.PendingRates = rates
	o.Pool = &p
	c.save(o, &prev)
	return nil
}

func (c *txCtx) collectCommission(call *CollectCommission) error {
	o, err := c.loadPool(call.Node, true)
	if err != nil {
		return err
	}
	prev := *o
	p := *o.Pool
	amount := p.Commission
	p.Commission = 0
	o.Pool = &p
	c.save(o, &prev)
	return c.credit(c.sender, amount)
}

func (c *txCtx) vote(call *Vote) error {
	o, err := c.loadPool(call.Node, true)
	if err != nil {
		return err
	}
	prev := *o
	p := *o.Pool
	p.StoragePrice, p.WritePrice, p.NodeCapacity = call.StoragePrice, call.WritePrice, call.NodeCapacity
	o.Pool = &p
	c.save(o, &prev)
	if _, in := memberIndex(c.sys.Committee, p.ID); in {
		return c.updatePrices()
	}
	return nil
}

func (c *txCtx) epochSyncDone(call *EpochSyncDone) error {
	o, err := c.loadPool(call.Node, true)
	if err != nil {
		return err
	}
	s := c.sys
	if call.Epoch != s.Epoch {
		return abortf(EWrongEpochState, "sync done for epoch %d in epoch %d", call.Epoch, s.Epoch)
	}
	if s.State != EpochChangeSync {
		return abortf(EWrongEpochState, "epoch %d is in state %s", s.Epoch, s.State)
	}
	i, in := memberIndex(s.Committee, o.Pool.ID)
	if !in {
		return abortf(ENotCommitteeMember, "node %s is not in the committee of epoch %d", o.Pool.ID, s.Epoch)
	}
	if o.Pool.LastSyncDone >= s.Epoch {
		return abortf(EAlreadySynced, "node %s already reported epoch %d", o.Pool.ID, s.Epoch)
	}
	prev := *o
	p := *o.Pool
	p.LastSyncDone = s.Epoch
	o.Pool = &p
	c.save(o, &prev)
	shards := s.Committee[i].Shards
	s.SyncWeight += uint16(len(shards))
	c.emit((&ShardsEvent{Epoch: s.Epoch, Shards: shards}).event())
	if committee.IsQuorum(int(s.SyncWeight), int(s.NShards)) {
		s.State, s.StateTimeMs = EpochChangeDone, c.now
		c.emit(epochEvent(EventEpochChangeDone, s.Epoch))
	}
	return nil
}
