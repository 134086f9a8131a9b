package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are the broker's Prometheus metrics. A nil *Metrics records
// nothing.
type Metrics struct {
	handler   http.Handler
	requests  *prometheus.CounterVec
	duration  *prometheus.HistogramVec
	decisions *prometheus.CounterVec
	cacheHits *prometheus.CounterVec
	upstream  prometheus.Histogram
	upErrors  prometheus.Counter
	auditLat  prometheus.Histogram
	auditErrs prometheus.Counter
}

// NewMetrics registers the metrics in a new registry, with the Go runtime
// and process collectors.
func NewMetrics() *Metrics {
	reg := prometheus.NewRegistry()
	buckets := []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "steward_http_requests_total", Help: "HTTP requests by route and status code.",
		}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "steward_http_request_duration_seconds", Help: "HTTP request duration by route.", Buckets: buckets,
		}, []string{"route"}),
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "steward_broker_decisions_total", Help: "Token decisions by outcome (allowed, denied, error, audit_failed).",
		}, []string{"outcome"}),
		cacheHits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "steward_broker_cache_requests_total", Help: "Granted tokens by cache result (hit, miss).",
		}, []string{"result"}),
		upstream: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "steward_broker_upstream_exchange_duration_seconds", Help: "Duration of client-credentials exchanges with Salesforce, retries included.", Buckets: buckets,
		}),
		upErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "steward_broker_upstream_exchange_errors_total", Help: "Failed client-credentials exchanges with Salesforce.",
		}),
		auditLat: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "steward_audit_append_duration_seconds", Help: "Time for an audit record to become durable.", Buckets: buckets,
		}),
		auditErrs: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "steward_audit_append_errors_total", Help: "Audit appends that failed (the operation was refused).",
		}),
	}
	reg.MustRegister(m.requests, m.duration, m.decisions, m.cacheHits, m.upstream, m.upErrors, m.auditLat, m.auditErrs,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.handler = promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	return m
}

// Exchange records one upstream exchange; pass it as the exchanger's
// OnExchange.
func (m *Metrics) Exchange(d time.Duration, err error) {
	if m == nil {
		return
	}
	m.upstream.Observe(d.Seconds())
	if err != nil {
		m.upErrors.Inc()
	}
}

func (m *Metrics) request(route string, code int, d time.Duration) {
	if m == nil {
		return
	}
	m.requests.WithLabelValues(route, strconv.Itoa(code)).Inc()
	m.duration.WithLabelValues(route).Observe(d.Seconds())
}

func (m *Metrics) decision(outcome string) {
	if m != nil {
		m.decisions.WithLabelValues(outcome).Inc()
	}
}

func (m *Metrics) cache(hit bool) {
	if m == nil {
		return
	}
	if hit {
		m.cacheHits.WithLabelValues("hit").Inc()
	} else {
		m.cacheHits.WithLabelValues("miss").Inc()
	}
}

func (m *Metrics) auditDone(d time.Duration, err error) {
	if m == nil {
		return
	}
	m.auditLat.Observe(d.Seconds())
	if err != nil {
		m.auditErrs.Inc()
	}
}
