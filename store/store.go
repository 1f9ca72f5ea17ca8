package store

import (
	"context"
	"time"
)

// Store keeps versioned [Record]s. It is the SPI the appprofile Manager is written against; the
// implementations in this module are store/memstore, store/sqlite and store/postgres.
//
// Contract, checked by store/storetest:
//   - Every method that does I/O takes a context first, honours its cancellation and deadline, and
//     never keeps it after returning. A cancelled context yields an error wrapping ctx.Err().
//   - A Store is safe for concurrent use by multiple goroutines.
//   - After Close every method returns an error wrapping [ErrClosed].
//   - Arguments that violate the contract yield a [*ValidationError] (errors.Is [ErrInvalid]),
//     never a panic.
//   - Returned records are copies: the caller may modify them freely.
type Store interface {
	// Get returns the record with the given ID, or an error wrapping ErrNotFound.
	Get(ctx context.Context, id string) (Record, error)

	// Create stores a new record and returns it as stored. The caller assigns rec.ID; the store
	// ignores rec.Version, rec.CreatedAt and rec.UpdatedAt and sets Version to 1 and both
	// timestamps to its clock's current time. It fails with ErrDuplicate (a [*DuplicateError])
	// when the ID exists or another record holds the same non-empty UniqueKey.
	Create(ctx context.Context, rec Record) (Record, error)

	// Update replaces the record with ID rec.ID, provided its stored version equals rec.Version
	// (the version the caller read). It returns the stored record with Version incremented by
	// one, CreatedAt unchanged and UpdatedAt set from the store's clock. It fails with
	// ErrNotFound when the record does not exist, ErrConflict (a [*ConflictError]) when the
	// version differs, and ErrDuplicate when the new UniqueKey is held by another record; in
	// every failure nothing is changed.
	Update(ctx context.Context, rec Record) (Record, error)

	// Delete removes the record with the given ID provided its stored version equals version.
	// It fails with ErrNotFound when there is no such record and ErrConflict when the version
	// differs. A deleted record's ID and UniqueKey may be used again by a later Create.
	Delete(ctx context.Context, id string, version int64) error

	// List returns one page of the records that match f, in ascending order of ID (byte-wise),
	// and the cursor of the next page, which is "" after the last page. Pass the cursor back in
	// Page.Cursor together with the same filter to continue; a cursor used with a different
	// filter is refused with ErrInvalid. Cursors are opaque, contain no secrets, and stay valid
	// across process restarts, so a fleet scan can resume after a crash.
	//
	// Paging is keyset-based: a record that exists when the scan starts and is not deleted
	// during it is returned exactly once, however many records are created or deleted
	// meanwhile. Records created during the scan are returned if their ID sorts after the
	// current position.
	List(ctx context.Context, f Filter, p Page) (records []Record, next string, err error)

	// Close releases the store's resources. It is idempotent; calls made after Close fail with
	// ErrClosed. Calls in flight when Close is called may complete or fail with ErrClosed.
	Close() error
}

// NonceStore is an optional capability of a [Store]: single-use nonces for consent state, so a
// consent callback is honoured exactly once even when several processes share the database.
// All stores in this module implement it; discover it with a type assertion:
//
//	ns, ok := st.(store.NonceStore)
type NonceStore interface {
	// ConsumeNonce records nonce as used until expiresAt. The first call for a nonce succeeds;
	// every later call, from any goroutine, connection or process sharing the store, fails with
	// an error wrapping ErrNonceReused. A call whose expiresAt is not after the store's current
	// time fails with ErrNonceExpired before anything else is checked (the store may already have
	// pruned the record of an earlier use, so it cannot vouch for the nonce); pass the expiry the
	// consent state carries, never a fresh one. Expired entries may be pruned at any time.
	// The nonce must be 1 to 512 bytes of valid UTF-8 without NUL; it is never logged.
	ConsumeNonce(ctx context.Context, nonce string, expiresAt time.Time) error
}

