package node

import (
	"time"

	"github.com/walrus-go/walrus/internal/clock"
	"github.com/walrus-go/walrus/nodeapi"
	"github.com/walrus-go/walrus/store"
)

// catchUpBlocks is how many blocks of the chain the event follower may
// not have processed yet (see progress.lag) before the node reports
// RecoveryCatchUp.
const catchUpBlocks = 20

// health answers /v1/health (nodeapi.HealthSource) from the committee
// view, the store's recovery queue and the event follower's progress.
type health struct {
	store     *store.Store
	view      *view
	progress  *progress
	clock     clock.Clock
	started   time.Time
	publicKey nodeapi.PublicKey
}

func newHealth(p *parts, started time.Time, publicKey nodeapi.PublicKey) *health {
	return &health{store: p.store, view: p.view, progress: p.progress, clock: p.clock, started: started, publicKey: publicKey}
}

// Health implements nodeapi.HealthSource.
func (hs *health) Health(detailed bool) nodeapi.HealthInfo {
	h := nodeapi.HealthInfo{Uptime: nodeapi.Duration(hs.clock.Now().Sub(hs.started)), Epoch: hs.view.Epoch(), PublicKey: hs.publicKey}
	cursor := hs.progress.cursorH.Load()
	chainH := hs.progress.chainHeight.Load()
	h.EventProgress = nodeapi.EventProgress{Persisted: hs.progress.events.Load(), HighestFinishedEventIndex: &cursor}
	h.LatestCheckpointSequenceNumber = &chainH
	processed := hs.progress.processedH.Load()
	h.ProcessedHeight = &processed
	backlog, _ := hs.store.SyncQueueLen()
	owned := hs.view.OwnedShards()
	switch {
	case len(owned) == 0:
		h.NodeStatus = nodeapi.NodeStatusStandby
	case hs.progress.lag() > catchUpBlocks:
		h.NodeStatus = nodeapi.NodeStatusRecoveryCatchUp
	case backlog > 0:
		h.NodeStatus = nodeapi.NodeStatusRecoveryInProgress
	default:
		h.NodeStatus = nodeapi.NodeStatusActive
	}
	detail := hs.shards(&h, owned)
	if detailed {
		h.ShardDetail = &detail
	}
	return h
}

// shards fills the shard summary of h and returns the shards' details:
// owned shards are ready, or in recovery if an unreported epoch change
// gained them; shards handed over but still served are read-only.
func (hs *health) shards(h *nodeapi.HealthInfo, owned []uint16) nodeapi.ShardDetail {
	recovering := recoveringShards(hs.store, hs.view)
	h.ShardSummary.Owned = len(owned)
	var detail nodeapi.ShardDetail
	for _, s := range owned {
		st := nodeapi.ShardReady
		if recovering[s] {
			st = nodeapi.ShardInRecovery
			h.ShardSummary.OwnedShardStatus.InRecovery++
		} else {
			h.ShardSummary.OwnedShardStatus.Ready++
		}
		detail.Owned = append(detail.Owned, nodeapi.ShardHealth{Shard: s, Status: st})
	}
	for _, s := range hs.view.ServingShards() {
		if !hs.view.Owns(s) {
			h.ShardSummary.ReadOnly++
			detail.Other = append(detail.Other, nodeapi.ShardHealth{Shard: s, Status: nodeapi.ShardReadOnly})
		}
	}
	return detail
}
