package chain

import (
	"errors"
	"slices"

	"github.com/walrus-go/walrus/bcs"
	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/committee"
	"github.com/walrus-go/walrus/merkle"
	"github.com/walrus-go/walrus/wire"
)

func (c *txCtx) registerBlob(call *RegisterBlob) error {
	so, err := c.loadOwned(call.Storage, KindStorage)
	if err != nil {
		return err
	}
	s := c.sys
	if blob.EncodingType(call.EncodingType) != blob.RS2 {
		return abortf(EInvalidEncodingType, "encoding type %d", call.EncodingType)
	}
	if got := blob.DeriveID(blob.RS2, call.Size, merkle.Node(call.RootHash)); got != call.BlobID {
		return abortf(EInvalidBlobId, "blob ID %s, derived %s", call.BlobID, got)
	}
	enc, err := c.encodedLength(call.Size)
	if err != nil {
		return err
	}
	st := *so.Storage
	if enc > st.Size {
		return abortf(EStorageTooSmall, "encoded length %d, storage %d", enc, st.Size)
	}
	if st.StartEpoch > s.Epoch || s.Epoch >= st.EndEpoch {
		return abortf(EBlobExpired, "storage covers [%d, %d), current epoch %d", st.StartEpoch, st.EndEpoch, s.Epoch)
	}
	fee, ok := WriteCost(enc, s.WritePrice)
	if !ok {
		return abortf(EOverflow, "write fee")
	}
	if err := c.debit(c.sender, fee); err != nil {
		return err
	}
	s.Future[0].Rewards += fee
	b := &Blob{ID: c.newID(), RegisteredEpoch: s.Epoch, BlobID: call.BlobID, Size: call.Size,
		EncodingType: blob.RS2, Storage: st, Deletable: call.Deletable}
	c.remove(so)
	c.save(&Object{Kind: KindBlob, Owner: AddressOwner(c.sender), Blob: b}, nil)
	c.emit((&BlobRegistered{Epoch: s.Epoch, BlobID: b.BlobID, Size: b.Size, EncodingType: b.EncodingType,
		EndEpoch: b.EndEpoch(), Deletable: b.Deletable, ObjectID: b.ID}).event())
	return nil
}

// verifyCert checks a certificate of the current committee, using the
// result computed ahead of the apply when there is one.
func (c *txCtx) verifyCert(bitmap, msg []byte, sig [96]byte, t committee.Threshold) error {
	if c.comm == nil || c.comm.Len() == 0 || c.comm.Epoch() != c.sys.Epoch {
		return abortf(ENotCertifiedEpoch, "no committee in epoch %d", c.sys.Epoch)
	}
	err, ok := c.certs[certKey{c.txIndex, c.call}]
	if !ok {
		err = c.comm.VerifyBitmap(bitmap, msg, sig[:], t)
	}
	switch {
	case err == nil:
		return nil
	case errors.Is(err, committee.ErrSigners):
		return abortf(EInvalidSigners, "%v", err)
	case errors.Is(err, committee.ErrInsufficientWeight):
		return abortf(EInsufficientWeight, "%v", err)
	default:
		return abortf(EInvalidSignature, "%v", err)
	}
}

func (c *txCtx) certifyBlob(call *CertifyBlob) error {
	o, err := c.loadOwned(call.Blob, KindBlob)
	if err != nil {
		return err
	}
	msg, err := wire.ParseConfirmation(call.Message)
	if err != nil {
		return abortf(EInvalidMessage, "%v", err)
	}
	if msg.Epoch != c.sys.Epoch {
		return abortf(ENotCertifiedEpoch, "certificate of epoch %d in epoch %d", msg.Epoch, c.sys.Epoch)
	}
	if err := c.verifyCert(call.SignersBitmap, call.Message, call.Signature, committee.Quorum); err != nil {
		return err
	}
	prev := *o
	b := *o.Blob
	if msg.BlobID != b.BlobID {
		return abortf(EInvalidBlobId, "certificate for %s, blob is %s", msg.BlobID, b.BlobID)
	}
	if msg.Persistence.Deletable != b.Deletable || b.Deletable && msg.Persistence.ObjectID != b.ID {
		return abortf(EInvalidPersistence, "certificate persistence does not match the blob")
	}
	if b.Certified() {
		return abortf(EAlreadyCertified, "blob %s certified in epoch %d", b.ID, *b.CertifiedEpoch)
	}
	if c.sys.Epoch >= b.EndEpoch() {
		return abortf(EBlobExpired, "blob ended at epoch %d", b.EndEpoch())
	}
	e := c.sys.Epoch
	b.CertifiedEpoch = &e
	o.Blob = &b
	c.save(o, &prev)
	c.emit((&BlobCertified{Epoch: e, BlobID: b.BlobID, EndEpoch: b.EndEpoch(), Deletable: b.Deletable, ObjectID: b.ID}).event())
	return nil
}

