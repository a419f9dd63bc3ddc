package client

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/chain"
	"github.com/walrus-go/walrus/chain/chainclient"
	"github.com/walrus-go/walrus/ids"
)

// exec signs and submits calls with the client's wallet and translates
// failures into the client's errors.
func (c *Client) exec(ctx context.Context, op string, calls ...chain.Call) (*chainclient.TxResult, error) {
	if c.signer == nil {
		return nil, ErrNoWallet
	}
	tx, err := c.execute(ctx, calls...)
	if err != nil {
		return tx, txError(op, err)
	}
	return tx, nil
}

// execute runs calls in one transaction signed by the wallet and records
// the height of a transaction that made it into a block, so that later
// status queries see its effects (see BlobStatus).
func (c *Client) execute(ctx context.Context, calls ...chain.Call) (*chainclient.TxResult, error) {
	tx, err := c.chain.Execute(ctx, c.signer, calls...)
	if tx != nil && tx.Height > 0 {
		for {
			old := c.lastTx.Load()
			if tx.Height <= old || c.lastTx.CompareAndSwap(old, tx.Height) {
				break
			}
		}
	}
	return tx, err
}

// object reads an object, translating "not found".
func (c *Client) object(ctx context.Context, id ids.ObjectID) (*chain.Object, error) {
	o, err := c.chain.Object(ctx, id)
	if errors.Is(err, chainclient.ErrNotFound) {
		return nil, fmt.Errorf("%w: %s", ErrObjectNotFound, id)
	}
	return o, err
}

// Balance is the wallet's WAL balance, in FROST.
func (c *Client) Balance(ctx context.Context) (uint64, error) {
	if c.signer == nil {
		return 0, ErrNoWallet
	}
	a, err := c.chain.Account(ctx, c.signer.Address())
	return a.Balance, err
}

// ListBlobs returns the Blob objects the wallet owns, sorted by
// registration epoch then object ID; expired ones only if includeExpired.
func (c *Client) ListBlobs(ctx context.Context, includeExpired bool) ([]BlobObject, error) {
	bs, err := c.listBlobs(ctx, includeExpired)
	return blobObjects(bs), err
}

// listBlobs is ListBlobs in the chain's form.
func (c *Client) listBlobs(ctx context.Context, includeExpired bool) ([]*chain.Blob, error) {
	if c.signer == nil {
		return nil, ErrNoWallet
	}
	sys, err := c.chain.System(ctx)
	if err != nil {
		return nil, err
	}
	objs, err := c.chain.BlobsByOwner(ctx, c.signer.Address())
	if err != nil {
		return nil, err
	}
	var out []*chain.Blob
	for _, o := range objs {
		if o.Blob != nil && (includeExpired || o.Blob.EndEpoch() > sys.Epoch) {
			out = append(out, o.Blob)
		}
	}
	slices.SortFunc(out, func(a, b *chain.Blob) int {
		if a.RegisteredEpoch != b.RegisteredEpoch {
			return int(a.RegisteredEpoch) - int(b.RegisteredEpoch)
		}
		return slices.Compare(a.ID[:], b.ID[:])
	})
	return out, nil
}

// OwnedBlob returns an owned Blob object (ErrObjectNotFound, ErrWrongObject,
// ErrNotOwner otherwise).
func (c *Client) OwnedBlob(ctx context.Context, id ids.ObjectID) (BlobObject, error) {
	b, err := c.ownedBlob(ctx, id)
	if err != nil {
		return BlobObject{}, err
	}
	return blobObjectOf(b), nil
}

// ownedBlob is OwnedBlob in the chain's form.
func (c *Client) ownedBlob(ctx context.Context, id ids.ObjectID) (*chain.Blob, error) {
	o, err := c.object(ctx, id)
	if err != nil {
		return nil, err
	}
	if o.Kind != chain.KindBlob {
		return nil, fmt.Errorf("%w: %s is a %s, not a Blob", ErrWrongObject, id, o.Kind)
	}
	if o.Owner.Shared || o.Owner.Address != c.Address() {
		return nil, fmt.Errorf("%w: %s", ErrNotOwner, id)
	}
	return o.Blob, nil
}

// BlobByObject returns the blob of a Blob or SharedBlob object, whoever owns it.
func (c *Client) BlobByObject(ctx context.Context, id ids.ObjectID) (BlobObject, error) {
	o, err := c.object(ctx, id)
	if err != nil {
		return BlobObject{}, err
	}
	if b := objectBlob(o); b != nil {
		return blobObjectOf(b), nil
	}
	return BlobObject{}, fmt.Errorf("%w: %s is a %s, not a blob", ErrWrongObject, id, o.Kind)
}

// Attribute is a key-value pair on a Blob object.
type Attribute struct{ Key, Value string }

// DeleteBlob deletes an owned deletable Blob; its Storage comes back to
// the wallet. The data stays while another Blob object keeps the blob ID
// alive.
func (c *Client) DeleteBlob(ctx context.Context, id ids.ObjectID) (BlobObject, error) {
	b, err := c.OwnedBlob(ctx, id)
	if err != nil {
		return BlobObject{}, err
	}
	if !b.Deletable {
		return BlobObject{}, fmt.Errorf("%w: %s", ErrNotDeletable, id)
	}
	if _, err := c.exec(ctx, "delete", &chain.DeleteBlob{Blob: chain.Ref(id)}); err != nil {
		return BlobObject{}, err
	}
	return b, nil
}

