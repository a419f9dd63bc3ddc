package node_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/chain"
	"github.com/walrus-go/walrus/client"
	"github.com/walrus-go/walrus/ids"
	"github.com/walrus-go/walrus/internal/httpx"
	"github.com/walrus-go/walrus/internal/nodetls"
	"github.com/walrus-go/walrus/internal/sdkinternal"
	"github.com/walrus-go/walrus/internal/testnet"
	"github.com/walrus-go/walrus/node"
	"github.com/walrus-go/walrus/nodeapi"
	"github.com/walrus-go/walrus/redstuff"
	"github.com/walrus-go/walrus/store"
)

// FuzzNodeServer sends fuzzed HTTP requests to a real storage node: node 0
// of a two-node test network (an embedded chain, Pebble stores, the
// node's own REST server over TLS), started once per fuzzing process. An
// input is a request (method, target, Content-Type, Range, a declared
// length, a body) and a state to prepare first (valid uploads of blobs the
// setup registered). The target may name the setup's blobs by tokens,
// which the harness replaces: {A} {C} {D} {U} {B} are the IDs of a
// registered blob without data, a stored and certified one, a registered
// deletable one without data, an unregistered one, and a registered one
// the node's blocklist names; {PX} and {QX} are a sliver pair of blob X
// whose shard the node holds and one whose shard it does not; {OX} is the
// object ID of blob X's registration. The body is the fuzzed bytes as they
// are, or a valid body for one of those blobs (metadata, a sliver, a
// sliver batch, an inconsistency proof) patched by them.
//
// For every input it asserts that the node answers within requestTimeout,
// never with a 5xx but 503; that an error answer is Walrus's AIP-193 JSON
// with a status and code that pair in Walrus's table (the batch route's own
// 411 and 413 aside; net/http's own refusals and ServeMux's redirects to a
// clean path are let through, as answers no handler gave); that an answer other than a success to a PUT changes
// nothing in the store or the pending cache; and that a successful PUT
// changes only the metadata and slivers of the blob it names, in shards the
// node holds, to exactly that blob's encoding. Uploads are taken back after
// each input, so that every input meets the state the setup left.
func FuzzNodeServer(f *testing.F) {
	h := startNodeHarness(f)
	for _, s := range nodeServerSeeds(h) {
		f.Add(s.method, s.target, s.ctype, s.rng, s.length, s.prep, s.kind, s.body)
	}
	f.Fuzz(func(t *testing.T, method, target, ctype, rng string, length int64, prep, kind uint8, body []byte) {
		h.run(t, method, target, ctype, rng, length, prep, kind, body)
	})
}

// requestTimeout bounds every request, its answer included. The node is
// configured so that no request waits longer than a fraction of it.
const requestTimeout = 5 * time.Second

// Token letters of the setup's blobs.
const (
	blobRegistered = 'A' // registered, permanent; no data uploaded
	blobCertified  = 'C' // stored by the client, certified
	blobDeletable  = 'D' // registered, deletable; no data uploaded
	blobUnknown    = 'U' // encoded, never registered
	blobBlocked    = 'B' // registered, permanent, on node 0's blocklist
)

// blobLetters lists the setup's blobs in the order body kinds select them.
var blobLetters = []byte{blobRegistered, blobCertified, blobDeletable, blobUnknown, blobBlocked}

// fuzzBlob is one of the setup's blobs.
type fuzzBlob struct {
	letter byte
	x      *redstuff.Encoded
	object ids.ObjectID // its registration's Blob object (zero: none)
	own    int          // a pair whose shard node 0 holds
	other  int          // a pair whose shard node 0 does not hold
}

func (b *fuzzBlob) id() blob.ID { return b.x.Metadata.ID }

// nodeHarness is what every input of FuzzNodeServer runs against.
type nodeHarness struct {
	node     *node.Node
	st       *store.Store
	params   blob.Params
	enc      *redstuff.Encoder
	blobs    map[byte]*fuzzBlob
	byID     map[blob.ID]*fuzzBlob
	owned    map[uint16]bool
	tokens   *strings.Replacer
	conn     *rawClient
	logs     *logRing
	baseline storeState
}

// harnessBlobData is the content of the setup's blobs: fixed, so that their
// IDs, and the seed corpus, are the same in every process and every run.
func harnessBlobData(letter byte) []byte {
	return randomBytes(1000+int(letter)*10, 1000+uint64(letter))
}

