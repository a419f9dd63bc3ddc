package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"time"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/client"
	"github.com/walrus-go/walrus/ids"
	"github.com/walrus-go/walrus/internal/httpx"
	"github.com/walrus-go/walrus/quilt"
)

// storeQuery is the publisher's query (Walrus's PublisherQuery).
type storeQuery struct {
	epochs       uint32
	permanent    bool
	force        bool
	reuse        bool
	share        bool
	sendObjectTo *ids.Address
}

// publisherParams are the query parameters a store accepts; any other is a
// 400 (Walrus denies unknown fields: a misspelt epochs must not silently
// store for one epoch).
var publisherParams = map[string]bool{"epochs": true, "permanent": true, "deletable": true, "force": true,
	"send_object_to": true, "share": true, "encoding_type": true, "quilt_version": true, "reuse_resources": true}

// parseStoreQuery reads and checks the publisher's query.
func parseStoreQuery(q url.Values, defEpochs uint32) (storeQuery, *apiError) {
	sq := storeQuery{epochs: defEpochs}
	for k, v := range q {
		if !publisherParams[k] {
			return sq, errf(http.StatusBadRequest, ReasonInvalidParameter, "unknown query parameter %q", clip(k))
		}
		if len(v) > 1 {
			return sq, errf(http.StatusBadRequest, ReasonInvalidParameter, "query parameter %q given %d times", k, len(v))
		}
	}
	var e *apiError
	if v := q.Get("epochs"); v != "" {
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil || n == 0 {
			return sq, errf(http.StatusBadRequest, ReasonInvalidParameter, "invalid epochs %q: want a number > 0", clip(v))
		}
		sq.epochs = uint32(n)
	}
	var deletable bool
	for _, b := range []struct {
		name string
		to   *bool
	}{{"permanent", &sq.permanent}, {"deletable", &deletable}, {"force", &sq.force}, {"share", &sq.share}, {"reuse_resources", &sq.reuse}} {
		if *b.to, e = queryBool(q.Get(b.name), b.name); e != nil {
			return sq, e
		}
	}
	if deletable && sq.permanent {
		return sq, errf(http.StatusBadRequest, ReasonInvalidBlobPersistence, "the blob cannot be both deletable and permanent")
	}
	if v := q.Get("send_object_to"); v != "" {
		a, err := ids.ParseAddress(v)
		if err != nil {
			return sq, errf(http.StatusBadRequest, ReasonInvalidParameter, "invalid send_object_to %q: %v", clip(v), err)
		}
		sq.sendObjectTo = &a
	}
	if sq.share && sq.sendObjectTo != nil {
		return sq, errf(http.StatusBadRequest, ReasonInvalidParameter, "send_object_to and share are exclusive")
	}
	if v := q.Get("encoding_type"); v != "" && v != "RS2" {
		return sq, errf(http.StatusBadRequest, ReasonInvalidParameter, "unsupported encoding_type %q (RS2 only)", clip(v))
	}
	switch q.Get("quilt_version") {
	case "", "v1", "V1", "1":
	default:
		return sq, errf(http.StatusBadRequest, ReasonInvalidParameter, "unsupported quilt_version %q (v1 only)", clip(q.Get("quilt_version")))
	}
	return sq, nil
}

