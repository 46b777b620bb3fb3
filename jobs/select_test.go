package jobs

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/internal/testprov"
	"github.com/mizani/reconcile/reports"
)

// TestRunSkipsProvidersWithoutASource: a run over every provider reconciles
// those with records in the window read, or a configured pull, and skips a
// provider that has only ledger entries — reporting its ledger as missing
// would be false — saying so in the warnings, the Summary and the run's
// record; --provider forces it.
func TestRunSkipsProvidersWithoutASource(t *testing.T) {
	t.Parallel()
	st, nairobi := storeWithRecords(t, `
		('kopokopo', 'payment', 'P-1', '', 'OJA', 'T1', 'KES', 100000, 'succeeded', 'Received', '2026-03-02 12:00+03', '', 'webhook')`)
	ctx := context.Background()
	if _, err := st.DB().ExecContext(ctx, `INSERT INTO ledger_entries (provider, reference, amount_minor, currency, status, occurred_at) VALUES
		('kopokopo', 'OJA', 100000, 'KES', 'paid', '2026-03-02 11:59+03'),
		('ikhokha', 'IK-1', 5000, 'ZAR', 'paid', '2026-03-02 10:00+03'),
		('kora', 'KO-1', 7000, 'NGN', 'paid', '2026-03-02 10:00+03')`); err != nil {
		t.Fatal(err)
	}
	day, err := reconcile.ParseWindow("2026-03-02", "2026-03-02", nairobi)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		providers   []reconcile.Provider
		configured  []reconcile.Provider
		missing     int
		skipped     []reconcile.Provider
		warningHas  string
		summaryRows int
	}{
		{"records decide", nil, nil, 0, []reconcile.Provider{testprov.IKhokha, testprov.Kora},
			"iKhokha: no provider records for 2026-03-02 to 2026-03-02 (1 ledger entries) and no pull configured, not reconciled; --provider ikhokha to force", 1},
		{"a configured pull is reconciled", nil, []reconcile.Provider{testprov.Kora}, 1, []reconcile.Provider{testprov.IKhokha}, "iKhokha:", 2},
		{"--provider forces", []reconcile.Provider{testprov.IKhokha}, nil, 1, nil, "", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := t.TempDir()
			res, err := Run(ctx, st, RunConfig{Window: day, Zone: nairobi, Formats: reports.FormatCSV | reports.FormatXLSX, OutDir: out,
				Providers: tt.providers, Configured: tt.configured})
			if err != nil {
				t.Fatal(err)
			}
			if got := res.ByKind[reconcile.MissingInProvider]; got != tt.missing {
				t.Errorf("%d missing_in_provider, want %d", got, tt.missing)
			}
			if !slices.Equal(res.Skipped, tt.skipped) {
				t.Errorf("skipped %v, want %v", res.Skipped, tt.skipped)
			}
			joined := strings.Join(res.Warnings, "\n")
			if tt.warningHas != "" && !strings.Contains(joined, tt.warningHas) {
				t.Errorf("warnings %q lack %q", joined, tt.warningHas)
			}
			if tt.warningHas == "" && joined != "" {
				t.Errorf("unexpected warnings %q", joined)
			}
			summary, err := os.ReadFile(filepath.Join(out, reports.SummaryFile))
			if err != nil {
				t.Fatal(err)
			}
			if rows := strings.Count(strings.TrimSpace(string(summary)), "\n"); rows != tt.summaryRows {
				t.Errorf("summary.csv has %d rows, want %d:\n%s", rows, tt.summaryRows, summary)
			}
		})
	}
	// The run's record keeps the warnings.
	var params string
	if err := st.DB().GetContext(ctx, &params, `SELECT params::text FROM runs WHERE job = 'run' ORDER BY id LIMIT 1`); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(params, "not reconciled") {
		t.Errorf("the run's recorded params do not hold the skip warning: %s", params)
	}
}
