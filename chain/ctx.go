package chain

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/walrus-go/walrus/committee"
	"github.com/walrus-go/walrus/ids"
)

// txCtx is the state of one running transaction (or of block processing).
type txCtx struct {
	m       *Machine
	st      *Overlay
	sys     *System
	now     uint64
	sender  ids.Address
	digest  ids.Digest
	comm    *committee.Committee
	certs   map[certKey]error
	txIndex int
	call    int
	created []ids.ObjectID
	events  []Event
}

// run executes the calls in order; the first abort stops the transaction.
func (c *txCtx) run(t *Tx) error {
	for i, call := range t.Calls {
		c.call = i
		if err := c.exec(call); err != nil {
			if isAbort(err) {
				return fmt.Errorf("%w (call %d %s)", err, i, call.MoveName())
			}
			return err
		}
	}
	return nil
}

func (c *txCtx) exec(call Call) error {
	switch call := call.(type) {
	case *TransferWal:
		return c.transferWal(call)
	case *ReserveSpace:
		return c.reserveSpace(call)
	case *SplitStorageBySize:
		return c.splitStorageBySize(call)
	case *SplitStorageByEpoch:
		return c.splitStorageByEpoch(call)
	case *FuseStorage:
		return c.fuseStorage(call)
	case *TransferObject:
		return c.transferObject(call)
	case *RegisterBlob:
		return c.registerBlob(call)
	case *CertifyBlob:
		return c.certifyBlob(call)
	case *DeleteBlob:
		return c.deleteBlob(call)
	case *ExtendBlob:
		return c.extendBlob(call)
	case *ExtendBlobWithResource:
		return c.extendBlobWithResource(call)
	case *BurnBlob:
		return c.burnBlob(call)
	case *ShareBlob:
		return c.shareBlob(call)
	case *FundSharedBlob:
		return c.fundSharedBlob(call)
	case *ExtendSharedBlob:
		return c.extendSharedBlob(call)
	case *SetBlobAttribute:
		return c.setBlobAttribute(call)
	case *RemoveBlobAttribute:
		return c.removeBlobAttribute(call)
	case *InvalidateBlobID:
		return c.invalidateBlobID(call)
	case *RegisterNode:
		return c.registerNode(call)
	case *UpdateNode:
		return c.updateNode(call)
	case *StakeWithPool:
		return c.stakeWithPool(call)
	case *RequestWithdrawStake:
		return c.requestWithdrawStake(call)
	case *WithdrawStake:
		return c.withdrawStake(call)
	case *SetCommissionRate:
		return c.setCommissionRate(call)
	case *CollectCommission:
		return c.collectCommission(call)
	case *Vote:
		return c.vote(call)
	case *EpochSyncDone:
		return c.epochSyncDone(call)
	case *FaucetMint:
		return c.faucetMint(call)
	}
	return abortf(EInvalidArgument, "unknown call %T", call)
}

func (c *txCtx) emit(e Event) { c.events = append(c.events, e) }

// newID returns the ID of the next object this transaction creates.
func (c *txCtx) newID() ids.ObjectID {
	id := ids.NewObjectID(c.digest, uint64(len(c.created)))
	c.created = append(c.created, id)
	return id
}

func (c *txCtx) resolve(r ObjectRef) (ids.ObjectID, error) {
	if !r.Created {
		return r.ID, nil
	}
	if int(r.Index) >= len(c.created) {
		return ids.ObjectID{}, abortf(EObjectNotFound, "created object %d of %d", r.Index, len(c.created))
	}
	return c.created[r.Index], nil
}

// load reads an object of the given kind.
func (c *txCtx) load(r ObjectRef, kind Kind) (*Object, error) {
	id, err := c.resolve(r)
	if err != nil {
		return nil, err
	}
	o, err := LoadObject(c.st, id)
	if err != nil {
		return nil, err
	}
	if o == nil {
		return nil, abortf(EObjectNotFound, "object %s", id)
	}
	if o.Kind != kind {
		return nil, abortf(EWrongObjectKind, "object %s is a %s, want %s", id, o.Kind, kind)
	}
	return o, nil
}

// loadOwned reads an object of the given kind owned by the sender.
func (c *txCtx) loadOwned(r ObjectRef, kind Kind) (*Object, error) {
	o, err := c.load(r, kind)
	if err != nil {
		return nil, err
	}
	if o.Owner.Shared || o.Owner.Address != c.sender {
		return nil, abortf(ENotOwner, "%s %s is not the sender's", kind, o.ID())
	}
	return o, nil
}

