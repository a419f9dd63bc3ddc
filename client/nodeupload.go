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

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/bls"
	"github.com/walrus-go/walrus/committee"
	"github.com/walrus-go/walrus/ids"
	"github.com/walrus-go/walrus/internal/clock"
	"github.com/walrus-go/walrus/nodeapi"
	"github.com/walrus-go/walrus/redstuff"
	"github.com/walrus-go/walrus/wire"
)

// uploader is one committee attempt of a store: the shared bounds of the
// uploads to every member.
type uploader struct {
	c         *Client
	x         *encoded
	b         budget
	reg       *registration
	certified *atomic.Bool
	p         *reporter
	epoch     uint32
	requests  *semaphore.Weighted // requests in flight
	inFlight  *semaphore.Weighted // bytes of request bodies in flight
}

// frame is one sliver to send: its pair and type.
type frame struct {
	pair int
	t    blob.SliverType
}

// batches groups a member's slivers into batched uploads of about the
// budget's batch size (a sliver larger than that goes alone), in pair
// order so that runs of systematic columns are read together.
func (u *uploader) batches(shards []uint16) [][]frame {
	id := u.x.md.ID
	pairs := make([]int, 0, len(shards))
	for _, sh := range shards {
		pairs = append(pairs, u.c.params.PairOfShard(id, int(sh)))
	}
	slices.Sort(pairs)
	var out [][]frame
	var cur []frame
	size := 0
	for _, pair := range pairs {
		for _, t := range []blob.SliverType{blob.Primary, blob.Secondary} {
			l := u.x.src.SliverLen(t)
			if len(cur) > 0 && size+l > u.b.batch {
				out = append(out, cur)
				cur, size = nil, 0
			}
			cur = append(cur, frame{pair, t})
			size += l
		}
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// bodySize is the bytes of a batch body.
func (u *uploader) bodySize(fs []frame) int {
	lens := make([]int, len(fs))
	for i, f := range fs {
		lens[i] = u.x.src.SliverLen(f.t)
	}
	return nodeapi.SliverBatchSize(lens...)
}

// filled is a batch body and its slivers (whose data alias the body).
type filled struct {
	batch   *nodeapi.SliverBatch
	slivers []redstuff.Sliver
	pairs   []int
}

// fill builds the batch body of fs in buf (of at least bodySize(fs)
// bytes): every frame's data is read straight into place from the source.
func (u *uploader) fill(buf []byte, fs []frame) (*filled, error) {
	n := u.c.params.N()
	sym := u.x.src.SliverLen(blob.Secondary) / u.c.params.PrimarySymbols()
	out := &filled{batch: nodeapi.SliverBatchOn(buf)}
	var idx [2][]int
	var dst [2][][]byte
	for _, f := range fs {
		index := f.pair
		if f.t == blob.Secondary {
			index = n - 1 - f.pair
		}
		d := out.batch.Add(uint16(f.pair), f.t, uint16(sym), uint16(index), u.x.src.SliverLen(f.t))
		idx[f.t] = append(idx[f.t], index)
		dst[f.t] = append(dst[f.t], d)
		out.slivers = append(out.slivers, redstuff.Sliver{Type: f.t, Index: uint16(index), SymbolSize: uint16(sym), Data: d})
		out.pairs = append(out.pairs, f.pair)
	}
	for t := range idx {
		if len(idx[t]) == 0 {
			continue
		}
		if err := u.x.src.ReadSlivers(blob.SliverType(t), idx[t], dst[t]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// storeOnNode uploads the metadata and member i's slivers in batches
// (concurrently, within the shared bounds), then, unless the blob is
// certified meanwhile, asks for the member's confirmation and verifies
// it. A node still catching up with the epoch (right at an epoch change)
// is given a few seconds.
func (u *uploader) storeOnNode(ctx context.Context, com *committee.Committee, i int, pers func(ids.ObjectID) wire.Persistence) (bls.Signature, error) {
	c := u.c
	ctx, cancel := context.WithTimeout(ctx, c.cfg.NodeTimeout)
	defer cancel()
	m := com.Member(i)
	nc, err := c.node(m.NetworkAddress)
	if err != nil {
		return bls.Signature{}, err
	}
	md := u.x.md
	if err := u.requests.Acquire(ctx, 1); err != nil {
		return bls.Signature{}, err
	}
	err = retryTransient(ctx, busy, func() error {
		_, err := nc.PutMetadata(ctx, md, true)
		return err
	})
	if nodeapi.IsReason(err, nodeapi.ReasonCacheSaturated) {
		if _, rerr := u.reg.wait(ctx); rerr == nil {
			// The node may not have seen the registration yet.
			unseen := func(err error) bool { return busy(err) || nodeapi.IsReason(err, nodeapi.ReasonNotRegistered) }
			err = retryTransient(ctx, unseen, func() error {
				_, err := nc.PutMetadata(ctx, md, false)
				return err
			})
		}
	}
	u.requests.Release(1)
	if err != nil {
		return bls.Signature{}, fmt.Errorf("metadata: %w", err)
	}
	if err := u.sendSlivers(ctx, nc, m.Shards); err != nil {
		return bls.Signature{}, err
	}
	if u.certified.Load() {
		return bls.Signature{}, nil // the tail: no confirmation is needed any more
	}
	obj, err := u.reg.wait(ctx)
	if err != nil {
		return bls.Signature{}, err
	}
	return u.confirm(ctx, nc, com, m, obj, pers)
}

// sendSlivers sends the member's slivers in batches, a few at a time.
func (u *uploader) sendSlivers(ctx context.Context, nc *nodeapi.Client, shards []uint16) error {
	sctx, scancel := context.WithCancel(ctx)
	defer scancel()
	var (
		wg     sync.WaitGroup
		emu    sync.Mutex
		first  error
		single atomic.Bool // the node has no batched route: one request per sliver
	)
	fail := func(err error) {
		emu.Lock()
		if first == nil {
			first = err
			scancel()
		}
		emu.Unlock()
	}
	for _, fs := range u.batches(shards) {
		size := u.bodySize(fs)
		weight := min(int64(size), u.b.inFlight)
		if err := u.inFlight.Acquire(sctx, weight); err != nil {
			fail(err)
			break
		}
		if err := u.requests.Acquire(sctx, 1); err != nil {
			u.inFlight.Release(weight)
			fail(err)
			break
		}
		wg.Go(func() {
			defer u.inFlight.Release(weight)
			defer u.requests.Release(1)
			buf := u.c.getBuffer(size)
			defer u.c.putBuffer(buf)
			b, err := u.fill(buf, fs)
			if err == nil {
				err = u.sendBatch(sctx, nc, b, &single)
			}
			if err != nil {
				fail(fmt.Errorf("slivers of pairs %d to %d: %w", fs[0].pair, fs[len(fs)-1].pair, err))
				return
			}
			var sent int64
			for _, f := range fs {
				sent += int64(u.x.src.SliverLen(f.t))
			}
			u.p.add(sent)
		})
	}
	wg.Wait()
	return first
}

// sendBatch sends one batch (pending while the registration is in
// flight), retrying while the node catches up with the epoch, and once
// without the pending flag when the node's pending cache is full. A node
// without the batched route gets the slivers one by one on Walrus's route.
// Every request is repeated a few times while the node refuses it for a
// moment (busy, or not finding yet the metadata it has accepted: the
// metadata went first; see retryTransient).
func (u *uploader) sendBatch(ctx context.Context, nc *nodeapi.Client, b *filled, single *atomic.Bool) error {
	id := u.x.md.ID
	pending := true
	transient := func(err error) bool { return busy(err) || notYetKnown(err) }
	for try := 0; ; try++ {
		var err error
		if single.Load() {
			err = retryTransient(ctx, transient, func() error { return u.sendOneByOne(ctx, nc, b, pending) })
		} else {
			err = retryTransient(ctx, transient, func() error {
				_, err := nc.PutSliverBatch(ctx, id, b.batch, pending)
				return err
			})
			if noBatchRoute(err) {
				single.Store(true)
				continue
			}
		}
		if err == nil {
			return nil
		}
		switch {
		case pending && nodeapi.IsReason(err, nodeapi.ReasonCacheSaturated):
			if _, rerr := u.reg.wait(ctx); rerr != nil {
				return err
			}
			pending = false
		case behind(err, u.epoch) && try < lagRetries:
			if err := clock.Sleep(ctx, clock.System, 200*time.Millisecond); err != nil {
				return err
			}
		default:
			return err
		}
	}
}

// noBatchRoute reports whether err says the node does not know the
// batched upload route (a Walrus node, or an older one of ours).
func noBatchRoute(err error) bool {
	var e *nodeapi.Error
	return errors.As(err, &e) && (e.Code == 404 && e.Reason == nodeapi.ReasonNotFound || e.Code == 405)
}

// sendOneByOne sends a batch's slivers on Walrus's single-sliver route.
func (u *uploader) sendOneByOne(ctx context.Context, nc *nodeapi.Client, b *filled, pending bool) error {
	for i := range b.slivers {
		s := &b.slivers[i]
		if _, err := nc.PutSliver(ctx, u.x.md.ID, b.pairs[i], s, pending); err != nil {
			return fmt.Errorf("%s sliver of pair %d: %w", s.Type, b.pairs[i], err)
		}
	}
	return nil
}

// confirm asks the member for its confirmation and verifies it.
func (u *uploader) confirm(ctx context.Context, nc *nodeapi.Client, com *committee.Committee, m *committee.Member, obj ids.ObjectID,
	pers func(ids.ObjectID) wire.Persistence) (bls.Signature, error) {
	id := u.x.md.ID
	want := confirmationMessage(com, id, obj, pers)
	for try := 0; ; try++ {
		var sm *wire.SignedMessage
		err := retryTransient(ctx, busy, func() (err error) {
			sm, err = nc.Confirmation(ctx, id, pers(obj), u.c.cfg.ConfirmationWait)
			return err
		})
		if (behind(err, com.Epoch()) || stillStoring(err, com.Epoch())) && try < lagRetries {
			if err := clock.Sleep(ctx, clock.System, 200*time.Millisecond); err != nil {
				return bls.Signature{}, err
			}
			continue
		}
		if err != nil {
			return bls.Signature{}, fmt.Errorf("confirmation: %w", err)
		}
		if !bytes.Equal(sm.Message, want) {
			if got, err := wire.ParseConfirmation(sm.Message); err == nil && got.Epoch < com.Epoch() && try < lagRetries {
				if err := clock.Sleep(ctx, clock.System, 200*time.Millisecond); err != nil {
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

// getBuffer returns an empty buffer of at least size bytes. Request bodies
// are reused across batches and stores (Client.bufs): fresh memory is what
// costs most on the machines this runs on, and the sizes repeat.
func (c *Client) getBuffer(size int) []byte {
	capacity := 1 << 20
	for capacity < size {
		capacity <<= 1
	}
	p, _ := c.bufs.LoadOrStore(capacity, &sync.Pool{})
	if b, ok := p.(*sync.Pool).Get().(*[]byte); ok {
		return (*b)[:0]
	}
	return make([]byte, 0, capacity)
}

func (c *Client) putBuffer(b []byte) {
	if p, ok := c.bufs.Load(cap(b)); ok {
		p.(*sync.Pool).Put(&b)
	}
}