// queryBool parses a boolean query value ("" is false).
func queryBool(v, name string) (bool, *apiError) {
	switch v {
	case "":
		return false, nil
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, errf(http.StatusBadRequest, ReasonInvalidParameter, "invalid %s %q: want true or false", name, clip(v))
}

// options turns the query into store options for a sub-wallet: the Blob
// object goes to send_object_to, else is shared, else goes to the main
// wallet (or stays to be burnt with BurnAfterStore).
func (s *Server) options(sq storeQuery) client.StoreOptions {
	opts := client.StoreOptions{Epochs: sq.epochs, Deletable: !sq.permanent, Force: sq.force, IgnoreResources: !sq.reuse,
		Share: sq.share, SendObjectTo: sq.sendObjectTo, MemoryBudget: s.storeBudget()}
	if !sq.share && sq.sendObjectTo == nil && !s.cfg.BurnAfterStore {
		main := s.c.Address()
		opts.SendObjectTo = &main
	}
	return opts
}

// storeBudget is one store's share of the publisher's memory budget.
func (s *Server) storeBudget() int64 {
	return max(s.cfg.MemoryBudget/int64(max(1, s.cfg.PublisherConcurrency)), 64<<20)
}

// admit parses the query and applies the JWT of a store; done must be
// called with whether the store was attempted (a token is spent only then).
func (s *Server) admit(r *http.Request) (sq storeQuery, claims *Claims, done func(attempted bool), e *apiError) {
	done = func(bool) {}
	if sq, e = parseStoreQuery(r.URL.Query(), s.cfg.DefaultEpochs); e != nil {
		return
	}
	if s.auth == nil {
		return
	}
	tok, ok := bearer(r)
	if !ok {
		e = authError(http.StatusUnauthorized, ReasonMissingToken, "this publisher needs an Authorization: Bearer token")
		return
	}
	if claims, e = s.auth.parse(tok); e != nil {
		return
	}
	if e = s.auth.use(claims); e != nil {
		return
	}
	done = func(attempted bool) {
		if !attempted {
			s.auth.forget(claims)
		}
	}
	if e = s.auth.checkUpload(claims, uploadRequest{epochs: sq.epochs, sendObjectTo: sq.sendObjectTo, contentLength: r.ContentLength}); e != nil {
		done(false)
		done = func(bool) {}
	}
	return
}

// readBody reads a request body of at most limit bytes: 403 SIZE_EXCEEDED
// from the Content-Length before reading, or as soon as more arrives.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, *apiError) {
	if r.ContentLength > limit {
		return nil, tooLarge(limit)
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, tooLarge(limit)
	}
	var ae *apiError
	if errors.As(err, &ae) {
		return nil, ae // a body too slow (guardBody)
	}
	if err != nil {
		return nil, errf(http.StatusBadRequest, ReasonMalformedRequest, "reading the request body: %v", err)
	}
	return b, nil
}

// tooLarge is the answer to a request body over limit bytes: 403
// SIZE_EXCEEDED, reason BODY_TOO_LARGE, with the limit in the metadata.
func tooLarge(limit int64) *apiError {
	e := errf(http.StatusForbidden, ReasonBodyTooLarge, "the request body is larger than the limit of %d bytes", limit)
	e.Metadata = map[string]any{"limit": limit}
	return e
}

