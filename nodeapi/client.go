package nodeapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/redstuff"
	"github.com/walrus-go/walrus/wire"
)

// ErrResponse: a node answered with bytes that do not decode, or too many.
var ErrResponse = errors.New("nodeapi: malformed response")

// ClientConfig configures a Client.
type ClientConfig struct {
	// HTTP is the client used (nil: a client with sensible timeouts shared by
	// nothing else).
	HTTP *http.Client
	// Params are the network's encoding parameters; they bound the size of
	// answers the client accepts. Required.
	Params blob.Params
	// MaxResponse bounds answers not bounded by the parameters (symbols,
	// JSON); default 256 MiB.
	MaxResponse int64
	// PlainHTTP reaches "host:port" addresses over plain HTTP instead of
	// HTTPS (debugging a network whose nodes disable TLS).
	PlainHTTP bool
}

// Client talks to one storage node. It is safe for concurrent use.
type Client struct {
	base   string
	hc     *http.Client
	params blob.Params
	max    int64
}

// NewClient returns a client for the node at address: "host:port" (HTTPS,
// as Walrus's nodes serve; plain HTTP with cfg.PlainHTTP) or a URL. The
// HTTP client decides whom to trust: storage nodes' certificates are
// checked against the keys registered on chain (package nodetls).
func NewClient(address string, cfg ClientConfig) (*Client, error) {
	if cfg.Params.N() == 0 {
		return nil, errors.New("nodeapi: client needs the encoding parameters")
	}
	base := address
	if !strings.Contains(base, "://") {
		scheme := "https://"
		if cfg.PlainHTTP {
			scheme = "http://"
		}
		base = scheme + base
	}
	u, err := url.Parse(base)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("nodeapi: node address %q", address)
	}
	hc := cfg.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 5 * time.Minute}
	}
	if cfg.MaxResponse == 0 {
		cfg.MaxResponse = 256 << 20
	}
	return &Client{base: strings.TrimRight(base, "/"), hc: hc, params: cfg.Params, max: cfg.MaxResponse}, nil
}

// Address is the base URL of the node.
func (c *Client) Address() string { return c.base }

func (c *Client) do(ctx context.Context, method, path string, query url.Values, body []byte, limit int64) (int, []byte, error) {
	u := c.base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set(headerContentType, contentTypeOctetStream)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		limit = 64 << 10
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return 0, nil, err
	}
	if int64(len(b)) > limit {
		return 0, nil, fmt.Errorf("%w: %s %s: answer above %d bytes", ErrResponse, method, path, limit)
	}
	if resp.StatusCode >= 300 {
		return resp.StatusCode, nil, responseError(resp, b)
	}
	return resp.StatusCode, b, nil
}

// getInto GETs path and reads a successful answer into buf, which must be
// large enough (a larger answer is ErrResponse); it returns the bytes read
// (aliasing buf).
func (c *Client) getInto(ctx context.Context, path string, buf []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		if err != nil {
			return nil, err
		}
		return nil, responseError(resp, b)
	}
	if resp.ContentLength > int64(len(buf)) {
		return nil, fmt.Errorf("%w: GET %s: answer of %d bytes above %d", ErrResponse, path, resp.ContentLength, len(buf))
	}
	n, err := io.ReadFull(resp.Body, buf)
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return buf[:n], nil
	case err != nil:
		return nil, err
	}
	var one [1]byte
	if k, _ := resp.Body.Read(one[:]); k > 0 {
		return nil, fmt.Errorf("%w: GET %s: answer above %d bytes", ErrResponse, path, len(buf))
	}
	return buf[:n], nil
}

// decodeSuccess reads the JSON success envelope.
func decodeSuccess[T any](b []byte) (T, error) {
	var env success[T]
	if err := json.Unmarshal(b, &env); err != nil {
		var zero T
		return zero, fmt.Errorf("%w: %w", ErrResponse, err)
	}
	return env.Success.Data, nil
}

func blobPath(id blob.ID, rest string) string { return "/v1/blobs/" + id.String() + rest }

func sliverPath(id blob.ID, pair int, t blob.SliverType) string {
	return blobPath(id, fmt.Sprintf("/slivers/%d/%s", pair, t))
}

func pendingQuery(pending bool) url.Values {
	if !pending {
		return nil
	}
	return url.Values{"pending": {"true"}}
}

// Metadata fetches a blob's metadata. The ID is checked; the caller must
// still verify it (MetadataWithID.Verify) before trusting it.
func (c *Client) Metadata(ctx context.Context, id blob.ID) (*blob.MetadataWithID, error) {
	_, b, err := c.do(ctx, http.MethodGet, blobPath(id, "/metadata"), nil, nil, metadataLimit(c.params.N())+32)
	if err != nil {
		return nil, err
	}
	md, err := blob.UnmarshalMetadataWithID(b)
	if err != nil {
		return nil, fmt.Errorf("%w: metadata: %w", ErrResponse, err)
	}
	if md.ID != id {
		return nil, fmt.Errorf("%w: metadata of %s for %s", ErrResponse, md.ID, id)
	}
	return &md, nil
}

