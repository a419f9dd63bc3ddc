package node

import (
	"context"
	"time"

	"github.com/walrus-go/walrus/blob"
)

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
	apply(n.blocklist.IDs())
	t := time.NewTicker(n.cfg.BlocklistReload)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		added, _, err := n.blocklist.Reload()
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
