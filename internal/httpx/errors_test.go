package httpx

import (
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// walrusPairs is Walrus's StatusCode table as its source lists it
// (crates/walrus-storage-node-client/src/api/errors.rs), written out here
// independently of table so that an edit of one shows against the other.
var walrusPairs = []struct {
	status string
	code   int
}{
	{"OK", 200},
	{"UNAVAILABLE_FOR_LEGAL_REASONS", 451},
	{"INVALID_ARGUMENT", 400},
	{"NOT_FOUND", 404},
	{"FAILED_PRECONDITION", 400},
	{"PERMISSION_DENIED", 403},
	{"SIZE_EXCEEDED", 403},
	{"INTERNAL", 500},
	{"DEADLINE_EXCEEDED", 504},
	{"UNAUTHENTICATED", 401},
	{"RANGE_NOT_SATISFIABLE", 416},
	{"RESOURCE_EXHAUSTED", 429},
	{"UNAVAILABLE", 503},
}

func TestStatusTable(t *testing.T) {
	if len(table) != len(walrusPairs) {
		t.Fatalf("the table has %d statuses, Walrus %d", len(table), len(walrusPairs))
	}
	for i, p := range walrusPairs {
		if table[i].status != p.status || table[i].code != p.code {
			t.Errorf("table[%d] = %s %d, Walrus has %s %d", i, table[i].status, table[i].code, p.status, p.code)
		}
		if code, ok := CodeFor(p.status); !ok || code != p.code {
			t.Errorf("CodeFor(%s) = %d %v, want %d", p.status, code, ok, p.code)
		}
		e := New(p.status, "R", "m")
		if e.Code != p.code || e.Status != p.status {
			t.Errorf("New(%s) = %d %s", p.status, e.Code, e.Status)
		}
	}
	// A code with one status gives it; the shared ones give the first.
	for code, want := range map[int]string{200: "OK", 400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED",
		404: "NOT_FOUND", 416: "RANGE_NOT_SATISFIABLE", 429: "RESOURCE_EXHAUSTED", 451: "UNAVAILABLE_FOR_LEGAL_REASONS",
		500: "INTERNAL", 503: "UNAVAILABLE", 504: "DEADLINE_EXCEEDED", 413: "", 405: "", 411: "", 0: ""} {
		if got := StatusFor(code); got != want {
			t.Errorf("StatusFor(%d) = %q, want %q", code, got, want)
		}
	}
	for _, s := range []string{"", "ok", "PAYLOAD_TOO_LARGE", "SIZE_EXCEEDED "} {
		if code, ok := CodeFor(s); ok {
			t.Errorf("CodeFor(%q) = %d: not in Walrus's table", s, code)
		}
	}
}

func TestNewRefusesUnknownStatus(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("New accepted a status outside the table")
		}
	}()
	New("PAYLOAD_TOO_LARGE", "R", "m")
}

func TestGlobalErrors(t *testing.T) {
	if e := Internal(); e.Code != 500 || e.Status != StatusInternal || e.Reason != ReasonInternal || e.Domain != DomainGlobal {
		t.Fatalf("Internal() = %+v", e)
	}
	if e := Unavailable("later"); e.Code != 503 || e.Status != StatusUnavailable || e.Reason != ReasonUnavailable ||
		e.Domain != DomainGlobal || e.Message != "later" {
		t.Fatalf("Unavailable() = %+v", e)
	}
}

