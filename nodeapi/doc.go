// Package nodeapi is the REST contract of a Walrus storage node (protocol
// spec section 3) on both sides: the HTTP server a node runs, with every
// check made before anything is stored, and the HTTP client that writers,
// readers and other nodes use to talk to a node.
//
// The contract follows Walrus: binary bodies are BCS; JSON answers use the
// success envelope {"success":{"code":…,"data":…}}; errors follow AIP-193
// with Walrus's reason codes in the ErrorInfo detail (the reasons are the
// Reason* constants, their HTTP codes and statuses the pairs of Walrus's
// StatusCode table, so that Walrus clients parse them). The error type, its
// encoder and parser and that table are internal/httpx's, shared with the
// gateway, and so is the adapter of the handlers, which return their
// errors (httpx.Serve): an Error is the answer as it is, any other error
// is logged and answered 500 INTERNAL, which says nothing of it.
//
// Decisions where Walrus leaves room:
//   - Malformed path or query parameters are 400 INVALID_ARGUMENT with
//     reason INVALID_BLOB_ID or INVALID_PARAMETER; an undecodable body is
//     the endpoint's own reason (INVALID_METADATA, INVALID_SLIVER,
//     INVALID_PROOF). A body above its limit is 403 SIZE_EXCEEDED (Walrus's
//     pairing of that status) with reason BODY_TOO_LARGE.
//   - PUT of metadata and slivers answers 201 when stored, 202 when
//     buffered in the pending cache, 200 when it was already stored.
//   - A blob on the blocklist is 451 FORBIDDEN_BLOB for reads and writes
//     (writes are refused before the body is read).
//   - decodingSymbols answers, for each target, one symbol per source sliver
//     the node holds (owned shards and shards handed over in an epoch change
//     not yet done); when the answer would exceed the configured size the
//     request is refused with INVALID_FILTER and metadata max_targets, so
//     the caller asks for fewer targets at a time.
//   - Symbol computations (recoverySymbols, decodingSymbols, inconsistency
//     proofs) share a semaphore; a request waits briefly for it and is
//     otherwise refused with 503 UNAVAILABLE.
//
// One route is ours, not Walrus's: PUT /v1/blobs/{blob_id}/slivers takes a
// "sliver batch v1" body (batch.go; SliverBatch builds it, BatchReader
// reads it) with many slivers of one blob, so that a writer at n = 1000
// sends one request per node instead of one per sliver. The batch is all
// or nothing; each frame gets the single PUT's checks, the error names the
// first failed frame (ErrorInfo metadata frame, pairIndex, sliverType), and
// frames are verified in parallel while the body is still arriving. It
// needs a Content-Length (411 INVALID_ARGUMENT, reason LENGTH_REQUIRED), is
// bounded by MaxBatchBytes (413 SIZE_EXCEEDED, reason BODY_TOO_LARGE: HTTP's
// own code with the status Walrus gives sizes, since the route need not
// follow Walrus's table, which pairs SIZE_EXCEEDED with 403), a format error
// is INVALID_BATCH and a body cut off midway is INCOMPLETE_BODY, both 400. Upload bodies, batched or single, take room
// under a node-wide MaxUploadBytesInFlight before they are read, and wait
// at most UploadWait for it (503 UNAVAILABLE).
//
// Limits (Config.Limits, limits*.go) keep a node serving under attack;
// all of them are configurable and their defaults are for a public node:
//   - Connections: LimitListener holds at most MaxConnections (4096) and
//     MaxConnectionsPerIP (256; an IPv6 client is its /64). A connection
//     above a bound is reset as soon as it is accepted, rather than left in
//     the kernel's accept queue: the client learns at once and can go to
//     another node, and a flood cannot fill the queue that others need. At
//     MaxConnections the longest idle keep-alive connection is closed first
//     to make room (ConfigureHTTPServer's ConnState hook tracks idleness).
//   - Timeouts: ReadHeaderTimeout (10s) bounds the TLS handshake (net/http
//     does it with that deadline when it is given *tls.Conn, so TLS must
//     wrap LimitListener's listener, not the other way round) and each
//     request header; IdleTimeout 2m; MaxHeaderBytes 16 KiB. Bodies and
//     answers keep to MinTransferRate (64 KiB/s) after TransferGrace (10s):
//     a transfer of s bytes may keep the node waiting TransferGrace +
//     s/MinTransferRate, counting only the time the node waits on the
//     client (in a Read of the body, a Write of the answer, cut into 64 KiB
//     pieces), by per-request connection deadlines
//     (http.ResponseController); a client that falls behind has its
//     connection closed. A large legitimate upload over a slow link works
//     as long as it keeps the rate; a client sending a byte a second is
//     cut after the grace, whatever Content-Length it claims.
//   - Requests in flight: at most MaxConcurrentRequests (1024) on all
//     routes but /v1/health, and per class of routes a bound of its own
//     (symbols 64, uploads 128, confirmations 256, health 64); above one
//     the answer is 503 UNAVAILABLE with Retry-After: 1 at once, except
//     that an upload waits up to UploadWait for a slot, parked with its
//     body unread. /v1/health is outside MaxConcurrentRequests, so that a
//     saturated node still answers it.
//   - Per-client rates: token buckets keyed by client address (our own
//     implementation, limits_rate.go) on health (100/s, bursts of 200),
//     sliver reads (500/s, 1000), symbols (recoverySymbols,
//     decodingSymbols, inconsistency proofs: 100/s, 200), uploads (PUT
//     metadata, sliver, sliver batch: 500/s, 1000) and confirmations
//     (100/s, 200); a burst defaults to twice the rate. Over it the answer
//     is 429 RESOURCE_EXHAUSTED, reason RATE_LIMIT_EXCEEDED, with
//     Retry-After in whole seconds. A client idle long enough for its
//     buckets to refill is forgotten at no cost, and at most MaxClients
//     (65536, about 200 bytes each) are kept. Behind a proxy that
//     terminates TLS every client has the proxy's address: turn the rates
//     off there (rate: -1) and limit at the proxy.
//   - A negative value turns a limit off. Every refusal is counted
//     (walrus_node_http_limited_requests_total, and
//     walrus_node_http_connections_{refused,evicted}_total).
//
// Every body read yields the processor (runtime.Gosched) first, so that
// uploads of fast clients, which find their bytes buffered and hand the
// processor to one another through the gates, do not keep requests woken
// by the network waiting in the Go scheduler's global queue: under a flood
// of uploads this took health answers from up to 2 s to below 0.2 s.
//
// The server consumes small interfaces (Store, Chain, Blocklist,
// HealthSource) that the node implements; it starts no goroutines.
package nodeapi
