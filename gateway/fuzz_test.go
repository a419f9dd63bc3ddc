package gateway

import (
	"bytes"
	"mime/multipart"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/quilt"
)

// FuzzParseRange: Range headers never panic, and a range that parses
// resolves inside the blob (or not at all).
func FuzzParseRange(f *testing.F) {
	for _, s := range []string{"bytes=0-0", "bytes=10-20", "bytes=5-", "bytes=-7", "bytes=0-1,2-3", "items=1-2", "bytes=-0",
		"bytes= 1 - 2 ", "bytes=99999999999999999999-", "BYTES=3-4", "bytes=-", "bytes=+1-2"} {
		f.Add(s, uint64(100))
	}
	f.Fuzz(func(t *testing.T, h string, size uint64) {
		r, ok := parseRange(h)
		if !ok {
			return
		}
		start, n, ok := r.resolve(size)
		if ok && (n == 0 || start >= size || n > size-start) {
			t.Fatalf("%q on %d bytes resolved to [%d, +%d)", h, size, start, n)
		}
	})
}

// FuzzPatchPath: patch IDs in paths parse only if they fit the network,
// and then print back as given.
func FuzzPatchPath(f *testing.F) {
	p := blob.MustParams(1000)
	f.Add(quilt.PatchID{Quilt: blob.ID{1}, Start: 1, End: 3}.String())
	f.Add(quilt.PatchID{Quilt: blob.ID{2}, Start: 0, End: 3}.String())
	f.Add("AAAA")
	f.Add(strings.Repeat("_", quilt.PatchIDTextSize))
	f.Fuzz(func(t *testing.T, s string) {
		pid, e := parsePatchPath(s, p)
		if e != nil {
			if e.Code != 400 {
				t.Fatalf("%q: code %d", s, e.Code)
			}
			return
		}
		if pid.String() != s || pid.Start == 0 || pid.Start >= pid.End || int(pid.End) > p.SecondarySymbols() {
			t.Fatalf("%q parsed to %+v", s, pid)
		}
	})
}

// FuzzQuiltForm: multipart bodies and _metadata never panic; accepted
// forms hold valid, tagged patches.
func FuzzQuiltForm(f *testing.F) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("a.txt", "a.txt")
	fw.Write([]byte("hello"))
	mw.WriteField("_metadata", `[{"identifier":"a.txt","tags":{"k":"v","n":1}}]`)
	mw.Close()
	f.Add(buf.Bytes(), mw.Boundary())
	f.Add([]byte("--B\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\ny\r\n--B--\r\n"), "B")
	f.Add([]byte("--B\r\nContent-Disposition: form-data; name=\"_metadata\"\r\n\r\n[{}]\r\n--B--\r\n"), "B")
	f.Fuzz(func(t *testing.T, body []byte, boundary string) {
		patches, e := parseQuiltForm(bytes.NewReader(body), "multipart/form-data; boundary="+boundary)
		if e != nil {
			if e.Code != 400 {
				t.Fatalf("code %d", e.Code)
			}
			return
		}
		if len(patches) == 0 {
			t.Fatal("accepted a form without files")
		}
		for _, pt := range patches {
			if quilt.ValidateHTTPIdentifier(pt.Identifier) != nil {
				t.Fatalf("accepted identifier %q", pt.Identifier)
			}
		}
	})
}

// FuzzQuiltMetadata: _metadata fields never panic; accepted ones name
// each identifier once.
func FuzzQuiltMetadata(f *testing.F) {
	for _, s := range []string{`[]`, `[{"identifier":"a","tags":{"x":"y","n":[1,2]}}]`, `[{"identifier":"a"},{"identifier":"a"}]`,
		`{"identifier":"a"}`, `[{"tags":{}}]`, `null`, `[null]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m := map[string]map[string]string{}
		if err := parseQuiltMetadata(b, m); err != nil {
			return
		}
		for id, tags := range m {
			if tags == nil {
				t.Fatalf("%q: nil tags", id)
			}
		}
	})
}

// FuzzAuthToken: tokens never panic and are only accepted when signed
// with the secret, unexpired and with a jti.
func FuzzAuthToken(f *testing.F) {
	const secret = "key"
	now := time.Unix(1_700_000_000, 0)
	a, err := newAuthenticator(AuthConfig{Secret: secret, VerifyUpload: true}.withDefaults(), func() time.Time { return now })
	if err != nil {
		f.Fatal(err)
	}
	good, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"exp": now.Unix() + 60, "jti": "j", "epochs": 2,
		"max_size": 10}).SignedString([]byte(secret))
	other, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"exp": now.Unix() + 60, "jti": "j"}).SignedString([]byte("other"))
	f.Add(good, uint32(2), int64(5))
	f.Add(other, uint32(1), int64(-1))
	f.Add("eyJhbGciOiJub25lIn0.eyJleHAiOjk5OTk5OTk5OTksImp0aSI6IngifQ.", uint32(1), int64(1))
	f.Add("a.b.c", uint32(0), int64(0))
	f.Fuzz(func(t *testing.T, tok string, epochs uint32, length int64) {
		c, e := a.parse(tok)
		if e != nil {
			return
		}
		if c.Expiration <= now.Unix() || (c.MaxSize != nil && c.Size != nil) {
			t.Fatalf("accepted claims %+v", c)
		}
		if _, _, err := jwt.NewParser().ParseUnverified(tok, jwt.MapClaims{}); err != nil {
			t.Fatalf("accepted a token that does not parse: %v", err)
		}
		if _, err := jwt.Parse(tok, func(*jwt.Token) (any, error) { return []byte(secret), nil },
			jwt.WithTimeFunc(func() time.Time { return now }), jwt.WithValidMethods([]string{"HS256"})); err != nil {
			t.Fatalf("accepted a token not signed with the secret: %v", err)
		}
		_ = a.checkUpload(c, uploadRequest{epochs: epochs, contentLength: length})
	})
}

// FuzzStoreQuery: publisher queries never panic; accepted ones are
// consistent.
func FuzzStoreQuery(f *testing.F) {
	for _, s := range []string{"epochs=3&permanent=true", "share=true&send_object_to=0x01", "deletable=true&permanent=true", "x=1", "epochs=%zz"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := url.ParseQuery(s)
		if err != nil {
			return
		}
		sq, e := parseStoreQuery(q, 1)
		if e == nil && (sq.epochs == 0 || (sq.share && sq.sendObjectTo != nil)) {
			t.Fatalf("%q accepted as %+v", s, sq)
		}
	})
}
