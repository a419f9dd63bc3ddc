package client

import (
	"context"
	"errors"
	"fmt"

	"github.com/walrus-go/walrus/chain"
	"github.com/walrus-go/walrus/ids"
)

// StakedWal is a stake in Walrus's JSON form.
type StakedWal struct {
	ID              ids.ObjectID `json:"id"`
	NodeID          ids.ObjectID `json:"nodeId"`
	Principal       uint64       `json:"principal"`
	ActivationEpoch uint32       `json:"activationEpoch"`
	// State is "Staked" or {"Withdrawing": {"withdrawEpoch": E}}.
	State StakedState `json:"state"`
}

// StakedState is a StakedWal's state.
type StakedState struct {
	Withdrawing   bool
	WithdrawEpoch uint32
}

// MarshalJSON implements json.Marshaler: "Staked" or {"Withdrawing":{"withdrawEpoch":E}}.
func (s StakedState) MarshalJSON() ([]byte, error) {
	if !s.Withdrawing {
		return []byte(`"Staked"`), nil
	}
	return fmt.Appendf(nil, `{"Withdrawing":{"withdrawEpoch":%d}}`, s.WithdrawEpoch), nil
}

// stakedWalOf converts a chain StakedWal.
func stakedWalOf(s *chain.StakedWal) StakedWal {
	return StakedWal{ID: s.ID, NodeID: s.NodeID, Principal: s.Principal, ActivationEpoch: s.ActivationEpoch,
		State: StakedState{Withdrawing: s.Withdrawing, WithdrawEpoch: s.WithdrawEpoch}}
}

// Stake stakes amounts[i] FROST with nodes[i], all in one transaction, and
// returns the new StakedWal objects. Stake activates at the next epoch (or
// the one after, once the next committee is selected).
func (c *Client) Stake(ctx context.Context, nodes []ids.ObjectID, amounts []uint64) ([]StakedWal, error) {
	if len(nodes) == 0 || len(nodes) != len(amounts) {
		return nil, fmt.Errorf("%w: %d node IDs and %d amounts", ErrInvalidArgument, len(nodes), len(amounts))
	}
	calls := make([]chain.Call, len(nodes))
	for i := range nodes {
		calls[i] = &chain.StakeWithPool{Node: chain.Ref(nodes[i]), Amount: amounts[i]}
	}
	tx, err := c.exec(ctx, "stake", calls...)
	if err != nil {
		return nil, err
	}
	var out []StakedWal
	for _, id := range tx.Created {
		o, err := c.object(ctx, id)
		if err == nil && o.Staked != nil {
			out = append(out, stakedWalOf(o.Staked))
		}
	}
	return out, nil
}

// ListStakedWal returns the wallet's StakedWal objects.
func (c *Client) ListStakedWal(ctx context.Context) ([]StakedWal, error) {
	if c.signer == nil {
		return nil, ErrNoWallet
	}
	objs, err := c.chain.Staked(ctx, c.signer.Address())
	if err != nil {
		return nil, err
	}
	out := []StakedWal{}
	for _, o := range objs {
		if o.Staked != nil {
			out = append(out, stakedWalOf(o.Staked))
		}
	}
	return out, nil
}

// RequestWithdrawStake starts the withdrawal of a StakedWal (stake not yet
// active is withdrawn at once by WithdrawStake instead).
func (c *Client) RequestWithdrawStake(ctx context.Context, staked ids.ObjectID) (StakedWal, error) {
	if _, err := c.exec(ctx, "request withdraw stake", &chain.RequestWithdrawStake{Staked: chain.Ref(staked)}); err != nil {
		return StakedWal{}, err
	}
	o, err := c.object(ctx, staked)
	if err != nil || o.Staked == nil {
		return StakedWal{ID: staked}, err
	}
	return stakedWalOf(o.Staked), nil
}

// WithdrawStake withdraws a StakedWal whose withdrawal epoch has come (or
// that is not active yet); it returns the FROST credited to the wallet.
func (c *Client) WithdrawStake(ctx context.Context, staked ids.ObjectID) (uint64, error) {
	before, err := c.Balance(ctx)
	if err != nil {
		return 0, err
	}
	if _, err := c.exec(ctx, "withdraw stake", &chain.WithdrawStake{Staked: chain.Ref(staked)}); err != nil {
		return 0, err
	}
	after, err := c.Balance(ctx)
	if err != nil || after < before {
		return 0, err
	}
	sys, err := c.chain.System(ctx)
	if err != nil {
		return after - before, nil
	}
	return after - before + sys.MinFee, nil // the fee was paid from the same balance
}

// VoteParams are a node's votes; zero fields keep the node's current vote.
type VoteParams struct {
	StoragePrice, WritePrice, NodeCapacity uint64
}

