package nodeapi

import (
	"context"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/ids"
	"github.com/walrus-go/walrus/redstuff"
	"github.com/walrus-go/walrus/wire"
)

// parseObjectID parses a Sui object ID: 0x and up to 64 hex digits.
func parseObjectID(s string) (ids.ObjectID, bool) {
	h, ok := strings.CutPrefix(s, "0x")
	if !ok || len(h) == 0 || len(h) > 64 {
		return ids.ObjectID{}, false
	}
	if len(h)%2 == 1 {
		h = "0" + h
	}
	b, err := hex.DecodeString(h)
	if err != nil {
		return ids.ObjectID{}, false
	}
	var id ids.ObjectID
	copy(id[32-len(b):], b)
	return id, true
}

// getConfirmation signs "every shard assigned to me in this epoch holds its
// slivers of the blob" once the blob is registered with the requested
// persistence and every owned shard holds both slivers. With
// wait_for_registration it waits up to wait_millis (capped) for the
// registration to be seen. It checks, in order: the blob ID, the object
// ID, the query, the blocklist, the registration, the slivers held; then
// syncs the store and signs.
func (s *Server) getConfirmation(w http.ResponseWriter, r *http.Request) error {
	id, err := s.blobID(r)
	if err != nil {
		return err
	}
	pers, err := confirmationPersistence(r)
	if err != nil {
		return err
	}
	wait, maxWait, err := s.confirmationWait(r)
	if err != nil {
		return err
	}
	if s.blocked(id) {
		return errForbidden("blob")
	}
	if err := s.awaitRegistration(r.Context(), id, pers, wait, maxWait); err != nil {
		return err
	}
	epoch := s.deps.Chain.Epoch()
	if err := s.checkSlivers(id, epoch); err != nil {
		return err
	}
	if err := s.deps.Store.Sync(); err != nil {
		return err
	}
	c := wire.Confirmation{Epoch: epoch, BlobID: id, Persistence: pers}
	msg := c.Marshal()
	sig := s.deps.Key.Sign(msg).Bytes()
	writeSuccess(w, http.StatusOK, Confirmation{Signed: &wire.SignedMessage{Message: msg, Signature: sig}})
	return nil
}

// confirmationPersistence is the persistence a confirmation is asked
// for: deletable for the object of the path, if it names one, else
// permanent.
func confirmationPersistence(r *http.Request) (wire.Persistence, error) {
	v := r.PathValue("object_id")
	if v == "" {
		return wire.Permanent, nil
	}
	obj, ok := parseObjectID(v)
	if !ok {
		return wire.Persistence{}, newError("INVALID_ARGUMENT", ReasonInvalidObjectID, fmt.Sprintf("%q is not an object ID", v), nil)
	}
	return wire.Deletable(obj), nil
}

// confirmationWait reads wait_for_registration and wait_millis: whether
// to wait for the registration, and for how long at most (the configured
// cap, or less).
func (s *Server) confirmationWait(r *http.Request) (wait bool, maxWait time.Duration, err error) {
	q := r.URL.Query()
	if v := q.Get("wait_for_registration"); v != "" {
		if wait, err = strconv.ParseBool(v); err != nil {
			return false, 0, errInvalidParameter("wait_for_registration", v)
		}
	}
	maxWait = s.cfg.MaxConfirmationWait
	if v := q.Get("wait_millis"); v != "" {
		ms, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return false, 0, errInvalidParameter("wait_millis", v)
		}
		maxWait = min(maxWait, time.Duration(min(ms, 1<<40))*time.Millisecond)
	}
	return wait, maxWait, nil
}

