package nodeapi

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/walrus-go/walrus/bcs"
	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/redstuff"
)

// metadataLimit is the largest BCS BlobMetadata for n shards.
func metadataLimit(n int) int64 { return int64(66*n + 16) }

// sliverLimit is the exact BCS size of a sliver of type t of a blob.
func sliverLimit(p blob.Params, md *blob.MetadataWithID, t blob.SliverType) (int64, error) {
	s, err := p.SymbolSize(md.UnencodedLength)
	if err != nil {
		return 0, err
	}
	n := p.PrimarySliverSize(s)
	if t == blob.Secondary {
		n = p.SecondarySliverSize(s)
	}
	return int64(len(bcs.AppendULEB128(nil, uint32(n))) + n + 4), nil // length, data, symbol size, index
}

// uploadTarget makes the first checks of every upload: the blob ID, the
// blocklist, the ?pending= flag.
func (s *Server) uploadTarget(r *http.Request) (blob.ID, bool, error) {
	id, err := s.blobID(r)
	if err != nil {
		return id, false, err
	}
	if s.blocked(id) {
		return id, false, errForbidden("blob")
	}
	pending, err := pendingParam(r)
	return id, pending, err
}

// pendingParam parses ?pending=.
func pendingParam(r *http.Request) (bool, error) {
	v := r.URL.Query().Get("pending")
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, errInvalidParameter("pending", v)
	}
	return b, nil
}

func (s *Server) getMetadata(w http.ResponseWriter, r *http.Request) error {
	id, err := s.blobID(r)
	if err != nil {
		return err
	}
	if s.blocked(id) {
		return errForbidden("metadata")
	}
	b, ok, err := s.deps.Store.MetadataBCS(id)
	if err != nil {
		return err
	}
	if !ok {
		return newError("NOT_FOUND", ReasonMetadataNotFound, "the requested metadata is unavailable", nil)
	}
	writeBCS(w, b)
	return nil
}

func (s *Server) getMetadataStatus(w http.ResponseWriter, r *http.Request) error {
	id, err := s.blobID(r)
	if err != nil {
		return err
	}
	if s.blocked(id) {
		return errForbidden("metadata")
	}
	st, err := s.metadataStatus(id)
	if err != nil {
		return err
	}
	writeSuccess(w, http.StatusOK, st)
	return nil
}

// putMetadata checks, in order: blob ID, blocklist, pending flag, body size,
// encoding type, decoding, invalid blob, verification against the ID, then
// stores (registered), buffers (pending) or refuses.
func (s *Server) putMetadata(w http.ResponseWriter, r *http.Request) error {
	id, pending, err := s.uploadTarget(r)
	if err != nil {
		return err
	}
	body, err := readBody(w, r, metadataLimit(s.deps.Params.N()))
	if err != nil {
		return err
	}
	// BlobMetadata::V1 is tag 0, then the encoding type's tag (RS2 = 1).
	if len(body) >= 2 && body[0] == 0 && body[1] != byte(blob.RS2) {
		return newError("INVALID_ARGUMENT", ReasonUnsupportedEncoding,
			fmt.Sprintf("unsupported encoding type %d, supported types are: [RS2]", body[1]), nil)
	}
	m, err := blob.UnmarshalMetadata(body)
	if err != nil {
		return newError("INVALID_ARGUMENT", ReasonInvalidMetadata, "the metadata does not decode: "+err.Error(), nil)
	}
	reg, err := s.deps.Chain.Registration(id)
	if err != nil {
		return err
	}
	if reg.Invalid != nil {
		return errInvalidBlob(*reg.Invalid)
	}
	md := &blob.MetadataWithID{ID: id, Metadata: m}
	if err := md.Verify(s.deps.Params); err != nil {
		return newError("INVALID_ARGUMENT", ReasonInvalidMetadata, "the provided metadata failed to verify: "+err.Error(), nil)
	}
	if _, ok, err := s.deps.Store.Metadata(id); err != nil {
		return err
	} else if ok {
		writeSuccess(w, http.StatusOK, "metadata already stored")
		return nil
	}
	if reg.Registered() {
		if err := s.deps.Store.PutMetadata(md); err != nil {
			return err
		}
		writeSuccess(w, http.StatusCreated, "metadata successfully stored")
		return nil
	}
	if !pending {
		return errNotRegistered()
	}
	if err := s.pending.putMetadata(md); err != nil {
		return newError("FAILED_PRECONDITION", ReasonCacheSaturated, "pending upload cache is saturated; retry once the node catches up", nil)
	}
	s.flushIfRegistered(id)
	writeSuccess(w, http.StatusAccepted, "metadata buffered until the blob is registered")
	return nil
}

// flushIfRegistered closes the race between a pending upload and the
// registration that flushed the cache just before the upload was added.
func (s *Server) flushIfRegistered(id blob.ID) {
	if reg, err := s.deps.Chain.Registration(id); err == nil && reg.Registered() {
		s.flushPending(id)
	}
}