// startNodeHarness starts the network, stores and registers the blobs, and
// waits until node 0 has seen all of it.
func startNodeHarness(f *testing.F) *nodeHarness {
	f.Helper()
	params, err := blob.NewParams(10) // testnet's default shard count
	if err != nil {
		f.Fatal(err)
	}
	enc, err := redstuff.NewEncoder(params)
	if err != nil {
		f.Fatal(err)
	}
	h := &nodeHarness{params: params, enc: enc, blobs: map[byte]*fuzzBlob{}, byID: map[blob.ID]*fuzzBlob{},
		owned: map[uint16]bool{}, logs: &logRing{}}
	for _, l := range blobLetters {
		x, err := enc.Encode(harnessBlobData(l))
		if err != nil {
			f.Fatal(err)
		}
		b := &fuzzBlob{letter: l, x: x}
		h.blobs[l], h.byID[b.id()] = b, b
	}
	listPath := filepath.Join(f.TempDir(), "blocklist.txt")
	if err := os.WriteFile(listPath, []byte(h.blobs[blobBlocked].id().String()+"\n"), 0o600); err != nil {
		f.Fatal(err)
	}
	net := testnet.Start(f, testnet.Config{Nodes: 2, Shards: params.N(), Logger: slog.New(&ringHandler{ring: h.logs}),
		NodeConfig: func(i int, c *node.Config) {
			// Long-polls and waits for room end well within requestTimeout.
			c.API.MaxConfirmationWait = 200 * time.Millisecond
			c.API.SymbolWait = time.Second
			c.API.UploadWait = time.Second
			// The list does not change: no rereading in the background,
			// whose code paths the coverage of an input would pick up.
			c.BlocklistReload = time.Hour
			if i == 0 {
				c.BlocklistPath = listPath
			}
		}})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	h.node = net.Node(0)
	h.st = h.node.StoreForTest()
	for _, sh := range h.node.OwnedShards() {
		h.owned[sh] = true
	}
	if len(h.owned) == 0 || len(h.owned) == params.N() {
		f.Fatalf("node 0 holds %d of %d shards: the harness needs some of each", len(h.owned), params.N())
	}
	if _, err := sdkinternal.StoreEncoded(ctx, net.Client, h.blobs[blobCertified].x, client.StoreOptions{Epochs: 3}); err != nil {
		f.Fatal(err)
	}
	var calls []chain.Call
	for _, l := range []byte{blobRegistered, blobDeletable, blobBlocked} {
		md := &h.blobs[l].x.Metadata
		size, _ := params.EncodedLength(md.UnencodedLength)
		calls = append(calls, &chain.ReserveSpace{EncodedSize: size, EpochsAhead: 3},
			&chain.RegisterBlob{Storage: chain.CreatedRef(len(calls)), BlobID: md.ID, RootHash: md.Root(),
				Size: md.UnencodedLength, EncodingType: uint8(blob.RS2), Deletable: l == blobDeletable})
	}
	if _, err := net.Chain.Execute(ctx, net.Signer, calls...); err != nil {
		f.Fatal(err)
	}
	h.waitSettled(f)
	for _, b := range h.blobs {
		for p := range params.N() {
			if h.owned[uint16(params.ShardOfPair(b.id(), p))] {
				b.own = p
			} else {
				b.other = p
			}
		}
	}
	var pairs []string
	for _, b := range h.blobs {
		l := string(b.letter)
		pairs = append(pairs, "{"+l+"}", b.id().String(), "{P"+l+"}", strconv.Itoa(b.own),
			"{Q"+l+"}", strconv.Itoa(b.other), "{O"+l+"}", b.object.String())
	}
	h.tokens = strings.NewReplacer(pairs...)
	cur, _, err := sdkinternal.Committees(ctx, net.Client)
	if err != nil {
		f.Fatal(err)
	}
	pins := nodetls.NewPins()
	pins.Committees(cur)
	h.conn = &rawClient{addr: net.Address(0), pins: pins}
	f.Cleanup(h.conn.close)
	h.baseline = h.snapshot(f)
	// The harness's idea of the stored values must be the store's.
	c := h.blobs[blobCertified]
	for k, e := range h.baseline.entries {
		if e.hasID && e.id == c.id() && (e.kind == 'm' || e.kind == 's') && e.sum != h.truth(e) {
			f.Fatalf("the stored value %s is not the harness's encoding of blob C", k)
		}
	}
	return h
}

