package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/mizani/reconcile"
)

// Run outcomes accepted by FinishRun.
const (
	OutcomeSucceeded = "succeeded"
	OutcomeFailed    = "failed"
)

// AbandonedRun is the error recorded on a run whose process ended (killed,
// crashed, its machine lost) before it could record its outcome.
const AbandonedRun = "abandoned: the process ended before the run finished"

// StartRun records the start of a job over w with its parameters (marshalled
// as JSON; nil means none, plus "lock": lock) and returns the run id. The
// caller must hold the advisory lock named lock (TryLock): a run still
// "running" under the same lock is then one whose process died, and is
// recorded as failed with AbandonedRun in the same statement.
func (s *Store) StartRun(ctx context.Context, job, lock string, w reconcile.Window, params any) (int64, error) {
	p, err := jsonOrEmpty(params)
	if err != nil {
		return 0, fmt.Errorf("starting %s run: params: %w", job, err)
	}
	var id int64
	if err := s.db.QueryRowContext(ctx, `WITH abandoned AS (
			UPDATE runs SET finished_at = now(), outcome = 'failed', error = $6
			WHERE job = $1 AND outcome = 'running' AND params->>'lock' = $5
		)
		INSERT INTO runs (job, window_from, window_to, params)
		VALUES ($1, $2, $3, $4::jsonb || jsonb_build_object('lock', $5::text)) RETURNING id`,
		job, w.From, w.To, p, lock, AbandonedRun).Scan(&id); err != nil {
		return 0, fmt.Errorf("starting %s run: %w", job, err)
	}
	return id, nil
}