// Record is one stored profile: identity, version, indexed fields and an opaque payload.
//
// Text fields must be valid UTF-8 without NUL bytes and at most [MaxFieldLen] bytes long; IDs at
// most [MaxIDLen]. See [Record.Validate]. Timestamps are UTC with microsecond precision (the
// precision every store keeps). An empty Services or Payload is returned as nil.
type Record struct {
	// ID identifies the record. The caller assigns it (the manager generates one per profile);
	// it is never changed by the store. Required.
	ID string
	// Version is 1 after Create and grows by one with each Update. On Update it is the version
	// the caller read (the expected version).
	Version int64

	// Indexed fields, matched exactly by [Filter]. All optional.
	Customer string   // the MSP's customer reference
	Tenant   string   // the customer's Entra tenant ID
	Services []string // services the profile serves; a filter on Service matches any element; no duplicates or empty elements
	AppType  string   // vendor app or customer's own app
	Mode     string   // e.g. admin or user consent
	Status   string   // e.g. Valid, Expired, Invalid

	// UniqueKey, when non-empty, must not be shared by two records (ErrDuplicate). The manager
	// uses it for "one profile per (tenant, app type)".
	UniqueKey string

	// CreatedAt and UpdatedAt are set by the store from its clock; values passed in are ignored.
	CreatedAt time.Time
	UpdatedAt time.Time

	// Payload is opaque to the store, at most [MaxPayloadSize] bytes. Callers must not put
	// unsealed secrets in it.
	Payload []byte
}

// Clone returns a deep copy of r (Services and Payload are copied).
func (r Record) Clone() Record {
	if r.Services != nil {
		r.Services = append([]string(nil), r.Services...)
	}
	if r.Payload != nil {
		r.Payload = append([]byte(nil), r.Payload...)
	}
	return r
}

// Filter selects records for [Store.List]. A zero field matches everything; non-zero fields are
// combined with AND. Text fields match exactly (byte-wise, case-sensitive).
type Filter struct {
	Customer string
	Tenant   string
	Service  string // matches records whose Services contain it
	AppType  string
	Mode     string
	Status   string

	// UpdatedBefore, when non-zero, keeps records with UpdatedAt strictly before it;
	// UpdatedAfter, when non-zero, keeps records with UpdatedAt strictly after it. Both are
	// compared at microsecond precision (they are truncated like stored timestamps).
	UpdatedBefore time.Time
	UpdatedAfter  time.Time
}

// Match reports whether r satisfies f. It is the reference semantics of filtering; in-memory
// implementations use it directly.
func (f Filter) Match(r Record) bool {
	if f.Customer != "" && r.Customer != f.Customer ||
		f.Tenant != "" && r.Tenant != f.Tenant ||
		f.AppType != "" && r.AppType != f.AppType ||
		f.Mode != "" && r.Mode != f.Mode ||
		f.Status != "" && r.Status != f.Status {
		return false
	}
	if f.Service != "" {
		found := false
		for _, s := range r.Services {
			if s == f.Service {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	if !f.UpdatedBefore.IsZero() && !Timestamp(r.UpdatedAt).Before(Timestamp(f.UpdatedBefore)) {
		return false
	}
	if !f.UpdatedAfter.IsZero() && !Timestamp(r.UpdatedAt).After(Timestamp(f.UpdatedAfter)) {
		return false
	}
	return true
}

// Page selects a page of [Store.List] results.
type Page struct {
	// Limit is the maximum number of records to return: 0 means [DefaultLimit], values above
	// [MaxLimit] are lowered to MaxLimit, negative values are refused.
	Limit int
	// Cursor is "" for the first page, otherwise the next cursor a previous List returned for
	// the same filter.
	Cursor string
}

// Timestamp normalizes t the way every store keeps times: UTC, truncated to the microsecond.
// The zero time stays zero.
func Timestamp(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Microsecond)
}
