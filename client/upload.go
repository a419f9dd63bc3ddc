package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/semaphore"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/bls"
	"github.com/walrus-go/walrus/committee"
	"github.com/walrus-go/walrus/ids"
	"github.com/walrus-go/walrus/internal/clock"
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
	u := c.startUploads(ctx, x, b, com, reg, pers, p)
	signers, sigs, nodeErrs, weight := u.collect()
	res.NodeErrors, res.Weight = nodeErrs, weight
	if !committee.IsQuorum(weight, com.NShards()) {
		if _, err := reg.wait(ctx); err != nil {
			return u.abort(err)
		}
		if ctx.Err() != nil {
			return u.abort(ctx.Err())
		}
		return u.abort(phaseError(PhaseUpload, fmt.Errorf("%w: weight %d of %d shards: %w", ErrNotEnoughConfirmations, weight, com.NShards(), errors.Join(nodeErrs...))))
	}
	cert, err := aggregate(com, signers, sigs, confirmationMessage(com, x.md.ID, reg.id, pers))
	if err != nil {
		return u.abort(phaseError(PhaseUpload, err))
	}
	res.Signers = slices.Clone(cert.signers)
	return &certificate{msg: cert.msg, sig: cert.sig, bitmap: cert.bitmap}, tailHandle{release: u.release}, nil
}

// committeeUpload is one upload to every member of a committee, under
// way: the members' outcomes as they end, and what stops the uploads.
type committeeUpload struct {
	c         *Client
	com       *committee.Committee
	out       chan nodeResult    // each member's outcome; closed once all have ended
	allDone   chan struct{}      // closed once every member's upload has ended
	ucancel   context.CancelFunc // stops the uploads
	stop      func() bool        // unhooks the uploads from the caller's context
	certified atomic.Bool        // set once the blob is certified
	answered  int                // the outcomes collect has read
}

// startUploads starts the upload to every member of com. The uploads
// outlive the caller's context once the blob is certified: they run under
// the client's lifetime and stop with the caller only before.
func (c *Client) startUploads(ctx context.Context, x *encoded, b budget, com *committee.Committee, reg *registration,
	pers func(ids.ObjectID) wire.Persistence, p *reporter) *committeeUpload {
	uctx, ucancel := context.WithCancel(c.tails.ctx)
	u := &committeeUpload{c: c, com: com, ucancel: ucancel, out: make(chan nodeResult, com.Len()), allDone: make(chan struct{})}
	u.stop = context.AfterFunc(ctx, func() {
		if !u.certified.Load() {
			ucancel()
		}
	})
	p.bytes(PhaseUpload, 0, uploadBytes(x, com))
	up := &uploader{c: c, x: x, b: b, reg: reg, certified: &u.certified, p: p, epoch: com.Epoch(),
		requests: semaphore.NewWeighted(int64(c.cfg.UploadConcurrency)), inFlight: semaphore.NewWeighted(b.inFlight)}
	var wg sync.WaitGroup
	x.uploads.Add(1)
	for i := range com.Len() {
		wg.Go(func() {
			sig, err := up.storeOnNode(uctx, com, i, pers)
			if err != nil {
				m := com.Member(i)
				err = fmt.Errorf("node %s (%s): %w", m.NodeID, m.NetworkAddress, err)
			}
			u.out <- nodeResult{i, sig, err}
		})
	}
	go func() { wg.Wait(); x.uploads.Done(); close(u.allDone); close(u.out) }()
	return u
}

// uploadBytes is the sliver data an upload sends to com: a primary and a
// secondary sliver for every shard.
func uploadBytes(x *encoded, com *committee.Committee) int64 {
	var total int64
	pairBytes := int64(x.src.SliverLen(blob.Primary) + x.src.SliverLen(blob.Secondary))
	for i := range com.Len() {
		total += int64(len(com.Member(i).Shards)) * pairBytes
	}
	return total
}