func (c *txCtx) deleteBlob(call *DeleteBlob) error {
	o, err := c.loadOwned(call.Blob, KindBlob)
	if err != nil {
		return err
	}
	b := o.Blob
	if !b.Deletable {
		return abortf(ENotDeletable, "blob %s is permanent", b.ID)
	}
	c.remove(o)
	st := b.Storage
	c.save(&Object{Kind: KindStorage, Owner: AddressOwner(c.sender), Storage: &st}, nil)
	c.emit((&BlobDeleted{Epoch: c.sys.Epoch, BlobID: b.BlobID, EndEpoch: b.EndEpoch(), ObjectID: b.ID, WasCertified: b.Certified()}).event())
	return nil
}

// checkExtendable: only certified, unexpired blobs can be extended.
func (c *txCtx) checkExtendable(b *Blob) error {
	if c.sys.Epoch >= b.EndEpoch() {
		return abortf(EBlobExpired, "blob ended at epoch %d", b.EndEpoch())
	}
	if !b.Certified() {
		return abortf(ENotCertified, "blob %s is not certified", b.ID)
	}
	return nil
}

// extend adds epochs to a blob, paid by the sender or from funds.
func (c *txCtx) extend(b *Blob, epochs uint32, funds *uint64) error {
	if err := c.checkExtendable(b); err != nil {
		return err
	}
	if epochs == 0 {
		return abortf(EInvalidEpochsAhead, "zero epochs")
	}
	end := b.EndEpoch() + epochs
	if end < b.EndEpoch() {
		return abortf(EInvalidEpochsAhead, "end epoch overflows")
	}
	if err := c.reserve(b.Storage.Size, b.EndEpoch(), end, c.sender, funds); err != nil {
		return err
	}
	b.Storage.EndEpoch = end
	c.emit((&BlobCertified{Epoch: c.sys.Epoch, BlobID: b.BlobID, EndEpoch: end, Deletable: b.Deletable, ObjectID: b.ID, IsExtension: true}).event())
	return nil
}

func (c *txCtx) extendBlob(call *ExtendBlob) error {
	o, err := c.loadOwned(call.Blob, KindBlob)
	if err != nil {
		return err
	}
	prev := *o
	b := *o.Blob
	if err := c.extend(&b, call.Epochs, nil); err != nil {
		return err
	}
	o.Blob = &b
	c.save(o, &prev)
	return nil
}

func (c *txCtx) extendBlobWithResource(call *ExtendBlobWithResource) error {
	o, err := c.loadOwned(call.Blob, KindBlob)
	if err != nil {
		return err
	}
	so, err := c.loadOwned(call.Storage, KindStorage)
	if err != nil {
		return err
	}
	prev := *o
	b := *o.Blob
	if err := c.checkExtendable(&b); err != nil {
		return err
	}
	if so.Storage.StartEpoch != b.EndEpoch() || so.Storage.Size != b.Storage.Size {
		return abortf(EIncompatibleStorage, "storage [%d, %d) of %d bytes cannot extend a blob ending at %d with %d bytes",
			so.Storage.StartEpoch, so.Storage.EndEpoch, so.Storage.Size, b.EndEpoch(), b.Storage.Size)
	}
	b.Storage.EndEpoch = so.Storage.EndEpoch
	o.Blob = &b
	c.remove(so)
	c.save(o, &prev)
	c.emit((&BlobCertified{Epoch: c.sys.Epoch, BlobID: b.BlobID, EndEpoch: b.EndEpoch(), Deletable: b.Deletable, ObjectID: b.ID, IsExtension: true}).event())
	return nil
}

