package postgres

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tenantapps/tenantapps/store"
	"github.com/tenantapps/tenantapps/store/internal/sqlq"
)

type outboxQueries struct {
	insertEvent, insertEntry, claim, ack, retry, prune string
	history                                            string // the table
}

func newOutboxQueries(qs string) outboxQueries {
	return outboxQueries{
		insertEvent: "INSERT INTO " + qs + ".outbox (key, event_id, payload, created_at, available_at) VALUES ($1, $2, $3, $4, $4)",
		insertEntry: "INSERT INTO " + qs + ".history (record_id, tenant, at, payload) VALUES ($1, $2, $3, $4)",
		// The head event of each key that is due and not leased, locked without waiting for
		// rows another dispatcher is claiming right now (SKIP LOCKED): concurrent claimers
		// split the due events between them, and a key's later events stay behind its head
		// (NOT EXISTS) until the head is acknowledged and deleted.
		claim: "UPDATE " + qs + `.outbox o SET lease_owner = $1, lease_until = $2, attempts = o.attempts + 1
			WHERE o.seq IN (
				SELECT e.seq FROM ` + qs + `.outbox e
				WHERE e.available_at <= $3 AND (e.lease_until IS NULL OR e.lease_until <= $3)
				  AND NOT EXISTS (SELECT 1 FROM ` + qs + `.outbox p WHERE p.key = e.key AND p.seq < e.seq)
				ORDER BY e.seq LIMIT $4
				FOR UPDATE OF e SKIP LOCKED)
			RETURNING o.seq, o.key, o.event_id, o.payload, o.created_at, o.attempts, o.last_error`,
		ack: "DELETE FROM " + qs + ".outbox WHERE seq = $1 AND lease_owner = $2",
		retry: "UPDATE " + qs + `.outbox SET lease_owner = NULL, lease_until = NULL, available_at = $3, last_error = $4
			WHERE seq = $1 AND lease_owner = $2`,
		history: qs + ".history",
		prune:   "DELETE FROM " + qs + ".history WHERE at < $1",
	}
}

// UpdateWithEvents implements [store.OutboxStore]: the versioned update, the events and the
// history entries are one transaction.
func (s *Store) UpdateWithEvents(ctx context.Context, rec store.Record, events []store.OutboxEvent, history []store.HistoryEntry) (store.Record, error) {
	if err := s.guard.Begin(ctx, "update"); err != nil {
		return store.Record{}, err
	}
	if err := store.ValidateOutboxWrite(events, history); err != nil {
		return store.Record{}, err
	}
	if len(events) == 0 && len(history) == 0 {
		return s.Update(ctx, rec)
	}
	return s.update(ctx, rec, func(write func(querier) error) error {
		return s.withOutbox(ctx, events, history, func(tx pgx.Tx) error { return write(tx) })
	})
}

// DeleteWithEvents implements [store.OutboxStore]: the versioned delete, the events and the
// history entries are one transaction.
func (s *Store) DeleteWithEvents(ctx context.Context, id string, version int64, events []store.OutboxEvent, history []store.HistoryEntry) error {
	if err := s.guard.Begin(ctx, "delete"); err != nil {
		return err
	}
	if err := store.ValidateOutboxWrite(events, history); err != nil {
		return err
	}
	if err := store.ValidateID(id); err != nil {
		return err
	}
	if err := store.ValidateVersion(version); err != nil {
		return err
	}
	if len(events) == 0 && len(history) == 0 {
		return s.delete(ctx, id, version, nil)
	}
	return s.delete(ctx, id, version, func(write func(execer) error) error {
		return s.withOutbox(ctx, events, history, func(tx pgx.Tx) error { return write(tx) })
	})
}

// withOutbox runs write and then appends events and history, in one transaction.
func (s *Store) withOutbox(ctx context.Context, events []store.OutboxEvent, history []store.HistoryEntry, write func(pgx.Tx) error) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if err := write(tx); err != nil {
		return err
	}
	now := store.Timestamp(s.now())
	for _, e := range events {
		if _, err := tx.Exec(ctx, s.q.outbox.insertEvent, e.Key, e.ID, sqlq.PayloadArg(e.Payload), now); err != nil {
			return err
		}
	}
	for _, h := range history {
		if _, err := tx.Exec(ctx, s.q.outbox.insertEntry, h.RecordID, h.Tenant, store.Timestamp(h.At), sqlq.PayloadArg(h.Payload)); err != nil {
			return err
		}
	}
	return tx.Commit(ctx)
}

// ClaimEvents implements [store.OutboxStore] with FOR UPDATE SKIP LOCKED, so several
// dispatchers (replicas) claim disjoint events without blocking each other.
func (s *Store) ClaimEvents(ctx context.Context, owner string, lease time.Duration, limit int) ([]store.OutboxEvent, error) {
	if err := s.guard.Begin(ctx, "claim events"); err != nil {
		return nil, err
	}
	limit, err := store.ValidateClaim(owner, lease, limit)
	if err != nil {
		return nil, err
	}
	now := s.now()
	rows, err := s.pool.Query(ctx, s.q.outbox.claim, owner, now.Add(lease), now, limit)
	if err != nil {
		return nil, s.guard.Fail(ctx, "claim events", err)
	}
	defer rows.Close()
	var out []store.OutboxEvent
	for rows.Next() {
		var e store.OutboxEvent
		if err := rows.Scan(&e.Seq, &e.Key, &e.ID, &e.Payload, &e.CreatedAt, &e.Attempts, &e.LastError); err != nil {
			return nil, s.guard.Fail(ctx, "claim events", err)
		}
		e.CreatedAt = e.CreatedAt.UTC()
		if len(e.Payload) == 0 {
			e.Payload = nil
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, s.guard.Fail(ctx, "claim events", err)
	}
	slices.SortFunc(out, func(a, b store.OutboxEvent) int { return cmp.Compare(a.Seq, b.Seq) })
	return out, nil
}

// AckEvent implements [store.OutboxStore].
func (s *Store) AckEvent(ctx context.Context, seq int64, owner string) error {
	if err := s.guard.Begin(ctx, "ack event"); err != nil {
		return err
	}
	if _, err := store.ValidateRetry(seq, owner, 0, ""); err != nil {
		return err
	}
	return s.leasedWrite(ctx, "ack event", seq, s.q.outbox.ack, seq, owner)
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
	return s.leasedWrite(ctx, "retry event", seq, s.q.outbox.retry, seq, owner, s.now().Add(retryAfter), lastError)
}

func (s *Store) leasedWrite(ctx context.Context, op string, seq int64, query string, args ...any) error {
	tag, err := s.pool.Exec(ctx, query, args...)
	if err != nil {
		return s.guard.Fail(ctx, fmt.Sprintf("%s %d", op, seq), err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: %s %d: %w", op, seq, store.ErrLeaseLost)
	}
	return nil
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
	query, args := sqlq.History(s.q.dialect, s.q.outbox.history, q, limit)
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, s.guard.Fail(ctx, "history", err)
	}
	defer rows.Close()
	out, err := sqlq.CollectHistory(rows, func(at time.Time) time.Time { return at })
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
	tag, err := s.pool.Exec(ctx, s.q.outbox.prune, store.Timestamp(before))
	if err != nil {
		return 0, s.guard.Fail(ctx, "prune history", err)
	}
	return tag.RowsAffected(), nil
}
