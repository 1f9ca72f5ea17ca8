// Package store defines the persistence SPI of tenantapps: a small, versioned record store that
// keeps the MSP's app profiles, and the helpers every implementation shares.
//
// Most code should not use this package directly: the appprofile Manager is the rich type users
// call, and it keeps its profiles in a [Store]. Embedders pick an implementation:
//
//   - store/sqlite: the embedded default (pure Go, no cgo, no server). One file, WAL, safe for
//     several processes on one machine.
//   - store/postgres: PostgreSQL through pgx, for portals that run several replicas against one
//     database.
//   - store/memstore: in memory, for tests and small embedders.
//
// A third-party implementation proves itself with store/storetest.Run, the conformance suite the
// three built-in stores pass.
//
// # Records
//
// A [Record] carries a caller-assigned ID, a version the store maintains (1 on Create, +1 per
// Update), the indexed fields the manager filters by (customer, tenant, services, app type, mode,
// status), timestamps the store sets from its clock, an optional unique key, and an opaque payload.
// The store never interprets the payload; the manager puts JSON with already-sealed secrets in it,
// so nothing a store logs or returns in an error contains a secret.
//
// # Optional capabilities
//
// A store may implement more than [Store]; callers discover it with a type assertion:
// [NonceStore] (single-use consent nonces) and [OutboxStore] (a transactional outbox of events
// written with the record update that caused them, claimed and acknowledged by dispatchers, and an
// append-only history). The three built-in stores implement both.
//
// # Concurrency
//
// Update and Delete take the version the caller last read (optimistic concurrency). When another
// writer got there first, the call fails with [ErrConflict] and changes nothing; the caller reads
// again and retries ([Modify] is that loop). Every Store is safe for concurrent use by multiple
// goroutines, and the SQL stores are safe when several processes share one database.
//
// # Errors
//
// Failures are reported with sentinels, checked with [errors.Is]: [ErrNotFound], [ErrConflict],
// [ErrDuplicate], [ErrClosed], [ErrInvalid], [ErrNonceReused], [ErrNonceExpired],
// [ErrSchemaTooNew], [ErrLeaseLost]. Typed errors ([*ConflictError], [*DuplicateError], [*ValidationError],
// [*SchemaVersionError]) carry details for [errors.As]. Context cancellation is returned wrapped,
// so errors.Is(err, context.Canceled) holds.
package store
