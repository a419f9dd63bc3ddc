// Package httpx is the HTTP plumbing that the storage node API (nodeapi)
// and the HTTP gateway (gateway) share, written once so that both speak
// the same dialect to Walrus clients:
//
//   - Error, the AIP-193 error answer Walrus services send, with its JSON
//     encoder (MarshalJSON), its lenient decoder for untrusted answers
//     (Parse) and Walrus's one table of statuses and HTTP codes (StatusFor,
//     CodeFor);
//   - WriteJSON, WriteSuccess and WriteError, which send JSON answers with
//     their Content-Length;
//   - HandlerFunc and Serve, the adapter of handlers that return their
//     failure instead of answering it: an *Error is sent as it is, any
//     other error goes to the package's FailFunc;
//   - Instrument, the middleware that records the status code and the
//     body sizes of every request of a route and hands them to an Observer
//     (the packages' Prometheus metrics and logs).
//
// The package is a leaf: it imports the standard library only, so that
// every layer may use it.
package httpx
