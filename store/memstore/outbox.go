package memstore

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/tenantapps/tenantapps/store"
)

// outbox is the memstore's outbox and history, guarded by Store.mu.
type outbox struct {
	events  []memEvent // ascending Seq
	history []store.HistoryEntry
	seq     int64 // last event Seq assigned
	hseq    int64 // last history Seq assigned
}

type memEvent struct {
	store.OutboxEvent
	availableAt time.Time
	owner       string
	leaseUntil  time.Time
}

func cloneEvent(e store.OutboxEvent) store.OutboxEvent {
	e.Payload = slices.Clone(e.Payload)
	if len(e.Payload) == 0 {
		e.Payload = nil
	}
	return e
}

func cloneEntry(h store.HistoryEntry) store.HistoryEntry {
	h.Payload = slices.Clone(h.Payload)
	if len(h.Payload) == 0 {
		h.Payload = nil
	}
	return h
}

// UpdateWithEvents implements [store.OutboxStore]: the record, the events and the entries are
// stored under one lock, so readers see all of them or none.
func (s *Store) UpdateWithEvents(ctx context.Context, rec store.Record, events []store.OutboxEvent, history []store.HistoryEntry) (store.Record, error) {
	if err := s.begin(ctx, "update"); err != nil {
		return store.Record{}, err
	}
	if err := store.ValidateOutboxWrite(events, history); err != nil {
		return store.Record{}, err
	}
	return s.update(ctx, rec, s.appendOutbox(events, history))
}

// DeleteWithEvents implements [store.OutboxStore].
func (s *Store) DeleteWithEvents(ctx context.Context, id string, version int64, events []store.OutboxEvent, history []store.HistoryEntry) error {
	if err := s.begin(ctx, "delete"); err != nil {
		return err
	}
	if err := store.ValidateOutboxWrite(events, history); err != nil {
		return err
	}
	return s.delete(ctx, id, version, s.appendOutbox(events, history))
}

// appendOutbox returns the write that appends events and history under s.mu.
func (s *Store) appendOutbox(events []store.OutboxEvent, history []store.HistoryEntry) func(time.Time) {
	return func(now time.Time) {
		now = store.Timestamp(now)
		for _, e := range events {
			s.outbox.seq++
			e = cloneEvent(e)
			e.Seq, e.CreatedAt, e.Attempts, e.LastError = s.outbox.seq, now, 0, ""
			s.outbox.events = append(s.outbox.events, memEvent{OutboxEvent: e, availableAt: now})
		}
		for _, h := range history {
			s.outbox.hseq++
			h = cloneEntry(h)
			h.Seq, h.At = s.outbox.hseq, store.Timestamp(h.At)
			s.outbox.history = append(s.outbox.history, h)
		}
	}
}

// ClaimEvents implements [store.OutboxStore].
func (s *Store) ClaimEvents(ctx context.Context, owner string, lease time.Duration, limit int) ([]store.OutboxEvent, error) {
	if err := s.begin(ctx, "claim events"); err != nil {
		return nil, err
	}
	limit, err := store.ValidateClaim(owner, lease, limit)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, closedErr("claim events")
	}
	now := s.now()
	seen := map[string]bool{} // keys whose head event was passed
	var out []store.OutboxEvent
	for i := range s.outbox.events {
		e := &s.outbox.events[i]
		if seen[e.Key] {
			continue
		}
		seen[e.Key] = true
		if e.availableAt.After(now) || e.owner != "" && e.leaseUntil.After(now) {
			continue
		}
		e.owner, e.leaseUntil = owner, now.Add(lease)
		e.Attempts++
		out = append(out, cloneEvent(e.OutboxEvent))
		if len(out) == limit {
			break
		}
	}
	return out, nil
}

// leased returns the index of the event seq leased to owner, or an error.
func (s *Store) leased(op string, seq int64, owner string) (int, error) {
	i, found := slices.BinarySearchFunc(s.outbox.events, seq, func(e memEvent, seq int64) int {
		switch {
		case e.Seq < seq:
			return -1
		case e.Seq > seq:
			return 1
		}
		return 0
	})
	if !found || s.outbox.events[i].owner != owner {
		return 0, fmt.Errorf("memstore: %s %d: %w", op, seq, store.ErrLeaseLost)
	}
	return i, nil
}

// AckEvent implements [store.OutboxStore].
func (s *Store) AckEvent(ctx context.Context, seq int64, owner string) error {
	if err := s.begin(ctx, "ack event"); err != nil {
		return err
	}
	if _, err := store.ValidateRetry(seq, owner, 0, ""); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return closedErr("ack event")
	}
	i, err := s.leased("ack event", seq, owner)
	if err != nil {
		return err
	}
	s.outbox.events = slices.Delete(s.outbox.events, i, i+1)
	return nil
}

// RetryEvent implements [store.OutboxStore].
func (s *Store) RetryEvent(ctx context.Context, seq int64, owner string, retryAfter time.Duration, lastError string) error {
	if err := s.begin(ctx, "retry event"); err != nil {
		return err
	}
	lastError, err := store.ValidateRetry(seq, owner, retryAfter, lastError)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return closedErr("retry event")
	}
	i, err := s.leased("retry event", seq, owner)
	if err != nil {
		return err
	}
	e := &s.outbox.events[i]
	e.owner, e.leaseUntil, e.availableAt, e.LastError = "", time.Time{}, s.now().Add(retryAfter), lastError
	return nil
}

// History implements [store.OutboxStore].
func (s *Store) History(ctx context.Context, q store.HistoryQuery) ([]store.HistoryEntry, error) {
	if err := s.begin(ctx, "history"); err != nil {
		return nil, err
	}
	limit, err := q.Normalize()
	if err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, closedErr("history")
	}
	var out []store.HistoryEntry
	for _, h := range s.outbox.history {
		if !q.Match(h) {
			continue
		}
		out = append(out, cloneEntry(h))
		if len(out) == limit {
			break
		}
	}
	return out, nil
}

// PruneHistory implements [store.OutboxStore].
func (s *Store) PruneHistory(ctx context.Context, before time.Time) (int64, error) {
	if err := s.begin(ctx, "prune history"); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, closedErr("prune history")
	}
	before = store.Timestamp(before)
	n := len(s.outbox.history)
	s.outbox.history = slices.DeleteFunc(s.outbox.history, func(h store.HistoryEntry) bool { return h.At.Before(before) })
	return int64(n - len(s.outbox.history)), nil
}
