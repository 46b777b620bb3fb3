package store_test

import (
	"context"
	"testing"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/store"
)

func TestSaveBatch(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	count := func(table string) int {
		var n int
		if err := s.DB().GetContext(ctx, &n, "SELECT count(*) FROM "+table); err != nil {
			t.Fatal(err)
		}
		return n
	}
	batch := []store.Parsed{
		{Payload: payload("b-1"), Records: []reconcile.Record{payment("T1", reconcile.StatusPending, 100, true)}},
		{Payload: payload("b-2"), Records: []reconcile.Record{payment("T1", reconcile.StatusSucceeded, 100, true), payment("T2", reconcile.StatusSucceeded, 250, true)}},
		{Payload: payload("b-1"), Records: []reconcile.Record{payment("T1", reconcile.StatusPending, 100, true)}}, // repeated line
	}
	saved, dups, err := s.SaveBatch(ctx, batch)
	if err != nil || saved != 2 || dups != 1 {
		t.Fatalf("SaveBatch = %d saved, %d dups, %v; want 2, 1, nil", saved, dups, err)
	}
	if got := stored(t, s, "T1"); got.Status != string(reconcile.StatusSucceeded) {
		t.Errorf("T1 status = %s, want succeeded (precedence inside the batch)", got.Status)
	}
	if batch[1].Records[1].RawPayloadID == 0 {
		t.Error("RawPayloadID not set on saved records")
	}

	saved, dups, err = s.SaveBatch(ctx, batch)
	if err != nil || saved != 0 || dups != 3 {
		t.Fatalf("second SaveBatch = %d saved, %d dups, %v; want 0, 3, nil", saved, dups, err)
	}
	if n := count("raw_payloads"); n != 2 {
		t.Errorf("raw_payloads = %d, want 2", n)
	}
	if n := count("record_history"); n != 3 {
		t.Errorf("record_history = %d, want 3 (nothing added by the re-import)", n)
	}

	// One bad record rolls back the whole batch.
	bad := payment("T3", reconcile.StatusSucceeded, 1, true)
	bad.Kind = "bogus"
	_, _, err = s.SaveBatch(ctx, []store.Parsed{
		{Payload: payload("b-3"), Records: []reconcile.Record{payment("T4", reconcile.StatusSucceeded, 1, true)}},
		{Payload: payload("b-4"), Records: []reconcile.Record{bad}},
	})
	if err == nil {
		t.Fatal("SaveBatch with an invalid record succeeded")
	}
	if n := count("raw_payloads"); n != 2 {
		t.Errorf("after a failed batch raw_payloads = %d, want 2 (atomic)", n)
	}
}
