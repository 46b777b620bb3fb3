package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/internal/testprov"
	"github.com/mizani/reconcile/reports"
	"github.com/mizani/reconcile/sources"
	"github.com/mizani/reconcile/sources/kopokopo"
	"github.com/mizani/reconcile/store"
	"github.com/mizani/reconcile/store/pgtest"
)

// nightlySetup starts a Kopo Kopo simulator over real HTTP and returns a
// nightly job pulling from it into a private store.
func nightlySetup(t *testing.T, clientSecret string) (*Nightly, *kopokopo.Simulator) {
	t.Helper()
	const id, secret = "nightly-client", "nightly-secret"
	sim := kopokopo.NewSimulator(kopokopo.SimConfig{Seed: 11, ClientID: id, ClientSecret: secret, APIKey: "k", PerHour: 2})
	srv := httptest.NewServer(sim)
	t.Cleanup(func() { sim.Close(); srv.Close() })
	client, err := kopokopo.New(kopokopo.Config{
		BaseURL: srv.URL, ClientID: id, ClientSecret: clientSecret, RateLimit: 1000, Burst: 10,
		PollInterval: time.Millisecond, Retry: sources.RetryPolicy{Base: time.Millisecond, Max: 10 * time.Millisecond, MaxRetries: 2},
	})
	if err != nil {
		t.Fatal(err)
	}
	p := kopokopo.Puller{Client: client}
	nairobi, err := time.LoadLocation("Africa/Nairobi")
	if err != nil {
		t.Fatal(err)
	}
	st := store.New(pgtest.New(t))
	return &Nightly{
		Store: st,
		Pulls: []ProviderPull{{Provider: testprov.KopoKopo,
			History: &sources.PullJob{Provider: testprov.KopoKopo, Scope: p.Scope(), Puller: p, Workers: 2}}},
		Run:     RunConfig{Zone: nairobi, Formats: reports.FormatCSV, PerCompany: []reconcile.Provider{testprov.KopoKopo}},
		OutRoot: t.TempDir(),
		Now:     func() time.Time { return time.Date(2026, 3, 10, 2, 0, 0, 0, nairobi) },
	}, sim
}

func TestNightlyPullsThenRunsTheDay(t *testing.T) {
	t.Parallel()
	n, sim := nightlySetup(t, "nightly-secret")
	ctx := context.Background()
	day := Yesterday(n.Now(), n.Run.Zone)
	if got := day.Format(time.DateOnly); got != "2026-03-09" {
		t.Fatalf("Yesterday = %s, want 2026-03-09", got)
	}
	res, err := n.RunDay(ctx, day)
	if err != nil {
		t.Fatalf("RunDay: %v", err)
	}

	// The pull covered the day and the look-around before it, but not the
	// future: from 2026-03-08 00:00 to now (2026-03-10 02:00), Nairobi time.
	pulled := reconcile.Window{From: day.AddDate(0, 0, -1).UTC(), To: n.Now().UTC()}
	want := len(sim.Transactions(pulled, ""))
	var stored int
	if err := n.Store.DB().Get(&stored, `SELECT count(DISTINCT tx_id) FROM provider_records WHERE kind = 'payment'`); err != nil {
		t.Fatal(err)
	}
	if want == 0 || stored != want {
		t.Errorf("stored %d payments, the simulator has %d in %s", stored, want, pulled)
	}

	// Every record of the day is reported (no ledger: all missing_in_ledger or reversed).
	inDay := len(sim.Transactions(reconcile.Window{From: day.UTC(), To: day.AddDate(0, 0, 1).UTC()}, ""))
	if res.Stats.Records < inDay {
		t.Errorf("run saw %d records, the day has %d transactions", res.Stats.Records, inDay)
	}
	if res.OutDir != filepath.Join(n.OutRoot, "2026-03-09") {
		t.Errorf("OutDir = %s", res.OutDir)
	}
	if _, err := os.Stat(filepath.Join(res.OutDir, reports.DiscrepanciesFile)); err != nil {
		t.Errorf("no discrepancies report: %v", err)
	}

	// The pull and the run are both in the run history.
	var jobs []string
	if err := n.Store.DB().Select(&jobs, `SELECT job || ':' || outcome FROM runs ORDER BY id`); err != nil {
		t.Fatal(err)
	}
	if strings.Join(jobs, ",") != "pull:succeeded,run:succeeded" {
		t.Errorf("run history = %v, want pull then run, both succeeded", jobs)
	}
	// The run records what shaped its reports, and counts every
	// discrepancy it reported.
	var tolerance, rounding string
	var recorded int
	if err := n.Store.DB().QueryRow(`SELECT params->>'tolerance', params->>'rounding', (counts->'stats'->>'Discrepancies')::int
		FROM runs WHERE job = 'run'`).Scan(&tolerance, &rounding, &recorded); err != nil {
		t.Fatal(err)
	}
	if tolerance != "30m0s" || rounding != string(reconcile.DefaultRounding) || recorded != res.Discrepancies() {
		t.Errorf("recorded tolerance %q, rounding %q, %d discrepancies; want 30m0s, %s, %d",
			tolerance, rounding, recorded, reconcile.DefaultRounding, res.Discrepancies())
	}
}

