package sqlq

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/tenantapps/tenantapps/store"
)

// Guard is a SQL store's closed flag and the error vocabulary built on it: every error it returns
// starts with the store's name and the operation, e.g. `sqlite: get "x": store: store is closed`.
// Embed it in the store by value and set Name; it must not be copied after first use.
type Guard struct {
	Name   string // "sqlite" or "postgres"
	closed atomic.Bool
}

// Close marks the store closed: from then on Begin and Fail report [store.ErrClosed].
func (g *Guard) Close() { g.closed.Store(true) }

// Begin checks the preconditions every call shares, before its arguments: the store is not
// closed (else an error wrapping store.ErrClosed) and ctx has not ended (else one wrapping
// ctx.Err()).
func (g *Guard) Begin(ctx context.Context, op string) error { return g.wrap(ctx, op, nil) }

// Fail turns a driver error into the store's error vocabulary: store.ErrClosed after Close, the
// context's error when it ended (the driver's own error for that is less useful), otherwise err;
// always prefixed with the store's name and op.
func (g *Guard) Fail(ctx context.Context, op string, err error) error { return g.wrap(ctx, op, err) }

// FailRead is Fail for a query that reads one record's row: when err is the driver's no-rows
// sentinel noRows (pgx.ErrNoRows, sql.ErrNoRows) the record does not exist, and the error wraps
// store.ErrNotFound whether or not the store has been closed since.
func (g *Guard) FailRead(ctx context.Context, op string, err, noRows error) error {
	if errors.Is(err, noRows) {
		return fmt.Errorf("%s: %s: %w", g.Name, op, store.ErrNotFound)
	}
	return g.Fail(ctx, op, err)
}

// wrap returns the first of store.ErrClosed (when closed), ctx.Err() and err, prefixed with the
// store's name and op; nil when all three are nil.
func (g *Guard) wrap(ctx context.Context, op string, err error) error {
	if g.closed.Load() {
		err = store.ErrClosed
	} else if cerr := ctx.Err(); cerr != nil {
		err = cerr
	}
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %s: %w", g.Name, op, err)
}

// Scanner is one row of a result: pgx.Row, *sql.Row, pgx.Rows and *sql.Rows all have it.
type Scanner interface {
	Scan(dest ...any) error
}

// Rows is a result set as [Collect] reads it: pgx.Rows and *sql.Rows both have it.
type Rows interface {
	Scanner
	Next() bool
	Err() error
}

// Collect reads the rows of a [List] query for filter f and limit with scan (the store's own
// record decoder) and returns the page and its next cursor, as [Page] does. It returns the first
// error of scan or rows as it is, for the store to map; the caller closes rows.
func Collect(rows Rows, scan func(Scanner) (store.Record, error), f store.Filter, limit int) ([]store.Record, string, error) {
	recs := make([]store.Record, 0, min(limit+1, 64))
	for rows.Next() {
		r, err := scan(rows)
		if err != nil {
			return nil, "", err
		}
		recs = append(recs, r)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	recs, next := Page(f, recs, limit)
	return recs, next, nil
}

// Normalized returns r with empty Services and Payload as nil, as every store returns them (a
// database hands back empty arrays and blobs).
func Normalized(r store.Record) store.Record {
	if len(r.Services) == 0 {
		r.Services = nil
	}
	if len(r.Payload) == 0 {
		r.Payload = nil
	}
	return r
}

// Created returns rec, which Create wrote with both timestamps now, as Create returns it:
// version 1, CreatedAt and UpdatedAt now, empty slices nil. now is already a [store.Timestamp].
func Created(rec store.Record, now time.Time) store.Record {
	rec.Version, rec.CreatedAt, rec.UpdatedAt = 1, now, now
	return Normalized(rec)
}

// Updated returns rec, which Update wrote over version rec.Version with UpdatedAt now, as Update
// returns it: the next version, the stored record's createdAt (in UTC), UpdatedAt now, empty
// slices nil. now is already a [store.Timestamp].
func Updated(rec store.Record, createdAt, now time.Time) store.Record {
	rec.Version++
	rec.CreatedAt, rec.UpdatedAt = createdAt.UTC(), now
	return Normalized(rec)
}

// PruneTimer decides which ConsumeNonce calls also delete expired nonces: at most one a minute
// per store, however many goroutines call. The zero value is ready; the first call prunes.
type PruneTimer struct {
	last atomic.Int64 // Unix microseconds of the last prune
}

// Due reports whether the call made at now should prune; it claims the prune for that call.
func (p *PruneTimer) Due(now time.Time) bool {
	last := p.last.Load()
	return now.UnixMicro()-last >= time.Minute.Microseconds() && p.last.CompareAndSwap(last, now.UnixMicro())
}
