package node

import (
	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/store"
)

// MetaNamesForTest are the names of the node facts the node keeps in its
// store, so that a test of package node_test can read them all.
var MetaNamesForTest = []string{metaNodeID, metaEpochSeen, metaPlannedShards, metaEpochSync}

// StoreForTest is the node's store. A test reads it; writing to it behind
// the node's back is the test's own risk.
func (n *Node) StoreForTest() *store.Store { return n.store }

// PendingBytesForTest is the size of the REST server's cache of uploads
// buffered for blobs not yet registered.
func (n *Node) PendingBytesForTest() int64 { return n.api.PendingBytes() }

// DropPendingForTest forgets what the REST server buffered for a blob.
func (n *Node) DropPendingForTest(id blob.ID) { n.api.DropPending(id) }

// DropBlobDataForTest deletes a blob's metadata and its slivers in every
// shard, as garbage collection does (its record of registrations stays),
// and forgets its cached metadata, so that a test can take back the
// uploads it made.
func (n *Node) DropBlobDataForTest(id blob.ID) error {
	mu := n.locks.of(id)
	mu.Lock()
	defer mu.Unlock()
	shards := make([]uint16, n.params.N())
	for i := range shards {
		shards[i] = uint16(i)
	}
	b := n.store.NewBatch()
	b.DeleteBlobData(id, shards)
	err := b.Commit(true)
	n.cache.forget(id)
	return err
}
