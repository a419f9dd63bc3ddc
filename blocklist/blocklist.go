// Package blocklist reads the blob blocklist that storage nodes and
// aggregators/publishers share: the blob IDs they neither store nor serve
// (HTTP 451). A file is Walrus's YAML list of blob IDs ("- ID" lines or
// [ID, …]) or one blob ID per line; '#' starts a comment in both. A List
// re-reads its file when it changes.
package blocklist

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/internal/clock"
)

// ErrSyntax is returned (wrapped) for a file that is not a list of blob IDs.
var ErrSyntax = errors.New("blocklist: invalid entry")

// Parse reads the contents of a blocklist file. It never returns a nil set
// without an error.
func Parse(data []byte) (map[blob.ID]bool, error) {
	ids := map[blob.ID]bool{}
	var list []string
	if err := yaml.Unmarshal(data, &list); err == nil {
		for i, s := range list {
			id, err := blob.ParseID(strings.TrimSpace(s))
			if err != nil {
				return nil, fmt.Errorf("%w: entry %d: %w", ErrSyntax, i+1, err)
			}
			ids[id] = true
		}
		return ids, nil
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for line := 1; sc.Scan(); line++ {
		s, _, _ := strings.Cut(sc.Text(), "#")
		s = strings.Trim(strings.TrimSpace(s), `"'`)
		if s == "" {
			continue
		}
		id, err := blob.ParseID(s)
		if err != nil {
			return nil, fmt.Errorf("%w: line %d: %w", ErrSyntax, line, err)
		}
		ids[id] = true
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSyntax, err)
	}
	return ids, nil
}

// List is a blocklist backed by a file. A nil List, or one without a path,
// blocks nothing. It is safe for concurrent use.
type List struct {
	path string

	mu struct {
		sync.RWMutex
		ids     map[blob.ID]bool
		modTime time.Time
		size    int64
	}
}

// Load reads a blocklist file ("" for none). A missing file blocks nothing
// until it appears.
func Load(path string) (*List, error) {
	l := &List{path: path}
	l.mu.ids = map[blob.ID]bool{}
	if path == "" {
		return l, nil
	}
	if _, _, err := l.Reload(); err != nil {
		return nil, err
	}
	return l, nil
}

// Reload re-reads the file if it changed (modification time or size). It
// reports the newly listed IDs and whether the set changed at all. On an
// error the previous set stays in force.
func (l *List) Reload() (added []blob.ID, changed bool, err error) {
	if l == nil || l.path == "" {
		return nil, false, nil
	}
	st, err := os.Stat(l.path)
	if errors.Is(err, os.ErrNotExist) {
		l.mu.Lock()
		defer l.mu.Unlock()
		changed = len(l.mu.ids) > 0
		l.mu.ids, l.mu.modTime, l.mu.size = map[blob.ID]bool{}, time.Time{}, 0
		return nil, changed, nil
	}
	if err != nil {
		return nil, false, err
	}
	l.mu.RLock()
	same := st.ModTime().Equal(l.mu.modTime) && st.Size() == l.mu.size
	l.mu.RUnlock()
	if same {
		return nil, false, nil
	}
	data, err := os.ReadFile(l.path)
	if err != nil {
		return nil, false, err
	}
	ids, err := Parse(data)
	if err != nil {
		return nil, false, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for id := range ids {
		if !l.mu.ids[id] {
			added = append(added, id)
		}
	}
	l.mu.ids, l.mu.modTime, l.mu.size = ids, st.ModTime(), st.Size()
	return added, true, nil
}

// Blocked reports whether a blob is listed.
func (l *List) Blocked(id blob.ID) bool {
	if l == nil {
		return false
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.mu.ids[id]
}

// Len is the number of listed blobs.
func (l *List) Len() int {
	if l == nil {
		return 0
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	return len(l.mu.ids)
}

// IDs returns the listed blob IDs, in no particular order.
func (l *List) IDs() []blob.ID {
	if l == nil {
		return nil
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	out := make([]blob.ID, 0, len(l.mu.ids))
	for id := range l.mu.ids {
		out = append(out, id)
	}
	return out
}

// Watch re-reads the file every interval, paced by clk (nil: the system
// clock), until ctx ends, and hands the newly listed IDs to onAdded (nil:
// nobody needs them). A file that does not parse is logged and the previous
// set stays in force. It returns at once for a List without a path.
func (l *List) Watch(ctx context.Context, clk clock.Clock, interval time.Duration, log *slog.Logger, onAdded func([]blob.ID)) {
	if l == nil || l.path == "" {
		return
	}
	if interval <= 0 {
		interval = 30 * time.Second
	}
	for clock.Sleep(ctx, clk, interval) == nil {
		added, changed, err := l.Reload()
		switch {
		case err != nil:
			log.Error("reloading the blocklist; keeping the previous one", "path", l.path, "err", err)
		case changed:
			log.Info("blocklist reloaded", "path", l.path, "added", len(added), "total", l.Len())
		}
		if len(added) > 0 && onAdded != nil {
			onAdded(added)
		}
	}
}
