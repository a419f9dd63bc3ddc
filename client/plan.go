package client

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/chain"
	"github.com/walrus-go/walrus/ids"
)

// plan is how a store gets its registration (Walrus's RegisterBlobOp).
type plan struct {
	op   ResourceOperation
	cost uint64
	// blob is the registration reused (nil until a new one is made).
	blob *chain.Blob
	// calls register the blob (empty when a registration is reused).
	calls []chain.Call
	// done is set when nothing is left to do (an owned certified blob).
	done *BlobStoreResult
	// claimed is the Storage object this store registers on (zero: none);
	// release it once the registration is in a block.
	claimed ids.ObjectID
}

// claimStorage picks a Storage resource (findStorage) that no concurrent
// store of this client is about to use, and marks it in use.
func (c *Client) claimStorage(owned []*chain.Object, epoch, target uint32, size uint64) *chain.Storage {
	c.mu.Lock()
	defer c.mu.Unlock()
	free := owned[:0:0]
	for _, o := range owned {
		if o.Storage != nil && !c.claimed[o.Storage.ID] {
			free = append(free, o)
		}
	}
	s := findStorage(free, epoch, target, size)
	if s != nil {
		if c.claimed == nil {
			c.claimed = map[ids.ObjectID]bool{}
		}
		c.claimed[s.ID] = true
	}
	return s
}

// release frees the plan's claimed Storage (after its registration
// transaction ended).
func (c *Client) release(pl *plan) {
	if pl.claimed == (ids.ObjectID{}) {
		return
	}
	c.planMu.Lock()
	defer c.planMu.Unlock()
	c.mu.Lock()
	delete(c.claimed, pl.claimed)
	c.mu.Unlock()
}

// plan chooses the resources of a store, as Walrus's ResourceManager does:
//  1. an owned, live Blob of the same blob ID and persistence: certified
//     and long enough → alreadyCertified (unless Force); long enough →
//     reuseRegistration; too short → reuseAndExtend (certified) or
//     reuseAndExtendNonCertified (extended in the certify transaction);
//  2. else an owned Storage resource covering the current epoch up to at
//     least the target end epoch, of at least the encoded size (the
//     smallest, then the one ending first) → reuseStorage; a larger one is
//     split first so the rest stays the wallet's;
//  3. else reserve_space and register_blob in one transaction →
//     registerFromScratch.
func (c *Client) plan(ctx context.Context, sys *chain.System, md *blob.MetadataWithID, size uint64, opts StoreOptions) (*plan, error) {
	target := sys.Epoch + opts.Epochs
	storageFee := func(epochs uint32) uint64 {
		v, _ := chain.StorageCost(size, sys.StoragePrice, epochs)
		return v
	}
	writeFee, _ := chain.WriteCost(size, sys.WritePrice)
	register := func(storage chain.ObjectRef) *chain.RegisterBlob {
		return &chain.RegisterBlob{Storage: storage, BlobID: md.ID, RootHash: md.Root(), Size: md.UnencodedLength,
			EncodingType: uint8(blob.RS2), Deletable: opts.Deletable}
	}
	if !opts.IgnoreResources {
		owned, err := c.chain.BlobsByOwner(ctx, c.signer.Address())
		if err != nil {
			return nil, fmt.Errorf("client: owned blobs: %w", err)
		}
		if b := findOwnedBlob(owned, md.ID, sys.Epoch, opts); b != nil {
			el := EncodedLength{EncodedLength: size}
			switch {
			case b.EndEpoch() >= target && b.Certified():
				obj := b.ID
				return &plan{blob: b, done: &BlobStoreResult{AlreadyCertified: &AlreadyCertified{BlobID: md.ID, Object: &obj, EndEpoch: b.EndEpoch()}}}, nil
			case b.EndEpoch() >= target:
				return &plan{blob: b, op: ResourceOperation{ReuseRegistration: &el}}, nil
			case b.Certified():
				e := target - b.EndEpoch()
				return &plan{blob: b, op: ResourceOperation{ReuseAndExtend: &ExtendOp{size, e}}, cost: storageFee(e)}, nil
			default:
				e := target - b.EndEpoch()
				return &plan{blob: b, op: ResourceOperation{ReuseAndExtendNonCertified: &ExtendOp{size, e}}, cost: storageFee(e)}, nil
			}
		}
		// The list and the claim happen under planMu, and a claim is released
		// under it only once its registration is in a block: a concurrent
		// store never takes a resource another is consuming from a stale list.
		c.planMu.Lock()
		storage, err := c.chain.StorageByOwner(ctx, c.signer.Address())
		if err != nil {
			c.planMu.Unlock()
			return nil, fmt.Errorf("client: owned storage: %w", err)
		}
		s := c.claimStorage(storage, sys.Epoch, target, size)
		c.planMu.Unlock()
		if s != nil {
			pl := &plan{op: ResourceOperation{ReuseStorage: &EncodedLength{EncodedLength: size}}, cost: writeFee, claimed: s.ID}
			if s.Size > size {
				// split_storage_by_size keeps `size` bytes in s and gives the rest a new object.
				pl.calls = []chain.Call{&chain.SplitStorageBySize{Storage: chain.Ref(s.ID), SplitSize: size}}
			}
			pl.calls = append(pl.calls, register(chain.Ref(s.ID)))
			return pl, nil
		}
	}
	return &plan{
		op:    ResourceOperation{RegisterFromScratch: &RegisterFromScratch{EncodedLength: size, EpochsAhead: opts.Epochs}},
		cost:  storageFee(opts.Epochs) + writeFee,
		calls: []chain.Call{&chain.ReserveSpace{EncodedSize: size, EpochsAhead: opts.Epochs}, register(chain.CreatedRef(0))},
	}, nil
}

// findOwnedBlob finds a live owned Blob of the blob ID with the wanted
// persistence; certified ones count only without Force. It prefers
// certified blobs, then the one that lives longest.
func findOwnedBlob(owned []*chain.Object, id blob.ID, epoch uint32, opts StoreOptions) *chain.Blob {
	var best *chain.Blob
	for _, o := range owned {
		b := o.Blob
		if b == nil || b.BlobID != id || b.EndEpoch() <= epoch || b.Deletable != opts.Deletable || (opts.Force && b.Certified()) {
			continue
		}
		if best == nil || cmp.Or(cmpBool(b.Certified(), best.Certified()), cmp.Compare(b.EndEpoch(), best.EndEpoch())) > 0 {
			best = b
		}
	}
	return best
}

// findStorage picks the smallest owned Storage that covers [epoch, target)
// with at least size bytes, the one ending first among equals.
func findStorage(owned []*chain.Object, epoch, target uint32, size uint64) *chain.Storage {
	var fit []*chain.Storage
	for _, o := range owned {
		s := o.Storage
		if s != nil && s.StartEpoch <= epoch && s.EndEpoch >= target && s.Size >= size {
			fit = append(fit, s)
		}
	}
	if len(fit) == 0 {
		return nil
	}
	return slices.MinFunc(fit, func(a, b *chain.Storage) int {
		return cmp.Or(cmp.Compare(a.Size, b.Size), cmp.Compare(a.EndEpoch, b.EndEpoch))
	})
}

func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}
