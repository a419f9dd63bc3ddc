package cli

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestReadOut: read --out writes into what exists, like cp and curl -o,
// and never replaces it: a FIFO and a device stay what they are, a
// symlink is written through, a hard-linked file keeps its inode, a
// read-only file is refused and left alone; a new file appears only once
// the read succeeded, and nothing else in the directory is touched.
func TestReadOut(t *testing.T) {
	_, cfg := startNetwork(t)
	data := bytes.Repeat([]byte("walrus read --out\n"), 5000)
	var stored []struct {
		BlobStoreResult obj `json:"blobStoreResult"`
	}
	runJSON(t, &stored, "--config", cfg, "store", "--epochs", "2", writeFile(t, data))
	id := stored[0].BlobStoreResult["newlyCreated"].(obj)["blobObject"].(obj)["blobId"].(string)
	const missing = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8" // a blob ID nobody stored
	read := func(out string) (string, int) {
		_, errOut, code := run(t, "--config", cfg, "read", id, "--out", out)
		return errOut, code
	}
	mustRead := func(t *testing.T, out string) {
		t.Helper()
		if errOut, code := read(out); code != 0 {
			t.Fatalf("read --out %s: exit %d: %s", out, code, errOut)
		}
	}
	checkContent := func(t *testing.T, path string, want []byte) {
		t.Helper()
		if got, err := os.ReadFile(path); err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%s: %d bytes (%v), want %d", path, len(got), err, len(want))
		}
	}

	t.Run("fifo", func(t *testing.T) {
		fifo := filepath.Join(t.TempDir(), "pipe")
		if err := syscall.Mkfifo(fifo, 0o600); err != nil {
			t.Skipf("mkfifo: %v", err)
		}
		got := make(chan []byte, 1)
		go func() {
			f, err := os.Open(fifo) // blocks until the writer opens it
			if err != nil {
				got <- nil
				return
			}
			defer f.Close()
			b, _ := io.ReadAll(f)
			got <- b
		}()
		errOut, code := read(fifo)
		if st, err := os.Lstat(fifo); err != nil || st.Mode()&os.ModeNamedPipe == 0 {
			t.Fatalf("the FIFO was replaced (%v, %v); exit %d: %s", st.Mode(), err, code, errOut)
		}
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		select {
		case b := <-got:
			if !bytes.Equal(b, data) {
				t.Fatalf("the reader got %d bytes, want %d", len(b), len(data))
			}
		case <-time.After(time.Minute):
			t.Fatal("the FIFO's reader got nothing")
		}
	})

	t.Run("device", func(t *testing.T) {
		// A private null device when this process may make one (root), so
		// that a regression cannot replace the system's /dev/null; it must
		// pass before /dev/null itself is tried.
		dev := filepath.Join(t.TempDir(), "null")
		if err := syscall.Mknod(dev, syscall.S_IFCHR|0o666, 1<<8|3); err == nil {
			mustRead(t, dev)
			if st, err := os.Lstat(dev); err != nil || st.Mode()&os.ModeCharDevice == 0 {
				t.Fatalf("the device was replaced: %v %v", st.Mode(), err)
			}
		}
		mustRead(t, os.DevNull)
		if st, err := os.Lstat(os.DevNull); err != nil || st.Mode()&os.ModeCharDevice == 0 {
			t.Fatalf("%s is no longer a device: %v %v", os.DevNull, st.Mode(), err)
		}
	})

	t.Run("symlink", func(t *testing.T) {
		dir := t.TempDir()
		target, link := filepath.Join(dir, "target"), filepath.Join(dir, "link")
		if err := os.WriteFile(target, []byte("old content, longer than nothing"), 0o640); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink("target", link); err != nil {
			t.Fatal(err)
		}
		mustRead(t, link)
		if st, err := os.Lstat(link); err != nil || st.Mode()&os.ModeSymlink == 0 {
			t.Fatalf("the symlink was replaced: %v %v", st.Mode(), err)
		}
		checkContent(t, target, data)
		if st, _ := os.Stat(target); st.Mode().Perm() != 0o640 {
			t.Fatalf("the target's mode changed to %v", st.Mode())
		}
	})

	t.Run("hardlink", func(t *testing.T) {
		dir := t.TempDir()
		a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
		if err := os.WriteFile(a, bytes.Repeat([]byte("x"), 2*len(data)), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Link(a, b); err != nil {
			t.Fatal(err)
		}
		before, _ := os.Stat(a)
		// A read that fails before any byte arrives leaves the file as it was.
		if _, errOut, code := run(t, "--config", cfg, "read", missing, "--out", a); code == 0 || !strings.Contains(errOut, "not found") {
			t.Fatalf("read of a missing blob: exit %d: %q", code, errOut)
		}
		checkContent(t, b, bytes.Repeat([]byte("x"), 2*len(data)))
		mustRead(t, a)
		after, _ := os.Stat(a)
		if !os.SameFile(before, after) || after.Mode().Perm() != 0o600 {
			t.Fatalf("%s was replaced (inode or mode %v changed)", a, after.Mode())
		}
		checkContent(t, b, data) // truncated to the blob: no old tail
	})

	t.Run("read-only", func(t *testing.T) {
		ro := filepath.Join(t.TempDir(), "ro")
		if err := os.WriteFile(ro, []byte("keep me"), 0o444); err != nil {
			t.Fatal(err)
		}
		errOut, code := read(ro)
		if code == 0 || !strings.Contains(errOut, ro) || !strings.Contains(errOut, "read-only") || strings.Contains(errOut, ".tmp") {
			t.Fatalf("exit %d: %q", code, errOut)
		}
		checkContent(t, ro, []byte("keep me"))
		if st, _ := os.Stat(ro); st.Mode().Perm() != 0o444 {
			t.Fatalf("mode changed to %v", st.Mode())
		}
	})

	t.Run("directory", func(t *testing.T) {
		dir := t.TempDir()
		errOut, code := read(dir)
		if code == 0 || !strings.Contains(errOut, "is a directory") {
			t.Fatalf("exit %d: %q", code, errOut)
		}
	})

	t.Run("new file", func(t *testing.T) {
		dir := t.TempDir()
		out := filepath.Join(dir, "out")
		if err := os.WriteFile(out+".tmp", []byte("not ours"), 0o600); err != nil {
			t.Fatal(err)
		}
		// A failed read leaves nothing behind.
		_, errOut, code := run(t, "--config", cfg, "read", missing, "--out", out)
		if code == 0 || strings.Contains(errOut, ".tmp") {
			t.Fatalf("read of a missing blob: exit %d: %q", code, errOut)
		}
		if _, err := os.Lstat(out); !os.IsNotExist(err) {
			t.Fatalf("a failed read left %s: %v", out, err)
		}
		mustRead(t, out)
		checkContent(t, out, data)
		checkContent(t, out+".tmp", []byte("not ours"))
		if names, _ := os.ReadDir(dir); len(names) != 2 {
			t.Fatalf("the directory holds %d entries, want out and out.tmp", len(names))
		}
		// Into a directory that does not exist: the error names the path.
		bad := filepath.Join(dir, "nope", "out")
		errOut, code = read(bad)
		if code == 0 || !strings.Contains(errOut, bad) || strings.Contains(errOut, ".tmp") {
			t.Fatalf("exit %d: %q", code, errOut)
		}
	})

	t.Run("dangling symlink", func(t *testing.T) {
		link := filepath.Join(t.TempDir(), "link")
		if err := os.Symlink("missing-target", link); err != nil {
			t.Fatal(err)
		}
		errOut, code := read(link)
		if code == 0 || !strings.Contains(errOut, "symbolic link") {
			t.Fatalf("exit %d: %q", code, errOut)
		}
		if st, err := os.Lstat(link); err != nil || st.Mode()&os.ModeSymlink == 0 {
			t.Fatalf("the symlink was replaced: %v", err)
		}
	})
}
