package nodeapi_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/ids"
	"github.com/walrus-go/walrus/internal/httpx"
	"github.com/walrus-go/walrus/nodeapi"
	"github.com/walrus-go/walrus/redstuff"
	"github.com/walrus-go/walrus/wire"
)

// frameOf is one frame to put in a test batch.
type frameOf struct {
	pair int
	s    redstuff.Sliver
}

// ownedFrames returns both slivers of every pair of x the fixture's node
// owns, in pair order.
func (f *fixture) ownedFrames(x *redstuff.Encoded) []frameOf {
	var out []frameOf
	for p := range testN {
		if f.chain.Owns(uint16(params.ShardOfPair(x.Metadata.ID, p))) {
			pair := x.Pair(p)
			out = append(out, frameOf{p, pair.Primary}, frameOf{p, pair.Secondary})
		}
	}
	return out
}

func buildBatch(frames []frameOf) *nodeapi.SliverBatch {
	lens := make([]int, len(frames))
	for i, fr := range frames {
		lens[i] = len(fr.s.Data)
	}
	b := nodeapi.NewSliverBatch(nodeapi.SliverBatchSize(lens...))
	for _, fr := range frames {
		b.AddSliver(fr.pair, &fr.s)
	}
	return b
}

func batchPath(id blob.ID, pending bool) string {
	p := "/v1/blobs/" + id.String() + "/slivers"
	if pending {
		p += "?pending=true"
	}
	return p
}

// batchRejected asserts that a batch is refused with the code and reason,
// naming frame (or no frame, with frame < 0), and that nothing changed.
func (f *fixture) batchRejected(code int, reason string, id blob.ID, pending bool, body []byte, frame int) map[string]any {
	f.t.Helper()
	pendingBefore := f.srv.PendingBytes()
	f.rejected(code, reason, "PUT", batchPath(id, pending), body)
	if f.srv.PendingBytes() != pendingBefore {
		f.t.Fatalf("a rejected batch changed the pending cache")
	}
	// Once more for the metadata.
	_, b := f.raw("PUT", batchPath(id, pending), body)
	var e struct {
		Error struct {
			Details []struct {
				Metadata map[string]any `json:"metadata"`
			} `json:"details"`
		} `json:"error"`
	}
	if err := json.Unmarshal(b, &e); err != nil || len(e.Error.Details) != 1 {
		f.t.Fatalf("%s: %v", b, err)
	}
	md := e.Error.Details[0].Metadata
	got, ok := md["frame"].(float64)
	switch {
	case frame < 0 && ok:
		f.t.Fatalf("%s names frame %v", b, got)
	case frame >= 0 && (!ok || int(got) != frame):
		f.t.Fatalf("%s: want frame %d", b, frame)
	}
	return md
}

