package demo

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/fixtures"
	"github.com/mizani/reconcile/reports"
	"github.com/mizani/reconcile/sources"
	_ "github.com/mizani/reconcile/sources/providers"
	"github.com/mizani/reconcile/store"
	"github.com/mizani/reconcile/store/pgtest"
)

// TestDemo runs the demo twice on one store, as `reconcile demo` does after
// choosing it: every planted discrepancy of every provider is reported with
// its kind and references and nothing else, the reports are written, the
// second run's CSVs are byte for byte the first's, and the formula
// reference is neutralized.
func TestDemo(t *testing.T) {
	t.Parallel()
	st := store.New(pgtest.New(t))
	run := func(out string) Result {
		var buf bytes.Buffer
		res, err := Run(context.Background(), Config{Store: st, Fixtures: fixtures.FS, Out: out, Progress: &buf})
		if err != nil {
			t.Fatalf("demo.Run: %v\n%s", err, buf.String())
		}
		if !res.OK() {
			t.Fatalf("planted %d; missed %q; unexpected %q\n%s", res.Planted, res.Missed, res.Unexpected, buf.String())
		}
		return res
	}
	dir := t.TempDir()
	first, second := filepath.Join(dir, "first"), filepath.Join(dir, "second")
	res := run(first)
	run(second)

	var planted []map[string]string
	for _, reg := range sources.Registered() {
		if _, err := fs.Stat(fixtures.FS, string(reg.Name)+"/planted.csv"); err == nil {
			planted = append(planted, readCSV(t, fixtures.FS, string(reg.Name)+"/planted.csv")...)
		}
	}
	if res.Planted != len(planted) {
		t.Errorf("demo counted %d planted discrepancies, the files hold %d", res.Planted, len(planted))
	}
	kinds := map[string]bool{}
	for _, p := range planted {
		kinds[p["kind"]] = true
	}
	for _, k := range reconcile.DiscrepancyKinds {
		if !kinds[string(k)] {
			t.Errorf("no %s discrepancy is planted", k)
		}
	}

	// Independently of the demo's own check: one report row per planted row,
	// with its kind and ledger reference.
	got := readCSV(t, os.DirFS(first), reports.DiscrepanciesFile)
	if len(got) != len(planted) {
		t.Errorf("%d discrepancies reported, %d planted", len(got), len(planted))
	}
	for _, p := range planted {
		if !slices.ContainsFunc(got, func(g map[string]string) bool {
			return g["kind"] == p["kind"] && g["provider"] == p["provider"] && g["ledger_reference"] == neutralized(p["ledger_reference"])
		}) {
			t.Errorf("planted %s %s %q not reported", p["provider"], p["kind"], p["ledger_reference"])
		}
	}

	raw, err := os.ReadFile(filepath.Join(first, reports.DiscrepanciesFile))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(raw, []byte(`"'=HYPERLINK(""http://x"",""y"")"`)) || bytes.Contains(raw, []byte(`,"=HYPERLINK`)) {
		t.Errorf("the =HYPERLINK reference is not neutralized in %s:\n%s", reports.DiscrepanciesFile, raw)
	}
	for _, name := range []string{reports.DiscrepanciesFile, reports.MatchesFile, reports.SummaryFile, reports.SettlementsFile} {
		a, errA := os.ReadFile(filepath.Join(first, name))
		b, errB := os.ReadFile(filepath.Join(second, name))
		if errA != nil || errB != nil || !bytes.Equal(a, b) || len(a) == 0 {
			t.Errorf("%s differs between two demos (or is missing: %v, %v)", name, errA, errB)
		}
	}
	if fi, err := os.Stat(filepath.Join(first, reports.WorkbookFile)); err != nil || fi.Size() == 0 {
		t.Errorf("%s not written: %v", reports.WorkbookFile, err)
	}
	if strings.Contains(string(raw), "not reconciled") {
		t.Errorf("the demo skipped a provider:\n%s", raw)
	}
}

