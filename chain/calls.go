// Transaction calls and their BCS forms (one struct per Move function mirrored).

package chain

import (
	"github.com/walrus-go/walrus/bcs"
	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/ids"
)

// Call is one call of a transaction, named after the Move function it mirrors.
type Call interface {
	op() op
	appendTo([]byte) []byte
	decode(*bcs.Decoder)
	// MoveName is the Move-style function name.
	MoveName() string
}

type op uint8

const (
	opTransferWal op = iota
	opReserveSpace
	opSplitStorageBySize
	opSplitStorageByEpoch
	opFuseStorage
	opTransferObject
	opRegisterBlob
	opCertifyBlob
	opDeleteBlob
	opExtendBlob
	opExtendBlobWithResource
	opBurnBlob
	opShareBlob
	opFundSharedBlob
	opExtendSharedBlob
	opSetBlobAttribute
	opRemoveBlobAttribute
	opInvalidateBlobID
	opRegisterNode
	opUpdateNode
	opStakeWithPool
	opRequestWithdrawStake
	opWithdrawStake
	opSetCommissionRate
	opCollectCommission
	opVote
	opEpochSyncDone
	opFaucetMint
	opCount
)

func newCall(o op) Call {
	switch o {
	case opTransferWal:
		return &TransferWal{}
	case opReserveSpace:
		return &ReserveSpace{}
	case opSplitStorageBySize:
		return &SplitStorageBySize{}
	case opSplitStorageByEpoch:
		return &SplitStorageByEpoch{}
	case opFuseStorage:
		return &FuseStorage{}
	case opTransferObject:
		return &TransferObject{}
	case opRegisterBlob:
		return &RegisterBlob{}
	case opCertifyBlob:
		return &CertifyBlob{}
	case opDeleteBlob:
		return &DeleteBlob{}
	case opExtendBlob:
		return &ExtendBlob{}
	case opExtendBlobWithResource:
		return &ExtendBlobWithResource{}
	case opBurnBlob:
		return &BurnBlob{}
	case opShareBlob:
		return &ShareBlob{}
	case opFundSharedBlob:
		return &FundSharedBlob{}
	case opExtendSharedBlob:
		return &ExtendSharedBlob{}
	case opSetBlobAttribute:
		return &SetBlobAttribute{}
	case opRemoveBlobAttribute:
		return &RemoveBlobAttribute{}
	case opInvalidateBlobID:
		return &InvalidateBlobID{}
	case opRegisterNode:
		return &RegisterNode{}
	case opUpdateNode:
		return &UpdateNode{}
	case opStakeWithPool:
		return &StakeWithPool{}
	case opRequestWithdrawStake:
		return &RequestWithdrawStake{}
	case opWithdrawStake:
		return &WithdrawStake{}
	case opSetCommissionRate:
		return &SetCommissionRate{}
	case opCollectCommission:
		return &CollectCommission{}
	case opVote:
		return &Vote{}
	case opEpochSyncDone:
		return &EpochSyncDone{}
	case opFaucetMint:
		return &FaucetMint{}
	}
	return &TransferWal{}
}

// TransferWal (transfer_wal) sends WAL to another address.
type TransferWal struct {
	To     ids.Address
	Amount uint64
}

func (*TransferWal) op() op { return opTransferWal }

// MoveName implements Call.
func (*TransferWal) MoveName() string { return "transfer_wal" }

func (c *TransferWal) appendTo(b []byte) []byte {
	b = append(b, c.To[:]...)
	b = bcs.AppendU64(b, c.Amount)
	return b
}

func (c *TransferWal) decode(d *bcs.Decoder) {
	c.To = d.Array32()
	c.Amount = d.U64()
}

// ReserveSpace (reserve_space) buys a Storage resource of EncodedSize bytes for the current epoch and EpochsAhead-1 more.
type ReserveSpace struct {
	EncodedSize uint64
	EpochsAhead uint32
}

func (*ReserveSpace) op() op { return opReserveSpace }

// MoveName implements Call.
func (*ReserveSpace) MoveName() string { return "reserve_space" }

func (c *ReserveSpace) appendTo(b []byte) []byte {
	b = bcs.AppendU64(b, c.EncodedSize)
	b = bcs.AppendU32(b, c.EpochsAhead)
	return b
}

