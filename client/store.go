package client

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/chain"
	"github.com/walrus-go/walrus/chain/chainclient"
	"github.com/walrus-go/walrus/ids"
	"github.com/walrus-go/walrus/nodeapi"
	"github.com/walrus-go/walrus/redstuff"
	"github.com/walrus-go/walrus/wire"
)

// StoreOptions are the choices of a store.
type StoreOptions struct {
	// Epochs is how many epochs ahead the blob is stored, counting the
	// current one (default 1): the blob lives until epoch current+Epochs.
	Epochs uint32
	// Deletable makes the blob deletable by its owner before it expires.
	// (The walrus CLI stores deletable blobs unless --permanent, as Walrus
	// does since v1.33; the zero value here is a permanent blob.)
	Deletable bool
	// Force skips the status check and the reuse of an owned certified
	// blob: a new certification is always made (owned registrations and
	// storage may still be reused).
	Force bool
	// IgnoreResources buys new storage instead of reusing the wallet's
	// Blob and Storage objects.
	IgnoreResources bool
	// SendObjectTo transfers the Blob object to this address once certified.
	SendObjectTo *ids.Address
	// Share wraps the certified blob into a SharedBlob that anyone can fund
	// and extend (exclusive with SendObjectTo).
	Share bool
	// Attributes are set on the Blob object in the transaction that
	// certifies (or extends) it, before any transfer or sharing (a quilt
	// gets _walrusBlobType=quilt this way). A store that makes no
	// transaction (alreadyCertified) sets none.
	Attributes []Attribute
	// Progress, if set, is told about the phases and the upload's bytes.
	Progress func(Progress)
	// CheckID, if set, is called with the blob ID once the blob is
	// encoded, before anything is asked or paid; its error ends the store
	// (a publisher refuses blocked blobs this way).
	CheckID func(blob.ID) error
	// MemoryBudget bounds the memory of the store (0: the client's
	// Config.MemoryBudget): block buffers of the encoder, uploads in
	// flight, and scratch space kept in memory rather than in a temporary
	// file.
	MemoryBudget int64
}

// Phase names a step of a long operation.
type Phase string

// Phases reported to progress callbacks.
const (
	PhaseEncode   Phase = "encode"
	PhaseStatus   Phase = "status"
	PhaseRegister Phase = "register"
	PhaseUpload   Phase = "upload"
	PhaseCertify  Phase = "certify"
	PhaseTail     Phase = "tail" // certified; the remaining nodes are still receiving slivers
	PhaseMetadata Phase = "metadata"
	PhaseSlivers  Phase = "slivers" // reading: Done and Total count primary slivers
	PhaseDecode   Phase = "decode"
	PhaseDone     Phase = "done"
)

// Progress reports the state of a store or read. During PhaseUpload, Done
// and Total count sliver bytes sent to all nodes; during PhaseSlivers,
// slivers read of those needed. Callbacks are serialized per operation.
type Progress struct {
	Phase       Phase
	Done, Total int64
}

// StoreResult describes a store: Walrus's result (Result, the JSON the CLI
// prints and the gateway serves) and what the client measured.
type StoreResult struct {
	Result   BlobStoreResult
	BlobID   blob.ID
	ObjectID ids.ObjectID // the Blob object (zero when alreadyCertified by event or markedInvalid)
	// SharedObjectID is the SharedBlob when the store shared the blob.
	SharedObjectID *ids.ObjectID
	Size           uint64 // unencoded
	EncodedSize    uint64
	Cost           uint64 // storage and write fees paid, in FROST
	// CertifiedEpoch is the epoch of the certificate; EndEpoch the first
	// epoch in which the blob is no longer stored.
	CertifiedEpoch, EndEpoch uint32
	// Signers are the committee members whose confirmations were
	// aggregated, and their weight in shards.
	Signers []uint16
	Weight  int
	// NodeErrors are the failures of nodes that did not confirm before the
	// certificate (nodes still uploading in the tail are not failures).
	NodeErrors []error
	// Timings of the phases, each from its own start to its end.
	// Registration and upload overlap: slivers are sent while the
	// registration transaction is in flight.
	Encode, Status, Register, Upload, Certify time.Duration
	// Tail tracks the uploads to the nodes that had not confirmed when the
	// blob was certified; nil when nothing is left.
	Tail *Tail
}

