package main

import (
	"context"
	"fmt"
	_ "time/tzdata" // business time zones work on machines without a zoneinfo database

	"github.com/mizani/reconcile/store"
)

// openStore opens the store at a.databaseURL and applies any pending
// migrations, so every command works on an empty database.
func (a *app) openStore(ctx context.Context) (*store.Store, error) {
	st, err := store.Open(ctx, a.databaseURL)
	if err != nil {
		return nil, err
	}
	applied, err := store.MigrateUp(ctx, st.DB().DB)
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("preparing the store: %w", err)
	}
	if len(applied) > 0 && a.logger != nil {
		a.logger.Info("migrated the store", "versions", applied)
	}
	return st, nil
}
