package gateway

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/client"
	"github.com/walrus-go/walrus/ids"
)

// blobInfo is what the chain says about a blob ID: whether a live
// certified Blob or SharedBlob holds it, and until when.
type blobInfo struct {
	certified bool
	invalid   bool
	expiry    time.Time // end of the last epoch of the longest-lived certified object
}

type blobEntry struct {
	data []byte
	info blobInfo
	// reader, instead of data, for a blob too large to cache: each
	// request streams it (never cached, never held whole in memory).
	reader *client.BlobReader
}

// maxCacheAge is Walrus's Cache-Control max-age for blobs (one day).
const maxCacheAge = 24 * time.Hour

// blobInfo asks the chain about a blob ID (remembered for 2 seconds unless fresh).
func (s *Server) blobInfo(ctx context.Context, id blob.ID, fresh bool) (blobInfo, error) {
	if !fresh {
		if v, ok := s.infos.get(id); ok {
			return v, nil
		}
	}
	av, err := s.c.Availability(ctx, id)
	if err != nil {
		return blobInfo{}, err
	}
	bi := blobInfo{invalid: av.Invalid, certified: av.Certified, expiry: av.Expiry}
	s.infos.put(id, bi, 64, s.now().Add(2*time.Second))
	return bi, nil
}

// cacheDeadline is how long data of a blob with this info may be cached
// (zero: not at all).
func (s *Server) cacheDeadline(bi blobInfo) time.Time {
	if !bi.certified {
		return time.Time{}
	}
	d := s.now().Add(s.cfg.CacheTTL)
	if bi.expiry.Before(d) {
		d = bi.expiry
	}
	return d
}

// cacheControl is the Cache-Control of a successful read: Walrus's one-day
// public caching for certified blobs (never past their expiry), and
// revalidation for anything else.
func (s *Server) cacheControl(bi blobInfo) string {
	if !bi.certified {
		return "no-cache"
	}
	age := maxCacheAge
	if left := bi.expiry.Sub(s.now()); left < age {
		age = max(left, 0)
	}
	return fmt.Sprintf("public, max-age=%d, stale-while-revalidate=3600", int64(age/time.Second))
}

// consistency reads the read options of a GET (both flags: 400).
func consistency(r *http.Request) (client.Consistency, *apiError) {
	q := r.URL.Query()
	strict, e1 := queryBool(q.Get("strict_consistency_check"), "strict_consistency_check")
	skip, e2 := queryBool(q.Get("skip_consistency_check"), "skip_consistency_check")
	switch {
	case e1 != nil:
		return 0, e1
	case e2 != nil:
		return 0, e2
	case strict && skip:
		return 0, errf(http.StatusBadRequest, "INVALID_CONSISTENCY_CHECK", "strict_consistency_check and skip_consistency_check are exclusive")
	case strict:
		return client.ConsistencyStrict, nil
	case skip:
		return client.ConsistencySkip, nil
	}
	return client.ConsistencyDefault, nil
}

// pathBlobID parses a blob ID of the path (400 otherwise).
func pathBlobID(s string) (blob.ID, *apiError) {
	id, err := blob.ParseID(s)
	if err != nil {
		return blob.ID{}, errf(http.StatusBadRequest, ReasonInvalidBlobID, "%q is not a blob ID", clip(s))
	}
	return id, nil
}

func (s *Server) blockedError(id blob.ID) *apiError {
	if s.block.Blocked(id) {
		return errf(http.StatusUnavailableForLegalReasons, ReasonForbiddenBlob, "the requested blob is blocked")
	}
	return nil
}

// getBlob: GET /v1/blobs/{blob_id}, with or without a Range header.
func (s *Server) getBlob(w http.ResponseWriter, r *http.Request) error {
	id, e := pathBlobID(r.PathValue("blob_id"))
	if e != nil {
		return e
	}
	return s.serveBlob(w, r, id, nil)
}

// getBlobSub dispatches GET /v1/blobs/{first}/{second}: by-object-id,
// by-quilt-patch-id and {blob_id}/byte-range share the shape.
func (s *Server) getBlobSub(w http.ResponseWriter, r *http.Request) error {
	first, second := r.PathValue("first"), r.PathValue("second")
	switch {
	case first == "by-object-id":
		return s.getByObject(w, r, second)
	case first == "by-quilt-patch-id":
		return s.getPatchByID(w, r, second)
	case second == "byte-range":
		return s.getByteRange(w, r, first)
	}
	return errf(http.StatusNotFound, ReasonNotFound, "no endpoint GET %s", clip(r.URL.Path))
}