func TestNightlyRunsDespiteFailedPull(t *testing.T) {
	t.Parallel()
	n, _ := nightlySetup(t, "wrong-secret")
	res, err := n.RunDay(context.Background(), Yesterday(n.Now(), n.Run.Zone))
	if err == nil || !strings.Contains(err.Error(), "pull kopokopo") {
		t.Fatalf("RunDay error = %v, want the failed pull", err)
	}
	if strings.Contains(err.Error(), "wrong-secret") {
		t.Errorf("error leaks the client secret: %v", err)
	}
	if res.RunID == 0 {
		t.Error("the run did not go ahead after the failed pull")
	}
	var history []string
	if err := n.Store.DB().Select(&history, `SELECT job || ':' || outcome FROM runs ORDER BY id`); err != nil {
		t.Fatal(err)
	}
	if strings.Join(history, ",") != "pull:failed,run:succeeded" {
		t.Errorf("run history = %v, want a failed pull then a run", history)
	}
	// The report says the provider's side may be incomplete.
	var warning string
	if err := n.Store.DB().Get(&warning, `SELECT params->'warnings'->>0 FROM runs WHERE job = 'run'`); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(warning, "Kopo Kopo was not pulled for this day") || strings.Contains(warning, "wrong-secret") {
		t.Errorf("run warning = %q, want the failed pull named, without the secret", warning)
	}
}

func TestNightlyRefusesADayRunningElsewhere(t *testing.T) {
	t.Parallel()
	n, _ := nightlySetup(t, "nightly-secret")
	ctx := context.Background()
	day := Yesterday(n.Now(), n.Run.Zone)
	unlock, ok, err := n.Store.TryLock(ctx, NightlyJobName+":"+day.Format(time.DateOnly)+":"+n.Run.Zone.String())
	if err != nil || !ok {
		t.Fatalf("taking the day's lock: %v, %v", ok, err)
	}
	defer unlock()
	if _, err := n.RunDay(ctx, day); !errors.Is(err, ErrLocked) {
		t.Fatalf("RunDay while another holds the day: %v, want ErrLocked", err)
	}
	var runs int
	if err := n.Store.DB().Get(&runs, `SELECT count(*) FROM runs`); err != nil {
		t.Fatal(err)
	}
	if runs != 0 {
		t.Errorf("%d runs recorded, want none: the day is another's", runs)
	}
}