// TestCompare: a planted discrepancy the report lacks, and a reported one
// not planted, are both named; provider references compare as sets.
func TestCompare(t *testing.T) {
	t.Parallel()
	planted := []byte("kind,provider,ledger_reference,provider_reference,what\n" +
		"reversed,kopokopo,A1,A1,x\n" +
		"missing_in_provider,kopokopo,POS-1,C2;C1,tie\n" +
		"missing_in_provider,kopokopo,=1+1,,formula\n" +
		"amount_mismatch,kopokopo,B1,B1,x\n")
	report := filepath.Join(t.TempDir(), "discrepancies.csv")
	os.WriteFile(report, []byte("kind,provider,ledger_reference,provider_reference\n"+
		"reversed,kopokopo,A1,A1;A1\n"+
		"missing_in_provider,kopokopo,POS-1,C1;C2\n"+
		"missing_in_provider,kopokopo,'=1+1,\n"+
		"status_mismatch,kopokopo,B1,B1\n"), 0o644)
	res, err := compare(planted, report)
	if err != nil {
		t.Fatal(err)
	}
	if res.Planted != 4 || res.OK() ||
		!slices.Equal(res.Missed, []string{"amount_mismatch kopokopo B1 B1"}) ||
		!slices.Equal(res.Unexpected, []string{"status_mismatch kopokopo B1 B1"}) {
		t.Errorf("compare = %+v", res)
	}
}

// TestPlantedRows: the providers' planted.csv files are joined under one header.
func TestPlantedRows(t *testing.T) {
	t.Parallel()
	fsys := fstest.MapFS{
		"a/planted.csv": {Data: []byte("kind,provider,ledger_reference,provider_reference,what\nreversed,a,A1,A1,x\n")},
		"b/planted.csv": {Data: []byte("kind,provider,ledger_reference,provider_reference,what\nreversed,b,B1,B1,y")},
	}
	got, err := plantedRows(fsys, []*sources.Provider{{Name: "a"}, {Name: "missing"}, {Name: "b"}})
	if err != nil {
		t.Fatal(err)
	}
	want := "kind,provider,ledger_reference,provider_reference,what\nreversed,a,A1,A1,x\nreversed,b,B1,B1,y\n"
	if string(got) != want {
		t.Errorf("plantedRows = %q, want %q", got, want)
	}
}

// TestRecreateSchema: with DATABASE_URL the demo works in a schema of its
// own, emptied each time.
func TestRecreateSchema(t *testing.T) {
	t.Parallel()
	base := pgtest.URL(t)
	schema := "demo_" + strings.ToLower(strings.ReplaceAll(t.Name(), "/", "_"))
	ctx := context.Background()
	t.Cleanup(func() { execOn(context.Background(), base, "DROP SCHEMA IF EXISTS "+quoted(schema)+" CASCADE") })
	for range 2 {
		u, err := recreateSchema(ctx, base, schema)
		if err != nil {
			t.Fatal(err)
		}
		db, err := sql.Open("postgres", u)
		if err != nil {
			t.Fatal(err)
		}
		var current string
		var tables int
		err = db.QueryRow(`SELECT current_schema(), (SELECT count(*) FROM pg_tables WHERE schemaname = current_schema())`).Scan(&current, &tables)
		if err == nil {
			_, err = db.Exec(`CREATE TABLE leftover (id int)`)
		}
		db.Close()
		if err != nil || current != schema || tables != 0 {
			t.Fatalf("schema %q with %d tables, %v; want %q, empty", current, tables, err, schema)
		}
	}
	if _, err := recreateSchema(ctx, "host=localhost user=postgres", schema); err == nil {
		t.Error("a key=value DSN was accepted; want a postgres:// URL")
	}
}

// readCSV reads name from fsys as one map per row, keyed by the header.
func readCSV(t *testing.T, fsys fs.FS, name string) []map[string]string {
	t.Helper()
	b, err := fs.ReadFile(fsys, name)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil || len(rows) == 0 {
		t.Fatalf("reading %s: %v", name, err)
	}
	var out []map[string]string
	for _, r := range rows[1:] {
		m := map[string]string{}
		for i, h := range rows[0] {
			m[h] = r[i]
		}
		out = append(out, m)
	}
	return out
}
