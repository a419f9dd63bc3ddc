package gateway

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"

	"github.com/walrus-go/walrus/internal/httpx"
	"github.com/walrus-go/walrus/quilt"
)

// metadataField is the multipart field of Walrus-native patch metadata.
const metadataField = "_metadata"

// patchMetadata is one element of the _metadata field.
type patchMetadata struct {
	Identifier *string                    `json:"identifier"`
	Tags       map[string]json.RawMessage `json:"tags"`
}

// parseQuiltMetadata decodes a _metadata field: a JSON array of
// {"identifier": …, "tags": {…}}; a tag value that is not a JSON string is
// kept as its JSON text (as Walrus does). Two entries for one identifier
// are an error.
func parseQuiltMetadata(b []byte, into map[string]map[string]string) error {
	var list []patchMetadata
	if err := json.Unmarshal(b, &list); err != nil {
		return fmt.Errorf("_metadata is not a JSON array of {identifier, tags}: %w", err)
	}
	for i, m := range list {
		if m.Identifier == nil {
			return fmt.Errorf("_metadata entry %d has no identifier", i)
		}
		if _, dup := into[*m.Identifier]; dup {
			return fmt.Errorf("duplicate identifier %q in _metadata", clip(*m.Identifier))
		}
		tags := make(map[string]string, len(m.Tags))
		for k, raw := range m.Tags {
			var s string
			if err := json.Unmarshal(raw, &s); err == nil {
				tags[k] = s
			} else {
				tags[k] = string(raw)
			}
		}
		into[*m.Identifier] = tags
	}
	return nil
}

// parseQuiltForm reads a PUT /v1/quilts body: a multipart/form-data form
// whose fields are files named by their identifiers, and an optional
// _metadata field with their tags. Metadata for an identifier without a
// file is ignored (as in Walrus).
func parseQuiltForm(body io.Reader, contentType string) ([]quilt.Patch, *apiError) {
	bad := func(format string, args ...any) *apiError {
		return errf(http.StatusBadRequest, ReasonMalformedRequest, "the request is malformed: "+format, args...)
	}
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return nil, bad("the body must be multipart/form-data with a boundary")
	}
	fail := func(err error) *apiError {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return tooLarge(mbe.Limit)
		}
		var ae *apiError
		if errors.As(err, &ae) {
			return ae // a body too slow (guardBody)
		}
		return bad("failed to parse multipart form: %v", err)
	}
	mr := multipart.NewReader(body, params["boundary"])
	var patches []quilt.Patch
	tags := map[string]map[string]string{}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fail(err)
		}
		name := part.FormName()
		data, err := io.ReadAll(part)
		part.Close()
		if err != nil {
			return nil, fail(err)
		}
		switch {
		case name == "":
			return nil, bad("a form field has no name")
		case name == metadataField:
			if err := parseQuiltMetadata(data, tags); err != nil {
				return nil, bad("%v", err)
			}
		default:
			if err := quilt.ValidateHTTPIdentifier(name); err != nil {
				return nil, bad("%v", err)
			}
			patches = append(patches, quilt.Patch{Identifier: name, Data: data})
		}
	}
	if len(patches) == 0 {
		return nil, bad("no files provided in multipart form")
	}
	for i := range patches {
		if t := tags[patches[i].Identifier]; len(t) > 0 {
			patches[i].Tags = t
		}
	}
	return patches, nil
}

// putQuilt: PUT /v1/quilts (multipart) → {blobStoreResult, storedQuiltBlobs}.
func (s *Server) putQuilt(w http.ResponseWriter, r *http.Request) error {
	limit := s.cfg.MaxQuiltBodySize
	if r.ContentLength > limit {
		return tooLarge(limit)
	}
	sq, claims, done, e := s.admit(r)
	if e != nil {
		return e
	}
	patches, e := parseQuiltForm(http.MaxBytesReader(w, r.Body, limit), r.Header.Get("Content-Type"))
	if e != nil {
		done(false)
		return e
	}
	q, err := quilt.Encode(s.c.Params(), patches)
	if err != nil {
		done(false)
		if errors.Is(err, quilt.ErrTooLarge) {
			return sizeExceeded(ReasonMalformedRequest, "failed to construct quilt: %v", err)
		}
		return errf(http.StatusBadRequest, ReasonMalformedRequest, "failed to construct quilt: %v", err)
	}
	if claims != nil {
		if e := s.auth.checkBody(claims, len(q.Blob)); e != nil {
			done(false)
			return e
		}
	}
	done(true)
	start := s.now()
	qs, err := s.storeQuilt(r.Context(), q, sq)
	if err != nil {
		s.metrics.stores.WithLabelValues("quilt", "error").Observe(s.now().Sub(start).Seconds())
		return s.storeErr(err)
	}
	s.metrics.stores.WithLabelValues("quilt", "ok").Observe(s.now().Sub(start).Seconds())
	s.log.Info("stored quilt", "quilt", qs.Store.BlobID, "patches", len(patches), "epochs", sq.epochs, "took", s.now().Sub(start))
	s.rememberQuilt(qs)
	httpx.WriteJSON(w, http.StatusOK, qs.Result)
	return nil
}
