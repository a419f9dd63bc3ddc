package nodeapi_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/nodeapi"
	"github.com/walrus-go/walrus/redstuff"
	"github.com/walrus-go/walrus/wire"
)

// serve runs one request through the handler and checks the invariants of
// every answer to untrusted bytes: never a 5xx, and nothing stored unless
// the answer is a success.
func serve(t *testing.T, f *fixture, method, path string, body []byte) int {
	before, puts := f.store.digest(), f.store.puts
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	f.srv.Handler().ServeHTTP(rec, req)
	if rec.Code >= 500 {
		t.Fatalf("%s %s: %d %s", method, path, rec.Code, rec.Body.Bytes())
	}
	if rec.Code >= 300 && (f.store.digest() != before || f.store.puts != puts) {
		t.Fatalf("%s %s: rejected with %d but the store changed", method, path, rec.Code)
	}
	return rec.Code
}

func FuzzPutMetadataBody(f *testing.F) {
	x := encode(f, 1000, 20)
	f.Add(x.Metadata.Metadata.MarshalBCS(), true, false)
	f.Add([]byte{0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0}, false, true)
	fx := newFixture(f, nodeapi.Config{})
	id := x.Metadata.ID
	f.Fuzz(func(t *testing.T, body []byte, registered, pending bool) {
		if registered {
			fx.chain.register(id, permanent)
		} else {
			fx.chain.register(id, nodeapi.Registration{})
		}
		serve(t, fx, "PUT", "/v1/blobs/"+id.String()+"/metadata?pending="+strconv.FormatBool(pending), body)
	})
}

func FuzzPutSliverBody(f *testing.F) {
	x := encode(f, 1000, 21)
	id := x.Metadata.ID
	fx := newFixture(f, nodeapi.Config{})
	fx.chain.register(id, permanent)
	if err := fx.store.PutMetadata(&x.Metadata); err != nil {
		f.Fatal(err)
	}
	p, _ := fx.pair(id, true)
	pair := x.Pair(p)
	f.Add(pair.Primary.MarshalBCS(), uint8(p), false)
	f.Add(pair.Secondary.MarshalBCS(), uint8(p), true)
	f.Fuzz(func(t *testing.T, body []byte, pairIndex uint8, secondary bool) {
		typ := "primary"
		if secondary {
			typ = "secondary"
		}
		path := "/v1/blobs/" + id.String() + "/slivers/" + strconv.Itoa(int(pairIndex)) + "/" + typ
		if serve(t, fx, "PUT", path, body) < 300 {
			// Whatever was accepted verifies against the metadata.
			st := blob.Primary
			if secondary {
				st = blob.Secondary
			}
			sl, ok, _ := fx.store.Sliver(uint16(params.ShardOfPair(id, int(pairIndex))), st, id)
			enc, _ := redstuff.NewEncoder(params)
			if !ok || enc.VerifySliver(sl, &x.Metadata.Metadata) != nil {
				t.Fatal("accepted a sliver that does not verify")
			}
		}
	})
}

func FuzzInconsistencyProofBody(f *testing.F) {
	x := encode(f, 1000, 22)
	id := x.Metadata.ID
	fx := newFixture(f, nodeapi.Config{})
	if err := fx.store.PutMetadata(&x.Metadata); err != nil {
		f.Fatal(err)
	}
	enc, _ := redstuff.NewEncoder(params)
	var proof redstuff.InconsistencyProof
	proof.Target = blob.Primary
	for j := range params.SecondarySymbols() {
		s := x.Secondary(j)
		g, _ := enc.RecoverySymbols(&s, []int{1})
		proof.Symbols = append(proof.Symbols, g[0].RecoverySymbol)
	}
	proof.TargetIndex = 1
	f.Add(proof.AppendBCS(nil), false)
	f.Add([]byte{1, 0, 0}, true)
	f.Fuzz(func(t *testing.T, body []byte, secondary bool) {
		typ := "primary"
		if secondary {
			typ = "secondary"
		}
		// The blob is consistent: no proof may be accepted.
		if code := serve(t, fx, "POST", "/v1/blobs/"+id.String()+"/inconsistencyProof/"+typ, body); code < 300 {
			t.Fatalf("accepted a proof against a consistent blob")
		}
	})
}

