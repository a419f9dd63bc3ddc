// Package node is the Walrus storage node. Node is its composition root:
// New builds the parts the services share (the store of package store, the
// chain client, the view of the committees, the blocklist, the per-blob
// locks, the clients of peer nodes, the metrics, the clock) and wires the
// services over them; Run starts them under one errgroup and Close releases
// what they share. The services, each a type of its own holding only what
// it uses:
//
//   - follower (events.go) follows the chain's events from a cursor kept in
//     the store, committing each event's effects with the cursor;
//   - syncer (sync.go) works through the recovery queue, retrying failures
//     with a doubling delay; recoverer (recover.go) rebuilds one blob's
//     missing slivers from peers' symbols;
//   - epochs (epoch.go) moves shards and reports epoch_sync_done;
//   - collector (gc.go) deletes the data no live registration keeps;
//   - invalidator (invalid.go) gets an inconsistent blob attested and
//     invalidated;
//   - blocklistWatcher (blocklist.go) and chainWatcher (chainwatch.go)
//     poll the blocklist file and the chain;
//   - backend, health (backend.go, health.go) and repairer (repair.go) are
//     what the REST server of package nodeapi runs on.
//
// BlobRegistered opens a blob to uploads (and flushes uploads buffered with
// ?pending=true); BlobCertified queues the blob for recovery of any slivers
// the node's shards lack; BlobDeleted, expiry and InvalidBlobID delete data
// once no live registration keeps it; epoch events move shards. Background
// loops sleep on an injected clock (Options.Clock), so tests can step them.
// See README.md in this directory for the behaviour and the decisions
// behind it.
package node