// PutMetadata stores metadata on the node; with pending, the node buffers
// it if it has not seen the registration yet. It returns the HTTP code
// (201 stored, 202 buffered, 200 already stored).
func (c *Client) PutMetadata(ctx context.Context, md *blob.MetadataWithID, pending bool) (int, error) {
	code, _, err := c.do(ctx, http.MethodPut, blobPath(md.ID, "/metadata"), pendingQuery(pending), md.Metadata.MarshalBCS(), 64<<10)
	return code, err
}

// MetadataStatus asks whether the node holds a blob's metadata.
func (c *Client) MetadataStatus(ctx context.Context, id blob.ID) (StoredStatus, error) {
	_, b, err := c.do(ctx, http.MethodGet, blobPath(id, "/metadata/status"), nil, nil, 64<<10)
	if err != nil {
		return "", err
	}
	return decodeSuccess[StoredStatus](b)
}

// Sliver fetches the sliver of type t of a sliver pair. The caller must
// verify it against the metadata.
func (c *Client) Sliver(ctx context.Context, id blob.ID, pair int, t blob.SliverType) (*redstuff.Sliver, error) {
	limit := int64(c.params.SecondarySymbols())*blob.MaxSymbolSize + 16
	_, b, err := c.do(ctx, http.MethodGet, sliverPath(id, pair, t), nil, nil, limit)
	if err != nil {
		return nil, err
	}
	s, err := redstuff.UnmarshalSliver(b, t)
	if err != nil {
		return nil, fmt.Errorf("%w: sliver: %w", ErrResponse, err)
	}
	return &s, nil
}

// SliverInto fetches the sliver of type t of a sliver pair into buf (which
// must hold its BCS form: the data plus up to 9 bytes); the sliver's data
// aliases buf. The caller must verify it against the metadata.
func (c *Client) SliverInto(ctx context.Context, id blob.ID, pair int, t blob.SliverType, buf []byte) (*redstuff.Sliver, error) {
	b, err := c.getInto(ctx, sliverPath(id, pair, t), buf)
	if err != nil {
		return nil, err
	}
	s, err := parseSliver(b, t)
	if err != nil {
		return nil, fmt.Errorf("%w: sliver: %w", ErrResponse, err)
	}
	return &s, nil
}

// PutSliver stores a sliver of pair on the node. It returns the HTTP code.
func (c *Client) PutSliver(ctx context.Context, id blob.ID, pair int, s *redstuff.Sliver, pending bool) (int, error) {
	code, _, err := c.do(ctx, http.MethodPut, sliverPath(id, pair, s.Type), pendingQuery(pending), s.MarshalBCS(), 64<<10)
	return code, err
}

// PutSliverBatch stores the slivers of a batch (built with SliverBatch) of
// one blob on the node, all of them or none; with pending, the node
// buffers them if it has not seen the registration yet. The body is sent
// from the batch's buffer, with its Content-Length. A refusal is an *Error
// whose Frame names the failed frame, when one did.
func (c *Client) PutSliverBatch(ctx context.Context, id blob.ID, batch *SliverBatch, pending bool) (BatchResult, error) {
	body := batch.Bytes()
	if body == nil {
		body = []byte{} // an empty batch is sent (and refused), not a missing body
	}
	code, b, err := c.do(ctx, http.MethodPut, blobPath(id, "/slivers"), pendingQuery(pending), body, 64<<10)
	if err != nil {
		return BatchResult{}, err
	}
	res, err := decodeSuccess[BatchResult](b)
	if err != nil {
		return BatchResult{}, err
	}
	res.Code = code
	return res, nil
}

// SliverStatus asks whether the node holds a sliver.
func (c *Client) SliverStatus(ctx context.Context, id blob.ID, pair int, t blob.SliverType) (StoredStatus, error) {
	_, b, err := c.do(ctx, http.MethodGet, sliverPath(id, pair, t)+"/status", nil, nil, 64<<10)
	if err != nil {
		return "", err
	}
	return decodeSuccess[StoredStatus](b)
}

