package nodeapi

import "github.com/prometheus/client_golang/prometheus"

// limitMetrics are the collectors of the limits (nil when not registered:
// every method is then a no-op).
type limitMetrics struct {
	limited      *prometheus.CounterVec // requests refused, by class and limit
	conns        prometheus.Gauge       // connections held
	connsRefused *prometheus.CounterVec // connections closed at accept, by limit
	connsEvicted prometheus.Counter     // idle connections closed to make room
}

func newLimitMetrics(reg prometheus.Registerer) (*limitMetrics, error) {
	if reg == nil {
		return nil, nil
	}
	m := &limitMetrics{
		limited: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "walrus_node_http_limited_requests_total",
			Help: "Requests refused by a limit of the node API, by route class and limit (rate: 429; max_concurrent_requests, max_concurrent: 503)."},
			[]string{"class", "limit"}),
		conns: prometheus.NewGauge(prometheus.GaugeOpts{Name: "walrus_node_http_connections",
			Help: "Connections the node API holds, bounded by limits.max_connections."}),
		connsRefused: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "walrus_node_http_connections_refused_total",
			Help: "Connections closed as soon as accepted, by the limit they were above."}, []string{"limit"}),
		connsEvicted: prometheus.NewCounter(prometheus.CounterOpts{Name: "walrus_node_http_connections_evicted_total",
			Help: "Idle keep-alive connections closed to make room for a new one at limits.max_connections."}),
	}
	for _, c := range []prometheus.Collector{m.limited, m.conns, m.connsRefused, m.connsEvicted} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *limitMetrics) refused(c class, limit string) {
	if m != nil {
		m.limited.WithLabelValues(classNames[c], limit).Inc()
	}
}

func (m *limitMetrics) connOpened() {
	if m != nil {
		m.conns.Inc()
	}
}

func (m *limitMetrics) connClosed() {
	if m != nil {
		m.conns.Dec()
	}
}

func (m *limitMetrics) connRefused(limit string) {
	if m != nil {
		m.connsRefused.WithLabelValues(limit).Inc()
	}
}

func (m *limitMetrics) connEvicted() {
	if m != nil {
		m.connsEvicted.Inc()
	}
}
