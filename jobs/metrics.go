package jobs

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics exports what the scheduled jobs of `reconcile serve` did, for
// alerting on a nightly job that failed or did not run:
//
//	mizani_job_runs_total{job, outcome}                counter; outcome succeeded, failed or skipped
//	mizani_job_last_success_timestamp_seconds{job}     gauge; Unix time of the last success
//	mizani_job_last_duration_seconds{job}              gauge; how long the last run took
//
// A run skipped because another replica holds its lock counts as skipped.
type Metrics struct {
	runs        *prometheus.CounterVec
	lastSuccess *prometheus.GaugeVec
	duration    *prometheus.GaugeVec
}

// NewMetrics registers the job metrics with reg, with every series of the
// named jobs present (at zero) from the start.
func NewMetrics(reg prometheus.Registerer, jobs ...string) (*Metrics, error) {
	m := &Metrics{
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mizani_job_runs_total", Help: "Scheduled job runs by outcome (succeeded, failed, skipped: running elsewhere).",
		}, []string{"job", "outcome"}),
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "mizani_job_last_success_timestamp_seconds", Help: "Unix time the job last succeeded (0: not since start).",
		}, []string{"job"}),
		duration: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "mizani_job_last_duration_seconds", Help: "How long the job's last run took.",
		}, []string{"job"}),
	}
	for _, c := range []prometheus.Collector{m.runs, m.lastSuccess, m.duration} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	for _, job := range jobs {
		for _, outcome := range []string{"succeeded", "failed", "skipped"} {
			m.runs.WithLabelValues(job, outcome)
		}
		m.lastSuccess.WithLabelValues(job)
		m.duration.WithLabelValues(job)
	}
	return m, nil
}

// observe records one run of job that ended with err after elapsed.
func (m *Metrics) observe(job string, err error, end time.Time, elapsed time.Duration) {
	if m == nil {
		return
	}
	outcome := "succeeded"
	switch {
	case errors.Is(err, ErrLocked):
		outcome = "skipped"
	case err != nil:
		outcome = "failed"
	}
	m.runs.WithLabelValues(job, outcome).Inc()
	m.duration.WithLabelValues(job).Set(elapsed.Seconds())
	if err == nil {
		m.lastSuccess.WithLabelValues(job).Set(float64(end.Unix()))
	}
}
