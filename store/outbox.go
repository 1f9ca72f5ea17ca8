package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// OutboxStore is an optional capability of a [Store]: a transactional outbox for status events
// and an append-only history, both written in the same transaction as the record they describe,
// so a process that dies right after a write can lose neither the event nor the history entry.
// store/memstore, store/sqlite and store/postgres implement it; discover it with a type assertion:
//
//	os, ok := st.(store.OutboxStore)
//
// Delivery is a claim–acknowledge protocol for dispatchers (the appprofile Dispatcher is one):
// [OutboxStore.ClaimEvents] leases events to one dispatcher, which acknowledges each delivered
// event with [OutboxStore.AckEvent] (the store then forgets it) or hands a failed one back with
// [OutboxStore.RetryEvent]. Events that share a Key are claimed strictly one at a time, in the
// order they were written: the next one becomes claimable only after the previous one was
// acknowledged. Several dispatchers, in one process or many sharing the database, may claim at
// once; a claimed event is leased to exactly one of them until its lease runs out.
//
// Every method follows the [Store] contract (context first, ErrClosed after Close, a
// [*ValidationError] for bad arguments, safe for concurrent use). Times are read from the
// store's clock.
type OutboxStore interface {
	// UpdateWithEvents is [Store.Update] that, in the same transaction, appends events to the
	// outbox and entries to the history. Either the record, every event and every entry are
	// stored, or (on any error, including ErrConflict) none of them is. With no events and no
	// entries it is Update. The store assigns each event's and entry's Seq and each event's
	// CreatedAt; the caller sets the rest.
	UpdateWithEvents(ctx context.Context, rec Record, events []OutboxEvent, history []HistoryEntry) (Record, error)

	// DeleteWithEvents is [Store.Delete] that, in the same transaction, appends events and
	// history entries (a record's history outlives it, so its last entry can say it was
	// deleted). Either the deletion, every event and every entry are stored, or none of them.
	DeleteWithEvents(ctx context.Context, id string, version int64, events []OutboxEvent, history []HistoryEntry) error

	// ClaimEvents leases to owner up to limit events that are due (their retry time has come)
	// and not leased to anyone (or whose lease ran out), at most one per Key — the oldest
	// unacknowledged one — in ascending Seq. The lease lasts lease (at least a millisecond).
	// Attempts of each returned event counts this claim. owner names the claiming dispatcher:
	// 1 to [MaxIDLen] bytes, unique per dispatcher. limit 0 means [DefaultLimit]; above
	// [MaxLimit] it is lowered. On PostgreSQL concurrent claimers skip each other's rows
	// (FOR UPDATE SKIP LOCKED) instead of waiting.
	ClaimEvents(ctx context.Context, owner string, lease time.Duration, limit int) ([]OutboxEvent, error)

	// AckEvent records that the event with seq was delivered: the store deletes it, and the
	// next event with its Key becomes claimable. It fails with an error wrapping
	// [ErrLeaseLost] when owner no longer holds the event's lease (it ran out and another
	// dispatcher claimed the event, or the event was already acknowledged).
	AckEvent(ctx context.Context, seq int64, owner string) error

	// RetryEvent hands back an event owner failed to deliver: the lease ends and the event is
	// claimable again after retryAfter (zero or more), still ahead of every later event with
	// its Key. lastError (at most [MaxFieldLen] bytes, truncated beyond; never a secret) is kept
	// in the event's LastError for operators. It fails with ErrLeaseLost like AckEvent.
	RetryEvent(ctx context.Context, seq int64, owner string, retryAfter time.Duration, lastError string) error

	// History returns up to q.Limit history entries matching q, in ascending Seq (the order
	// they were written). Page on by passing the last Seq returned as q.AfterSeq.
	History(ctx context.Context, q HistoryQuery) ([]HistoryEntry, error)

	// PruneHistory deletes every history entry whose At is before before and returns how many
	// it deleted. It is how an embedder enforces a retention period.
	PruneHistory(ctx context.Context, before time.Time) (int64, error)
}

// ErrLeaseLost means an outbox event is no longer leased to the dispatcher that tried to
// acknowledge or release it: its lease ran out and another dispatcher claimed it, or it was
// already acknowledged. The event may be delivered again; handlers deduplicate by the event's
// idempotency key.
var ErrLeaseLost = errors.New("store: outbox event lease lost")

// OutboxEvent is one event in an [OutboxStore]'s outbox.
type OutboxEvent struct {
	// Seq is assigned by the store when the event is written: unique in the store, never
	// reused, ascending in the order events with the same Key were written.
	Seq int64
	// Key orders events: those with the same Key are delivered one at a time, in Seq order.
	// The Manager uses the profile ID. Required; an ID-like string (see [ValidateID]).
	Key string
	// ID is the caller's idempotency key of the event, handed to the handler so it can drop a
	// redelivery. Required; an ID-like string.
	ID string
	// Payload is opaque to the store, at most [MaxPayloadSize] bytes; never a secret.
	Payload []byte
	// CreatedAt is set by the store from its clock when the event is written.
	CreatedAt time.Time
	// Attempts counts the claims of the event so far, including the current one.
	Attempts int
	// LastError is the error of the last failed delivery (RetryEvent), "" if none.
	LastError string
}

// HistoryEntry is one entry of an [OutboxStore]'s append-only history.
type HistoryEntry struct {
	// Seq is assigned by the store: unique, ascending in write order.
	Seq int64
	// RecordID is the record the entry is about. Required; an ID-like string. Entries outlive
	// their record: deleting the record keeps its history.
	RecordID string
	// Tenant is the record's tenant, for queries by tenant (at most [MaxFieldLen] bytes).
	Tenant string
	// At is when the described change happened, set by the caller; stored like every
	// timestamp (UTC, microseconds). Required.
	At time.Time
	// Payload is opaque to the store, at most [MaxPayloadSize] bytes; never a secret.
	Payload []byte
}

