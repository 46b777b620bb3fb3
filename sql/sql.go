// Package sql embeds Mizani's PostgreSQL schema: goose migrations under
// migrations/, applied by `reconcile migrate`.
package sql

import "embed"

// Migrations holds the goose migration files, rooted at "migrations".
//
//go:embed migrations/*.sql
var Migrations embed.FS