// Confirmation asks for a signed storage confirmation. With wait > 0 the
// node waits up to that long (capped by the node) for the registration.
// The caller must verify the signature and the message.
func (c *Client) Confirmation(ctx context.Context, id blob.ID, p wire.Persistence, wait time.Duration) (*wire.SignedMessage, error) {
	path := blobPath(id, "/confirmation/permanent")
	if p.Deletable {
		path = blobPath(id, fmt.Sprintf("/confirmation/deletable/0x%x", p.ObjectID[:]))
	}
	var q url.Values
	if wait > 0 {
		q = url.Values{"wait_for_registration": {"true"}, "wait_millis": {strconv.FormatInt(wait.Milliseconds(), 10)}}
	}
	_, b, err := c.do(ctx, http.MethodGet, path, q, nil, 64<<10)
	if err != nil {
		return nil, err
	}
	conf, err := decodeSuccess[Confirmation](b)
	if err != nil {
		return nil, err
	}
	if conf.Signed == nil {
		return nil, fmt.Errorf("%w: confirmation without a signed message", ErrResponse)
	}
	return conf.Signed, nil
}

// RecoverySymbolsFor asks for every recovery symbol (with proof) the node
// can give towards sliver (t, index).
func (c *Client) RecoverySymbolsFor(ctx context.Context, id blob.ID, t blob.SliverType, index int) ([]redstuff.GeneralRecoverySymbol, error) {
	q := url.Values{"targetSliver": {strconv.Itoa(index)}, "targetType": {t.String()}}
	return c.recoverySymbols(ctx, id, q)
}

// RecoverySymbols asks for the listed symbols; proofAxis, if not nil, picks
// the axis of the source sliver (and so of the proof).
func (c *Client) RecoverySymbols(ctx context.Context, id blob.ID, ids []SymbolID, proofAxis *blob.SliverType) ([]redstuff.GeneralRecoverySymbol, error) {
	q := url.Values{}
	for _, s := range ids {
		q.Add("id", s.String())
	}
	if proofAxis != nil {
		q.Set("proofAxis", proofAxis.String())
	}
	return c.recoverySymbols(ctx, id, q)
}

func (c *Client) recoverySymbols(ctx context.Context, id blob.ID, q url.Values) ([]redstuff.GeneralRecoverySymbol, error) {
	_, b, err := c.do(ctx, http.MethodGet, blobPath(id, "/recoverySymbols"), q, nil, c.max)
	if err != nil {
		return nil, err
	}
	syms, err := redstuff.UnmarshalRecoverySymbols(b)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrResponse, err)
	}
	return syms, nil
}

// DecodingSymbols asks, for each target sliver of type t, for the symbols
// of its codeword the node's slivers give (no proofs).
func (c *Client) DecodingSymbols(ctx context.Context, id blob.ID, t blob.SliverType, targets []int) (map[uint16][]redstuff.EitherDecodingSymbol, error) {
	q := url.Values{"targetType": {t.String()}}
	for _, i := range targets {
		q.Add("targetSlivers", strconv.Itoa(i))
	}
	_, b, err := c.do(ctx, http.MethodGet, blobPath(id, "/decodingSymbols"), q, nil, c.max)
	if err != nil {
		return nil, err
	}
	m, err := redstuff.UnmarshalDecodingSymbolMap(b)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrResponse, err)
	}
	return m, nil
}

// InconsistencyProof sends a proof that the blob is inconsistent and
// returns the node's signed INVALID_BLOB_ID attestation (to be verified by
// the caller).
func (c *Client) InconsistencyProof(ctx context.Context, id blob.ID, p *redstuff.InconsistencyProof) (*wire.SignedMessage, error) {
	_, b, err := c.do(ctx, http.MethodPost, blobPath(id, "/inconsistencyProof/"+p.Target.String()), nil, p.AppendBCS(nil), 64<<10)
	if err != nil {
		return nil, err
	}
	m, err := decodeSuccess[wire.SignedMessage](b)
	if err != nil {
		return nil, err
	}
	return &m, nil
}

// BlobStatus asks for the node's view of a blob.
func (c *Client) BlobStatus(ctx context.Context, id blob.ID) (BlobStatus, error) {
	_, b, err := c.do(ctx, http.MethodGet, blobPath(id, "/status"), nil, nil, 64<<10)
	if err != nil {
		return BlobStatus{}, err
	}
	return decodeSuccess[BlobStatus](b)
}

// Health asks for the node's health.
func (c *Client) Health(ctx context.Context, detailed bool) (*HealthInfo, error) {
	var q url.Values
	if detailed {
		q = url.Values{"detailed": {"true"}}
	}
	_, b, err := c.do(ctx, http.MethodGet, RouteHealth, q, nil, 4<<20)
	if err != nil {
		return nil, err
	}
	h, err := decodeSuccess[HealthInfo](b)
	if err != nil {
		return nil, err
	}
	return &h, nil
}

// responseError is the error of an answer that is not a success: its
// AIP-193 body, with Retry-After (whole seconds) when the node sent one.
func responseError(resp *http.Response, body []byte) *Error {
	e := parseError(resp.StatusCode, body)
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
		e.RetryAfter = s
	}
	return e
}
