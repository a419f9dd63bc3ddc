package chain

import (
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/bls"
	"github.com/walrus-go/walrus/ids"
	"github.com/walrus-go/walrus/wire"
)

// Hex is a byte string shown as hexadecimal in JSON.
type Hex []byte

// MarshalText implements encoding.TextMarshaler.
func (h Hex) MarshalText() ([]byte, error) { return []byte(hex.EncodeToString(h)), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (h *Hex) UnmarshalText(b []byte) error {
	v, err := hex.DecodeString(string(b))
	*h = v
	return err
}

// Genesis is the chain's initial state: the CometBFT genesis app_state.
type Genesis struct {
	NShards         uint16           `json:"n_shards"`
	EpochDurationMs uint64           `json:"epoch_duration_ms"`
	MaxEpochsAhead  uint32           `json:"max_epochs_ahead"`
	StoragePrice    uint64           `json:"storage_price"` // FROST per unit per epoch
	WritePrice      uint64           `json:"write_price"`   // FROST per unit
	Capacity        uint64           `json:"capacity"`      // encoded bytes
	MinFee          uint64           `json:"min_fee"`       // FROST per transaction
	Accounts        []GenesisAccount `json:"accounts"`
	Faucet          *ids.Address     `json:"faucet,omitempty"`
	Nodes           []GenesisNode    `json:"nodes,omitempty"`
}

// GenesisAccount is a funded account.
type GenesisAccount struct {
	Address ids.Address `json:"address"`
	Balance uint64      `json:"balance"`
}

// GenesisNode is a storage node in the first committee, with its
// operator's stake. Zero votes default to the genesis prices and capacity.
type GenesisNode struct {
	Name              string      `json:"name"`
	NetworkAddress    string      `json:"network_address"`
	PublicKey         Hex         `json:"bls_public_key"`
	ProofOfPossession Hex         `json:"proof_of_possession"` // epoch 0, address = operator
	NetworkPublicKey  Hex         `json:"network_public_key"`
	Operator          ids.Address `json:"operator"`
	Stake             uint64      `json:"stake"`
	CommissionRate    uint16      `json:"commission_rate"`
	StoragePrice      uint64      `json:"storage_price,omitempty"`
	WritePrice        uint64      `json:"write_price,omitempty"`
	NodeCapacity      uint64      `json:"node_capacity,omitempty"`
}

// NewGenesisNode fills in a genesis node for a BLS key, signing its proof
// of possession for the operator.
func NewGenesisNode(name, networkAddress string, key *bls.SecretKey, networkPublicKey []byte, operator ids.Address, stake uint64) GenesisNode {
	pop, sig := key.ProofOfPossession(0, operator)
	s := sig.Bytes()
	return GenesisNode{Name: name, NetworkAddress: networkAddress, PublicKey: pop.PublicKey[:], ProofOfPossession: s[:],
		NetworkPublicKey: networkPublicKey, Operator: operator, Stake: stake}
}

// Validate reports every problem of the genesis.
func (g *Genesis) Validate() error {
	var errs []error
	if _, err := blob.NewParams(int(g.NShards)); err != nil {
		errs = append(errs, fmt.Errorf("n_shards: %w", err))
	}
	if g.EpochDurationMs < 2 {
		errs = append(errs, errors.New("epoch_duration_ms must be at least 2"))
	}
	if g.MaxEpochsAhead == 0 || g.MaxEpochsAhead > maxEpochsAheadCap {
		errs = append(errs, fmt.Errorf("max_epochs_ahead %d, want 1..%d", g.MaxEpochsAhead, maxEpochsAheadCap))
	}
	if len(g.Nodes) > 0 && int(g.NShards) < len(g.Nodes) {
		errs = append(errs, fmt.Errorf("%d nodes for %d shards", len(g.Nodes), g.NShards))
	}
	keys := map[string]bool{}
	for i, n := range g.Nodes {
		if len(n.PublicKey) != 48 || len(n.ProofOfPossession) != 96 {
			errs = append(errs, fmt.Errorf("node %d: key of %d bytes, proof of %d", i, len(n.PublicKey), len(n.ProofOfPossession)))
			continue
		}
		if keys[string(n.PublicKey)] {
			errs = append(errs, fmt.Errorf("node %d: duplicate BLS key", i))
		}
		keys[string(n.PublicKey)] = true
		var pk [48]byte
		copy(pk[:], n.PublicKey)
		sig, err := bls.ParseSignature(n.ProofOfPossession)
		if err == nil {
			_, err = bls.VerifyProofOfPossession(wire.ProofOfPossession{Epoch: 0, Address: n.Operator, PublicKey: pk}, sig)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("node %d: proof of possession: %w", i, err))
		}
		if n.Stake == 0 {
			errs = append(errs, fmt.Errorf("node %d: zero stake", i))
		}
		if n.CommissionRate > MaxCommissionRate {
			errs = append(errs, fmt.Errorf("node %d: commission rate %d", i, n.CommissionRate))
		}
		if len(n.Name) > maxNameLen || len(n.NetworkAddress) > maxAddressLen || len(n.NetworkPublicKey) > maxNetKeyLen {
			errs = append(errs, fmt.Errorf("node %d: name, address or network key too long", i))
		}
	}
	return errors.Join(errs...)
}

