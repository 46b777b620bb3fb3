package main

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/mizani/reconcile/store/csvimport"
)

func init() { register(newLedgerCmd) }

func newLedgerCmd(a *app) *cobra.Command {
	return group("ledger", "Manage the merchant ledger", newLedgerImportCmd(a))
}

// ledgerImportOptions are the flags of `ledger import`.
type ledgerImportOptions struct {
	file        string
	skipInvalid bool
	rejects     string
	tz          string
}

func newLedgerImportCmd(a *app) *cobra.Command {
	var o ledgerImportOptions
	cmd := &cobra.Command{
		Use:   "import --file F",
		Short: "Import the merchant ledger from CSV (SPEC §5); atomic and idempotent",
		Long: `Imports a ledger CSV. Columns are named in the header, in any order:
reference, provider, amount, currency, status and occurred_at are required;
direction, account, provider_reference, customer_phone and description optional.

By default the import is atomic: if any row is invalid, every bad line is
listed as FILE:LINE: reason and nothing is imported (exit 2). With
--skip-invalid the good rows are imported and the bad ones written, with
their reasons, to the rejects file. Importing the same file again changes
nothing; a changed row is updated.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.importLedger(cmd, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.file, "file", "", "ledger CSV file (required)")
	f.BoolVar(&o.skipInvalid, "skip-invalid", false, "import the valid rows and write the invalid ones to --rejects")
	f.StringVar(&o.rejects, "rejects", "", "where --skip-invalid writes rejected rows (default FILE.rejects.csv)")
	f.StringVar(&o.tz, "tz", envOr("RECONCILE_TZ", "Africa/Nairobi"), "business time zone of times without an offset (env RECONCILE_TZ)")
	cmd.MarkFlagRequired("file")
	return cmd
}

// errInvalidRows stops an atomic import; the bad lines are already printed.
var errInvalidRows = errors.New("invalid rows")

func (a *app) importLedger(cmd *cobra.Command, o ledgerImportOptions) error {
	if o.rejects != "" && !o.skipInvalid {
		return badInput(errors.New("--rejects goes with --skip-invalid: an atomic import writes no rejects"))
	}
	loc, err := loadZone(o.tz)
	if err != nil {
		return badInput(err)
	}
	f, err := os.Open(o.file)
	if err != nil {
		return badInput(err)
	}
	defer f.Close()
	r, err := csvimport.NewLedgerReader(f, o.file, loc)
	if err != nil {
		return badInput(err)
	}
	st, err := a.openStore(cmd.Context())
	if err != nil {
		return err
	}
	defer st.Close()

	var rejects *rejectWriter
	if o.skipInvalid {
		if rejects, err = newRejectWriter(o.rejects, o.file, r.Header()); err != nil {
			return err
		}
		defer rejects.close()
	}
	invalid := 0
	res, err := st.ImportLedger(cmd.Context(), validRows(r.Next, func(le *csvimport.LineError) error {
		invalid++
		if rejects != nil {
			return rejects.write(le)
		}
		fmt.Fprintln(cmd.ErrOrStderr(), le)
		return nil
	}, o.skipInvalid))
	if errors.Is(err, errInvalidRows) {
		return badInput(fmt.Errorf("%s: %d invalid row(s), nothing imported (fix them, or use --skip-invalid)", o.file, invalid))
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "%s: imported %d new, updated %d, unchanged %d\n", o.file, res.New, res.Updated, res.Unchanged)
	if rejects != nil {
		if err := rejects.close(); err != nil {
			return err
		}
		if invalid > 0 {
			fmt.Fprintf(cmd.OutOrStdout(), "%s: skipped %d invalid row(s), written to %s\n", o.file, invalid, rejects.name)
		}
	}
	return nil
}

// validRows adapts a CSV reader's Next to the store's import stream. Each
// invalid row goes to bad. Unless skip is set, the first invalid row stops
// the stream from yielding entries, but reading goes on so that every bad
// row is reported, and the stream ends with errInvalidRows so the import
// is rolled back.
func validRows[T any](next func() (T, error), bad func(*csvimport.LineError) error, skip bool) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		failed := false
		for {
			v, err := next()
			if err == io.EOF {
				break
			}
			var le *csvimport.LineError
			if errors.As(err, &le) {
				if err := bad(le); err != nil {
					yield(zero, err)
					return
				}
				failed = true
				continue
			}
			if err != nil {
				yield(zero, badInput(err))
				return
			}
			if (!failed || skip) && !yield(v, nil) {
				return
			}
		}
		if failed && !skip {
			yield(zero, errInvalidRows)
		}
	}
}

// rejectWriter writes rejected rows as CSV: line, reason, then the row.
type rejectWriter struct {
	name string
	f    *os.File
	w    *csv.Writer
}

func newRejectWriter(name, input string, header []string) (*rejectWriter, error) {
	if name == "" {
		name = input + ".rejects.csv"
	}
	if same(name, input) {
		return nil, badInput(fmt.Errorf("--rejects %s is the file being imported: name another", name))
	}
	f, err := os.Create(name)
	if err != nil {
		return nil, badInput(fmt.Errorf("--rejects: %w", err))
	}
	rw := &rejectWriter{name: name, f: f, w: csv.NewWriter(f)}
	if err := rw.w.Write(append([]string{"line", "reason"}, header...)); err != nil {
		f.Close()
		return nil, fmt.Errorf("writing %s: %w", name, err)
	}
	return rw, nil
}

func (rw *rejectWriter) write(le *csvimport.LineError) error {
	if err := rw.w.Write(append([]string{strconv.Itoa(le.Line), le.Reason}, le.Fields...)); err != nil {
		return fmt.Errorf("writing %s: %w", rw.name, err)
	}
	return nil
}

// close flushes and closes the file; calling it again does nothing.
func (rw *rejectWriter) close() error {
	if rw.f == nil {
		return nil
	}
	rw.w.Flush()
	err := errors.Join(rw.w.Error(), rw.f.Close())
	rw.f = nil
	if err != nil {
		return fmt.Errorf("writing %s: %w", rw.name, err)
	}
	return nil
}

// same reports whether the paths a and b name the same existing file.
func same(a, b string) bool {
	fa, err := os.Stat(a)
	if err != nil {
		return false
	}
	fb, err := os.Stat(b)
	return err == nil && os.SameFile(fa, fb)
}
