package gateway_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/walrus-go/walrus/gateway"
	"github.com/walrus-go/walrus/internal/testnet"
)

// TestMethodsAndRanges: a wrong method on a known route is 405 with an
// Allow header (an unknown path stays 404); a Range header that does not
// parse, or names another unit or several ranges, is ignored (200 with
// the whole blob, RFC 9110 14.2), while a valid but unsatisfiable one is
// 416 with Content-Range: bytes */SIZE; an end past the blob, however
// large the number, is the blob's last byte.
func TestMethodsAndRanges(t *testing.T) {
	net := testnet.Start(t, testnet.Config{})
	_, daemon := startServer(t, net, gateway.Config{Aggregator: true, Publisher: true, MetricsAddress: "off",
		Wallets: gateway.WalletsConfig{N: 1}})
	_, agg := startServer(t, net, gateway.Config{Aggregator: true, CacheSize: -1, MetricsAddress: "off"})
	data := randomBytes(40_000, 21)
	res := putBlob(t, daemon, "", data)
	id := res.BlobID().String()

	t.Run("405", func(t *testing.T) {
		for _, c := range []struct {
			base, method, path, allow string
		}{
			{daemon, "DELETE", "/v1/blobs", "PUT"},
			{daemon, "POST", "/v1/blobs", "PUT"},
			{daemon, "GET", "/v1/quilts", "PUT"},
			{daemon, "POST", "/v1/blobs/" + id, "GET, HEAD"},
			{agg, "PUT", "/v1/blobs/" + id, "GET, HEAD"},
			{agg, "DELETE", "/v1/quilts/" + id + "/patches", "GET, HEAD"},
			{agg, "POST", "/status", "GET, HEAD"},
			{agg, "PUT", "/v1/api", "GET, HEAD"},
		} {
			what := c.method + " " + c.path
			resp, body := call(t, c.method, c.base+c.path, strings.NewReader("x"), nil)
			if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != c.allow {
				t.Fatalf("%s: %d, Allow %q, want 405 with Allow %q: %s", what, resp.StatusCode, resp.Header.Get("Allow"), c.allow, body)
			}
			var e aip193
			if err := json.Unmarshal(body, &e); err != nil || e.Error.Code != 405 || e.Error.Status == "" ||
				len(e.Error.Details) != 1 || e.Error.Details[0].Reason != "METHOD_NOT_ALLOWED" ||
				resp.Header.Get("Content-Type") != "application/json" || resp.Header.Get("Cache-Control") != "no-store" {
				t.Fatalf("%s: not an AIP-193 405: %v %s", what, resp.Header, body)
			}
		}
		for _, c := range []struct{ base, method, path string }{
			{daemon, "GET", "/v1/nothing"}, {daemon, "DELETE", "/v1/nothing"}, {agg, "PUT", "/v1/blobs"}, {agg, "GET", "/"},
		} {
			resp, body := call(t, c.method, c.base+c.path, nil, nil)
			wantError(t, c.method+" "+c.path, resp, body, 404, gateway.ReasonNotFound)
		}
	})

	t.Run("range", func(t *testing.T) {
		size := len(data)
		for _, base := range []string{daemon, agg} {
			// Ignored: the whole blob, 200, no Content-Range.
			for _, h := range []string{"bytes=5-2", "bytes=abc", "items=0-4", "bytes=0-1,5-6", "bytes=", "bytes=--1",
				"bytes=99999999999999999999-5", "bytes=1-2x"} {
				resp, body := call(t, "GET", base+"/v1/blobs/"+id, nil, map[string]string{"Range": h})
				if resp.StatusCode != 200 || !bytes.Equal(body, data) || resp.Header.Get("Content-Range") != "" {
					t.Fatalf("%s Range %q: %d %q (%d bytes), want 200 with the whole blob", base, h, resp.StatusCode,
						resp.Header.Get("Content-Range"), len(body))
				}
			}
			// An end past the blob is its last byte, however large.
			for _, c := range []struct {
				header     string
				start, end int
			}{{"bytes=0-99999999999999999999", 0, size - 1}, {"bytes=39000-184467440737095516150", 39000, size - 1},
				{"bytes=-99999999999999999999", 0, size - 1}, {"bytes=00010-00020", 10, 20}} {
				resp, body := call(t, "GET", base+"/v1/blobs/"+id, nil, map[string]string{"Range": c.header})
				want := fmt.Sprintf("bytes %d-%d/%d", c.start, c.end, size)
				if resp.StatusCode != 206 || !bytes.Equal(body, data[c.start:c.end+1]) || resp.Header.Get("Content-Range") != want {
					t.Fatalf("%s Range %s: %d %q (%d bytes) %s, want 206 %s", base, c.header, resp.StatusCode,
						resp.Header.Get("Content-Range"), len(body), body, want)
				}
			}
			// Valid but unsatisfiable: 416 with the size.
			for _, h := range []string{"bytes=40000-40010", "bytes=40000-", "bytes=-0", "bytes=99999999999999999999-",
				"bytes=99999999999999999999-99999999999999999999"} {
				resp, body := call(t, "GET", base+"/v1/blobs/"+id, nil, map[string]string{"Range": h})
				wantError(t, "Range "+h, resp, body, 416, gateway.ReasonInvalidByteRange)
				if cr := resp.Header.Get("Content-Range"); cr != fmt.Sprintf("bytes */%d", size) {
					t.Fatalf("%s Range %s: Content-Range %q", base, h, cr)
				}
			}
		}
	})
}