// TestMarshalJSON pins the bytes: Walrus's shape, every ErrorInfo field
// present even when empty (Walrus's decoder requires reason, domain and
// metadata), and nothing of RetryAfter in the body.
func TestMarshalJSON(t *testing.T) {
	for _, c := range []struct {
		e    *Error
		want string
	}{
		{&Error{Code: 403, Status: "SIZE_EXCEEDED", Reason: "BODY_TOO_LARGE", Domain: "d", Message: "too big", Metadata: map[string]any{"limit": 5}, RetryAfter: 3},
			`{"error":{"code":403,"status":"SIZE_EXCEEDED","message":"too big","details":[{"@type":"ErrorInfo","reason":"BODY_TOO_LARGE","domain":"d","metadata":{"limit":5}}]}}`},
		{&Error{Code: 502, Message: "<html>"},
			`{"error":{"code":502,"status":"","message":"\u003chtml\u003e","details":[{"@type":"ErrorInfo","reason":"","domain":"","metadata":{}}]}}`},
		{&Error{Code: 404, Status: "NOT_FOUND", Reason: "R", Domain: "d", Message: "m", Metadata: map[string]any{}},
			`{"error":{"code":404,"status":"NOT_FOUND","message":"m","details":[{"@type":"ErrorInfo","reason":"R","domain":"d","metadata":{}}]}}`},
	} {
		b, err := json.Marshal(c.e)
		if err != nil || string(b) != c.want {
			t.Errorf("json.Marshal(%+v) =\n%s %v\nwant\n%s", c.e, b, err, c.want)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	for _, e := range []*Error{
		{Code: 400, Status: "FAILED_PRECONDITION", Reason: "SHARD_NOT_ASSIGNED", Domain: "storage.walrus.space",
			Message: "shard 0 is not assigned to this node in epoch 17", Metadata: map[string]any{"shard": 0.0, "epoch": 17.0}},
		{Code: 451, Status: "UNAVAILABLE_FOR_LEGAL_REASONS", Reason: "FORBIDDEN_BLOB", Domain: "daemon.walrus.space", Message: "blocked"},
		{Code: 400, Status: "INVALID_ARGUMENT", Reason: "INVALID_SLIVER", Domain: "storage.walrus.space", Message: "frame ✗ 3",
			Metadata: map[string]any{"frame": 3.0, "sliverType": "primary", "nested": map[string]any{"a": []any{1.0, "b", nil, true}}}},
		{Code: 413, Status: "SIZE_EXCEEDED", Reason: "BODY_TOO_LARGE", Message: "a code outside the table is kept"},
		Internal(),
		Unavailable("retry"),
	} {
		b, err := e.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		if got := Parse(e.Code, b); !reflect.DeepEqual(got, e) {
			t.Errorf("Parse(MarshalJSON(%+v)) = %+v\n%s", e, got, b)
		}
	}
}

// TestParseWalrus reads answers as Walrus and Google write them.
func TestParseWalrus(t *testing.T) {
	for _, c := range []struct {
		name string
		code int
		body string
		want Error
	}{
		{"Walrus's example", 400,
			`{"error":{"code":400,"message":"shard 0 is not assigned to this node in epoch 17","status":"FAILED_PRECONDITION",
			  "details":[{"@type":"ErrorInfo","reason":"SHARD_NOT_ASSIGNED","domain":"storage-node.walrus/RetrieveSliverError","metadata":{"shard":0,"epoch":17}}]}}`,
			Error{Code: 400, Status: "FAILED_PRECONDITION", Reason: "SHARD_NOT_ASSIGNED", Domain: "storage-node.walrus/RetrieveSliverError",
				Message: "shard 0 is not assigned to this node in epoch 17", Metadata: map[string]any{"shard": 0.0, "epoch": 17.0}}},
		{"DebugInfo first, the HTTP code wins over the body's", 500,
			`{"error":{"code":400,"status":"INTERNAL","message":"m","details":[{"@type":"DebugInfo","stackEntries":[],"detail":"x"},
			  {"@type":"ErrorInfo","reason":"INTERNAL_ERROR","domain":"global","metadata":{}}]}}`,
			Error{Code: 500, Status: "INTERNAL", Reason: "INTERNAL_ERROR", Domain: "global", Message: "m"}},
		{"an undecodable detail is skipped", 404,
			`{"error":{"code":404,"status":"NOT_FOUND","message":"m","details":[{"@type":"ErrorInfo","reason":5},"x",
			  {"@type":"ErrorInfo","reason":"BLOB_NOT_FOUND","domain":"daemon.walrus.space"}]}}`,
			Error{Code: 404, Status: "NOT_FOUND", Reason: "BLOB_NOT_FOUND", Domain: "daemon.walrus.space", Message: "m"}},
		{"Google's type URL", 429,
			`{"error":{"code":429,"status":"RESOURCE_EXHAUSTED","message":"m","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"QUOTA","domain":"googleapis.com"}]}}`,
			Error{Code: 429, Status: "RESOURCE_EXHAUSTED", Reason: "QUOTA", Domain: "googleapis.com", Message: "m"}},
		{"no details, a status that does not pair with the code", 418,
			`{"error":{"status":"NOT_FOUND","message":"m"}}`,
			Error{Code: 418, Status: "NOT_FOUND", Message: "m"}},
	} {
		if got := Parse(c.code, []byte(c.body)); !reflect.DeepEqual(*got, c.want) {
			t.Errorf("%s: Parse = %+v, want %+v", c.name, *got, c.want)
		}
	}
}

func TestParseNotAIP(t *testing.T) {
	long := strings.Repeat("é", 150) // 300 bytes; byte 200 starts a rune, 199 does not
	odd := "x" + long                // byte 200 is inside a rune
	for _, body := range []string{"", "<html><body>502 Bad Gateway</body></html>", "null", "[1]", `"error"`,
		`{"error":null}`, `{"error":{}}`, `{"error":{"status":""}}`, `{"error":{"status":7}}`, `{"success":{"code":200,"data":1}}`,
		long, odd, "\xff\xfebad UTF-8", `{"error":{"status":"NOT_FOUND"`} {
		e := Parse(502, []byte(body))
		if e.Code != 502 || e.Status != "" || e.Reason != ReasonUnexpectedHTTPStatus || e.Domain != "" || e.Metadata != nil {
			t.Errorf("Parse(%.40q) = %+v", body, e)
		}
		if len(e.Message) > maxQuoted || !utf8.ValidString(e.Message) {
			t.Errorf("Parse(%.40q): message of %d bytes, valid UTF-8 %v", body, len(e.Message), utf8.ValidString(e.Message))
		}
		if utf8.ValidString(body) && !strings.HasPrefix(body, e.Message) {
			t.Errorf("Parse(%.40q): message %q is not the start of the body", body, e.Message)
		}
	}
	if e := Parse(502, []byte(strings.Repeat("a", 1000))); len(e.Message) != maxQuoted {
		t.Errorf("an ASCII body is cut at %d bytes, want %d", len(e.Message), maxQuoted)
	}
	if e := Parse(502, []byte("x"+strings.Repeat("é", 150))); len(e.Message) != maxQuoted-1 {
		t.Errorf("a body cut inside a rune keeps %d bytes, want %d", len(e.Message), maxQuoted-1)
	}
}

func TestErrorString(t *testing.T) {
	for _, c := range []struct {
		e    Error
		want string
	}{
		{Error{Code: 400, Status: "FAILED_PRECONDITION", Reason: "NOT_REGISTERED", Message: "m"}, "400 FAILED_PRECONDITION NOT_REGISTERED: m"},
		{Error{Code: 502, Reason: ReasonUnexpectedHTTPStatus, Message: "<html>"}, "502 UNEXPECTED_HTTP_STATUS: <html>"},
		{Error{Code: 500}, "500: "},
	} {
		if got := c.e.Error(); got != c.want {
			t.Errorf("Error() = %q, want %q", got, c.want)
		}
	}
}

func TestMetadataInt(t *testing.T) {
	e := &Error{Metadata: map[string]any{"int": 3, "int64": int64(-4), "uint32": uint32(5), "uint16": uint16(6), "float": 7.0,
		"frac": 7.5, "huge": 1e19, "nan": math.NaN(), "str": "8", "big": uint64(1 << 63), "min": -9223372036854775808.0}}
	for key, want := range map[string]int64{"int": 3, "int64": -4, "uint32": 5, "uint16": 6, "float": 7, "min": math.MinInt64} {
		if v, ok := e.MetadataInt(key); !ok || v != want {
			t.Errorf("MetadataInt(%s) = %d %v, want %d", key, v, ok, want)
		}
	}
	for _, key := range []string{"frac", "huge", "nan", "str", "big", "absent"} {
		if v, ok := e.MetadataInt(key); ok {
			t.Errorf("MetadataInt(%s) = %d: not an int64", key, v)
		}
	}
	if _, ok := (&Error{}).MetadataInt("x"); ok {
		t.Error("MetadataInt on nil metadata")
	}
}
