package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/redstuff"
)

// sliverSource is an encoded blob that uploads read slivers from: a
// redstuff.Stream (a file or any io.ReaderAt, with its scratch space) or a
// redstuff.Encoded in memory.
type sliverSource interface {
	SliverLen(t blob.SliverType) int
	ReadSlivers(t blob.SliverType, idx []int, dst [][]byte) error
}

// DefaultMemoryBudget is the memory a store or read aims to stay within
// unless Config.MemoryBudget or the operation's options say otherwise.
const DefaultMemoryBudget = 512 << 20

// budget splits a memory budget between the parts of a store or read.
type budget struct {
	total    int64
	block    int   // the encoder's and decoder's block buffers
	inFlight int64 // request bodies being uploaded or slivers being read
	batch    int   // bytes of sliver data in one batched upload
	memSpill int64 // the largest scratch space kept in memory
}

// splitBudget divides total: a sixteenth for the encoder's blocks (it uses
// about five), a quarter for uploads in flight (capped by the client's
// max_data_in_flight), an eighth for scratch space kept in memory (more
// goes to a temporary file); the rest covers the n²·32 bytes of leaf
// hashes of an encode (32 MiB at n = 1000) and the runtime.
func (c *Client) splitBudget(total int64) budget {
	if total <= 0 {
		total = c.cfg.MemoryBudget
	}
	b := budget{total: total}
	b.block = blockFor(total)
	b.inFlight = max(min(c.cfg.MaxDataInFlight, total/4), 4<<20)
	b.batch = int(min(max(b.inFlight/8, 1<<20), 8<<20))
	b.memSpill = total / 8
	return b
}

// encoded is a blob ready to upload and what to release once every upload
// (the background tail included) is done with it.
type encoded struct {
	md      *blob.MetadataWithID
	src     sliverSource
	release func()
	// uploads counts the uploads reading src (each committee attempt's,
	// including its background tail); release runs when none is left.
	uploads sync.WaitGroup
}

// CheckSize refuses a blob too large for the shard count (ErrBlobTooLarge)
// or a negative size, before anything is read or paid.
func (c *Client) CheckSize(size int64) error {
	if size < 0 {
		return fmt.Errorf("%w: negative size %d", ErrInvalidArgument, size)
	}
	if uint64(size) > c.params.MaxBlobSize() {
		return fmt.Errorf("%w: %d bytes, the largest blob for %d shards is %d bytes", ErrBlobTooLarge, size, c.params.N(), c.params.MaxBlobSize())
	}
	return nil
}

// scratch returns scratch space of size bytes: memory when it fits the
// budget's share, else a temporary file (removed by the returned func).
func (c *Client) scratch(size int64, b budget) (redstuff.ReadWriterAt, func(), error) {
	return newScratch(size, b.memSpill, c.cfg.TempDir)
}

// newScratch returns scratch space of size bytes: memory up to memLimit,
// else a temporary file in dir (removed by the returned func).
func newScratch(size, memLimit int64, dir string) (redstuff.ReadWriterAt, func(), error) {
	if size <= memLimit {
		return make(redstuff.MemScratch, size), func() {}, nil
	}
	f, err := os.CreateTemp(dir, "walrus-scratch-*")
	if err != nil {
		return nil, nil, fmt.Errorf("client: scratch space: %w", err)
	}
	// Unlinked at once where the system allows it: the space is freed
	// even if the process dies, and the dirty pages need never reach the
	// disk.
	name := f.Name()
	removed := os.Remove(name) == nil
	if err := f.Truncate(size); err != nil {
		f.Close()
		if !removed {
			os.Remove(name)
		}
		return nil, nil, fmt.Errorf("client: scratch space of %d bytes: %w", size, err)
	}
	return f, func() {
		f.Close()
		if !removed {
			os.Remove(name)
		}
	}, nil
}

// encodeFrom encodes the size bytes of r in bounded memory.
func (c *Client) encodeFrom(r io.ReaderAt, size int64, b budget) (*encoded, error) {
	if err := c.CheckSize(size); err != nil {
		return nil, err
	}
	need, err := c.enc.ScratchSize(uint64(size))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBlobTooLarge, err)
	}
	sp, release, err := c.scratch(need, b)
	if err != nil {
		return nil, err
	}
	x, err := c.enc.EncodeStream(r, uint64(size), sp, b.block)
	if err != nil {
		release()
		return nil, err
	}
	return &encoded{md: &x.Metadata, src: x, release: release}, nil
}

// ComputeMetadata computes the metadata and blob ID of the size bytes of r
// in bounded memory (budget 0: the client's), without storing anything.
func (c *Client) ComputeMetadata(r io.ReaderAt, size int64, memoryBudget int64) (*blob.MetadataWithID, error) {
	if err := c.CheckSize(size); err != nil {
		return nil, err
	}
	if memoryBudget <= 0 {
		memoryBudget = c.cfg.MemoryBudget
	}
	return metadataWith(c.enc, r, size, memoryBudget, c.cfg.TempDir)
}

