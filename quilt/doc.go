// Package quilt is the Walrus quilt format (QuiltV1), byte-compatible with
// Walrus: many small blobs ("patches") batched into one ordinary blob so that
// they share one blob's fixed storage cost, yet each can be read on its own.
//
// A quilt blob is exactly one RedStuff message matrix (k_p rows × k_s columns of
// s-byte symbols, row-major; spec 1.3) whose contents are written column by
// column instead of row by row. Columns 0.. hold the index (a version byte, a
// u32 LE length and the BCS QuiltIndexV1, at most MaxIndexColumns columns);
// each patch then occupies a contiguous range of whole columns, starting with
// its BlobHeaderV1, its identifier and optional tags. Column j of the matrix
// is secondary sliver j, so reading one patch needs only the secondary slivers
// of its column range: see IndexColumns, DecodeIndex and ReadPatch. A patch is
// addressed by its PatchID: the quilt's blob ID and its column range.
//
// Encode builds a quilt from patches and a shard count; Open parses a whole
// decoded quilt blob. Every decoder of untrusted bytes (index, patch headers,
// patch IDs) returns an error wrapping one of this package's sentinel errors
// and never panics. The package is pure: no I/O, no goroutines.
package quilt
