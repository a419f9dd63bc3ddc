package httpx

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Statuses: the AIP-193 status strings of Walrus's StatusCode table
// (crates/walrus-storage-node-client/src/api/errors.rs).
const (
	StatusOK                         = "OK"
	StatusUnavailableForLegalReasons = "UNAVAILABLE_FOR_LEGAL_REASONS"
	StatusInvalidArgument            = "INVALID_ARGUMENT"
	StatusNotFound                   = "NOT_FOUND"
	StatusFailedPrecondition         = "FAILED_PRECONDITION"
	StatusPermissionDenied           = "PERMISSION_DENIED"
	StatusSizeExceeded               = "SIZE_EXCEEDED"
	StatusInternal                   = "INTERNAL"
	StatusDeadlineExceeded           = "DEADLINE_EXCEEDED"
	StatusUnauthenticated            = "UNAUTHENTICATED"
	StatusRangeNotSatisfiable        = "RANGE_NOT_SATISFIABLE"
	StatusResourceExhausted          = "RESOURCE_EXHAUSTED"
	StatusUnavailable                = "UNAVAILABLE"
)

// Walrus's service-agnostic domain and its reasons, which every Walrus
// service answers with.
const (
	DomainGlobal      = "global"
	ReasonInternal    = "INTERNAL_ERROR"
	ReasonUnavailable = "UNAVAILABLE"
)

// ReasonUnexpectedHTTPStatus is the reason Parse gives an answer whose
// body is not AIP-193 (a proxy's HTML page, an empty 502). No server sends
// it: it exists on the client side only.
const ReasonUnexpectedHTTPStatus = "UNEXPECTED_HTTP_STATUS"

// table is Walrus's StatusCode table: every status with its HTTP code, in
// Walrus's order. A Walrus client refuses an error answer whose pair is
// not in it. Where two statuses share a code (400, 403), the first is the
// one StatusFor gives for the code.
var table = [...]struct {
	status string
	code   int
}{
	{StatusOK, http.StatusOK},
	{StatusUnavailableForLegalReasons, http.StatusUnavailableForLegalReasons},
	{StatusInvalidArgument, http.StatusBadRequest},
	{StatusNotFound, http.StatusNotFound},
	{StatusFailedPrecondition, http.StatusBadRequest},
	{StatusPermissionDenied, http.StatusForbidden},
	{StatusSizeExceeded, http.StatusForbidden},
	{StatusInternal, http.StatusInternalServerError},
	{StatusDeadlineExceeded, http.StatusGatewayTimeout},
	{StatusUnauthenticated, http.StatusUnauthorized},
	{StatusRangeNotSatisfiable, http.StatusRequestedRangeNotSatisfiable},
	{StatusResourceExhausted, http.StatusTooManyRequests},
	{StatusUnavailable, http.StatusServiceUnavailable},
}

// StatusFor returns the status of an HTTP code in Walrus's table, the
// first one where the code has two (INVALID_ARGUMENT for 400,
// PERMISSION_DENIED for 403), or "" for a code the table lacks (413, 405).
func StatusFor(code int) string {
	for _, p := range table {
		if p.code == code {
			return p.status
		}
	}
	return ""
}

// CodeFor returns the HTTP code of a status in Walrus's table; ok is false
// for a status the table lacks.
func CodeFor(status string) (code int, ok bool) {
	for _, p := range table {
		if p.status == status {
			return p.code, true
		}
	}
	return 0, false
}

// Error is an AIP-193 error answer: the HTTP code and the body's status,
// message and ErrorInfo detail. Servers build it with New and send it with
// WriteError; clients get it from Parse and match on Reason (with Domain
// when reasons of several services may meet).
type Error struct {
	Code     int            // HTTP status code
	Status   string         // AIP-193 status, e.g. FAILED_PRECONDITION
	Reason   string         // ErrorInfo.reason, e.g. SHARD_NOT_ASSIGNED
	Domain   string         // ErrorInfo.domain, e.g. storage.walrus.space
	Message  string         // human-readable
	Metadata map[string]any // ErrorInfo.metadata: the dynamic values of Message
	// RetryAfter is the Retry-After header WriteError sends, in seconds
	// (0: none). It is not part of the body, and Parse does not set it.
	RetryAfter int
}

// New builds an error answer whose HTTP code is the status's in Walrus's
// table; the caller sets Domain and, if any, Metadata. The status must be
// one of the table's, and every call site passes a constant: New panics on
// any other, as a bug to fix rather than an answer net/http could not send
// (it panics on the code 0 such an error would carry). An answer that
// deliberately leaves the table (HTTP's own 411 or 413 on a route that is
// not Walrus's) sets Code after New.
func New(status, reason, msg string) *Error {
	code, ok := CodeFor(status)
	if !ok {
		panic(fmt.Sprintf("httpx: status %q is not in Walrus's table", status))
	}
	return &Error{Code: code, Status: status, Reason: reason, Message: msg}
}

// Internal is Walrus's answer to an unexpected failure: 500 INTERNAL,
// reason INTERNAL_ERROR in the global domain. The message says nothing of
// the cause, which the server logs instead.
func Internal() *Error {
	e := New(StatusInternal, ReasonInternal, "an internal error has occurred, please report it")
	e.Domain = DomainGlobal
	return e
}

