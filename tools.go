//go:build tools

// This file pins dependencies that packages in progress will import, so that
// `go mod tidy` keeps them. It is never compiled into the product.
package reconcile

import (
	_ "github.com/jmoiron/sqlx"
	_ "github.com/lib/pq"
	_ "github.com/ory/dockertest/v3"
	_ "github.com/pressly/goose/v3"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/prometheus/client_golang/prometheus/promhttp"
	_ "github.com/robfig/cron/v3"
	_ "github.com/shopspring/decimal"
	_ "github.com/spf13/cobra"
	_ "github.com/xuri/excelize/v2"
	_ "golang.org/x/time/rate"
)