// metadataFor returns the blob's metadata from the store or, when pending
// data may be used, from the pending cache (also for a blob just registered
// whose pending data is being flushed).
//
// A flush (flushPending) drops metadata from the cache only once the store
// holds it, but it may run entirely between this lookup's read of the
// store and its read of the cache, so that both miss. The store is then
// read again: metadata that left the cache is in it. Metadata already
// stored, the common case, still costs a single read, and only a blob
// whose metadata is really missing pays for the second one.
func (s *Server) metadataFor(id blob.ID, pending bool) (*blob.MetadataWithID, error) {
	md, ok, err := s.deps.Store.Metadata(id)
	if err != nil {
		return nil, err
	}
	if ok {
		return md, nil
	}
	if pending {
		if md := s.pending.metadata(id); md != nil {
			return md, nil
		}
		if md, ok, err := s.deps.Store.Metadata(id); err != nil {
			return nil, err
		} else if ok {
			return md, nil
		}
	}
	return nil, newError("FAILED_PRECONDITION", ReasonMetadataNotFound, "blob metadata is required but missing", nil)
}

// metadataStatus is the blob's metadata status: stored, buffered or
// nonexistent. Like metadataFor, it reads the store again after missing in
// both places, so that a flush in between does not make it nonexistent.
func (s *Server) metadataStatus(id blob.ID) (StoredStatus, error) {
	_, ok, err := s.deps.Store.Metadata(id)
	if err != nil || ok {
		return StatusStored, err
	}
	if s.pending.metadata(id) != nil {
		return StatusBuffered, nil
	}
	if _, ok, err = s.deps.Store.Metadata(id); err != nil || ok {
		return StatusStored, err
	}
	return StatusNonexistent, nil
}

// sliverStatus is a sliver's status, stored, buffered or nonexistent, read
// like metadataStatus: the store again after missing in both places.
func (s *Server) sliverStatus(id blob.ID, shard uint16, t blob.SliverType) (StoredStatus, error) {
	ok, err := s.deps.Store.HasSliver(shard, t, id)
	if err != nil || ok {
		return StatusStored, err
	}
	if s.pending.hasSliver(id, shard, t) {
		return StatusBuffered, nil
	}
	if ok, err = s.deps.Store.HasSliver(shard, t, id); err != nil || ok {
		return StatusStored, err
	}
	return StatusNonexistent, nil
}

// putSliver checks, in order: parameters, blocklist, shard assignment,
// registration (or pending), metadata, body size, room for the body under
// MaxUploadBytesInFlight, decoding, the sliver's index against the pair,
// verification against the metadata; then stores, buffers or answers that
// it is already stored.
func (s *Server) putSliver(w http.ResponseWriter, r *http.Request) error {
	u, err := s.sliverUploadTarget(r)
	if err != nil {
		return err
	}
	weight := u.limit
	if r.ContentLength >= 0 {
		weight = r.ContentLength
	}
	release, err := s.acquireUpload(r.Context(), weight)
	if err != nil {
		return err
	}
	defer release()
	sl, err := s.readSliver(w, r, u)
	if err != nil {
		return err
	}
	return s.storeSliver(w, u, &sl)
}

// sliverUpload is what the checks of a sliver PUT made before its body is
// read establish.
type sliverUpload struct {
	id    blob.ID
	pair  int
	t     blob.SliverType
	shard uint16
	reg   Registration
	md    *blob.MetadataWithID
	limit int64 // the exact size of the sliver's body
}

// sliverUploadTarget makes the checks of a sliver PUT that come before
// its body, in order: parameters, blocklist, pending flag, shard
// assignment, registration (or pending), metadata, and the body's
// announced size.
func (s *Server) sliverUploadTarget(r *http.Request) (*sliverUpload, error) {
	id, pair, t, err := s.sliverParams(r)
	if err != nil {
		return nil, err
	}
	if s.blocked(id) {
		return nil, errForbidden("blob")
	}
	pending, err := pendingParam(r)
	if err != nil {
		return nil, err
	}
	u := &sliverUpload{id: id, pair: pair, t: t, shard: uint16(s.deps.Params.ShardOfPair(id, pair))}
	if !s.deps.Chain.Owns(u.shard) {
		return nil, errShardNotAssigned(int(u.shard), s.deps.Chain.Epoch())
	}
	if u.reg, err = s.deps.Chain.Registration(id); err != nil {
		return nil, err
	}
	if u.reg.Invalid != nil {
		return nil, errInvalidBlob(*u.reg.Invalid)
	}
	if !u.reg.Registered() && !pending {
		return nil, errNotRegistered()
	}
	if u.md, err = s.metadataFor(id, true); err != nil {
		return nil, err
	}
	if u.limit, err = sliverLimit(s.deps.Params, u.md, t); err != nil {
		return nil, err
	}
	if r.ContentLength > u.limit {
		return nil, errBodyTooLarge(u.limit)
	}
	return u, nil
}