// FinishRun records how run id ended: outcome is OutcomeSucceeded or
// OutcomeFailed, counts is marshalled as JSON, and runErr (nil for none) is
// kept as text. Callers must not put secrets in runErr.
func (s *Store) FinishRun(ctx context.Context, id int64, outcome string, counts any, runErr error) error {
	c, err := jsonOrEmpty(counts)
	if err != nil {
		return fmt.Errorf("finishing run %d: counts: %w", id, err)
	}
	msg := ""
	if runErr != nil {
		msg = runErr.Error()
	}
	res, err := s.db.ExecContext(ctx, `UPDATE runs SET finished_at = now(), outcome = $2, counts = $3, error = $4
		WHERE id = $1`, id, outcome, c, msg)
	if err != nil {
		return fmt.Errorf("finishing run %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("finishing run %d: no such run", id)
	}
	return nil
}

func jsonOrEmpty(v any) (string, error) {
	if v == nil {
		return "{}", nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	if string(b) == "null" {
		return "{}", nil
	}
	return string(b), nil
}

// ChunkDone reports whether the pull of provider's scope over w finished
// earlier (MarkChunkDone), so a resumed pull can skip it.
func (s *Store) ChunkDone(ctx context.Context, provider, scope string, w reconcile.Window) (bool, error) {
	var done bool
	if err := s.db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pull_checkpoints
		WHERE provider = $1 AND scope = $2 AND chunk_from = $3 AND chunk_to = $4)`,
		provider, scope, w.From, w.To).Scan(&done); err != nil {
		return false, fmt.Errorf("reading %s %s checkpoint %s: %w", provider, scope, w, err)
	}
	return done, nil
}

// MarkChunkDone records that the pull of provider's scope over w finished
// with records records. Marking a chunk twice keeps the latest count.
func (s *Store) MarkChunkDone(ctx context.Context, provider, scope string, w reconcile.Window, records int) error {
	if _, err := s.db.ExecContext(ctx, `INSERT INTO pull_checkpoints (provider, scope, chunk_from, chunk_to, records)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (provider, scope, chunk_from, chunk_to) DO UPDATE SET records = EXCLUDED.records, completed_at = now()`,
		provider, scope, w.From, w.To, records); err != nil {
		return fmt.Errorf("writing %s %s checkpoint %s: %w", provider, scope, w, err)
	}
	return nil
}

// ErrLockLost is wrapped by the errors of a Lock whose connection dropped:
// PostgreSQL then released the lock, and another process may hold it now.
var ErrLockLost = errors.New("the lock was lost: its database connection dropped")

// Lock is a PostgreSQL session advisory lock taken by AcquireLock. It lives
// on a dedicated connection, so it is held across any work done through the
// Store meanwhile, until Release or until that connection drops: then
// PostgreSQL releases it, and Check says so. It is safe for concurrent use.
type Lock struct {
	key string
	id  int64

	mu       sync.Mutex
	conn     *sql.Conn
	lost     error // set once the lock is known lost
	released bool
}

// TryLock takes the advisory lock named key without waiting (AcquireLock)
// and returns the function that releases it. That function's error wraps
// ErrLockLost when the lock was lost before it was called: whatever the
// lock protected may have been done twice, so the error must not be
// ignored. Work that must not go on without the lock uses AcquireLock and
// Lock.Check.
func (s *Store) TryLock(ctx context.Context, key string) (unlock func() error, ok bool, err error) {
	l, ok, err := s.AcquireLock(ctx, key)
	if err != nil || !ok {
		return nil, ok, err
	}
	return l.Release, true, nil
}

// AcquireLock takes the PostgreSQL session advisory lock named key without
// waiting. ok is false when another session holds it. Advisory locks belong
// to the whole database, so the key is taken within the store's schema: two
// stores in one database (two merchants, or parallel tests) never block
// each other.
func (s *Store) AcquireLock(ctx context.Context, key string) (l *Lock, ok bool, err error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("locking %q: %w", key, err)
	}
	var id int64
	if err := conn.QueryRowContext(ctx, `SELECT id, pg_try_advisory_lock(id)
		FROM (SELECT hashtextextended(current_schema() || ':' || $1, 0) AS id) k`, key).Scan(&id, &ok); err != nil || !ok {
		conn.Close()
		if err != nil {
			return nil, false, fmt.Errorf("locking %q: %w", key, err)
		}
		return nil, false, nil
	}
	return &Lock{key: key, id: id, conn: conn}, true, nil
}

// lockCheckTimeout bounds how long Check waits for the database: a lock
// that cannot be confirmed is treated as lost.
const lockCheckTimeout = 10 * time.Second

// Check reports whether the lock is still held: nil if PostgreSQL confirms
// it, an error wrapping ErrLockLost if its connection dropped or cannot
// confirm it within 10 seconds, ctx's error if ctx ended first. A lock once
// lost stays lost.
func (l *Lock) Check(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.lost != nil {
		return l.lost
	}
	if l.released {
		return fmt.Errorf("lock %q: already released", l.key)
	}
	qctx, cancel := context.WithTimeout(ctx, lockCheckTimeout)
	defer cancel()
	var held bool
	err := l.conn.QueryRowContext(qctx, `SELECT EXISTS (SELECT FROM pg_locks
		WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted AND objsubid = 1
		AND classid = (($1::bigint >> 32) & 4294967295)::oid AND objid = ($1::bigint & 4294967295)::oid)`, l.id).Scan(&held)
	switch {
	case err != nil && ctx.Err() != nil:
		return ctx.Err()
	case err != nil:
		l.lost = fmt.Errorf("lock %q: %w (%v)", l.key, ErrLockLost, err)
	case !held:
		l.lost = fmt.Errorf("lock %q: %w (the session no longer holds it)", l.key, ErrLockLost)
	default:
		return nil
	}
	l.conn.Close() // its session is gone, or holds nothing: do not return it to the pool
	return l.lost
}

// Guard returns a context derived from ctx that is cancelled, with a cause
// wrapping ErrLockLost (context.Cause), as soon as Check, run every
// interval, finds the lock lost; so that work under the lock stops instead
// of going on unprotected. Call stop when the work is done.
func (l *Lock) Guard(ctx context.Context, interval time.Duration) (guarded context.Context, stop func()) {
	guarded, cancel := context.WithCancelCause(ctx)
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-guarded.Done():
				return
			case <-t.C:
				if err := l.Check(guarded); errors.Is(err, ErrLockLost) {
					cancel(err)
					return
				}
			}
		}
	}()
	return guarded, func() {
		close(done)
		<-finished
		cancel(nil)
	}
}

// Release releases the lock and its connection. Its error wraps ErrLockLost
// when the lock had been lost: whatever it protected may have been done
// twice meanwhile. Releasing twice is an error.
func (l *Lock) Release() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.released {
		return fmt.Errorf("unlocking %q: already released", l.key)
	}
	l.released = true
	if l.lost != nil {
		return l.lost
	}
	defer l.conn.Close()
	var released bool
	if err := l.conn.QueryRowContext(context.Background(), "SELECT pg_advisory_unlock($1)", l.id).Scan(&released); err != nil {
		return fmt.Errorf("unlocking %q: %w (%v)", l.key, ErrLockLost, err)
	}
	if !released {
		return fmt.Errorf("unlocking %q: %w (the session no longer held it)", l.key, ErrLockLost)
	}
	return nil
}
