package reports

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"

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
// them to all the files. Files are written under temporary names and renamed
// into place by Finish, so a failed run never leaves a report that looks
// complete. Close removes whatever Finish did not rename.
type Dir struct {
	dir      string
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
	d := &Dir{dir: dir, o: o, formats: formats, names: make(map[*os.File]string)}
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
		x, err := NewXLSX(o)
		if err != nil {
			d.Close()
			return nil, err
		}
		d.xlsx = x
	}
	return d, nil
}

// create opens a temporary file for the report name in the directory.
func (d *Dir) create(name string) (*os.File, error) {
	f, err := os.CreateTemp(d.dir, "."+name+".*.tmp")
	if err != nil {
		return nil, fmt.Errorf("creating %s: %w", filepath.Join(d.dir, name), err)
	}
	d.temps = append(d.temps, f)
	d.names[f] = name
	// CreateTemp makes the file private (0600); a report is as readable as
	// any file os.Create writes.
	if err := f.Chmod(0o644); err != nil {
		return nil, fmt.Errorf("creating %s: %w", filepath.Join(d.dir, name), err)
	}
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

// Close releases the workbook and removes the temporary files of a run that
// did not Finish. It is safe to call more than once.
func (d *Dir) Close() error {
	var errs []error
	if d.xlsx != nil {
		errs = append(errs, d.xlsx.Close())
	}
	if !d.done {
		for _, f := range d.temps {
			f.Close() // may already be closed by a failed Finish
			if err := os.Remove(f.Name()); err != nil && !errors.Is(err, os.ErrNotExist) {
				errs = append(errs, err)
			}
		}
	}
	d.temps = nil
	return errors.Join(errs...)
}

// syncDir flushes dir's entries, so that the renames survive a crash.
func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	return errors.Join(f.Sync(), f.Close())
}
