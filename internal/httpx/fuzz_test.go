package httpx

import (
	"reflect"
	"testing"
	"unicode/utf8"
)

// FuzzParse feeds Parse untrusted answers, as a client reads them from any
// server or proxy: it never panics, always keeps the HTTP code, quotes a
// body that is not AIP-193 in at most maxQuoted bytes of valid UTF-8, and
// what it reads from an AIP-193 body survives MarshalJSON and Parse again.
func FuzzParse(f *testing.F) {
	f.Add(400, []byte(`{"error":{"code":400,"status":"FAILED_PRECONDITION","message":"m","details":[{"@type":"ErrorInfo","reason":"NOT_REGISTERED","domain":"storage.walrus.space","metadata":{"shard":0,"epoch":17}}]}}`))
	f.Add(500, []byte(`{"error":{"code":500,"status":"INTERNAL","message":"m","details":[{"@type":"DebugInfo","detail":"x"},{"@type":"ErrorInfo","reason":"INTERNAL_ERROR","domain":"global","metadata":{}}]}}`))
	f.Add(404, []byte(`{"error":{"status":"NOT_FOUND","details":[{"@type":"ErrorInfo","reason":5},{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"R","metadata":{"a":[1,"b",null,{"c":1e300}]}}]}}`))
	f.Add(502, []byte("<html><body>502 Bad Gateway</body></html>"))
	f.Add(503, []byte(""))
	f.Add(200, []byte(`{"success":{"code":200,"data":"x"}}`))
	f.Add(400, []byte("{\"error\":{\"status\":\"\xff\",\"message\":\"\\ud800\"}}"))
	f.Fuzz(func(t *testing.T, code int, body []byte) {
		e := Parse(code, body)
		if e.Code != code {
			t.Fatalf("code %d, want the HTTP code %d", e.Code, code)
		}
		if e.Status == "" {
			if e.Reason != ReasonUnexpectedHTTPStatus || len(e.Message) > maxQuoted || !utf8.ValidString(e.Message) {
				t.Fatalf("a body that is not AIP-193 gave %+v", e)
			}
			return
		}
		if e.Metadata != nil && len(e.Metadata) == 0 {
			t.Fatal("empty metadata is not nil")
		}
		b, err := e.MarshalJSON()
		if err != nil {
			t.Fatalf("MarshalJSON(%+v): %v", e, err)
		}
		if again := Parse(code, b); !reflect.DeepEqual(again, e) {
			t.Fatalf("round trip:\n%+v\n%+v\n%s", e, again, b)
		}
	})
}
