package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/client"
	"github.com/walrus-go/walrus/gateway"
	"github.com/walrus-go/walrus/ids"
	"github.com/walrus-go/walrus/internal/testnet"
	"github.com/walrus-go/walrus/quilt"
)

// TestHTTP walks every route and status code of the aggregator and the
// publisher against a test network (4 nodes, 10 shards): a daemon with a
// cache (the publisher) and an aggregator without one, so that reads go to
// the storage nodes.
func TestHTTP(t *testing.T) {
	net := testnet.Start(t, testnet.Config{})
	blocklist := filepath.Join(t.TempDir(), "blocklist.yaml")
	_, daemon := startServer(t, net, gateway.Config{Aggregator: true, Publisher: true, MaxBodySize: 64 << 10,
		BlocklistPath: blocklist, BlocklistReload: 50 * time.Millisecond, Wallets: gateway.WalletsConfig{N: 4}})
	_, agg := startServer(t, net, gateway.Config{Aggregator: true, CacheSize: -1, MetricsAddress: "off"})

	data := randomBytes(40_000, 1)
	res := putBlob(t, daemon, "?epochs=3", data)
	if res.NewlyCreated == nil || !res.NewlyCreated.BlobObject.Deletable || res.NewlyCreated.BlobObject.CertifiedEpoch == nil {
		t.Fatalf("PUT: want a newly created, certified, deletable blob: %+v", res)
	}
	id := res.NewlyCreated.BlobObject.BlobID
	obj := res.NewlyCreated.BlobObject.ID

	t.Run("status and api", func(t *testing.T) {
		resp, body := call(t, "GET", daemon+"/status", nil, nil)
		if resp.StatusCode != 200 || string(body) != "OK" {
			t.Fatalf("/status: %d %s", resp.StatusCode, body)
		}
		resp, body = call(t, "GET", agg+"/v1/api", nil, nil)
		if resp.StatusCode != 200 || !bytes.Contains(body, []byte("/v1/blobs/by-quilt-patch-id/{quilt_patch_id}")) {
			t.Fatalf("/v1/api: %d %.100s", resp.StatusCode, body)
		}
		resp, body = call(t, "GET", daemon+"/v1/nothing", nil, nil)
		wantError(t, "unknown route", resp, body, 404, gateway.ReasonNotFound)
		resp, body = call(t, "PUT", agg+"/v1/blobs", strings.NewReader("x"), nil)
		wantError(t, "PUT on an aggregator", resp, body, 404, gateway.ReasonNotFound)
		resp, _ = call(t, "OPTIONS", daemon+"/v1/blobs", nil, map[string]string{"Origin": "https://example.org",
			"Access-Control-Request-Method": "PUT", "Access-Control-Request-Headers": "content-type"})
		if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != "*" ||
			!strings.Contains(resp.Header.Get("Access-Control-Allow-Methods"), "PUT") {
			t.Fatalf("CORS preflight: %d %v", resp.StatusCode, resp.Header)
		}
	})

	t.Run("get blob", func(t *testing.T) {
		for _, base := range []string{daemon, agg} {
			resp, body := call(t, "GET", base+"/v1/blobs/"+id.String(), nil, nil)
			if resp.StatusCode != 200 || !bytes.Equal(body, data) {
				t.Fatalf("%s: GET: %d, %d bytes", base, resp.StatusCode, len(body))
			}
			h := resp.Header
			if h.Get("ETag") != `"`+id.String()+`"` || h.Get("X-Content-Type-Options") != "nosniff" ||
				h.Get("Content-Type") != "application/octet-stream" || !strings.HasPrefix(h.Get("Cache-Control"), "public, max-age=") ||
				h.Get("Access-Control-Allow-Origin") != "*" {
				t.Fatalf("%s: GET headers: %v", base, h)
			}
			resp, _ = call(t, "GET", base+"/v1/blobs/"+id.String(), nil, map[string]string{"Accept": "image/png"})
			if resp.Header.Get("Content-Type") != "image/png" {
				t.Fatalf("Accept not mirrored: %v", resp.Header)
			}
			resp, body = call(t, "GET", base+"/v1/blobs/"+id.String(), nil, map[string]string{"If-None-Match": `"` + id.String() + `"`})
			if resp.StatusCode != 304 || len(body) != 0 {
				t.Fatalf("If-None-Match: %d", resp.StatusCode)
			}
			for _, q := range []string{"?strict_consistency_check=true", "?skip_consistency_check=true"} {
				resp, body = call(t, "GET", base+"/v1/blobs/"+id.String()+q, nil, nil)
				if resp.StatusCode != 200 || !bytes.Equal(body, data) {
					t.Fatalf("GET%s: %d", q, resp.StatusCode)
				}
			}
			resp, body = call(t, "GET", base+"/v1/blobs/"+id.String()+"?strict_consistency_check=true&skip_consistency_check=true", nil, nil)
			wantError(t, "both checks", resp, body, 400, "")
			resp, body = call(t, "HEAD", base+"/v1/blobs/"+id.String(), nil, nil)
			if resp.StatusCode != 200 || resp.ContentLength != int64(len(data)) || len(body) != 0 {
				t.Fatalf("HEAD: %d %d", resp.StatusCode, resp.ContentLength)
			}
		}
	})

	t.Run("range", func(t *testing.T) {
		size := len(data)
		for _, base := range []string{daemon, agg} {
			for _, c := range []struct {
				header     string
				start, end int
			}{{"bytes=0-0", 0, 0}, {"bytes=10-20009", 10, 20009}, {"bytes=39990-", 39990, size - 1},
				{"bytes=-7", size - 7, size - 1}, {"bytes=100-99999999", 100, size - 1}} {
				resp, body := call(t, "GET", base+"/v1/blobs/"+id.String(), nil, map[string]string{"Range": c.header})
				want := fmt.Sprintf("bytes %d-%d/%d", c.start, c.end, size)
				if resp.StatusCode != 206 || !bytes.Equal(body, data[c.start:c.end+1]) || resp.Header.Get("Content-Range") != want {
					t.Fatalf("%s Range %s: %d %q (%d bytes), want %s", base, c.header, resp.StatusCode, resp.Header.Get("Content-Range"), len(body), want)
				}
			}
			for _, h := range []string{"bytes=40000-40010", "bytes=-0"} {
				resp, body := call(t, "GET", base+"/v1/blobs/"+id.String(), nil, map[string]string{"Range": h})
				wantError(t, "Range "+h, resp, body, 416, gateway.ReasonInvalidByteRange)
			}
			// A Range that does not parse, another unit or several ranges
			// are ignored (RFC 9110 14.2): the whole blob.
			for _, h := range []string{"bytes=5-2", "bytes=a-b", "items=0-1", "bytes=0-1,5-6"} {
				resp, body := call(t, "GET", base+"/v1/blobs/"+id.String(), nil, map[string]string{"Range": h})
				if resp.StatusCode != 200 || !bytes.Equal(body, data) {
					t.Fatalf("%s Range %s: %d (%d bytes), want 200 with the blob", base, h, resp.StatusCode, len(body))
				}
			}
			resp, _ := call(t, "GET", base+"/v1/blobs/"+id.String(), nil, map[string]string{"Range": "bytes=40000-"})
			if resp.Header.Get("Content-Range") != fmt.Sprintf("bytes */%d", size) {
				t.Fatalf("416 Content-Range: %q", resp.Header.Get("Content-Range"))
			}
			resp, body := call(t, "GET", base+"/v1/blobs/"+id.String()+"/byte-range?start=100&length=5000", nil, nil)
			if resp.StatusCode != 200 || !bytes.Equal(body, data[100:5100]) || resp.Header.Get("ETag") != `"`+id.String()+`-100-5000"` {
				t.Fatalf("byte-range: %d %v", resp.StatusCode, resp.Header)
			}
			for _, q := range []string{"?start=1&length=0", "?start=x&length=1", "?length=5", "?start=18446744073709551615&length=2"} {
				resp, body := call(t, "GET", base+"/v1/blobs/"+id.String()+"/byte-range"+q, nil, nil)
				wantError(t, "byte-range"+q, resp, body, 400, gateway.ReasonInvalidByteRange)
			}
			resp, body = call(t, "GET", base+"/v1/blobs/"+id.String()+"/byte-range?start=39999&length=2", nil, nil)
			wantError(t, "byte-range past the end", resp, body, 416, gateway.ReasonInvalidByteRange)
		}
	})

	t.Run("bad IDs and unknown blobs", func(t *testing.T) {
		unknown := blob.ID{1, 2, 3}
		for _, c := range []struct {
			path   string
			code   int
			reason string
		}{
			{"/v1/blobs/not-a-blob-id", 400, gateway.ReasonInvalidBlobID},
			{"/v1/blobs/not-a-blob-id/byte-range?start=0&length=1", 400, gateway.ReasonInvalidBlobID},
			{"/v1/blobs/by-object-id/0xzz", 400, gateway.ReasonInvalidObjectID},
			{"/v1/blobs/by-quilt-patch-id/AAAA", 400, gateway.ReasonInvalidPatchID},
			{"/v1/blobs/by-quilt-id/nope/file.txt", 400, gateway.ReasonInvalidBlobID},
			{"/v1/quilts/nope/patches", 400, gateway.ReasonInvalidBlobID},
			{"/v1/blobs/" + unknown.String(), 404, gateway.ReasonBlobNotFound},
			{"/v1/blobs/" + unknown.String() + "/byte-range?start=0&length=1", 404, gateway.ReasonBlobNotFound},
			{"/v1/blobs/by-object-id/" + ids.ObjectID{9}.String(), 404, gateway.ReasonBlobNotFound},
			{"/v1/quilts/" + unknown.String() + "/patches", 404, gateway.ReasonBlobNotFound},
			{"/v1/blobs/by-quilt-patch-id/" + (quilt.PatchID{Quilt: unknown, Start: 1, End: 2}).String(), 404, gateway.ReasonBlobNotFound},
			{"/v1/blobs/by-quilt-patch-id/" + (quilt.PatchID{Quilt: unknown, Start: 1, End: 200}).String(), 400, gateway.ReasonInvalidPatchID},
			{"/v1/blobs/x/y", 404, gateway.ReasonNotFound},
		} {
			resp, body := call(t, "GET", agg+c.path, nil, nil)
			wantError(t, c.path, resp, body, c.code, c.reason)
		}
	})

	t.Run("by object id", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		// The publisher hands the Blob object to its main wallet.
		b, err := net.Client.OwnedBlob(ctx, obj)
		if err != nil {
			t.Fatalf("the main wallet does not own the stored blob: %v", err)
		}
		if err := net.Client.SetBlobAttributes(ctx, b.ID, []client.Attribute{{Key: "content-type", Value: "text/plain"},
			{Key: "Content-Disposition", Value: `attachment; filename="a.txt"`}, {Key: "x-secret", Value: "no"},
			{Key: "cache-control", Value: "no"}}); err != nil {
			t.Fatal(err)
		}
		for _, base := range []string{daemon, agg} {
			resp, body := call(t, "GET", base+"/v1/blobs/by-object-id/"+obj.String(), nil, nil)
			h := resp.Header
			if resp.StatusCode != 200 || !bytes.Equal(body, data) || h.Get("Content-Type") != "text/plain" ||
				h.Get("Content-Disposition") != `attachment; filename="a.txt"` || h.Get("X-Secret") != "" ||
				!strings.HasPrefix(h.Get("Cache-Control"), "public") || h.Get("ETag") != `"`+id.String()+`"` {
				t.Fatalf("by-object-id: %d %v", resp.StatusCode, h)
			}
			resp, body = call(t, "GET", base+"/v1/blobs/by-object-id/"+obj.String(), nil, map[string]string{"Range": "bytes=1-2"})
			if resp.StatusCode != 206 || !bytes.Equal(body, data[1:3]) || resp.Header.Get("Content-Type") != "text/plain" {
				t.Fatalf("by-object-id with Range: %d %v", resp.StatusCode, resp.Header)
			}
		}
	})

	t.Run("publisher", func(t *testing.T) {
		// A permanent blob stored twice: the second time it is already certified.
		perm := randomBytes(5000, 2)
		first := putBlob(t, daemon, "?permanent=true&epochs=2", perm)
		if first.NewlyCreated == nil || first.NewlyCreated.BlobObject.Deletable {
			t.Fatalf("permanent: %+v", first)
		}
		// Once the nodes report it certified (they follow the chain's events)…
		pid := first.NewlyCreated.BlobObject.BlobID
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		for {
			st, err := net.Client.BlobStatus(ctx, pid)
			if err == nil && st.IsCertified {
				break
			}
			if ctx.Err() != nil {
				t.Fatalf("the nodes never report %s certified", pid)
			}
			time.Sleep(20 * time.Millisecond)
		}
		again := putBlob(t, daemon, "?permanent=true&epochs=2", perm)
		if again.AlreadyCertified == nil || again.AlreadyCertified.BlobID != first.NewlyCreated.BlobObject.BlobID {
			t.Fatalf("second permanent store: %+v", again)
		}
		forced := putBlob(t, daemon, "?permanent=true&epochs=2&force=true", perm)
		if forced.NewlyCreated == nil {
			t.Fatalf("forced store: %+v", forced)
		}
		// send_object_to and share.
		to := ids.Address{7}
		sent := putBlob(t, daemon, "?send_object_to="+to.String(), randomBytes(100, 3))
		o, err := net.Chain.Object(ctx, sent.NewlyCreated.BlobObject.ID)
		if err != nil || o.Owner.Address != to {
			t.Fatalf("send_object_to: owner %v (%v)", o, err)
		}
		shared := putBlob(t, daemon, "?share=true&permanent=true", randomBytes(100, 4))
		if shared.NewlyCreated == nil || shared.NewlyCreated.SharedBlobObject == nil {
			t.Fatalf("share: %+v", shared)
		}
		for _, q := range []string{"?epochs=0", "?epochs=x", "?epoch=3", "?permanent=true&deletable=true", "?share=yes",
			"?share=true&send_object_to=" + to.String(), "?send_object_to=0x12", "?encoding_type=RS1", "?epochs=1&epochs=2", "?epochs=1000"} {
			resp, body := call(t, "PUT", daemon+"/v1/blobs"+q, strings.NewReader("x"), nil)
			if resp.StatusCode != 400 {
				t.Fatalf("PUT%s: %d %s", q, resp.StatusCode, body)
			}
			wantError(t, "PUT"+q, resp, body, 400, "")
		}
		// 403 SIZE_EXCEEDED (Walrus's pair, not HTTP's 413) from the
		// Content-Length, before the body is read…
		resp, body := call(t, "PUT", daemon+"/v1/blobs", bytes.NewReader(make([]byte, 64<<10+1)), nil)
		wantError(t, "PUT over the limit", resp, body, 403, gateway.ReasonBodyTooLarge)
		wantStatus(t, "PUT over the limit", body, "SIZE_EXCEEDED")
		// …and while reading a body without one.
		resp, body = call(t, "PUT", daemon+"/v1/blobs", io.MultiReader(bytes.NewReader(make([]byte, 64<<10)), strings.NewReader("xy")), nil)
		wantError(t, "chunked PUT over the limit", resp, body, 403, gateway.ReasonBodyTooLarge)
		wantStatus(t, "chunked PUT over the limit", body, "SIZE_EXCEEDED")
		exact := putBlob(t, daemon, "", randomBytes(64<<10, 5))
		if exact.NewlyCreated == nil {
			t.Fatalf("a body of exactly the limit: %+v", exact)
		}
		// Read-after-write: a blob is readable from the publisher at once.
		fresh := randomBytes(3000, 6)
		r := putBlob(t, daemon, "", fresh)
		resp, body = call(t, "GET", daemon+"/v1/blobs/"+r.BlobID().String(), nil, nil)
		if resp.StatusCode != 200 || !bytes.Equal(body, fresh) {
			t.Fatalf("read after write: %d", resp.StatusCode)
		}
	})

	t.Run("concurrent puts", func(t *testing.T) {
		const n = 8
		var wg sync.WaitGroup
		results := make([]client.BlobStoreResult, n)
		errs := make([]error, n)
		start := time.Now()
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				req, _ := http.NewRequest("PUT", daemon+"/v1/blobs?epochs=2", bytes.NewReader(randomBytes(20_000, uint64(100+i))))
				rsp, err := http.DefaultClient.Do(req)
				if err != nil {
					errs[i] = err
					return
				}
				defer rsp.Body.Close()
				b, _ := io.ReadAll(rsp.Body)
				if rsp.StatusCode != 200 {
					errs[i] = fmt.Errorf("%d %s", rsp.StatusCode, b)
					return
				}
				errs[i] = json.Unmarshal(b, &results[i])
			}()
		}
		wg.Wait()
		took := time.Since(start)
		seen := map[blob.ID]bool{}
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("PUT %d: %v", i, errs[i])
			}
			if results[i].NewlyCreated == nil || seen[*results[i].BlobID()] {
				t.Fatalf("PUT %d: %+v", i, results[i])
			}
			seen[*results[i].BlobID()] = true
		}
		t.Logf("%d concurrent PUTs of 20 kB on 4 sub-wallets in %v", n, took.Round(time.Millisecond))
		for i := range n {
			resp, body := call(t, "GET", agg+"/v1/blobs/"+results[i].BlobID().String(), nil, nil)
			if resp.StatusCode != 200 || !bytes.Equal(body, randomBytes(20_000, uint64(100+i))) {
				t.Fatalf("GET %d: %d", i, resp.StatusCode)
			}
		}
	})

	t.Run("quilts", func(t *testing.T) { testQuiltRoutes(t, daemon, agg, id) })

	t.Run("blocklist", func(t *testing.T) {
		blocked := randomBytes(700, 8)
		r := putBlob(t, daemon, "", blocked)
		bid := *r.BlobID()
		if err := os.WriteFile(blocklist, []byte("# blocked\n- "+bid.String()+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(5 * time.Second)
		for {
			resp, body := call(t, "GET", daemon+"/v1/blobs/"+bid.String(), nil, nil)
			if resp.StatusCode == 451 {
				wantError(t, "blocked GET", resp, body, 451, gateway.ReasonForbiddenBlob)
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("blocked blob still served: %d", resp.StatusCode)
			}
			time.Sleep(20 * time.Millisecond)
		}
		resp, body := call(t, "PUT", daemon+"/v1/blobs", bytes.NewReader(blocked), nil)
		wantError(t, "blocked PUT", resp, body, 451, gateway.ReasonForbiddenBlob)
		resp, body = call(t, "GET", daemon+"/v1/blobs/"+bid.String()+"/byte-range?start=0&length=1", nil, nil)
		wantError(t, "blocked byte-range", resp, body, 451, gateway.ReasonForbiddenBlob)
	})

	t.Run("metrics", func(t *testing.T) {
		// The daemon's metrics address serves Prometheus text.
		srv, _ := startServer(t, net, gateway.Config{Aggregator: true})
		resp, body := call(t, "GET", "http://"+srv.MetricsAddr()+"/metrics", nil, nil)
		if resp.StatusCode != 200 || !bytes.Contains(body, []byte("walrus_gateway")) {
			// Counters appear once used; a request makes them.
			call(t, "GET", "http://"+srv.Addr()+"/status", nil, nil)
			resp, body = call(t, "GET", "http://"+srv.MetricsAddr()+"/metrics", nil, nil)
			if !bytes.Contains(body, []byte("walrus_gateway_http_requests_total")) {
				t.Fatalf("metrics: %d %.200s", resp.StatusCode, body)
			}
		}
	})

	// With a node down, patch and range reads whose slivers it holds fall
	// back to decoding the blob from the other nodes.
	t.Run("node down", func(t *testing.T) {
		files := map[string][]byte{}
		var order []string
		for i := range 6 {
			id := fmt.Sprintf("p%d", i)
			files[id], order = randomBytes(2000+i, uint64(30+i)), append(order, id)
		}
		body, ct := quiltForm(t, files, order, "")
		resp, b := call(t, "PUT", daemon+"/v1/quilts", body, map[string]string{"Content-Type": ct})
		var qr client.QuiltStoreResult
		if resp.StatusCode != 200 || json.Unmarshal(b, &qr) != nil {
			t.Fatalf("PUT quilt: %d %s", resp.StatusCode, b)
		}
		big := randomBytes(30_000, 40)
		br := putBlob(t, daemon, "", big)
		_, fresh := startServer(t, net, gateway.Config{Aggregator: true, CacheSize: -1, MetricsAddress: "off"})
		if err := net.StopNode(0); err != nil {
			t.Fatal(err)
		}
		defer func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if err := net.StartNode(ctx, 0); err != nil {
				t.Fatal(err)
			}
		}()
		qid := qr.BlobStoreResult.NewlyCreated.BlobObject.BlobID
		for _, p := range qr.StoredQuiltBlobs {
			resp, got := call(t, "GET", fresh+"/v1/blobs/by-quilt-id/"+qid.String()+"/"+p.Identifier, nil, nil)
			if resp.StatusCode != 200 || !bytes.Equal(got, files[p.Identifier]) {
				t.Fatalf("patch %s with node 0 down: %d", p.Identifier, resp.StatusCode)
			}
		}
		for _, h := range []string{"bytes=0-29999", "bytes=12345-12400", "bytes=-100"} {
			resp, got := call(t, "GET", fresh+"/v1/blobs/"+br.BlobID().String(), nil, map[string]string{"Range": h})
			if resp.StatusCode != 206 || len(got) == 0 || !bytes.Contains(big, got) {
				t.Fatalf("range %s with node 0 down: %d", h, resp.StatusCode)
			}
		}
	})

	// Last: with every node down, reads that need the nodes are 503.
	t.Run("unavailable", func(t *testing.T) {
		other := putBlob(t, daemon, "", randomBytes(1000, 9))
		for i := range net.NodeCount() {
			if err := net.StopNode(i); err != nil {
				t.Fatal(err)
			}
		}
		resp, body := call(t, "GET", agg+"/v1/blobs/"+other.BlobID().String(), nil, nil)
		wantError(t, "GET with no node", resp, body, 503, gateway.ReasonUnavailable)
		if resp.Header.Get("Retry-After") == "" {
			t.Fatal("503 without Retry-After")
		}
		// The publisher still serves what it cached.
		resp, _ = call(t, "GET", daemon+"/v1/blobs/"+other.BlobID().String(), nil, nil)
		if resp.StatusCode != 200 {
			t.Fatalf("cached read with no node: %d", resp.StatusCode)
		}
		resp, body = call(t, "PUT", daemon+"/v1/blobs", bytes.NewReader(randomBytes(100, 10)), nil)
		wantError(t, "PUT with no node", resp, body, 503, "")
	})
}