// save writes an object; prev is its stored form before this change (nil
// for a new object), used to keep the owner and blob-ID indexes right.
func (c *txCtx) save(o *Object, prev *Object) {
	id := o.ID()
	if prev != nil && !prev.Owner.Shared && (o.Owner.Shared || prev.Owner.Address != o.Owner.Address) {
		c.st.Delete(keyOwner(prev.Owner.Address, id))
	}
	if !o.Owner.Shared && (prev == nil || prev.Owner != o.Owner) {
		c.st.Set(keyOwner(o.Owner.Address, id), []byte{byte(o.Kind)})
	}
	if prev == nil {
		switch o.Kind {
		case KindBlob:
			c.st.Set(keyBlobID(o.Blob.BlobID, id), nil)
		case KindSharedBlob:
			c.st.Set(keyBlobID(o.SharedBlob.Blob.BlobID, id), nil)
		}
	}
	c.st.Set(KeyObject(id), o.Marshal())
}

// remove deletes an object and its index entries.
func (c *txCtx) remove(o *Object) {
	id := o.ID()
	if !o.Owner.Shared {
		c.st.Delete(keyOwner(o.Owner.Address, id))
	}
	switch o.Kind {
	case KindBlob:
		c.st.Delete(keyBlobID(o.Blob.BlobID, id))
	case KindSharedBlob:
		c.st.Delete(keyBlobID(o.SharedBlob.Blob.BlobID, id))
	}
	c.st.Delete(KeyObject(id))
}

func (c *txCtx) account(a ids.Address) (Account, error) { return LoadAccount(c.st, a) }

func (c *txCtx) debit(a ids.Address, amount uint64) error {
	acct, err := c.account(a)
	if err != nil {
		return err
	}
	if acct.Balance < amount {
		return abortf(EInsufficientBalance, "balance %d, need %d", acct.Balance, amount)
	}
	acct.Balance -= amount
	c.st.Set(KeyAccount(a), acct.Marshal())
	return nil
}

func (c *txCtx) credit(a ids.Address, amount uint64) error {
	acct, err := c.account(a)
	if err != nil {
		return err
	}
	nb, ok := addChecked(acct.Balance, amount)
	if !ok {
		return abortf(EOverflow, "balance overflow")
	}
	acct.Balance = nb
	c.st.Set(KeyAccount(a), acct.Marshal())
	return nil
}

func (c *txCtx) transferWal(call *TransferWal) error {
	if err := c.debit(c.sender, call.Amount); err != nil {
		return err
	}
	return c.credit(call.To, call.Amount)
}

func (c *txCtx) faucetMint(call *FaucetMint) error {
	if c.sys.Faucet == nil || *c.sys.Faucet != c.sender {
		return abortf(ENotAuthorized, "%s is not the faucet", c.sender)
	}
	if err := c.credit(call.To, call.Amount); err != nil {
		return err
	}
	c.sys.TotalSupply += call.Amount
	return nil
}

func (c *txCtx) transferObject(call *TransferObject) error {
	id, err := c.resolve(call.Object)
	if err != nil {
		return err
	}
	o, err := LoadObject(c.st, id)
	if err != nil {
		return err
	}
	if o == nil {
		return abortf(EObjectNotFound, "object %s", id)
	}
	switch o.Kind {
	case KindStorage, KindBlob, KindStakedWal:
	default:
		return abortf(EWrongObjectKind, "a %s cannot be transferred", o.Kind)
	}
	if o.Owner.Shared || o.Owner.Address != c.sender {
		return abortf(ENotOwner, "%s %s is not the sender's", o.Kind, id)
	}
	prev := *o
	o.Owner = AddressOwner(call.To)
	c.save(o, &prev)
	return nil
}

// insertSorted inserts id into a sorted slice of IDs.
func insertSorted(sorted []ids.ObjectID, id ids.ObjectID) []ids.ObjectID {
	i, found := slices.BinarySearchFunc(sorted, id, func(a, b ids.ObjectID) int { return bytes.Compare(a[:], b[:]) })
	if found {
		return sorted
	}
	return slices.Insert(sorted, i, id)
}
