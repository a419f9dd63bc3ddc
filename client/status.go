package client

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/committee"
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
func (c *Client) BlobStatus(ctx context.Context, id blob.ID) (BlobStatus, error) {
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
		wg.Go(func() { c.askStatus(ctx, id, m, sem, out) })
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

// askStatus asks member m for the blob's status, at most cap(sem) members
// at once, and sends the answer (or the failure) on out, which has room
// for every member's.
func (c *Client) askStatus(ctx context.Context, id blob.ID, m *committee.Member, sem chan struct{}, out chan<- statusAnswer) {
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
	st, err := nc.BlobStatus(rctx, id)
	out <- statusAnswer{st, m.Weight(), err}
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
