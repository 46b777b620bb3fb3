// Command reconcile is Mizani's command line: it imports ledgers and provider
// payloads, pulls from provider APIs, matches, writes reports, serves webhooks
// and runs the provider simulators. Run `reconcile --help` for the commands.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := execute(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