// collect reads the members' outcomes until the confirmations weigh a
// quorum of shards or every member has answered. It returns the signers'
// indices and signatures, the members' failures and the weight confirmed.
func (u *committeeUpload) collect() (signers []uint16, sigs []bls.Signature, nodeErrs []error, weight int) {
	for r := range u.out {
		u.answered++
		if r.err != nil {
			nodeErrs = append(nodeErrs, r.err)
		} else {
			signers = append(signers, uint16(r.index))
			sigs = append(sigs, r.sig)
			weight += u.com.Member(r.index).Weight()
		}
		if committee.IsQuorum(weight, u.com.NShards()) {
			break
		}
	}
	return signers, sigs, nodeErrs, weight
}

// abort stops every upload, waits until they have ended and returns err
// with a tail handle that has nothing to release.
func (u *committeeUpload) abort(err error) (*certificate, tailHandle, error) {
	u.ucancel()
	u.stop()
	<-u.allDone
	return nil, tailHandle{release: func() *Tail { return nil }}, err
}

// release detaches the uploads from the caller's context once the blob is
// certified. It returns nil when every member has answered already, else
// the Tail of the members still uploading.
func (u *committeeUpload) release() *Tail {
	u.certified.Store(true)
	u.stop()
	if u.answered == u.com.Len() {
		u.ucancel()
		return nil
	}
	t := &Tail{done: make(chan struct{})}
	u.c.tails.Add(1)
	go u.finishTail(t)
	return t
}

// finishTail reads the outcomes of the members still uploading after the
// certification into t (their cancellations are no failure), and closes
// t.done once all have ended.
func (u *committeeUpload) finishTail(t *Tail) {
	defer u.c.tails.Done()
	defer close(t.done)
	defer u.ucancel()
	for r := range u.out {
		if r.err != nil && !errors.Is(r.err, context.Canceled) {
			t.mu.Lock()
			t.errs = append(t.errs, r.err)
			t.mu.Unlock()
		}
	}
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

// Transient refusals. A node may refuse a request for a moment: it is busy
// (503 UNAVAILABLE, 429 RESOURCE_EXHAUSTED), or, right after accepting a
// blob's metadata or seeing its registration, it does not find them yet
// for the slivers that follow (METADATA_NOT_FOUND, NOT_REGISTERED). Such a
// request is repeated a few times, after a short and growing wait.
const (
	// transientRetries bounds how often retryTransient repeats a request.
	transientRetries = 5
	// transientBackoff is the wait before the first repetition; it doubles
	// with each further one (0.1 to 1.6 s, about 3 s in all).
	transientBackoff = 100 * time.Millisecond
	// maxRetryAfter caps the wait a node's Retry-After asks for.
	maxRetryAfter = 5 * time.Second
)

// busy reports whether err is a node's 503 or 429 answer (from the node
// or from a proxy in front of it).
func busy(err error) bool {
	var e *nodeapi.Error
	return errors.As(err, &e) && (e.Code == http.StatusServiceUnavailable || e.Code == http.StatusTooManyRequests)
}

// notYetKnown reports whether err is a node's METADATA_NOT_FOUND or
// NOT_REGISTERED answer. To slivers sent after the node accepted the
// blob's metadata, either is transient: the node is still moving the
// metadata from its pending cache to its store, or has not yet seen the
// registration the client waited for.
func notYetKnown(err error) bool {
	return nodeapi.IsReason(err, nodeapi.ReasonMetadataNotFound) || nodeapi.IsReason(err, nodeapi.ReasonNotRegistered)
}

// retryWait is the wait before repetition try (from 0) of a request the
// node refused with err: the Retry-After it asked for, capped at
// maxRetryAfter, or else transientBackoff doubled try times.
func retryWait(err error, try int) time.Duration {
	var e *nodeapi.Error
	if errors.As(err, &e) && e.RetryAfter > 0 {
		return min(time.Duration(e.RetryAfter)*time.Second, maxRetryAfter)
	}
	return transientBackoff << try
}

// retryTransient calls do, and calls it again, at most transientRetries
// times, while it fails with an error for which retryable holds, waiting
// retryWait in between. It returns do's last error, or ctx's if ctx ends
// during a wait.
func retryTransient(ctx context.Context, retryable func(error) bool, do func() error) error {
	for try := 0; ; try++ {
		err := do()
		if err == nil || try >= transientRetries || !retryable(err) {
			return err
		}
		if err := clock.Sleep(ctx, clock.System, retryWait(err, try)); err != nil {
			return err
		}
	}
}