// ComputeFileMetadata is ComputeMetadata of a file.
func (c *Client) ComputeFileMetadata(path string, memoryBudget int64) (*blob.MetadataWithID, error) {
	f, size, err := openFile(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return c.ComputeMetadata(f, size, memoryBudget)
}

// Metadata computes the metadata and blob ID of the size bytes of r for a
// network of p's shard count, offline, in about memoryBudget bytes (0:
// DefaultMemoryBudget); the half-blob of scratch space it needs goes to a
// temporary file in tempDir ("" : the system's) when it does not fit an
// eighth of the budget.
func Metadata(p blob.Params, r io.ReaderAt, size int64, memoryBudget int64, tempDir string) (*blob.MetadataWithID, error) {
	enc, err := redstuff.NewEncoder(p)
	if err != nil {
		return nil, err
	}
	return metadataWith(enc, r, size, memoryBudget, tempDir)
}

// metadataWith is Metadata with an encoder at hand.
func metadataWith(enc *redstuff.Encoder, r io.ReaderAt, size int64, memoryBudget int64, tempDir string) (*blob.MetadataWithID, error) {
	if memoryBudget <= 0 {
		memoryBudget = DefaultMemoryBudget
	}
	if size < 0 {
		return nil, fmt.Errorf("%w: negative size %d", ErrInvalidArgument, size)
	}
	need, err := enc.MetadataScratchSize(uint64(size))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBlobTooLarge, err)
	}
	sp, release, err := newScratch(need, memoryBudget/8, tempDir)
	if err != nil {
		return nil, err
	}
	defer release()
	md, err := enc.MetadataStream(r, uint64(size), sp, blockFor(memoryBudget))
	if err != nil {
		return nil, err
	}
	return &md, nil
}

// FileMetadata is Metadata of the file at path.
func FileMetadata(p blob.Params, path string, memoryBudget int64, tempDir string) (*blob.MetadataWithID, error) {
	f, size, err := openFile(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Metadata(p, f, size, memoryBudget, tempDir)
}

// blockFor is the encoder's block size for a memory budget.
func blockFor(total int64) int {
	return int(min(max(total/64, 1<<20), redstuff.DefaultBlockBytes))
}

func openFile(path string) (*os.File, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, 0, fmt.Errorf("%w: %s is not a regular file", ErrInvalidArgument, path)
	}
	return f, st.Size(), nil
}

// StoreReaderAt stores the size bytes of r. It encodes them in two passes
// over r in bounded memory (opts.MemoryBudget, else the client's), with the
// encoded parts that are not in r spilled to a temporary file, and uploads
// slivers read back from r and that file. r must stay readable and
// unchanged until the store's background tail is done (StoreResult.Tail,
// WaitUploads).
func (c *Client) StoreReaderAt(ctx context.Context, r io.ReaderAt, size int64, opts StoreOptions) (*StoreResult, error) {
	return c.storeFrom(ctx, r, size, nil, opts)
}

// StoreFile stores the file at path (see StoreReaderAt); the file is
// kept open until the background tail is done.
func (c *Client) StoreFile(ctx context.Context, path string, opts StoreOptions) (*StoreResult, error) {
	f, size, err := openFile(path)
	if err != nil {
		return nil, err
	}
	return c.storeFrom(ctx, f, size, func() { f.Close() }, opts)
}

// StoreReader stores what r yields until EOF: it is spooled to a temporary
// file first (the blob ID depends on every byte), which is removed once
// the store's uploads are done. A stream longer than the largest blob is
// refused as soon as it goes past it, before anything is paid.
func (c *Client) StoreReader(ctx context.Context, r io.Reader, opts StoreOptions) (*StoreResult, error) {
	f, size, err := c.Spool(ctx, r)
	if err != nil {
		return nil, err
	}
	return c.storeFrom(ctx, f, size, func() { f.Close() }, opts)
}

// Spool copies r into an unlinked temporary file (in Config.TempDir) and
// returns it with its size; the caller closes it. It stops with
// ErrBlobTooLarge as soon as r yields more than the largest blob.
func (c *Client) Spool(ctx context.Context, r io.Reader) (*os.File, int64, error) {
	f, err := os.CreateTemp(c.cfg.TempDir, "walrus-spool-*")
	if err != nil {
		return nil, 0, fmt.Errorf("client: spooling: %w", err)
	}
	_ = os.Remove(f.Name())
	limit := int64(c.params.MaxBlobSize())
	n, err := io.Copy(f, io.LimitReader(ctxReader{ctx, r}, limit+1))
	if err == nil && n > limit {
		err = fmt.Errorf("%w: more than %d bytes, the largest blob for %d shards", ErrBlobTooLarge, limit, c.params.N())
	}
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, n, nil
}

// ctxReader stops reading once ctx ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (r ctxReader) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	return r.r.Read(p)
}

// storeFrom encodes from r and stores; done (if set) runs once the
// uploads no longer need r.
func (c *Client) storeFrom(ctx context.Context, r io.ReaderAt, size int64, done func(), opts StoreOptions) (*StoreResult, error) {
	b := c.splitBudget(opts.MemoryBudget)
	p := newReporter(opts.Progress)
	p.phase(PhaseEncode)
	start := time.Now()
	x, err := c.encodeFrom(r, size, b)
	took := time.Since(start)
	if err != nil {
		if done != nil {
			done()
		}
		if errors.Is(err, blob.ErrTooLarge) {
			err = fmt.Errorf("%w: %w", ErrBlobTooLarge, err)
		}
		return &StoreResult{Result: errorResult(nil, PhaseEncode, err)}, err
	}
	release := x.release
	x.release = sync.OnceFunc(func() {
		release()
		if done != nil {
			done()
		}
	})
	res, err := c.storeSource(ctx, x, b, opts, p)
	if res != nil {
		res.Encode = took
	}
	return res, err
}

// Store encodes data and stores it (see StoreReaderAt). data must not be
// modified until the store's background tail is done.
func (c *Client) Store(ctx context.Context, data []byte, opts StoreOptions) (*StoreResult, error) {
	return c.storeFrom(ctx, bytes.NewReader(data), int64(len(data)), nil, opts)
}
