package chain

import (
	"bytes"
	"fmt"
	"math/bits"
	"slices"

	"github.com/walrus-go/walrus/bcs"
	"github.com/walrus-go/walrus/ids"
)

// EpochState is where the current epoch is in its timeline (spec 6.5).
type EpochState uint8

const (
	// EpochChangeSync: the epoch has started and nodes are syncing shards.
	EpochChangeSync EpochState = iota
	// EpochChangeDone: n-f shard weight reported epoch_sync_done.
	EpochChangeDone
	// NextParamsSelected: voting has ended and the next committee is chosen.
	NextParamsSelected
)

func (s EpochState) String() string {
	switch s {
	case EpochChangeSync:
		return "EpochChangeSync"
	case EpochChangeDone:
		return "EpochChangeDone"
	case NextParamsSelected:
		return "NextParamsSelected"
	}
	return fmt.Sprintf("EpochState(%d)", uint8(s))
}

// Assignment is one committee member: its node ID, the BLS key it signs
// with in that epoch, and its shards.
type Assignment struct {
	NodeID    ids.ObjectID
	PublicKey [48]byte
	Shards    []uint16
}

// Accounting is one future epoch's ledger: capacity in use and rewards.
type Accounting struct {
	Used    uint64
	Rewards uint64
}

// System is the global state: Walrus's System and Staking objects in one.
type System struct {
	Epoch           uint32
	NShards         uint16
	EpochDurationMs uint64
	MaxEpochsAhead  uint32
	MinFee          uint64
	State           EpochState
	SyncWeight      uint16       // during EpochChangeSync: weight that reported
	EpochStartMs    uint64       // block time at which the current epoch started
	StateTimeMs     uint64       // block time of the last state change
	StoragePrice    uint64       // FROST per unit (1 MiB encoded) per epoch
	WritePrice      uint64       // FROST per unit
	TotalCapacity   uint64       // encoded bytes
	NextCapacity    uint64       // selected at voting end for the next epoch
	Future          []Accounting // [0] = current epoch; MaxEpochsAhead entries
	Committee       []Assignment
	Previous        []Assignment
	Next            []Assignment
	Pools           []ids.ObjectID // sorted
	Faucet          *ids.Address
	Burned          uint64
	TotalSupply     uint64 // minted WAL not burned
	Height          uint64 // last executed block
	TimeMs          uint64 // its time
}

// UsedCapacity is the capacity used in the current epoch.
func (s *System) UsedCapacity() uint64 {
	if len(s.Future) == 0 {
		return 0
	}
	return s.Future[0].Used
}

func appendAssignments(b []byte, as []Assignment) []byte {
	b = bcs.AppendLen(b, len(as))
	for _, a := range as {
		b = append(b, a.NodeID[:]...)
		b = append(b, a.PublicKey[:]...)
		b = bcs.AppendLen(b, len(a.Shards))
		for _, s := range a.Shards {
			b = bcs.AppendU16(b, s)
		}
	}
	return b
}

func decodeAssignments(d *bcs.Decoder) []Assignment {
	n := d.Len(1<<16, 81)
	var as []Assignment
	for range n {
		a := Assignment{NodeID: d.Array32()}
		copy(a.PublicKey[:], d.Fixed(48))
		m := d.Len(1<<16, 2)
		a.Shards = make([]uint16, 0, m)
		for range m {
			a.Shards = append(a.Shards, d.U16())
		}
		as = append(as, a)
	}
	return as
}

