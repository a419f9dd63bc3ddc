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
// The server consumes small interfaces (Store, Chain, Blocklist,
// HealthSource) that the node implements; it starts no goroutines.
package nodeapi