// replay is an http.RoundTripper answering every request with fixed bytes.
type replay struct {
	code int
	body []byte
}

func (r replay) RoundTrip(req *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: r.code, Body: io.NopCloser(bytes.NewReader(r.body)), Header: http.Header{}, Request: req}, nil
}

// FuzzClientAnswers feeds arbitrary answers to every client call: the
// client returns an error or a value, and never panics.
func FuzzClientAnswers(f *testing.F) {
	x := encode(f, 100, 23)
	f.Add(200, x.Metadata.MarshalBCS())
	f.Add(201, []byte(`{"success":{"code":201,"data":{"stored":3,"buffered":0,"alreadyStored":1}}}`))
	f.Add(200, []byte(`{"success":{"code":200,"data":{"signed":{"serializedMessage":"AQAD","signature":"AA=="}}}}`))
	f.Add(400, []byte(`{"error":{"code":400,"status":"FAILED_PRECONDITION","message":"m","details":[{"@type":"ErrorInfo","reason":"NOT_REGISTERED"}]}}`))
	f.Add(200, []byte(`{"success":{"code":200,"data":{"permanent":{"endEpoch":1,"isCertified":true,"statusEvent":{"txDigest":"1","eventSeq":"1"},"deletableCounts":{}}}}}`))
	f.Add(200, redstuff.AppendDecodingSymbolMapBCS(nil, map[uint16][]redstuff.EitherDecodingSymbol{1: {{}}}))
	f.Fuzz(func(t *testing.T, code int, body []byte) {
		if code < 100 || code > 599 {
			return
		}
		c, err := nodeapi.NewClient("127.0.0.1:1", nodeapi.ClientConfig{Params: params, HTTP: &http.Client{Transport: replay{code, body}}})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		id := x.Metadata.ID
		_, _ = c.Metadata(ctx, id)
		_, _ = c.MetadataStatus(ctx, id)
		_, _ = c.Sliver(ctx, id, 1, blob.Primary)
		_, _ = c.SliverStatus(ctx, id, 1, blob.Secondary)
		_, _ = c.Confirmation(ctx, id, wire.Permanent, 0)
		_, _ = c.RecoverySymbolsFor(ctx, id, blob.Primary, 1)
		_, _ = c.DecodingSymbols(ctx, id, blob.Secondary, []int{1, 2})
		_, _ = c.InconsistencyProof(ctx, id, &redstuff.InconsistencyProof{})
		_, _ = c.BlobStatus(ctx, id)
		_, _ = c.Health(ctx, true)
		_, _ = c.PutMetadata(ctx, &x.Metadata, true)
		_, _ = c.PutSliverBatch(ctx, id, nodeapi.NewSliverBatch(0), false)
		buf := make([]byte, 64)
		if s, err := c.SliverInto(ctx, id, 1, blob.Primary, buf); err == nil && len(s.Data) > len(buf) {
			t.Fatalf("SliverInto answered %d bytes of data from a %d-byte buffer", len(s.Data), len(buf))
		}
	})
}

