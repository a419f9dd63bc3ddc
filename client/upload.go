package client

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"golang.org/x/sync/semaphore"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/bls"
	"github.com/walrus-go/walrus/committee"
	"github.com/walrus-go/walrus/ids"
	"github.com/walrus-go/walrus/nodeapi"
	"github.com/walrus-go/walrus/wire"
)

type certificate struct {
	msg    []byte
	sig    [96]byte
	bitmap []byte
}

// Tail is the background part of a store: the uploads to the nodes that
// had not confirmed when the blob was certified.
type Tail struct {
	done chan struct{}
	mu   sync.Mutex
	errs []error
}

// Done is closed when every tail upload has ended.
func (t *Tail) Done() <-chan struct{} { return t.done }

// Wait waits for the tail uploads (or ctx) and returns their failures.
func (t *Tail) Wait(ctx context.Context) error {
	select {
	case <-t.done:
	case <-ctx.Done():
		return ctx.Err()
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return errors.Join(t.errs...)
}

// tailHandle is returned by upload: release hands the unfinished jobs to
// the background (returning the Tail, or nil if none is left).
type tailHandle struct {
	release func() *Tail
}

// nodeResult is one committee member's outcome.
type nodeResult struct {
	index int
	sig   bls.Signature
	err   error
}

// upload sends the metadata and each member's slivers to every member of
// com, bounded by the client's request concurrency and bytes in flight,
// and collects verified confirmations until they weigh n−f shards. It
// returns the aggregated certificate; the members still uploading go on
// in the background once the caller releases them (after certifying).
func (c *Client) upload(ctx context.Context, x *encoded, b budget, com *committee.Committee, reg *registration,
	pers func(ids.ObjectID) wire.Persistence, res *StoreResult, p *reporter) (*certificate, tailHandle, error) {
	// Uploads outlive the caller's context once the blob is certified: they
	// run under the client's lifetime and stop with the caller only before.
	uctx, ucancel := context.WithCancel(c.tails.ctx)
	var certified atomic.Bool
	stop := context.AfterFunc(ctx, func() {
		if !certified.Load() {
			ucancel()
		}
	})
	var total int64
	pairBytes := int64(x.src.SliverLen(blob.Primary) + x.src.SliverLen(blob.Secondary))
	for i := range com.Len() {
		total += int64(len(com.Member(i).Shards)) * pairBytes
	}
	p.bytes(PhaseUpload, 0, total)
	up := &uploader{c: c, x: x, b: b, reg: reg, certified: &certified, p: p, epoch: com.Epoch(),
		requests: semaphore.NewWeighted(int64(c.cfg.UploadConcurrency)), inFlight: semaphore.NewWeighted(b.inFlight)}
	out := make(chan nodeResult, com.Len())
	var wg sync.WaitGroup
	x.uploads.Add(1)
	for i := range com.Len() {
		wg.Go(func() {
			sig, err := up.storeOnNode(uctx, com, i, pers)
			if err != nil {
				m := com.Member(i)
				err = fmt.Errorf("node %s (%s): %w", m.NodeID, m.NetworkAddress, err)
			}
			out <- nodeResult{i, sig, err}
		})
	}
	allDone := make(chan struct{})
	go func() { wg.Wait(); x.uploads.Done(); close(allDone); close(out) }()

	var signers []uint16
	var sigs []bls.Signature
	var nodeErrs []error
	weight, answered := 0, 0
	for r := range out {
		answered++
		if r.err != nil {
			nodeErrs = append(nodeErrs, r.err)
		} else {
			signers = append(signers, uint16(r.index))
			sigs = append(sigs, r.sig)
			weight += com.Member(r.index).Weight()
		}
		if committee.IsQuorum(weight, com.NShards()) {
			break
		}
	}
	res.NodeErrors, res.Weight = nodeErrs, weight
	abort := func(err error) (*certificate, tailHandle, error) {
		ucancel()
		stop()
		<-allDone
		return nil, tailHandle{release: func() *Tail { return nil }}, err
	}
	if !committee.IsQuorum(weight, com.NShards()) {
		if _, err := reg.wait(ctx); err != nil {
			return abort(err)
		}
		if ctx.Err() != nil {
			return abort(ctx.Err())
		}
		return abort(phaseError(PhaseUpload, fmt.Errorf("%w: weight %d of %d shards: %w", ErrNotEnoughConfirmations, weight, com.NShards(), errors.Join(nodeErrs...))))
	}
	cert, err := aggregate(com, signers, sigs, confirmationMessage(com, x.md.ID, reg.id, pers))
	if err != nil {
		return abort(phaseError(PhaseUpload, err))
	}
	res.Signers = slices.Clone(cert.signers)
	release := func() *Tail {
		certified.Store(true)
		stop()
		if answered == com.Len() {
			ucancel()
			return nil
		}
		t := &Tail{done: make(chan struct{})}
		c.tails.Add(1)
		go func() {
			defer c.tails.Done()
			defer close(t.done)
			defer ucancel()
			for r := range out {
				if r.err != nil && !errors.Is(r.err, context.Canceled) {
					t.mu.Lock()
					t.errs = append(t.errs, r.err)
					t.mu.Unlock()
				}
			}
		}()
		return t
	}
	return &certificate{msg: cert.msg, sig: cert.sig, bitmap: cert.bitmap}, tailHandle{release: release}, nil
}

// confirmationMessage is the message every confirming member signs.
func confirmationMessage(com *committee.Committee, id blob.ID, obj ids.ObjectID, pers func(ids.ObjectID) wire.Persistence) []byte {
	return (&wire.Confirmation{Epoch: com.Epoch(), BlobID: id, Persistence: pers(obj)}).Marshal()
}

type aggregated struct {
	msg     []byte
	sig     [96]byte
	bitmap  []byte
	signers []uint16
}

// aggregate combines verified confirmations, in signer order.
func aggregate(com *committee.Committee, signers []uint16, sigs []bls.Signature, msg []byte) (*aggregated, error) {
	idx := make([]int, len(signers))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int { return int(signers[a]) - int(signers[b]) })
	sortedSigners := make([]uint16, len(idx))
	sortedSigs := make([]bls.Signature, len(idx))
	for i, j := range idx {
		sortedSigners[i], sortedSigs[i] = signers[j], sigs[j]
	}
	agg, err := bls.AggregateSignatures(sortedSigs)
	if err != nil {
		return nil, err
	}
	bitmap, err := wire.SignersBitmap(sortedSigners, com.Len())
	if err != nil {
		return nil, err
	}
	return &aggregated{msg: msg, sig: agg.Bytes(), bitmap: bitmap, signers: sortedSigners}, nil
}

// lagRetries bounds how often a request is repeated to a node that has not
// caught up with the epoch yet (every 200 ms).
const lagRetries = 25

// behind reports whether err says the node still works for an older epoch
// than the committee the client writes to: it answers SHARD_NOT_ASSIGNED or
// MISSING_SLIVERS for an epoch before it.
func behind(err error, epoch uint32) bool {
	var e *nodeapi.Error
	if !errors.As(err, &e) || e.Reason != nodeapi.ReasonShardNotAssigned && e.Reason != nodeapi.ReasonMissingSlivers {
		return false
	}
	v, ok := nodeapi.ErrorEpoch(err)
	return ok && v < epoch
}

// stillStoring reports whether err is MISSING_SLIVERS for the current
// epoch: the node may still be storing what it buffered while the
// registration was in flight, so asking again shortly makes sense.
func stillStoring(err error, epoch uint32) bool {
	var e *nodeapi.Error
	if !errors.As(err, &e) || e.Reason != nodeapi.ReasonMissingSlivers {
		return false
	}
	v, ok := nodeapi.ErrorEpoch(err)
	return ok && v == epoch
}
