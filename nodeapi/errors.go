package nodeapi

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/walrus-go/walrus/ids"
	"github.com/walrus-go/walrus/internal/httpx"
)

// Error domains (Walrus).
const (
	DomainStorageNode = "storage.walrus.space"
	DomainGlobal      = httpx.DomainGlobal
)

// Reasons: the ErrorInfo.reason values a node returns. Those marked Walrus
// are Walrus's own; clients key off them.
const (
	ReasonShardNotAssigned    = "SHARD_NOT_ASSIGNED"           // Walrus
	ReasonIndexOutOfRange     = "INDEX_OUT_OF_RANGE"           // Walrus
	ReasonUnavailable         = httpx.ReasonUnavailable        // Walrus (domain global)
	ReasonMetadataNotFound    = "METADATA_NOT_FOUND"           // Walrus
	ReasonForbiddenBlob       = "FORBIDDEN_BLOB"               // Walrus
	ReasonSliverNotFound      = "SLIVER_NOT_FOUND"             // Walrus
	ReasonNotRegistered       = "NOT_REGISTERED"               // Walrus
	ReasonMissingSlivers      = "MISSING_SLIVERS"              // Walrus
	ReasonCacheSaturated      = "CACHE_SATURATED"              // Walrus
	ReasonInvalidMetadata     = "INVALID_METADATA"             // Walrus
	ReasonInvalidBlob         = "INVALID_BLOB"                 // Walrus
	ReasonUnsupportedEncoding = "UNSUPPORTED_ENCODING_TYPE"    // Walrus
	ReasonSymbolNotPresent    = "SYMBOL_NOT_PRESENT_AT_SHARDS" // Walrus
	ReasonNoSymbolsSpecified  = "NO_SYMBOLS_SPECIFIED"         // Walrus
	ReasonInvalidFilter       = "INVALID_FILTER"               // Walrus
	ReasonInvalidSliver       = "INVALID_SLIVER"               // Walrus
	ReasonInvalidProof        = "INVALID_PROOF"                // Walrus
	ReasonInternal            = httpx.ReasonInternal           // Walrus (domain global)
	ReasonInvalidBlobID       = "INVALID_BLOB_ID"              // a path blob ID that does not parse
	ReasonInvalidParameter    = "INVALID_PARAMETER"            // another path or query parameter that does not parse
	ReasonBodyTooLarge        = "BODY_TOO_LARGE"               // request body above the endpoint's limit
	ReasonNotFound            = "NOT_FOUND"                    // no such endpoint
	ReasonInvalidObjectID     = "INVALID_OBJECT_ID"            // a path object ID that does not parse
	ReasonInvalidBatch        = "INVALID_BATCH"                // a sliver batch that breaks its format (magic, count, type, duplicate, trailing bytes)
	ReasonIncompleteBody      = "INCOMPLETE_BODY"              // a body that ends before its Content-Length or before the batch it announces
	ReasonLengthRequired      = "LENGTH_REQUIRED"              // a batch without a Content-Length
	// ReasonUnexpectedHTTPStatus is the client's reason for an answer whose
	// body is not AIP-193 (a proxy's page, say); no node sends it.
	ReasonUnexpectedHTTPStatus = httpx.ReasonUnexpectedHTTPStatus
)

// Error is an error answer of a node: the AIP-193 body, or for an answer
// that is not one, the HTTP code and the start of the body (reason
// ReasonUnexpectedHTTPStatus). The client returns it; match on Reason.
// It is internal/httpx's Error, which the gateway answers with too: one
// encoder, one parser and one table of statuses and codes, Walrus's.
type Error = httpx.Error

// IsReason reports whether err is a node's Error with the given reason.
func IsReason(err error, reason string) bool {
	var e *Error
	return errors.As(err, &e) && e.Reason == reason
}

// Frame returns the batch frame that an error of PUT
// /v1/blobs/{blob_id}/slivers names (metadata "frame"), if err is such an
// error and names one.
func Frame(err error) (frame int, ok bool) {
	var e *Error
	if !errors.As(err, &e) {
		return 0, false
	}
	v, ok := e.MetadataInt("frame")
	if !ok || v < 0 || int64(int(v)) != v {
		return 0, false
	}
	return int(v), true
}

// parseError reads an error answer of a node (httpx.Parse): it never
// fails, a body that is not AIP-193 gives ReasonUnexpectedHTTPStatus.
func parseError(code int, body []byte) *Error { return httpx.Parse(code, body) }

// newError builds a storage-node error; its HTTP code is the status's in
// Walrus's table (httpx.New).
func newError(status, reason, msg string, md map[string]any) *Error {
	e := httpx.New(status, reason, msg)
	e.Domain, e.Metadata = DomainStorageNode, md
	return e
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

// errBatchTooLarge is HTTP's own 413 with Walrus's SIZE_EXCEEDED status:
// the batch route is ours, not Walrus's, so it need not keep to Walrus's
// table (which pairs SIZE_EXCEEDED with 403), and only our client calls it.
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

func errUnavailable() *Error { return httpx.Unavailable("the service is currently unavailable") }

func errInternal() *Error { return httpx.Internal() }