func (c *ReserveSpace) decode(d *bcs.Decoder) {
	c.EncodedSize = d.U64()
	c.EpochsAhead = d.U32()
}

// SplitStorageBySize (split_storage_by_size) keeps SplitSize bytes in Storage and creates a Storage with the rest.
type SplitStorageBySize struct {
	Storage   ObjectRef
	SplitSize uint64
}

func (*SplitStorageBySize) op() op { return opSplitStorageBySize }

// MoveName implements Call.
func (*SplitStorageBySize) MoveName() string { return "split_storage_by_size" }

func (c *SplitStorageBySize) appendTo(b []byte) []byte {
	b = appendRef(b, c.Storage)
	b = bcs.AppendU64(b, c.SplitSize)
	return b
}

func (c *SplitStorageBySize) decode(d *bcs.Decoder) {
	c.Storage = decodeRef(d)
	c.SplitSize = d.U64()
}

// SplitStorageByEpoch (split_storage_by_epoch) keeps [start, SplitEpoch) in Storage and creates a Storage for [SplitEpoch, end).
type SplitStorageByEpoch struct {
	Storage    ObjectRef
	SplitEpoch uint32
}

func (*SplitStorageByEpoch) op() op { return opSplitStorageByEpoch }

// MoveName implements Call.
func (*SplitStorageByEpoch) MoveName() string { return "split_storage_by_epoch" }

func (c *SplitStorageByEpoch) appendTo(b []byte) []byte {
	b = appendRef(b, c.Storage)
	b = bcs.AppendU32(b, c.SplitEpoch)
	return b
}

func (c *SplitStorageByEpoch) decode(d *bcs.Decoder) {
	c.Storage = decodeRef(d)
	c.SplitEpoch = d.U32()
}

// FuseStorage (fuse_storage) merges Other into Storage: same period (sizes add) or adjacent periods of equal size.
type FuseStorage struct {
	Storage ObjectRef
	Other   ObjectRef
}

func (*FuseStorage) op() op { return opFuseStorage }

// MoveName implements Call.
func (*FuseStorage) MoveName() string { return "fuse_storage" }

func (c *FuseStorage) appendTo(b []byte) []byte {
	b = appendRef(b, c.Storage)
	b = appendRef(b, c.Other)
	return b
}

func (c *FuseStorage) decode(d *bcs.Decoder) {
	c.Storage = decodeRef(d)
	c.Other = decodeRef(d)
}

// TransferObject (transfer_object) gives an owned Storage, Blob or StakedWal to another address.
type TransferObject struct {
	Object ObjectRef
	To     ids.Address
}

func (*TransferObject) op() op { return opTransferObject }

// MoveName implements Call.
func (*TransferObject) MoveName() string { return "transfer_object" }

func (c *TransferObject) appendTo(b []byte) []byte {
	b = appendRef(b, c.Object)
	b = append(b, c.To[:]...)
	return b
}

func (c *TransferObject) decode(d *bcs.Decoder) {
	c.Object = decodeRef(d)
	c.To = d.Array32()
}

// RegisterBlob (register_blob) registers a blob on a Storage resource, which the Blob absorbs.
type RegisterBlob struct {
	Storage      ObjectRef
	BlobID       blob.ID
	RootHash     [32]byte
	Size         uint64
	EncodingType uint8
	Deletable    bool
}

func (*RegisterBlob) op() op { return opRegisterBlob }

// MoveName implements Call.
func (*RegisterBlob) MoveName() string { return "register_blob" }

func (c *RegisterBlob) appendTo(b []byte) []byte {
	b = appendRef(b, c.Storage)
	b = append(b, c.BlobID[:]...)
	b = append(b, c.RootHash[:]...)
	b = bcs.AppendU64(b, c.Size)
	b = bcs.AppendU8(b, c.EncodingType)
	b = bcs.AppendBool(b, c.Deletable)
	return b
}

func (c *RegisterBlob) decode(d *bcs.Decoder) {
	c.Storage = decodeRef(d)
	c.BlobID = d.Array32()
	c.RootHash = d.Array32()
	c.Size = d.U64()
	c.EncodingType = d.U8()
	c.Deletable = d.Bool()
}

