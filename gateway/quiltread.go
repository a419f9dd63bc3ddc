package gateway

import (
	"context"
	"net/http"
	"strconv"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/client"
	"github.com/walrus-go/walrus/internal/httpx"
	"github.com/walrus-go/walrus/quilt"
)

type patchEntry struct {
	patch quilt.Patch
	info  blobInfo
}

type indexEntry struct {
	index *quilt.Index
	info  blobInfo
}

// quiltReader returns an open reader of the quilt (its verified metadata),
// kept for the next patch reads.
func (s *Server) quiltReader(ctx context.Context, id blob.ID) (*client.QuiltReader, error) {
	if q, ok := s.readers.get(id); ok {
		return q, nil
	}
	v, err, _ := s.flight.Do("quilt "+id.String(), func() (any, error) {
		ctx := context.WithoutCancel(ctx)
		var q *client.QuiltReader
		err := s.readRetry(ctx, id, func() error {
			var err error
			q, err = s.c.OpenQuilt(ctx, id)
			return err
		})
		if err != nil {
			return nil, err
		}
		if bi, err := s.blobInfo(ctx, id, false); err == nil {
			// The metadata holds two hashes per shard.
			s.readers.put(id, q, int64(64*s.c.Params().N()+256), s.cacheDeadline(bi))
		}
		return q, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*client.QuiltReader), nil
}

// quiltIndex returns the quilt's index and what the chain says of it.
func (s *Server) quiltIndex(ctx context.Context, id blob.ID) (*indexEntry, error) {
	if e, ok := s.indexes.get(id); ok {
		s.metrics.lookup("index", true)
		return e, nil
	}
	s.metrics.lookup("index", false)
	q, err := s.quiltReader(ctx, id)
	if err != nil {
		return nil, err
	}
	ix, err := q.Index(ctx)
	if err != nil {
		return nil, err
	}
	bi, _ := s.blobInfo(ctx, id, false)
	e := &indexEntry{index: ix, info: bi}
	s.indexes.put(id, e, indexSize(ix), s.cacheDeadline(bi))
	return e, nil
}

func indexSize(ix *quilt.Index) int64 {
	n := int64(64)
	for _, e := range ix.Entries {
		n += int64(len(e.Identifier)) + 32
		for k, v := range e.Tags {
			n += int64(len(k) + len(v) + 16)
		}
	}
	return n
}

// patch returns the patch in the columns of pid.
func (s *Server) patch(ctx context.Context, pid quilt.PatchID) (*patchEntry, error) {
	if e, ok := s.patches.get(pid); ok {
		s.metrics.lookup("patch", true)
		return e, nil
	}
	s.metrics.lookup("patch", false)
	v, err, _ := s.flight.Do("patch "+pid.String(), func() (any, error) {
		ctx := context.WithoutCancel(ctx)
		q, err := s.quiltReader(ctx, pid.Quilt)
		if err != nil {
			return nil, err
		}
		pt, err := q.PatchAt(ctx, pid.Start, pid.End)
		if err != nil {
			return nil, err
		}
		bi, _ := s.blobInfo(ctx, pid.Quilt, false)
		e := &patchEntry{patch: pt, info: bi}
		s.patches.put(pid, e, int64(len(pt.Data)+len(pt.Identifier)+64), s.cacheDeadline(bi))
		return e, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*patchEntry), nil
}

// parsePatchPath parses a patch ID of a path and checks that its column
// range fits a quilt of the network (400 otherwise).
func parsePatchPath(text string, p blob.Params) (quilt.PatchID, *apiError) {
	pid, err := quilt.ParsePatchID(text)
	if err == nil {
		err = pid.Check(p)
	}
	if err != nil {
		return quilt.PatchID{}, errf(http.StatusBadRequest, ReasonInvalidPatchID, "%q is not a quilt patch ID of this network", clip(text))
	}
	return pid, nil
}

// getPatchByID: GET /v1/blobs/by-quilt-patch-id/{quilt_patch_id}.
func (s *Server) getPatchByID(w http.ResponseWriter, r *http.Request, text string) error {
	pid, e := parsePatchPath(text, s.c.Params())
	if e != nil {
		return e
	}
	if e := s.blockedError(pid.Quilt); e != nil {
		return e
	}
	pe, err := s.patch(r.Context(), pid)
	if err != nil {
		return readErr(err)
	}
	s.servePatch(w, r, pe, pid.String())
	return nil
}

// getPatchByIdentifier: GET /v1/blobs/by-quilt-id/{quilt_id}/{identifier}
// (the identifier may hold slashes, escaped or not).
func (s *Server) getPatchByIdentifier(w http.ResponseWriter, r *http.Request) error {
	id, e := pathBlobID(r.PathValue("quilt_id"))
	if e != nil {
		return e
	}
	if e := s.blockedError(id); e != nil {
		return e
	}
	ie, err := s.quiltIndex(r.Context(), id)
	if err != nil {
		return readErr(err)
	}
	entry, err := ie.index.Lookup(r.PathValue("identifier"))
	if err != nil {
		return readErr(err)
	}
	pe, err := s.patch(r.Context(), entry.PatchID(id))
	if err != nil {
		return readErr(err)
	}
	s.servePatch(w, r, pe, id.String())
	return nil
}

// servePatch writes a patch: its bytes, Walrus's read headers with the
// ETag, its identifier in X-Quilt-Patch-Identifier and its tags as
// headers (allow-listed ones, or all with AllowQuiltPatchTagsInResponse).
func (s *Server) servePatch(w http.ResponseWriter, r *http.Request, e *patchEntry, etag string) {
	s.readHeaders(w, r, etag, e.info)
	h := w.Header()
	for k, v := range e.patch.Tags {
		s.setAttributeHeader(h, k, v, s.cfg.AllowQuiltPatchTagsInResponse)
	}
	if validHeaderValue(e.patch.Identifier) {
		h.Set("X-Quilt-Patch-Identifier", e.patch.Identifier)
	}
	h.Set("Content-Length", strconv.Itoa(len(e.patch.Data)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(e.patch.Data)
}

// listPatches: GET /v1/quilts/{quilt_id}/patches →
// [{"identifier","patch_id","tags"}].
func (s *Server) listPatches(w http.ResponseWriter, r *http.Request) error {
	id, e := pathBlobID(r.PathValue("quilt_id"))
	if e != nil {
		return e
	}
	if e := s.blockedError(id); e != nil {
		return e
	}
	ie, err := s.quiltIndex(r.Context(), id)
	if err != nil {
		return readErr(err)
	}
	w.Header().Set("Cache-Control", s.cacheControl(ie.info))
	httpx.WriteJSON(w, http.StatusOK, ie.index.List(id))
	return nil
}
