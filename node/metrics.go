package node

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the node's Prometheus collectors (the API's own are in
// nodeapi). A few totals are mirrored in atomics for RecoveryStats.
type metrics struct {
	slivers       *prometheus.CounterVec // stored slivers, by source
	backlog       prometheus.Gauge
	recoveryBytes prometheus.Counter
	recoveredBy   *prometheus.CounterVec // recovered slivers, by method
	blobsSynced   prometheus.Counter
	syncFailures  prometheus.Counter
	eventLag      prometheus.Gauge
	events        *prometheus.CounterVec
	corrupt       prometheus.Counter
	epoch         prometheus.Gauge
	inconsistent  prometheus.Counter
	gc            *prometheus.CounterVec

	recovered atomic.Int64
	synced    atomic.Int64
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		slivers: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "walrus_node_slivers_stored_total",
			Help: "Slivers written to the store, by source (upload, recovery)."}, []string{"source"}),
		backlog: prometheus.NewGauge(prometheus.GaugeOpts{Name: "walrus_node_sync_backlog",
			Help: "Blobs waiting for recovery of missing slivers."}),
		recoveryBytes: prometheus.NewCounter(prometheus.CounterOpts{Name: "walrus_node_recovery_bytes_total",
			Help: "Bytes of answers received from other nodes during recovery."}),
		recoveredBy: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "walrus_node_recovered_slivers_total",
			Help: "Slivers rebuilt from other nodes' symbols, by method (decoding, proofs)."}, []string{"method"}),
		blobsSynced: prometheus.NewCounter(prometheus.CounterOpts{Name: "walrus_node_blobs_synced_total",
			Help: "Blobs whose missing slivers were all recovered."}),
		syncFailures: prometheus.NewCounter(prometheus.CounterOpts{Name: "walrus_node_sync_failures_total",
			Help: "Blob recovery attempts that failed and will be retried."}),
		eventLag: prometheus.NewGauge(prometheus.GaugeOpts{Name: "walrus_node_event_lag_blocks",
			Help: "Blocks of the chain whose events the node has not all handled yet: the chain's height less the height up to which it has handled every event."}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "walrus_node_events_total",
			Help: "Chain events handled, by type."}, []string{"type"}),
		corrupt: prometheus.NewCounter(prometheus.CounterOpts{Name: "walrus_node_corrupt_values_total",
			Help: "Stored values that failed their checksum (deleted and recovered)."}),
		epoch: prometheus.NewGauge(prometheus.GaugeOpts{Name: "walrus_node_epoch", Help: "The current committee epoch."}),
		inconsistent: prometheus.NewCounter(prometheus.CounterOpts{Name: "walrus_node_inconsistency_proofs_total",
			Help: "Inconsistency proofs this node produced."}),
		gc: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "walrus_node_blobs_collected_total",
			Help: "Blobs whose data was deleted, by reason (expired, deleted, invalid, blocked)."}, []string{"reason"}),
	}
	for _, c := range []prometheus.Collector{m.slivers, m.backlog, m.recoveryBytes, m.recoveredBy, m.blobsSynced, m.syncFailures,
		m.eventLag, m.events, m.corrupt, m.epoch, m.inconsistent, m.gc} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}
