package gateway

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the gateway's Prometheus collectors.
type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	bytesOut *prometheus.CounterVec
	rejected *prometheus.CounterVec
	cache    *prometheus.CounterVec
	stores   *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "walrus_gateway_http_requests_total",
			Help: "HTTP requests by route and status code."}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "walrus_gateway_http_request_duration_seconds",
			Help: "Time to answer requests, by route.", Buckets: prometheus.ExponentialBuckets(0.0005, 4, 11)}, []string{"route"}),
		bytesOut: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "walrus_gateway_http_response_bytes_total",
			Help: "Response body bytes sent, by route."}, []string{"route"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "walrus_gateway_rejected_requests_total",
			Help: "Requests refused with 429 over the concurrency limits, by role."}, []string{"role"}),
		cache: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "walrus_gateway_cache_lookups_total",
			Help: "Lookups in the caches of decoded blobs, patches and quilt indexes, by cache and result."}, []string{"cache", "result"}),
		stores: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "walrus_gateway_store_duration_seconds",
			Help: "Time to store a blob or quilt, by kind and result.", Buckets: prometheus.ExponentialBuckets(0.05, 2, 12)}, []string{"kind", "result"}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.duration, m.bytesOut, m.rejected, m.cache, m.stores} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *metrics) observe(route string, code int, d time.Duration, out int64) {
	m.requests.WithLabelValues(route, strconv.Itoa(code)).Inc()
	m.duration.WithLabelValues(route).Observe(d.Seconds())
	m.bytesOut.WithLabelValues(route).Add(float64(out))
}

func (m *metrics) lookup(cache string, hit bool) {
	r := "miss"
	if hit {
		r = "hit"
	}
	m.cache.WithLabelValues(cache, r).Inc()
}
