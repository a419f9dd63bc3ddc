package node

import (
	"context"
	"log/slog"
	"time"

	"github.com/walrus-go/walrus/chain/chainclient"
	"github.com/walrus-go/walrus/internal/clock"
)

// chainWatcher polls the chain's height for the event-lag metric and the
// health answer, and refreshes the view of the committees when the epoch
// moved on before the event follower got there (a node lagging behind the
// chain must still accept writes for, and sign with, the current epoch).
type chainWatcher struct {
	log      *slog.Logger
	clock    clock.Clock
	interval time.Duration
	chain    *chainclient.Client
	view     *view
	progress *progress
	metrics  *metrics
}

func newChainWatcher(p *parts, interval time.Duration) *chainWatcher {
	return &chainWatcher{log: p.log, clock: p.clock, interval: interval, chain: p.chain, view: p.view,
		progress: p.progress, metrics: p.metrics}
}

// run polls every interval until ctx ends.
func (w *chainWatcher) run(ctx context.Context) error {
	for {
		w.poll(ctx)
		if clock.Sleep(ctx, w.clock, w.interval) != nil {
			return nil
		}
	}
}

// poll reads the chain's system state once; a failed read waits for the
// next poll.
func (w *chainWatcher) poll(ctx context.Context) {
	sys, err := w.chain.System(ctx)
	if err != nil {
		return
	}
	w.progress.chainHeight.Store(sys.Height)
	w.metrics.eventLag.Set(float64(w.progress.lag()))
	if v := w.view.System(); v == nil || v.Epoch != sys.Epoch || v.State != sys.State {
		if err := w.view.refresh(ctx, w.chain); err != nil && ctx.Err() == nil {
			w.log.Warn("refreshing the committees", "err", err)
		}
	}
}