// Unavailable is Walrus's answer to a transient refusal: 503 UNAVAILABLE,
// reason UNAVAILABLE in the global domain.
func Unavailable(msg string) *Error {
	e := New(StatusUnavailable, ReasonUnavailable, msg)
	e.Domain = DomainGlobal
	return e
}

// Error returns the code, status, reason and message, leaving out the
// empty ones.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(strconv.Itoa(e.Code))
	for _, s := range []string{e.Status, e.Reason} {
		if s != "" {
			b.WriteByte(' ')
			b.WriteString(s)
		}
	}
	b.WriteString(": ")
	b.WriteString(e.Message)
	return b.String()
}

// MetadataInt returns a metadata value that is an integer, whether the
// server set it (any Go integer type) or Parse decoded it (a JSON number,
// hence a float64, that must be integral).
func (e *Error) MetadataInt(key string) (v int64, ok bool) {
	switch x := e.Metadata[key].(type) {
	case int:
		return int64(x), true
	case int32:
		return int64(x), true
	case int64:
		return x, true
	case uint16:
		return int64(x), true
	case uint32:
		return int64(x), true
	case uint64:
		if x <= 1<<63-1 {
			return int64(x), true
		}
	case float64:
		// The bounds come first: converting a float64 outside the int64
		// range gives an unspecified value.
		if x >= -(1<<63) && x < 1<<63 && x == math.Trunc(x) {
			return int64(x), true
		}
	}
	return 0, false
}

// wireError is the JSON form of an AIP-193 error, as Walrus writes it:
// every field is present, and the ErrorInfo detail carries reason, domain
// and metadata even when they are empty (Walrus's decoder requires them).
type wireError struct {
	Error struct {
		Code    int          `json:"code"`
		Status  string       `json:"status"`
		Message string       `json:"message"`
		Details []wireDetail `json:"details"`
	} `json:"error"`
}

type wireDetail struct {
	Type     string         `json:"@type"`
	Reason   string         `json:"reason"`
	Domain   string         `json:"domain"`
	Metadata map[string]any `json:"metadata"`
}

// typeErrorInfo is the @type of the ErrorInfo detail in Walrus's answers;
// typeErrorInfoURL is the type URL Google's services write instead, which
// Parse also accepts.
const (
	typeErrorInfo    = "ErrorInfo"
	typeErrorInfoURL = "type.googleapis.com/google.rpc.ErrorInfo"
)

// MarshalJSON writes the AIP-193 form
// {"error":{"code","status","message","details":[{"@type":"ErrorInfo","reason","domain","metadata"}]}},
// with metadata {} when there is none.
func (e *Error) MarshalJSON() ([]byte, error) {
	var w wireError
	w.Error.Code, w.Error.Status, w.Error.Message = e.Code, e.Status, e.Message
	md := e.Metadata
	if md == nil {
		md = map[string]any{}
	}
	w.Error.Details = []wireDetail{{Type: typeErrorInfo, Reason: e.Reason, Domain: e.Domain, Metadata: md}}
	return json.Marshal(&w)
}

// maxQuoted bounds the bytes of a non-AIP body that Parse keeps as the
// message: enough to recognise a proxy's page, not enough to flood a log.
const maxQuoted = 200

// Parse reads an error answer with HTTP code code. It never fails: a body
// that is not AIP-193 (not JSON, or without error.status) gives an Error
// with the code, reason UNEXPECTED_HTTP_STATUS, no status, and the start
// of the body, as valid UTF-8, as the message. Parse is lenient where
// Walrus's client is strict: the code is the HTTP code whatever the body
// says, a status that does not pair with it is kept as sent, and a detail
// that does not decode is skipped, since the reason is what callers match.
// Metadata is nil when the answer has none.
func Parse(code int, body []byte) *Error {
	var w struct {
		Error *struct {
			Status  string            `json:"status"`
			Message string            `json:"message"`
			Details []json.RawMessage `json:"details"`
		} `json:"error"`
	}
	if err := json.Unmarshal(body, &w); err != nil || w.Error == nil || w.Error.Status == "" {
		return &Error{Code: code, Reason: ReasonUnexpectedHTTPStatus, Message: quote(body)}
	}
	e := &Error{Code: code, Status: w.Error.Status, Message: w.Error.Message}
	for _, raw := range w.Error.Details {
		var d wireDetail
		if json.Unmarshal(raw, &d) != nil || (d.Type != typeErrorInfo && d.Type != typeErrorInfoURL) {
			continue
		}
		e.Reason, e.Domain = d.Reason, d.Domain
		if len(d.Metadata) > 0 {
			e.Metadata = d.Metadata
		}
		break
	}
	return e
}

// quote returns the start of b as valid UTF-8 of at most maxQuoted
// bytes, cut on a rune boundary. Invalid bytes are replaced before the
// cut, since each replacement (U+FFFD) takes three bytes.
func quote(b []byte) string {
	b = b[:min(len(b), utf8.UTFMax*maxQuoted)] // enough for maxQuoted bytes after replacement
	s := strings.ToValidUTF8(string(b), "\uFFFD")
	if len(s) > maxQuoted {
		n := maxQuoted
		for !utf8.RuneStart(s[n]) {
			n--
		}
		s = s[:n]
	}
	return s
}
