package gateway

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/walrus-go/walrus/client"
	"github.com/walrus-go/walrus/internal/httpx"
	"github.com/walrus-go/walrus/quilt"
)

// Error domains (Walrus's).
const (
	DomainDaemon = "daemon.walrus.space"
	DomainAuth   = "auth.publisher.walrus.space"
)

// Reasons: the ErrorInfo.reason of the gateway's errors. Those marked
// Walrus are Walrus's own.
const (
	ReasonBlobNotFound           = "BLOB_NOT_FOUND"             // Walrus
	ReasonQuiltPatchNotFound     = "QUILT_PATCH_NOT_FOUND"      // Walrus
	ReasonForbiddenBlob          = "FORBIDDEN_BLOB"             // Walrus
	ReasonBlobTooLarge           = "BLOB_TOO_LARGE"             // Walrus
	ReasonInvalidByteRange       = "INVALID_BYTE_RANGE"         // Walrus
	ReasonInsufficientConfirm    = "INSUFFICIENT_CONFIRMATIONS" // Walrus
	ReasonMalformedRequest       = "MALFORMED_REQUEST"          // Walrus
	ReasonInvalidBlobPersistence = "INVALID_BLOB_PERSISTENCE"   // Walrus
	ReasonInvalidToken           = "INVALID_TOKEN"              // Walrus (auth)
	ReasonInvalidSignature       = "INVALID_SIGNATURE"          // Walrus (auth)
	ReasonExpiredSignature       = "EXPIRED_SIGNATURE"          // Walrus (auth)
	ReasonInvalidExpiration      = "INVALID_EXPIRATION"         // Walrus (auth)
	ReasonInvalidEpochs          = "INVALID_EPOCHS"             // Walrus (auth)
	ReasonEpochsAboveMax         = "EPOCHS_ABOVE_MAX"           // Walrus (auth)
	ReasonInvalidSendObjectTo    = "INVALID_SEND_OBJECT_TO"     // Walrus (auth)
	ReasonMissingSendObjectTo    = "MISSING_SEND_OBJECT_TO"     // Walrus (auth)
	ReasonInvalidSizes           = "INVALID_SIZES"              // Walrus (auth)
	ReasonMaxSizeExceeded        = "MAX_SIZE_EXCEEDED"          // Walrus (auth)
	ReasonSizeIncorrect          = "SIZE_INCORRECT"             // Walrus (auth)
	ReasonTokenAlreadyUsed       = "TOKEN_ALREADY_USED"         // Walrus (auth)
	ReasonMissingToken           = "MISSING_TOKEN"              // no Authorization: Bearer header
	ReasonInvalidBlobID          = "INVALID_BLOB_ID"            // a path blob or quilt ID that does not parse
	ReasonInvalidObjectID        = "INVALID_OBJECT_ID"          // a path object ID that does not parse
	ReasonInvalidPatchID         = "INVALID_QUILT_PATCH_ID"     // a path patch ID that does not parse or fit
	ReasonInvalidParameter       = "INVALID_PARAMETER"          // a query parameter that does not parse
	ReasonBodyTooLarge           = "BODY_TOO_LARGE"             // a request body over the limit (403 SIZE_EXCEEDED)
	ReasonBlobInvalid            = "BLOB_INVALID"               // the blob ID was declared invalid
	ReasonTooManyRequests        = "TOO_MANY_REQUESTS"          // over the concurrency limits (429)
	ReasonUnavailable            = httpx.ReasonUnavailable      // Walrus (domain global): retry later
	ReasonInternal               = httpx.ReasonInternal         // Walrus (domain global)
	ReasonNotFound               = "NOT_FOUND"                  // no such endpoint
	ReasonMethodNotAllowed       = "METHOD_NOT_ALLOWED"         // a known endpoint, another method (405)
)

// statusUnimplemented is the AIP-193 status of a 405 (google.rpc.Code
// UNIMPLEMENTED: the operation is not supported). Walrus's table has no
// 405, so no Walrus client parses this answer whatever its status; the
// status names the failure for everyone else.
const statusUnimplemented = "UNIMPLEMENTED"

