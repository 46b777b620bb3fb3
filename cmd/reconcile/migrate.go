package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/mizani/reconcile/store"
)

func init() { register(newMigrateCmd) }

func newMigrateCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:       "migrate [up|down|status]",
		Short:     "Apply (up, the default), roll back one (down) or list (status) schema migrations",
		Args:      cobra.MatchAll(cobra.MaximumNArgs(1), cobra.OnlyValidArgs),
		ValidArgs: []string{"up", "down", "status"},
		RunE: func(cmd *cobra.Command, args []string) error {
			action := "up"
			if len(args) == 1 {
				action = args[0]
			}
			st, err := store.Open(cmd.Context(), a.databaseURL)
			if err != nil {
				return err
			}
			defer st.Close()
			db := st.DB().DB
			out := cmd.OutOrStdout()
			switch action {
			case "up":
				applied, err := store.MigrateUp(cmd.Context(), db)
				if err != nil {
					return err
				}
				if len(applied) == 0 {
					fmt.Fprintln(out, "schema is up to date")
				}
				for _, v := range applied {
					fmt.Fprintf(out, "applied migration %05d\n", v)
				}
			case "down":
				v, err := store.MigrateDown(cmd.Context(), db)
				if errors.Is(err, store.ErrNothingToRollBack) {
					fmt.Fprintln(out, "schema is empty: nothing to roll back")
					return nil
				}
				if err != nil {
					return err
				}
				fmt.Fprintf(out, "rolled back migration %05d\n", v)
			case "status":
				states, err := store.MigrationStatus(cmd.Context(), db)
				if err != nil {
					return err
				}
				for _, s := range states {
					state := "pending"
					if s.Applied {
						state = "applied"
					}
					fmt.Fprintf(out, "%05d  %-8s %s\n", s.Version, state, s.Name)
				}
			}
			return nil
		},
	}
}
