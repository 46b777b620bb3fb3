package main

import (
	"bufio"
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
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
		if _, bad := importFile(o.file, f, parser, nil); bad != nil {
			return bad
		}
		return err
	}
	defer st.Close()
	im, err := st.BeginImport(ctx)
	if err != nil {
		return fmt.Errorf("%s: nothing imported: %w", o.file, err)
	}
	defer im.Rollback()
	if err, bad := importFile(o.file, f, parser, im); bad != nil || err != nil {
		return cmp.Or(bad, err)
	}
	saved, dups, records, err := im.Commit()
	if err != nil {
		var refused *store.BadPayloadError
		if errors.As(err, &refused) {
			return badInput(fmt.Errorf("1 bad line(s), nothing imported:\n%s:%d: %v", o.file, refused.Pos, refused.Err))
		}
		return fmt.Errorf("%s: nothing imported: %w", o.file, err)
	}
	fmt.Fprintf(cmd.OutOrStdout(), "%s: %d payload(s) imported, %d already stored; %d record(s) parsed\n",
		o.file, saved, dups, records)
	return nil
}

// importFile parses every non-blank line of r (the file name) and adds it
// to im (nil: only parse), streaming: it holds a line at a time, im a few
// chunks. Any bad line — one the parser refuses or the store cannot hold —
// stops the writing but not the reading, and makes it return a bad-input
// error listing each as FILE:LINE: reason. storeErr is a failure of the
// store, which stops both.
func importFile(name string, r io.Reader, parser sources.Parser, im *store.Import) (storeErr, bad error) {
	type badLine struct {
		line int
		msg  string
	}
	var bads []badLine
	reported := map[int]bool{}
	addBad := func(line int, err error) {
		if !reported[line] {
			reported[line] = true
			bads = append(bads, badLine{line, fmt.Sprintf("%s:%d: %v", name, line, err)})
		}
		if im != nil {
			im.Fail()
		}
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxImportLine)
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
			addBad(line, err)
			continue
		}
		if im == nil {
			continue
		}
		if err := im.Add(line, store.Parsed{Payload: payload, Records: records}); err != nil {
			var refused *store.BadPayloadError
			if !errors.As(err, &refused) {
				return fmt.Errorf("%s: nothing imported: %w", name, err), nil
			}
			addBad(refused.Pos, refused.Err)
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			err = fmt.Errorf("a line is longer than %d MiB", maxImportLine>>20)
		}
		return nil, badInput(fmt.Errorf("reading %s: %w", name, err))
	}
	if len(bads) == 0 {
		return nil, nil
	}
	slices.SortFunc(bads, func(a, b badLine) int { return cmp.Compare(a.line, b.line) })
	msgs := make([]string, len(bads))
	for i, b := range bads {
		msgs[i] = b.msg
	}
	return nil, badInput(fmt.Errorf("%d bad line(s), nothing imported:\n%s", len(bads), strings.Join(msgs, "\n")))
}
