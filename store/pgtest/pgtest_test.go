package pgtest_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"

	"github.com/mizani/reconcile/store/pgtest"
)

func TestNewGivesPrivateMigratedSchema(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var schemas [2]string
	for i := range schemas {
		db := pgtest.New(t)
		if err := db.QueryRowContext(ctx, "SELECT current_schema()").Scan(&schemas[i]); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM ledger_entries").Scan(&n); err != nil {
			t.Fatalf("schema not migrated: %v", err)
		}
		if _, err := db.ExecContext(ctx, `INSERT INTO ledger_entries (provider, reference, amount_minor, currency, status, occurred_at)
			VALUES ('kora', 'r1', 100, 'NGN', 'paid', now())`); err != nil {
			t.Fatal(err)
		}
	}
	if schemas[0] == schemas[1] || !strings.HasPrefix(schemas[0], "t_testnewgivesprivate") {
		t.Fatalf("schemas %q and %q: want two distinct schemas named after the test", schemas[0], schemas[1])
	}
}

func TestURLSchemaDroppedAtCleanup(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var schema, url string
	t.Run("inner", func(t *testing.T) {
		url = pgtest.URL(t)
		db, err := sql.Open("postgres", url)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		// Every pooled connection gets the search_path, not just the first.
		db.SetMaxIdleConns(0)
		for range 3 {
			if err := db.QueryRowContext(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(url, "search_path="+schema) {
				t.Fatalf("current_schema %q, URL %s", schema, url)
			}
		}
	})
	db := pgtest.New(t)
	var exists bool
	if err := db.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)", schema).Scan(&exists); err != nil {
		t.Fatal(err)
	}
	if exists {
		t.Fatalf("schema %s still exists after its test ended", schema)
	}
}