// storeEncodedBlob stores a blob encoded in memory (for StoreBuiltQuilt
// and sdkinternal.StoreEncoded).
//
// Unless opts.Force, it first asks the nodes for the blob's status: an
// invalid blob ID gives markedInvalid, and a permanent store of a blob
// already certified as permanent until at least the wanted end epoch gives
// alreadyCertified; both cost nothing and return a nil error. Otherwise it
// plans the resources (an owned registration of the same blob, else an
// owned Storage resource large and long enough, else a new reservation),
// registers while uploading the metadata and slivers to every node of the
// current committee, collects verified confirmations until n−f shards,
// and certifies. Uploads to the nodes that had not confirmed by then go on
// in the background (StoreResult.Tail, Client.WaitUploads). If the epoch
// changes before the certificate lands, it uploads to the new committee
// and certifies again.
//
// On failure the result (when not nil) holds Walrus's error shape.
func (c *Client) storeEncodedBlob(ctx context.Context, x *redstuff.Encoded, opts StoreOptions) (*StoreResult, error) {
	e := &encoded{md: &x.Metadata, src: x, release: func() {}}
	return c.storeSource(ctx, e, c.splitBudget(opts.MemoryBudget), opts, newReporter(opts.Progress))
}

// storeSource stores an encoded blob and releases it once no upload reads
// it any more.
func (c *Client) storeSource(ctx context.Context, x *encoded, b budget, opts StoreOptions, p *reporter) (*StoreResult, error) {
	res, err := c.storeEncoded(ctx, x, b, opts, p)
	go func() {
		x.uploads.Wait()
		x.release()
	}()
	if err != nil && res != nil && res.Result == (BlobStoreResult{}) {
		id := x.md.ID
		res.Result = errorResult(&id, failurePhase(err), err)
	}
	return res, err
}

func (c *Client) storeEncoded(ctx context.Context, x *encoded, b budget, opts StoreOptions, p *reporter) (*StoreResult, error) {
	if c.signer == nil {
		return nil, ErrNoWallet
	}
	if opts.Epochs == 0 {
		opts.Epochs = 1
	}
	if opts.Share && opts.SendObjectTo != nil {
		return nil, fmt.Errorf("%w: share and send the object to another owner are exclusive", ErrInvalidArgument)
	}
	md := x.md
	if opts.CheckID != nil {
		if err := opts.CheckID(md.ID); err != nil {
			return &StoreResult{BlobID: md.ID, Size: md.UnencodedLength}, phaseError(PhaseEncode, err)
		}
	}
	size, err := c.params.EncodedLength(md.UnencodedLength)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBlobTooLarge, err)
	}
	res := &StoreResult{BlobID: md.ID, Size: md.UnencodedLength, EncodedSize: size}
	sys, err := c.chain.System(ctx)
	if err != nil {
		return res, phaseError(PhaseStatus, fmt.Errorf("client: chain: %w", err))
	}
	if opts.Epochs > sys.MaxEpochsAhead {
		return res, fmt.Errorf("%w: blobs can be stored for at most %d epochs ahead, %d requested", ErrInvalidArgument, sys.MaxEpochsAhead, opts.Epochs)
	}
	target := sys.Epoch + opts.Epochs
	if !opts.Force {
		p.phase(PhaseStatus)
		t := time.Now()
		done, err := c.checkStatus(ctx, res, md.ID, target, opts)
		res.Status = time.Since(t)
		if err != nil || done {
			return res, err
		}
	}
	pl, err := c.plan(ctx, sys, md, size, opts)
	if err != nil {
		return res, phaseError(PhaseRegister, err)
	}
	if pl.done != nil {
		res.Result = *pl.done
		res.ObjectID = pl.blob.ID
		res.EndEpoch = pl.blob.EndEpoch()
		return res, nil
	}
	if pl.op.ReuseAndExtend != nil {
		return c.extendOwned(ctx, res, pl, opts, p)
	}
	return c.uploadAndCertify(ctx, x, b, res, pl, opts, p)
}

// checkStatus asks the nodes for the blob's status; it reports true when
// the store is complete without paying (alreadyCertified, markedInvalid).
func (c *Client) checkStatus(ctx context.Context, res *StoreResult, id blob.ID, target uint32, opts StoreOptions) (bool, error) {
	// Any node's view will do: a stale one only means paying for a store
	// the chain then confirms, and waiting for the nodes to catch up with
	// this client's latest transaction would slow every store of a busy
	// publisher.
	st, err := c.blobStatus(ctx, id, 0)
	if err != nil {
		return false, nil // unknown: store anyway, as a new blob would be
	}
	switch {
	case st.Kind == nodeapi.Invalid:
		res.Result = BlobStoreResult{MarkedInvalid: &MarkedInvalid{BlobID: id, Event: st.Event}}
		return true, nil
	case st.Kind == nodeapi.Permanent && st.IsCertified && st.EndEpoch >= target && !opts.Deletable:
		// Confirm with the chain, the source of truth, before paying nothing.
		cs, err := c.chain.BlobStatus(ctx, id)
		if err != nil {
			return false, nil
		}
		for _, o := range cs.Objects {
			b := objectBlob(o)
			if b != nil && !b.Deletable && b.Certified() && b.EndEpoch() >= target {
				ev := st.Event
				res.Result = BlobStoreResult{AlreadyCertified: &AlreadyCertified{BlobID: id, Event: &ev, EndEpoch: st.EndEpoch}}
				res.EndEpoch = st.EndEpoch
				return true, nil
			}
		}
	}
	return false, nil
}

