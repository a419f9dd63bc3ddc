package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/bls"
	"github.com/walrus-go/walrus/chain"
	"github.com/walrus-go/walrus/chain/chainclient"
	"github.com/walrus-go/walrus/committee"
	"github.com/walrus-go/walrus/nodeapi"
	"github.com/walrus-go/walrus/redstuff"
	"github.com/walrus-go/walrus/wire"
)

// StoreOptions are the choices of a store.
type StoreOptions struct {
	// Epochs is how many epochs ahead the blob is stored (default 1).
	Epochs uint32
	// Deletable makes the blob deletable by its owner before it expires.
	Deletable bool
}

// StoreResult describes a stored blob.
type StoreResult struct {
	BlobID      blob.ID
	ObjectID    chain.ObjectID // the Blob object, owned by the signer
	Size        uint64         // unencoded
	EncodedSize uint64
	// CertifiedEpoch is the epoch of the certificate; EndEpoch the first
	// epoch in which the blob is no longer stored.
	CertifiedEpoch, EndEpoch uint32
	// Signers are the committee members whose confirmations were
	// aggregated, and their weight in shards.
	Signers []uint16
	Weight  int
	// NodeErrors are the failures of nodes that did not confirm.
	NodeErrors []error
	// Timings of the phases.
	Encode, Register, Upload, Certify time.Duration
}

// Store encodes data and stores it (see StoreEncoded).
func (c *Client) Store(ctx context.Context, data []byte, opts StoreOptions) (*StoreResult, error) {
	start := time.Now()
	x, err := c.enc.Encode(data)
	if err != nil {
		return nil, err
	}
	res, err := c.StoreEncoded(ctx, x, opts)
	if res != nil {
		res.Encode = time.Since(start) - res.Register - res.Upload - res.Certify
	}
	return res, err
}

// StoreEncoded stores an encoded blob: it buys storage and registers the
// blob in one transaction, uploads the metadata and each node's slivers to
// every node of the current committee (with ?pending=true, so that nodes
// buffer what arrives before they see the registration), collects and
// verifies their signed confirmations, and certifies the blob on chain
// with the aggregate of confirmations worth at least n−f shards. If the
// epoch changes before the certificate lands, it uploads to the new
// committee and certifies again.
func (c *Client) StoreEncoded(ctx context.Context, x *redstuff.Encoded, opts StoreOptions) (*StoreResult, error) {
	if c.signer == nil {
		return nil, errors.New("client: storing needs a signer")
	}
	if opts.Epochs == 0 {
		opts.Epochs = 1
	}
	md := &x.Metadata
	size, err := c.params.EncodedLength(md.UnencodedLength)
	if err != nil {
		return nil, err
	}
	res := &StoreResult{BlobID: md.ID, Size: md.UnencodedLength, EncodedSize: size}
	t0 := time.Now()
	tx, err := c.chain.Execute(ctx, c.signer,
		&chain.ReserveSpace{EncodedSize: size, EpochsAhead: opts.Epochs},
		&chain.RegisterBlob{Storage: chain.CreatedRef(0), BlobID: md.ID, RootHash: md.Root(), Size: md.UnencodedLength,
			EncodingType: uint8(blob.RS2), Deletable: opts.Deletable})
	if err != nil {
		return nil, fmt.Errorf("client: register: %w", err)
	}
	if len(tx.Created) < 2 {
		return nil, fmt.Errorf("client: register created %d objects", len(tx.Created))
	}
	res.ObjectID = tx.Created[1]
	res.Register = time.Since(t0)
	pers := wire.Permanent
	if opts.Deletable {
		pers = wire.Deletable(res.ObjectID.Wire())
	}
	for attempt := 0; ; attempt++ {
		cur, _, err := c.Committees(ctx)
		if err != nil {
			return res, err
		}
		t1 := time.Now()
		cert, err := c.confirm(ctx, x, cur, pers, res)
		res.Upload += time.Since(t1)
		if err != nil {
			return res, err
		}
		t2 := time.Now()
		tx, err := c.chain.Execute(ctx, c.signer, &chain.CertifyBlob{Blob: chain.Ref(res.ObjectID), Signature: cert.sig,
			SignersBitmap: cert.bitmap, Message: cert.msg})
		res.Certify += time.Since(t2)
		if err != nil && tx != nil && abortName(tx) == chain.ENotCertifiedEpoch.Name && attempt < 2 {
			continue // the epoch changed under us: the new committee confirms
		}
		if err != nil {
			return res, fmt.Errorf("client: certify: %w", err)
		}
		for _, ev := range tx.Events {
			if ev.Event.Type == chain.EventBlobCertified {
				if e, err := chain.ParseBlobCertified(ev.Event.Data); err == nil {
					res.CertifiedEpoch, res.EndEpoch = e.Epoch, e.EndEpoch
				}
			}
		}
		return res, nil
	}
}

