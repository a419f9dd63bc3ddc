package client

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/quilt"
	"github.com/walrus-go/walrus/redstuff"
)

// Quilt attribute: Walrus marks a quilt's Blob object with it.
const (
	BlobTypeAttribute = "_walrusBlobType"
	QuiltBlobType     = "quilt"
)

// QuiltStoreResult is Walrus's answer to storing a quilt (PUT /v1/quilts,
// `walrus store-quilt --json`).
type QuiltStoreResult struct {
	BlobStoreResult  BlobStoreResult    `json:"blobStoreResult"`
	StoredQuiltBlobs []StoredQuiltPatch `json:"storedQuiltBlobs"`
}

// StoredQuiltPatch names one stored patch: its identifier and patch ID.
type StoredQuiltPatch struct {
	Identifier   string `json:"identifier"`
	QuiltPatchID string `json:"quiltPatchId"`
}

// QuiltStore is what StoreQuilt did: the store, the quilt and Walrus's result.
type QuiltStore struct {
	Store  *StoreResult
	Quilt  *quilt.Quilt
	Result QuiltStoreResult
}

// StoreQuilt lays the patches out as a QuiltV1 (quilt.Encode) and stores
// it as one blob with the attribute _walrusBlobType=quilt. Invalid patches
// (identifiers, duplicates, too many, too large) are ErrInvalidArgument,
// wrapping the quilt package's error. On a store failure the result holds
// Walrus's error shape.
func (c *Client) StoreQuilt(ctx context.Context, patches []quilt.Patch, opts StoreOptions) (*QuiltStore, error) {
	q, err := quilt.Encode(c.params, patches)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidArgument, err)
	}
	return c.StoreBuiltQuilt(ctx, q, opts)
}

// storeQuiltEncoded stores a quilt already laid out and encoded (x is the
// encoding of q.Blob).
func (c *Client) storeQuiltEncoded(ctx context.Context, q *quilt.Quilt, x *redstuff.Encoded, opts StoreOptions) (*QuiltStore, error) {
	opts.Attributes = append(append([]Attribute(nil), opts.Attributes...), Attribute{Key: BlobTypeAttribute, Value: QuiltBlobType})
	res, err := c.storeEncodedBlob(ctx, x, opts)
	out := &QuiltStore{Store: res, Quilt: q}
	if res != nil {
		out.Result.BlobStoreResult = res.Result
	}
	if err != nil {
		return out, err
	}
	out.Result.StoredQuiltBlobs = make([]StoredQuiltPatch, len(q.Index.Entries))
	for i, e := range q.Index.Entries {
		out.Result.StoredQuiltBlobs[i] = StoredQuiltPatch{Identifier: e.Identifier, QuiltPatchID: e.PatchID(res.BlobID).String()}
	}
	return out, nil
}

// QuiltReader reads the patches of one quilt from their columns' secondary
// slivers (k_p symbols per column): the index from the first columns, each
// patch from its own column range. Reading a patch never decodes the whole
// quilt unless a sliver cannot be had (see BlobReader). Safe for
// concurrent use; the index is read once.
type QuiltReader struct {
	*BlobReader

	mu    sync.Mutex
	index *quilt.Index
}

// OpenQuilt fetches a quilt's metadata and checks that its length is that
// of a quilt (k_p·k_s symbols of an even size). Errors: those of OpenBlob,
// and ErrNotQuilt.
func (c *Client) OpenQuilt(ctx context.Context, id blob.ID) (*QuiltReader, error) {
	br, err := c.OpenBlob(ctx, id)
	if err != nil {
		return nil, err
	}
	return QuiltOf(br)
}

// QuiltOf reads an opened blob as a quilt (ErrNotQuilt if its length is
// not that of one).
func QuiltOf(br *BlobReader) (*QuiltReader, error) {
	src := uint64(br.c.params.SourceSymbols())
	if n := br.Size(); n == 0 || n%src != 0 || n/src != uint64(br.s) {
		return nil, fmt.Errorf("%w: %s has %d bytes, not k_p·k_s = %d symbols", ErrNotQuilt, br.ID(), n, src)
	}
	return &QuiltReader{BlobReader: br}, nil
}

