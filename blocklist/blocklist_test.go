package blocklist

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/internal/clock"
)

func TestFormats(t *testing.T) {
	a, b := blob.ID{1}, blob.ID{2}
	for _, s := range []string{
		"- " + a.String() + "\n- " + b.String() + " # comment\n", // Walrus's YAML
		"[" + a.String() + ", " + b.String() + "]",
		a.String() + "\n\n" + b.String() + "  # two\n", // one per line
		"# header\n'" + a.String() + "'\n\"" + b.String() + "\"\n",
	} {
		ids, err := Parse([]byte(s))
		if err != nil || len(ids) != 2 || !ids[a] || !ids[b] {
			t.Fatalf("%q: %v %v", s, ids, err)
		}
	}
	for _, bad := range []string{"- nope", "not-a-blob-id\n", "[1, 2]"} {
		if _, err := Parse([]byte(bad)); !errors.Is(err, ErrSyntax) {
			t.Fatalf("%q accepted: %v", bad, err)
		}
	}
	if ids, err := Parse(nil); err != nil || ids == nil || len(ids) != 0 {
		t.Fatalf("empty file: %v %v", ids, err)
	}
}

func TestReload(t *testing.T) {
	id, other := blob.ID{1, 2, 3}, blob.ID{4}
	path := filepath.Join(t.TempDir(), "bl")
	l, err := Load(path) // missing file: nothing blocked
	if err != nil || l.Blocked(id) || l.Len() != 0 {
		t.Fatal(err)
	}
	os.WriteFile(path, []byte(id.String()), 0o600)
	added, changed, err := l.Reload()
	if err != nil || !changed || len(added) != 1 || added[0] != id || !l.Blocked(id) {
		t.Fatalf("reload: %v %v %v", added, changed, err)
	}
	if added, changed, err := l.Reload(); err != nil || changed || added != nil {
		t.Fatalf("unchanged file reported a change: %v %v %v", added, changed, err)
	}
	// A bad file keeps the previous set.
	os.WriteFile(path, []byte("garbage here\n"), 0o600)
	if _, _, err := l.Reload(); err == nil || !l.Blocked(id) {
		t.Fatalf("bad file: %v, still blocked %v", err, l.Blocked(id))
	}
	os.WriteFile(path, []byte("- "+id.String()+"\n- "+other.String()+"\n"), 0o600)
	if added, _, err := l.Reload(); err != nil || len(added) != 1 || added[0] != other || len(l.IDs()) != 2 {
		t.Fatalf("second reload: %v %v", added, err)
	}
	os.Remove(path)
	if _, changed, err := l.Reload(); err != nil || !changed || l.Blocked(id) {
		t.Fatalf("removed file: %v %v", changed, err)
	}
	var none *List
	if none.Blocked(id) || none.Len() != 0 || none.IDs() != nil {
		t.Fatal("nil list blocks")
	}
}

func FuzzParse(f *testing.F) {
	id := blob.ID{3}.String()
	for _, s := range []string{"- " + id, "[" + id + "]", id + "\n# c\n", "", "- 1", "a: b", "\"" + id + "\"", "zz\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ids, err := Parse(data)
		if err == nil && ids == nil {
			t.Fatal("nil set without an error")
		}
	})
}

func TestWatchHandsOverAdditions(t *testing.T) {
	p := filepath.Join(t.TempDir(), "blocklist.yaml")
	a, b := blob.ID{1}, blob.ID{2}
	if err := os.WriteFile(p, []byte("- "+a.String()+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.NewManual(time.Unix(1_000_000, 0))
	ctx, cancel := context.WithCancel(context.Background())
	got := make(chan []blob.ID, 4)
	done := make(chan struct{})
	go func() {
		defer close(done)
		l.Watch(ctx, clk, time.Minute, slog.New(slog.DiscardHandler), func(ids []blob.ID) { got <- ids })
	}()
	// tick lets one interval pass on the clock and waits until the watcher
	// has reloaded and sleeps again.
	tick := func() {
		t.Helper()
		waitSleeping(t, clk)
		clk.Advance(time.Minute)
		waitSleeping(t, clk)
	}
	// A file that does not parse keeps the previous set.
	if err := replaceFile(p, "not an id, and longer\n"); err != nil {
		t.Fatal(err)
	}
	tick()
	if !l.Blocked(a) {
		t.Fatal("a bad file dropped the previous set")
	}
	if err := replaceFile(p, "- "+a.String()+"\n- "+b.String()+"\n"); err != nil {
		t.Fatal(err)
	}
	// The clock paces the reloads: nothing is read before the interval.
	waitSleeping(t, clk)
	clk.Advance(time.Minute - time.Second)
	if l.Blocked(b) {
		t.Fatal("reloaded before the interval passed on the clock")
	}
	clk.Advance(time.Second)
	select {
	case ids := <-got:
		if len(ids) != 1 || ids[0] != b {
			t.Fatalf("added %v, want [%s]", ids, b)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the addition was not handed over")
	}
	cancel()
	<-done
	if !l.Blocked(b) {
		t.Fatal("b not blocked")
	}
}

// waitSleeping waits until the watcher waits on the clock.
func waitSleeping(t *testing.T, clk *clock.Manual) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for clk.Waiters() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the watcher never waited on the clock")
		}
		time.Sleep(time.Millisecond)
	}
}

// replaceFile swaps the file's content in one rename, as an operator's
// editor or config tool does, so that the watcher never sees it half written
// (os.WriteFile truncates first, and a watcher reading then sees an empty list).
func replaceFile(path, content string) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