// awaitRegistration returns nil once a live registration of the blob
// covers the persistence. A blob marked invalid is refused at once; one
// not registered is refused at once, or, with wait, when maxWait has
// passed or the request ends.
func (s *Server) awaitRegistration(ctx context.Context, id blob.ID, pers wire.Persistence, wait bool, maxWait time.Duration) error {
	var deadline <-chan time.Time
	if wait {
		t := time.NewTimer(maxWait)
		defer t.Stop()
		deadline = t.C
	}
	for {
		signal := s.registrationSignal()
		reg, err := s.deps.Chain.Registration(id)
		if err != nil {
			return err
		}
		if reg.Invalid != nil {
			return errInvalidBlob(*reg.Invalid)
		}
		if reg.Covers(pers) {
			return nil
		}
		if !wait {
			return errNotRegistered()
		}
		select {
		case <-signal:
		case <-deadline:
			return errNotRegistered()
		case <-ctx.Done():
			return errNotRegistered()
		}
	}
}

// checkSlivers refuses a confirmation while an owned shard lacks a sliver
// of the blob (MISSING_SLIVERS, with the epoch of the count).
func (s *Server) checkSlivers(id blob.ID, epoch uint32) error {
	missing, err := s.missingSlivers(id)
	if err != nil {
		return err
	}
	if missing > 0 && s.pending.peek(id) != nil {
		// The registration is recorded but its pending uploads may still be
		// on their way to the store (the node flushes them right after):
		// store them now, then count again.
		s.flushPending(id)
		if missing, err = s.missingSlivers(id); err != nil {
			return err
		}
	}
	if missing > 0 {
		return newError("FAILED_PRECONDITION", ReasonMissingSlivers, "the required slivers are not all stored",
			map[string]any{"missing": missing, "epoch": epoch})
	}
	return nil
}

// missingSlivers counts the slivers of owned shards not (intact) in store.
func (s *Server) missingSlivers(id blob.ID) (int, error) {
	missing := 0
	for _, sh := range s.deps.Chain.OwnedShards() {
		for _, t := range []blob.SliverType{blob.Primary, blob.Secondary} {
			ok, err := s.deps.Store.HasSliver(sh, t, id)
			if err != nil {
				return 0, err
			}
			if !ok {
				missing++
			}
		}
	}
	return missing, nil
}

// proofLimit bounds an inconsistency proof for a blob: k symbols, each with
// its index, data and a proof of at most 64 nodes.
func proofLimit(p blob.Params, md *blob.MetadataWithID, t blob.SliverType) int64 {
	s, _ := p.SymbolSize(md.UnencodedLength)
	k := p.PrimarySymbols()
	if t == blob.Primary {
		k = p.SecondarySymbols()
	}
	return int64(k)*int64(s+8+1+64*33) + 16
}

// postInconsistencyProof verifies a proof that the blob is inconsistently
// encoded and answers with a signed INVALID_BLOB_ID attestation.
func (s *Server) postInconsistencyProof(w http.ResponseWriter, r *http.Request) error {
	id, err := s.blobID(r)
	if err != nil {
		return err
	}
	t, err := sliverType("sliver_type", r.PathValue("sliver_type"))
	if err != nil {
		return err
	}
	md, ok, err := s.deps.Store.Metadata(id)
	if err != nil {
		return err
	}
	if !ok {
		return newError("FAILED_PRECONDITION", ReasonMetadataNotFound, "blob metadata is required but missing", nil)
	}
	body, err := readBody(w, r, proofLimit(s.deps.Params, md, t))
	if err != nil {
		return err
	}
	proof, err := redstuff.UnmarshalInconsistencyProof(body, t)
	if err != nil {
		return newError("INVALID_ARGUMENT", ReasonInvalidProof, "the proof does not decode: "+err.Error(), nil)
	}
	release, err := s.acquireSymbols(r.Context())
	if err != nil {
		return err
	}
	err = s.enc.VerifyInconsistencyProof(&proof, &md.Metadata)
	release()
	if err != nil {
		return newError("INVALID_ARGUMENT", ReasonInvalidProof, err.Error(), nil)
	}
	m := wire.InvalidBlobID{Epoch: s.deps.Chain.Epoch(), BlobID: id}
	msg := m.Marshal()
	writeSuccess(w, http.StatusOK, &wire.SignedMessage{Message: msg, Signature: s.deps.Key.Sign(msg).Bytes()})
	return nil
}
