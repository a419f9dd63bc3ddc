package chain

import (
	"fmt"

	"github.com/walrus-go/walrus/bcs"
	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/ids"
)

// FrostPerWAL is the number of FROST in one WAL.
const FrostPerWAL = 1_000_000_000

// Account is a WAL balance in FROST and the sequence number of the last
// transaction the account sent (0: none yet).
type Account struct {
	Balance  uint64
	Sequence uint64
}

// Marshal encodes the account.
func (a *Account) Marshal() []byte {
	return bcs.AppendU64(bcs.AppendU64(nil, a.Balance), a.Sequence)
}

// UnmarshalAccount decodes an account.
func UnmarshalAccount(b []byte) (Account, error) {
	d := bcs.NewDecoder(b)
	a := Account{Balance: d.U64(), Sequence: d.U64()}
	return a, d.Finish()
}

// Kind is the type of an object.
type Kind uint8

// Object kinds.
const (
	KindStorage Kind = iota
	KindBlob
	KindSharedBlob
	KindStakingPool
	KindStakedWal
	kindCount
)

func (k Kind) String() string {
	switch k {
	case KindStorage:
		return "Storage"
	case KindBlob:
		return "Blob"
	case KindSharedBlob:
		return "SharedBlob"
	case KindStakingPool:
		return "StakingPool"
	case KindStakedWal:
		return "StakedWal"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Owner says who may use an object: an address, or nobody in particular
// (shared objects: shared blobs and staking pools).
type Owner struct {
	Shared  bool
	Address ids.Address
}

// AddressOwner returns the owner for a.
func AddressOwner(a ids.Address) Owner { return Owner{Address: a} }

func appendOwner(b []byte, o Owner) []byte {
	if o.Shared {
		return bcs.AppendULEB128(b, 1)
	}
	return append(bcs.AppendULEB128(b, 0), o.Address[:]...)
}

func decodeOwner(d *bcs.Decoder) Owner {
	if d.Tag(2) == 1 {
		return Owner{Shared: true}
	}
	return Owner{Address: d.Array32()}
}

// Storage is a storage resource: encoded bytes reserved for epochs
// [StartEpoch, EndEpoch).
type Storage struct {
	ID         ids.ObjectID
	StartEpoch uint32
	EndEpoch   uint32
	Size       uint64
}

func appendStorage(b []byte, s *Storage) []byte {
	b = append(b, s.ID[:]...)
	b = bcs.AppendU32(b, s.StartEpoch)
	b = bcs.AppendU32(b, s.EndEpoch)
	return bcs.AppendU64(b, s.Size)
}

func decodeStorage(d *bcs.Decoder) Storage {
	return Storage{ID: d.Array32(), StartEpoch: d.U32(), EndEpoch: d.U32(), Size: d.U64()}
}

// Attribute is one key/value pair of a blob's metadata.
type Attribute struct{ Key, Value string }

// Blob is a registered blob, in the field order of Walrus's Move struct,
// followed by its attributes (a dynamic field in Walrus).
type Blob struct {
	ID              ids.ObjectID
	RegisteredEpoch uint32
	BlobID          blob.ID
	Size            uint64
	EncodingType    blob.EncodingType
	CertifiedEpoch  *uint32
	Storage         Storage
	Deletable       bool
	Attributes      []Attribute // sorted by key
}

// EndEpoch is the first epoch in which the blob is no longer stored.
func (b *Blob) EndEpoch() uint32 { return b.Storage.EndEpoch }

// Certified reports whether the blob has been certified.
func (b *Blob) Certified() bool { return b.CertifiedEpoch != nil }

func appendBlob(b []byte, o *Blob) []byte {
	b = append(b, o.ID[:]...)
	b = bcs.AppendU32(b, o.RegisteredEpoch)
	b = append(b, o.BlobID[:]...)
	b = bcs.AppendU64(b, o.Size)
	b = bcs.AppendU8(b, uint8(o.EncodingType))
	if o.CertifiedEpoch != nil {
		b = bcs.AppendU32(bcs.AppendULEB128(b, 1), *o.CertifiedEpoch)
	} else {
		b = bcs.AppendULEB128(b, 0)
	}
	b = appendStorage(b, &o.Storage)
	b = bcs.AppendBool(b, o.Deletable)
	b = bcs.AppendLen(b, len(o.Attributes))
	for _, a := range o.Attributes {
		b = bcs.AppendString(bcs.AppendString(b, a.Key), a.Value)
	}
	return b
}

func decodeBlob(d *bcs.Decoder) Blob {
	var o Blob
	o.ID = d.Array32()
	o.RegisteredEpoch = d.U32()
	o.BlobID = d.Array32()
	o.Size = d.U64()
	o.EncodingType = blob.EncodingType(d.U8())
	if d.Option() {
		e := d.U32()
		o.CertifiedEpoch = &e
	}
	o.Storage = decodeStorage(d)
	o.Deletable = d.Bool()
	n := d.Len(maxAttributes, 2)
	for range n {
		o.Attributes = append(o.Attributes, Attribute{d.String(maxAttrLen), d.String(maxAttrLen)})
	}
	return o
}

// SharedBlob is a blob anyone can extend, paid from its funds.
type SharedBlob struct {
	ID    ids.ObjectID
	Blob  Blob
	Funds uint64
}

// PoolState is the lifecycle state of a staking pool.
type PoolState uint8

// Pool states. Only Active is reachable in this version (no node deregistration).
const (
	PoolActive PoolState = iota
	PoolWithdrawing
	PoolWithdrawn
)

// EpochAmount is an amount due at an epoch (pending stake, withdrawals, commission changes).
type EpochAmount struct {
	Epoch  uint32
	Amount uint64
}

// StakingPool is a storage node and the stake delegated to it. Its object ID
// is the node ID.
type StakingPool struct {
	ID               ids.ObjectID
	State            PoolState
	Name             string
	NetworkAddress   string
	PublicKey        [48]byte
	NextPublicKey    *[48]byte
	NetworkPublicKey []byte
	Operator         ids.Address // holds the rights of Walrus's StorageNodeCap
	CommissionRate   uint16      // basis points
	PendingRates     []EpochAmount
	Commission       uint64 // collectable
	CommissionLocked uint64 // earned this epoch, collectable after voting end
	StoragePrice     uint64 // votes
	WritePrice       uint64
	NodeCapacity     uint64
	ActivationEpoch  uint32
	WalBalance       uint64 // active stake plus rewards
	Shares           uint64
	PendingStake     []EpochAmount // activating at Epoch
	PendingWithdraw  []EpochAmount // shares leaving at Epoch
	LastSyncDone     uint32        // last epoch this node called epoch_sync_done for
}

func appendEpochAmounts(b []byte, v []EpochAmount) []byte {
	b = bcs.AppendLen(b, len(v))
	for _, e := range v {
		b = bcs.AppendU64(bcs.AppendU32(b, e.Epoch), e.Amount)
	}
	return b
}

func decodeEpochAmounts(d *bcs.Decoder) []EpochAmount {
	n := d.Len(1<<16, 12)
	var v []EpochAmount
	for range n {
		v = append(v, EpochAmount{d.U32(), d.U64()})
	}
	return v
}

func appendPool(b []byte, p *StakingPool) []byte {
	b = append(b, p.ID[:]...)
	b = bcs.AppendU8(b, uint8(p.State))
	b = bcs.AppendString(b, p.Name)
	b = bcs.AppendString(b, p.NetworkAddress)
	b = append(b, p.PublicKey[:]...)
	if p.NextPublicKey != nil {
		b = append(bcs.AppendULEB128(b, 1), p.NextPublicKey[:]...)
	} else {
		b = bcs.AppendULEB128(b, 0)
	}
	b = bcs.AppendBytes(b, p.NetworkPublicKey)
	b = append(b, p.Operator[:]...)
	b = bcs.AppendU16(b, p.CommissionRate)
	b = appendEpochAmounts(b, p.PendingRates)
	b = bcs.AppendU64(b, p.Commission)
	b = bcs.AppendU64(b, p.CommissionLocked)
	b = bcs.AppendU64(b, p.StoragePrice)
	b = bcs.AppendU64(b, p.WritePrice)
	b = bcs.AppendU64(b, p.NodeCapacity)
	b = bcs.AppendU32(b, p.ActivationEpoch)
	b = bcs.AppendU64(b, p.WalBalance)
	b = bcs.AppendU64(b, p.Shares)
	b = appendEpochAmounts(b, p.PendingStake)
	b = appendEpochAmounts(b, p.PendingWithdraw)
	return bcs.AppendU32(b, p.LastSyncDone)
}

func decodePool(d *bcs.Decoder) StakingPool {
	var p StakingPool
	p.ID = d.Array32()
	p.State = PoolState(d.U8())
	p.Name = d.String(maxNameLen)
	p.NetworkAddress = d.String(maxAddressLen)
	copy(p.PublicKey[:], d.Fixed(48))
	if d.Option() {
		var k [48]byte
		copy(k[:], d.Fixed(48))
		p.NextPublicKey = &k
	}
	p.NetworkPublicKey = append([]byte(nil), d.Bytes(maxNetKeyLen)...)
	p.Operator = d.Array32()
	p.CommissionRate = d.U16()
	p.PendingRates = decodeEpochAmounts(d)
	p.Commission = d.U64()
	p.CommissionLocked = d.U64()
	p.StoragePrice = d.U64()
	p.WritePrice = d.U64()
	p.NodeCapacity = d.U64()
	p.ActivationEpoch = d.U32()
	p.WalBalance = d.U64()
	p.Shares = d.U64()
	p.PendingStake = decodeEpochAmounts(d)
	p.PendingWithdraw = decodeEpochAmounts(d)
	p.LastSyncDone = d.U32()
	return p
}

// StakedWal is stake delegated to a pool by its owner.
type StakedWal struct {
	ID              ids.ObjectID
	NodeID          ids.ObjectID
	Principal       uint64
	ActivationEpoch uint32
	Withdrawing     bool
	WithdrawEpoch   uint32 // when Withdrawing: the epoch from which it can be withdrawn
	WithdrawShares  uint64 // when Withdrawing: the shares that leave the pool
}

func appendStaked(b []byte, s *StakedWal) []byte {
	b = append(b, s.ID[:]...)
	b = append(b, s.NodeID[:]...)
	b = bcs.AppendU64(b, s.Principal)
	b = bcs.AppendU32(b, s.ActivationEpoch)
	b = bcs.AppendBool(b, s.Withdrawing)
	b = bcs.AppendU32(b, s.WithdrawEpoch)
	return bcs.AppendU64(b, s.WithdrawShares)
}

func decodeStaked(d *bcs.Decoder) StakedWal {
	return StakedWal{ID: d.Array32(), NodeID: d.Array32(), Principal: d.U64(), ActivationEpoch: d.U32(),
		Withdrawing: d.Bool(), WithdrawEpoch: d.U32(), WithdrawShares: d.U64()}
}

// Object is any object with its owner. Exactly one of the typed fields is
// set, as Kind says.
type Object struct {
	Kind       Kind
	Owner      Owner
	Storage    *Storage
	Blob       *Blob
	SharedBlob *SharedBlob
	Pool       *StakingPool
	Staked     *StakedWal
}

// ID returns the object's ID.
func (o *Object) ID() ids.ObjectID {
	switch o.Kind {
	case KindStorage:
		return o.Storage.ID
	case KindBlob:
		return o.Blob.ID
	case KindSharedBlob:
		return o.SharedBlob.ID
	case KindStakingPool:
		return o.Pool.ID
	default:
		return o.Staked.ID
	}
}

// Marshal encodes the object: kind byte, owner, body.
func (o *Object) Marshal() []byte {
	b := []byte{byte(o.Kind)}
	b = appendOwner(b, o.Owner)
	switch o.Kind {
	case KindStorage:
		b = appendStorage(b, o.Storage)
	case KindBlob:
		b = appendBlob(b, o.Blob)
	case KindSharedBlob:
		b = append(b, o.SharedBlob.ID[:]...)
		b = appendBlob(b, &o.SharedBlob.Blob)
		b = bcs.AppendU64(b, o.SharedBlob.Funds)
	case KindStakingPool:
		b = appendPool(b, o.Pool)
	case KindStakedWal:
		b = appendStaked(b, o.Staked)
	}
	return b
}

// UnmarshalObject decodes an object.
func UnmarshalObject(b []byte) (*Object, error) {
	d := bcs.NewDecoder(b)
	o := &Object{Kind: Kind(d.Tag(int(kindCount)))}
	o.Owner = decodeOwner(d)
	switch o.Kind {
	case KindStorage:
		s := decodeStorage(d)
		o.Storage = &s
	case KindBlob:
		bl := decodeBlob(d)
		o.Blob = &bl
	case KindSharedBlob:
		sb := SharedBlob{ID: d.Array32()}
		sb.Blob = decodeBlob(d)
		sb.Funds = d.U64()
		o.SharedBlob = &sb
	case KindStakingPool:
		p := decodePool(d)
		o.Pool = &p
	case KindStakedWal:
		s := decodeStaked(d)
		o.Staked = &s
	}
	if err := d.Finish(); err != nil {
		return nil, fmt.Errorf("chain: object: %w", err)
	}
	return o, nil
}

// ExchangeRate is a pool's WAL and shares at the start of an epoch.
type ExchangeRate struct {
	Wal    uint64
	Shares uint64
}

func (r ExchangeRate) marshal() []byte { return bcs.AppendU64(bcs.AppendU64(nil, r.Wal), r.Shares) }

func unmarshalRate(b []byte) (ExchangeRate, error) {
	d := bcs.NewDecoder(b)
	r := ExchangeRate{d.U64(), d.U64()}
	return r, d.Finish()
}

// sharesFor converts WAL to shares at this rate (1:1 for an empty pool).
func (r ExchangeRate) sharesFor(wal uint64) uint64 {
	if r.Wal == 0 || r.Shares == 0 {
		return wal
	}
	return mulDiv(wal, r.Shares, r.Wal)
}

// walFor converts shares to WAL at this rate (1:1 for an empty pool).
func (r ExchangeRate) walFor(shares uint64) uint64 {
	if r.Wal == 0 || r.Shares == 0 {
		return shares
	}
	return mulDiv(shares, r.Wal, r.Shares)
}