// objectBlob is the Blob inside a Blob or SharedBlob object (nil otherwise).
func objectBlob(o *chain.Object) *chain.Blob {
	switch o.Kind {
	case chain.KindBlob:
		return o.Blob
	case chain.KindSharedBlob:
		return &o.SharedBlob.Blob
	}
	return nil
}

// extendOwned extends an owned certified blob whose lifetime is too short.
func (c *Client) extendOwned(ctx context.Context, res *StoreResult, pl *plan, opts StoreOptions, p *reporter) (*StoreResult, error) {
	p.phase(PhaseRegister)
	t := time.Now()
	calls := []chain.Call{&chain.ExtendBlob{Blob: chain.Ref(pl.blob.ID), Epochs: pl.op.ReuseAndExtend.EpochsExtended}}
	calls = append(calls, c.finishCalls(pl.blob.ID, opts)...)
	tx, err := c.execute(ctx, calls...)
	res.Register = time.Since(t)
	if err != nil {
		return res, phaseError(PhaseRegister, txError("extend", err))
	}
	return c.finish(ctx, res, pl, tx, opts, p)
}

// finishCalls are the calls that follow certification: the attributes,
// then the transfer to another owner or the sharing.
func (c *Client) finishCalls(obj ids.ObjectID, opts StoreOptions) []chain.Call {
	var calls []chain.Call
	for _, a := range opts.Attributes {
		calls = append(calls, &chain.SetBlobAttribute{Blob: chain.Ref(obj), Key: a.Key, Value: a.Value})
	}
	switch {
	case opts.SendObjectTo != nil:
		calls = append(calls, &chain.TransferObject{Object: chain.Ref(obj), To: *opts.SendObjectTo})
	case opts.Share:
		calls = append(calls, &chain.ShareBlob{Blob: chain.Ref(obj)})
	}
	return calls
}

// finish reads the final Blob object and fills in the newlyCreated result.
func (c *Client) finish(ctx context.Context, res *StoreResult, pl *plan, tx *chainclient.TxResult, opts StoreOptions, p *reporter) (*StoreResult, error) {
	res.ObjectID = pl.blob.ID
	res.Cost = pl.cost
	if opts.Share && len(tx.Created) > 0 {
		id := tx.Created[len(tx.Created)-1]
		res.SharedObjectID = &id
	}
	for _, ev := range tx.Events {
		if ev.Event.Type == chain.EventBlobCertified {
			if e, err := chain.ParseBlobCertified(ev.Event.Data); err == nil && e.ObjectID == pl.blob.ID {
				res.EndEpoch = e.EndEpoch
				if !e.IsExtension || res.CertifiedEpoch == 0 {
					res.CertifiedEpoch = e.Epoch
				}
			}
		}
	}
	b, err := c.blobAfter(ctx, pl.blob.ID, res.SharedObjectID)
	if err != nil {
		// The store succeeded; describe the object from what we know.
		bb := *pl.blob
		bb.Storage.EndEpoch = max(bb.Storage.EndEpoch, res.EndEpoch)
		if bb.CertifiedEpoch == nil {
			e := res.CertifiedEpoch
			bb.CertifiedEpoch = &e
		}
		b = &bb
	}
	if b.CertifiedEpoch != nil {
		res.CertifiedEpoch = *b.CertifiedEpoch
	}
	res.EndEpoch = b.EndEpoch()
	res.Result = BlobStoreResult{NewlyCreated: &NewlyCreated{BlobObject: blobObjectOf(b), ResourceOperation: pl.op,
		Cost: pl.cost, SharedBlobObject: res.SharedObjectID}}
	p.phase(PhaseDone)
	return res, nil
}

// blobAfter reads a Blob (or the blob inside a SharedBlob) after the store.
func (c *Client) blobAfter(ctx context.Context, id ids.ObjectID, shared *ids.ObjectID) (*chain.Blob, error) {
	if shared != nil {
		id = *shared
	}
	o, err := c.chain.Object(ctx, id)
	if err != nil {
		return nil, err
	}
	if b := objectBlob(o); b != nil {
		return b, nil
	}
	return nil, fmt.Errorf("%w: %s", ErrWrongObject, id)
}

