package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/walrus-go/walrus/client"
	"github.com/walrus-go/walrus/gateway"
	"github.com/walrus-go/walrus/internal/httpx"
	"github.com/walrus-go/walrus/internal/testnet"
)

// startServer runs a gateway on the network on 127.0.0.1 ports chosen by
// the OS, closed when the test ends.
func startServer(t *testing.T, net *testnet.Network, cfg gateway.Config) (*gateway.Server, string) {
	t.Helper()
	cfg.BindAddress = "127.0.0.1:0"
	if cfg.MetricsAddress == "" {
		cfg.MetricsAddress = "127.0.0.1:0"
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := gateway.New(ctx, cfg, gateway.Deps{Client: net.Client, Key: net.User})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("closing the gateway: %v", err)
		}
	})
	return s, "http://" + s.Addr()
}

func randomBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 11))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// call sends a request and returns the answer with its body.
func call(t *testing.T, method, url string, body io.Reader, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// aip193 is the error body.
type aip193 struct {
	Error struct {
		Code    int    `json:"code"`
		Status  string `json:"status"`
		Message string `json:"message"`
		Details []struct {
			Type   string `json:"@type"`
			Reason string `json:"reason"`
			Domain string `json:"domain"`
		} `json:"details"`
	} `json:"error"`
}

// wantError checks an error answer: the status code, the AIP-193 body with
// the reason, and that it may not be cached.
func wantError(t *testing.T, what string, resp *http.Response, body []byte, code int, reason string) {
	t.Helper()
	if resp.StatusCode != code {
		t.Fatalf("%s: status %d, want %d: %s", what, resp.StatusCode, code, body)
	}
	var e aip193
	if err := json.Unmarshal(body, &e); err != nil || e.Error.Code != code || e.Error.Status == "" || e.Error.Message == "" ||
		len(e.Error.Details) != 1 || e.Error.Details[0].Type != "ErrorInfo" {
		t.Fatalf("%s: not an AIP-193 error: %s (%v)", what, body, err)
	}
	if reason != "" && e.Error.Details[0].Reason != reason {
		t.Fatalf("%s: reason %s, want %s (%s)", what, e.Error.Details[0].Reason, reason, body)
	}
	// A Walrus client refuses a status that its table does not pair with
	// the code, and an ErrorInfo without a domain.
	if c, ok := httpx.CodeFor(e.Error.Status); !ok || c != code || e.Error.Details[0].Domain == "" {
		t.Fatalf("%s: %d %s in domain %q is not a Walrus answer (%s)", what, code, e.Error.Status, e.Error.Details[0].Domain, body)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Fatalf("%s: Cache-Control %q on an error, want no-store", what, cc)
	}
	if resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("%s: Content-Type %q", what, resp.Header.Get("Content-Type"))
	}
}

// wantStatus checks the AIP-193 status of an error body.
func wantStatus(t *testing.T, what string, body []byte, status string) {
	t.Helper()
	if e := httpx.Parse(0, body); e.Status != status {
		t.Fatalf("%s: status %q, want %q (%s)", what, e.Status, status, body)
	}
}

// putBlob stores data through a publisher and returns the result.
func putBlob(t *testing.T, base, query string, data []byte) client.BlobStoreResult {
	t.Helper()
	resp, body := call(t, "PUT", base+"/v1/blobs"+query, bytes.NewReader(data), nil)
	if resp.StatusCode != 200 {
		t.Fatalf("PUT /v1/blobs%s: %d %s", query, resp.StatusCode, body)
	}
	var res client.BlobStoreResult
	if err := json.Unmarshal(body, &res); err != nil {
		t.Fatalf("PUT result %s: %v", body, err)
	}
	if res.BlobID() == nil {
		t.Fatalf("PUT result without a blob ID: %s", body)
	}
	return res
}

// quiltForm builds a multipart body: the files by identifier, and
// _metadata if given.
func quiltForm(t *testing.T, files map[string][]byte, order []string, metadata string) (*bytes.Buffer, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, id := range order {
		fw, err := mw.CreateFormFile(id, "file-"+strings.ReplaceAll(id, "/", "_"))
		if err != nil {
			t.Fatal(err)
		}
		fw.Write(files[id])
	}
	if metadata != "" {
		if err := mw.WriteField("_metadata", metadata); err != nil {
			t.Fatal(err)
		}
	}
	mw.Close()
	return &buf, mw.FormDataContentType()
}