// waitSettled waits until node 0 has recorded every registration and
// certification of the setup and holds blob C entirely, and its store
// stands still.
func (h *nodeHarness) waitSettled(f *testing.F) {
	deadline := time.Now().Add(30 * time.Second)
	var prev storeState
	for {
		err := h.settled()
		if err == nil {
			cur := h.snapshot(f)
			if cur.diff(prev) == nil {
				return
			}
			prev = cur
			err = errors.New("the store is still changing")
		}
		if time.Now().After(deadline) {
			f.Fatalf("node 0 did not settle: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (h *nodeHarness) settled() error {
	for _, l := range []byte{blobRegistered, blobCertified, blobDeletable, blobBlocked} {
		b := h.blobs[l]
		info, err := h.st.BlobInfo(b.id())
		if err != nil || len(info.Registrations) != 1 {
			return fmt.Errorf("blob %c: %d registrations, %v", l, len(info.Registrations), err)
		}
		r := info.Registrations[0]
		if l == blobCertified && !r.Certified() {
			return errors.New("blob C not certified yet")
		}
		b.object = r.ObjectID
	}
	if m, err := h.node.MissingSlivers(h.blobs[blobCertified].id()); err != nil || m != 0 {
		return fmt.Errorf("blob C: %d slivers missing, %v", m, err)
	}
	if q, err := h.node.SyncBacklog(); err != nil || q != 0 {
		return fmt.Errorf("sync backlog %d, %v", q, err)
	}
	return nil
}

// Preparations: valid uploads made before an input's request (bits of its
// prep byte).
const (
	prepMetadataA = 1 << iota // blob A's metadata
	prepSliversA              // blob A's slivers (and metadata)
	prepMetadataD             // blob D's metadata
	prepSliversD              // blob D's slivers (and metadata)
	prepMetadataU             // blob U's metadata, buffered (?pending=true)
	prepSliversU              // blob U's slivers (and metadata), buffered
	prepMask      = 1<<iota - 1
)

// Body kinds (the low three bits of an input's kind byte; the next three
// pick the blob, in blobLetters' order).
const (
	bodyRaw            = iota // the fuzzed bytes as they are
	bodyMetadata              // the blob's BCS metadata
	bodyPrimary               // the primary sliver of the blob's pair {PX}
	bodySecondary             // the secondary sliver of the pair {PX}
	bodyBatch                 // a batch of the blob's slivers in node 0's shards
	bodyBatchAll              // a batch of all the blob's slivers
	bodyProofPrimary          // an inconsistency proof against the primary sliver of {PX}
	bodyProofSecondary        // an inconsistency proof against the secondary sliver of {PX}
)

// kindOf is the kind byte of a body kind for a blob.
func kindOf(kind int, letter byte) uint8 {
	return uint8(kind | slices.Index(blobLetters, letter)<<3)
}

// run sends one input and checks the node's answer and store.
func (h *nodeHarness) run(t *testing.T, method, target, ctype, rng string, length int64, prep, kind uint8, body []byte) {
	r := h.request(method, target, ctype, rng, length, kind, body)
	mark := h.logs.mark()
	named, hasNamed := r.blobID()
	var extra []blob.ID
	if hasNamed {
		extra = append(extra, named)
	}
	// Also after a failure: the fuzzer runs the input again to minimize it.
	defer h.restore(t, extra)
	h.prepare(t, prep)
	before := h.snapshot(t, extra...)
	a, err := h.conn.roundTrip(r)
	if err != nil {
		t.Fatalf("%s: no answer: %v%s", r, err, h.logs.since(mark))
	}
	h.checkAnswer(t, r, a, mark)
	after := h.snapshot(t, extra...)
	h.checkChange(t, r, a, named, hasNamed, before, after)
}

// request builds the request of an input: only requests that net/http
// parses are sent (the node's handlers are under test, not HTTP/1.1), so
// the method keeps its token characters, the target is escaped where it
// must be, and header values lose their control characters.
func (h *nodeHarness) request(method, target, ctype, rng string, length int64, kind uint8, body []byte) *rawRequest {
	method = strings.Map(func(c rune) rune {
		if c < 0x80 && (c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || strings.ContainsRune("!#$%&'*+-.^_`|~", c)) {
			return c
		}
		return -1
	}, method)
	if method == "" {
		method = "GET"
	}
	r := &rawRequest{method: method[:min(len(method), 16)], target: escapeTarget(h.tokens.Replace(target[:min(len(target), 4096)])),
		ctype: headerValue(ctype), rng: headerValue(rng), length: length}
	if kind&7 != bodyRaw {
		body = h.body(kind, body)
	}
	switch {
	case length == 0 || length < -2:
		r.length = int64(len(body))
		r.body = body
	case length == -1:
		r.body = body // chunked
	case length == -2:
		// No length, hence no body.
	default:
		r.body = body[:min(int64(len(body)), length)]
		r.short = length > int64(len(body))
	}
	return r
}

// escapeTarget makes a request target of s: an absolute path whose bytes
// net/http accepts (spaces, controls, non-ASCII and a few delimiters are
// percent-encoded, and so is a % that starts no escape).
func escapeTarget(s string) string {
	var b strings.Builder
	if !strings.HasPrefix(s, "/") {
		b.WriteByte('/')
	}
	isHex := func(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			b.WriteByte(c)
		case c <= ' ' || c >= 0x7f || strings.IndexByte("%#\"<>\\^`{|}", c) >= 0:
			fmt.Fprintf(&b, "%%%02X", c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// headerValue is s without the bytes a header value cannot hold, and
// short enough to keep within net/http's header limit.
func headerValue(s string) string {
	s = strings.Map(func(c rune) rune {
		if c < ' ' && c != '\t' || c == 0x7f {
			return -1
		}
		return c
	}, strings.ToValidUTF8(s[:min(len(s), 1024)], ""))
	return strings.TrimSpace(s)
}

// body is a valid body of the kind a kind byte names, patched: the first
// two bytes of the patch are a position (little-endian, modulo the body's
// length), and the rest are XORed into the body from there on, extending it
// where they run past its end; a patch of a position alone flips the
// lowest bit there. Every patch but the empty one changes the body, most
// of them leaving it the right size, so that the fuzzer reaches the checks
// of content. (A shorter body is the length argument's business.)
func (h *nodeHarness) body(kind uint8, patch []byte) []byte {
	b := h.blobs[blobLetters[int(kind>>3)%len(blobLetters)]]
	out := h.validBody(int(kind&7), b)
	if len(patch) == 0 || len(out) == 0 {
		return out
	}
	pos := int(patch[0])
	if len(patch) > 1 {
		pos |= int(patch[1]) << 8
	}
	pos %= len(out)
	xor := []byte{1}
	if len(patch) > 2 {
		xor = patch[2:]
	}
	for i, v := range xor {
		if pos+i < len(out) {
			out[pos+i] ^= v
		} else {
			out = append(out, v)
		}
	}
	return out
}

// validBody is a fresh valid body of a kind for a blob.
func (h *nodeHarness) validBody(kind int, b *fuzzBlob) []byte {
	x, n := b.x, h.params.N()
	switch kind {
	case bodyMetadata:
		return x.Metadata.Metadata.MarshalBCS()
	case bodyPrimary:
		s := x.Pair(b.own).Primary
		return s.MarshalBCS()
	case bodySecondary:
		s := x.Pair(b.own).Secondary
		return s.MarshalBCS()
	case bodyBatch, bodyBatchAll:
		var pairs []int
		for p := range n {
			if kind == bodyBatchAll || h.owned[uint16(h.params.ShardOfPair(b.id(), p))] {
				pairs = append(pairs, p)
			}
		}
		return h.batch(x, pairs)
	case bodyProofPrimary, bodyProofSecondary:
		proof := redstuff.InconsistencyProof{Target: blob.Primary, TargetIndex: uint16(b.own)}
		from, k := blob.Secondary, h.params.SecondarySymbols()
		if kind == bodyProofSecondary {
			proof = redstuff.InconsistencyProof{Target: blob.Secondary, TargetIndex: uint16(h.params.SecondaryIndex(b.own))}
			from, k = blob.Primary, h.params.PrimarySymbols()
		}
		for i := range k {
			s := x.Sliver(from, i)
			g, err := h.enc.RecoverySymbols(&s, []int{int(proof.TargetIndex)})
			if err != nil {
				panic(err) // a valid sliver of a valid encoding
			}
			proof.Symbols = append(proof.Symbols, g[0].RecoverySymbol)
		}
		return proof.AppendBCS(nil)
	}
	return nil
}

// batch is a sliver batch of both slivers of each pair.
func (h *nodeHarness) batch(x *redstuff.Encoded, pairs []int) []byte {
	var lens []int
	for range pairs {
		lens = append(lens, x.SliverLen(blob.Primary), x.SliverLen(blob.Secondary))
	}
	sb := nodeapi.NewSliverBatch(nodeapi.SliverBatchSize(lens...))
	for _, p := range pairs {
		sp := x.Pair(p)
		sb.AddSliver(p, &sp.Primary)
		sb.AddSliver(p, &sp.Secondary)
	}
	return sb.Bytes()
}

// prepare makes the valid uploads an input's prep byte asks for.
func (h *nodeHarness) prepare(t *testing.T, prep uint8) {
	prep &= prepMask
	if prep&prepSliversA != 0 {
		prep |= prepMetadataA
	}
	if prep&prepSliversD != 0 {
		prep |= prepMetadataD
	}
	if prep&prepSliversU != 0 {
		prep |= prepMetadataU
	}
	steps := []struct {
		bit    uint8
		letter byte
		route  string
		kind   int
		code   int
	}{
		{prepMetadataA, blobRegistered, "/metadata", bodyMetadata, http.StatusCreated},
		{prepSliversA, blobRegistered, "/slivers", bodyBatch, http.StatusCreated},
		{prepMetadataD, blobDeletable, "/metadata", bodyMetadata, http.StatusCreated},
		{prepSliversD, blobDeletable, "/slivers", bodyBatch, http.StatusCreated},
		{prepMetadataU, blobUnknown, "/metadata?pending=true", bodyMetadata, http.StatusAccepted},
		{prepSliversU, blobUnknown, "/slivers?pending=true", bodyBatch, http.StatusAccepted},
	}
	for _, s := range steps {
		if prep&s.bit == 0 {
			continue
		}
		b := h.blobs[s.letter]
		body := h.validBody(s.kind, b)
		r := &rawRequest{method: "PUT", target: "/v1/blobs/" + b.id().String() + s.route, body: body, length: int64(len(body))}
		a, err := h.conn.roundTrip(r)
		if err != nil || a.code != s.code {
			t.Fatalf("preparing: %s: %v %v", r, a, err)
		}
	}
}

// checkAnswer checks that an answer is one the node may give.
func (h *nodeHarness) checkAnswer(t *testing.T, r *rawRequest, a *answer, mark int) {
	t.Helper()
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("%s: answered %d %q: %s%s", r, a.code, bytesPrefix(a.body), fmt.Sprintf(format, args...), h.logs.since(mark))
	}
	ctype, _, _ := mime.ParseMediaType(a.header.Get("Content-Type"))
	switch {
	case a.code >= 500 && a.code != http.StatusServiceUnavailable:
		fail("a server error")
	case a.code < 200:
		fail("an informational final answer")
	case a.code >= 400 && a.code < 500 && ctype == "text/plain" && bytes.HasPrefix(a.body, []byte(strconv.Itoa(a.code)+" ")):
		// net/http's own refusal of a request it does not parse; none of the
		// node's handlers saw it.
		return
	case a.code >= 300 && a.code < 400:
		// ServeMux's redirect to a path's canonical form.
		if a.code != http.StatusTemporaryRedirect && a.code != http.StatusMovedPermanently || a.header.Get("Location") == "" {
			fail("a redirect other than ServeMux's")
		}
		return
	}
	if r.method == "HEAD" {
		if ctype != "application/json" && a.code >= 400 {
			fail("an error answer of type %q", ctype)
		}
		return
	}
	if a.code < 300 {
		switch ctype {
		case "application/json":
			var env struct {
				Success *struct {
					Code *int            `json:"code"`
					Data json.RawMessage `json:"data"`
				} `json:"success"`
			}
			if err := json.Unmarshal(a.body, &env); err != nil || env.Success == nil || env.Success.Code == nil ||
				*env.Success.Code != a.code || env.Success.Data == nil {
				fail("not Walrus's success envelope (%v)", err)
			}
		case "application/octet-stream", "application/yaml":
		default:
			fail("a success of type %q", ctype)
		}
		return
	}
	if ctype != "application/json" {
		fail("an error answer of type %q", ctype)
	}
	var e struct {
		Error *struct {
			Code    *int                         `json:"code"`
			Status  *string                      `json:"status"`
			Message *string                      `json:"message"`
			Details []map[string]json.RawMessage `json:"details"`
		} `json:"error"`
	}
	if err := json.Unmarshal(a.body, &e); err != nil || e.Error == nil || e.Error.Code == nil || e.Error.Status == nil ||
		e.Error.Message == nil || len(e.Error.Details) != 1 {
		fail("not an AIP-193 error (%v)", err)
	}
	d := e.Error.Details[0]
	var typ, reason, domain string
	var md map[string]any
	if json.Unmarshal(d["@type"], &typ) != nil || typ != "ErrorInfo" || json.Unmarshal(d["reason"], &reason) != nil || reason == "" ||
		json.Unmarshal(d["domain"], &domain) != nil || json.Unmarshal(d["metadata"], &md) != nil || md == nil {
		fail("not an ErrorInfo detail with reason, domain and metadata")
	}
	if domain != nodeapi.DomainStorageNode && domain != nodeapi.DomainGlobal {
		fail("the domain %q", domain)
	}
	code, status := *e.Error.Code, *e.Error.Status
	if code != a.code {
		fail("the body's code %d", code)
	}
	if c, ok := httpx.CodeFor(status); !ok || c != code {
		// The sliver batch route is ours, with HTTP's own 411 and 413.
		batch := r.method == "PUT" && r.route() == nodeapi.RouteSlivers
		if !batch || !(code == http.StatusLengthRequired && status == httpx.StatusInvalidArgument && reason == nodeapi.ReasonLengthRequired ||
			code == http.StatusRequestEntityTooLarge && status == httpx.StatusSizeExceeded && reason == nodeapi.ReasonBodyTooLarge) {
			fail("the status %q does not pair with %d in Walrus's table (%q)", status, code, httpx.StatusFor(code))
		}
	}
}

// checkChange checks what a request changed in the store and the pending
// cache: nothing, unless it is a PUT that succeeded; then only the
// metadata and slivers of the blob it names, in node 0's shards, to the
// values of that blob's encoding.
func (h *nodeHarness) checkChange(t *testing.T, r *rawRequest, a *answer, named blob.ID, hasNamed bool, before, after storeState) {
	t.Helper()
	changed := before.diff(after)
	accepted := r.method == "PUT" && a.code >= 200 && a.code < 300
	if !accepted {
		if len(changed) > 0 || after.pending != before.pending {
			t.Fatalf("%s: answered %d %q, but the store changed: %v; pending bytes %d -> %d",
				r, a.code, bytesPrefix(a.body), changed, before.pending, after.pending)
		}
		return
	}
	if after.pending != before.pending && a.code != http.StatusAccepted {
		t.Fatalf("%s: answered %d, but the pending cache changed: %d -> %d bytes", r, a.code, before.pending, after.pending)
	}
	for _, k := range changed {
		e, ok := after.entries[k]
		switch {
		case !ok:
			t.Fatalf("%s: answered %d, and %s was deleted", r, a.code, k)
		case !hasNamed || !e.hasID || e.id != named:
			t.Fatalf("%s: answered %d, and %s changed: not the blob the request names", r, a.code, k)
		case e.kind != 'm' && e.kind != 's':
			t.Fatalf("%s: answered %d, and %s changed: not metadata or a sliver", r, a.code, k)
		case e.kind == 's' && !h.owned[e.shard]:
			t.Fatalf("%s: answered %d, and stored %s in a shard the node does not hold", r, a.code, k)
		case e.sum != h.truth(e):
			t.Fatalf("%s: answered %d, and stored %s, which is not the blob's encoding", r, a.code, k)
		}
	}
}

// truth is the digest of the value the encoding of a harness blob has for
// an entry of its metadata or slivers (zero for anything else).
func (h *nodeHarness) truth(e stateEntry) [32]byte {
	b := h.byID[e.id]
	if !e.hasID || b == nil {
		return [32]byte{}
	}
	switch e.kind {
	case 'm':
		return sha256.Sum256(b.x.Metadata.MarshalBCS())
	case 's':
		s := b.x.Pair(h.params.PairOfShard(e.id, int(e.shard))).Primary
		if e.typ == blob.Secondary {
			s = b.x.Pair(h.params.PairOfShard(e.id, int(e.shard))).Secondary
		}
		return sha256.Sum256(s.MarshalBCS())
	}
	return [32]byte{}
}

// restore takes back what the preparation and the request stored, so that
// the store is as the setup left it. It runs deferred, after a failure too,
// and so reports with Errorf.
func (h *nodeHarness) restore(t *testing.T, extra []blob.ID) {
	t.Helper()
	after := h.snapshot(t, extra...)
	dirty := map[blob.ID]bool{}
	for _, k := range h.baseline.diff(after) {
		e, ok := after.entries[k]
		if !ok {
			e = h.baseline.entries[k]
		}
		if !e.hasID || e.id == h.blobs[blobCertified].id() {
			t.Errorf("the harness cannot restore %s", k)
			return
		}
		dirty[e.id] = true
	}
	if len(dirty) == 0 && after.pending == h.baseline.pending {
		return
	}
	for id := range dirty {
		if err := h.node.DropBlobDataForTest(id); err != nil {
			t.Errorf("restoring the store: %v", err)
			return
		}
	}
	for _, id := range slices.Concat(extra, []blob.ID{h.blobs[blobUnknown].id(), h.blobs[blobRegistered].id(), h.blobs[blobDeletable].id()}) {
		h.node.DropPendingForTest(id)
	}
	if s := h.snapshot(t, extra...); s.diff(h.baseline) != nil || s.pending != h.baseline.pending {
		t.Errorf("the harness could not restore the store: %v; pending bytes %d", s.diff(h.baseline), s.pending)
	}
}

// storeState is what a node holds: every value of its store that the
// store's methods list or find, as a digest, and the size of its pending
// cache.
type storeState struct {
	entries map[string]stateEntry
	pending int64
}

// stateEntry is one value of a storeState.
type stateEntry struct {
	kind  byte // m metadata, s sliver, i blob info, q sync queue, e expiry, h shard, f node fact, c check counts
	id    blob.ID
	hasID bool
	shard uint16
	typ   blob.SliverType
	sum   [32]byte
}

// diff lists the keys whose entries differ between s and o, sorted (nil if
// none).
func (s storeState) diff(o storeState) []string {
	var out []string
	for k, e := range s.entries {
		if oe, ok := o.entries[k]; !ok || oe != e {
			out = append(out, k)
		}
	}
	for k := range o.entries {
		if _, ok := s.entries[k]; !ok {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// snapshot reads the node's state: the slivers of every shard, the blob
// records, the recovery queue, the expiry index, the shards held, the node
// facts, the metadata of every blob it met or was given, and, from
// store.Check, the number of keys none of these account for (the store's
// own), the orphan files and the damaged values.
func (h *nodeHarness) snapshot(t testing.TB, extra ...blob.ID) storeState {
	t.Helper()
	s := storeState{entries: map[string]stateEntry{}, pending: h.node.PendingBytesForTest()}
	known := map[blob.ID]bool{}
	for id := range h.byID {
		known[id] = true
	}
	for _, id := range extra {
		known[id] = true
	}
	put := func(k string, e stateEntry, v []byte) {
		e.sum = sha256.Sum256(v)
		s.entries[k] = e
		if e.hasID {
			known[e.id] = true
		}
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("reading the store: %v", err)
		}
	}
	for sh := range h.params.N() {
		for _, typ := range []blob.SliverType{blob.Primary, blob.Secondary} {
			var after *blob.ID
			for {
				page, err := h.st.ShardBlobs(uint16(sh), typ, after, 256)
				must(err)
				for _, id := range page {
					v, err := h.st.SliverBytes(uint16(sh), typ, id)
					if err != nil {
						v = []byte("error: " + err.Error())
					}
					put(fmt.Sprintf("sliver %d %s %s", sh, typ, id), stateEntry{kind: 's', id: id, hasID: true, shard: uint16(sh), typ: typ}, v)
				}
				if len(page) < 256 {
					break
				}
				after = &page[len(page)-1]
			}
		}
	}
	must(h.st.ForEachBlobInfo(func(id blob.ID, info store.BlobInfo) error {
		put("info "+id.String(), stateEntry{kind: 'i', id: id, hasID: true}, info.AppendBCS(nil))
		return nil
	}))
	queue, err := h.st.SyncQueue(nil, math.MaxInt32)
	must(err)
	for _, id := range queue {
		put("queued "+id.String(), stateEntry{kind: 'q', id: id, hasID: true}, nil)
	}
	notes, err := h.st.Expiring(math.MaxUint32)
	must(err)
	for _, n := range notes {
		put(fmt.Sprintf("expiry %d %s", n.Epoch, n.ID), stateEntry{kind: 'e', id: n.ID, hasID: true}, nil)
	}
	shards, err := h.st.Shards()
	must(err)
	for _, sh := range shards {
		put(fmt.Sprintf("shard %d", sh), stateEntry{kind: 'h'}, nil)
	}
	for _, name := range append([]string{"cursor"}, node.MetaNamesForTest...) {
		v, err := h.st.Meta(name)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		must(err)
		put("fact "+name, stateEntry{kind: 'f'}, v)
	}
	for id := range known {
		v, err := h.st.MetadataBytes(id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			v = []byte("error: " + err.Error())
		}
		put("metadata "+id.String(), stateEntry{kind: 'm', id: id, hasID: true}, v)
	}
	r, err := h.st.Check()
	must(err)
	counts := fmt.Sprintf("other keys %d, orphan files %d, damaged %x", r.Keys-len(s.entries), r.OrphanFiles, r.Corrupt)
	put("check", stateEntry{kind: 'c'}, []byte(counts))
	return s
}

// rawRequest is one HTTP/1.1 request, written by hand so that its
// Content-Length may differ from its body.
type rawRequest struct {
	method, target string
	ctype, rng     string // header values ("": none)
	body           []byte // the bytes sent
	// length is the Content-Length sent; -1: the body is chunked; -2:
	// neither header (and no body).
	length int64
	// short: the Content-Length is more than the body; the write side is
	// closed after it, so that the node reads an early end rather than
	// waiting.
	short bool
}

func (r *rawRequest) String() string {
	s := fmt.Sprintf("%s %s (%d bytes", r.method, r.target, len(r.body))
	switch {
	case r.length == -1:
		s += ", chunked"
	case r.length == -2:
		s += ", no length"
	case r.length != int64(len(r.body)):
		s += fmt.Sprintf(", Content-Length %d", r.length)
	}
	if r.ctype != "" {
		s += fmt.Sprintf(", Content-Type %q", r.ctype)
	}
	if r.rng != "" {
		s += fmt.Sprintf(", Range %q", r.rng)
	}
	return s + ")"
}

// segments are the path's segments as the node's router sees them
// (unescaped), or nil if the path does not parse.
func (r *rawRequest) segments() []string {
	u, err := url.ParseRequestURI(r.target)
	if err != nil {
		return nil
	}
	segs := strings.Split(u.EscapedPath(), "/")
	for i, s := range segs {
		if segs[i], err = url.PathUnescape(s); err != nil {
			return nil
		}
	}
	return segs
}

// blobID is the blob ID the path names, if it is a blob's route.
func (r *rawRequest) blobID() (blob.ID, bool) {
	segs := r.segments()
	if len(segs) < 4 || segs[0] != "" || segs[1] != "v1" || segs[2] != "blobs" {
		return blob.ID{}, false
	}
	id, err := blob.ParseID(segs[3])
	return id, err == nil
}

// route is the sliver batch route if the path is one ("" otherwise).
func (r *rawRequest) route() string {
	if segs := r.segments(); len(segs) == 5 && segs[1] == "v1" && segs[2] == "blobs" && segs[4] == "slivers" {
		return nodeapi.RouteSlivers
	}
	return ""
}

// bytes is the request as sent to host.
func (r *rawRequest) bytes(host string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\n", r.method, r.target, host)
	if r.ctype != "" {
		fmt.Fprintf(&b, "Content-Type: %s\r\n", r.ctype)
	}
	if r.rng != "" {
		fmt.Fprintf(&b, "Range: %s\r\n", r.rng)
	}
	switch {
	case r.length == -1:
		b.WriteString("Transfer-Encoding: chunked\r\n\r\n")
		if len(r.body) > 0 {
			fmt.Fprintf(&b, "%x\r\n%s\r\n", len(r.body), r.body)
		}
		b.WriteString("0\r\n\r\n")
		return b.Bytes()
	case r.length >= 0:
		fmt.Fprintf(&b, "Content-Length: %d\r\n", r.length)
	}
	if r.short {
		b.WriteString("Connection: close\r\n")
	}
	b.WriteString("\r\n")
	b.Write(r.body)
	return b.Bytes()
}

// answer is the node's answer to a request.
type answer struct {
	code   int
	header http.Header
	body   []byte
}

func (a *answer) String() string {
	if a == nil {
		return "no answer"
	}
	return fmt.Sprintf("%d %q", a.code, bytesPrefix(a.body))
}

// rawClient sends rawRequests over one TLS connection to the node, pinned
// to the network key the chain registered for it, which it keeps while
// the node does.
type rawClient struct {
	addr string
	pins *nodetls.Pins
	conn *tls.Conn
	br   *bufio.Reader
	used time.Time
}

func (c *rawClient) close() {
	if c.conn != nil {
		c.conn.Close()
		c.conn = nil
	}
}

func (c *rawClient) dial() error {
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	defer cancel()
	conn, err := c.pins.DialTLSContext(ctx, "tcp", c.addr)
	if err != nil {
		return err
	}
	c.conn, c.br = conn.(*tls.Conn), bufio.NewReader(conn)
	return nil
}

// roundTrip sends a request and reads the answer. A kept connection that
// fails is replaced, once: the node may have closed it while it was idle.
// (A handler's panic fails the new connection too.)
func (c *rawClient) roundTrip(r *rawRequest) (*answer, error) {
	if time.Since(c.used) > 30*time.Second {
		c.close() // the node may be about to drop it
	}
	reused := c.conn != nil
	a, err := c.try(r)
	if err != nil && reused {
		a, err = c.try(r)
	}
	return a, err
}

func (c *rawClient) try(r *rawRequest) (*answer, error) {
	if c.conn == nil {
		if err := c.dial(); err != nil {
			return nil, err
		}
	}
	a, keep, err := c.exchange(r)
	c.used = time.Now()
	if err != nil || !keep {
		c.close()
	}
	return a, err
}

func (c *rawClient) exchange(r *rawRequest) (a *answer, keep bool, err error) {
	if err := c.conn.SetDeadline(time.Now().Add(requestTimeout)); err != nil {
		return nil, false, err
	}
	// The node may answer before it has read the body, and close: a failed
	// write is reported only if no answer can be read.
	_, werr := c.conn.Write(r.bytes(c.addr))
	if werr == nil && r.short {
		werr = c.conn.CloseWrite()
	}
	resp, err := http.ReadResponse(c.br, &http.Request{Method: r.method})
	if err != nil {
		if werr != nil {
			return nil, false, fmt.Errorf("writing the request: %w", werr)
		}
		return nil, false, fmt.Errorf("reading the answer: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, false, fmt.Errorf("reading the answer's body (%d): %w", resp.StatusCode, err)
	}
	return &answer{code: resp.StatusCode, header: resp.Header, body: body}, !resp.Close && !r.short && werr == nil, nil
}

// bytesPrefix is the start of an answer's body, for messages.
func bytesPrefix(b []byte) string { return string(b[:min(len(b), 300)]) }

// logRing keeps what the nodes logged of interest to a failure: warnings,
// errors, and any line about a panic (net/http logs a handler's panic at
// debug level).
type logRing struct {
	mu    sync.Mutex
	lines []string
	n     int // lines ever added
}

const logRingSize = 50

func (l *logRing) add(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.lines) == logRingSize {
		l.lines = l.lines[1:]
	}
	l.lines = append(l.lines, s)
	l.n++
}

// mark is a position in the log, for since.
func (l *logRing) mark() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.n
}

// since returns the lines logged after mark, as the end of a message.
func (l *logRing) since(mark int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := min(l.n-mark, len(l.lines))
	if k <= 0 {
		return ""
	}
	return "\nthe nodes logged:\n\t" + strings.Join(l.lines[len(l.lines)-k:], "\n\t")
}

// ringHandler is a slog.Handler writing to a logRing. The chain's logger
// (component=chain) is asked for warnings and errors only, so that its
// debug lines are not even formatted.
type ringHandler struct {
	ring  *logRing
	attrs []slog.Attr
	chain bool
}

func (h *ringHandler) Enabled(_ context.Context, l slog.Level) bool {
	return !h.chain || l >= slog.LevelWarn
}

func (h *ringHandler) Handle(_ context.Context, r slog.Record) error {
	if r.Level < slog.LevelWarn && !strings.Contains(r.Message, "panic") {
		return nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", r.Level, r.Message)
	for _, a := range h.attrs {
		fmt.Fprintf(&b, " %s", a)
	}
	r.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s", a)
		return true
	})
	h.ring.add(b.String())
	return nil
}

func (h *ringHandler) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.attrs = append(slices.Clip(h.attrs), as...)
	for _, a := range as {
		if a.Key == "component" && a.Value.String() == "chain" {
			c.chain = true
		}
	}
	return &c
}

func (h *ringHandler) WithGroup(string) slog.Handler { return h }

// nodeServerSeed is one input of FuzzNodeServer's seed corpus.
type nodeServerSeed struct {
	method, target, ctype, rng string
	length                     int64
	prep, kind                 uint8
	body                       []byte
}

// nodeServerSeeds are valid and invalid requests to every route. Their
// bodies are the harness's, computed alike in every process.
func nodeServerSeeds(h *nodeHarness) []nodeServerSeed {
	get := func(target string) nodeServerSeed { return nodeServerSeed{method: "GET", target: target} }
	put := func(target string, prep, kind uint8) nodeServerSeed {
		return nodeServerSeed{method: "PUT", target: target, prep: prep, kind: kind}
	}
	raw := func(method, target string, body []byte) nodeServerSeed {
		return nodeServerSeed{method: method, target: target, body: body}
	}
	mdA := h.validBody(bodyMetadata, h.blobs[blobRegistered])
	slC := h.validBody(bodyPrimary, h.blobs[blobCertified])
	seeds := []nodeServerSeed{
		get("/v1/health"),
		get("/v1/health?detailed=true"),
		get("/v1/health?detailed=maybe"),
		get("/v1/api"),
		get("/v1/blobs/{C}/metadata"),
		get("/v1/blobs/{A}/metadata"),
		get("/v1/blobs/{B}/metadata"),
		get("/v1/blobs/not-a-blob-id/metadata"),
		get("/v1/blobs/{C}/metadata/status"),
		get("/v1/blobs/{U}/metadata/status"),
		get("/v1/blobs/{C}/slivers/{PC}/primary"),
		get("/v1/blobs/{C}/slivers/{PC}/secondary"),
		get("/v1/blobs/{C}/slivers/{QC}/primary"),
		get("/v1/blobs/{C}/slivers/99999/primary"),
		get("/v1/blobs/{C}/slivers/{PC}/tertiary"),
		get("/v1/blobs/{C}/slivers/{PC}/secondary/status"),
		get("/v1/blobs/{A}/slivers/{QA}/primary/status"),
		get("/v1/blobs/{C}/confirmation/permanent"),
		get("/v1/blobs/{A}/confirmation/permanent"),
		get("/v1/blobs/{U}/confirmation/permanent?wait_for_registration=true&wait_millis=20"),
		get("/v1/blobs/{D}/confirmation/deletable/{OD}"),
		get("/v1/blobs/{D}/confirmation/deletable/0xzz"),
		get("/v1/blobs/{C}/recoverySymbols?id=0-1&id={PC}-2"),
		get("/v1/blobs/{C}/recoverySymbols?proofAxis=secondary&id=3-{PC}"),
		get("/v1/blobs/{C}/recoverySymbols?targetSliver={QC}&targetType=primary"),
		get("/v1/blobs/{C}/recoverySymbols"),
		get("/v1/blobs/{C}/decodingSymbols?targetSlivers=1&targetSlivers={QC}&targetType=secondary"),
		get("/v1/blobs/{C}/decodingSymbols?targetSlivers=1"),
		get("/v1/blobs/{C}/status"),
		get("/v1/blobs/{D}/status"),
		get("/v1/blobs/{U}/status"),
		get("/v1/blobs/{C}/../{C}/metadata"),
		get("/v1/nothing-here"),
		{method: "HEAD", target: "/v1/blobs/{A}/metadata"},
		{method: "DELETE", target: "/v1/blobs/{C}/metadata"},
		{method: "GET", target: "/v1/blobs/{C}/slivers/{PC}/primary", rng: "bytes=0-9"},
		put("/v1/blobs/{A}/metadata", 0, kindOf(bodyMetadata, blobRegistered)),
		put("/v1/blobs/{C}/metadata", 0, kindOf(bodyMetadata, blobCertified)),
		put("/v1/blobs/{U}/metadata?pending=true", 0, kindOf(bodyMetadata, blobUnknown)),
		put("/v1/blobs/{U}/metadata", 0, kindOf(bodyMetadata, blobUnknown)),
		put("/v1/blobs/{B}/metadata", 0, kindOf(bodyMetadata, blobBlocked)),
		put("/v1/blobs/{D}/metadata?pending=1", 0, kindOf(bodyMetadata, blobDeletable)),
		put("/v1/blobs/{A}/metadata", 0, kindOf(bodyMetadata, blobDeletable)),
		put("/v1/blobs/{A}/slivers/{PA}/primary", prepMetadataA, kindOf(bodyPrimary, blobRegistered)),
		put("/v1/blobs/{A}/slivers/{PA}/secondary", prepMetadataA, kindOf(bodySecondary, blobRegistered)),
		put("/v1/blobs/{A}/slivers/{PA}/secondary", prepMetadataA, kindOf(bodyPrimary, blobRegistered)),
		put("/v1/blobs/{A}/slivers/{QA}/primary", prepMetadataA, kindOf(bodyPrimary, blobRegistered)),
		put("/v1/blobs/{A}/slivers/{PA}/primary", 0, kindOf(bodyPrimary, blobRegistered)),
		put("/v1/blobs/{U}/slivers/{PU}/primary?pending=true", prepMetadataU, kindOf(bodyPrimary, blobUnknown)),
		put("/v1/blobs/{C}/slivers/{PC}/primary", 0, kindOf(bodyPrimary, blobCertified)),
		put("/v1/blobs/{A}/slivers", prepMetadataA, kindOf(bodyBatch, blobRegistered)),
		put("/v1/blobs/{A}/slivers", prepMetadataA, kindOf(bodyBatchAll, blobRegistered)),
		put("/v1/blobs/{D}/slivers", prepMetadataD, kindOf(bodyBatch, blobDeletable)),
		put("/v1/blobs/{U}/slivers?pending=true", prepMetadataU, kindOf(bodyBatch, blobUnknown)),
		put("/v1/blobs/{C}/slivers", 0, kindOf(bodyBatch, blobCertified)),
		get("/v1/blobs/{A}/confirmation/permanent"),
		{method: "GET", target: "/v1/blobs/{A}/confirmation/permanent", prep: prepSliversA},
		{method: "GET", target: "/v1/blobs/{D}/confirmation/deletable/{OD}", prep: prepSliversD},
		{method: "GET", target: "/v1/blobs/{D}/confirmation/deletable/{OA}", prep: prepSliversD},
		{method: "GET", target: "/v1/blobs/{U}/slivers/{PU}/secondary/status", prep: prepSliversU},
		{method: "GET", target: "/v1/blobs/{U}/metadata/status", prep: prepMetadataU},
		{method: "GET", target: "/v1/blobs/{A}/recoverySymbols?targetSliver=1&targetType=secondary", prep: prepSliversA},
		{method: "POST", target: "/v1/blobs/{C}/inconsistencyProof/primary", kind: kindOf(bodyProofPrimary, blobCertified)},
		{method: "POST", target: "/v1/blobs/{C}/inconsistencyProof/secondary", kind: kindOf(bodyProofSecondary, blobCertified)},
		{method: "POST", target: "/v1/blobs/{A}/inconsistencyProof/primary", prep: prepMetadataA, kind: kindOf(bodyProofPrimary, blobRegistered)},
		// Patched bodies: a flipped bit, an extension.
		{method: "PUT", target: "/v1/blobs/{A}/metadata", kind: kindOf(bodyMetadata, blobRegistered), body: []byte{40, 0, 0x40}},
		{method: "PUT", target: "/v1/blobs/{A}/slivers/{PA}/primary", prep: prepMetadataA, kind: kindOf(bodyPrimary, blobRegistered), body: []byte{200}},
		{method: "PUT", target: "/v1/blobs/{A}/slivers/{PA}/secondary", prep: prepMetadataA, kind: kindOf(bodySecondary, blobRegistered), body: []byte{2}},
		{method: "PUT", target: "/v1/blobs/{A}/slivers", prep: prepMetadataA, kind: kindOf(bodyBatch, blobRegistered), body: []byte{9, 9}},
		{method: "PUT", target: "/v1/blobs/{A}/slivers", prep: prepMetadataA, kind: kindOf(bodyBatch, blobRegistered), body: []byte{100, 0, 1}},
		{method: "PUT", target: "/v1/blobs/{A}/slivers", prep: prepMetadataA, kind: kindOf(bodyBatch, blobRegistered), body: []byte{0xff, 0xff, 0, 7}},
		// Lengths: announced but not sent, more than sent, chunked.
		{method: "PUT", target: "/v1/blobs/{A}/metadata", kind: kindOf(bodyMetadata, blobRegistered), length: 5000},
		{method: "PUT", target: "/v1/blobs/{A}/metadata", kind: kindOf(bodyMetadata, blobRegistered), length: 10},
		{method: "PUT", target: "/v1/blobs/{A}/metadata", kind: kindOf(bodyMetadata, blobRegistered), length: -1, ctype: "application/json"},
		{method: "PUT", target: "/v1/blobs/{A}/slivers", prep: prepMetadataA, kind: kindOf(bodyBatch, blobRegistered), length: -1},
		{method: "PUT", target: "/v1/blobs/{A}/slivers", prep: prepMetadataA, kind: kindOf(bodyBatch, blobRegistered), length: 1 << 40},
		{method: "PUT", target: "/v1/blobs/{A}/slivers/{PA}/primary", prep: prepMetadataA, kind: kindOf(bodyPrimary, blobRegistered), length: -1},
		{method: "PUT", target: "/v1/blobs/{A}/slivers/{PA}/primary", prep: prepMetadataA, kind: kindOf(bodyPrimary, blobRegistered), length: 100000},
		{method: "PUT", target: "/v1/blobs/{A}/slivers", prep: prepMetadataA, length: -2},
		// Raw bodies.
		raw("PUT", "/v1/blobs/{A}/metadata", mdA),
		raw("PUT", "/v1/blobs/{A}/metadata", []byte{0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0}),
		raw("PUT", "/v1/blobs/{A}/metadata", []byte{0, 7}),
		raw("PUT", "/v1/blobs/{C}/slivers/{PC}/primary", slC),
		raw("PUT", "/v1/blobs/{A}/slivers", []byte("WSB1\x01\x00\x00\x00\x05\x00\x01\xff\xff\xff\xff")),
		raw("POST", "/v1/blobs/{C}/inconsistencyProof/primary", []byte{1, 0, 0}),
	}
	return seeds
}