// CertifyBlob (certify_blob) certifies a registered blob with an aggregate confirmation certificate of the current committee.
type CertifyBlob struct {
	Blob          ObjectRef
	Signature     [96]byte
	SignersBitmap []byte
	Message       []byte
}

func (*CertifyBlob) op() op { return opCertifyBlob }

// MoveName implements Call.
func (*CertifyBlob) MoveName() string { return "certify_blob" }

func (c *CertifyBlob) appendTo(b []byte) []byte {
	b = appendRef(b, c.Blob)
	b = append(b, c.Signature[:]...)
	b = bcs.AppendBytes(b, c.SignersBitmap)
	b = bcs.AppendBytes(b, c.Message)
	return b
}

func (c *CertifyBlob) decode(d *bcs.Decoder) {
	c.Blob = decodeRef(d)
	copy(c.Signature[:], d.Fixed(96))
	c.SignersBitmap = append([]byte(nil), d.Bytes(maxBitmapLen)...)
	c.Message = append([]byte(nil), d.Bytes(maxMessageLen)...)
}

// DeleteBlob (delete_blob) deletes a deletable blob and returns its Storage to the sender.
type DeleteBlob struct {
	Blob ObjectRef
}

func (*DeleteBlob) op() op { return opDeleteBlob }

// MoveName implements Call.
func (*DeleteBlob) MoveName() string { return "delete_blob" }

func (c *DeleteBlob) appendTo(b []byte) []byte {
	b = appendRef(b, c.Blob)
	return b
}

func (c *DeleteBlob) decode(d *bcs.Decoder) {
	c.Blob = decodeRef(d)
}

// ExtendBlob (extend_blob) extends a certified blob by Epochs, paying the storage fee.
type ExtendBlob struct {
	Blob   ObjectRef
	Epochs uint32
}

func (*ExtendBlob) op() op { return opExtendBlob }

// MoveName implements Call.
func (*ExtendBlob) MoveName() string { return "extend_blob" }

func (c *ExtendBlob) appendTo(b []byte) []byte {
	b = appendRef(b, c.Blob)
	b = bcs.AppendU32(b, c.Epochs)
	return b
}

func (c *ExtendBlob) decode(d *bcs.Decoder) {
	c.Blob = decodeRef(d)
	c.Epochs = d.U32()
}

// ExtendBlobWithResource (extend_blob_with_resource) extends a certified blob with a Storage of its size starting at its end epoch.
type ExtendBlobWithResource struct {
	Blob    ObjectRef
	Storage ObjectRef
}

func (*ExtendBlobWithResource) op() op { return opExtendBlobWithResource }

// MoveName implements Call.
func (*ExtendBlobWithResource) MoveName() string { return "extend_blob_with_resource" }

func (c *ExtendBlobWithResource) appendTo(b []byte) []byte {
	b = appendRef(b, c.Blob)
	b = appendRef(b, c.Storage)
	return b
}

func (c *ExtendBlobWithResource) decode(d *bcs.Decoder) {
	c.Blob = decodeRef(d)
	c.Storage = decodeRef(d)
}

// BurnBlob (burn_blob) destroys the Blob object without deleting the stored data.
type BurnBlob struct {
	Blob ObjectRef
}

func (*BurnBlob) op() op { return opBurnBlob }

// MoveName implements Call.
func (*BurnBlob) MoveName() string { return "burn_blob" }

func (c *BurnBlob) appendTo(b []byte) []byte {
	b = appendRef(b, c.Blob)
	return b
}

func (c *BurnBlob) decode(d *bcs.Decoder) {
	c.Blob = decodeRef(d)
}

// ShareBlob (share_blob) turns an owned blob into a SharedBlob holding Funds WAL from the sender.
type ShareBlob struct {
	Blob  ObjectRef
	Funds uint64
}

func (*ShareBlob) op() op { return opShareBlob }

// MoveName implements Call.
func (*ShareBlob) MoveName() string { return "share_blob" }

func (c *ShareBlob) appendTo(b []byte) []byte {
	b = appendRef(b, c.Blob)
	b = bcs.AppendU64(b, c.Funds)
	return b
}