// FuzzSliverBatch: the batch decoder never panics on arbitrary bytes, and
// a batch built from the fuzzer's frames decodes to the same frames.
func FuzzSliverBatch(f *testing.F) {
	x := encode(f, 500, 24)
	pair := x.Pair(2)
	good := buildBatch([]frameOf{{2, pair.Primary}, {2, pair.Secondary}}).Bytes()
	f.Add(good)
	f.Add(good[:len(good)-3])
	f.Add(append(bytes.Clone(good), 9))
	f.Add([]byte("WSB1\x01\x00\x00\x00\x05\x00\x01\xff\xff\xff\xff"))
	f.Add([]byte{3, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9})
	f.Fuzz(func(t *testing.T, data []byte) {
		_ = drain(data)

		// Frames from the bytes: pair, type, symbol size, index, a data
		// length below 64, then the data (what is left of it).
		type spec struct {
			pair, ss, idx uint16
			t             blob.SliverType
			data          []byte
		}
		var specs []spec
		for r := data; len(r) >= 5; {
			s := spec{pair: uint16(r[0]), t: blob.SliverType(r[1] & 1), ss: uint16(r[2]), idx: uint16(r[3])}
			n := min(int(r[4]%64), len(r)-5)
			s.data, r = r[5:5+n], r[5+n:]
			specs = append(specs, s)
		}
		if len(specs) == 0 {
			return
		}
		lens := make([]int, len(specs))
		for i, s := range specs {
			lens[i] = len(s.data)
		}
		b := nodeapi.SliverBatchOn(make([]byte, 0, nodeapi.SliverBatchSize(lens...)))
		for _, s := range specs {
			copy(b.Add(s.pair, s.t, s.ss, s.idx, len(s.data)), s.data)
		}
		if b.Size() != nodeapi.SliverBatchSize(lens...) || b.Len() != len(specs) {
			t.Fatalf("size %d, want %d", b.Size(), nodeapi.SliverBatchSize(lens...))
		}
		d, err := nodeapi.NewBatchReader(bytes.NewReader(b.Bytes()))
		if err != nil || d.Count() != len(specs) {
			t.Fatalf("header: %v", err)
		}
		for i, s := range specs {
			h, err := d.Next()
			if err != nil || h.Index != i || h.Pair != s.pair || h.Type != s.t {
				t.Fatalf("frame %d: %+v %v", i, h, err)
			}
			buf := make([]byte, h.Length)
			if err := d.ReadSliver(buf); err != nil {
				t.Fatal(err)
			}
			sl, err := redstuff.UnmarshalSliver(buf, h.Type)
			if err != nil || !bytes.Equal(sl.Data, s.data) || sl.SymbolSize != s.ss || sl.Index != s.idx {
				t.Fatalf("frame %d sliver: %+v %v", i, sl, err)
			}
		}
		if _, err := d.Next(); err != io.EOF {
			t.Fatalf("end: %v", err)
		}
	})
}

// FuzzPutSliverBatchBody sends arbitrary batches to the batch route: never
// a 5xx, nothing stored by a rejection, and whatever is stored verifies.
func FuzzPutSliverBatchBody(f *testing.F) {
	x := encode(f, 1000, 25)
	id := x.Metadata.ID
	fx := newFixture(f, nodeapi.Config{Pending: nodeapi.PendingConfig{MaxBytes: 1 << 20}})
	if err := fx.store.PutMetadata(&x.Metadata); err != nil {
		f.Fatal(err)
	}
	frames := fx.ownedFrames(x)
	good := buildBatch(frames).Bytes()
	f.Add(good, true, false)
	f.Add(good, false, true)
	bad := bytes.Clone(good)
	bad[len(bad)/2] ^= 0x40
	f.Add(bad, true, false)
	f.Add(good[:len(good)/2], true, true)
	f.Add(buildBatch(append(frames[:1:1], frames[0])).Bytes(), true, false)
	enc, _ := redstuff.NewEncoder(params)
	f.Fuzz(func(t *testing.T, body []byte, registered, pending bool) {
		if registered {
			fx.chain.register(id, permanent)
		} else {
			fx.chain.register(id, nodeapi.Registration{})
		}
		path := "/v1/blobs/" + id.String() + "/slivers?pending=" + strconv.FormatBool(pending)
		if serve(t, fx, "PUT", path, body) >= 300 {
			return
		}
		// Everything stored is a verified sliver at the shard of its pair.
		fx.store.mu.Lock()
		defer fx.store.mu.Unlock()
		for k, sl := range fx.store.slivers {
			shard := params.ShardOfPair(id, sl.PairIndex(testN))
			if k != sk(uint16(shard), sl.Type, id) || enc.VerifySliver(sl, &x.Metadata.Metadata) != nil {
				t.Fatalf("stored an unverified sliver at %s", k)
			}
		}
	})
}