// HistoryQuery selects history entries. Zero fields match everything; fields combine with AND.
type HistoryQuery struct {
	RecordID string
	Tenant   string
	// From (inclusive) and To (exclusive) bound At when non-zero.
	From, To time.Time
	// AfterSeq returns only entries with a larger Seq (paging).
	AfterSeq int64
	// Limit is the maximum number of entries: 0 means [DefaultLimit], above [MaxLimit] it is
	// lowered, negative is refused.
	Limit int
}

// Match reports whether e satisfies q (apart from Limit). In-memory implementations use it.
func (q HistoryQuery) Match(e HistoryEntry) bool {
	return (q.RecordID == "" || e.RecordID == q.RecordID) &&
		(q.Tenant == "" || e.Tenant == q.Tenant) &&
		(q.From.IsZero() || !Timestamp(e.At).Before(Timestamp(q.From))) &&
		(q.To.IsZero() || Timestamp(e.At).Before(Timestamp(q.To))) &&
		e.Seq > q.AfterSeq
}

// Normalize validates q and returns its effective limit.
func (q HistoryQuery) Normalize() (int, error) {
	if q.RecordID != "" {
		if err := ValidateID(q.RecordID); err != nil {
			return 0, &ValidationError{Field: "HistoryQuery.RecordID", Problem: err.(*ValidationError).Problem}
		}
	}
	if err := validateText("HistoryQuery.Tenant", q.Tenant, MaxFieldLen); err != nil {
		return 0, err
	}
	if q.AfterSeq < 0 {
		return 0, &ValidationError{Field: "HistoryQuery.AfterSeq", Problem: "negative; pass 0 or the Seq of the last entry returned"}
	}
	return normalizeLimit("HistoryQuery.Limit", q.Limit)
}

func normalizeLimit(field string, limit int) (int, error) {
	switch {
	case limit < 0:
		return 0, &ValidationError{Field: field, Problem: fmt.Sprintf("%d; pass 0 for the default or a positive number", limit)}
	case limit == 0:
		return DefaultLimit, nil
	case limit > MaxLimit:
		return MaxLimit, nil
	}
	return limit, nil
}

// ValidateOutboxWrite checks the events and entries of an UpdateWithEvents call.
func ValidateOutboxWrite(events []OutboxEvent, history []HistoryEntry) error {
	for i, e := range events {
		for _, f := range []struct{ name, v string }{{"Key", e.Key}, {"ID", e.ID}} {
			if err := ValidateID(f.v); err != nil {
				return &ValidationError{Field: fmt.Sprintf("events[%d].%s", i, f.name), Problem: err.(*ValidationError).Problem}
			}
		}
		if len(e.Payload) > MaxPayloadSize {
			return &ValidationError{Field: fmt.Sprintf("events[%d].Payload", i), Problem: fmt.Sprintf("%d bytes; at most %d are allowed", len(e.Payload), MaxPayloadSize)}
		}
	}
	for i, h := range history {
		if err := ValidateID(h.RecordID); err != nil {
			return &ValidationError{Field: fmt.Sprintf("history[%d].RecordID", i), Problem: err.(*ValidationError).Problem}
		}
		if err := validateText(fmt.Sprintf("history[%d].Tenant", i), h.Tenant, MaxFieldLen); err != nil {
			return err
		}
		if h.At.IsZero() {
			return &ValidationError{Field: fmt.Sprintf("history[%d].At", i), Problem: "zero; set when the change happened"}
		}
		if len(h.Payload) > MaxPayloadSize {
			return &ValidationError{Field: fmt.Sprintf("history[%d].Payload", i), Problem: fmt.Sprintf("%d bytes; at most %d are allowed", len(h.Payload), MaxPayloadSize)}
		}
	}
	return nil
}

// ValidateClaim checks ClaimEvents' arguments and returns the effective limit.
func ValidateClaim(owner string, lease time.Duration, limit int) (int, error) {
	if err := ValidateOwner(owner); err != nil {
		return 0, err
	}
	if lease < time.Millisecond {
		return 0, &ValidationError{Field: "lease", Problem: fmt.Sprintf("%v; leases last at least a millisecond (longer than a delivery takes)", lease)}
	}
	return normalizeLimit("limit", limit)
}

// ValidateOwner checks a dispatcher's owner name.
func ValidateOwner(owner string) error {
	if err := ValidateID(owner); err != nil {
		return &ValidationError{Field: "owner", Problem: err.(*ValidationError).Problem}
	}
	return nil
}

// ValidateRetry checks RetryEvent's arguments and returns lastError truncated to MaxFieldLen
// bytes of valid UTF-8 without NUL.
func ValidateRetry(seq int64, owner string, retryAfter time.Duration, lastError string) (string, error) {
	if err := ValidateOwner(owner); err != nil {
		return "", err
	}
	if seq < 1 {
		return "", &ValidationError{Field: "seq", Problem: fmt.Sprintf("%d; pass the Seq of a claimed event", seq)}
	}
	if retryAfter < 0 {
		return "", &ValidationError{Field: "retryAfter", Problem: fmt.Sprintf("%v; pass zero or a positive delay", retryAfter)}
	}
	return cleanText(lastError, MaxFieldLen), nil
}

// cleanText returns s with invalid UTF-8 and NUL bytes replaced and cut to at most max bytes
// on a rune boundary.
func cleanText(s string, max int) string {
	s = strings.ToValidUTF8(strings.ReplaceAll(s, "\x00", " "), "\uFFFD")
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}
