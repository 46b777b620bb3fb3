package reports

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestDir(t *testing.T) {
	for _, c := range []struct {
		name    string
		formats Format
		files   []string
	}{
		{"csv and xlsx", FormatCSV | FormatXLSX, []string{DiscrepanciesFile, MatchesFile, WorkbookFile, SettlementsFile, SummaryFile}},
		{"csv", FormatCSV, []string{DiscrepanciesFile, MatchesFile, SettlementsFile, SummaryFile}},
		{"xlsx", FormatXLSX, []string{WorkbookFile}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			// An earlier run's reports, of every format, are replaced or removed.
			for _, f := range []string{DiscrepanciesFile, MatchesFile, WorkbookFile, SettlementsFile, SummaryFile} {
				if err := os.WriteFile(filepath.Join(dir, f), []byte("an earlier run"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			d, err := Create(dir, c.formats, testOptions())
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			for _, disc := range testDiscrepancies() {
				if err := d.WriteDiscrepancy(disc); err != nil {
					t.Fatal(err)
				}
			}
			for _, m := range testMatches() {
				if err := d.WriteMatch(m); err != nil {
					t.Fatal(err)
				}
			}
			if err := d.Finish(testSummary(), testSettlements()); err != nil {
				t.Fatal(err)
			}
			if err := d.Close(); err != nil {
				t.Fatal(err)
			}
			if got := dirNames(t, dir); !slices.Equal(got, c.files) {
				t.Fatalf("files = %q, want %q", got, c.files)
			}
			// Each file is exactly what the single-report writers produce.
			for _, f := range c.files {
				data, err := os.ReadFile(filepath.Join(dir, f))
				if err != nil {
					t.Fatal(err)
				}
				if f == WorkbookFile {
					data, f = dumpXLSX(t, data), "report.xlsx"
				}
				golden(t, f, data)
			}
		})
	}
}

// TestDirAbandoned: a run that fails before Finish leaves no files behind.
func TestDirAbandoned(t *testing.T) {
	dir := t.TempDir()
	d, err := Create(dir, FormatCSV|FormatXLSX, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	if err := d.WriteMatch(testMatches()[0]); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if got := dirNames(t, dir); len(got) != 0 {
		t.Errorf("files left behind: %q", got)
	}
}

func TestCreateErrors(t *testing.T) {
	if _, err := Create(t.TempDir(), 0, Options{}); err == nil {
		t.Error("Create with no format: no error")
	}
	if _, err := Create(filepath.Join(t.TempDir(), "missing"), FormatCSV, Options{}); err == nil {
		t.Error("Create in a missing directory: no error")
	}
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}
