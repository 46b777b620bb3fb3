package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// Exit codes (SPEC §10).
const (
	exitOK          = 0 // success; discrepancies are data, not failure
	exitFailure     = 1 // operational failure: database down, provider unreachable
	exitBadInput    = 2 // bad usage or bad input
	exitDiscrepancy = 3 // only with --fail-on-discrepancy, when any exist
)

// exitError carries an exit code out of a command.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// badInput marks err as the user's input being wrong (exit 2).
func badInput(err error) error {
	if err == nil {
		return nil
	}
	return &exitError{code: exitBadInput, err: err}
}

// commandFactories are the sub-commands; each command file adds its own in init.
var commandFactories []func(*app) *cobra.Command

func register(f func(*app) *cobra.Command) { commandFactories = append(commandFactories, f) }

// app is what every command shares: output streams, logger and global flags.
type app struct {
	stdout, stderr io.Writer
	logger         *slog.Logger
	databaseURL    string
	logFormat      string
}

// newRootCmd builds the command tree writing to stdout and stderr.
func newRootCmd(stdout, stderr io.Writer) (*cobra.Command, *app) {
	a := &app{stdout: stdout, stderr: stderr}
	root := &cobra.Command{
		Use:   "reconcile",
		Short: "Mizani reconciles African payment providers against your ledger",
		Long: `Mizani pulls provider records (` + providerDisplayNames() + `), matches them
against the merchant ledger with exact arithmetic, and writes discrepancy,
match, settlement and summary reports as CSV and XLSX.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			switch a.logFormat {
			case "auto", "json", "text":
			default:
				return badInput(fmt.Errorf("log format %q (--log-format or RECONCILE_LOG_FORMAT): want json, text or auto", a.logFormat))
			}
			a.logger = newLogger(a.stderr, a.logFormat)
			if a.databaseURL == "" {
				a.databaseURL = envOr("DATABASE_URL", defaultDatabaseURL)
			}
			return nil
		},
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	// The default is resolved when a command runs, not shown in --help:
	// DATABASE_URL may carry a password.
	root.PersistentFlags().StringVar(&a.databaseURL, "database-url", "",
		"PostgreSQL URL of the store (default env DATABASE_URL, else "+defaultDatabaseURL+")")
	root.PersistentFlags().StringVar(&a.logFormat, "log-format", envOr("RECONCILE_LOG_FORMAT", "auto"),
		"log format: text, json, or auto (json unless stderr is a terminal) (env RECONCILE_LOG_FORMAT)")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return badInput(err) })
	for _, f := range commandFactories {
		root.AddCommand(f(a))
	}
	return root, a
}

// defaultDatabaseURL is the local PostgreSQL a fresh machine runs.
const defaultDatabaseURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// execute runs the command line args and returns the process exit code.
func execute(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root, _ := newRootCmd(stdout, stderr)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	code := exitFailure
	var ee *exitError
	if errors.As(err, &ee) {
		code = ee.code
	} else if isUsageError(err) {
		code = exitBadInput
	}
	if code != exitDiscrepancy {
		fmt.Fprintf(stderr, "reconcile: %v\n", err)
	}
	return code
}

// isUsageError recognizes cobra's own usage errors (unknown command, bad args).
func isUsageError(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand", "accepts ", "requires at least", "required flag", "invalid argument"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}

// group returns a command that only holds sub-commands: run bare it shows
// its help, and with an argument that names none of them it is a usage
// error (cobra would print the help and exit 0).
func group(use, short string, subs ...*cobra.Command) *cobra.Command {
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return badInput(fmt.Errorf("unknown command %q for %q", args[0], cmd.CommandPath()))
			}
			return cmd.Help()
		},
	}
	cmd.AddCommand(subs...)
	return cmd
}

// loadZone loads the business time zone named by --tz or RECONCILE_TZ.
func loadZone(name string) (*time.Location, error) {
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("business time zone %q (--tz or RECONCILE_TZ): unknown; want an IANA name such as Africa/Nairobi", name)
	}
	return loc, nil
}

// envOr returns the environment variable key, or def when it is unset or empty.
func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// newLogger returns a slog logger writing JSON, or text on a terminal.
func newLogger(w io.Writer, format string) *slog.Logger {
	json := format == "json"
	if format == "auto" || format == "" {
		json = !isTerminal(w)
	}
	opts := &slog.HandlerOptions{Level: slog.LevelInfo}
	if json {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