func (c *ShareBlob) decode(d *bcs.Decoder) {
	c.Blob = decodeRef(d)
	c.Funds = d.U64()
}

// FundSharedBlob (fund_shared_blob) adds WAL to a shared blob's funds.
type FundSharedBlob struct {
	Shared ObjectRef
	Amount uint64
}

func (*FundSharedBlob) op() op { return opFundSharedBlob }

// MoveName implements Call.
func (*FundSharedBlob) MoveName() string { return "fund_shared_blob" }

func (c *FundSharedBlob) appendTo(b []byte) []byte {
	b = appendRef(b, c.Shared)
	b = bcs.AppendU64(b, c.Amount)
	return b
}

func (c *FundSharedBlob) decode(d *bcs.Decoder) {
	c.Shared = decodeRef(d)
	c.Amount = d.U64()
}

// ExtendSharedBlob (extend_shared_blob) extends a shared blob by Epochs, paid from its funds.
type ExtendSharedBlob struct {
	Shared ObjectRef
	Epochs uint32
}

func (*ExtendSharedBlob) op() op { return opExtendSharedBlob }

// MoveName implements Call.
func (*ExtendSharedBlob) MoveName() string { return "extend_shared_blob" }

func (c *ExtendSharedBlob) appendTo(b []byte) []byte {
	b = appendRef(b, c.Shared)
	b = bcs.AppendU32(b, c.Epochs)
	return b
}

func (c *ExtendSharedBlob) decode(d *bcs.Decoder) {
	c.Shared = decodeRef(d)
	c.Epochs = d.U32()
}

// SetBlobAttribute (set_blob_attribute) inserts or updates a key/value attribute of a blob.
type SetBlobAttribute struct {
	Blob  ObjectRef
	Key   string
	Value string
}

func (*SetBlobAttribute) op() op { return opSetBlobAttribute }

// MoveName implements Call.
func (*SetBlobAttribute) MoveName() string { return "set_blob_attribute" }

func (c *SetBlobAttribute) appendTo(b []byte) []byte {
	b = appendRef(b, c.Blob)
	b = bcs.AppendString(b, c.Key)
	b = bcs.AppendString(b, c.Value)
	return b
}

func (c *SetBlobAttribute) decode(d *bcs.Decoder) {
	c.Blob = decodeRef(d)
	c.Key = d.String(maxAttrLen)
	c.Value = d.String(maxAttrLen)
}

// RemoveBlobAttribute (remove_blob_attribute) removes an attribute of a blob.
type RemoveBlobAttribute struct {
	Blob ObjectRef
	Key  string
}

func (*RemoveBlobAttribute) op() op { return opRemoveBlobAttribute }

// MoveName implements Call.
func (*RemoveBlobAttribute) MoveName() string { return "remove_blob_attribute" }

func (c *RemoveBlobAttribute) appendTo(b []byte) []byte {
	b = appendRef(b, c.Blob)
	b = bcs.AppendString(b, c.Key)
	return b
}

func (c *RemoveBlobAttribute) decode(d *bcs.Decoder) {
	c.Blob = decodeRef(d)
	c.Key = d.String(maxAttrLen)
}

// InvalidateBlobID (invalidate_blob_id) declares a blob ID invalid with an f+1 certificate of the current committee.
type InvalidateBlobID struct {
	Signature     [96]byte
	SignersBitmap []byte
	Message       []byte
}

func (*InvalidateBlobID) op() op { return opInvalidateBlobID }

// MoveName implements Call.
func (*InvalidateBlobID) MoveName() string { return "invalidate_blob_id" }

func (c *InvalidateBlobID) appendTo(b []byte) []byte {
	b = append(b, c.Signature[:]...)
	b = bcs.AppendBytes(b, c.SignersBitmap)
	b = bcs.AppendBytes(b, c.Message)
	return b
}

func (c *InvalidateBlobID) decode(d *bcs.Decoder) {
	copy(c.Signature[:], d.Fixed(96))
	c.SignersBitmap = append([]byte(nil), d.Bytes(maxBitmapLen)...)
	c.Message = append([]byte(nil), d.Bytes(maxMessageLen)...)
}

