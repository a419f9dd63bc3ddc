// Package store is a storage node's persistence on Pebble: blob metadata,
// the primary and secondary slivers of every shard the node holds, the
// node's record of each blob's registrations on chain (BlobInfo), the
// expiry index, the queue of blobs waiting for recovery, the event cursor
// and a few node facts, under a versioned on-disk format.
//
// Layout (format version 1; every key starts with a one-byte table prefix):
//
//	0x00 'v'                                  format version (u32 LE)
//	0x01 ‖ name                               node facts: event cursor, pending epoch sync, …
//	0x02 ‖ blob_id                            BlobInfo
//	0x03 ‖ blob_id                            metadata (BCS BlobMetadataWithId)
//	0x04 ‖ shard u16 BE ‖ axis u8 ‖ blob_id   sliver (BCS SliverData)
//	0x05 ‖ shard u16 BE                       a shard the store holds slivers of
//	0x06 ‖ end_epoch u32 BE ‖ blob_id         expiry index (a hint: checked against BlobInfo)
//	0x07 ‖ blob_id                            blob waiting for recovery (blob sync)
//
// Slivers are keyed by shard first so that a shard is one key range: it is
// dropped with one range deletion and paged in blob-ID order (the order of
// Walrus's shard sync).
//
// Every value carries a CRC-32C over its key and payload. A value that fails
// it is never returned: reads report ErrCorrupt, and the caller (the node)
// deletes the value and recovers it from its peers.
//
// Writes of metadata and slivers are synced before they return, so that a
// node signs a storage confirmation only for data that survives a crash.
// Batches group an event's effects with the event cursor, so a crash never
// separates them.
package store
