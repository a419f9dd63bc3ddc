package gateway_test

import (
	"bytes"
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/client"
	"github.com/walrus-go/walrus/gateway"
	"github.com/walrus-go/walrus/quilt"
)

// testQuiltRoutes stores a quilt through the publisher and reads it back
// through both servers by patch ID, by identifier and as a listing.
// notQuilt is an ordinary blob.
func testQuiltRoutes(t *testing.T, daemon, agg string, notQuilt blob.ID) {
	files := map[string][]byte{"index.html": []byte("<h1>walrus</h1>"), "img/logo.png": randomBytes(3000, 20),
		"notes.txt": []byte("hello"), "empty": {}}
	order := []string{"notes.txt", "img/logo.png", "index.html", "empty"}
	meta := `[{"identifier":"index.html","tags":{"content-type":"text/html","x-kind":"page"}},
		{"identifier":"img/logo.png","tags":{"content-type":"image/png","n":3}},
		{"identifier":"no-such-file","tags":{"a":"b"}}]`
	body, ct := quiltForm(t, files, order, meta)
	resp, b := call(t, "PUT", daemon+"/v1/quilts?epochs=2", body, map[string]string{"Content-Type": ct})
	if resp.StatusCode != 200 {
		t.Fatalf("PUT /v1/quilts: %d %s", resp.StatusCode, b)
	}
	var res client.QuiltStoreResult
	if err := json.Unmarshal(b, &res); err != nil || res.BlobStoreResult.NewlyCreated == nil || len(res.StoredQuiltBlobs) != len(files) {
		t.Fatalf("quilt result %s (%v)", b, err)
	}
	qid := res.BlobStoreResult.NewlyCreated.BlobObject.BlobID
	// The listing is in identifier order, with tags; a non-string tag keeps its JSON text.
	for _, base := range []string{daemon, agg} {
		resp, b := call(t, "GET", base+"/v1/quilts/"+qid.String()+"/patches", nil, nil)
		var list []struct {
			Identifier string            `json:"identifier"`
			PatchID    string            `json:"patch_id"`
			Tags       map[string]string `json:"tags"`
		}
		if resp.StatusCode != 200 || json.Unmarshal(b, &list) != nil || len(list) != len(files) {
			t.Fatalf("%s: list: %d %s", base, resp.StatusCode, b)
		}
		if list[0].Identifier != "empty" || list[1].Identifier != "img/logo.png" || list[1].Tags["n"] != "3" ||
			list[2].Tags["x-kind"] != "page" || list[3].Tags == nil {
			t.Fatalf("%s: list: %s", base, b)
		}
		for i, item := range list {
			if item.PatchID != res.StoredQuiltBlobs[i].QuiltPatchID || item.Identifier != res.StoredQuiltBlobs[i].Identifier {
				t.Fatalf("%s: list item %d %+v vs stored %+v", base, i, item, res.StoredQuiltBlobs[i])
			}
			want := files[item.Identifier]
			resp, got := call(t, "GET", base+"/v1/blobs/by-quilt-patch-id/"+item.PatchID, nil, nil)
			if resp.StatusCode != 200 || !bytes.Equal(got, want) || resp.Header.Get("X-Quilt-Patch-Identifier") != item.Identifier ||
				resp.Header.Get("ETag") != `"`+item.PatchID+`"` {
				t.Fatalf("%s: by patch ID %s: %d %v", base, item.Identifier, resp.StatusCode, resp.Header)
			}
			for _, path := range []string{item.Identifier, url.PathEscape(item.Identifier)} {
				resp, got = call(t, "GET", base+"/v1/blobs/by-quilt-id/"+qid.String()+"/"+path, nil, nil)
				if resp.StatusCode != 200 || !bytes.Equal(got, want) || resp.Header.Get("ETag") != `"`+qid.String()+`"` {
					t.Fatalf("%s: by identifier %s: %d %s", base, path, resp.StatusCode, got)
				}
			}
		}
		// Allow-listed tags become headers; others do not.
		resp, _ = call(t, "GET", base+"/v1/blobs/by-quilt-id/"+qid.String()+"/index.html", nil, nil)
		if resp.Header.Get("Content-Type") != "text/html" || resp.Header.Get("X-Kind") != "" {
			t.Fatalf("%s: tag headers: %v", base, resp.Header)
		}
		resp, b = call(t, "GET", base+"/v1/blobs/by-quilt-id/"+qid.String()+"/missing.txt", nil, nil)
		wantError(t, "unknown identifier", resp, b, 404, gateway.ReasonQuiltPatchNotFound)
		resp, b = call(t, "GET", base+"/v1/blobs/by-quilt-id/"+notQuilt.String()+"/x", nil, nil)
		wantError(t, "not a quilt", resp, b, 404, gateway.ReasonQuiltPatchNotFound)
		// A patch ID whose range holds no patch.
		var first quilt.PatchID
		if err := first.UnmarshalText([]byte(list[0].PatchID)); err != nil {
			t.Fatal(err)
		}
		wrong := quilt.PatchID{Quilt: qid, Start: first.Start + 1, End: first.End + 1}
		resp, b = call(t, "GET", base+"/v1/blobs/by-quilt-patch-id/"+wrong.String(), nil, nil)
		if resp.StatusCode != 404 && resp.StatusCode != 200 {
			t.Fatalf("a shifted patch ID: %d %s", resp.StatusCode, b)
		}
	}

	// Malformed forms and identifiers.
	for _, c := range []struct {
		name  string
		files map[string][]byte
		meta  string
		ct    string
	}{
		{"no files", map[string][]byte{}, `[]`, ""},
		{"reserved identifier", map[string][]byte{"_secret": []byte("x")}, "", ""},
		{"trailing space", map[string][]byte{"a ": []byte("x")}, "", ""},
		{"bad metadata", map[string][]byte{"a": []byte("x")}, `{"identifier":"a"}`, ""},
		{"duplicate metadata", map[string][]byte{"a": []byte("x")}, `[{"identifier":"a"},{"identifier":"a"}]`, ""},
		{"not multipart", map[string][]byte{"a": []byte("x")}, "", "application/octet-stream"},
	} {
		var order []string
		for k := range c.files {
			order = append(order, k)
		}
		body, ct := quiltForm(t, c.files, order, c.meta)
		if c.ct != "" {
			ct = c.ct
		}
		resp, b := call(t, "PUT", daemon+"/v1/quilts", body, map[string]string{"Content-Type": ct})
		wantError(t, "quilt: "+c.name, resp, b, 400, gateway.ReasonMalformedRequest)
	}
	// Two files with one identifier.
	var buf strings.Builder
	buf.WriteString("--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\ny\r\n--B--\r\n")
	resp, b = call(t, "PUT", daemon+"/v1/quilts", strings.NewReader(buf.String()), map[string]string{"Content-Type": "multipart/form-data; boundary=B"})
	wantError(t, "duplicate identifiers", resp, b, 400, gateway.ReasonMalformedRequest)
}