func TestSliverBatch(t *testing.T) {
	f := newFixture(t, nodeapi.Config{})
	ctx := context.Background()
	x := encode(t, 5000, 50)
	id := x.Metadata.ID
	frames := f.ownedFrames(x)
	body := buildBatch(frames).Bytes()

	f.batchRejected(400, nodeapi.ReasonNotRegistered, id, false, body, 0)
	f.batchRejected(400, nodeapi.ReasonMetadataNotFound, id, true, body, 0)
	f.chain.register(id, permanent)
	f.batchRejected(400, nodeapi.ReasonMetadataNotFound, id, false, body, 0)
	if _, err := f.client.PutMetadata(ctx, &x.Metadata, false); err != nil {
		t.Fatal(err)
	}
	f.rejected(400, nodeapi.ReasonInvalidBlobID, "PUT", "/v1/blobs/nope/slivers", body)
	f.rejected(400, nodeapi.ReasonInvalidParameter, "PUT", batchPath(id, false)+"?pending=perhaps", body)

	// One bad sliver in the middle: that frame is named, nothing is stored.
	mid := len(frames) / 2
	bad := slicesCloneFrames(frames)
	bad[mid].s.Data = bytes.Clone(bad[mid].s.Data)
	bad[mid].s.Data[3] ^= 1
	md := f.batchRejected(400, nodeapi.ReasonInvalidSliver, id, false, buildBatch(bad).Bytes(), mid)
	if md["pairIndex"] != float64(frames[mid].pair) || md["sliverType"] != frames[mid].s.Type.String() {
		t.Fatalf("metadata %v", md)
	}
	// Through the client: an *Error naming the frame.
	_, err := f.client.PutSliverBatch(ctx, id, buildBatch(bad), false)
	var e *nodeapi.Error
	if !errors.As(err, &e) || e.Reason != nodeapi.ReasonInvalidSliver {
		t.Fatalf("client: %v", err)
	}
	if i, ok := nodeapi.Frame(err); !ok || i != mid {
		t.Fatalf("client error frame %d %v", i, ok)
	}

	// The sliver of another pair, a wrong length, a duplicate, an unknown
	// type, bytes after the end, a wrong magic, no frames, too many.
	wrong := slicesCloneFrames(frames)
	wrong[1].s = x.Pair((frames[1].pair + 1) % testN).Secondary
	f.batchRejected(400, nodeapi.ReasonInvalidSliver, id, false, buildBatch(wrong).Bytes(), 1)
	short := slicesCloneFrames(frames)
	short[2].s.Data = short[2].s.Data[:len(short[2].s.Data)-1]
	f.batchRejected(400, nodeapi.ReasonInvalidSliver, id, false, buildBatch(short).Bytes(), 2)
	dup := append(slicesCloneFrames(frames), frames[3])
	f.batchRejected(400, nodeapi.ReasonInvalidBatch, id, false, buildBatch(dup).Bytes(), len(frames))
	typ := bytes.Clone(body)
	typ[8+2] = 2
	f.batchRejected(400, nodeapi.ReasonInvalidBatch, id, false, typ, 0)
	f.batchRejected(400, nodeapi.ReasonInvalidBatch, id, false, append(bytes.Clone(body), 0), -1)
	f.batchRejected(400, nodeapi.ReasonInvalidBatch, id, false, append([]byte("WSB2"), body[4:]...), -1)
	f.batchRejected(400, nodeapi.ReasonInvalidBatch, id, false, []byte("WSB1\x00\x00\x00\x00"), -1)
	f.batchRejected(400, nodeapi.ReasonInvalidBatch, id, false, []byte("WSB1\x15\x00\x00\x00"), -1)
	// A count above the frames sent: the batch is cut off.
	more := bytes.Clone(body)
	binary.LittleEndian.PutUint32(more[4:], uint32(len(frames)+1))
	f.batchRejected(400, nodeapi.ReasonIncompleteBody, id, false, more, len(frames))
	f.batchRejected(400, nodeapi.ReasonIncompleteBody, id, false, body[:len(body)-5], len(frames)-1)
	f.batchRejected(400, nodeapi.ReasonIncompleteBody, id, false, nil, -1)
	// An index out of range.
	oor := bytes.Clone(body)
	binary.LittleEndian.PutUint16(oor[8:], testN)
	f.batchRejected(400, nodeapi.ReasonIndexOutOfRange, id, false, oor, 0)

	// The good batch: stored, and served.
	res, err := f.client.PutSliverBatch(ctx, id, buildBatch(frames), false)
	if err != nil || res.Code != 201 || res.Stored != len(frames) || res.Buffered != 0 || res.AlreadyStored != 0 {
		t.Fatalf("put batch: %+v %v", res, err)
	}
	for _, fr := range frames {
		got, err := f.client.Sliver(ctx, id, fr.pair, fr.s.Type)
		if err != nil || !bytes.Equal(got.MarshalBCS(), fr.s.MarshalBCS()) {
			t.Fatalf("get %s sliver of pair %d: %v", fr.s.Type, fr.pair, err)
		}
	}
	// Again: already stored.
	res, err = f.client.PutSliverBatch(ctx, id, buildBatch(frames), false)
	if err != nil || res.Code != 200 || res.AlreadyStored != len(frames) || res.Stored != 0 {
		t.Fatalf("second put: %+v %v", res, err)
	}
	// A confirmation follows (the store is synced before signing).
	if _, err := f.client.Confirmation(ctx, id, wire.Permanent, 0); err != nil {
		t.Fatal(err)
	}
	if n := f.store.Unsynced(); n != 0 {
		t.Fatalf("%d unsynced writes after the confirmation", n)
	}

	// A pair of a shard the node does not hold, after good frames.
	y := encode(t, 3000, 51)
	f.chain.register(y.Metadata.ID, permanent)
	if _, err := f.client.PutMetadata(ctx, &y.Metadata, false); err != nil {
		t.Fatal(err)
	}
	np, shard := f.pair(y.Metadata.ID, false)
	ys := f.ownedFrames(y)
	ys = append(ys[:2:2], frameOf{np, y.Pair(np).Primary})
	md = f.batchRejected(400, nodeapi.ReasonShardNotAssigned, y.Metadata.ID, false, buildBatch(ys).Bytes(), 2)
	if md["shard"] != float64(shard) || md["pairIndex"] != float64(np) {
		t.Fatalf("metadata %v", md)
	}
	// Mixed: some frames already stored.
	if _, err := f.client.PutSliver(ctx, y.Metadata.ID, ys[0].pair, &ys[0].s, false); err != nil {
		t.Fatal(err)
	}
	res, err = f.client.PutSliverBatch(ctx, y.Metadata.ID, buildBatch(ys[:2]), false)
	if err != nil || res.Code != 201 || res.Stored != 1 || res.AlreadyStored != 1 {
		t.Fatalf("mixed: %+v %v", res, err)
	}

	// Invalid and blocked blobs.
	f.chain.register(id, nodeapi.Registration{Invalid: &ids.EventID{}})
	f.batchRejected(400, nodeapi.ReasonInvalidBlob, id, false, body, 0)
	f.block[id] = true
	f.batchRejected(451, nodeapi.ReasonForbiddenBlob, id, false, body, -1)

	// The batch metrics were counted.
	if v := metricValue(t, f, "walrus_node_sliver_batch_slivers"); v != 3 {
		t.Fatalf("batches counted: %v", v)
	}
}

