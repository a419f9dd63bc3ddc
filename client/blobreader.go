package client

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/committee"
	"github.com/walrus-go/walrus/redstuff"
)

// BlobReader reads parts of one blob without decoding all of it: byte
// ranges from the primary slivers (rows) that hold them, and columns of
// the message matrix from the secondary slivers (what quilt reads use).
// Every sliver is verified against the blob's metadata, itself verified
// against the blob ID; unlike a whole read, no consistency check covers
// the blob as a whole (as in Walrus's byte-range reads). When a sliver
// cannot be had from any node, the reader decodes the whole blob once
// (with the default consistency check) and serves from it.
//
// A BlobReader is safe for concurrent use.
type BlobReader struct {
	c         *Client
	md        *blob.MetadataWithID
	cur, prev *committee.Committee
	s         int // symbol size

	mu   sync.Mutex
	full []byte // the whole blob, once a fallback decoded it
}

// OpenBlob fetches and verifies a blob's metadata (as Read does) and
// returns a reader of its parts. Errors: ErrBlobNotFound, ErrBlobInvalid,
// ErrBlobBlocked, ErrNotEnoughSlivers.
func (c *Client) OpenBlob(ctx context.Context, id blob.ID) (*BlobReader, error) {
	md, cur, prev, err := c.readMetadata(ctx, id, nil)
	if err != nil {
		return nil, err
	}
	s, err := c.params.SymbolSize(md.UnencodedLength)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBlobTooLarge, err)
	}
	return &BlobReader{c: c, md: md, cur: cur, prev: prev, s: s}, nil
}

// ID is the blob ID.
func (r *BlobReader) ID() blob.ID { return r.md.ID }

// Size is the blob's unencoded length.
func (r *BlobReader) Size() uint64 { return r.md.UnencodedLength }

// Metadata is the blob's verified metadata.
func (r *BlobReader) Metadata() *blob.MetadataWithID { return r.md }

// SymbolSize is the blob's symbol size.
func (r *BlobReader) SymbolSize() int { return r.s }

// ReadAll reads and decodes the whole blob with the consistency check
// (as ReadWith, without fetching the metadata again).
func (r *BlobReader) ReadAll(ctx context.Context, check Consistency) ([]byte, error) {
	if full := r.decoded(); full != nil && check != redstuff.ConsistencyStrict {
		return full, nil
	}
	slivers, err := r.c.primarySlivers(ctx, r.md, r.cur, r.prev, newReporter(nil))
	if err != nil {
		return nil, err
	}
	data, err := r.c.enc.Decode(r.md, slivers, check)
	if errors.Is(err, redstuff.ErrInconsistent) {
		return nil, fmt.Errorf("%w: %w", ErrBlobInvalid, err)
	}
	return data, err
}

// ReadRange returns length bytes from offset start. It fetches only the
// primary slivers of the rows that hold them. Errors:
// ErrRangeNotSatisfiable when length is 0 or the range ends past the blob.
func (r *BlobReader) ReadRange(ctx context.Context, start, length uint64) ([]byte, error) {
	size := r.Size()
	if length == 0 || start >= size || length > size-start {
		return nil, fmt.Errorf("%w: bytes [%d, %d+%d) of a blob of %d bytes", ErrRangeNotSatisfiable, start, start, length, size)
	}
	if full := r.decoded(); full != nil {
		return full[start : start+length], nil
	}
	rowBytes := uint64(r.c.params.SecondarySymbols() * r.s)
	first, last := int(start/rowBytes), int((start+length-1)/rowBytes)
	rows, err := r.slivers(ctx, blob.Primary, first, last+1)
	if err != nil {
		full, ferr := r.decode(ctx, err)
		if ferr != nil {
			return nil, ferr
		}
		return full[start : start+length], nil
	}
	out := make([]byte, 0, length)
	off := start - uint64(first)*rowBytes
	for _, row := range rows {
		out = append(out, row[min(off, uint64(len(row))):]...)
		off = 0
	}
	return out[:length], nil
}