// readSliver reads the body of a sliver PUT and checks, in order, that it
// decodes, that its index is the pair's and that it verifies against the
// metadata.
func (s *Server) readSliver(w http.ResponseWriter, r *http.Request, u *sliverUpload) (redstuff.Sliver, error) {
	body, err := readBody(w, r, u.limit)
	if err != nil {
		return redstuff.Sliver{}, err
	}
	sl, err := redstuff.UnmarshalSliver(body, u.t)
	if err != nil {
		return redstuff.Sliver{}, newError("INVALID_ARGUMENT", ReasonInvalidSliver, "the provided sliver does not decode: "+err.Error(), nil)
	}
	want := u.pair
	if u.t == blob.Secondary {
		want = s.deps.Params.SecondaryIndex(u.pair)
	}
	if int(sl.Index) != want {
		return redstuff.Sliver{}, newError("INVALID_ARGUMENT", ReasonInvalidSliver,
			fmt.Sprintf("the provided sliver is invalid: sliver index %d does not belong to pair %d", sl.Index, u.pair), nil)
	}
	if err := s.enc.VerifySliver(&sl, &u.md.Metadata); err != nil {
		return redstuff.Sliver{}, newError("INVALID_ARGUMENT", ReasonInvalidSliver, "the provided sliver is invalid: "+err.Error(), nil)
	}
	return sl, nil
}

// storeSliver answers a verified sliver: 200 if the store already holds
// it, 201 once stored for a registered blob, 202 once buffered in the
// pending cache.
func (s *Server) storeSliver(w http.ResponseWriter, u *sliverUpload, sl *redstuff.Sliver) error {
	if ok, err := s.deps.Store.HasSliver(u.shard, u.t, u.id); err != nil {
		return err
	} else if ok {
		writeSuccess(w, http.StatusOK, "sliver already stored")
		return nil
	}
	if u.reg.Registered() {
		if err := s.deps.Store.PutSliver(u.shard, u.id, sl); err != nil {
			return err
		}
		writeSuccess(w, http.StatusCreated, "sliver stored successfully")
		return nil
	}
	if err := s.pending.putSliver(u.id, u.shard, sl); err != nil {
		if errors.Is(err, errSaturated) {
			return newError("FAILED_PRECONDITION", ReasonCacheSaturated, "pending upload cache is saturated; retry once the node catches up", nil)
		}
		return err
	}
	s.flushIfRegistered(u.id)
	writeSuccess(w, http.StatusAccepted, "sliver buffered until the blob is registered")
	return nil
}

func (s *Server) getSliver(w http.ResponseWriter, r *http.Request) error {
	id, pair, t, err := s.sliverParams(r)
	if err != nil {
		return err
	}
	if s.blocked(id) {
		return errForbidden("sliver")
	}
	shard := uint16(s.deps.Params.ShardOfPair(id, pair))
	// The answer is read into a pooled buffer of the sliver's size (known
	// from the metadata, when held), not into fresh memory per request.
	size := 64 << 10
	if md, ok, err := s.deps.Store.Metadata(id); err == nil && ok {
		if l, err := sliverLimit(s.deps.Params, md, t); err == nil {
			size = int(l)
		}
	}
	buf := s.bufs.get(size)
	defer s.bufs.put(buf)
	b, ok, err := s.deps.Store.AppendSliverBCS((*buf)[:0], shard, t, id)
	if err != nil {
		return err
	}
	if cap(b) == cap(*buf) {
		*buf = b
	}
	if !ok {
		if !s.serves(shard) {
			return errShardNotAssigned(int(shard), s.deps.Chain.Epoch())
		}
		return newError("NOT_FOUND", ReasonSliverNotFound, "the requested sliver is unavailable", nil)
	}
	writeBCS(w, b)
	return nil
}

func (s *Server) serves(shard uint16) bool {
	for _, x := range s.deps.Chain.ServingShards() {
		if x == shard {
			return true
		}
	}
	return false
}

func (s *Server) getSliverStatus(w http.ResponseWriter, r *http.Request) error {
	id, pair, t, err := s.sliverParams(r)
	if err != nil {
		return err
	}
	if s.blocked(id) {
		return errForbidden("sliver")
	}
	shard := uint16(s.deps.Params.ShardOfPair(id, pair))
	st, err := s.sliverStatus(id, shard, t)
	if err != nil {
		return err
	}
	if st == StatusNonexistent && !s.serves(shard) {
		return errShardNotAssigned(int(shard), s.deps.Chain.Epoch())
	}
	writeSuccess(w, http.StatusOK, st)
	return nil
}
