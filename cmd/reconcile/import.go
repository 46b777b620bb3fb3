package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/mizani/reconcile/jobs"
)

func init() { register(newImportCmd) }

// importOptions are the flags of `import`.
type importOptions struct {
	provider string
	file     string
}

func newImportCmd(a *app) *cobra.Command {
	var o importOptions
	cmd := &cobra.Command{
		Use:   "import --provider P --file F",
		Short: "Load provider payloads from a file, one JSON document per line; atomic and idempotent",
		Long: `Loads provider payloads — webhook and callback bodies, polling results, status
responses — one JSON document per line, each exactly as the provider sent it.
Blank lines and a leading UTF-8 byte-order mark are skipped. The file is
streamed into one transaction (it is never held in memory): if any line is
bad, each is reported as FILE:LINE: reason and nothing is stored (exit 2).
Otherwise all payloads and their records are saved at once. Each payload is
stored as its exact bytes, whatever they hold. Importing the same file again changes nothing. Times a provider
sends without a zone are read in its configured zone:
` + envHelp(),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.importPayloads(cmd, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.provider, "provider", "", "provider that sent the payloads: "+providerNames()+" (required)")
	f.StringVar(&o.file, "file", "", "file of JSON documents, one per line (required)")
	cmd.MarkFlagRequired("provider")
	cmd.MarkFlagRequired("file")
	return cmd
}

func (a *app) importPayloads(cmd *cobra.Command, o importOptions) error {
	reg, err := lookupProvider(o.provider)
	if err != nil {
		return badInput(fmt.Errorf("--provider: %w", err))
	}
	// The parser reads the provider's configuration: the zone of its
	// zone-less times, a configured currency.
	cfg := reg.ConfigFromEnv()
	parser, err := reg.Parser(cfg)
	if err != nil {
		return badInput(fmt.Errorf("%s: %s", reg.DisplayName, cfg.Redact(err.Error())))
	}
	f, err := os.Open(o.file)
	if err != nil {
		return badInput(err)
	}
	defer f.Close()
	ctx := cmd.Context()
	st, err := a.openStore(ctx)
	if err != nil {
		// What is wrong with the file needs no store to say.
		if bad := jobs.CheckPayloads(o.file, f, parser); bad != nil {
			return importError(bad)
		}
		return err
	}
	defer st.Close()
	stats, err := jobs.ImportPayloads(ctx, st, o.file, f, parser)
	if err != nil {
		return importError(err)
	}
	fmt.Fprintf(cmd.OutOrStdout(), "%s: %d payload(s) imported, %d already stored; %d record(s) parsed\n",
		o.file, stats.Saved, stats.Duplicates, stats.Records)
	return nil
}

// importError marks an import refused for its file's content as bad input
// (exit 2); any other failure is operational (exit 1).
func importError(err error) error {
	var bad *jobs.BadInputError
	if errors.As(err, &bad) {
		return badInput(err)
	}
	return err
}
