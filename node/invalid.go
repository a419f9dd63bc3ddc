package node

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"slices"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/bls"
	"github.com/walrus-go/walrus/chain"
	"github.com/walrus-go/walrus/chain/chainclient"
	"github.com/walrus-go/walrus/committee"
	"github.com/walrus-go/walrus/ids"
	"github.com/walrus-go/walrus/redstuff"
	"github.com/walrus-go/walrus/wire"
)

// invalidator runs the inconsistency flow (spec 5) for a blob that
// recovery proved inconsistently encoded. The InvalidBlobID event that
// follows is handled by the event follower, like any other node's.
type invalidator struct {
	log    *slog.Logger
	self   ids.ObjectID
	key    *bls.SecretKey // signs the node's own attestation
	view   *view
	peers  *peerPool
	chain  *chainclient.Client
	signer *chainclient.Signer
}

func newInvalidator(p *parts, key *bls.SecretKey, signer *chainclient.Signer) *invalidator {
	return &invalidator{log: p.log, self: p.self, key: key, view: p.view, peers: p.peers, chain: p.chain, signer: signer}
}

// attestation is one member's signed INVALID_BLOB_ID message.
type attestation struct {
	index int // in the committee
	sig   bls.Signature
	err   error
}

// reportInconsistent sends the proof to every member of the current
// committee, verifies each signed INVALID_BLOB_ID attestation, and once
// the signers' weight reaches validity (3w ≥ n+1) submits
// invalidate_blob_id with the aggregate. The InvalidBlobID event then
// makes every node drop the blob.
func (iv *invalidator) reportInconsistent(ctx context.Context, id blob.ID, proof *redstuff.InconsistencyProof) error {
	cur, _ := iv.view.Committees()
	msg := (&wire.InvalidBlobID{Epoch: cur.Epoch(), BlobID: id}).Marshal()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	signers, sigs, weight, err := iv.attestations(ctx, cur, id, proof, msg)
	if err != nil {
		return err
	}
	agg, bitmap, err := aggregate(signers, sigs, cur.Len())
	if err != nil {
		return err
	}
	if _, err := iv.chain.Execute(ctx, iv.signer, &chain.InvalidateBlobID{Signature: agg.Bytes(), SignersBitmap: bitmap, Message: msg}); err != nil {
		return fmt.Errorf("node: invalidate_blob_id: %w", err)
	}
	iv.log.Info("submitted invalidate_blob_id", "blob_id", id, "epoch", cur.Epoch(), "signers", len(signers), "weight", weight)
	return nil
}

// attestations asks every member of cur at once and gathers verified
// attestations until their weight reaches validity; the node signs its
// own. It returns the signers' committee indices, their signatures (in the
// order they arrived) and the weight. Cancelling ctx stops the members not
// yet answered.
func (iv *invalidator) attestations(ctx context.Context, cur *committee.Committee, id blob.ID, proof *redstuff.InconsistencyProof, msg []byte) ([]uint16, []bls.Signature, int, error) {
	results := make(chan attestation, cur.Len())
	for i, m := range cur.Members() {
		if m.NodeID == iv.self {
			results <- attestation{index: i, sig: iv.key.Sign(msg)}
			continue
		}
		go func() {
			sig, err := iv.attestation(ctx, &m, id, proof, msg)
			results <- attestation{index: i, sig: sig, err: err}
		}()
	}
	var signers []uint16
	var sigs []bls.Signature
	weight := 0
	var errs []error
	for range cur.Len() {
		a := <-results
		if a.err != nil {
			errs = append(errs, a.err)
			continue
		}
		signers = append(signers, uint16(a.index))
		sigs = append(sigs, a.sig)
		weight += cur.Member(a.index).Weight()
		if committee.IsValidity(weight, cur.NShards()) {
			return signers, sigs, weight, nil
		}
	}
	return nil, nil, weight, fmt.Errorf("node: attestations of weight %d only: %v", weight, errs)
}

// aggregate sorts the signatures by signer, as the chain expects, and
// returns their aggregate and the signers' bitmap over a committee of n.
func aggregate(signers []uint16, sigs []bls.Signature, n int) (bls.Signature, []byte, error) {
	order := make([]int, len(signers))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return int(signers[a]) - int(signers[b]) })
	sortedSigners := make([]uint16, len(signers))
	sortedSigs := make([]bls.Signature, len(sigs))
	for i, j := range order {
		sortedSigners[i], sortedSigs[i] = signers[j], sigs[j]
	}
	agg, err := bls.AggregateSignatures(sortedSigs)
	if err != nil {
		return bls.Signature{}, nil, err
	}
	bitmap, err := wire.SignersBitmap(sortedSigners, n)
	if err != nil {
		return bls.Signature{}, nil, err
	}
	return agg, bitmap, nil
}

// attestation sends the proof to one member and checks its answer.
func (iv *invalidator) attestation(ctx context.Context, m *committee.Member, id blob.ID, proof *redstuff.InconsistencyProof, msg []byte) (bls.Signature, error) {
	c, err := iv.peers.Get(m.NetworkAddress)
	if err != nil {
		return bls.Signature{}, err
	}
	sm, err := c.InconsistencyProof(ctx, id, proof)
	if err != nil {
		return bls.Signature{}, fmt.Errorf("%s: %w", m.NetworkAddress, err)
	}
	if !bytes.Equal(sm.Message, msg) {
		return bls.Signature{}, fmt.Errorf("%s: attested a different message", m.NetworkAddress)
	}
	sig, err := bls.ParseSignature(sm.Signature[:])
	if err != nil {
		return bls.Signature{}, fmt.Errorf("%s: %w", m.NetworkAddress, err)
	}
	if err := bls.Verify(m.PublicKey, msg, sig); err != nil {
		return bls.Signature{}, fmt.Errorf("%s: %w", m.NetworkAddress, err)
	}
	return sig, nil
}
