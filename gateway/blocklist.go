package gateway

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/walrus-go/walrus/blob"
)

// blocklist is the set of blob IDs the gateway neither serves nor stores
// (451), read from a file that is re-read when it changes.
type blocklist struct {
	path string

	mu struct {
		sync.RWMutex
		ids     map[blob.ID]bool
		modTime time.Time
		size    int64
	}
}

func newBlocklist(path string) (*blocklist, error) {
	b := &blocklist{path: path}
	b.mu.ids = map[blob.ID]bool{}
	if path == "" {
		return b, nil
	}
	if _, err := b.reload(); err != nil {
		return nil, err
	}
	return b, nil
}

// parseBlocklist reads a blocklist: Walrus's YAML list of blob IDs
// ("- ID" lines or [ID, …]), or one blob ID per line; '#' starts a
// comment in both.
func parseBlocklist(data []byte) (map[blob.ID]bool, error) {
	ids := map[blob.ID]bool{}
	var list []string
	if err := yaml.Unmarshal(data, &list); err == nil {
		for i, s := range list {
			id, err := blob.ParseID(strings.TrimSpace(s))
			if err != nil {
				return nil, fmt.Errorf("gateway: blocklist entry %d: %w", i+1, err)
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
			return nil, fmt.Errorf("gateway: blocklist line %d: %w", line, err)
		}
		ids[id] = true
	}
	return ids, sc.Err()
}

// reload re-reads the file if it changed and reports whether it did. A
// missing file blocks nothing.
func (b *blocklist) reload() (bool, error) {
	if b.path == "" {
		return false, nil
	}
	st, err := os.Stat(b.path)
	if errors.Is(err, os.ErrNotExist) {
		b.mu.Lock()
		defer b.mu.Unlock()
		changed := len(b.mu.ids) > 0
		b.mu.ids, b.mu.modTime, b.mu.size = map[blob.ID]bool{}, time.Time{}, 0
		return changed, nil
	}
	if err != nil {
		return false, err
	}
	b.mu.RLock()
	same := st.ModTime().Equal(b.mu.modTime) && st.Size() == b.mu.size
	b.mu.RUnlock()
	if same {
		return false, nil
	}
	data, err := os.ReadFile(b.path)
	if err != nil {
		return false, err
	}
	ids, err := parseBlocklist(data)
	if err != nil {
		return false, err
	}
	b.mu.Lock()
	b.mu.ids, b.mu.modTime, b.mu.size = ids, st.ModTime(), st.Size()
	b.mu.Unlock()
	return true, nil
}

func (b *blocklist) blocked(id blob.ID) bool {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.mu.ids[id]
}
