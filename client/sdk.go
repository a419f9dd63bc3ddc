package client

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/chain"
	"github.com/walrus-go/walrus/ids"
	"github.com/walrus-go/walrus/nodeapi"
	"github.com/walrus-go/walrus/quilt"
	"github.com/walrus-go/walrus/redstuff"
)

// FrostPerWAL is the number of FROST in one WAL.
const FrostPerWAL = chain.FrostPerWAL

// Consistency is the check a read makes after decoding.
type Consistency = redstuff.Consistency

// The consistency checks of a read: Default verifies the decoded blob's
// primary slivers against the metadata; Strict re-encodes the whole blob
// and compares the blob ID; Skip checks nothing beyond each sliver.
const (
	ConsistencyDefault = redstuff.ConsistencyDefault
	ConsistencyStrict  = redstuff.ConsistencyStrict
	ConsistencySkip    = redstuff.ConsistencySkip
)

// Duration is a time span in Walrus's JSON form ({"secs","nanos"}).
type Duration = nodeapi.Duration

// HealthInfo is a node's answer to /v1/health, in Walrus's JSON form.
type HealthInfo = nodeapi.HealthInfo

// BlobStatusKind is the kind of a blob status that nodes report.
type BlobStatusKind = nodeapi.BlobStatusKind

// The kinds of BlobStatus.Kind.
const (
	BlobStatusNonexistent = nodeapi.Nonexistent
	BlobStatusDeletable   = nodeapi.Deletable
	BlobStatusPermanent   = nodeapi.Permanent
	BlobStatusInvalid     = nodeapi.Invalid
)

// BlobID is the blob ID of data on this network.
func (c *Client) BlobID(data []byte) (blob.ID, error) {
	md, err := c.ComputeMetadata(bytes.NewReader(data), int64(len(data)), 0)
	if err != nil {
		return blob.ID{}, err
	}
	return md.ID, nil
}

// FileBlobID is the blob ID of a file's content on this network, computed
// in memoryBudget (0: the client's).
func (c *Client) FileBlobID(path string, memoryBudget int64) (blob.ID, error) {
	md, err := c.ComputeFileMetadata(path, memoryBudget)
	if err != nil {
		return blob.ID{}, err
	}
	return md.ID, nil
}

// CostEstimate is what storing a blob costs at today's prices, in FROST,
// when no owned resource can be reused.
type CostEstimate struct {
	Size        uint64 `json:"unencodedSize"`
	EncodedSize uint64 `json:"encodedSize"`
	Epochs      uint32 `json:"epochs"`
	StorageCost uint64 `json:"storageCost"`
	WriteCost   uint64 `json:"writeCost"`
	Total       uint64 `json:"totalCost"`
}

// EstimateCost is the cost of storing size bytes for epochs epochs.
func (c *Client) EstimateCost(ctx context.Context, size uint64, epochs uint32) (CostEstimate, error) {
	if size > c.params.MaxBlobSize() {
		return CostEstimate{}, fmt.Errorf("%w: %d bytes, the largest blob is %d", ErrBlobTooLarge, size, c.params.MaxBlobSize())
	}
	enc, err := c.params.EncodedLength(size)
	if err != nil {
		return CostEstimate{}, fmt.Errorf("%w: %w", ErrInvalidArgument, err)
	}
	sys, err := c.chain.System(ctx)
	if err != nil {
		return CostEstimate{}, err
	}
	storage, ok1 := chain.StorageCost(enc, sys.StoragePrice, epochs)
	write, ok2 := chain.WriteCost(enc, sys.WritePrice)
	if !ok1 || !ok2 || storage+write < storage {
		return CostEstimate{}, fmt.Errorf("%w: the cost of %d bytes for %d epochs overflows", ErrInvalidArgument, size, epochs)
	}
	return CostEstimate{Size: size, EncodedSize: enc, Epochs: epochs, StorageCost: storage, WriteCost: write, Total: storage + write}, nil
}

// Availability is what the chain says of a blob ID.
type Availability struct {
	// Certified: a certified Blob object of the ID lives past the current
	// epoch, and the ID was not declared invalid.
	Certified bool
	Invalid   bool
	// EndEpoch is the latest end epoch of those objects (0: none).
	EndEpoch uint32
	// Expiry is when EndEpoch starts (zero unless Certified).
	Expiry time.Time
	// Epoch is the current epoch.
	Epoch uint32
}