type emptyReader struct{}

func (emptyReader) Get([]byte) ([]byte, error) { return nil, nil }

// InitGenesis builds the initial state at the genesis time and returns its
// writes. With genesis nodes the chain starts in epoch 1 with their
// committee; without, in epoch 0 with none, until staked nodes register.
func (m *Machine) InitGenesis(g *Genesis, timeMs uint64) (*BlockResult, error) {
	if err := g.Validate(); err != nil {
		return nil, fmt.Errorf("chain: genesis: %w", err)
	}
	st := NewOverlay(emptyReader{})
	sys := &System{NShards: g.NShards, EpochDurationMs: g.EpochDurationMs, MaxEpochsAhead: g.MaxEpochsAhead,
		MinFee: g.MinFee, State: EpochChangeDone, EpochStartMs: timeMs, StateTimeMs: timeMs,
		StoragePrice: g.StoragePrice, WritePrice: g.WritePrice, TotalCapacity: g.Capacity, NextCapacity: g.Capacity,
		Future: make([]Accounting, g.MaxEpochsAhead), Faucet: g.Faucet, TimeMs: timeMs}
	c := &txCtx{m: m, st: st, sys: sys, now: timeMs, digest: ids.GenesisDigest(m.cfg.ChainID)}
	for _, a := range g.Accounts {
		if err := c.credit(a.Address, a.Balance); err != nil {
			return nil, fmt.Errorf("chain: genesis account %s: %w", a.Address, err)
		}
		sys.TotalSupply += a.Balance
	}
	if len(g.Nodes) > 0 {
		sys.Epoch = 1
		var cands []Candidate
		pools := map[ids.ObjectID]*StakingPool{}
		for _, n := range g.Nodes {
			p := &StakingPool{ID: c.newID(), Name: n.Name, NetworkAddress: n.NetworkAddress, NetworkPublicKey: n.NetworkPublicKey,
				Operator: n.Operator, CommissionRate: n.CommissionRate, StoragePrice: n.StoragePrice, WritePrice: n.WritePrice,
				NodeCapacity: n.NodeCapacity, ActivationEpoch: 1, WalBalance: n.Stake, Shares: n.Stake}
			copy(p.PublicKey[:], n.PublicKey)
			if p.StoragePrice == 0 {
				p.StoragePrice = g.StoragePrice
			}
			if p.WritePrice == 0 {
				p.WritePrice = g.WritePrice
			}
			if p.NodeCapacity == 0 {
				p.NodeCapacity = g.Capacity
			}
			pools[p.ID] = p
			cands = append(cands, Candidate{NodeID: p.ID, Stake: n.Stake})
			sys.TotalSupply += n.Stake
			c.st.Set(keyRate(p.ID, 1), ExchangeRate{n.Stake, n.Stake}.marshal())
			sw := &StakedWal{ID: c.newID(), NodeID: p.ID, Principal: n.Stake, ActivationEpoch: 1}
			c.save(&Object{Kind: KindStakedWal, Owner: AddressOwner(n.Operator), Staked: sw}, nil)
		}
		for _, id := range sortedIDs(pools) {
			c.addPool(pools[id])
		}
		sys.Committee = SelectCommittee(cands, int(g.NShards), nil)
		for i := range sys.Committee {
			sys.Committee[i].PublicKey = pools[sys.Committee[i].NodeID].PublicKey
		}
		if _, err := m.Committee(sys); err != nil {
			return nil, fmt.Errorf("chain: genesis committee: %w", err)
		}
		if err := c.updatePrices(); err != nil {
			return nil, err
		}
	}
	st.Set(KeySystem(), sys.Marshal())
	return &BlockResult{Writes: st, System: sys}, nil
}

func sortedIDs(m map[ids.ObjectID]*StakingPool) []ids.ObjectID {
	var out []ids.ObjectID
	for id := range m {
		out = insertSorted(out, id)
	}
	return out
}