// DeleteBlobID deletes every owned deletable Blob object of a blob ID, in
// one transaction. It returns them; none is ErrBlobNotFound.
func (c *Client) DeleteBlobID(ctx context.Context, id blob.ID) ([]BlobObject, error) {
	owned, err := c.ListBlobs(ctx, true)
	if err != nil {
		return nil, err
	}
	var del []BlobObject
	var calls []chain.Call
	for _, b := range owned {
		if b.BlobID == id && b.Deletable {
			del = append(del, b)
			calls = append(calls, &chain.DeleteBlob{Blob: chain.Ref(b.ID)})
		}
	}
	if len(calls) == 0 {
		return nil, fmt.Errorf("%w: the wallet owns no deletable Blob object of %s", ErrBlobNotFound, id)
	}
	if _, err := c.exec(ctx, "delete", calls...); err != nil {
		return nil, err
	}
	return del, nil
}

// Extend adds epochs to a certified blob: an owned Blob paid by the
// wallet, or (shared) a SharedBlob paid from its funds. It returns the
// new end epoch.
func (c *Client) Extend(ctx context.Context, id ids.ObjectID, epochs uint32, shared bool) (uint32, error) {
	var call chain.Call = &chain.ExtendBlob{Blob: chain.Ref(id), Epochs: epochs}
	if shared {
		call = &chain.ExtendSharedBlob{Shared: chain.Ref(id), Epochs: epochs}
	} else if o, err := c.object(ctx, id); err == nil && o.Kind == chain.KindSharedBlob {
		return 0, fmt.Errorf("%w: %s is a shared blob: extend it as shared", ErrWrongObject, id)
	}
	tx, err := c.exec(ctx, "extend", call)
	if err != nil {
		return 0, err
	}
	for _, ev := range tx.Events {
		if ev.Event.Type == chain.EventBlobCertified {
			if e, err := chain.ParseBlobCertified(ev.Event.Data); err == nil {
				return e.EndEpoch, nil
			}
		}
	}
	return 0, nil
}

// Share turns an owned Blob into a SharedBlob funded with amount FROST
// from the wallet; it returns the SharedBlob's ID.
func (c *Client) Share(ctx context.Context, id ids.ObjectID, amount uint64) (ids.ObjectID, error) {
	tx, err := c.exec(ctx, "share", &chain.ShareBlob{Blob: chain.Ref(id), Funds: amount})
	if err != nil {
		return ids.ObjectID{}, err
	}
	if len(tx.Created) == 0 {
		return ids.ObjectID{}, errors.New("client: share created no object")
	}
	return tx.Created[0], nil
}

// FundSharedBlob adds amount FROST from the wallet to a SharedBlob's funds.
func (c *Client) FundSharedBlob(ctx context.Context, shared ids.ObjectID, amount uint64) error {
	_, err := c.exec(ctx, "fund shared blob", &chain.FundSharedBlob{Shared: chain.Ref(shared), Amount: amount})
	return err
}

// BurnBlobs destroys owned Blob objects (one transaction) without deleting
// their data: the blobs can no longer be extended or deleted.
func (c *Client) BurnBlobs(ctx context.Context, idList []ids.ObjectID) error {
	if len(idList) == 0 {
		return nil
	}
	calls := make([]chain.Call, len(idList))
	for i, id := range idList {
		calls[i] = &chain.BurnBlob{Blob: chain.Ref(id)}
	}
	_, err := c.exec(ctx, "burn", calls...)
	return err
}

// BlobAttributes returns the attributes of a Blob or SharedBlob object
// (sorted by key; none is an empty list).
func (c *Client) BlobAttributes(ctx context.Context, id ids.ObjectID) ([]Attribute, error) {
	o, err := c.object(ctx, id)
	if err != nil {
		return nil, err
	}
	b := objectBlob(o)
	if b == nil {
		return nil, fmt.Errorf("%w: %s is a %s, not a blob", ErrWrongObject, id, o.Kind)
	}
	out := make([]Attribute, len(b.Attributes))
	for i, a := range b.Attributes {
		out[i] = Attribute(a)
	}
	return out, nil
}

// SetBlobAttributes inserts or updates attributes of an owned Blob, in one
// transaction.
func (c *Client) SetBlobAttributes(ctx context.Context, id ids.ObjectID, attrs []Attribute) error {
	if len(attrs) == 0 {
		return fmt.Errorf("%w: no attributes given", ErrInvalidArgument)
	}
	calls := make([]chain.Call, len(attrs))
	for i, a := range attrs {
		calls[i] = &chain.SetBlobAttribute{Blob: chain.Ref(id), Key: a.Key, Value: a.Value}
	}
	_, err := c.exec(ctx, "set blob attribute", calls...)
	return err
}

// RemoveBlobAttributes removes attributes of an owned Blob by key (one
// transaction); with no keys it removes them all.
func (c *Client) RemoveBlobAttributes(ctx context.Context, id ids.ObjectID, keys []string) error {
	if len(keys) == 0 {
		b, err := c.ownedBlob(ctx, id)
		if err != nil {
			return err
		}
		for _, a := range b.Attributes {
			keys = append(keys, a.Key)
		}
		if len(keys) == 0 {
			return nil
		}
	}
	calls := make([]chain.Call, len(keys))
	for i, k := range keys {
		calls[i] = &chain.RemoveBlobAttribute{Blob: chain.Ref(id), Key: k}
	}
	_, err := c.exec(ctx, "remove blob attribute", calls...)
	return err
}
