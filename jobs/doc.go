// Package jobs runs Mizani's work: the reconciliation run that reads the
// store, matches, and writes reports; the pulls that fetch provider data; and
// the schedule that drives both in `reconcile serve`. Every job is guarded by
// a PostgreSQL advisory lock on its job and window, so two replicas or an
// overlapping CronJob never do the same work twice, and every job is recorded
// in the store's run history.
package jobs