// methodNotAllowed is the answer to a method a known route does not
// serve: 405 with the route's methods in Allow (RFC 9110 15.5.6).
func methodNotAllowed(method, path, allow string) *apiError {
	e := errf(http.StatusBadRequest, ReasonMethodNotAllowed, "%s is not allowed on %s; allowed: %s", clip(method), clip(path), allow)
	e.Code, e.Status, e.Allow = http.StatusMethodNotAllowed, statusUnimplemented, allow
	return e
}

// aipError names httpx.Error for embedding in apiError: embedded under
// its own name, Error, the field would hide the Error method that makes
// apiError an error.
type aipError = httpx.Error

// apiError is an error answer: an HTTP status with its AIP-193 body
// (httpx.Error, the node API's too), and the headers only the gateway's
// answers carry.
type apiError struct {
	aipError
	// ContentRange is set on a 416 ("bytes */SIZE").
	ContentRange string
	// Allow is set on a 405: the methods of the route.
	Allow string
	// CloseConn closes the connection after the answer (a 408: the rest
	// of the body is not read).
	CloseConn bool
}

// statusFor returns the AIP-193 status of an answer built with an HTTP
// code and a reason. Most codes have one status in Walrus's table, or a
// first one (INVALID_ARGUMENT for 400, PERMISSION_DENIED for 403); the
// exception is size. Walrus answers a body, blob or quilt above a limit
// with SIZE_EXCEEDED, which its table pairs with 403 FORBIDDEN (its
// BLOB_TOO_LARGE on reads and stores): a 403 with a size reason is sent
// as 403 SIZE_EXCEEDED (sizeExceeded builds one whatever the reason).
// Walrus has no 413, and the gateway passes 403 for sizes; an answer
// built with HTTP's 413 nonetheless becomes 403 SIZE_EXCEEDED rather than
// a pair Walrus clients refuse.
func statusFor(code int, reason string) string {
	switch {
	case code == http.StatusRequestEntityTooLarge,
		code == http.StatusForbidden && (reason == ReasonBlobTooLarge || reason == ReasonBodyTooLarge):
		return httpx.StatusSizeExceeded
	}
	return httpx.StatusFor(code)
}

// newError builds an answer in the daemon's domain. Its status, and the
// code sent, are statusFor's (httpx.New takes the code from the status).
func newError(code int, reason, msg string) *apiError {
	e := &apiError{aipError: *httpx.New(statusFor(code, reason), reason, msg)}
	e.Domain = DomainDaemon
	return e
}

func errf(code int, reason, format string, args ...any) *apiError {
	return newError(code, reason, fmt.Sprintf(format, args...))
}

// sizeExceeded is Walrus's answer to a body, blob or quilt above a limit,
// 403 SIZE_EXCEEDED, whatever its reason: a quilt too large to build keeps
// Walrus's MALFORMED_REQUEST, which alone would give PERMISSION_DENIED.
func sizeExceeded(reason, format string, args ...any) *apiError {
	e := errf(http.StatusForbidden, reason, format, args...)
	e.Status = httpx.StatusSizeExceeded
	return e
}

// write sends the error. Error answers are never cached (a 404 cached by a
// browser or CDN right before a blob becomes readable is the read-after-write
// complaint of Walrus users), and drop the headers a failed read may have
// set for the answer it meant to send.
func (e *apiError) write(w http.ResponseWriter) {
	h := w.Header()
	for _, k := range []string{"ETag", "Content-Range", "Content-Disposition", "Content-Encoding", "X-Quilt-Patch-Identifier"} {
		h.Del(k)
	}
	h.Set("Cache-Control", "no-store")
	if e.ContentRange != "" {
		h.Set("Content-Range", e.ContentRange)
	}
	if e.Allow != "" {
		h.Set("Allow", e.Allow)
	}
	if e.CloseConn {
		h.Set("Connection", "close")
	}
	httpx.WriteError(w, &e.aipError)
}

// unavailable is Walrus's 503 UNAVAILABLE (domain global), with
// Retry-After: 1.
func unavailable(msg string) *apiError {
	e := &apiError{aipError: *httpx.Unavailable(msg)}
	e.RetryAfter = 1
	return e
}

// internalError is Walrus's 500 INTERNAL_ERROR (domain global).
func internalError() *apiError { return &apiError{aipError: *httpx.Internal()} }