func slicesCloneFrames(fs []frameOf) []frameOf { return append([]frameOf(nil), fs...) }

// metricValue is a gauge's value or a histogram's sample count.
func metricValue(t *testing.T, f *fixture, name string) float64 {
	t.Helper()
	mfs, err := f.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		m := mf.GetMetric()[0]
		if h := m.GetHistogram(); h != nil {
			return float64(h.GetSampleCount())
		}
		return m.GetGauge().GetValue()
	}
	return 0
}

func TestSliverBatchPending(t *testing.T) {
	f := newFixture(t, nodeapi.Config{})
	ctx := context.Background()
	x := encode(t, 5000, 52)
	id := x.Metadata.ID
	frames := f.ownedFrames(x)
	if _, err := f.client.PutMetadata(ctx, &x.Metadata, true); err != nil {
		t.Fatal(err)
	}
	res, err := f.client.PutSliverBatch(ctx, id, buildBatch(frames), true)
	if err != nil || res.Code != 202 || res.Buffered != len(frames) {
		t.Fatalf("pending batch: %+v %v", res, err)
	}
	for _, fr := range frames {
		if st, _ := f.client.SliverStatus(ctx, id, fr.pair, fr.s.Type); st != nodeapi.StatusBuffered {
			t.Fatalf("status %q", st)
		}
	}
	f.rejected(404, nodeapi.ReasonSliverNotFound, "GET", "/v1/blobs/"+id.String()+"/slivers/"+itoa(frames[0].pair)+"/primary", nil)
	f.chain.register(id, permanent)
	f.srv.Registered(id)
	for _, fr := range frames {
		got, err := f.client.Sliver(ctx, id, fr.pair, fr.s.Type)
		if err != nil || !bytes.Equal(got.Data, fr.s.Data) {
			t.Fatalf("flushed sliver: %v", err)
		}
	}
	if f.srv.PendingBytes() != 0 {
		t.Fatalf("pending cache holds %d bytes", f.srv.PendingBytes())
	}
}

