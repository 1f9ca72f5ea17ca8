package store

import (
	"errors"
	"fmt"
)

// Sentinel errors. Implementations return them wrapped (usually inside one of the typed errors
// below); callers check them with [errors.Is].
var (
	// ErrNotFound means no record has the requested ID (it was never created or has been deleted).
	ErrNotFound = errors.New("store: record not found")

	// ErrConflict means the record's version is not the one the caller expected: another writer
	// updated or deleted it since the caller read it. Nothing was changed; read the record again,
	// reapply the change and retry. The concrete error is a [*ConflictError].
	ErrConflict = errors.New("store: version conflict")

	// ErrDuplicate means a Create used an ID that already exists, or a Create or Update would
	// give two records the same non-empty UniqueKey. Nothing was changed. The concrete error is a
	// [*DuplicateError].
	ErrDuplicate = errors.New("store: duplicate record")

	// ErrClosed means the Store has been closed; open a new one.
	ErrClosed = errors.New("store: store is closed")

	// ErrInvalid means an argument violates the Store contract (empty ID, invalid UTF-8, a field
	// too long, a malformed cursor, a negative limit, ...). The concrete error is a
	// [*ValidationError] naming the field.
	ErrInvalid = errors.New("store: invalid argument")

	// ErrNonceReused means [NonceStore.ConsumeNonce] has already accepted this nonce: the consent
	// callback carrying it is a replay and must be refused.
	ErrNonceReused = errors.New("store: nonce already used")

	// ErrNonceExpired means ConsumeNonce was called with an expiry that has already passed. The
	// store may have pruned the record of an earlier use, so it cannot vouch for the nonce and
	// refuses it; the user has to start the consent flow again.
	ErrNonceExpired = errors.New("store: nonce expired")

	// ErrSchemaTooNew means the database was migrated by a newer version of this module than the
	// running code knows. The store refuses to open it rather than corrupt it; upgrade the module
	// (or point the store at another database). The concrete error is a [*SchemaVersionError].
	ErrSchemaTooNew = errors.New("store: database schema is newer than this code")
)

// ConflictError reports an optimistic-concurrency failure of Update or Delete.
type ConflictError struct {
	ID       string // the record's ID
	Expected int64  // the version the caller passed
	Actual   int64  // the version currently stored
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("store: record %q is at version %d, not %d: another writer changed it; read it again and retry",
		e.ID, e.Actual, e.Expected)
}

// Is reports ErrConflict.
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }

// DuplicateError reports a Create or Update that would break a uniqueness rule.
type DuplicateError struct {
	// Field is "id" (a record with this ID exists) or "unique_key" (another record holds the
	// UniqueKey).
	Field string
	// Value is the ID or unique key in question. Neither is secret by contract.
	Value string
}

func (e *DuplicateError) Error() string {
	if e.Field == "unique_key" {
		return fmt.Sprintf("store: another record already holds unique key %q: update or delete that record instead", e.Value)
	}
	return fmt.Sprintf("store: a record with %s %q already exists: choose another ID or update the existing record", e.Field, e.Value)
}

// Is reports ErrDuplicate.
func (e *DuplicateError) Is(target error) bool { return target == ErrDuplicate }

// ValidationError reports an argument that violates the Store contract. It never contains the
// payload.
type ValidationError struct {
	Field   string // e.g. "ID", "Services[2]", "Page.Limit", "Page.Cursor"
	Problem string // what is wrong and what is allowed
}

func (e *ValidationError) Error() string {
	return fmt.Sprintf("store: invalid %s: %s", e.Field, e.Problem)
}

// Is reports ErrInvalid.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalid }

// SchemaVersionError reports a database whose schema version is newer than the code supports.
type SchemaVersionError struct {
	Database string // where: a file path or "postgres schema \"x\""
	Found    int    // the version recorded in the database
	Known    int    // the newest version this code knows
}

func (e *SchemaVersionError) Error() string {
	return fmt.Sprintf("store: %s has schema version %d but this code knows only up to %d: upgrade github.com/tenantapps/tenantapps or open another database",
		e.Database, e.Found, e.Known)
}

// Is reports ErrSchemaTooNew.
func (e *SchemaVersionError) Is(target error) bool { return target == ErrSchemaTooNew }
