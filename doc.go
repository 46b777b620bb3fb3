// Package reconcile holds Mizani's domain types: exact Money in integer minor
// units, provider Records, merchant LedgerEntries, the reporting Window, and the
// Matches and Discrepancies a run produces.
//
// The package does no I/O. Sources, the store, matchers, reports and jobs all
// import it and speak in its types, so a value that crosses a package boundary
// always means the same thing.
package reconcile