// putBlob: PUT /v1/blobs → Walrus's BlobStoreResult. The body is spooled
// to a temporary file (never held in memory) and stored from there in the
// client's bounded memory.
func (s *Server) putBlob(w http.ResponseWriter, r *http.Request) error {
	if r.ContentLength > s.cfg.MaxBodySize {
		return tooLarge(s.cfg.MaxBodySize)
	}
	sq, claims, done, e := s.admit(r)
	if e != nil {
		return e
	}
	f, size, e := s.spoolBody(w, r, s.cfg.MaxBodySize)
	if e == nil && claims != nil {
		e = s.auth.checkBody(claims, int(min(size, 1<<62)))
	}
	if e != nil {
		if f != nil {
			f.Close()
		}
		done(false)
		return e
	}
	if err := s.c.CheckSize(size); err != nil {
		f.Close()
		done(false)
		return errf(http.StatusForbidden, ReasonBlobTooLarge, "%v", err)
	}
	done(true)
	start := s.now()
	opts := s.options(sq)
	res, err := s.store(r.Context(), func(ctx context.Context, c *client.Client) (*client.StoreResult, error) {
		o := opts
		var finish func(*client.StoreResult)
		o.CheckID, finish = s.reuseCheck(ctx, opts, false)
		res, err := c.StoreReaderAt(ctx, f, size, o)
		if ru := (*reused)(nil); errors.As(err, &ru) {
			res, err = ru.result, nil
		}
		finish(res)
		return res, err
	})
	if err != nil {
		// The uploads may still read the spool in the background only
		// after a success; on failure nothing reads it any more.
		f.Close()
		s.metrics.stores.WithLabelValues("blob", "error").Observe(s.now().Sub(start).Seconds())
		var ae *apiError
		if errors.As(err, &ae) {
			return ae // the gateway's own answer (the blocklist's, through CheckID), not a refused store to log
		}
		return s.storeErr(err)
	}
	s.metrics.stores.WithLabelValues("blob", "ok").Observe(s.now().Sub(start).Seconds())
	if res.Result.MarkedInvalid != nil {
		f.Close()
		return fmt.Errorf("blob %s was marked invalid", res.BlobID)
	}
	if res.Result.AlreadyCertified != nil && res.Result.AlreadyCertified.Object != nil {
		s.log.Info("reused an owned blob", "blob", res.BlobID, "object", res.ObjectID, "size", size, "epochs", sq.epochs)
	} else {
		s.log.Info("stored blob", "blob", res.BlobID, "size", size, "epochs", sq.epochs, "took", s.now().Sub(start))
	}
	if s.blobs.fits(size) {
		if data, err := readAllAt(f, size); err == nil {
			s.remember(res, data)
		}
	}
	closeAfter(res.Tail, f)
	httpx.WriteJSON(w, http.StatusOK, res.Result)
	return nil
}

// closeAfter closes f once the store's background tail (which reads it)
// is done.
func closeAfter(t *client.Tail, f *os.File) {
	if t == nil {
		f.Close()
		return
	}
	go func() {
		<-t.Done()
		f.Close()
	}()
}

// spoolBody copies the request body, of at most limit bytes, into an
// unlinked temporary file.
func (s *Server) spoolBody(w http.ResponseWriter, r *http.Request, limit int64) (*os.File, int64, *apiError) {
	f, err := os.CreateTemp(s.cfg.TempDir, "walrus-publisher-*")
	if err != nil {
		return nil, 0, errf(http.StatusInternalServerError, ReasonInternal, "spooling the body: %v", err)
	}
	_ = os.Remove(f.Name())
	n, err := io.Copy(f, http.MaxBytesReader(w, r.Body, limit))
	var mbe *http.MaxBytesError
	var ae *apiError
	switch {
	case errors.As(err, &mbe):
		f.Close()
		return nil, 0, tooLarge(limit)
	case errors.As(err, &ae):
		f.Close()
		return nil, 0, ae // a body too slow (guardBody)
	case err != nil:
		f.Close()
		return nil, 0, errf(http.StatusBadRequest, ReasonMalformedRequest, "reading the request body: %v", err)
	}
	return f, n, nil
}

func readAllAt(f *os.File, size int64) ([]byte, error) {
	b := make([]byte, size)
	if _, err := f.ReadAt(b, 0); err != nil && !(errors.Is(err, io.EOF) && size == 0) {
		return nil, err
	}
	return b, nil
}

// store runs a store on a free sub-wallet; when the sub-wallet cannot pay,
// it is refilled and the store tried once more. The store outlives a
// client that hangs up (its WAL is spent either way).
func (s *Server) store(ctx context.Context, do func(context.Context, *client.Client) (*client.StoreResult, error)) (*client.StoreResult, error) {
	ctx = context.WithoutCancel(ctx)
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	c, err := s.wallets.acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer s.wallets.release(c)
	res, err := do(ctx, c)
	if errors.Is(err, client.ErrInsufficientBalance) {
		if rerr := s.wallets.refill(ctx, c); rerr == nil {
			res, err = do(ctx, c)
		}
	}
	if err == nil && s.cfg.BurnAfterStore && res.Result.NewlyCreated != nil && res.SharedObjectID == nil {
		if _, err := c.OwnedBlob(ctx, res.ObjectID); err == nil {
			if err := c.BurnBlobs(ctx, []ids.ObjectID{res.ObjectID}); err != nil {
				s.log.Warn("burning a stored blob", "object", res.ObjectID, "err", err)
			}
		}
	}
	return res, err
}

