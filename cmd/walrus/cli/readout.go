package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/client"
)

// readToFile writes a blob to path the way cp and curl -o do, never
// replacing what is there:
//
//   - a path that does not exist gets a new file, written to a unique
//     temporary file beside it and linked into place only once the read
//     succeeded, so a failed read leaves nothing behind;
//   - an existing regular file (or the target of a symlink to one) is
//     truncated and written in place, keeping its inode, mode, owner and
//     hard links; one without any write permission is refused, even for
//     root;
//   - a device or FIFO is opened and written to as it is;
//   - a directory, a socket and a dangling symlink are refused.
//
// Errors name path, never the temporary file.
func readToFile(ctx context.Context, c *client.Client, id blob.ID, path string, opts client.ReadOptions) (int64, error) {
	st, err := os.Stat(path) // follows symlinks: they are written through
	if errors.Is(err, fs.ErrNotExist) {
		if lst, lerr := os.Lstat(path); lerr == nil && lst.Mode()&fs.ModeSymlink != 0 {
			return 0, fmt.Errorf("%s is a symbolic link to a missing file: not writing through it", path)
		}
		return readToNewFile(ctx, c, id, path, opts)
	}
	if err != nil {
		return 0, outError(path, err)
	}
	switch mode := st.Mode(); {
	case mode.IsDir():
		return 0, fmt.Errorf("%s is a directory: give a file name", path)
	case mode.IsRegular():
		if mode.Perm()&0o222 == 0 {
			return 0, fmt.Errorf("%s is read-only (mode %04o): not overwriting it", path, mode.Perm())
		}
		return readIntoFile(ctx, c, id, path, true, opts)
	case mode&(fs.ModeDevice|fs.ModeCharDevice|fs.ModeNamedPipe) != 0:
		return readIntoFile(ctx, c, id, path, false, opts)
	default:
		return 0, fmt.Errorf("%s is not a file, device or FIFO (%s)", path, mode.Type())
	}
}

// readIntoFile writes a blob into an existing file, device or FIFO. A
// regular file (truncate) is truncated only when the first bytes arrive,
// so a read that fails before (an unknown blob, no committee) leaves it
// untouched, and synced at the end; a read that fails midway leaves it
// partially written.
func readIntoFile(ctx context.Context, c *client.Client, id blob.ID, path string, truncate bool, opts client.ReadOptions) (int64, error) {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return 0, outError(path, err)
	}
	defer f.Close()
	fw := &fileWriter{f: f, path: path, truncate: truncate}
	w := bufio.NewWriterSize(fw, 1<<20)
	n, err := c.ReadTo(ctx, id, w, opts)
	if err != nil {
		return 0, err // write errors name path already (fileWriter)
	}
	err = w.Flush()
	if err == nil && truncate {
		err = fw.truncateNow() // an empty blob wrote nothing
		if err == nil {
			err = f.Sync()
		}
	}
	if err == nil {
		err = f.Close()
	}
	if err != nil {
		return 0, outError(path, err)
	}
	return n, nil
}

// readToNewFile writes a blob to a unique temporary file in path's
// directory and links it to path once complete: the link fails rather
// than replace a file that appeared meanwhile. Where the file system has
// no hard links, it is renamed instead. On failure the temporary file is
// removed.
func readToNewFile(ctx context.Context, c *client.Client, id blob.ID, path string, opts client.ReadOptions) (int64, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return 0, outError(path, err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // after the link, only the temporary name goes
	defer f.Close()
	w := bufio.NewWriterSize(&fileWriter{f: f, path: path}, 1<<20)
	n, err := c.ReadTo(ctx, id, w, opts)
	if err != nil {
		return 0, err // write errors name path already (fileWriter)
	}
	err = w.Flush()
	if err == nil {
		err = f.Chmod(0o644) // CreateTemp's 0600, as a plain new file would be
	}
	if err == nil {
		err = f.Sync()
	}
	if err == nil {
		err = f.Close()
	}
	if err == nil {
		err = os.Link(tmp, path)
		if errors.Is(err, fs.ErrExist) {
			return 0, fmt.Errorf("%s appeared while the blob was read: not replacing it", path)
		}
		if err != nil {
			err = os.Rename(tmp, path)
		}
	}
	if err != nil {
		return 0, outError(path, err)
	}
	return n, nil
}

// fileWriter writes to f, truncating it first if asked, and names path in
// its errors (the temporary file's name stays out of them).
type fileWriter struct {
	f        *os.File
	path     string
	truncate bool // still to be truncated before the first write
}

func (w *fileWriter) Write(p []byte) (int, error) {
	if err := w.truncateNow(); err != nil {
		return 0, err
	}
	n, err := w.f.Write(p)
	if err != nil {
		return n, outError(w.path, err)
	}
	return n, nil
}

// truncateNow truncates the file if that is still to be done.
func (w *fileWriter) truncateNow() error {
	if !w.truncate {
		return nil
	}
	w.truncate = false
	if err := w.f.Truncate(0); err != nil {
		return outError(w.path, err)
	}
	return nil
}

// outError is an error of writing path: the file name inside err (which
// may be the temporary file's) is replaced by path. Errors already made
// by outError pass unchanged.
func outError(path string, err error) error {
	var oe *outFileError
	if errors.As(err, &oe) {
		return err
	}
	var pe *fs.PathError
	var le *os.LinkError
	switch {
	case errors.As(err, &pe):
		err = pe.Err
	case errors.As(err, &le):
		err = le.Err
	}
	return &outFileError{path: path, err: err}
}

// outFileError is an error of writing --out's file.
type outFileError struct {
	path string
	err  error
}

func (e *outFileError) Error() string { return "writing " + e.path + ": " + e.err.Error() }
func (e *outFileError) Unwrap() error { return e.err }
