package nodeapi

import (
	"net/http"
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
	batchSize prometheus.Histogram // slivers per accepted batch
	verify    prometheus.Histogram // seconds to verify a batch's frames
	inFlight  prometheus.Gauge     // upload body bytes held
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
		batchSize: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "walrus_node_sliver_batch_slivers",
			Help: "Slivers per sliver batch whose frames all verified.", Buckets: prometheus.ExponentialBuckets(1, 2, 12)}),
		verify: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "walrus_node_sliver_batch_verify_seconds",
			Help:    "Time from handing a sliver batch's first frame to the verifiers to its last frame verified, for batches whose frames all verified (overlaps reading the body).",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 10)}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{Name: "walrus_node_upload_bytes_in_flight",
			Help: "Bytes of sliver upload bodies (batches and single slivers) the node holds, bounded by max_upload_bytes_in_flight."}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.duration, m.bytesIn, m.bytesOut, m.batchSize, m.verify, m.inFlight} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// observe counts one request; it is the server's httpx.Observer.
func (m *metrics) observe(_ *http.Request, route string, code int, d time.Duration, in, out int64) {
	if !m.observing {
		return
	}
	m.requests.WithLabelValues(route, strconv.Itoa(code)).Inc()
	m.duration.WithLabelValues(route).Observe(d.Seconds())
	m.bytesIn.WithLabelValues(route).Add(float64(in))
	m.bytesOut.WithLabelValues(route).Add(float64(out))
}

func (m *metrics) uploadBytes(delta int64) {
	if m.observing {
		m.inFlight.Add(float64(delta))
	}
}

func (m *metrics) batch(slivers int, verify time.Duration) {
	if m.observing {
		m.batchSize.Observe(float64(slivers))
		m.verify.Observe(verify.Seconds())
	}
}
