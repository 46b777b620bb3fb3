# Mizani — run `make help` for the targets.
SHELL := /bin/bash
GO ?= go
PKGS := ./...
BIN := bin/reconcile
# Tests need a PostgreSQL; TEST_DATABASE_URL names one (see README.md).
export TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/mizani_test?sslmode=disable

.DEFAULT_GOAL := help

.PHONY: help
help: ## Show this help
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-10s\033[0m %s\n", $$1, $$2}'

.PHONY: demo
demo: ## Run Mizani end to end on the demo week; reports in demo-out/
	$(GO) run ./cmd/reconcile demo

.PHONY: build
build: ## Build bin/reconcile
	$(GO) build -o $(BIN) ./cmd/reconcile

.PHONY: test
test: deps ## Run every test against a real PostgreSQL (TEST_DATABASE_URL)
	$(GO) test -count=1 $(PKGS)

.PHONY: deps
deps: ## Check for PHP and Node, which run the vendors' own example clients in the tests (installs them as root)
	@missing=""; command -v php >/dev/null 2>&1 || missing="$$missing php-cli"; \
	command -v node >/dev/null 2>&1 || missing="$$missing nodejs"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing$$missing (the vendor-code tests run them)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "the tests need$$missing: install them (Debian: apt-get install$$missing)"; exit 1; fi; \
	fi

.PHONY: lint
lint: ## gofmt check and go vet
	@out=$$(gofmt -l . | grep -v '^vendor/'); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

.PHONY: bench
bench: ## Run the Go benchmarks (figures go into BENCHMARKS.md)
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 1x -timeout 60m $(PKGS)

.PHONY: bench-webhooks
bench-webhooks: build ## Start `reconcile serve`, drive it with signed webhooks from another process (loopback), stop it
	psql "$(TEST_DATABASE_URL)" -qc 'CREATE SCHEMA IF NOT EXISTS webhookload'
	$(GO) run ./sources/kopokopo/webhookload -serve $(BIN) -database-url "$(TEST_DATABASE_URL)&search_path=webhookload" \
		-c $${CONCURRENCY:-4,16,64} -n $${WEBHOOKS:-20000} -duration 60s

.PHONY: fuzz
fuzz: ## Run every fuzz target (each parser and verifier, the CSV readers, money) for FUZZTIME each (default 30s)
	@# go test -fuzz takes one target a run: list them per package and run each. A run that
	@# ends in a bare "context deadline exceeded" and writes no failing input is Go's
	@# fuzz-coordinator race at the end of -fuzztime (go.dev/issue/75804, fixed in Go 1.27),
	@# not a finding: it is reported and the loop goes on.
	@set -eo pipefail; out=$$(mktemp); trap 'rm -f "$$out"' EXIT; \
	$(GO) test -list '^Fuzz' $(PKGS) | awk '/^Fuzz/ {t[n++] = $$1; next} /^ok / {for (i = 0; i < n; i++) print $$2, t[i]; n = 0}' | \
	while read -r pkg target; do \
	  echo "== $$pkg $$target for $${FUZZTIME:-30s}"; \
	  if ! $(GO) test -run '^$$' -fuzz "^$$target\$$" -fuzztime $${FUZZTIME:-30s} "$$pkg" </dev/null 2>&1 | tee "$$out"; then \
	    if grep -q 'Failing input written' "$$out" || ! grep -q '^    context deadline exceeded$$' "$$out"; then exit 1; fi; \
	    echo "== $$pkg $$target: Go's fuzztime deadline race (go.dev/issue/75804), no failing input: ignored"; \
	  fi; \
	done

.PHONY: clean
clean: ## Remove build output
	rm -rf bin demo-out
