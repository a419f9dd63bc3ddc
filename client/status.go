package client

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/committee"
	"github.com/walrus-go/walrus/nodeapi"
)

// ErrStatusUnavailable: too few nodes answered a blob-status request to
// tell the status (fewer than f+1 shards' worth).
var ErrStatusUnavailable = errors.New("client: not enough nodes answered the blob status request")

// BlobStatus returns the blob's status as the current committee reports
// it (spec 3.6). Nodes are asked concurrently; once nodes worth n−f shards
// have answered (or all have), the result is the latest status in Walrus's
// order (nonexistent < deletable < permanent < invalid, and within a kind
// by certification, end epoch and counts) such that nodes worth at least
// f+1 shards report it or a later one: at least one honest node vouches
// for it, so f lying nodes can neither invent nor hide a status.
//
// The status reflects this client's own transactions: a node is asked
// only once it reports having handled the chain's events up to the
// client's latest transaction (within StatusTimeout), so the status right
// after a deletion, registration or certification includes it.
func (c *Client) BlobStatus(ctx context.Context, id blob.ID) (BlobStatus, error) {
	return c.blobStatus(ctx, id, uint64(c.lastTx.Load()))
}

// blobStatus is BlobStatus from nodes that have handled the chain's events
// up to height after (0: any node).
func (c *Client) blobStatus(ctx context.Context, id blob.ID, after uint64) (BlobStatus, error) {
	cur, _, err := c.committees(ctx)
	if err != nil {
		return BlobStatus{}, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	out := make(chan statusAnswer, cur.Len())
	sem := make(chan struct{}, c.cfg.StatusConcurrency)
	var wg sync.WaitGroup
	for i := range cur.Len() {
		m := cur.Member(i)
		wg.Go(func() { c.askStatus(ctx, id, after, m, sem, out) })
	}
	defer wg.Wait()
	n := cur.NShards()
	got, answered, errs := collectStatuses(out, cur.Len(), n)
	cancel()
	if !committee.IsValidity(answered, n) {
		return BlobStatus{}, fmt.Errorf("%w: %d of %d shards answered: %w", ErrStatusUnavailable, answered, n, errors.Join(errs...))
	}
	return vouchedStatus(got, n), nil
}

// statusAnswer is one member's answer to a blob-status request, with the
// member's weight in shards.
type statusAnswer struct {
	st     BlobStatus
	weight int
	err    error
}

// askStatus asks member m for the blob's status once it has handled the
// events up to height after, at most cap(sem) members at once, and sends the answer (or the failure) on out, which has room
// for every member's.
func (c *Client) askStatus(ctx context.Context, id blob.ID, after uint64, m *committee.Member, sem chan struct{}, out chan<- statusAnswer) {
	select {
	case sem <- struct{}{}:
		defer func() { <-sem }()
	case <-ctx.Done():
		out <- statusAnswer{weight: m.Weight(), err: ctx.Err()}
		return
	}
	nc, err := c.node(m.NetworkAddress)
	if err != nil {
		out <- statusAnswer{weight: m.Weight(), err: err}
		return
	}
	rctx, rcancel := context.WithTimeout(ctx, c.cfg.StatusTimeout)
	defer rcancel()
	if after > 0 {
		if err := awaitProcessed(rctx, nc, after); err != nil {
			out <- statusAnswer{weight: m.Weight(), err: err}
			return
		}
	}
	st, err := nc.BlobStatus(rctx, id)
	out <- statusAnswer{st, m.Weight(), err}
}

// processedPoll is how often awaitProcessed asks a node how far it has
// followed the chain.
const processedPoll = 50 * time.Millisecond

// awaitProcessed waits until the node reports having handled every event
// up to height h, so that its answer reflects this client's transactions
// (read your writes: a status asked right after a deletion is not the
// status from before it). A node that does not report its processed
// height (a Walrus node) is not waited for.
func awaitProcessed(ctx context.Context, nc *nodeapi.Client, h uint64) error {
	for {
		hi, err := nc.Health(ctx, false)
		if err != nil {
			return err
		}
		if hi.ProcessedHeight == nil || *hi.ProcessedHeight >= h {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("client: node has handled the chain's events only up to height %d, not yet %d: %w", *hi.ProcessedHeight, h, ctx.Err())
		case <-time.After(processedPoll):
		}
	}
}

// collectStatuses reads up to members answers from out, stopping once the
// successful ones weigh a quorum of the n shards. It returns those
// answers, their weight and the failures.
func collectStatuses(out <-chan statusAnswer, members, n int) ([]statusAnswer, int, []error) {
	var got []statusAnswer
	var errs []error
	answered := 0
	for range members {
		a := <-out
		if a.err != nil {
			errs = append(errs, a.err)
			continue
		}
		got = append(got, a)
		answered += a.weight
		if committee.IsQuorum(answered, n) {
			break
		}
	}
	return got, answered, errs
}

// vouchedStatus is the latest status reported in got such that answers
// weighing at least f+1 of the n shards report it or a later one, so that
// at least one honest node vouches for it. got must weigh f+1 shards.
func vouchedStatus(got []statusAnswer, n int) BlobStatus {
	cands := make([]BlobStatus, len(got))
	for i, a := range got {
		cands[i] = a.st
	}
	slices.SortFunc(cands, func(a, b BlobStatus) int { return b.Compare(a) })
	for _, cand := range cands {
		w := 0
		for _, a := range got {
			if a.st.Compare(cand) >= 0 {
				w += a.weight
			}
		}
		if committee.IsValidity(w, n) {
			return cand
		}
	}
	return cands[len(cands)-1] // unreachable: the lowest report has every answer's weight
}