// remember puts the bytes of a blob just stored in the cache, so that a
// read right after the store never misses (the read-after-write race).
func (s *Server) remember(res *client.StoreResult, data []byte) {
	if _, ok := res.Result.EndEpoch(); !ok {
		return
	}
	bi, err := s.blobInfo(context.Background(), res.BlobID, true)
	if err != nil || !bi.certified {
		// The chain is unreachable: the store itself certified the blob.
		bi = blobInfo{certified: true, expiry: s.now().Add(s.cfg.CacheTTL)}
	}
	s.blobs.put(res.BlobID, &blobEntry{data: data, info: bi}, int64(len(data)), s.cacheDeadline(bi))
}

// storeQuilt stores a quilt on a sub-wallet; a blocked quilt is refused
// before anything is paid.
func (s *Server) storeQuilt(ctx context.Context, q *quilt.Quilt, sq storeQuery) (*client.QuiltStore, error) {
	opts := s.options(sq)
	var qs *client.QuiltStore
	_, err := s.store(ctx, func(ctx context.Context, c *client.Client) (*client.StoreResult, error) {
		o := opts
		var finish func(*client.StoreResult)
		o.CheckID, finish = s.reuseCheck(ctx, opts, true)
		var err error
		qs, err = c.StoreBuiltQuilt(ctx, q, o)
		if ru := (*reused)(nil); errors.As(err, &ru) {
			qs, err = reusedQuilt(q, ru.result), nil
		}
		var res *client.StoreResult
		if qs != nil {
			res = qs.Store
		}
		finish(res)
		return res, err
	})
	return qs, err
}

// reusedQuilt is the answer to a quilt store that reuses an owned object
// (res): the quilt's patches with their patch IDs in it.
func reusedQuilt(q *quilt.Quilt, res *client.StoreResult) *client.QuiltStore {
	qs := &client.QuiltStore{Store: res, Quilt: q, Result: client.QuiltStoreResult{BlobStoreResult: res.Result}}
	qs.Result.StoredQuiltBlobs = make([]client.StoredQuiltPatch, len(q.Index.Entries))
	for i, e := range q.Index.Entries {
		qs.Result.StoredQuiltBlobs[i] = client.StoredQuiltPatch{Identifier: e.Identifier, QuiltPatchID: e.PatchID(res.BlobID).String()}
	}
	return qs
}

// checkNotBlocked is the stores' CheckID: the blocklist's answer as an error.
func (s *Server) checkNotBlocked(id blob.ID) error {
	if e := s.blockedError(id); e != nil {
		return e
	}
	return nil
}

// rememberQuilt caches the index and patches of a quilt just stored.
func (s *Server) rememberQuilt(qs *client.QuiltStore) {
	if _, ok := qs.Store.Result.EndEpoch(); !ok {
		return
	}
	bi, err := s.blobInfo(context.Background(), qs.Store.BlobID, true)
	if err != nil || !bi.certified {
		bi = blobInfo{certified: true, expiry: s.now().Add(s.cfg.CacheTTL)}
	}
	id, deadline := qs.Store.BlobID, s.cacheDeadline(bi)
	ix := qs.Quilt.Index
	s.indexes.put(id, &indexEntry{index: &ix, info: bi}, indexSize(&ix), deadline)
	pts, err := qs.Quilt.Patches()
	if err != nil {
		return
	}
	for i, pt := range pts {
		s.patches.put(ix.Entries[i].PatchID(id), &patchEntry{patch: pt, info: bi}, int64(len(pt.Data)+len(pt.Identifier)+64), deadline)
	}
	s.blobs.put(id, &blobEntry{data: qs.Quilt.Blob, info: bi}, int64(len(qs.Quilt.Blob)), deadline)
}
