package csvimport

import (
	"fmt"
	"hash/maphash"
	"io"
	"strings"
	"time"

	"github.com/mizani/reconcile"
)

// Ledger CSV columns (SPEC §5).
var (
	LedgerRequired = []string{"reference", "provider", "amount", "currency", "status", "occurred_at"}
	LedgerOptional = []string{"direction", "account", "provider_reference", "customer_phone", "description"}
)

// LedgerReader reads a merchant ledger CSV.
type LedgerReader struct {
	t    *table
	loc  *time.Location
	seed [2]maphash.Seed
	// seen maps a 128-bit hash of (provider, direction, reference) to the
	// line it was first seen on: 1M rows cost about 30 MB, not the strings.
	seen map[[2]uint64]int32
}

// NewLedgerReader reads the header of the ledger CSV r, named name in
// errors. Zone-less times are read in loc, the business time zone.
func NewLedgerReader(r io.Reader, name string, loc *time.Location) (*LedgerReader, error) {
	t, err := newTable(r, name, LedgerRequired, LedgerOptional)
	if err != nil {
		return nil, err
	}
	return &LedgerReader{t: t, loc: loc, seed: [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()},
		seen: map[[2]uint64]int32{}}, nil
}

// Header returns the file's header row as written.
func (r *LedgerReader) Header() []string { return r.t.header }

// Next returns the next valid entry. It returns io.EOF at the end, a
// *LineError for an invalid row (call Next again to go on), and any other
// error when the file cannot be read.
func (r *LedgerReader) Next() (reconcile.LedgerEntry, error) {
	if err := r.t.next(); err != nil {
		return reconcile.LedgerEntry{}, err
	}
	e, err := r.entry()
	if err != nil {
		return reconcile.LedgerEntry{}, err
	}
	k := [2]uint64{r.hash(0, e), r.hash(1, e)}
	if first, dup := r.seen[k]; dup {
		return reconcile.LedgerEntry{}, r.t.fail("duplicate of line %d (provider %s, direction %s, reference %q)",
			first, e.Provider, e.Direction, e.Reference)
	}
	r.seen[k] = int32(r.t.line)
	return e, nil
}

func (r *LedgerReader) hash(i int, e reconcile.LedgerEntry) uint64 {
	var h maphash.Hash
	h.SetSeed(r.seed[i])
	h.WriteString(string(e.Provider))
	h.WriteByte(0)
	h.WriteString(string(e.Direction))
	h.WriteByte(0)
	h.WriteString(e.Reference)
	return h.Sum64()
}

func (r *LedgerReader) entry() (reconcile.LedgerEntry, error) {
	t := r.t
	var e reconcile.LedgerEntry
	var vals [6]string
	for i, c := range LedgerRequired {
		v, err := t.require(c)
		if err != nil {
			return e, err
		}
		vals[i] = v
	}
	e.Reference = vals[0]
	p, err := reconcile.ParseProvider(strings.ToLower(vals[1]))
	if err != nil {
		return e, t.fail("%v", err)
	}
	e.Provider = p
	if e.Direction, err = reconcile.ParseDirection(strings.ToLower(t.get("direction"))); err != nil {
		return e, t.fail("%v", err)
	}
	cur, err := reconcile.ParseCurrency(vals[3])
	if err != nil {
		return e, t.fail("%v", err)
	}
	if e.Amount, err = reconcile.ParseMajor(vals[2], cur); err != nil {
		return e, t.fail("%v", err)
	}
	if e.Amount.Minor < 0 {
		return e, t.fail("amount %s is negative; write money paid out as a positive amount with direction out", vals[2])
	}
	if e.Status, err = reconcile.ParseLedgerStatus(strings.ToLower(vals[4])); err != nil {
		return e, t.fail("%v", err)
	}
	if e.OccurredAt, err = ParseTime(vals[5], r.loc); err != nil {
		return e, t.fail("occurred_at: %v", err)
	}
	e.Account = t.get("account")
	e.ProviderReference = t.get("provider_reference")
	e.CustomerPhone = t.get("customer_phone")
	e.Description = t.get("description")
	return e, nil
}

// ParseTime reads an RFC 3339 instant with its offset, or "YYYY-MM-DD
// HH:MM:SS" (optionally with fractional seconds) in loc, and returns it in
// UTC, truncated to the microsecond: PostgreSQL keeps microseconds and
// rounds anything finer, which could move 23:59:59.9999999 to the next day
// (and into the next run). Truncating keeps every item in its own second,
// and so in its own day.
func ParseTime(s string, loc *time.Location) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC().Truncate(time.Microsecond), nil
	}
	if t, err := time.ParseInLocation("2006-01-02 15:04:05.999999999", s, loc); err == nil {
		return t.UTC().Truncate(time.Microsecond), nil
	}
	return time.Time{}, fmt.Errorf("%q is neither RFC 3339 with an offset (2026-03-02T09:15:00+03:00) nor YYYY-MM-DD HH:MM:SS in %s", s, loc)
}