func TestSchedulerMetrics(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	m, err := NewMetrics(reg, "nightly")
	if err != nil {
		t.Fatal(err)
	}
	end := time.Unix(1_773_000_000, 0)
	m.observe("nightly", nil, end, 3*time.Second)
	m.observe("nightly", fmt.Errorf("pull: %w", errors.New("down")), end.Add(time.Hour), time.Second)
	m.observe("nightly", ErrLocked, end.Add(2*time.Hour), time.Millisecond)
	tests := []struct {
		name string
		got  float64
		want float64
	}{
		{"succeeded", testutil.ToFloat64(m.runs.WithLabelValues("nightly", "succeeded")), 1},
		{"failed", testutil.ToFloat64(m.runs.WithLabelValues("nightly", "failed")), 1},
		{"skipped", testutil.ToFloat64(m.runs.WithLabelValues("nightly", "skipped")), 1},
		{"last success", testutil.ToFloat64(m.lastSuccess.WithLabelValues("nightly")), float64(end.Unix())},
		{"last duration", testutil.ToFloat64(m.duration.WithLabelValues("nightly")), 0.001},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s = %v, want %v", tt.name, tt.got, tt.want)
		}
	}
	var nilMetrics *Metrics
	nilMetrics.observe("nightly", nil, end, time.Second) // no metrics configured: no panic
}

func TestSchedulerSkipsWhileRunningAndStopWaits(t *testing.T) {
	t.Parallel()
	var calls, finished atomic.Int32
	release := make(chan struct{})
	s, err := NewScheduler(context.Background(), "@every 1s", time.UTC, discardLogger(), nil, "test", func(context.Context) error {
		if calls.Add(1) == 1 {
			<-release
		}
		finished.Add(1)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	time.Sleep(2500 * time.Millisecond) // two ticks: the second finds the first still running
	if got := calls.Load(); got != 1 {
		t.Errorf("job started %d times while the first was running, want 1", got)
	}
	close(release)
	s.Stop()
	if calls.Load() != finished.Load() {
		t.Errorf("Stop returned with a job still running (%d started, %d finished)", calls.Load(), finished.Load())
	}
}

func TestSchedulerSpec(t *testing.T) {
	t.Parallel()
	nairobi, err := time.LoadLocation("Africa/Nairobi")
	if err != nil {
		t.Fatal(err)
	}
	job := func(context.Context) error { return nil }
	if _, err := NewScheduler(context.Background(), "not a schedule", nairobi, discardLogger(), nil, "x", job); err == nil {
		t.Error("a bad spec was accepted")
	}
	s, err := NewScheduler(context.Background(), "CRON_TZ=Africa/Nairobi 0 2 * * *", time.UTC, discardLogger(), nil, "x", job)
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	defer s.Stop()
	if next := s.Next().In(nairobi); next.Hour() != 2 || next.Minute() != 0 {
		t.Errorf("next run %s, want 02:00 Nairobi", next)
	}
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

func TestPullRefusesWhileTheSameWindowIsPulled(t *testing.T) {
	t.Parallel()
	n, _ := nightlySetup(t, "nightly-secret")
	ctx := context.Background()
	job := *n.Pulls[0].History
	job.Sink, job.Checkpoints = n.Store, n.Store
	w := reconcile.Window{From: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)}
	unlock, ok, err := n.Store.TryLock(ctx, PullJobName+":"+string(job.Provider)+":"+job.Scope+":"+w.String())
	if err != nil || !ok {
		t.Fatalf("taking the pull lock: %v, %v", ok, err)
	}
	if _, err := Pull(ctx, n.Store, job, w); !errors.Is(err, ErrLocked) {
		t.Fatalf("Pull while another holds the window: %v, want ErrLocked", err)
	}
	unlock()
	stats, err := Pull(ctx, n.Store, job, w)
	if err != nil || stats.Chunks == 0 {
		t.Fatalf("Pull after the lock was released: %+v, %v", stats, err)
	}
	var history []string
	if err := n.Store.DB().Select(&history, `SELECT job || ':' || outcome FROM runs ORDER BY id`); err != nil {
		t.Fatal(err)
	}
	if strings.Join(history, ",") != "pull:succeeded" {
		t.Errorf("run history = %v, want the one pull that ran", history)
	}
}
