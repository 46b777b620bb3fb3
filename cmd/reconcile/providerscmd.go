package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mizani/reconcile/sources"
)

func init() { register(newProvidersCmd) }

func newProvidersCmd(a *app) *cobra.Command {
	var markdown bool
	cmd := &cobra.Command{
		Use:   "providers",
		Short: "List the providers Mizani speaks to, what each can do, and whether it is configured",
		Long: `Lists every registered provider: what it offers (history pulls, status
checks, webhooks, simulator), its environment variables, and which of them are
missing here for pulls and for webhooks. Secrets are never printed.
With --markdown it prints the configuration table README.md holds.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if markdown {
				_, err := io.WriteString(cmd.OutOrStdout(), providerTable())
				return err
			}
			printProviders(cmd.OutOrStdout())
			return nil
		},
	}
	cmd.Flags().BoolVar(&markdown, "markdown", false, "print README.md's provider configuration table")
	return cmd
}

// capabilities says in words what a provider offers.
func capabilities(reg *sources.Provider) string {
	var c []string
	if reg.History != nil {
		c = append(c, "history pulls")
	}
	if reg.Status != nil {
		c = append(c, "status checks")
	}
	if reg.Verifier != nil {
		c = append(c, "signed webhooks")
	}
	c = append(c, "import", "simulator")
	return strings.Join(c, ", ")
}

// printProviders writes each provider and what is missing to use it here.
func printProviders(w io.Writer) {
	for _, reg := range sources.Registered() {
		cfg := reg.ConfigFromEnv()
		fmt.Fprintf(w, "%s (%s): %s\n", reg.DisplayName, reg.Name, capabilities(reg))
		for _, p := range []struct {
			purpose sources.Purpose
			what    string
			offered bool
		}{{sources.ForPull, "pulls", reg.History != nil || reg.Status != nil}, {sources.ForWebhooks, "webhooks", reg.Verifier != nil}} {
			if !p.offered {
				continue
			}
			if missing := cfg.Missing(p.purpose); len(missing) > 0 {
				fmt.Fprintf(w, "  %s: not configured, set %s\n", p.what, strings.Join(missing, ", "))
			} else {
				fmt.Fprintf(w, "  %s: configured\n", p.what)
			}
		}
	}
}

// providerTable is the Markdown table of every provider's variables, as
// README.md's configuration section holds it (TestREADMEProviderTable keeps
// the two equal; `reconcile providers --markdown` prints it).
func providerTable() string {
	var b strings.Builder
	b.WriteString("| provider | variable | default | meaning |\n|---|---|---|---|\n")
	for _, reg := range sources.Registered() {
		for i, v := range reg.Env {
			name := ""
			if i == 0 {
				name = reg.DisplayName + " (`" + string(reg.Name) + "`): " + capabilities(reg)
			}
			def := "(none)"
			if v.Default != "" {
				def = "`" + v.Default + "`"
			}
			meaning := v.Help
			var need []string
			if v.Required&sources.ForPull != 0 {
				need = append(need, "pulls")
			}
			if v.Required&sources.ForWebhooks != 0 {
				need = append(need, "webhooks")
			}
			if len(need) > 0 {
				meaning += "; required for " + strings.Join(need, " and ")
			}
			if v.Secret {
				meaning += "; secret, never printed"
			}
			fmt.Fprintf(&b, "| %s | `%s` | %s | %s |\n", name, v.Name, def, strings.ReplaceAll(meaning, "|", "\\|"))
		}
	}
	return b.String()
}
