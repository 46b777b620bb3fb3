package reports

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/mizani/reconcile"
)

// Format selects the files Create writes.
type Format uint8

// Formats, combined with |: FormatCSV|FormatXLSX writes everything.
const (
	// FormatCSV writes discrepancies.csv, matches.csv, summary.csv and settlements.csv.
	FormatCSV Format = 1 << iota
	// FormatXLSX writes report.xlsx.
	FormatXLSX
)

// Files are the names of the reports the formats f select, in SPEC §11's
// order.
func (f Format) Files() []string {
	var files []string
	if f&FormatCSV != 0 {
		files = append(files, DiscrepanciesFile, MatchesFile, SummaryFile, SettlementsFile)
	}
	if f&FormatXLSX != 0 {
		files = append(files, WorkbookFile)
	}
	return files
}

// File names written by Create (SPEC §11).
const (
	DiscrepanciesFile = "discrepancies.csv"
	MatchesFile       = "matches.csv"
	SummaryFile       = "summary.csv"
	SettlementsFile   = "settlements.csv"
	WorkbookFile      = "report.xlsx"
)

// Dir writes every report of a run into one directory, as `reconcile run
// --out DIR` does: feed it each discrepancy and match once and it streams
// them to all the files. Files are written in a work directory of the run's
// own inside DIR (hidden: .reports.*.tmp, excelize's temporary files too)
// and renamed into place by Finish, so a failed run never leaves a report
// that looks complete. Close removes the work directory. A run killed
// before it could (kill -9, a crash, a lost machine) leaves it behind: the
// next Create in DIR removes it (RemoveLeftovers).
type Dir struct {
	dir      string
	work     *workDir
	o        Options
	formats  Format
	temps    []*os.File          // every file created; Close removes those not renamed
	names    map[*os.File]string // the report name of each temporary file
	discBuf  *bufio.Writer
	matchBuf *bufio.Writer
	disc     *DiscrepancyCSV
	match    *MatchCSV
	xlsx     *XLSX
	done     bool
}

// Create starts the reports selected by formats in dir, which must exist.
func Create(dir string, formats Format, o Options) (*Dir, error) {
	if formats&(FormatCSV|FormatXLSX) == 0 {
		return nil, errors.New("reports: no format selected (want FormatCSV, FormatXLSX or both)")
	}
	if _, err := RemoveLeftovers(dir); err != nil {
		return nil, err
	}
	work, err := newWorkDir(dir)
	if err != nil {
		return nil, err
	}
	d := &Dir{dir: dir, work: work, o: o, formats: formats, names: make(map[*os.File]string)}
	if formats&FormatCSV != 0 {
		df, err := d.create(DiscrepanciesFile)
		if err != nil {
			d.Close() // the temporary file, if Chmod failed
			return nil, err
		}
		mf, err := d.create(MatchesFile)
		if err != nil {
			d.Close()
			return nil, err
		}
		d.discBuf, d.matchBuf = bufio.NewWriterSize(df, 1<<16), bufio.NewWriterSize(mf, 1<<16)
		d.disc, d.match = NewDiscrepancyCSV(d.discBuf, o), NewMatchCSV(d.matchBuf, o)
	}
	if formats&FormatXLSX != 0 {
		x, err := newXLSX(o, work.path)
		if err != nil {
			d.Close()
			return nil, err
		}
		d.xlsx = x
	}
	return d, nil
}

// create opens the file for the report name in the work directory, as
// os.Create would (a report is as readable as any file it writes).
func (d *Dir) create(name string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(d.work.path, name), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o666)
	if err != nil {
		return nil, fmt.Errorf("creating %s: %w", filepath.Join(d.dir, name), err)
	}
	d.temps = append(d.temps, f)
	d.names[f] = name
	return f, nil
}

// WriteDiscrepancy adds a discrepancy to discrepancies.csv and report.xlsx.
func (d *Dir) WriteDiscrepancy(disc reconcile.Discrepancy) error {
	if d.disc != nil {
		if err := d.disc.Write(disc); err != nil {
			return err
		}
	}
	if d.xlsx != nil {
		return d.xlsx.WriteDiscrepancy(disc)
	}
	return nil
}

// WriteMatch adds a match to matches.csv and report.xlsx.
func (d *Dir) WriteMatch(m reconcile.Match) error {
	if d.match != nil {
		if err := d.match.Write(m); err != nil {
			return err
		}
	}
	if d.xlsx != nil {
		return d.xlsx.WriteMatch(m)
	}
	return nil
}