// serveBlob answers a read of a whole blob or of its Range; extra, if set,
// adds headers to a successful answer (the object's attributes).
func (s *Server) serveBlob(w http.ResponseWriter, r *http.Request, id blob.ID, extra func(http.Header)) error {
	if e := s.blockedError(id); e != nil {
		return e
	}
	check, e := consistency(r)
	if e != nil {
		return e
	}
	if h := r.Header.Get("Range"); h != "" {
		// A Range that does not parse is ignored: the whole blob, 200.
		if br, ok := parseRange(h); ok {
			return s.serveRange(w, r, id, br, extra)
		}
	}
	if inm := r.Header.Get("If-None-Match"); inm != "" && etagMatch(inm, id.String()) {
		if bi, err := s.blobInfo(r.Context(), id, false); err == nil && bi.certified {
			s.readHeaders(w, r, id.String(), bi)
			w.WriteHeader(http.StatusNotModified)
			return nil
		}
	}
	ent, err := s.readBlob(r.Context(), id, check)
	if err != nil {
		return readErr(err)
	}
	s.readHeaders(w, r, id.String(), ent.info)
	h := w.Header()
	h.Set("Accept-Ranges", "bytes")
	if extra != nil {
		extra(h)
	}
	if ent.reader != nil {
		return s.streamBlob(w, r, ent, check)
	}
	h.Set("Content-Length", strconv.Itoa(len(ent.data)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(ent.data)
	return nil
}

// streamBlob streams a large blob as it is read (the headers are set). A
// failure before the first byte is returned, to be answered as an error;
// after it the connection is cut (the answer has started: there is no
// error answer to give), so that the client sees a short body, never
// wrong bytes. A strict check spools the blob first (client.ReadTo).
func (s *Server) streamBlob(w http.ResponseWriter, r *http.Request, ent *blobEntry, check client.Consistency) error {
	lw := &lazyWriter{w: w, size: ent.reader.Size()}
	opts := client.ReadOptions{Consistency: check, MemoryBudget: s.readBudget()}
	var err error
	if check == client.ConsistencyStrict {
		_, err = s.c.ReadTo(r.Context(), ent.reader.ID(), lw, opts)
	} else {
		_, err = ent.reader.WriteTo(r.Context(), lw, opts)
	}
	if err == nil && !lw.started && lw.size == 0 {
		lw.start()
	}
	if err != nil {
		if !lw.started {
			w.Header().Del("Content-Length")
			return readErr(err)
		}
		s.log.Warn("streaming a blob failed midway", "blob", ent.reader.ID(), "err", err)
		panic(http.ErrAbortHandler)
	}
	return nil
}

// lazyWriter sends the 200 and Content-Length with the first byte.
type lazyWriter struct {
	w       http.ResponseWriter
	size    uint64
	started bool
}

func (l *lazyWriter) start() {
	l.started = true
	l.w.Header().Set("Content-Length", strconv.FormatUint(l.size, 10))
	l.w.WriteHeader(http.StatusOK)
}

func (l *lazyWriter) Write(p []byte) (int, error) {
	if !l.started {
		l.start()
	}
	return l.w.Write(p)
}

// readBudget is the memory budget of one streamed read.
func (s *Server) readBudget() int64 { return 64 << 20 }

// readBlob returns the blob's bytes: from the cache, or read once however
// many requests want them at the same time (then cached if certified).
// A strict check always reads; a read that skips the check is not cached.
func (s *Server) readBlob(ctx context.Context, id blob.ID, check client.Consistency) (*blobEntry, error) {
	if check != client.ConsistencyStrict {
		if ent, ok := s.blobs.get(id); ok {
			s.metrics.lookup("blob", true)
			return ent, nil
		}
		s.metrics.lookup("blob", false)
	}
	v, err, _ := s.flight.Do(fmt.Sprintf("blob %s %d", id, check), func() (any, error) {
		// The read outlives a caller that goes away: others may wait on it.
		ctx := context.WithoutCancel(ctx)
		var data []byte
		var large *client.BlobReader
		err := s.readRetry(ctx, id, func() error {
			br, err := s.c.OpenBlob(ctx, id)
			if err != nil {
				return err
			}
			if err := s.checkSize(br.Size()); err != nil {
				return err
			}
			if !s.blobs.fits(int64(br.Size())) {
				large = br
				return nil
			}
			data, err = br.ReadAll(ctx, check)
			return err
		})
		if err != nil {
			return nil, err
		}
		if large != nil {
			bi, _ := s.blobInfo(ctx, id, false)
			return &blobEntry{reader: large, info: bi}, nil
		}
		bi, err := s.blobInfo(ctx, id, true)
		if err != nil {
			s.log.Warn("blob info from the chain", "blob", id, "err", err)
		}
		ent := &blobEntry{data: data, info: bi}
		if check != client.ConsistencySkip {
			s.blobs.put(id, ent, int64(len(data)), s.cacheDeadline(bi))
		}
		return ent, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*blobEntry), nil
}

// checkSize applies --max-blob-size (403).
func (s *Server) checkSize(n uint64) error {
	if s.cfg.MaxBlobSize > 0 && n > s.cfg.MaxBlobSize {
		return errf(http.StatusForbidden, ReasonBlobTooLarge, "the blob size exceeds the maximum allowed size: %d", s.cfg.MaxBlobSize)
	}
	return nil
}

// readRetry runs a read; when the nodes say the blob does not exist while
// the chain holds it certified (a read right after a store, before the
// nodes caught up), it asks again for a couple of seconds, then answers
// 503 rather than a 404 that caches would keep.
func (s *Server) readRetry(ctx context.Context, id blob.ID, read func() error) error {
	err := read()
	if !errors.Is(err, client.ErrBlobNotFound) {
		return err
	}
	bi, ierr := s.blobInfo(ctx, id, true)
	if ierr != nil || !bi.certified {
		return err
	}
	for range 4 {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
		if err = read(); !errors.Is(err, client.ErrBlobNotFound) {
			return err
		}
	}
	return unavailable("the blob is certified but the storage nodes do not serve it yet; retry shortly")
}

// readHeaders sets the headers of a successful read (Walrus's): nosniff,
// caching, the ETag and the content type mirrored from the request.
func (s *Server) readHeaders(w http.ResponseWriter, r *http.Request, etag string, bi blobInfo) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", s.cacheControl(bi))
	h.Set("ETag", `"`+etag+`"`)
	h.Set("Content-Type", contentType(r))
}

// contentType mirrors the request: its Accept if that names one type
// without wildcards, else (GET) its Content-Type, else octet-stream.
func contentType(r *http.Request) string {
	if a := r.Header.Get("Accept"); a != "" && !strings.Contains(a, "*") {
		if t, _, _ := strings.Cut(a, ","); validHeaderValue(strings.TrimSpace(t)) && strings.TrimSpace(t) != "" {
			return strings.TrimSpace(t)
		}
	}
	if ct := r.Header.Get("Content-Type"); r.Method == http.MethodGet && ct != "" && validHeaderValue(ct) {
		return ct
	}
	return "application/octet-stream"
}

// validHeaderValue reports whether v may be sent as a header value
// (visible ASCII, spaces and tabs).
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < ' ' && c != '\t') || c >= 0x7f {
			return false
		}
	}
	return true
}

