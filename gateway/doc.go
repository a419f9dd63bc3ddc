// Package gateway is the Walrus HTTP API over the client SDK: the
// aggregator (reads: blobs whole or by byte range, by blob ID or by Blob
// object ID with allow-listed attribute headers, quilt patches by patch ID
// or by quilt ID and identifier, quilt listings) and the publisher
// (stores: PUT /v1/blobs and multipart PUT /v1/quilts), with Walrus's
// paths, query parameters, headers, JSON shapes and AIP-193 errors, so
// that browsers, curl and existing Walrus HTTP clients work unchanged.
//
// A Server serves one or both roles on one address (walrus aggregator,
// publisher, daemon) and Prometheus metrics on another. Reads of whole
// blobs go through a cache of decoded blobs bounded by bytes (with
// concurrent misses of one blob collapsed into one read); stores run on a
// pool of sub-wallets so that concurrent uploads do not serialize on one
// account's sequence numbers, and an identical deletable store is answered
// with the Blob object the publisher's wallet already holds rather than
// paid again; request admission is bounded per role (429 beyond it), and a
// PUT body must send its first byte before it is admitted and keep a
// minimum rate after (408 otherwise), so that slow clients cannot hold the
// slots; an optional JWT guards the publisher; a blocklist file
// answers 451, and a reload that blocks a blob drops what the caches hold
// of it. Errors are AIP-193 answers whose code and status are a pair of
// Walrus's table (internal/httpx, shared with the storage node API), so
// that Walrus's clients parse them: a body or blob over a limit is 403
// SIZE_EXCEEDED, as in Walrus, not HTTP's 413. Two answers leave the
// table because HTTP requires them: 405 with Allow for a method a known
// path does not serve, and 408 for a body too slow. A Range header that
// does not parse is ignored (RFC 9110): the whole blob is served.
//
// Handlers return their errors (httpx.HandlerFunc) rather than answer
// them, and one place answers (httpx.Serve with Server.fail): an apiError
// with its headers (Cache-Control: no-store, a 416's Content-Range, the
// failed read's ETag and Content-Range dropped), a failed read or store as
// Walrus answers it, anything else as 500 INTERNAL, logged and never
// shown, a storage node's error inside a failed read included. A read that
// fails while its answer streams cuts the connection instead. See
// README.md for the decisions where Walrus is silent.
package gateway