// readError translates an error of a read into an answer (nil for an
// error the caller must log as internal).
func readError(err error) *apiError {
	var ae *apiError
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.Is(err, client.ErrBlobBlocked):
		return errf(http.StatusUnavailableForLegalReasons, ReasonForbiddenBlob, "the requested blob is blocked")
	case errors.Is(err, client.ErrBlobNotFound), errors.Is(err, client.ErrObjectNotFound), errors.Is(err, client.ErrWrongObject):
		return errf(http.StatusNotFound, ReasonBlobNotFound, "the requested blob ID does not exist on Walrus, ensure that it was entered correctly")
	case errors.Is(err, client.ErrBlobInvalid):
		return errf(http.StatusNotFound, ReasonBlobInvalid, "the requested blob was declared invalid: its data cannot be served")
	case errors.Is(err, client.ErrNotQuilt):
		return errf(http.StatusNotFound, ReasonQuiltPatchNotFound, "the requested blob is not a quilt")
	case errors.Is(err, quilt.ErrInvalidPatchID):
		return errf(http.StatusBadRequest, ReasonInvalidPatchID, "%v", err)
	case errors.Is(err, quilt.ErrNotFound):
		return errf(http.StatusNotFound, ReasonQuiltPatchNotFound, "the requested quilt patch does not exist on Walrus")
	case errors.Is(err, client.ErrRangeNotSatisfiable):
		return errf(http.StatusRequestedRangeNotSatisfiable, ReasonInvalidByteRange, "invalid byte range parameters: %v", err)
	case errors.Is(err, client.ErrNotEnoughSlivers), errors.Is(err, client.ErrNoCommittee),
		errors.Is(err, context.DeadlineExceeded):
		return unavailable("the blob cannot be read from the storage nodes right now; retry")
	}
	return nil
}

// internalErr is a failure the gateway answers with 500 INTERNAL, its
// cause logged and never shown. It does not unwrap: a storage node's
// AIP-193 error inside a failed read is part of the cause, not the
// gateway's answer, and httpx.Serve would send it as one.
type internalErr struct{ cause error }

func (e *internalErr) Error() string { return e.cause.Error() }

// readErr is what a handler returns for a failed read: readError's
// answer, or, for an error readError does not know, an internal error.
func readErr(err error) error {
	if e := readError(err); e != nil {
		return e
	}
	return &internalErr{err}
}

// storeErr is what a handler returns for a failed store: storeError's
// answer, logged as a refusal, or, for an error storeError does not
// know, an internal error.
func (s *Server) storeErr(err error) error {
	if e := storeError(err); e != nil {
		s.log.Info("store refused", "err", err)
		return e
	}
	return &internalErr{err}
}

// fail is the gateway's httpx.FailFunc: an *apiError is sent with its own
// headers (write); any other error is logged and answered 500 INTERNAL.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	var e *apiError
	if errors.As(err, &e) {
		e.write(w)
		return
	}
	var ie *internalErr
	if errors.As(err, &ie) {
		err = ie.cause
	}
	s.log.Error("request failed", "method", r.Method, "path", clip(r.URL.Path), "err", err)
	internalError().write(w)
}

// storeError translates an error of a store into an answer (nil: internal).
func storeError(err error) *apiError {
	var ae *apiError
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.Is(err, client.ErrBlobBlocked):
		return errf(http.StatusUnavailableForLegalReasons, ReasonForbiddenBlob, "the blob is blocked")
	case errors.Is(err, client.ErrBlobTooLarge):
		return errf(http.StatusForbidden, ReasonBlobTooLarge, "%v", err)
	case errors.Is(err, client.ErrInvalidArgument):
		return errf(http.StatusBadRequest, ReasonMalformedRequest, "the request is malformed: %v", err)
	case errors.Is(err, client.ErrNotEnoughConfirmations):
		e := unavailable("the service could not collect enough storage confirmations; retry")
		e.Reason, e.Domain = ReasonInsufficientConfirm, DomainDaemon
		return e
	case errors.Is(err, client.ErrInsufficientBalance):
		return unavailable("the publisher's wallet cannot pay for the store right now; retry later")
	case errors.Is(err, client.ErrNoCommittee), errors.Is(err, context.DeadlineExceeded):
		return unavailable("the network cannot take the store right now; retry")
	}
	return nil
}