// etagMatch reports whether an If-None-Match value names the tag.
func etagMatch(inm, tag string) bool {
	for _, t := range strings.Split(inm, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || strings.Trim(t, `"`) == tag {
			return true
		}
	}
	return false
}

// serveRange answers a Range request: 206 with the bytes, or 416 when
// no byte of the range is in the blob.
func (s *Server) serveRange(w http.ResponseWriter, r *http.Request, id blob.ID, br byteRange, extra func(http.Header)) error {
	var data []byte
	var size uint64
	var bi blobInfo
	if ent, ok := s.blobs.get(id); ok {
		s.metrics.lookup("blob", true)
		size, bi = uint64(len(ent.data)), ent.info
		start, n, ok := br.resolve(size)
		if !ok {
			return unsatisfiable(size)
		}
		data = ent.data[start : start+n]
	} else {
		s.metrics.lookup("blob", false)
		var start, n uint64
		unsat := false
		err := s.readRetry(r.Context(), id, func() error {
			rd, err := s.c.OpenBlob(r.Context(), id)
			if err != nil {
				return err
			}
			size = rd.Size()
			if err := s.checkSize(size); err != nil {
				return err
			}
			var ok bool
			if start, n, ok = br.resolve(size); !ok {
				unsat = true
				return nil
			}
			data, err = rd.ReadRange(r.Context(), start, n)
			return err
		})
		if err != nil {
			return readErr(err)
		}
		if unsat {
			return unsatisfiable(size)
		}
		bi, _ = s.blobInfo(r.Context(), id, false)
	}
	start, n, _ := br.resolve(size)
	s.readHeaders(w, r, id.String(), bi)
	h := w.Header()
	h.Set("Accept-Ranges", "bytes")
	if extra != nil {
		extra(h)
	}
	h.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, start+n-1, size))
	h.Set("Content-Length", strconv.FormatUint(n, 10))
	w.WriteHeader(http.StatusPartialContent)
	_, _ = w.Write(data)
	return nil
}