// Columns returns columns [from, to) of the blob's message matrix (k_p
// symbols each): the data of secondary slivers from … to-1.
func (r *BlobReader) Columns(ctx context.Context, from, to int) ([][]byte, error) {
	if from < 0 || from >= to || to > r.c.params.SecondarySymbols() {
		return nil, fmt.Errorf("%w: columns [%d, %d) of %d", ErrInvalidArgument, from, to, r.c.params.SecondarySymbols())
	}
	if full := r.decoded(); full != nil {
		return r.columnsOf(full, from, to), nil
	}
	cols, err := r.slivers(ctx, blob.Secondary, from, to)
	if err != nil {
		full, ferr := r.decode(ctx, err)
		if ferr != nil {
			return nil, ferr
		}
		return r.columnsOf(full, from, to), nil
	}
	return cols, nil
}

// columnsOf cuts columns out of the whole blob (row-major, zero-padded to
// k_p·k_s symbols).
func (r *BlobReader) columnsOf(full []byte, from, to int) [][]byte {
	kp, ks, s := r.c.params.PrimarySymbols(), r.c.params.SecondarySymbols(), r.s
	out := make([][]byte, 0, to-from)
	for j := from; j < to; j++ {
		col := make([]byte, kp*s)
		for row := range kp {
			at := (row*ks + j) * s
			if at < len(full) {
				copy(col[row*s:(row+1)*s], full[at:min(at+s, len(full))])
			}
		}
		out = append(out, col)
	}
	return out
}

func (r *BlobReader) decoded() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.full
}

// decode reads the whole blob after a sliver read failed with cause.
func (r *BlobReader) decode(ctx context.Context, cause error) ([]byte, error) {
	slivers, err := r.c.primarySlivers(ctx, r.md, r.cur, r.prev, newReporter(nil))
	if err != nil {
		return nil, fmt.Errorf("%w (and the slivers asked for: %w)", err, cause)
	}
	data, err := r.c.enc.Decode(r.md, slivers, redstuff.ConsistencyDefault)
	if errors.Is(err, redstuff.ErrInconsistent) {
		return nil, fmt.Errorf("%w: %w", ErrBlobInvalid, err)
	}
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.full = data
	r.mu.Unlock()
	return data, nil
}

// slivers reads the verified slivers of type t with sliver indexes [from,
// to) (rows for primary, columns for secondary), each from the node of
// the current committee holding it, else the previous committee's; every
// node holding one is tried before giving up on it.
func (r *BlobReader) slivers(ctx context.Context, t blob.SliverType, from, to int) ([][]byte, error) {
	p := r.c.params
	out := make([][]byte, to-from)
	errs := make([]error, to-from)
	sem := make(chan struct{}, r.c.cfg.ReadConcurrency)
	var wg sync.WaitGroup
	for idx := from; idx < to; idx++ {
		pair := idx
		if t == blob.Secondary {
			pair = p.PairOfSecondary(idx)
		}
		shard := p.ShardOfPair(r.md.ID, pair)
		var sources []string
		for _, com := range []*committee.Committee{r.cur, r.prev} {
			if com == nil {
				continue
			}
			if i, ok := com.ShardOwner(shard); ok && com.Member(i).NetworkAddress != "" {
				sources = append(sources, com.Member(i).NetworkAddress)
			}
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			out[idx-from], errs[idx-from] = r.sliver(ctx, t, pair, sources)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotEnoughSlivers, err)
	}
	return out, nil
}

func (r *BlobReader) sliver(ctx context.Context, t blob.SliverType, pair int, sources []string) ([]byte, error) {
	if len(sources) == 0 {
		return nil, fmt.Errorf("pair %d: no node holds its shard", pair)
	}
	var errs []error
	for _, addr := range sources {
		data, err := func() ([]byte, error) {
			nc, err := r.c.node(addr)
			if err != nil {
				return nil, err
			}
			rctx, cancel := context.WithTimeout(ctx, r.c.cfg.NodeTimeout)
			defer cancel()
			s, err := nc.Sliver(rctx, r.md.ID, pair, t)
			if err != nil {
				return nil, err
			}
			if err := r.c.enc.VerifySliver(s, &r.md.Metadata); err != nil {
				return nil, err
			}
			return s.Data, nil
		}()
		if err == nil {
			return data, nil
		}
		errs = append(errs, fmt.Errorf("%s %s sliver of pair %d: %w", addr, t, pair, err))
	}
	return nil, errors.Join(errs...)
}