// Marshal encodes the system state.
func (s *System) Marshal() []byte {
	b := bcs.AppendU32(nil, s.Epoch)
	b = bcs.AppendU16(b, s.NShards)
	b = bcs.AppendU64(b, s.EpochDurationMs)
	b = bcs.AppendU32(b, s.MaxEpochsAhead)
	b = bcs.AppendU64(b, s.MinFee)
	b = bcs.AppendU8(b, uint8(s.State))
	b = bcs.AppendU16(b, s.SyncWeight)
	b = bcs.AppendU64(b, s.EpochStartMs)
	b = bcs.AppendU64(b, s.StateTimeMs)
	b = bcs.AppendU64(b, s.StoragePrice)
	b = bcs.AppendU64(b, s.WritePrice)
	b = bcs.AppendU64(b, s.TotalCapacity)
	b = bcs.AppendU64(b, s.NextCapacity)
	b = bcs.AppendLen(b, len(s.Future))
	for _, f := range s.Future {
		b = bcs.AppendU64(bcs.AppendU64(b, f.Used), f.Rewards)
	}
	b = appendAssignments(b, s.Committee)
	b = appendAssignments(b, s.Previous)
	b = appendAssignments(b, s.Next)
	b = bcs.AppendLen(b, len(s.Pools))
	for _, p := range s.Pools {
		b = append(b, p[:]...)
	}
	if s.Faucet != nil {
		b = append(bcs.AppendULEB128(b, 1), s.Faucet[:]...)
	} else {
		b = bcs.AppendULEB128(b, 0)
	}
	b = bcs.AppendU64(b, s.Burned)
	b = bcs.AppendU64(b, s.TotalSupply)
	b = bcs.AppendU64(b, s.Height)
	return bcs.AppendU64(b, s.TimeMs)
}

// UnmarshalSystem decodes the system state.
func UnmarshalSystem(b []byte) (*System, error) {
	d := bcs.NewDecoder(b)
	s := &System{}
	s.Epoch = d.U32()
	s.NShards = d.U16()
	s.EpochDurationMs = d.U64()
	s.MaxEpochsAhead = d.U32()
	s.MinFee = d.U64()
	s.State = EpochState(d.U8())
	s.SyncWeight = d.U16()
	s.EpochStartMs = d.U64()
	s.StateTimeMs = d.U64()
	s.StoragePrice = d.U64()
	s.WritePrice = d.U64()
	s.TotalCapacity = d.U64()
	s.NextCapacity = d.U64()
	n := d.Len(maxEpochsAheadCap, 16)
	for range n {
		s.Future = append(s.Future, Accounting{d.U64(), d.U64()})
	}
	s.Committee = decodeAssignments(d)
	s.Previous = decodeAssignments(d)
	s.Next = decodeAssignments(d)
	n = d.Len(1<<20, 32)
	for range n {
		s.Pools = append(s.Pools, d.Array32())
	}
	if d.Option() {
		a := ids.Address(d.Array32())
		s.Faucet = &a
	}
	s.Burned = d.U64()
	s.TotalSupply = d.U64()
	s.Height = d.U64()
	s.TimeMs = d.U64()
	if err := d.Finish(); err != nil {
		return nil, fmt.Errorf("chain: system state: %w", err)
	}
	return s, nil
}

// memberIndex returns the index of node in a committee list.
func memberIndex(as []Assignment, node ids.ObjectID) (int, bool) {
	return slices.BinarySearchFunc(as, node, func(a Assignment, id ids.ObjectID) int { return bytes.Compare(a.NodeID[:], id[:]) })
}

// mulDiv returns floor(a*b/c) with a 128-bit intermediate; c must be > 0
// and the quotient must fit in 64 bits (it saturates otherwise).
func mulDiv(a, b, c uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	if hi >= c {
		return ^uint64(0)
	}
	q, _ := bits.Div64(hi, lo, c)
	return q
}

// mulChecked returns a*b, or false on overflow.
func mulChecked(a, b uint64) (uint64, bool) {
	hi, lo := bits.Mul64(a, b)
	return lo, hi == 0
}

// addChecked returns a+b, or false on overflow.
func addChecked(a, b uint64) (uint64, bool) {
	s, c := bits.Add64(a, b, 0)
	return s, c == 0
}

func mul128(a, b uint64) (hi, lo uint64) { return bits.Mul64(a, b) }