// unsatisfiable is the 416 of a range outside a blob of size bytes, with
// Content-Range: bytes */size.
func unsatisfiable(size uint64) *apiError {
	e := errf(http.StatusRequestedRangeNotSatisfiable, ReasonInvalidByteRange, "the range is outside the blob of %d bytes", size)
	e.ContentRange = fmt.Sprintf("bytes */%d", size)
	return e
}

// getByteRange: GET /v1/blobs/{blob_id}/byte-range?start=&length= (200,
// cacheable, ETag "blobid-start-length").
func (s *Server) getByteRange(w http.ResponseWriter, r *http.Request, idText string) error {
	id, e := pathBlobID(idText)
	if e != nil {
		return e
	}
	if e := s.blockedError(id); e != nil {
		return e
	}
	q := r.URL.Query()
	start, err1 := strconv.ParseUint(q.Get("start"), 10, 64)
	length, err2 := strconv.ParseUint(q.Get("length"), 10, 64)
	switch {
	case err1 != nil || err2 != nil:
		return errf(http.StatusBadRequest, ReasonInvalidByteRange, "invalid byte range parameters: start and length must be numbers")
	case length == 0:
		return errf(http.StatusBadRequest, ReasonInvalidByteRange, "invalid byte range parameters: length must be greater than 0")
	case start+length < start:
		return errf(http.StatusBadRequest, ReasonInvalidByteRange, "invalid byte range parameters: start + length overflows")
	}
	var data []byte
	var bi blobInfo
	if ent, ok := s.blobs.get(id); ok {
		s.metrics.lookup("blob", true)
		if start+length > uint64(len(ent.data)) {
			return unsatisfiable(uint64(len(ent.data)))
		}
		data, bi = ent.data[start:start+length], ent.info
	} else {
		s.metrics.lookup("blob", false)
		var size uint64
		err := s.readRetry(r.Context(), id, func() error {
			rd, err := s.c.OpenBlob(r.Context(), id)
			if err != nil {
				return err
			}
			size = rd.Size()
			if err := s.checkSize(size); err != nil {
				return err
			}
			data, err = rd.ReadRange(r.Context(), start, length)
			return err
		})
		if errors.Is(err, client.ErrRangeNotSatisfiable) {
			return unsatisfiable(size)
		}
		if err != nil {
			return readErr(err)
		}
		bi, _ = s.blobInfo(r.Context(), id, false)
	}
	s.readHeaders(w, r, fmt.Sprintf("%s-%d-%d", id, start, length), bi)
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(data)
	return nil
}

// getByObject: GET /v1/blobs/by-object-id/{object_id}: the blob of a Blob
// or SharedBlob object, with its allow-listed attributes as headers.
func (s *Server) getByObject(w http.ResponseWriter, r *http.Request, text string) error {
	oid, err := ids.ParseObjectID(text)
	if err != nil {
		return errf(http.StatusBadRequest, ReasonInvalidObjectID, "%q is not an object ID", clip(text))
	}
	b, err := s.c.BlobByObject(r.Context(), oid)
	if err != nil {
		return readErr(err)
	}
	attrs, err := s.c.BlobAttributes(r.Context(), oid)
	if err != nil {
		return readErr(err)
	}
	return s.serveBlob(w, r, b.BlobID, func(h http.Header) {
		for _, a := range attrs {
			s.setAttributeHeader(h, a.Key, a.Value, false)
		}
	})
}

// reservedHeaders are never taken from attributes or tags: they carry the
// protocol of the answer, not its content.
var reservedHeaders = map[string]bool{"Content-Length": true, "Content-Range": true, "Transfer-Encoding": true, "Connection": true,
	"Etag": true, "Cache-Control": true, "X-Content-Type-Options": true, "Accept-Ranges": true, "Access-Control-Allow-Origin": true,
	"X-Quilt-Patch-Identifier": true, "Set-Cookie": true, "Trailer": true, "Upgrade": true, "Keep-Alive": true}

// setAttributeHeader sets a header from a blob attribute or patch tag if
// its name is allow-listed (or any is allowed), both name and value are
// valid, and it is not one the aggregator owns. An attribute replaces the
// aggregator's default Content-Type.
func (s *Server) setAttributeHeader(h http.Header, key, value string, any bool) {
	if !validHeaderName(key) || !validHeaderValue(value) {
		return
	}
	name := http.CanonicalHeaderKey(key)
	if reservedHeaders[name] || (!any && !s.allowed[name]) {
		return
	}
	h.Set(name, value)
}
