package node

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/walrus-go/walrus/blob"
)

// Blocklist is the set of blob IDs a node neither stores nor serves (HTTP
// 451). The file holds one blob ID per line (URL-safe base64); blank lines
// and text after '#' are ignored. The node re-reads the file when it
// changes and deletes the data it holds of newly listed blobs (their chain
// record stays). A nil or empty path blocks nothing.
type Blocklist struct {
	path string

	mu struct {
		sync.RWMutex
		ids     map[blob.ID]bool
		modTime time.Time
		size    int64
	}
}

// LoadBlocklist reads a blocklist file ("" for none).
func LoadBlocklist(path string) (*Blocklist, error) {
	b := &Blocklist{path: path}
	b.mu.ids = map[blob.ID]bool{}
	if path == "" {
		return b, nil
	}
	if _, err := b.Reload(); err != nil {
		return nil, err
	}
	return b, nil
}

// ParseBlocklist parses the contents of a blocklist file.
func ParseBlocklist(data []byte) (map[blob.ID]bool, error) {
	ids := map[blob.ID]bool{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for line := 1; sc.Scan(); line++ {
		s, _, _ := strings.Cut(sc.Text(), "#")
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		id, err := blob.ParseID(s)
		if err != nil {
			return nil, fmt.Errorf("node: blocklist line %d: %w", line, err)
		}
		ids[id] = true
	}
	return ids, sc.Err()
}

// Reload re-reads the file if it changed and returns the newly listed IDs.
// A missing file blocks nothing.
func (b *Blocklist) Reload() ([]blob.ID, error) {
	if b == nil || b.path == "" {
		return nil, nil
	}
	st, err := os.Stat(b.path)
	if errors.Is(err, os.ErrNotExist) {
		b.mu.Lock()
		b.mu.ids, b.mu.modTime, b.mu.size = map[blob.ID]bool{}, time.Time{}, 0
		b.mu.Unlock()
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	b.mu.RLock()
	same := st.ModTime().Equal(b.mu.modTime) && st.Size() == b.mu.size
	b.mu.RUnlock()
	if same {
		return nil, nil
	}
	data, err := os.ReadFile(b.path)
	if err != nil {
		return nil, err
	}
	ids, err := ParseBlocklist(data)
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	var added []blob.ID
	for id := range ids {
		if !b.mu.ids[id] {
			added = append(added, id)
		}
	}
	b.mu.ids, b.mu.modTime, b.mu.size = ids, st.ModTime(), st.Size()
	return added, nil
}

// Blocked reports whether a blob is listed.
func (b *Blocklist) Blocked(id blob.ID) bool {
	if b == nil {
		return false
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.mu.ids[id]
}

// Len is the number of listed blobs.
func (b *Blocklist) Len() int {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return len(b.mu.ids)
}

// watchBlocklist re-reads the blocklist periodically and deletes the data
// of newly listed blobs (also of those listed before the node started).
func (n *Node) watchBlocklist(ctx context.Context) error {
	if n.cfg.BlocklistPath == "" {
		return nil
	}
	apply := func(ids []blob.ID) {
		for _, id := range ids {
			if err := n.collectBlocked(id); err != nil {
				n.log.Error("deleting a blocked blob", "blob_id", id, "err", err)
			}
		}
	}
	n.blocklist.mu.RLock()
	var initial []blob.ID
	for id := range n.blocklist.mu.ids {
		initial = append(initial, id)
	}
	n.blocklist.mu.RUnlock()
	apply(initial)
	t := time.NewTicker(n.cfg.BlocklistReload)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		added, err := n.blocklist.Reload()
		if err != nil {
			n.log.Error("reloading the blocklist; keeping the previous one", "path", n.cfg.BlocklistPath, "err", err)
			continue
		}
		if len(added) > 0 {
			n.log.Info("blocklist changed", "added", len(added), "total", n.blocklist.Len())
		}
		apply(added)
	}
}
