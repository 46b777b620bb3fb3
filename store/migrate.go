package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	mizanisql "github.com/mizani/reconcile/sql"
)

// migrator returns a goose provider over the embedded migrations. Runs are
// serialized by a session advisory lock keyed on the current schema, so two
// processes starting on an empty database do not both apply the schema, while
// tests migrating private schemas in parallel never wait for each other.
func migrator(ctx context.Context, db *sql.DB) (*goose.Provider, error) {
	fsys, err := fs.Sub(mizanisql.Migrations, "migrations")
	if err != nil {
		return nil, fmt.Errorf("opening embedded migrations: %w", err)
	}
	var schema string
	if err := db.QueryRowContext(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		return nil, fmt.Errorf("reading current schema: %w", err)
	}
	h := fnv.New64a()
	h.Write([]byte("mizani migrate " + schema))
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(int64(h.Sum64())), lock.WithLockTimeout(1, 300))
	if err != nil {
		return nil, fmt.Errorf("creating migration lock: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, fsys, goose.WithSessionLocker(locker))
	if err != nil {
		return nil, fmt.Errorf("loading migrations: %w", err)
	}
	return p, nil
}

// Migrate applies every pending migration. It is safe to call concurrently
// from several processes and does nothing when the schema is current.
func Migrate(ctx context.Context, db *sql.DB) error {
	_, err := MigrateUp(ctx, db)
	return err
}

// MigrateUp applies every pending migration and returns the versions applied
// (none when the schema was already current).
func MigrateUp(ctx context.Context, db *sql.DB) ([]int64, error) {
	p, err := migrator(ctx, db)
	if err != nil {
		return nil, err
	}
	res, err := p.Up(ctx)
	if err != nil {
		return nil, fmt.Errorf("applying migrations: %w", err)
	}
	applied := make([]int64, 0, len(res))
	for _, r := range res {
		applied = append(applied, r.Source.Version)
	}
	return applied, nil
}

// ErrNothingToRollBack is returned by MigrateDown when no migration is applied.
var ErrNothingToRollBack = errors.New("no migration is applied: nothing to roll back")

// MigrateDown rolls back the most recent migration and returns its version
// (ErrNothingToRollBack when none is applied).
func MigrateDown(ctx context.Context, db *sql.DB) (int64, error) {
	p, err := migrator(ctx, db)
	if err != nil {
		return 0, err
	}
	r, err := p.Down(ctx)
	if errors.Is(err, goose.ErrNoNextVersion) {
		return 0, ErrNothingToRollBack
	}
	if err != nil {
		return 0, fmt.Errorf("rolling back migration: %w", err)
	}
	return r.Source.Version, nil
}

// MigrateDownTo rolls back every migration newer than version (0: all of them).
func MigrateDownTo(ctx context.Context, db *sql.DB, version int64) error {
	p, err := migrator(ctx, db)
	if err != nil {
		return err
	}
	if _, err := p.DownTo(ctx, version); err != nil {
		return fmt.Errorf("rolling back to version %d: %w", version, err)
	}
	return nil
}

// MigrationState is one migration and whether it is applied.
type MigrationState struct {
	Version int64
	Name    string
	Applied bool
}

// MigrationStatus lists every known migration in version order.
func MigrationStatus(ctx context.Context, db *sql.DB) ([]MigrationState, error) {
	p, err := migrator(ctx, db)
	if err != nil {
		return nil, err
	}
	st, err := p.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading migration status: %w", err)
	}
	out := make([]MigrationState, 0, len(st))
	for _, s := range st {
		out = append(out, MigrationState{
			Version: s.Source.Version,
			Name:    s.Source.Path,
			Applied: s.State == goose.StateApplied,
		})
	}
	return out, nil
}