// RegisterNode (register_node) creates a staking pool for a storage node operated by the sender.
type RegisterNode struct {
	Name              string
	NetworkAddress    string
	PublicKey         [48]byte
	ProofOfPossession [96]byte
	NetworkPublicKey  []byte
	CommissionRate    uint16
	StoragePrice      uint64
	WritePrice        uint64
	NodeCapacity      uint64
}

func (*RegisterNode) op() op { return opRegisterNode }

// MoveName implements Call.
func (*RegisterNode) MoveName() string { return "register_node" }

func (c *RegisterNode) appendTo(b []byte) []byte {
	b = bcs.AppendString(b, c.Name)
	b = bcs.AppendString(b, c.NetworkAddress)
	b = append(b, c.PublicKey[:]...)
	b = append(b, c.ProofOfPossession[:]...)
	b = bcs.AppendBytes(b, c.NetworkPublicKey)
	b = bcs.AppendU16(b, c.CommissionRate)
	b = bcs.AppendU64(b, c.StoragePrice)
	b = bcs.AppendU64(b, c.WritePrice)
	b = bcs.AppendU64(b, c.NodeCapacity)
	return b
}

func (c *RegisterNode) decode(d *bcs.Decoder) {
	c.Name = d.String(maxNameLen)
	c.NetworkAddress = d.String(maxAddressLen)
	copy(c.PublicKey[:], d.Fixed(48))
	copy(c.ProofOfPossession[:], d.Fixed(96))
	c.NetworkPublicKey = append([]byte(nil), d.Bytes(maxNetKeyLen)...)
	c.CommissionRate = d.U16()
	c.StoragePrice = d.U64()
	c.WritePrice = d.U64()
	c.NodeCapacity = d.U64()
}

// UpdateNode (update_node) changes a node's name, network address and network key, and optionally its BLS key from the next epoch (NextProofOfPossession is then over the next key).
type UpdateNode struct {
	Node                  ObjectRef
	Name                  string
	NetworkAddress        string
	NetworkPublicKey      []byte
	NextPublicKey         []byte
	NextProofOfPossession []byte
}

func (*UpdateNode) op() op { return opUpdateNode }

// MoveName implements Call.
func (*UpdateNode) MoveName() string { return "update_node" }

func (c *UpdateNode) appendTo(b []byte) []byte {
	b = appendRef(b, c.Node)
	b = bcs.AppendString(b, c.Name)
	b = bcs.AppendString(b, c.NetworkAddress)
	b = bcs.AppendBytes(b, c.NetworkPublicKey)
	b = bcs.AppendBytes(b, c.NextPublicKey)
	b = bcs.AppendBytes(b, c.NextProofOfPossession)
	return b
}

func (c *UpdateNode) decode(d *bcs.Decoder) {
	c.Node = decodeRef(d)
	c.Name = d.String(maxNameLen)
	c.NetworkAddress = d.String(maxAddressLen)
	c.NetworkPublicKey = append([]byte(nil), d.Bytes(maxNetKeyLen)...)
	c.NextPublicKey = append([]byte(nil), d.Bytes(48)...)
	c.NextProofOfPossession = append([]byte(nil), d.Bytes(96)...)
}

// StakeWithPool (stake_with_pool) stakes Amount WAL with a node and gives the sender a StakedWal.
type StakeWithPool struct {
	Node   ObjectRef
	Amount uint64
}

func (*StakeWithPool) op() op { return opStakeWithPool }

// MoveName implements Call.
func (*StakeWithPool) MoveName() string { return "stake_with_pool" }

func (c *StakeWithPool) appendTo(b []byte) []byte {
	b = appendRef(b, c.Node)
	b = bcs.AppendU64(b, c.Amount)
	return b
}

func (c *StakeWithPool) decode(d *bcs.Decoder) {
	c.Node = decodeRef(d)
	c.Amount = d.U64()
}

// RequestWithdrawStake (request_withdraw_stake) asks for an active StakedWal to leave its pool at the next possible epoch.
type RequestWithdrawStake struct {
	Staked ObjectRef
}

func (*RequestWithdrawStake) op() op { return opRequestWithdrawStake }

// MoveName implements Call.
func (*RequestWithdrawStake) MoveName() string { return "request_withdraw_stake" }

