package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/mizani/reconcile/store"
)

// terminateLockHolder ends the backend holding st's advisory lock key, as a
// database restart, a failover or an operator would, and waits until
// PostgreSQL has released the lock.
func terminateLockHolder(t *testing.T, st *store.Store, key string) {
	t.Helper()
	ctx := context.Background()
	var n int
	if err := st.DB().QueryRowContext(ctx, `SELECT count(pg_terminate_backend(l.pid))
		FROM pg_locks l, (SELECT hashtextextended(current_schema() || ':' || $1, 0) AS id) k
		WHERE l.locktype = 'advisory' AND l.objsubid = 1
		AND l.classid = ((k.id >> 32) & 4294967295)::oid AND l.objid = (k.id & 4294967295)::oid`, key).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("terminated %d holders of lock %q, want 1", n, key)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		var held bool
		if err := st.DB().QueryRowContext(ctx, `SELECT EXISTS (SELECT FROM pg_locks l,
			(SELECT hashtextextended(current_schema() || ':' || $1, 0) AS id) k
			WHERE l.locktype = 'advisory' AND l.objsubid = 1
			AND l.classid = ((k.id >> 32) & 4294967295)::oid AND l.objid = (k.id & 4294967295)::oid)`, key).Scan(&held); err != nil {
			t.Fatal(err)
		}
		if !held {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("lock %q still held after its backend was terminated", key)
		}
	}
}

// TestLockLost: when the lock's connection drops, PostgreSQL releases the
// lock and another process can take it; the first holder is told, by
// Check, by Guard and by Release, instead of carrying on unaware.
func TestLockLost(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, _, _ := openNamed(t)
	l, ok, err := st.AcquireLock(ctx, "run:w")
	if err != nil || !ok {
		t.Fatalf("AcquireLock: ok %v, err %v", ok, err)
	}
	if err := l.Check(ctx); err != nil {
		t.Fatalf("Check of a held lock: %v", err)
	}
	if _, ok, err := st.AcquireLock(ctx, "run:w"); err != nil || ok {
		t.Fatalf("second AcquireLock while held: ok %v, err %v; want not ok", ok, err)
	}
	guarded, stop := l.Guard(ctx, 20*time.Millisecond)
	defer stop()

	terminateLockHolder(t, st, "run:w")

	select {
	case <-guarded.Done():
		if cause := context.Cause(guarded); !errors.Is(cause, store.ErrLockLost) {
			t.Errorf("Guard's context ended with %v, want ErrLockLost", cause)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Guard did not notice the lost lock")
	}
	if err := l.Check(ctx); !errors.Is(err, store.ErrLockLost) {
		t.Errorf("Check after the connection dropped: %v, want ErrLockLost", err)
	}
	// Another process takes it: that is why the first must stop.
	other, ok, err := st.AcquireLock(ctx, "run:w")
	if err != nil || !ok {
		t.Fatalf("AcquireLock after the first holder lost it: ok %v, err %v", ok, err)
	}
	if err := l.Release(); !errors.Is(err, store.ErrLockLost) {
		t.Errorf("Release of the lost lock: %v, want ErrLockLost", err)
	}
	if err := other.Check(ctx); err != nil {
		t.Errorf("the second holder's Check: %v", err)
	}
	if err := other.Release(); err != nil {
		t.Errorf("the second holder's Release: %v", err)
	}
	if err := other.Release(); err == nil {
		t.Error("second Release: no error")
	}
}

// TestTryLockUnlockReportsLoss: the unlock function TryLock returns fails
// when the lock was lost, rather than reporting a clean release.
func TestTryLockUnlockReportsLoss(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, _, _ := openNamed(t)
	unlock, ok, err := st.TryLock(ctx, "pull:x")
	if err != nil || !ok {
		t.Fatalf("TryLock: ok %v, err %v", ok, err)
	}
	terminateLockHolder(t, st, "pull:x")
	if err := unlock(); !errors.Is(err, store.ErrLockLost) {
		t.Errorf("unlock after the connection dropped: %v, want ErrLockLost", err)
	}
	// The pool is not left holding the dead connection.
	if err := st.Ping(ctx); err != nil {
		t.Errorf("Ping after the lock's connection dropped: %v", err)
	}
}

// TestGuardStops: stopping a Guard of a held lock leaves its context
// uncancelled by a loss and the lock held.
func TestGuardStops(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, _, _ := openNamed(t)
	l, ok, err := st.AcquireLock(ctx, "run:g")
	if err != nil || !ok {
		t.Fatalf("AcquireLock: ok %v, err %v", ok, err)
	}
	guarded, stop := l.Guard(ctx, time.Millisecond)
	time.Sleep(20 * time.Millisecond)
	if err := guarded.Err(); err != nil {
		t.Fatalf("Guard of a held lock cancelled: %v (%v)", err, context.Cause(guarded))
	}
	stop()
	if err := l.Check(ctx); err != nil {
		t.Errorf("Check after stop: %v", err)
	}
	if err := l.Release(); err != nil {
		t.Errorf("Release: %v", err)
	}
}
