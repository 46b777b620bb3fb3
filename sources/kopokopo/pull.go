package kopokopo

import (
	"context"
	"errors"
	"fmt"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/sources"
)

// Polling scopes.
const (
	ScopeTill    = "till"
	ScopeCompany = "company"
)

// Puller pulls the Buygoods transactions of one till, or of the whole
// company, through the polling API. It implements sources.Puller;
// Provider.History builds one from K2_TILL.
type Puller struct {
	// Client talks to the API. Required.
	Client *Client
	// Till is the till number to poll; empty polls the whole company.
	Till string
	// Parser maps the polling results; the zero Parser will do.
	Parser Parser
}

var _ sources.Puller = Puller{}

// Scope names what p pulls in checkpoints and logs: "till:<number>" or "company".
func (p Puller) Scope() string {
	if p.Till == "" {
		return ScopeCompany
	}
	return ScopeTill + ":" + p.Till
}

// Pull polls w, then stores the polling result verbatim with the records it
// carries whose time lies in w (SPEC §9.1: the API documents no pagination,
// so PullWindow splits long ranges into chunks).
func (p Puller) Pull(ctx context.Context, w reconcile.Window, sink sources.Sink) (sources.PullStats, error) {
	if p.Client == nil {
		return sources.PullStats{}, errors.New("kopokopo: Puller has no Client")
	}
	pr := PollRequest{Scope: ScopeCompany, From: w.From, To: w.To}
	if p.Till != "" {
		pr.Scope, pr.ScopeReference = ScopeTill, p.Till
	}
	body, err := p.Client.Poll(ctx, pr)
	if err != nil {
		return sources.PullStats{}, err
	}
	payload, records, err := p.Parser.Parse(body, reconcile.SourcePoll)
	if err != nil {
		return sources.PullStats{}, fmt.Errorf("kopokopo: polling result for %s: %w", w, err)
	}
	// The API's bounds may be inclusive; keep [From, To) so that adjacent
	// chunks never both claim a transaction at their shared edge.
	inWindow := records[:0]
	for _, r := range records {
		if w.Contains(r.OccurredAt) {
			inWindow = append(inWindow, r)
		}
	}
	dup, err := sink.Save(ctx, payload, inWindow)
	if err != nil {
		return sources.PullStats{}, fmt.Errorf("kopokopo: saving polling result for %s: %w", w, err)
	}
	st := sources.PullStats{Records: len(inWindow)}
	if dup {
		st.Duplicates = 1
	} else {
		st.Payloads = 1
	}
	return st, nil
}
