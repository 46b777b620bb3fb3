package main

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/internal/testprov"
	"github.com/mizani/reconcile/jobs"
	"github.com/mizani/reconcile/matchers"
	"github.com/mizani/reconcile/reports"
)

func nairobiWeek(t *testing.T) jobs.RunConfig {
	t.Helper()
	zone, err := time.LoadLocation("Africa/Nairobi")
	if err != nil {
		t.Fatal(err)
	}
	w, err := reconcile.ParseWindow("2026-03-02", "2026-03-08", zone)
	if err != nil {
		t.Fatal(err)
	}
	return jobs.RunConfig{Window: w, Zone: zone, OutDir: "out"}
}

// TestPrintRunSummary: the closing summary is in words and business-zone
// dates, and ties every provider and currency out.
func TestPrintRunSummary(t *testing.T) {
	cfg := nairobiWeek(t)
	line := reconcile.SummaryLine{Provider: testprov.KopoKopo, Currency: "KES", LedgerCount: 1200, LedgerTotal: 81953007,
		ProviderCount: 1300, ProviderTotal: 81135957, DiscrepancyTotal: -817050, DiscrepancyCount: 3}
	res := jobs.RunResult{RunID: 7, Stats: matchers.Stats{Ledger: 1200, Records: 1300, Matches: 1197, Quiet: 100},
		ByKind:  map[reconcile.DiscrepancyKind]int{reconcile.MissingInProvider: 2, reconcile.DuplicatePayment: 1},
		Summary: []reconcile.SummaryLine{line}, Files: []string{"summary.csv"}}
	var b bytes.Buffer
	printRunSummary(&b, cfg, res)
	got := b.String()
	for _, want := range []string{
		"Run 7: 2 March 2026 to 8 March 2026 (Africa/Nairobi)",
		"1,200 ledger entries and 1,300 provider records: 1,197 matched, 3 discrepancies",
		"Missing at provider  2",
		"Duplicate payment    1",
		"Kopo Kopo, KES:  ledger 819,530.07 KES  + differences -8,170.50 KES  = provider 811,359.57 KES  (unexplained 0.00)",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("summary lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, reports.EmptyNotice) {
		t.Errorf("a run with data says it is empty:\n%s", got)
	}
}

// TestEmptyRunSays: a run whose window holds nothing says so on stderr and
// in the printed summary.
func TestEmptyRunSays(t *testing.T) {
	cfg := nairobiWeek(t)
	var out, errOut bytes.Buffer
	res := jobs.RunResult{RunID: 8, ByKind: map[reconcile.DiscrepancyKind]int{}}
	warnIfEmpty(&errOut, res)
	printRunSummary(&out, cfg, res)
	if !strings.Contains(errOut.String(), "WARNING: Nothing to reconcile") {
		t.Errorf("stderr = %q, want the empty-window warning", errOut.String())
	}
	if !strings.Contains(out.String(), reports.EmptyNotice) {
		t.Errorf("summary = %q, want the empty-window notice", out.String())
	}
	res.Stats.Ledger = 1
	errOut.Reset()
	if warnIfEmpty(&errOut, res); errOut.Len() != 0 {
		t.Errorf("a run that read a ledger entry warned %q", errOut.String())
	}
}

// TestProgressKeepsLogLinesApart: on a terminal a log line clears the
// progress line, is written on a line of its own, and the progress line is
// drawn again after it.
func TestProgressKeepsLogLinesApart(t *testing.T) {
	var b bytes.Buffer
	p := &progress{w: &b, on: true}
	p.describe(nairobiWeek(t))
	log := p.logger(slog.New(slog.NewTextHandler(&b, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	})))
	p.update(jobs.Progress{Ledger: 1500, Records: 2})
	log.Info("matching", "window", "w")
	p.update(jobs.Progress{Ledger: 3000, Records: 4000})
	p.done()
	clear := "\r\033[K"
	line := func(l, r string) string {
		return clear + "Reconciling 2 March 2026 to 8 March 2026 (Africa/Nairobi): read " + l + " and " + r + "…"
	}
	want := line("1,500 ledger entries", "2 provider records") + clear + "level=INFO msg=matching window=w\n" +
		line("1,500 ledger entries", "2 provider records") + line("3,000 ledger entries", "4,000 provider records") + clear
	if got := b.String(); got != want {
		t.Errorf("terminal output\n got %q\nwant %q", got, want)
	}
	// Off a terminal, the logger is the one given and progress is silent.
	var q bytes.Buffer
	off := newProgress(&q)
	l := slog.New(slog.NewJSONHandler(&q, nil))
	if off.logger(l) != l {
		t.Error("off a terminal the logger was wrapped")
	}
	off.update(jobs.Progress{Ledger: 1})
	if q.Len() != 0 {
		t.Errorf("progress off a terminal wrote %q", q.String())
	}
}
