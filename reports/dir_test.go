package reports

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
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

// TestRemoveLeftovers: Create removes what killed runs left in the output
// directory (their work directories, and the hidden temporary reports of
// earlier versions), and nothing else: not a live run's work directory, not
// files that only look alike.
func TestRemoveLeftovers(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	leftovers := []string{
		".discrepancies.csv.2961234.tmp", ".matches.csv.1.tmp", ".report.xlsx.88.tmp",
		".settlements.csv.3.tmp", ".summary.csv.4.tmp",
		".reports.123.tmp/matches.csv", ".reports.123.tmp/excelize-4567", ".reports.9.tmp/deep/excelize-1",
	}
	kept := []string{
		".foo.csv.1.tmp", ".matches.csv.x1.tmp", ".matches.csv.1.tmp.bak", "matches.csv.1.tmp",
		".reports.abc.tmp/x", "notes.txt", ".discrepancies.csv.tmp",
	}
	for _, name := range append(slices.Clone(leftovers), kept...) {
		write(name)
	}
	// A live run in the same directory.
	live, err := Create(dir, FormatCSV|FormatXLSX, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	liveWork := filepath.Base(live.work.path)

	d, err := Create(dir, FormatCSV, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range leftovers {
		if _, err := os.Stat(filepath.Join(dir, name)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("leftover %s not removed (%v)", name, err)
		}
	}
	for _, name := range append(kept, liveWork) {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("%s was removed: %v", name, err)
		}
	}
	// The live run is unharmed: it publishes, and so does the new one.
	for _, r := range []*Dir{live, d} {
		if err := r.WriteMatch(testMatches()[0]); err != nil {
			t.Fatal(err)
		}
		if err := r.Finish(testSummary(), testSettlements()); err != nil {
			t.Fatal(err)
		}
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
	}
	got := dirNames(t, dir)
	want := []string{".discrepancies.csv.tmp", ".foo.csv.1.tmp", ".matches.csv.1.tmp.bak", ".matches.csv.x1.tmp", ".reports.abc.tmp",
		DiscrepanciesFile, MatchesFile, "matches.csv.1.tmp", "notes.txt", SettlementsFile, SummaryFile}
	if !slices.Equal(got, want) {
		t.Errorf("after both runs: %q, want %q", got, want)
	}
}

// killedRunEnv makes the test binary the run TestKilledRunLeavesNothing
// kills: it writes reports into the directory the variable names, says
// "ready" on stdout, and waits to be killed.
const killedRunEnv = "MIZANI_TEST_KILLED_RUN_OUT"

// TestKilledRunLeavesNothing: a run killed with SIGKILL mid-write leaves its
// temporary reports and excelize's spilled rows in its work directory under
// --out (none in the system temporary directory); the next run removes them.
func TestKilledRunLeavesNothing(t *testing.T) {
	if out := os.Getenv(killedRunEnv); out != "" {
		killedRun(out)
		return
	}
	t.Parallel()
	out, tmp := t.TempDir(), t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestKilledRunLeavesNothing$")
	cmd.Env = append(os.Environ(), killedRunEnv+"="+out, "TMPDIR="+tmp)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "ready\n" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("the run said %q (%v), want ready", line, err)
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	cmd.Wait()

	// What the killed run left: one work directory, holding its reports and
	// excelize's temporary files; nothing in TMPDIR.
	left := dirNames(t, out)
	if len(left) != 1 || !isWorkDir(left[0]) {
		t.Fatalf("the killed run left %q, want one work directory", left)
	}
	inside := dirNames(t, filepath.Join(out, left[0]))
	if !slices.Contains(inside, MatchesFile) || !slices.ContainsFunc(inside, func(n string) bool { return strings.HasPrefix(n, "excelize-") }) {
		t.Errorf("the work directory holds %q, want matches.csv and excelize's temporary files", inside)
	}
	if got := dirNames(t, tmp); len(got) != 0 {
		t.Errorf("the killed run left %q in TMPDIR", got)
	}

	d, err := Create(out, FormatCSV|FormatXLSX, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Finish(testSummary(), testSettlements()); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	want := []string{DiscrepanciesFile, MatchesFile, WorkbookFile, SettlementsFile, SummaryFile}
	if got := dirNames(t, out); !slices.Equal(got, want) {
		t.Errorf("after the next run: %q, want %q", got, want)
	}
}

// killedRun is the run TestKilledRunLeavesNothing kills: enough matches
// that excelize spills the sheet to a temporary file.
func killedRun(out string) {
	d, err := Create(out, FormatCSV|FormatXLSX, testOptions())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	m := testMatches()[0]
	for i := 0; ; i++ {
		m.Ledger.Reference = fmt.Sprintf("ORD-%07d", i)
		if err := d.WriteMatch(m); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		if i%1000 == 0 && hasExcelizeTemp(d.work.path) {
			break
		}
	}
	fmt.Println("ready")
	time.Sleep(time.Minute) // until killed
	os.Exit(1)
}

func hasExcelizeTemp(dir string) bool {
	entries, _ := os.ReadDir(dir)
	return slices.ContainsFunc(entries, func(e os.DirEntry) bool { return strings.HasPrefix(e.Name(), "excelize-") })
}