// Availability asks the chain whether a blob is certified and until when.
func (c *Client) Availability(ctx context.Context, id blob.ID) (Availability, error) {
	st, err := c.chain.BlobStatus(ctx, id)
	if err != nil {
		return Availability{}, err
	}
	sys, err := c.chain.System(ctx)
	if err != nil {
		return Availability{}, err
	}
	a := Availability{Invalid: st.Invalid, Epoch: sys.Epoch}
	for _, o := range st.Objects {
		var b *chain.Blob
		switch {
		case o.Blob != nil:
			b = o.Blob
		case o.SharedBlob != nil:
			b = &o.SharedBlob.Blob
		}
		if b != nil && b.Certified() && b.EndEpoch() > sys.Epoch && !st.Invalid {
			a.Certified, a.EndEpoch = true, max(a.EndEpoch, b.EndEpoch())
		}
	}
	if a.Certified {
		a.Expiry = epochClockOf(sys).StartOf(a.EndEpoch)
	}
	return a, nil
}

// EpochClock is the chain's epoch timing: the current epoch, when it
// started, how long an epoch lasts, and how far ahead storage can be
// bought. Its methods are the one place where epochs become times.
type EpochClock struct {
	Epoch          uint32
	Start          time.Time // of the current epoch
	Duration       time.Duration
	MaxEpochsAhead uint32
	// Changing: an epoch change is in progress (EpochChangeSync).
	Changing bool
}

func epochClockOf(sys *chain.System) EpochClock {
	return EpochClock{Epoch: sys.Epoch, Start: time.UnixMilli(int64(sys.EpochStartMs)).UTC(),
		Duration: time.Duration(sys.EpochDurationMs) * time.Millisecond, MaxEpochsAhead: sys.MaxEpochsAhead,
		Changing: sys.State == chain.EpochChangeSync}
}

// EpochClock reads the chain's epoch timing.
func (c *Client) EpochClock(ctx context.Context) (EpochClock, error) {
	sys, err := c.chain.System(ctx)
	if err != nil {
		return EpochClock{}, err
	}
	return epochClockOf(sys), nil
}

// StartOf estimates when epoch starts (or started): the current epoch's
// start plus whole epoch durations.
func (e EpochClock) StartOf(epoch uint32) time.Time {
	return e.Start.Add(time.Duration(int64(epoch)-int64(e.Epoch)) * e.Duration)
}

// EpochAt estimates the epoch running at t (0 for times before epoch 0).
func (e EpochClock) EpochAt(t time.Time) uint32 {
	d := e.Duration.Milliseconds()
	if d <= 0 {
		return e.Epoch
	}
	delta := t.UnixMilli() - e.Start.UnixMilli()
	n := int64(e.Epoch) + delta/d
	if delta < 0 && delta%d != 0 {
		n--
	}
	return uint32(min(max(n, 0), int64(^uint32(0))))
}

// EpochsToCover is the number of epochs, counting the current one, that a
// store must buy to last at least until t (1 for a time in the current
// epoch or before it). It may exceed MaxEpochsAhead.
func (e EpochClock) EpochsToCover(t time.Time) uint32 {
	if !t.After(e.Start) || e.Duration <= 0 {
		return 1
	}
	n := (t.Sub(e.Start) + e.Duration - 1) / e.Duration
	return uint32(min(int64(n), int64(^uint32(0))))
}

// WalTransfer is an amount of FROST to send to an address.
type WalTransfer struct {
	To     ids.Address
	Amount uint64
}

// TransferWal sends WAL from the wallet, all transfers in one transaction.
func (c *Client) TransferWal(ctx context.Context, transfers ...WalTransfer) error {
	if len(transfers) == 0 {
		return nil
	}
	calls := make([]chain.Call, len(transfers))
	for i, t := range transfers {
		calls[i] = &chain.TransferWal{To: t.To, Amount: t.Amount}
	}
	_, err := c.exec(ctx, "transfer", calls...)
	return err
}

// TransferBlob gives an owned Blob object to another address.
func (c *Client) TransferBlob(ctx context.Context, obj ids.ObjectID, to ids.Address) error {
	_, err := c.exec(ctx, "transfer blob", &chain.TransferObject{Object: chain.Ref(obj), To: to})
	return err
}

// StoreBuiltQuilt encodes and stores a quilt laid out with quilt.Encode or
// quilt.Build (a publisher lays quilts out itself to answer per-patch
// errors); opts.CheckID sees the quilt's blob ID before anything is paid.
func (c *Client) StoreBuiltQuilt(ctx context.Context, q *quilt.Quilt, opts StoreOptions) (*QuiltStore, error) {
	x, err := c.enc.Encode(q.Blob)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBlobTooLarge, err)
	}
	return c.storeQuiltEncoded(ctx, q, x, opts)
}