func TestSliverBatchPendingSaturated(t *testing.T) {
	f := newFixture(t, nodeapi.Config{Pending: nodeapi.PendingConfig{MaxBytes: 2500}})
	ctx := context.Background()
	x := encode(t, 5000, 53)
	id := x.Metadata.ID
	frames := f.ownedFrames(x)
	if _, err := f.client.PutMetadata(ctx, &x.Metadata, true); err != nil {
		t.Fatal(err)
	}
	// One sliver alone fits.
	if code, err := f.client.PutSliver(ctx, id, frames[0].pair, &frames[0].s, true); err != nil || code != 202 {
		t.Fatalf("single: %d %v", code, err)
	}
	f.batchRejected(400, nodeapi.ReasonCacheSaturated, id, true, buildBatch(frames).Bytes(), -1)
	for _, fr := range frames[1:] {
		if st, _ := f.client.SliverStatus(ctx, id, fr.pair, fr.s.Type); st != nodeapi.StatusNonexistent {
			t.Fatalf("a refused batch left a sliver %q", st)
		}
	}
}

// TestSliverBatchLimits: Content-Length required, MaxBatchBytes, and the
// node-wide bound on upload bytes in flight.
func TestSliverBatchLimits(t *testing.T) {
	x := encode(t, 5000, 54)
	id := x.Metadata.ID
	probe := newFixture(t, nodeapi.Config{})
	body := buildBatch(probe.ownedFrames(x)).Bytes()
	size := int64(len(body))
	f := newFixture(t, nodeapi.Config{MaxBatchBytes: size, MaxUploadBytesInFlight: size, UploadWait: 50 * time.Millisecond})
	ctx := context.Background()
	f.chain.register(id, permanent)
	if _, err := f.client.PutMetadata(ctx, &x.Metadata, false); err != nil {
		t.Fatal(err)
	}
	f.rejected(413, nodeapi.ReasonBodyTooLarge, "PUT", batchPath(id, false), append(bytes.Clone(body), 0))
	if _, b := f.raw("PUT", batchPath(id, false), append(bytes.Clone(body), 0)); httpx.Parse(413, b).Status != httpx.StatusSizeExceeded {
		t.Fatalf("an oversized batch is not SIZE_EXCEEDED: %s", b)
	}

	// Without a Content-Length (chunked): 411.
	req, _ := http.NewRequestWithContext(ctx, "PUT", f.http.URL+batchPath(id, false), io.MultiReader(bytes.NewReader(body)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 411 || !strings.Contains(string(b), nodeapi.ReasonLengthRequired) {
		t.Fatalf("chunked: %d %s", resp.StatusCode, b)
	}

	// A first upload holds all the room while its body trickles in: a
	// second batch and a single sliver wait, then get 503.
	conn := f.sendPartial(batchPath(id, false), body, len(body)/2)
	waitFor(t, func() bool { return metricValue(t, f, "walrus_node_upload_bytes_in_flight") == float64(size) })
	if _, err := f.client.PutSliverBatch(ctx, id, buildBatch(probe.ownedFrames(x)), false); !nodeapi.IsReason(err, nodeapi.ReasonUnavailable) {
		t.Fatalf("batch while the room is taken: %v", err)
	}
	pair := x.Pair(probe.ownedFrames(x)[0].pair)
	_, err = f.client.PutSliver(ctx, id, probe.ownedFrames(x)[0].pair, &pair.Primary, false)
	if !nodeapi.IsReason(err, nodeapi.ReasonUnavailable) {
		t.Fatalf("single sliver while the room is taken: %v", err)
	}
	// The first upload is cut off: 400, nothing stored, the room is back.
	before := f.store.digest()
	conn.(*net.TCPConn).CloseWrite()
	resp, err = http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	conn.Close()
	if resp.StatusCode != 400 || !strings.Contains(string(b), nodeapi.ReasonIncompleteBody) {
		t.Fatalf("cut-off batch: %d %s", resp.StatusCode, b)
	}
	if f.store.digest() != before {
		t.Fatal("a cut-off batch changed the store")
	}
	waitFor(t, func() bool { return metricValue(t, f, "walrus_node_upload_bytes_in_flight") == 0 })
	if _, err := f.client.Health(ctx, false); err != nil {
		t.Fatal(err)
	}
	res, err := f.client.PutSliverBatch(ctx, id, buildBatch(probe.ownedFrames(x)), false)
	if err != nil || res.Code != 201 {
		t.Fatalf("batch after the room is back: %+v %v", res, err)
	}
}

// sendPartial sends a PUT announcing all of body but only its first n
// bytes, and returns the open connection.
func (f *fixture) sendPartial(path string, body []byte, n int) net.Conn {
	f.t.Helper()
	conn, err := net.Dial("tcp", f.http.Listener.Addr().String())
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { conn.Close() })
	head := fmt.Sprintf("PUT %s HTTP/1.1\r\nHost: node\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n", path, len(body))
	if _, err := conn.Write(append([]byte(head), body[:n]...)); err != nil {
		f.t.Fatal(err)
	}
	return conn
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestSliverBatchCutOff: a connection that closes midway through a frame
// stores nothing, and the node goes on serving.
func TestSliverBatchCutOff(t *testing.T) {
	f := newFixture(t, nodeapi.Config{})
	ctx := context.Background()
	x := encode(t, 5000, 55)
	id := x.Metadata.ID
	f.chain.register(id, permanent)
	if _, err := f.client.PutMetadata(ctx, &x.Metadata, false); err != nil {
		t.Fatal(err)
	}
	body := buildBatch(f.ownedFrames(x)).Bytes()
	before := f.store.digest()
	for _, n := range []int{3, 8, 12, len(body) / 2, len(body) - 1} {
		conn := f.sendPartial(batchPath(id, false), body, n)
		conn.Close()
	}
	// An http.Request whose body ends before its Content-Length.
	req, _ := http.NewRequestWithContext(ctx, "PUT", f.http.URL+batchPath(id, false), bytes.NewReader(body[:len(body)/3]))
	req.ContentLength = int64(len(body))
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("a short body was sent: %d", resp.StatusCode)
	}
	waitFor(t, func() bool { return metricValue(t, f, "walrus_node_upload_bytes_in_flight") == 0 })
	if f.store.digest() != before {
		t.Fatal("a cut-off batch changed the store")
	}
	code, _ := f.raw("GET", "/v1/health", nil)
	if code != 200 {
		t.Fatalf("health %d", code)
	}
}

func TestSliverBatchCodec(t *testing.T) {
	x := encode(t, 2000, 56)
	var frames []frameOf
	for p := range testN {
		pair := x.Pair(p)
		frames = append(frames, frameOf{p, pair.Secondary}, frameOf{p, pair.Primary})
	}
	b := buildBatch(frames)
	if b.Len() != len(frames) || b.Size() != len(b.Bytes()) {
		t.Fatalf("len %d size %d", b.Len(), b.Size())
	}
	// Byte by byte: the header and the first frame.
	raw := b.Bytes()
	sec := frames[0].s.MarshalBCS()
	want := append([]byte("WSB1"), byte(len(frames)), 0, 0, 0, 0, 0, 1)
	want = binary.LittleEndian.AppendUint32(want, uint32(len(sec)))
	want = append(want, sec...)
	if !bytes.HasPrefix(raw, want) {
		t.Fatalf("encoding %x", raw[:32])
	}
	d, err := nodeapi.NewBatchReader(bytes.NewReader(raw))
	if err != nil || d.Count() != len(frames) {
		t.Fatal(err)
	}
	for i, fr := range frames {
		h, err := d.Next()
		if err != nil || h.Index != i || int(h.Pair) != fr.pair || h.Type != fr.s.Type {
			t.Fatalf("frame %d: %+v %v", i, h, err)
		}
		buf := make([]byte, h.Length)
		if err := d.ReadSliver(buf); err != nil || !bytes.Equal(buf, fr.s.MarshalBCS()) {
			t.Fatalf("frame %d data: %v", i, err)
		}
	}
	if _, err := d.Next(); err != io.EOF {
		t.Fatalf("end: %v", err)
	}
	// Frames whose data is not read are skipped.
	d, _ = nodeapi.NewBatchReader(bytes.NewReader(raw))
	for range frames {
		if _, err := d.Next(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := d.Next(); err != io.EOF {
		t.Fatalf("end after skipping: %v", err)
	}
	// Errors.
	for _, c := range []struct {
		body []byte
		want error
	}{
		{raw[:3], nodeapi.ErrBatchTruncated},
		{raw[:10], nodeapi.ErrBatchTruncated},
		{raw[:len(raw)-1], nodeapi.ErrBatchTruncated},
		{append(bytes.Clone(raw), 1), nodeapi.ErrBatchTrailing},
		{[]byte("WSB1\x00\x00\x00\x00"), nodeapi.ErrBatchMalformed},
		{[]byte("XSB1\x01\x00\x00\x00"), nodeapi.ErrBatchMalformed},
		{[]byte("WSB1\x01\x00\x00\x00\x00\x00\x02\x00\x00\x00\x00"), nodeapi.ErrBatchMalformed},
	} {
		if err := drain(c.body); !errors.Is(err, c.want) {
			t.Errorf("%x: %v, want %v", c.body, err, c.want)
		}
	}
	// A batch built in a caller's buffer keeps every data slice valid.
	buf := make([]byte, 0, nodeapi.SliverBatchSize(3, 5))
	on := nodeapi.SliverBatchOn(buf)
	d1 := on.Add(1, blob.Primary, 1, 1, 3)
	d2 := on.Add(2, blob.Secondary, 1, 7, 5)
	copy(d1, "abc")
	copy(d2, "defgh")
	if &on.Bytes()[0] != &buf[:1][0] || !bytes.Contains(on.Bytes(), []byte("abc")) || !bytes.Contains(on.Bytes(), []byte("defgh")) {
		t.Fatal("SliverBatchOn moved or lost the data")
	}
	on.Reset()
	if on.Len() != 0 || on.Size() != 0 {
		t.Fatal("reset")
	}
}

// drain decodes a whole batch and returns the first error (nil at io.EOF).
func drain(body []byte) error {
	d, err := nodeapi.NewBatchReader(bytes.NewReader(body))
	if err != nil {
		return err
	}
	for {
		h, err := d.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if h.Length <= 1<<16 {
			if err := d.ReadSliver(make([]byte, h.Length)); err != nil {
				return err
			}
		}
	}
}

func TestConfigBatchLimits(t *testing.T) {
	for _, c := range []struct {
		cfg nodeapi.Config
		ok  bool
	}{
		{nodeapi.Config{}, true},
		{nodeapi.Config{MaxBatchBytes: 1 << 20, MaxUploadBytesInFlight: 1 << 20}, true},
		{nodeapi.Config{MaxUploadBytesInFlight: 1 << 20}, false}, // the default batch bound is above it
		{nodeapi.Config{MaxBatchBytes: 1 << 30}, false},
		{nodeapi.Config{MaxBatchBytes: -1}, false},
		{nodeapi.Config{MaxUploadBytesInFlight: -1}, false},
		{nodeapi.Config{UploadWait: -time.Second}, false},
	} {
		if err := c.cfg.Validate(); (err == nil) != c.ok {
			t.Errorf("%+v: %v", c.cfg, err)
		}
	}
}
