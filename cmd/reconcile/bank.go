package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/mizani/reconcile/store/csvimport"
)

func init() { register(newBankCmd) }

func newBankCmd(a *app) *cobra.Command {
	var file string
	imp := &cobra.Command{
		Use:   "import --file F",
		Short: "Import a bank statement CSV; atomic and idempotent",
		Long: `Imports a bank statement CSV with the header
date,amount,currency,reference,description (and optionally account), in any
order. date is YYYY-MM-DD; amount is in major units, negative for debits.
The provider is recognized from the reference or description where it is
named. If any row is invalid, every bad line is listed and nothing is
imported (exit 2). Importing the same statement again adds nothing.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.importBank(cmd, file)
		},
	}
	imp.Flags().StringVar(&file, "file", "", "bank statement CSV file (required)")
	imp.MarkFlagRequired("file")
	return group("bank", "Manage bank statements (the third leg of settlement)", imp)
}

func (a *app) importBank(cmd *cobra.Command, file string) error {
	f, err := os.Open(file)
	if err != nil {
		return badInput(err)
	}
	defer f.Close()
	r, err := csvimport.NewBankReader(f, file)
	if err != nil {
		return badInput(err)
	}
	st, err := a.openStore(cmd.Context())
	if err != nil {
		return err
	}
	defer st.Close()
	invalid := 0
	res, err := st.ImportBank(cmd.Context(), validRows(r.Next, func(le *csvimport.LineError) error {
		invalid++
		fmt.Fprintln(cmd.ErrOrStderr(), le)
		return nil
	}, false))
	if errors.Is(err, errInvalidRows) {
		return badInput(fmt.Errorf("%s: %d invalid row(s), nothing imported", file, invalid))
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "%s: imported %d new bank line(s), %d already present\n", file, res.New, res.Existing)
	return nil
}
