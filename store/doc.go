// Package store is a storage node's persistence on Pebble: blob metadata,
// the primary and secondary slivers of every shard the node holds, the
// node's record of each blob's registrations on chain (BlobInfo), the
// expiry index, the queue of blobs waiting for recovery, the event cursor
// and a few node facts, under a versioned on-disk format. Large slivers are
// kept in files of their own beside the database, which Pebble indexes.
//
// Layout (format version 2; every key starts with a one-byte table prefix):
//
//	0x00 'v'                                  format version (u32 LE)
//	0x00 'm'                                  last sliver key migrated from version 1 (during a migration)
//	0x00 'o'                                  empty; present while the store is open
//	0x01 ‖ name                               node facts: event cursor, pending epoch sync, …
//	0x02 ‖ blob_id                            BlobInfo
//	0x03 ‖ blob_id                            metadata (BCS BlobMetadataWithId)
//	0x04 ‖ shard u16 BE ‖ axis u8 ‖ blob_id   sliver: 0x00 ‖ BCS SliverData (inline)
//	                                          or 0x01 ‖ length u32 LE ‖ crc32c u32 LE (in a file)
//	0x05 ‖ shard u16 BE                       a shard the store holds slivers of
//	0x06 ‖ end_epoch u32 BE ‖ blob_id         expiry index (a hint: checked against BlobInfo)
//	0x07 ‖ blob_id                            blob waiting for recovery (blob sync)
//
// Every value is sealed: its payload is followed by a CRC-32C (u32 LE) over
// key and payload. A value that fails it is never returned: reads report
// ErrCorrupt, and the caller (the node) deletes the value and recovers it
// from its peers.
//
// A sliver whose BCS encoding has at least Config.FileThreshold bytes
// (64 KiB by default) is kept in the file
//
//	<dir>/slivers/<shard, 4 decimal digits>/<blob ID, 64 lowercase hex>.<p|s>
//
// whose content is exactly the BCS SliverData, and its entry records the
// file's length and CRC-32C (over the content alone; the entry's seal binds
// them to the key). Reads check both, so a missing, short or altered file
// reads as ErrCorrupt like a damaged value. Files are written under a
// temporary name (<name>.<n>.tmp) and renamed into place. Pebble ignores the
// slivers directory. Slivers are keyed by shard first so that a shard is one
// key range (and one directory): it is dropped with one range deletion and
// paged in blob-ID order (the order of Walrus's shard sync).
//
// Durability: metadata and sliver writes do not sync; Sync makes every write
// before it durable (the sliver files written since the last Sync, their
// directories, then the WAL), and the node signs a storage confirmation only
// after it. Concurrent Syncs share the work (group commit). A failed fsync
// fails the store: Sync and sliver writes return the error until the store
// is reopened. Batches group an event's effects with the event cursor, so a
// crash never separates them. Deletions of slivers are synced before their
// files are removed. A crash may leave orphan files (written, but their
// entries lost); Open removes them when it finds that the store was not
// closed (the 0x00 'o' mark), and Check counts them.
//
// Migration: Open of a version-1 database (the same keys, sliver values
// sealed BCS SliverData without a tag) rewrites every sliver value in the
// inline form, in batches that record their progress so that a crash
// resumes the migration, and records version 2 with a synced write. Any
// other version is refused with ErrFormat.
package store
