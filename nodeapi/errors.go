package nodeapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/walrus-go/walrus/ids"
)

// Error domains (Walrus).
const (
	DomainStorageNode = "storage.walrus.space"
	DomainGlobal      = "global"
)

// Reasons: the ErrorInfo.reason values a node returns. Those marked Walrus
// are Walrus's own; clients key off them.
const (
	ReasonShardNotAssigned     = "SHARD_NOT_ASSIGNED"           // Walrus
	ReasonIndexOutOfRange      = "INDEX_OUT_OF_RANGE"           // Walrus
	ReasonUnavailable          = "UNAVAILABLE"                  // Walrus (domain global)
	ReasonMetadataNotFound     = "METADATA_NOT_FOUND"           // Walrus
	ReasonForbiddenBlob        = "FORBIDDEN_BLOB"               // Walrus
	ReasonSliverNotFound       = "SLIVER_NOT_FOUND"             // Walrus
	ReasonNotRegistered        = "NOT_REGISTERED"               // Walrus
	ReasonMissingSlivers       = "MISSING_SLIVERS"              // Walrus
	ReasonCacheSaturated       = "CACHE_SATURATED"              // Walrus
	ReasonInvalidMetadata      = "INVALID_METADATA"             // Walrus
	ReasonInvalidBlob          = "INVALID_BLOB"                 // Walrus
	ReasonUnsupportedEncoding  = "UNSUPPORTED_ENCODING_TYPE"    // Walrus
	ReasonSymbolNotPresent     = "SYMBOL_NOT_PRESENT_AT_SHARDS" // Walrus
	ReasonNoSymbolsSpecified   = "NO_SYMBOLS_SPECIFIED"         // Walrus
	ReasonInvalidFilter        = "INVALID_FILTER"               // Walrus
	ReasonInvalidSliver        = "INVALID_SLIVER"               // Walrus
	ReasonInvalidProof         = "INVALID_PROOF"                // Walrus
	ReasonInternal             = "INTERNAL_ERROR"               // Walrus (domain global)
	ReasonInvalidBlobID        = "INVALID_BLOB_ID"              // a path blob ID that does not parse
	ReasonInvalidParameter     = "INVALID_PARAMETER"            // another path or query parameter that does not parse
	ReasonBodyTooLarge         = "BODY_TOO_LARGE"               // request body above the endpoint's limit
	ReasonNotFound             = "NOT_FOUND"                    // no such endpoint
	ReasonInvalidObjectID      = "INVALID_OBJECT_ID"            // a path object ID that does not parse
	ReasonInvalidBatch         = "INVALID_BATCH"                // a sliver batch that breaks its format (magic, count, type, duplicate, trailing bytes)
	ReasonIncompleteBody       = "INCOMPLETE_BODY"              // a body that ends before its Content-Length or before the batch it announces
	ReasonLengthRequired       = "LENGTH_REQUIRED"              // a batch without a Content-Length
	reasonUnexpectedHTTPStatus = "UNEXPECTED_HTTP_STATUS"       // client side: a body that is not AIP-193
)

// Status strings with their HTTP codes: Walrus's StatusCode table. A Walrus
// client rejects a pair that is not in it.
var statusCodes = map[string]int{
	"OK":                            http.StatusOK,
	"UNAVAILABLE_FOR_LEGAL_REASONS": http.StatusUnavailableForLegalReasons,
	"INVALID_ARGUMENT":              http.StatusBadRequest,
	"NOT_FOUND":                     http.StatusNotFound,
	"FAILED_PRECONDITION":           http.StatusBadRequest,
	"PERMISSION_DENIED":             http.StatusForbidden,
	"SIZE_EXCEEDED":                 http.StatusForbidden,
	"INTERNAL":                      http.StatusInternalServerError,
	"DEADLINE_EXCEEDED":             http.StatusGatewayTimeout,
	"UNAUTHENTICATED":               http.StatusUnauthorized,
	"RANGE_NOT_SATISFIABLE":         http.StatusRequestedRangeNotSatisfiable,
	"RESOURCE_EXHAUSTED":            http.StatusTooManyRequests,
	"UNAVAILABLE":                   http.StatusServiceUnavailable,
}

// Error is an error answer of a node: the AIP-193 body, or for an answer
// that is not one, the HTTP code and the start of the body. The client
// returns it; match on Reason.
type Error struct {
	Code     int            // HTTP status code
	Status   string         // AIP-193 status, e.g. FAILED_PRECONDITION
	Reason   string         // ErrorInfo.reason, e.g. SHARD_NOT_ASSIGNED
	Domain   string         // ErrorInfo.domain
	Message  string         // human-readable
	Metadata map[string]any // ErrorInfo.metadata
}

func (e *Error) Error() string {
	return fmt.Sprintf("nodeapi: %d %s %s: %s", e.Code, e.Status, e.Reason, e.Message)
}

// IsReason reports whether err is a node's Error with the given reason.
func IsReason(err error, reason string) bool {
	var e *Error
	return errors.As(err, &e) && e.Reason == reason
}