// Finish writes the summary and settlement reports and the workbook, moves
// every file into place, and removes the reports of the formats not
// selected, left by an earlier run. Call Close afterwards in any case.
func (d *Dir) Finish(summary []reconcile.SummaryLine, settlements []reconcile.SettlementDay) error {
	if d.done {
		return errors.New("reports: Finish called twice")
	}
	if d.formats&FormatCSV != 0 {
		if err := errors.Join(d.disc.Flush(), d.discBuf.Flush(), d.match.Flush(), d.matchBuf.Flush()); err != nil {
			return err
		}
		if err := d.writeFile(SummaryFile, func(w *bufio.Writer) error { return WriteSummaryCSV(w, summary, d.o) }); err != nil {
			return err
		}
		if err := d.writeFile(SettlementsFile, func(w *bufio.Writer) error { return WriteSettlementsCSV(w, settlements, d.o) }); err != nil {
			return err
		}
	}
	if d.xlsx != nil {
		if err := d.writeFile(WorkbookFile, func(w *bufio.Writer) error { return d.xlsx.Finish(w, summary, settlements) }); err != nil {
			return err
		}
	}
	// On disk before it has its name, so that after a crash a report under
	// its own name is whole.
	for _, f := range d.temps {
		if err := errors.Join(f.Sync(), f.Close()); err != nil {
			return fmt.Errorf("writing %s: %w", filepath.Join(d.dir, d.names[f]), err)
		}
	}
	for _, f := range d.temps {
		if err := os.Rename(f.Name(), filepath.Join(d.dir, d.names[f])); err != nil {
			return fmt.Errorf("moving %s into place: %w", d.names[f], err)
		}
	}
	d.done = true
	if err := syncDir(d.dir); err != nil {
		return fmt.Errorf("writing %s: %w", d.dir, err)
	}
	// A directory holds one run's reports: a format this run did not write
	// must not leave an earlier run's file beside them.
	for _, name := range ((FormatCSV | FormatXLSX) &^ d.formats).Files() {
		if err := os.Remove(filepath.Join(d.dir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("removing the earlier run's %s: %w", name, err)
		}
	}
	return nil
}

func (d *Dir) writeFile(name string, write func(*bufio.Writer) error) error {
	f, err := d.create(name)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<16)
	if err := write(w); err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("writing %s: %w", filepath.Join(d.dir, name), err)
	}
	return nil
}

// Close releases the workbook and removes the work directory, with the
// temporary files of a run that did not Finish. It is safe to call more
// than once.
func (d *Dir) Close() error {
	var errs []error
	if d.xlsx != nil {
		errs = append(errs, d.xlsx.Close())
		d.xlsx = nil
	}
	for _, f := range d.temps {
		f.Close() // may already be closed by Finish
	}
	d.temps = nil
	if d.work != nil {
		errs = append(errs, d.work.remove())
		d.work = nil
	}
	return errors.Join(errs...)
}

// workPattern names a run's work directory in its output directory
// (os.MkdirTemp's pattern).
const workPattern = ".reports.*.tmp"

// workDir is a run's work directory. The run holds an exclusive flock(2) on
// it while it lives; the kernel drops it when the process dies, however it
// dies, which is how RemoveLeftovers tells a dead run's directory from a
// live one's.
type workDir struct {
	path string
	f    *os.File // open on path, holding the lock
}

// newWorkDir creates and locks a work directory in dir.
func newWorkDir(dir string) (*workDir, error) {
	for range 10 {
		path, err := os.MkdirTemp(dir, workPattern)
		if err != nil {
			return nil, fmt.Errorf("creating a work directory in %s: %w", dir, err)
		}
		f, err := os.Open(path)
		if err != nil {
			os.Remove(path)
			return nil, fmt.Errorf("creating a work directory in %s: %w", dir, err)
		}
		if _, err := lockDir(f, true); err != nil {
			f.Close()
			os.Remove(path)
			return nil, fmt.Errorf("locking the work directory %s: %w", path, err)
		}
		// Between MkdirTemp and the lock another run's RemoveLeftovers may
		// have taken it for a dead run's: then it is gone, and we try again.
		onDisk, err1 := os.Stat(path)
		locked, err2 := f.Stat()
		if err1 == nil && err2 == nil && os.SameFile(onDisk, locked) {
			return &workDir{path: path, f: f}, nil
		}
		f.Close()
	}
	return nil, fmt.Errorf("creating a work directory in %s: removed by another run, ten times", dir)
}

// remove deletes the work directory and releases its lock.
func (w *workDir) remove() error {
	err := os.RemoveAll(w.path)
	return errors.Join(err, w.f.Close())
}

// RemoveLeftovers removes from dir what runs killed before they could clean
// up left there: their work directories (.reports.*.tmp, whose lock no
// process holds any more; a live run's is left alone), and the hidden
// temporary report files earlier versions wrote (.discrepancies.csv.*.tmp
// and the like). It returns the names removed. Nothing else in dir is
// touched. Create calls it.
func RemoveLeftovers(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", dir, err)
	}
	var removed []string
	for _, e := range entries {
		name, path := e.Name(), filepath.Join(dir, e.Name())
		switch {
		case e.IsDir() && isWorkDir(name):
			f, err := os.Open(path)
			if err != nil {
				continue // removed meanwhile by its run, or by another
			}
			free, err := lockDir(f, false)
			if err != nil || !free {
				f.Close()
				continue // a live run's
			}
			err = os.RemoveAll(path)
			f.Close()
			if err != nil {
				return removed, fmt.Errorf("removing a killed run's work directory: %w", err)
			}
			removed = append(removed, name)
		case e.Type().IsRegular() && isOldTemp(name):
			if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
				return removed, fmt.Errorf("removing a killed run's temporary file: %w", err)
			}
			removed = append(removed, name)
		}
	}
	return removed, nil
}

// isWorkDir reports whether name is a work directory's (workPattern).
func isWorkDir(name string) bool {
	rest, ok := strings.CutPrefix(name, ".reports.")
	if !ok {
		return false
	}
	random, ok := strings.CutSuffix(rest, ".tmp")
	return ok && isDigits(random)
}

// isOldTemp reports whether name is a temporary report file as versions
// before work directories wrote them: "." + report name + "." + digits
// (os.CreateTemp's) + ".tmp".
func isOldTemp(name string) bool {
	for _, report := range (FormatCSV | FormatXLSX).Files() {
		if rest, ok := strings.CutPrefix(name, "."+report+"."); ok {
			random, ok := strings.CutSuffix(rest, ".tmp")
			return ok && isDigits(random)
		}
	}
	return false
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// syncDir flushes dir's entries, so that the renames survive a crash.
func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	return errors.Join(f.Sync(), f.Close())
}