// uploadAndCertify registers (unless an owned registration is reused) while
// uploading, then certifies with the confirmations.
func (c *Client) uploadAndCertify(ctx context.Context, x *encoded, b budget, res *StoreResult, pl *plan, opts StoreOptions, p *reporter) (*StoreResult, error) {
	reg := newRegistration()
	if pl.blob != nil {
		reg.set(pl.blob.ID, nil)
	} else {
		p.phase(PhaseRegister)
		go func() {
			t := time.Now()
			tx, err := c.execute(ctx, pl.calls...)
			c.release(pl)
			reg.took = time.Since(t)
			if err != nil {
				reg.set(ids.ObjectID{}, phaseError(PhaseRegister, txError("register", err)))
				return
			}
			id, err := createdBlob(tx)
			if err == nil {
				pl.blob, err = c.blobAfter(ctx, id, nil)
			}
			reg.set(id, err)
		}()
	}
	pers := func(id ids.ObjectID) wire.Persistence {
		if opts.Deletable {
			return wire.Deletable(id)
		}
		return wire.Permanent
	}
	for attempt := 0; ; attempt++ {
		cur, _, err := c.committees(ctx)
		if err != nil {
			return res, phaseError(PhaseUpload, err)
		}
		p.phase(PhaseUpload)
		t1 := time.Now()
		cert, tail, err := c.upload(ctx, x, b, cur, reg, pers, res, p)
		res.Upload += time.Since(t1)
		if err != nil {
			return res, err
		}
		p.phase(PhaseCertify)
		t2 := time.Now()
		obj, _ := reg.wait(ctx)
		res.Register = reg.took
		calls := []chain.Call{&chain.CertifyBlob{Blob: chain.Ref(obj), Signature: cert.sig, SignersBitmap: cert.bitmap, Message: cert.msg}}
		if e := pl.op.ReuseAndExtendNonCertified; e != nil {
			calls = append(calls, &chain.ExtendBlob{Blob: chain.Ref(obj), Epochs: e.EpochsExtended})
		}
		calls = append(calls, c.finishCalls(obj, opts)...)
		tx, err := c.execute(ctx, calls...)
		res.Certify += time.Since(t2)
		if errors.Is(err, chain.ENotCertifiedEpoch) && attempt < 2 {
			tail.release()
			continue // the epoch changed under us: the new committee confirms
		}
		if err != nil {
			tail.release()
			return res, phaseError(PhaseCertify, txError("certify", err))
		}
		res.Tail = tail.release()
		if res.Tail != nil {
			p.phase(PhaseTail)
		}
		return c.finish(ctx, res, pl, tx, opts, p)
	}
}

// createdBlob finds the Blob created by a registration transaction (from
// its BlobRegistered event).
func createdBlob(tx *chainclient.TxResult) (ids.ObjectID, error) {
	for _, ev := range tx.Events {
		if ev.Event.Type == chain.EventBlobRegistered && ev.Event.ObjectID != nil {
			return *ev.Event.ObjectID, nil
		}
	}
	return ids.ObjectID{}, errors.New("client: the registration created no blob")
}

// registration is the Blob object that uploads confirm for, known once the
// registration transaction is in a block.
type registration struct {
	done chan struct{}
	id   ids.ObjectID
	err  error
	took time.Duration // of the transaction, when this store sent one
}

func newRegistration() *registration { return &registration{done: make(chan struct{})} }

func (r *registration) set(id ids.ObjectID, err error) {
	r.id, r.err = id, err
	close(r.done)
}

func (r *registration) wait(ctx context.Context) (ids.ObjectID, error) {
	select {
	case <-r.done:
		return r.id, r.err
	case <-ctx.Done():
		return ids.ObjectID{}, ctx.Err()
	}
}

// phasedError carries the phase in which a store failed.
type phasedError struct {
	phase Phase
	err   error
}

func (e *phasedError) Error() string { return e.err.Error() }
func (e *phasedError) Unwrap() error { return e.err }

func phaseError(p Phase, err error) error {
	var pe *phasedError
	if err == nil || errors.As(err, &pe) {
		return err
	}
	return &phasedError{p, err}
}

func failurePhase(err error) Phase {
	var pe *phasedError
	if errors.As(err, &pe) {
		return pe.phase
	}
	return PhaseRegister
}

func errorResult(id *blob.ID, phase Phase, err error) BlobStoreResult {
	return BlobStoreResult{Error: &StoreError{BlobID: id, FailurePhase: string(phase), ErrorMsg: err.Error()}}
}
