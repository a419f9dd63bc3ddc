package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/walrus-go/walrus/client"
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
	ReasonBodyTooLarge           = "BODY_TOO_LARGE"             // a request body over the limit (413)
	ReasonBlobInvalid            = "BLOB_INVALID"               // the blob ID was declared invalid
	ReasonTooManyRequests        = "TOO_MANY_REQUESTS"          // over the concurrency limits (429)
	ReasonUnavailable            = "UNAVAILABLE"                // Walrus (domain global): retry later
	ReasonInternal               = "INTERNAL_ERROR"             // Walrus (domain global)
	ReasonNotFound               = "NOT_FOUND"                  // no such endpoint
)

// apiError is an error answer: an HTTP status with its AIP-193 body.
type apiError struct {
	Code       int
	Status     string // AIP-193 status, e.g. NOT_FOUND
	Reason     string
	Domain     string
	Message    string
	Metadata   map[string]any
	RetryAfter int // seconds; 0: no Retry-After header
	// ContentRange is set on a 416 ("bytes */SIZE").
	ContentRange string
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s: %s", e.Code, e.Reason, e.Message) }

// statusOf is Walrus's table of AIP-193 statuses and HTTP codes.
var statusOf = map[int]string{
	http.StatusBadRequest:                   "INVALID_ARGUMENT",
	http.StatusUnauthorized:                 "UNAUTHENTICATED",
	http.StatusForbidden:                    "PERMISSION_DENIED",
	http.StatusNotFound:                     "NOT_FOUND",
	http.StatusMethodNotAllowed:             "INVALID_ARGUMENT",
	http.StatusRequestEntityTooLarge:        "SIZE_EXCEEDED",
	http.StatusRequestedRangeNotSatisfiable: "RANGE_NOT_SATISFIABLE",
	http.StatusUnavailableForLegalReasons:   "UNAVAILABLE_FOR_LEGAL_REASONS",
	http.StatusTooManyRequests:              "RESOURCE_EXHAUSTED",
	http.StatusInternalServerError:          "INTERNAL",
	http.StatusServiceUnavailable:           "UNAVAILABLE",
}

func newError(code int, reason, msg string) *apiError {
	return &apiError{Code: code, Status: statusOf[code], Reason: reason, Domain: DomainDaemon, Message: msg}
}

func errf(code int, reason, format string, args ...any) *apiError {
	return newError(code, reason, fmt.Sprintf(format, args...))
}

// MarshalJSON writes the AIP-193 form:
// {"error":{"code","status","message","details":[{"@type":"ErrorInfo","reason","domain","metadata"}]}}.
func (e *apiError) MarshalJSON() ([]byte, error) {
	type detail struct {
		Type     string         `json:"@type"`
		Reason   string         `json:"reason"`
		Domain   string         `json:"domain"`
		Metadata map[string]any `json:"metadata"`
	}
	var w struct {
		Error struct {
			Code    int      `json:"code"`
			Status  string   `json:"status"`
			Message string   `json:"message"`
			Details []detail `json:"details"`
		} `json:"error"`
	}
	md := e.Metadata
	if md == nil {
		md = map[string]any{}
	}
	w.Error.Code, w.Error.Status, w.Error.Message = e.Code, e.Status, e.Message
	w.Error.Details = []detail{{Type: "ErrorInfo", Reason: e.Reason, Domain: e.Domain, Metadata: md}}
	return json.Marshal(w)
}

// write sends the error. Error answers are never cached (a 404 cached by a
// browser or CDN right before a blob becomes readable is the read-after-write
// complaint of Walrus users).
func (e *apiError) write(w http.ResponseWriter) {
	h := w.Header()
	for _, k := range []string{"ETag", "Content-Range", "Content-Disposition", "Content-Encoding", "X-Quilt-Patch-Identifier"} {
		h.Del(k)
	}
	h.Set("Cache-Control", "no-store")
	if e.RetryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(e.RetryAfter))
	}
	if e.ContentRange != "" {
		h.Set("Content-Range", e.ContentRange)
	}
	b, _ := json.Marshal(e)
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(e.Code)
	_, _ = w.Write(b)
}

func unavailable(msg string) *apiError {
	e := newError(http.StatusServiceUnavailable, ReasonUnavailable, msg)
	e.Domain, e.RetryAfter = "global", 1
	return e
}

func internalError() *apiError {
	e := newError(http.StatusInternalServerError, ReasonInternal, "an internal error has occurred, please report it")
	e.Domain = "global"
	return e
}

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

// storeError translates an error of a store into an answer (nil: internal).
func storeError(err error) *apiError {
	var ae *apiError
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.Is(err, client.ErrBlobBlocked):
		return errf(http.StatusUnavailableForLegalReasons, ReasonForbiddenBlob, "the blob is blocked")
	case errors.Is(err, client.ErrBlobTooLarge):
		return errf(http.StatusRequestEntityTooLarge, ReasonBlobTooLarge, "%v", err)
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
