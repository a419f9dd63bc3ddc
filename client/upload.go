package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/semaphore"

	"github.com/walrus-go/walrus/bls"
	"github.com/walrus-go/walrus/chain"
	"github.com/walrus-go/walrus/committee"
	"github.com/walrus-go/walrus/nodeapi"
	"github.com/walrus-go/walrus/redstuff"
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
func (c *Client) upload(ctx context.Context, x *redstuff.Encoded, com *committee.Committee, reg *registration,
	pers func(chain.ObjectID) wire.Persistence, res *StoreResult, p *reporter) (*certificate, tailHandle, error) {
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
	for i := range com.Len() {
		for range com.Member(i).Shards {
			total += int64(len(x.Primary(0).Data) + len(x.Secondary(0).Data))
		}
	}
	p.bytes(PhaseUpload, 0, total)
	requests := semaphore.NewWeighted(int64(c.cfg.UploadConcurrency))
	inFlight := semaphore.NewWeighted(c.cfg.MaxDataInFlight)
	out := make(chan nodeResult, com.Len())
	var wg sync.WaitGroup
	for i := range com.Len() {
		wg.Go(func() {
			sig, err := c.storeOnNode(uctx, x, com, i, reg, pers, &certified, requests, inFlight, p)
			if err != nil {
				m := com.Member(i)
				err = fmt.Errorf("node %s (%s): %w", chain.ObjectID(m.NodeID), m.NetworkAddress, err)
			}
			out <- nodeResult{i, sig, err}
		})
	}
	allDone := make(chan struct{})
	go func() { wg.Wait(); close(allDone); close(out) }()

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
	cert, err := aggregate(com, signers, sigs, confirmationMessage(com, x, reg.id, pers))
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
func confirmationMessage(com *committee.Committee, x *redstuff.Encoded, obj chain.ObjectID, pers func(chain.ObjectID) wire.Persistence) []byte {
	return (&wire.Confirmation{Epoch: com.Epoch(), BlobID: x.Metadata.ID, Persistence: pers(obj)}).Marshal()
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
	v, ok := e.Metadata["epoch"].(float64)
	return ok && uint32(v) < epoch
}

// stillStoring reports whether err is MISSING_SLIVERS for the current
// epoch: the node may still be storing what it buffered while the
// registration was in flight, so asking again shortly makes sense.
func stillStoring(err error, epoch uint32) bool {
	var e *nodeapi.Error
	if !errors.As(err, &e) || e.Reason != nodeapi.ReasonMissingSlivers {
		return false
	}
	v, ok := e.Metadata["epoch"].(float64)
	return ok && uint32(v) == epoch
}

// pause waits d or until ctx ends.
func pause(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// storeOnNode uploads the metadata and member i's sliver pairs (the
// slivers concurrently, within the shared bounds), then, unless the blob
// is certified meanwhile, asks for the member's confirmation and verifies
// it. A node still catching up with the epoch (right at an epoch change)
// is given a few seconds.
func (c *Client) storeOnNode(ctx context.Context, x *redstuff.Encoded, com *committee.Committee, i int, reg *registration,
	pers func(chain.ObjectID) wire.Persistence, certified *atomic.Bool, requests, inFlight *semaphore.Weighted, p *reporter) (bls.Signature, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.NodeTimeout)
	defer cancel()
	m := com.Member(i)
	nc, err := c.Node(m.NetworkAddress)
	if err != nil {
		return bls.Signature{}, err
	}
	id := x.Metadata.ID
	if err := requests.Acquire(ctx, 1); err != nil {
		return bls.Signature{}, err
	}
	_, err = nc.PutMetadata(ctx, &x.Metadata, true)
	if nodeapi.IsReason(err, nodeapi.ReasonCacheSaturated) {
		if _, rerr := reg.wait(ctx); rerr == nil {
			_, err = nc.PutMetadata(ctx, &x.Metadata, false)
		}
	}
	requests.Release(1)
	if err != nil {
		return bls.Signature{}, fmt.Errorf("metadata: %w", err)
	}
	sctx, scancel := context.WithCancel(ctx)
	defer scancel()
	var (
		wg    sync.WaitGroup
		emu   sync.Mutex
		first error
	)
	fail := func(err error) {
		emu.Lock()
		if first == nil {
			first = err
			scancel()
		}
		emu.Unlock()
	}
	for _, shard := range m.Shards {
		pair := c.params.PairOfShard(id, int(shard))
		sp := x.Pair(pair)
		for _, s := range []redstuff.Sliver{sp.Primary, sp.Secondary} {
			weight := min(int64(len(s.Data)), c.cfg.MaxDataInFlight)
			if err := inFlight.Acquire(sctx, weight); err != nil {
				fail(err)
				break
			}
			if err := requests.Acquire(sctx, 1); err != nil {
				inFlight.Release(weight)
				fail(err)
				break
			}
			wg.Go(func() {
				defer inFlight.Release(weight)
				defer requests.Release(1)
				if err := c.putSliver(sctx, nc, x, pair, &s, com.Epoch(), reg); err != nil {
					fail(fmt.Errorf("%s sliver of pair %d: %w", s.Type, pair, err))
					return
				}
				p.add(int64(len(s.Data)))
			})
		}
	}
	wg.Wait()
	if first != nil {
		return bls.Signature{}, first
	}
	if certified.Load() {
		return bls.Signature{}, nil // the tail: no confirmation is needed any more
	}
	obj, err := reg.wait(ctx)
	if err != nil {
		return bls.Signature{}, err
	}
	want := confirmationMessage(com, x, obj, pers)
	for try := 0; ; try++ {
		sm, err := nc.Confirmation(ctx, id, pers(obj), c.cfg.ConfirmationWait)
		if (behind(err, com.Epoch()) || stillStoring(err, com.Epoch())) && try < lagRetries {
			if err := pause(ctx, 200*time.Millisecond); err != nil {
				return bls.Signature{}, err
			}
			continue
		}
		if err != nil {
			return bls.Signature{}, fmt.Errorf("confirmation: %w", err)
		}
		if !bytes.Equal(sm.Message, want) {
			if got, err := wire.ParseConfirmation(sm.Message); err == nil && got.Epoch < com.Epoch() && try < lagRetries {
				if err := pause(ctx, 200*time.Millisecond); err != nil {
					return bls.Signature{}, err
				}
				continue // signed for the previous epoch: not caught up yet
			}
			return bls.Signature{}, errors.New("confirmation: the node signed a different message")
		}
		sig, err := bls.ParseSignature(sm.Signature[:])
		if err != nil {
			return bls.Signature{}, fmt.Errorf("confirmation: %w", err)
		}
		if err := bls.Verify(m.PublicKey, want, sig); err != nil {
			return bls.Signature{}, fmt.Errorf("confirmation: %w", err)
		}
		return sig, nil
	}
}

// putSliver uploads one sliver (pending while the registration is in
// flight), retrying while the node catches up with the epoch, and once
// without the pending flag when the node's pending cache is full.
func (c *Client) putSliver(ctx context.Context, nc *nodeapi.Client, x *redstuff.Encoded, pair int, s *redstuff.Sliver, epoch uint32, reg *registration) error {
	pending := true
	for try := 0; ; try++ {
		_, err := nc.PutSliver(ctx, x.Metadata.ID, pair, s, pending)
		if err == nil {
			return nil
		}
		switch {
		case pending && nodeapi.IsReason(err, nodeapi.ReasonCacheSaturated):
			if _, rerr := reg.wait(ctx); rerr != nil {
				return err
			}
			pending = false
		case behind(err, epoch) && try < lagRetries:
			if err := pause(ctx, 200*time.Millisecond); err != nil {
				return err
			}
		default:
			return err
		}
	}
}
