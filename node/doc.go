// Package node is the Walrus storage node: one explicit wiring (New, Run,
// Close) of its store (package store), its REST server (package nodeapi),
// the chain event follower, blob sync (recovery of missing slivers from
// other nodes), epoch-change handling, the inconsistency flow, garbage
// collection, the blocklist and Prometheus metrics.
//
// The node follows the chain's events from a cursor kept in its store,
// committing each event's effects with the cursor. BlobRegistered opens a
// blob to uploads (and flushes uploads buffered with ?pending=true);
// BlobCertified queues the blob for recovery of any slivers the node's
// shards lack; BlobDeleted, expiry and InvalidBlobID delete data once no
// live registration keeps it; epoch events move shards. See README.md in
// this directory for the behaviour and the decisions behind it.
package node
