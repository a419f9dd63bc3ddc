package node

import (
	"context"
	"log/slog"
	"time"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/blocklist"
	"github.com/walrus-go/walrus/internal/clock"
)

// blocklistWatcher deletes the data of blocked blobs: those listed when the
// node starts, then those added to the file, which blocklist.List.Watch
// re-reads every interval. Refusing uploads and reads of listed blobs is the
// REST server's part, and not recovering them the recoverer's.
type blocklistWatcher struct {
	log      *slog.Logger
	list     *blocklist.List
	gc       *collector
	interval time.Duration
	clock    clock.Clock
}

func newBlocklistWatcher(p *parts, gc *collector, interval time.Duration) *blocklistWatcher {
	return &blocklistWatcher{log: p.log, list: p.blocklist, gc: gc, interval: interval, clock: p.clock}
}

// run watches the blocklist until ctx ends. Without a blocklist file there
// is nothing to watch and it returns at once.
func (w *blocklistWatcher) run(ctx context.Context) error {
	w.apply(w.list.IDs())
	w.list.Watch(ctx, w.clock, w.interval, w.log, w.apply)
	return nil
}

// apply deletes the data of newly blocked blobs.
func (w *blocklistWatcher) apply(ids []blob.ID) {
	for _, id := range ids {
		if err := w.gc.collectBlocked(id); err != nil {
			w.log.Error("deleting a blocked blob", "blob_id", id, "err", err)
		}
	}
}