// wireStatus is the JSON form of an AIP-193 error.
type wireStatus struct {
	Error struct {
		Code    int          `json:"code"`
		Status  string       `json:"status"`
		Message string       `json:"message"`
		Details []wireDetail `json:"details"`
	} `json:"error"`
}

type wireDetail struct {
	Type     string         `json:"@type"`
	Reason   string         `json:"reason,omitempty"`
	Domain   string         `json:"domain,omitempty"`
	Metadata map[string]any `json:"metadata,omitempty"`
}

// MarshalJSON writes the AIP-193 form.
func (e *Error) MarshalJSON() ([]byte, error) {
	var w wireStatus
	w.Error.Code, w.Error.Status, w.Error.Message = e.Code, e.Status, e.Message
	md := e.Metadata
	if md == nil {
		md = map[string]any{}
	}
	w.Error.Details = []wireDetail{{Type: "ErrorInfo", Reason: e.Reason, Domain: e.Domain, Metadata: md}}
	return json.Marshal(w)
}

// parseError reads an error answer.
func parseError(code int, body []byte) *Error {
	var w wireStatus
	if err := json.Unmarshal(body, &w); err != nil || w.Error.Status == "" {
		msg := string(body)
		if len(msg) > 200 {
			msg = msg[:200]
		}
		return &Error{Code: code, Reason: reasonUnexpectedHTTPStatus, Message: msg}
	}
	e := &Error{Code: code, Status: w.Error.Status, Message: w.Error.Message}
	for _, d := range w.Error.Details {
		if d.Type == "ErrorInfo" {
			e.Reason, e.Domain, e.Metadata = d.Reason, d.Domain, d.Metadata
			break
		}
	}
	return e
}

// newError builds a storage-node error with a status from the table.
func newError(status, reason, msg string, md map[string]any) *Error {
	return &Error{Code: statusCodes[status], Status: status, Reason: reason, Domain: DomainStorageNode, Message: msg, Metadata: md}
}

func errInvalidBlobID(s string) *Error {
	return newError("INVALID_ARGUMENT", ReasonInvalidBlobID, fmt.Sprintf("%q is not a blob ID", s), nil)
}

func errInvalidParameter(name, value string) *Error {
	return newError("INVALID_ARGUMENT", ReasonInvalidParameter, fmt.Sprintf("invalid %s %q", name, value), map[string]any{"parameter": name})
}

func errIndexOutOfRange(index, n int) *Error {
	return newError("INVALID_ARGUMENT", ReasonIndexOutOfRange, fmt.Sprintf("requires 0 <= index (%d) < %d", index, n),
		map[string]any{"index": index, "max": n})
}

func errShardNotAssigned(shard int, epoch uint32) *Error {
	return newError("FAILED_PRECONDITION", ReasonShardNotAssigned, fmt.Sprintf("shard %d is not assigned to this node in epoch %d", shard, epoch),
		map[string]any{"shard": shard, "epoch": epoch})
}

func errForbidden(what string) *Error {
	return newError("UNAVAILABLE_FOR_LEGAL_REASONS", ReasonForbiddenBlob, "the requested "+what+" is blocked", nil)
}

func errNotRegistered() *Error {
	return newError("FAILED_PRECONDITION", ReasonNotRegistered, "the blob has not been registered or has already expired", nil)
}

func errInvalidBlob(ev ids.EventID) *Error {
	return newError("FAILED_PRECONDITION", ReasonInvalidBlob, "the blob has been marked invalid",
		map[string]any{"txDigest": ev.TxDigest.String(), "eventSeq": fmt.Sprint(ev.Seq)})
}

func errBodyTooLarge(limit int64) *Error {
	return newError("SIZE_EXCEEDED", ReasonBodyTooLarge, fmt.Sprintf("the request body is larger than %d bytes", limit),
		map[string]any{"limit": limit})
}

// errBatchTooLarge is HTTP's own 413: the batch route is ours, not
// Walrus's, so it need not keep to Walrus's table (which pairs
// SIZE_EXCEEDED with 403).
func errBatchTooLarge(limit int64) *Error {
	e := errBodyTooLarge(limit)
	e.Code = http.StatusRequestEntityTooLarge
	return e
}

func errLengthRequired() *Error {
	e := newError("INVALID_ARGUMENT", ReasonLengthRequired, "a sliver batch needs a Content-Length", nil)
	e.Code = http.StatusLengthRequired
	return e
}

// Frame returns the batch frame an error of PUT /v1/blobs/{blob_id}/slivers
// names (metadata "frame"), if any.
func (e *Error) Frame() (frame int, ok bool) {
	switch v := e.Metadata["frame"].(type) {
	case int:
		return v, true
	case float64:
		if v >= 0 && v == float64(int(v)) {
			return int(v), true
		}
	}
	return 0, false
}

func errUnavailable() *Error {
	e := newError("UNAVAILABLE", ReasonUnavailable, "the service is currently unavailable", nil)
	e.Domain = DomainGlobal
	return e
}

func errInternal() *Error {
	e := newError("INTERNAL", ReasonInternal, "an internal error has occurred, please report it", nil)
	e.Domain = DomainGlobal
	return e
}
