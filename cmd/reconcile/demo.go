package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/spf13/cobra"

	"github.com/mizani/reconcile/demo"
	"github.com/mizani/reconcile/fixtures"
	"github.com/mizani/reconcile/store"
)

func init() { register(newDemoCmd) }

// demoOptions are the flags of `demo`.
type demoOptions struct {
	out      string
	fixtures string
}

func newDemoCmd(a *app) *cobra.Command {
	var o demoOptions
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run Mizani end to end on a week of demo data with planted discrepancies",
		Long: `Runs the whole pipeline on the fixtures: migrates a store, imports each
provider's ledger and bank statement, starts the provider simulators
in-process, pulls from them over HTTP (history, then status checks), imports
the provider payloads, reconciles ` + demo.From + `..` + demo.To + ` and writes the reports into
--out. Then it checks that every discrepancy planted in the fixtures
(<provider>/planted.csv) was reported with the right kind, and no other.

The store: with DATABASE_URL (or --database-url) the demo uses its own schema,
` + demo.Name + `, which it drops and recreates; else a database ` + demo.Name + `, dropped
and recreated, on PostgreSQL at 127.0.0.1:5432; else a throwaway PostgreSQL
container when Docker is available. So two demos give identical reports.

Exit codes: 0 the reports hold exactly the planted discrepancies, 1 they do
not, or the demo could not run.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.demo(cmd, o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.out, "out", "demo-out", "directory for the reports")
	f.StringVar(&o.fixtures, "fixtures", "", "directory of demo fixtures (default: the ones built in, as in fixtures/)")
	return cmd
}

func (a *app) demo(cmd *cobra.Command, o demoOptions) error {
	ctx := cmd.Context()
	w := cmd.OutOrStdout()
	fsys := fs.FS(fixtures.FS)
	if o.fixtures != "" {
		fsys = os.DirFS(o.fixtures)
	}
	explicit := cmd.Flags().Changed("database-url") || os.Getenv("DATABASE_URL") != ""
	db, err := demo.Database(ctx, a.databaseURL, explicit)
	if err != nil {
		return err
	}
	defer db.Close()
	fmt.Fprintf(w, "Store: %s\n", db.Where)
	st, err := (&app{databaseURL: db.URL, logger: a.logger}).openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	res, err := demo.Run(ctx, demo.Config{Store: st, Fixtures: fsys, Out: o.out, Progress: w, Logger: a.logger})
	if err != nil {
		return err
	}
	printRunSummary(w, res.RunCfg, res.Run)
	if res.OK() {
		fmt.Fprintf(w, "Planted: all %d planted discrepancies found with the right kind, no others\n", res.Planted)
	} else {
		fmt.Fprintf(w, "Planted: %d planted, %d not reported, %d reported but not planted\n", res.Planted, len(res.Missed), len(res.Unexpected))
		for _, m := range res.Missed {
			fmt.Fprintf(w, "  not reported: %s\n", m)
		}
		for _, u := range res.Unexpected {
			fmt.Fprintf(w, "  not planted:  %s\n", u)
		}
	}
	fmt.Fprintf(w, "Re-run any range of the demo data with:\n  DATABASE_URL='%s' reconcile run --from %s --to %s --out reports\n",
		store.RedactDSN(db.URL), demo.From, demo.To)
	if !res.OK() {
		return errors.New("the reports do not hold exactly the planted discrepancies")
	}
	return nil
}