func (c *RequestWithdrawStake) appendTo(b []byte) []byte {
	b = appendRef(b, c.Staked)
	return b
}

func (c *RequestWithdrawStake) decode(d *bcs.Decoder) {
	c.Staked = decodeRef(d)
}

// WithdrawStake (withdraw_stake) pays out a StakedWal whose withdrawal epoch has come, or one not yet active.
type WithdrawStake struct {
	Staked ObjectRef
}

func (*WithdrawStake) op() op { return opWithdrawStake }

// MoveName implements Call.
func (*WithdrawStake) MoveName() string { return "withdraw_stake" }

func (c *WithdrawStake) appendTo(b []byte) []byte {
	b = appendRef(b, c.Staked)
	return b
}

func (c *WithdrawStake) decode(d *bcs.Decoder) {
	c.Staked = decodeRef(d)
}

// SetCommissionRate (set_commission_rate) sets a node's commission rate (basis points) from two epochs on.
type SetCommissionRate struct {
	Node ObjectRef
	Rate uint16
}

func (*SetCommissionRate) op() op { return opSetCommissionRate }

// MoveName implements Call.
func (*SetCommissionRate) MoveName() string { return "set_commission_rate" }

func (c *SetCommissionRate) appendTo(b []byte) []byte {
	b = appendRef(b, c.Node)
	b = bcs.AppendU16(b, c.Rate)
	return b
}

func (c *SetCommissionRate) decode(d *bcs.Decoder) {
	c.Node = decodeRef(d)
	c.Rate = d.U16()
}

// CollectCommission (collect_commission) pays a node's collectable commission to its operator.
type CollectCommission struct {
	Node ObjectRef
}

func (*CollectCommission) op() op { return opCollectCommission }

// MoveName implements Call.
func (*CollectCommission) MoveName() string { return "collect_commission" }

func (c *CollectCommission) appendTo(b []byte) []byte {
	b = appendRef(b, c.Node)
	return b
}

func (c *CollectCommission) decode(d *bcs.Decoder) {
	c.Node = decodeRef(d)
}

// Vote (vote) sets a node's votes for the storage price, write price and node capacity.
type Vote struct {
	Node         ObjectRef
	StoragePrice uint64
	WritePrice   uint64
	NodeCapacity uint64
}

func (*Vote) op() op { return opVote }

// MoveName implements Call.
func (*Vote) MoveName() string { return "vote" }

func (c *Vote) appendTo(b []byte) []byte {
	b = appendRef(b, c.Node)
	b = bcs.AppendU64(b, c.StoragePrice)
	b = bcs.AppendU64(b, c.WritePrice)
	b = bcs.AppendU64(b, c.NodeCapacity)
	return b
}

func (c *Vote) decode(d *bcs.Decoder) {
	c.Node = decodeRef(d)
	c.StoragePrice = d.U64()
	c.WritePrice = d.U64()
	c.NodeCapacity = d.U64()
}

// EpochSyncDone (epoch_sync_done) reports that a node has synced its shards for Epoch.
type EpochSyncDone struct {
	Node  ObjectRef
	Epoch uint32
}

func (*EpochSyncDone) op() op { return opEpochSyncDone }

// MoveName implements Call.
func (*EpochSyncDone) MoveName() string { return "epoch_sync_done" }

func (c *EpochSyncDone) appendTo(b []byte) []byte {
	b = appendRef(b, c.Node)
	b = bcs.AppendU32(b, c.Epoch)
	return b
}

func (c *EpochSyncDone) decode(d *bcs.Decoder) {
	c.Node = decodeRef(d)
	c.Epoch = d.U32()
}

// FaucetMint (faucet_mint) mints WAL to an address; only the genesis faucet account may call it.
type FaucetMint struct {
	To     ids.Address
	Amount uint64
}

func (*FaucetMint) op() op { return opFaucetMint }

// MoveName implements Call.
func (*FaucetMint) MoveName() string { return "faucet_mint" }

func (c *FaucetMint) appendTo(b []byte) []byte {
	b = append(b, c.To[:]...)
	b = bcs.AppendU64(b, c.Amount)
	return b
}

func (c *FaucetMint) decode(d *bcs.Decoder) {
	c.To = d.Array32()
	c.Amount = d.U64()
}
