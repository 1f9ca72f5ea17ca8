package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/tenantapps/tenantapps/store"
	"github.com/tenantapps/tenantapps/store/internal/sqlq"
)

// UpdateWithEvents implements [store.OutboxStore]: the record, the events and the history
// entries are written in one IMMEDIATE transaction, so after a crash either all of them are in
// the file or none is.
func (s *Store) UpdateWithEvents(ctx context.Context, rec store.Record, events []store.OutboxEvent, history []store.HistoryEntry) (store.Record, error) {
	if err := s.guard.Begin(ctx, "update"); err != nil {
		return store.Record{}, err
	}
	if err := store.ValidateOutboxWrite(events, history); err != nil {
		return store.Record{}, err
	}
	if len(events) == 0 && len(history) == 0 {
		return s.update(ctx, rec, nil)
	}
	return s.update(ctx, rec, insertOutbox(ctx, events, history))
}

// DeleteWithEvents implements [store.OutboxStore]: one IMMEDIATE transaction, like
// UpdateWithEvents.
func (s *Store) DeleteWithEvents(ctx context.Context, id string, version int64, events []store.OutboxEvent, history []store.HistoryEntry) error {
	if err := s.guard.Begin(ctx, "delete"); err != nil {
		return err
	}
	if err := store.ValidateOutboxWrite(events, history); err != nil {
		return err
	}
	return s.delete(ctx, id, version, insertOutbox(ctx, events, history))
}

// insertOutbox returns the statements that append events and history in a write transaction.
func insertOutbox(ctx context.Context, events []store.OutboxEvent, history []store.HistoryEntry) func(*sql.Tx, time.Time) error {
	return func(tx *sql.Tx, now time.Time) error {
		for _, e := range events {
			if _, err := tx.ExecContext(ctx, `INSERT INTO outbox (key, event_id, payload, created_at, available_at)
				VALUES (?, ?, ?, ?, ?)`, e.Key, e.ID, sqlq.PayloadArg(e.Payload), now.UnixMicro(), now.UnixMicro()); err != nil {
				return err
			}
		}
		for _, h := range history {
			if _, err := tx.ExecContext(ctx, `INSERT INTO history (record_id, tenant, at, payload) VALUES (?, ?, ?, ?)`,
				h.RecordID, h.Tenant, store.Timestamp(h.At).UnixMicro(), sqlq.PayloadArg(h.Payload)); err != nil {
				return err
			}
		}
		return nil
	}
}

// ClaimEvents implements [store.OutboxStore]. SQLite serializes writers, so a claim is one
// IMMEDIATE transaction and two claimers never lease the same event.
func (s *Store) ClaimEvents(ctx context.Context, owner string, lease time.Duration, limit int) ([]store.OutboxEvent, error) {
	if err := s.guard.Begin(ctx, "claim events"); err != nil {
		return nil, err
	}
	limit, err := store.ValidateClaim(owner, lease, limit)
	if err != nil {
		return nil, err
	}
	now := s.now().UnixMicro()
	var out []store.OutboxEvent
	err = s.writeTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `UPDATE outbox SET lease_owner = ?, lease_until = ?, attempts = attempts + 1
			WHERE seq IN (
				SELECT e.seq FROM outbox e
				WHERE e.available_at <= ? AND (e.lease_until IS NULL OR e.lease_until <= ?)
				  AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.key = e.key AND p.seq < e.seq)
				ORDER BY e.seq LIMIT ?)
			RETURNING seq, key, event_id, payload, created_at, attempts, last_error`,
			owner, now+lease.Microseconds(), now, now, limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				e       store.OutboxEvent
				created int64
			)
			if err := rows.Scan(&e.Seq, &e.Key, &e.ID, &e.Payload, &created, &e.Attempts, &e.LastError); err != nil {
				return err
			}
			e.CreatedAt = time.UnixMicro(created).UTC()
			if len(e.Payload) == 0 {
				e.Payload = nil
			}
			out = append(out, e)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, s.guard.Fail(ctx, "claim events", err)
	}
	slices.SortFunc(out, func(a, b store.OutboxEvent) int { return cmp.Compare(a.Seq, b.Seq) })
	return out, nil
}

var errLeaseLost = errors.New("lease lost")

// leasedWrite runs query (which must affect the row of a leased event) and maps "no row" to
// store.ErrLeaseLost.
func (s *Store) leasedWrite(ctx context.Context, op string, seq int64, query string, args ...any) error {
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, query, args...)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return errLeaseLost
		}
		return nil
	})
	if errors.Is(err, errLeaseLost) {
		return fmt.Errorf("sqlite: %s %d: %w", op, seq, store.ErrLeaseLost)
	}
	if err != nil {
		return s.guard.Fail(ctx, fmt.Sprintf("%s %d", op, seq), err)
	}
	return nil
}

// AckEvent implements [store.OutboxStore].
func (s *Store) AckEvent(ctx context.Context, seq int64, owner string) error {
	if err := s.guard.Begin(ctx, "ack event"); err != nil {
		return err
	}
	if _, err := store.ValidateRetry(seq, owner, 0, ""); err != nil {
		return err
	}
	return s.leasedWrite(ctx, "ack event", seq, "DELETE FROM outbox WHERE seq = ? AND lease_owner = ?", seq, owner)
}

// RetryEvent implements [store.OutboxStore].
func (s *Store) RetryEvent(ctx context.Context, seq int64, owner string, retryAfter time.Duration, lastError string) error {
	if err := s.guard.Begin(ctx, "retry event"); err != nil {
		return err
	}
	lastError, err := store.ValidateRetry(seq, owner, retryAfter, lastError)
	if err != nil {
		return err
	}
	return s.leasedWrite(ctx, "retry event", seq, `UPDATE outbox SET lease_owner = NULL, lease_until = NULL,
		available_at = ?, last_error = ? WHERE seq = ? AND lease_owner = ?`,
		s.now().Add(retryAfter).UnixMicro(), lastError, seq, owner)
}

// History implements [store.OutboxStore].
func (s *Store) History(ctx context.Context, q store.HistoryQuery) ([]store.HistoryEntry, error) {
	if err := s.guard.Begin(ctx, "history"); err != nil {
		return nil, err
	}
	limit, err := q.Normalize()
	if err != nil {
		return nil, err
	}
	query, args := sqlq.History(dialect, "history", q, limit)
	rows, err := s.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, s.guard.Fail(ctx, "history", err)
	}
	defer rows.Close()
	out, err := sqlq.CollectHistory(rows, func(at int64) time.Time { return time.UnixMicro(at) })
	if err != nil {
		return nil, s.guard.Fail(ctx, "history", err)
	}
	return out, nil
}

// PruneHistory implements [store.OutboxStore].
func (s *Store) PruneHistory(ctx context.Context, before time.Time) (int64, error) {
	if err := s.guard.Begin(ctx, "prune history"); err != nil {
		return 0, err
	}
	var n int64
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "DELETE FROM history WHERE at < ?", store.Timestamp(before).UnixMicro())
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, s.guard.Fail(ctx, "prune history", err)
	}
	return n, nil
}