// Index reads and decodes the quilt's index (once).
func (q *QuiltReader) Index(ctx context.Context) (*quilt.Index, error) {
	q.mu.Lock()
	ix := q.index
	q.mu.Unlock()
	if ix != nil {
		return ix, nil
	}
	first, err := q.Columns(ctx, 0, 1)
	if err != nil {
		return nil, err
	}
	n, err := quilt.IndexColumns(first[0])
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotQuilt, err)
	}
	cols := first
	if n > 1 {
		more, err := q.Columns(ctx, 1, n)
		if err != nil {
			return nil, err
		}
		cols = append(cols, more...)
	}
	ix, err = quilt.DecodeIndex(q.c.params, cols)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotQuilt, err)
	}
	q.mu.Lock()
	q.index = ix
	q.mu.Unlock()
	return ix, nil
}

// List returns every patch with its patch ID and tags (the aggregator's
// GET /v1/quilts/{quilt_id}/patches).
func (q *QuiltReader) List(ctx context.Context) ([]quilt.PatchInfo, error) {
	ix, err := q.Index(ctx)
	if err != nil {
		return nil, err
	}
	return ix.List(q.ID()), nil
}

// Patch reads the first patch with the identifier (an error wrapping
// quilt.ErrNotFound if there is none).
func (q *QuiltReader) Patch(ctx context.Context, identifier string) (quilt.Patch, error) {
	ix, err := q.Index(ctx)
	if err != nil {
		return quilt.Patch{}, err
	}
	e, err := ix.Lookup(identifier)
	if err != nil {
		return quilt.Patch{}, err
	}
	return q.PatchAt(ctx, e.Start, e.End)
}

// PatchesByTag reads the patches whose tag key has the value.
func (q *QuiltReader) PatchesByTag(ctx context.Context, key, value string) ([]quilt.Patch, error) {
	ix, err := q.Index(ctx)
	if err != nil {
		return nil, err
	}
	return q.read(ctx, ix.ByTag(key, value))
}

// All reads every patch, in index order.
func (q *QuiltReader) All(ctx context.Context) ([]quilt.Patch, error) {
	ix, err := q.Index(ctx)
	if err != nil {
		return nil, err
	}
	return q.read(ctx, ix.Entries)
}

func (q *QuiltReader) read(ctx context.Context, entries []quilt.Entry) ([]quilt.Patch, error) {
	out := make([]quilt.Patch, 0, len(entries))
	for _, e := range entries {
		pt, err := q.PatchAt(ctx, e.Start, e.End)
		if err != nil {
			return nil, err
		}
		out = append(out, pt)
	}
	return out, nil
}

// PatchAt reads the patch stored in columns [start, end), as a patch ID
// names it: like Walrus, it decodes the patch header found at column start
// without consulting the index. A range that holds no patch is an error
// wrapping quilt.ErrNotFound; one outside the quilt, quilt.ErrInvalidPatchID.
func (q *QuiltReader) PatchAt(ctx context.Context, start, end uint16) (quilt.Patch, error) {
	id := quilt.PatchID{Quilt: q.ID(), Start: start, End: end}
	if err := id.Check(q.c.params); err != nil {
		return quilt.Patch{}, err
	}
	cols, err := q.Columns(ctx, int(start), int(end))
	if err != nil {
		return quilt.Patch{}, err
	}
	pt, err := quilt.ReadPatch(cols)
	if errors.Is(err, quilt.ErrMalformed) || errors.Is(err, quilt.ErrVersion) || errors.Is(err, quilt.ErrMissingColumns) {
		return quilt.Patch{}, fmt.Errorf("%w: columns [%d, %d) of %s hold no patch: %w", quilt.ErrNotFound, start, end, q.ID(), err)
	}
	return pt, err
}