func (c *txCtx) burnBlob(call *BurnBlob) error {
	o, err := c.loadOwned(call.Blob, KindBlob)
	if err != nil {
		return err
	}
	c.remove(o)
	return nil
}

func (c *txCtx) shareBlob(call *ShareBlob) error {
	o, err := c.loadOwned(call.Blob, KindBlob)
	if err != nil {
		return err
	}
	if err := c.debit(c.sender, call.Funds); err != nil {
		return err
	}
	c.remove(o)
	sb := &SharedBlob{ID: c.newID(), Blob: *o.Blob, Funds: call.Funds}
	c.save(&Object{Kind: KindSharedBlob, Owner: Owner{Shared: true}, SharedBlob: sb}, nil)
	return nil
}

func (c *txCtx) fundSharedBlob(call *FundSharedBlob) error {
	o, err := c.load(call.Shared, KindSharedBlob)
	if err != nil {
		return err
	}
	if err := c.debit(c.sender, call.Amount); err != nil {
		return err
	}
	prev := *o
	sb := *o.SharedBlob
	f, ok := addChecked(sb.Funds, call.Amount)
	if !ok {
		return abortf(EOverflow, "shared blob funds")
	}
	sb.Funds = f
	o.SharedBlob = &sb
	c.save(o, &prev)
	return nil
}

func (c *txCtx) extendSharedBlob(call *ExtendSharedBlob) error {
	o, err := c.load(call.Shared, KindSharedBlob)
	if err != nil {
		return err
	}
	prev := *o
	sb := *o.SharedBlob
	if err := c.extend(&sb.Blob, call.Epochs, &sb.Funds); err != nil {
		return err
	}
	o.SharedBlob = &sb
	c.save(o, &prev)
	return nil
}

func (c *txCtx) setBlobAttribute(call *SetBlobAttribute) error {
	o, err := c.loadOwned(call.Blob, KindBlob)
	if err != nil {
		return err
	}
	prev := *o
	b := *o.Blob
	attrs := slices.Clone(b.Attributes)
	i, found := slices.BinarySearchFunc(attrs, call.Key, func(a Attribute, k string) int { return compareStrings(a.Key, k) })
	if found {
		attrs[i].Value = call.Value
	} else {
		if len(attrs) >= maxAttributes {
			return abortf(EInvalidArgument, "more than %d attributes", maxAttributes)
		}
		attrs = slices.Insert(attrs, i, Attribute{call.Key, call.Value})
	}
	b.Attributes = attrs
	o.Blob = &b
	c.save(o, &prev)
	return nil
}

func (c *txCtx) removeBlobAttribute(call *RemoveBlobAttribute) error {
	o, err := c.loadOwned(call.Blob, KindBlob)
	if err != nil {
		return err
	}
	prev := *o
	b := *o.Blob
	i, found := slices.BinarySearchFunc(b.Attributes, call.Key, func(a Attribute, k string) int { return compareStrings(a.Key, k) })
	if !found {
		return abortf(EAttributeNotFound, "attribute %q", call.Key)
	}
	b.Attributes = slices.Delete(slices.Clone(b.Attributes), i, i+1)
	o.Blob = &b
	c.save(o, &prev)
	return nil
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (c *txCtx) invalidateBlobID(call *InvalidateBlobID) error {
	msg, err := wire.ParseInvalidBlobID(call.Message)
	if err != nil {
		return abortf(EInvalidMessage, "%v", err)
	}
	if msg.Epoch != c.sys.Epoch {
		return abortf(ENotCertifiedEpoch, "certificate of epoch %d in epoch %d", msg.Epoch, c.sys.Epoch)
	}
	if err := c.verifyCert(call.SignersBitmap, call.Message, call.Signature, committee.Validity); err != nil {
		return err
	}
	c.st.Set(KeyInvalid(msg.BlobID), bcs.AppendU32(nil, msg.Epoch))
	c.emit((&InvalidBlobIDEvent{Epoch: msg.Epoch, BlobID: msg.BlobID}).event())
	return nil
}
