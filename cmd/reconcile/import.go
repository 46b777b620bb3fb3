package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/sources"
	"github.com/mizani/reconcile/store"
)

func init() { register(newImportCmd) }

// maxImportLine bounds one JSON document; the webhook receiver accepts 1 MiB.
const maxImportLine = 16 << 20

// utf8BOM is the UTF-8 byte-order mark, skipped at the start of a file.
var utf8BOM = []byte("\xef\xbb\xbf")

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
Blank lines and a leading UTF-8 byte-order mark are skipped. Every line is parsed before anything is written: if
any is bad, each is reported as FILE:LINE: reason and nothing is stored
(exit 2). Otherwise all payloads and their records are saved in one
transaction. Importing the same file again changes nothing. Times a provider
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
	batch, err := parseFile(o.file, parser)
	if err != nil {
		return err
	}
	st, err := a.openStore(cmd.Context())
	if err != nil {
		return err
	}
	defer st.Close()
	saved, dups, err := st.SaveBatch(cmd.Context(), batch)
	if err != nil {
		return fmt.Errorf("%s: nothing imported: %w", o.file, err)
	}
	records := 0
	for _, p := range batch {
		records += len(p.Records)
	}
	fmt.Fprintf(cmd.OutOrStdout(), "%s: %d payload(s) imported, %d already stored; %d record(s) parsed\n",
		o.file, saved, dups, records)
	return nil
}

// parseFile parses every non-blank line of name. Any bad line makes it return
// a bad-input error listing each as FILE:LINE: reason.
func parseFile(name string, parser sources.Parser) ([]store.Parsed, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, badInput(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), maxImportLine)
	var batch []store.Parsed
	var bad []string
	for line := 1; sc.Scan(); line++ {
		text := sc.Bytes()
		if line == 1 {
			// Editors on Windows save UTF-8 with a byte-order mark.
			text = bytes.TrimPrefix(text, utf8BOM)
		}
		text = bytes.TrimSpace(text)
		if len(text) == 0 {
			continue
		}
		// The scanner reuses its buffer; the payload keeps its own copy.
		payload, records, err := parser.Parse(bytes.Clone(text), reconcile.SourceImport)
		if err != nil {
			bad = append(bad, fmt.Sprintf("%s:%d: %v", name, line, err))
			continue
		}
		batch = append(batch, store.Parsed{Payload: payload, Records: records})
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			err = fmt.Errorf("a line is longer than %d MiB", maxImportLine>>20)
		}
		return nil, badInput(fmt.Errorf("reading %s: %w", name, err))
	}
	if len(bad) > 0 {
		return nil, badInput(fmt.Errorf("%d bad line(s), nothing imported:\n%s", len(bad), strings.Join(bad, "\n")))
	}
	return batch, nil
}
