package node

import (
	"bytes"
	"context"
	"fmt"
	"slices"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/bls"
	"github.com/walrus-go/walrus/chain"
	"github.com/walrus-go/walrus/committee"
	"github.com/walrus-go/walrus/redstuff"
	"github.com/walrus-go/walrus/wire"
)

// reportInconsistent runs the inconsistency flow (spec 5): it sends the
// proof to every member of the current committee, verifies each signed
// INVALID_BLOB_ID attestation, and once the signers' weight reaches
// validity (3w ≥ n+1) submits invalidate_blob_id with the aggregate. The
// InvalidBlobID event then makes every node drop the blob.
func (n *Node) reportInconsistent(ctx context.Context, id blob.ID, proof *redstuff.InconsistencyProof) error {
	cur, _ := n.view.Committees()
	msg := (&wire.InvalidBlobID{Epoch: cur.Epoch(), BlobID: id}).Marshal()
	type attestation struct {
		index int
		sig   bls.Signature
		err   error
	}
	results := make(chan attestation, cur.Len())
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for i, m := range cur.Members() {
		if m.NodeID == n.id {
			results <- attestation{index: i, sig: n.keys.Protocol.Sign(msg)}
			continue
		}
		go func() {
			sig, err := n.attestation(ctx, &m, id, proof, msg)
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
			break
		}
	}
	if !committee.IsValidity(weight, cur.NShards()) {
		return fmt.Errorf("node: attestations of weight %d only: %v", weight, errs)
	}
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
		return err
	}
	bitmap, err := wire.SignersBitmap(sortedSigners, cur.Len())
	if err != nil {
		return err
	}
	if _, err := n.chain.Execute(ctx, n.signer, &chain.InvalidateBlobID{Signature: agg.Bytes(), SignersBitmap: bitmap, Message: msg}); err != nil {
		return fmt.Errorf("node: invalidate_blob_id: %w", err)
	}
	n.log.Info("submitted invalidate_blob_id", "blob_id", id, "epoch", cur.Epoch(), "signers", len(sortedSigners), "weight", weight)
	return nil
}

// attestation sends the proof to one member and checks its answer.
func (n *Node) attestation(ctx context.Context, m *committee.Member, id blob.ID, proof *redstuff.InconsistencyProof, msg []byte) (bls.Signature, error) {
	c, err := n.peers.get(m.NetworkAddress)
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