type certificate struct {
	msg    []byte
	sig    [96]byte
	bitmap []byte
}

// confirm uploads to every member and aggregates the confirmations.
func (c *Client) confirm(ctx context.Context, x *redstuff.Encoded, com *committee.Committee, pers wire.Persistence, res *StoreResult) (*certificate, error) {
	want := (&wire.Confirmation{Epoch: com.Epoch(), BlobID: x.Metadata.ID, Persistence: pers}).Marshal()
	type conf struct {
		index int
		sig   bls.Signature
		err   error
	}
	out := make(chan conf, com.Len())
	sem := make(chan struct{}, c.cfg.UploadConcurrency)
	var wg sync.WaitGroup
	for i := range com.Len() {
		m := com.Member(i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			sig, err := c.storeOnNode(ctx, x, m, pers, want)
			if err != nil {
				err = fmt.Errorf("node %s (%s): %w", chain.ObjectID(m.NodeID), m.NetworkAddress, err)
			}
			out <- conf{i, sig, err}
		}()
	}
	wg.Wait()
	close(out)
	var signers []uint16
	var sigs []bls.Signature
	weight := 0
	res.NodeErrors = nil
	for r := range out {
		if r.err != nil {
			res.NodeErrors = append(res.NodeErrors, r.err)
			continue
		}
		signers = append(signers, uint16(r.index))
		sigs = append(sigs, r.sig)
		weight += com.Member(r.index).Weight()
	}
	res.Weight = weight
	if !committee.IsQuorum(weight, com.NShards()) {
		return nil, fmt.Errorf("%w: weight %d of %d shards: %w", ErrNotEnoughConfirmations, weight, com.NShards(), errors.Join(res.NodeErrors...))
	}
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
	res.Signers = sortedSigners
	return &certificate{msg: want, sig: agg.Bytes(), bitmap: bitmap}, nil
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

// storeOnNode uploads the metadata and the node's sliver pairs, then asks
// for its confirmation and verifies it. A node that is still catching up
// with the epoch (right at an epoch change) is given a few seconds.
func (c *Client) storeOnNode(ctx context.Context, x *redstuff.Encoded, m *committee.Member, pers wire.Persistence, want []byte) (bls.Signature, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.NodeTimeout)
	defer cancel()
	nc, err := c.Node(m.NetworkAddress)
	if err != nil {
		return bls.Signature{}, err
	}
	conf, err := wire.ParseConfirmation(want)
	if err != nil {
		return bls.Signature{}, err
	}
	id := x.Metadata.ID
	if _, err := nc.PutMetadata(ctx, &x.Metadata, true); err != nil {
		return bls.Signature{}, fmt.Errorf("metadata: %w", err)
	}
	for _, shard := range m.Shards {
		p := c.params.PairOfShard(id, int(shard))
		pair := x.Pair(p)
		for _, s := range []*redstuff.Sliver{&pair.Primary, &pair.Secondary} {
			for try := 0; ; try++ {
				_, err := nc.PutSliver(ctx, id, p, s, true)
				if err == nil {
					break
				}
				if !behind(err, conf.Epoch) || try == lagRetries {
					return bls.Signature{}, fmt.Errorf("%s sliver of pair %d: %w", s.Type, p, err)
				}
				if err := pause(ctx, 200*time.Millisecond); err != nil {
					return bls.Signature{}, err
				}
			}
		}
	}
	for try := 0; ; try++ {
		sm, err := nc.Confirmation(ctx, id, pers, c.cfg.ConfirmationWait)
		if behind(err, conf.Epoch) && try < lagRetries {
			if err := pause(ctx, 200*time.Millisecond); err != nil {
				return bls.Signature{}, err
			}
			continue
		}
		if err != nil {
			return bls.Signature{}, fmt.Errorf("confirmation: %w", err)
		}
		if !bytes.Equal(sm.Message, want) {
			if got, err := wire.ParseConfirmation(sm.Message); err == nil && got.Epoch < conf.Epoch && try < lagRetries {
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

// abortName is the abort code's name of an aborted transaction ("" if it
// did not abort): its log starts with the name.
func abortName(res *chainclient.TxResult) string {
	name, _, _ := strings.Cut(res.Abort(), ":")
	return name
}
