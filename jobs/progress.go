package jobs

import (
	"iter"
	"log/slog"
	"time"
)

// meter tracks how far a run has read and reports it: to the Progress
// callback twice a second, and to the log every ten seconds.
type meter struct {
	ledger, records int64
	report          func(Progress)
	log             *slog.Logger
	lastShown       time.Time
	lastLogged      time.Time
}

func newMeter(report func(Progress), log *slog.Logger) *meter {
	now := time.Now()
	return &meter{report: report, log: log, lastShown: now, lastLogged: now}
}

// tick is called for every item read; it looks at the clock once in 4096.
func (m *meter) tick() {
	if (m.ledger+m.records)%4096 != 0 {
		return
	}
	now := time.Now()
	p := Progress{Ledger: m.ledger, Records: m.records}
	if m.report != nil && now.Sub(m.lastShown) >= 500*time.Millisecond {
		m.report(p)
		m.lastShown = now
	}
	if now.Sub(m.lastLogged) >= 10*time.Second {
		m.log.Info("progress", "ledger_read", p.Ledger, "records_read", p.Records)
		m.lastLogged = now
	}
}

// count increments *n and calls tick for every item seq yields. Both streams
// are consumed by the single matching goroutine, so no locking is needed.
func count[T any](seq iter.Seq2[T, error], n *int64, tick func()) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		for v, err := range seq {
			if err == nil {
				*n++
				tick()
			}
			if !yield(v, err) {
				return
			}
		}
	}
}
