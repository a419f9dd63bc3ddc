package nodeapi

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the server's Prometheus collectors (nil when not registered).
type metrics struct {
	requests  *prometheus.CounterVec
	duration  *prometheus.HistogramVec
	bytesIn   *prometheus.CounterVec
	bytesOut  *prometheus.CounterVec
	observing bool
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	if reg == nil {
		return &metrics{}, nil
	}
	m := &metrics{observing: true,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "walrus_node_http_requests_total",
			Help: "HTTP requests to the node API by route and status code."}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "walrus_node_http_request_duration_seconds",
			Help: "Time to answer node API requests.", Buckets: prometheus.ExponentialBuckets(0.0005, 4, 10)}, []string{"route"}),
		bytesIn: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "walrus_node_http_request_bytes_total",
			Help: "Request body bytes received by route."}, []string{"route"}),
		bytesOut: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "walrus_node_http_response_bytes_total",
			Help: "Response body bytes sent by route."}, []string{"route"}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.duration, m.bytesIn, m.bytesOut} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *metrics) observe(route string, code int, d time.Duration, in, out int64) {
	if !m.observing {
		return
	}
	m.requests.WithLabelValues(route, strconv.Itoa(code)).Inc()
	m.duration.WithLabelValues(route).Observe(d.Seconds())
	m.bytesIn.WithLabelValues(route).Add(float64(in))
	m.bytesOut.WithLabelValues(route).Add(float64(out))
}
