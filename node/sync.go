package node

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/walrus-go/walrus/blob"
)

// Blob sync: the recovery queue in the store lists the blobs that may lack
// slivers of the node's shards (queued with BlobCertified, at an epoch
// change that gained shards, and when a damaged value is found). runSync
// works through it with bounded concurrency; a blob leaves the queue only
// when every owned shard holds both its slivers (checked under the blob's
// lock, against the committee of that moment), or when the blob no longer
// needs them. Failures are retried with a doubling delay. The queue lives in
// the store, so recovery resumes after a restart.

// errBlobInvalid: recovery proved the blob inconsistent; it stays queued
// until the InvalidBlobID event removes it.
var errBlobInvalid = errors.New("node: blob is inconsistently encoded")

type retryState struct {
	next  time.Time
	delay time.Duration
}

func (n *Node) runSync(ctx context.Context) error {
	sem := make(chan struct{}, n.cfg.Recovery.MaxConcurrentBlobs)
	var mu sync.Mutex
	inflight := map[blob.ID]bool{}
	retry := map[blob.ID]retryState{}
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		queued := 0
		seen := map[blob.ID]bool{}
		var after *blob.ID
		for {
			ids, err := n.store.SyncQueue(after, 256)
			if err != nil {
				n.log.Error("reading the recovery queue", "err", err)
				break
			}
			if len(ids) == 0 {
				break
			}
			after = &ids[len(ids)-1]
			queued += len(ids)
			for _, id := range ids {
				seen[id] = true
				mu.Lock()
				skip := inflight[id] || time.Now().Before(retry[id].next)
				mu.Unlock()
				if skip {
					continue
				}
				select {
				case sem <- struct{}{}:
				case <-ctx.Done():
					return nil
				}
				mu.Lock()
				inflight[id] = true
				mu.Unlock()
				wg.Add(1)
				go func() {
					defer wg.Done()
					start := time.Now()
					err := n.syncBlob(ctx, id)
					mu.Lock()
					delete(inflight, id)
					switch {
					case err == nil:
						delete(retry, id)
					case ctx.Err() == nil:
						r := retry[id]
						r.delay = min(max(2*r.delay, n.cfg.Recovery.RetryInterval), time.Minute)
						r.next = time.Now().Add(r.delay)
						retry[id] = r
						if !errors.Is(err, errBlobInvalid) {
							n.metrics.syncFailures.Inc()
							n.log.Warn("blob recovery failed; will retry", "blob_id", id, "in", r.delay, "err", err)
						}
					}
					mu.Unlock()
					<-sem
					if err == nil {
						n.log.Debug("blob recovery pass done", "blob_id", id, "took", time.Since(start))
					}
					n.wakeSync()
				}()
			}
		}
		n.metrics.backlog.Set(float64(queued))
		mu.Lock()
		var wait time.Duration = time.Second
		for id, r := range retry {
			if !seen[id] {
				delete(retry, id) // left the queue
				continue
			}
			if d := time.Until(r.next); d < wait {
				wait = max(d, 10*time.Millisecond)
			}
		}
		mu.Unlock()
		n.reportEpochSynced(ctx)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-n.syncWake:
		case <-t.C:
		}
		t.Stop()
	}
}