// Vote sets a node's votes for prices and capacity (its operator only).
func (c *Client) Vote(ctx context.Context, node ids.ObjectID, v VoteParams) error {
	if v.StoragePrice == 0 || v.WritePrice == 0 || v.NodeCapacity == 0 {
		p, err := c.pool(ctx, node)
		if err != nil {
			return err
		}
		v.StoragePrice = cmpOr(v.StoragePrice, p.StoragePrice)
		v.WritePrice = cmpOr(v.WritePrice, p.WritePrice)
		v.NodeCapacity = cmpOr(v.NodeCapacity, p.NodeCapacity)
	}
	_, err := c.exec(ctx, "vote", &chain.Vote{Node: chain.Ref(node), StoragePrice: v.StoragePrice, WritePrice: v.WritePrice, NodeCapacity: v.NodeCapacity})
	return err
}

func cmpOr(a, b uint64) uint64 {
	if a != 0 {
		return a
	}
	return b
}

// SetCommissionRate sets a node's commission (basis points; applies two
// epochs later), its operator only.
func (c *Client) SetCommissionRate(ctx context.Context, node ids.ObjectID, rate uint16) error {
	_, err := c.exec(ctx, "set commission rate", &chain.SetCommissionRate{Node: chain.Ref(node), Rate: rate})
	return err
}

// CollectCommission pays a node's collectable commission to its operator
// and returns the amount, in FROST.
func (c *Client) CollectCommission(ctx context.Context, node ids.ObjectID) (uint64, error) {
	p, err := c.pool(ctx, node)
	if err != nil {
		return 0, err
	}
	if _, err := c.exec(ctx, "collect commission", &chain.CollectCommission{Node: chain.Ref(node)}); err != nil {
		return 0, err
	}
	return p.Commission, nil
}

func (c *Client) pool(ctx context.Context, node ids.ObjectID) (*chain.StakingPool, error) {
	o, err := c.object(ctx, node)
	if err != nil {
		return nil, err
	}
	if o.Pool == nil {
		return nil, fmt.Errorf("%w: %s is a %s, not a storage node", ErrWrongObject, node, o.Kind)
	}
	return o.Pool, nil
}

// StakingPool is a storage node as stakers see it. ID is the node ID that
// Stake takes.
type StakingPool struct {
	ID             ids.ObjectID `json:"nodeId"`
	Name           string       `json:"name"`
	NetworkAddress string       `json:"networkAddress"`
	// State is active, withdrawing or withdrawn.
	State string `json:"state"`
	// CommissionRate is in basis points.
	CommissionRate uint16 `json:"commissionRate"`
	// Stake is the pool's active stake plus rewards, in FROST.
	Stake uint64 `json:"stake"`
	// Commission is what the operator can collect now, in FROST.
	Commission uint64 `json:"commission"`
	// ActivationEpoch is the epoch the node joined.
	ActivationEpoch uint32 `json:"activationEpoch"`
}

var poolStates = map[chain.PoolState]string{chain.PoolActive: "active", chain.PoolWithdrawing: "withdrawing", chain.PoolWithdrawn: "withdrawn"}

// Pools returns every storage node's staking pool.
func (c *Client) Pools(ctx context.Context) ([]StakingPool, error) {
	pools, err := c.chainPools(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]StakingPool, 0, len(pools))
	for _, p := range pools {
		out = append(out, StakingPool{ID: p.ID, Name: p.Name, NetworkAddress: p.NetworkAddress, State: poolStates[p.State],
			CommissionRate: p.CommissionRate, Stake: p.WalBalance, Commission: p.Commission, ActivationEpoch: p.ActivationEpoch})
	}
	return out, nil
}

// Mint sends amount FROST of new WAL to an address. Only the chain's
// faucet account may (the devnet's funded wallet is its faucet).
func (c *Client) Mint(ctx context.Context, to ids.Address, amount uint64) error {
	if amount == 0 {
		return errors.New("client: mint of zero WAL")
	}
	_, err := c.exec(ctx, "faucet", &chain.FaucetMint{To: to, Amount: amount})
	return err
}

// Transfer sends amount FROST from the wallet to an address.
func (c *Client) Transfer(ctx context.Context, to ids.Address, amount uint64) error {
	_, err := c.exec(ctx, "transfer", &chain.TransferWal{To: to, Amount: amount})
	return err
}

// chainPools are the staking pools in the chain's form.
func (c *Client) chainPools(ctx context.Context) ([]*chain.StakingPool, error) {
	objs, err := c.chain.Pools(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*chain.StakingPool, 0, len(objs))
	for _, o := range objs {
		if o.Pool != nil {
			out = append(out, o.Pool)
		}
	}
	return out, nil
}
