package chain

import (
	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/ids"
)

// UnitSize is the storage unit of prices: 1 MiB of encoded size.
const UnitSize = 1 << 20

// Units is ceil(encoded / 1 MiB), the number of storage units of a size.
func Units(encoded uint64) uint64 { return encoded/UnitSize + min(encoded%UnitSize, 1) }

// StorageCost is units × storage price × epochs, the price of reserving
// encoded bytes for a number of epochs.
func StorageCost(encoded, price uint64, epochs uint32) (uint64, bool) {
	perEpoch, ok := mulChecked(Units(encoded), price)
	if !ok {
		return 0, false
	}
	return mulChecked(perEpoch, uint64(epochs))
}

// WriteCost is units × write price.
func WriteCost(encoded, price uint64) (uint64, bool) { return mulChecked(Units(encoded), price) }

// reserve books size bytes of capacity in epochs [start, end) and pays the
// storage fee into their reward balances, from payer (an account) or, when
// funds is not nil, from a shared blob's funds.
func (c *txCtx) reserve(size uint64, start, end uint32, payer ids.Address, funds *uint64) error {
	s := c.sys
	if end <= start || start < s.Epoch || end > s.Epoch+s.MaxEpochsAhead {
		return abortf(EInvalidEpochsAhead, "epochs [%d, %d) in epoch %d with at most %d ahead", start, end, s.Epoch, s.MaxEpochsAhead)
	}
	perEpoch, ok := mulChecked(Units(size), s.StoragePrice)
	if !ok {
		return abortf(EOverflow, "storage fee")
	}
	total, ok := mulChecked(perEpoch, uint64(end-start))
	if !ok {
		return abortf(EOverflow, "storage fee")
	}
	for e := start; e < end; e++ {
		f := &s.Future[e-s.Epoch]
		if used, ok := addChecked(f.Used, size); !ok || used > s.TotalCapacity {
			return abortf(EStorageExceeded, "epoch %d: %d of %d bytes used, %d more requested", e, f.Used, s.TotalCapacity, size)
		}
	}
	if funds != nil {
		if *funds < total {
			return abortf(EInsufficientBalance, "shared blob funds %d, need %d", *funds, total)
		}
		*funds -= total
	} else if err := c.debit(payer, total); err != nil {
		return err
	}
	for e := start; e < end; e++ {
		f := &s.Future[e-s.Epoch]
		f.Used += size
		f.Rewards += perEpoch
	}
	return nil
}

func (c *txCtx) reserveSpace(call *ReserveSpace) error {
	if call.EncodedSize == 0 {
		return abortf(EInvalidArgument, "zero size")
	}
	if call.EpochsAhead == 0 || call.EpochsAhead > c.sys.MaxEpochsAhead {
		return abortf(EInvalidEpochsAhead, "%d epochs ahead, want 1..%d", call.EpochsAhead, c.sys.MaxEpochsAhead)
	}
	start := c.sys.Epoch
	if err := c.reserve(call.EncodedSize, start, start+call.EpochsAhead, c.sender, nil); err != nil {
		return err
	}
	st := &Storage{ID: c.newID(), StartEpoch: start, EndEpoch: start + call.EpochsAhead, Size: call.EncodedSize}
	c.save(&Object{Kind: KindStorage, Owner: AddressOwner(c.sender), Storage: st}, nil)
	return nil
}

func (c *txCtx) splitStorageBySize(call *SplitStorageBySize) error {
	o, err := c.loadOwned(call.Storage, KindStorage)
	if err != nil {
		return err
	}
	prev := *o
	s := *o.Storage
	if call.SplitSize == 0 || call.SplitSize >= s.Size {
		return abortf(EInvalidArgument, "split size %d of %d", call.SplitSize, s.Size)
	}
	rest := &Storage{ID: c.newID(), StartEpoch: s.StartEpoch, EndEpoch: s.EndEpoch, Size: s.Size - call.SplitSize}
	s.Size = call.SplitSize
	o.Storage = &s
	c.save(o, &prev)
	c.save(&Object{Kind: KindStorage, Owner: o.Owner, Storage: rest}, nil)
	return nil
}

func (c *txCtx) splitStorageByEpoch(call *SplitStorageByEpoch) error {
	o, err := c.loadOwned(call.Storage, KindStorage)
	if err != nil {
		return err
	}
	prev := *o
	s := *o.Storage
	if call.SplitEpoch <= s.StartEpoch || call.SplitEpoch >= s.EndEpoch {
		return abortf(EInvalidArgument, "split epoch %d outside (%d, %d)", call.SplitEpoch, s.StartEpoch, s.EndEpoch)
	}
	rest := &Storage{ID: c.newID(), StartEpoch: call.SplitEpoch, EndEpoch: s.EndEpoch, Size: s.Size}
	s.EndEpoch = call.SplitEpoch
	o.Storage = &s
	c.save(o, &prev)
	c.save(&Object{Kind: KindStorage, Owner: o.Owner, Storage: rest}, nil)
	return nil
}

func (c *txCtx) fuseStorage(call *FuseStorage) error {
	a, err := c.loadOwned(call.Storage, KindStorage)
	if err != nil {
		return err
	}
	b, err := c.loadOwned(call.Other, KindStorage)
	if err != nil {
		return err
	}
	if a.ID() == b.ID() {
		return abortf(EInvalidArgument, "cannot fuse a storage resource with itself")
	}
	prev := *a
	s, o := *a.Storage, b.Storage
	switch {
	case s.StartEpoch == o.StartEpoch && s.EndEpoch == o.EndEpoch:
		sum, ok := addChecked(s.Size, o.Size)
		if !ok {
			return abortf(EOverflow, "fused size")
		}
		s.Size = sum
	case s.Size == o.Size && s.EndEpoch == o.StartEpoch:
		s.EndEpoch = o.EndEpoch
	case s.Size == o.Size && o.EndEpoch == s.StartEpoch:
		s.StartEpoch = o.StartEpoch
	default:
		return abortf(EIncompatibleStorage, "neither the same period nor adjacent periods of the same size")
	}
	a.Storage = &s
	c.save(a, &prev)
	c.remove(b)
	return nil
}

// encodedLength is the storage a blob of size bytes needs with this chain's shard count.
func (c *txCtx) encodedLength(size uint64) (uint64, error) {
	p, err := blob.NewParams(int(c.sys.NShards))
	if err != nil {
		return 0, abortf(EInvalidArgument, "%v", err)
	}
	l, err := p.EncodedLength(size)
	if err != nil {
		return 0, abortf(EBlobTooLarge, "%v", err)
	}
	return l, nil
}
