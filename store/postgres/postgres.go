// Package postgres is a [store.Store] on PostgreSQL through a pgx/v5 connection pool, for
// portals that run several replicas against one database.
//
// Every write is a single statement guarded by the record's version, so when several processes
// update one record at once exactly one succeeds and the others get [store.ErrConflict]; unique
// keys and single-use nonces are enforced by the database's unique indexes, across processes.
// Open applies the same versioned migrations as the other SQL store, serialized between processes
// by an advisory lock, and refuses a schema written by a newer version of this module.
//
// All objects live in one PostgreSQL schema (default "tenantapps"; see [WithSchema]), so several
// independent stores — or test runs — can share a database.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tenantapps/tenantapps/store"
	"github.com/tenantapps/tenantapps/store/internal/sqlq"
)

// DefaultSchema is the PostgreSQL schema the store uses unless [WithSchema] says otherwise.
const DefaultSchema = "tenantapps"

// Option configures Open and New.
type Option func(*config)

type config struct {
	now    func() time.Time
	schema string
}

// WithClock sets the clock the store reads for CreatedAt, UpdatedAt and nonce expiry. The default
// is time.Now. now must be safe for concurrent use. (The database's clock is never used, so
// replicas with skewed clocks only skew timestamps, never versions.)
func WithClock(now func() time.Time) Option {
	return func(c *config) {
		if now != nil {
			c.now = now
		}
	}
}

// WithSchema sets the PostgreSQL schema that holds the store's tables; it is created if missing.
// The default is [DefaultSchema].
func WithSchema(name string) Option {
	return func(c *config) { c.schema = name }
}

// Store is a PostgreSQL-backed store. It is safe for concurrent use by multiple goroutines and by
// several processes sharing the database.
type Store struct {
	pool     *pgxpool.Pool
	ownsPool bool
	now      func() time.Time
	schema   string
	q        queries

	guard      sqlq.Guard // closed flag and error vocabulary
	closeOnce  sync.Once
	pruneTimer sqlq.PruneTimer
	tokens     tokenTable // TokenCacheStore (tokencache.go)
}

var (
	_ store.Store       = (*Store)(nil)
	_ store.NonceStore  = (*Store)(nil)
	_ store.OutboxStore = (*Store)(nil)
)

type queries struct {
	get, create, update, delete, version, consume, prune string
	dialect                                              sqlq.Dialect
	outbox                                               outboxQueries // outbox.go
}

// Open connects to the database named by dsn (a PostgreSQL URL or keyword/value string, as
// accepted by pgxpool.ParseConfig, including pool_max_conns), migrates the store's schema and
// returns the store. ctx bounds connecting and migrating only. The caller must Close the store,
// which closes the pool.
func Open(ctx context.Context, dsn string, opts ...Option) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx's parse errors may quote the DSN, which can hold a password.
		return nil, &store.ValidationError{Field: "dsn", Problem: "not a valid PostgreSQL connection string (see pgxpool.ParseConfig)"}
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	s, err := newStore(ctx, pool, opts)
	if err != nil {
		pool.Close()
		return nil, err
	}
	s.ownsPool = true
	return s, nil
}

// New returns a store on an existing pool, migrating the store's schema first. Close does not
// close the pool; the caller keeps owning it.
func New(ctx context.Context, pool *pgxpool.Pool, opts ...Option) (*Store, error) {
	if pool == nil {
		return nil, &store.ValidationError{Field: "pool", Problem: "nil; pass a *pgxpool.Pool or use Open"}
	}
	return newStore(ctx, pool, opts)
}

func newStore(ctx context.Context, pool *pgxpool.Pool, opts []Option) (*Store, error) {
	cfg := config{now: time.Now, schema: DefaultSchema}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.schema == "" || len(cfg.schema) > 63 {
		return nil, &store.ValidationError{Field: "schema", Problem: "must be 1 to 63 bytes (a PostgreSQL identifier)"}
	}
	if err := (&store.Record{ID: "x", Customer: cfg.schema}).Validate(); err != nil {
		return nil, &store.ValidationError{Field: "schema", Problem: "must be valid UTF-8 without NUL bytes"}
	}
	s := &Store{pool: pool, now: cfg.now, schema: cfg.schema, guard: sqlq.Guard{Name: "postgres"}}
	qs := pgx.Identifier{cfg.schema}.Sanitize()
	records := qs + ".records"
	s.q = queries{
		get: "SELECT " + sqlq.Columns + " FROM " + records + " r WHERE r.id = $1",
		create: "INSERT INTO " + records + ` (id, version, customer, tenant, services, app_type, mode, status, unique_key, created_at, updated_at, payload)
			VALUES ($1, 1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10)`,
		update: "UPDATE " + records + ` SET version = version + 1, customer = $3, tenant = $4, services = $5,
			app_type = $6, mode = $7, status = $8, unique_key = $9, updated_at = $10, payload = $11
			WHERE id = $1 AND version = $2 RETURNING created_at`,
		delete:  "DELETE FROM " + records + " WHERE id = $1 AND version = $2",
		version: "SELECT version FROM " + records + " WHERE id = $1",
		consume: "INSERT INTO " + qs + ".nonces (nonce, expires_at) VALUES ($1, $2) ON CONFLICT (nonce) DO NOTHING",
		prune:   "DELETE FROM " + qs + ".nonces WHERE expires_at <= $1",
		dialect: sqlq.Dialect{
			Records:     records,
			Placeholder: sqlq.Dollar,
			Time:        func(t time.Time) any { return t },
			HasService:  func(ph string) string { return "r.services @> ARRAY[" + ph + "]::text[]" },
		},
	}
	s.q.outbox = newOutboxQueries(qs)
	if err := s.migrate(ctx, qs); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Store) where() string { return fmt.Sprintf("postgres schema %q", s.schema) }

func (s *Store) migrate(ctx context.Context, qs string) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgres: open %s: %w", s.where(), err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	h := fnv.New64a()
	h.Write([]byte("tenantapps/store/postgres:" + s.schema))
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(h.Sum64())); err != nil {
		return fmt.Errorf("postgres: open %s: take the migration lock: %w", s.where(), err)
	}
	if _, err := tx.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+qs); err != nil {
		return fmt.Errorf("postgres: open %s: create schema: %w", s.where(), err)
	}
	var hasVersionTable bool
	var tables int
	if err := tx.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL,
		(SELECT count(*) FROM pg_tables WHERE schemaname = $2)`, qs+".schema_version", s.schema).Scan(&hasVersionTable, &tables); err != nil {
		return fmt.Errorf("postgres: open %s: %w", s.where(), err)
	}
	version := 0
	if hasVersionTable {
		if err := tx.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM "+qs+".schema_version").Scan(&version); err != nil {
			return fmt.Errorf("postgres: open %s: read schema version: %w", s.where(), err)
		}
	} else {
		if tables > 0 {
			return fmt.Errorf("postgres: open %s: the schema already holds %d tables of another application; choose another schema with WithSchema", s.where(), tables)
		}
		if _, err := tx.Exec(ctx, "CREATE TABLE "+qs+".schema_version (version integer NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"); err != nil {
			return fmt.Errorf("postgres: open %s: %w", s.where(), err)
		}
	}
	if version > SchemaVersion {
		return &store.SchemaVersionError{Database: s.where(), Found: version, Known: SchemaVersion}
	}
	for v := version; v < SchemaVersion; v++ {
		if _, err := tx.Exec(ctx, migration(v, qs)); err != nil {
			return fmt.Errorf("postgres: open %s: migrate to schema version %d: %w", s.where(), v+1, err)
		}
		if _, err := tx.Exec(ctx, "INSERT INTO "+qs+".schema_version (version) VALUES ($1)", v+1); err != nil {
			return fmt.Errorf("postgres: open %s: %w", s.where(), err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: open %s: %w", s.where(), err)
	}
	return nil
}

// Schema returns the PostgreSQL schema holding the store's tables.
func (s *Store) Schema() string { return s.schema }

// scanRecord decodes a row of sqlq.Columns: pgx.Row from QueryRow or pgx.Rows from Query.
func scanRecord(row sqlq.Scanner) (store.Record, error) {
	var (
		r         store.Record
		uniqueKey *string
	)
	if err := row.Scan(&r.ID, &r.Version, &r.Customer, &r.Tenant, &r.Services, &r.AppType, &r.Mode, &r.Status,
		&uniqueKey, &r.CreatedAt, &r.UpdatedAt, &r.Payload); err != nil {
		return store.Record{}, err
	}
	if uniqueKey != nil {
		r.UniqueKey = *uniqueKey
	}
	r.CreatedAt, r.UpdatedAt = r.CreatedAt.UTC(), r.UpdatedAt.UTC()
	return sqlq.Normalized(r), nil
}

// Get implements [store.Store].
func (s *Store) Get(ctx context.Context, id string) (store.Record, error) {
	if err := s.guard.Begin(ctx, "get"); err != nil {
		return store.Record{}, err
	}
	if err := store.ValidateID(id); err != nil {
		return store.Record{}, err
	}
	r, err := scanRecord(s.pool.QueryRow(ctx, s.q.get, id))
	if err != nil {
		return store.Record{}, s.guard.FailRead(ctx, fmt.Sprintf("get %q", id), err, pgx.ErrNoRows)
	}
	return r, nil
}

// Create implements [store.Store].
func (s *Store) Create(ctx context.Context, rec store.Record) (store.Record, error) {
	if err := s.guard.Begin(ctx, "create"); err != nil {
		return store.Record{}, err
	}
	if err := rec.Validate(); err != nil {
		return store.Record{}, err
	}
	rec = rec.Clone()
	now := store.Timestamp(s.now())
	_, err := s.pool.Exec(ctx, s.q.create, rec.ID, rec.Customer, rec.Tenant, servicesArg(rec.Services), rec.AppType,
		rec.Mode, rec.Status, sqlq.NullableKey(rec.UniqueKey), now, sqlq.PayloadArg(rec.Payload))
	if err != nil {
		if de := duplicate(err, rec); de != nil {
			return store.Record{}, de
		}
		return store.Record{}, s.guard.Fail(ctx, fmt.Sprintf("create %q", rec.ID), err)
	}
	return sqlq.Created(rec, now), nil
}

// Update implements [store.Store]. The version check and the write are one statement, so of
// several concurrent updates based on the same version exactly one succeeds.
func (s *Store) Update(ctx context.Context, rec store.Record) (store.Record, error) {
	return s.update(ctx, rec, nil)
}

// querier runs one statement: the pool, or a transaction.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// update is Update. A non-nil inTx runs the update in a transaction instead of as a single
// statement: inTx begins it, calls write with it to run the update, adds its own statements
// and commits (outbox.go).
func (s *Store) update(ctx context.Context, rec store.Record, inTx func(write func(querier) error) error) (store.Record, error) {
	if err := s.guard.Begin(ctx, "update"); err != nil {
		return store.Record{}, err
	}
	if err := rec.Validate(); err != nil {
		return store.Record{}, err
	}
	if err := store.ValidateVersion(rec.Version); err != nil {
		return store.Record{}, err
	}
	rec = rec.Clone()
	now := store.Timestamp(s.now())
	var created time.Time
	write := func(q querier) error {
		return q.QueryRow(ctx, s.q.update, rec.ID, rec.Version, rec.Customer, rec.Tenant, servicesArg(rec.Services),
			rec.AppType, rec.Mode, rec.Status, sqlq.NullableKey(rec.UniqueKey), now, sqlq.PayloadArg(rec.Payload)).Scan(&created)
	}
	var err error
	if inTx == nil {
		err = write(s.pool)
	} else {
		err = inTx(write)
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Record{}, s.missingOrConflict(ctx, "update", rec.ID, rec.Version)
	}
	if err != nil {
		if de := duplicate(err, rec); de != nil {
			return store.Record{}, de
		}
		return store.Record{}, s.guard.Fail(ctx, fmt.Sprintf("update %q", rec.ID), err)
	}
	return sqlq.Updated(rec, created, now), nil
}

// Delete implements [store.Store].
func (s *Store) Delete(ctx context.Context, id string, version int64) error {
	if err := s.guard.Begin(ctx, "delete"); err != nil {
		return err
	}
	if err := store.ValidateID(id); err != nil {
		return err
	}
	if err := store.ValidateVersion(version); err != nil {
		return err
	}
	return s.delete(ctx, id, version, nil)
}

// errNoRow marks a versioned delete that matched no row.
var errNoRow = errors.New("no row")

// delete runs the versioned delete of id, as a single statement or, with a non-nil inTx, in the
// transaction inTx begins and commits (see update).
func (s *Store) delete(ctx context.Context, id string, version int64, inTx func(write func(execer) error) error) error {
	write := func(q execer) error {
		tag, err := q.Exec(ctx, s.q.delete, id, version)
		if err == nil && tag.RowsAffected() == 0 {
			err = errNoRow
		}
		return err
	}
	var err error
	if inTx == nil {
		err = write(s.pool)
	} else {
		err = inTx(write)
	}
	if errors.Is(err, errNoRow) {
		return s.missingOrConflict(ctx, "delete", id, version)
	}
	if err != nil {
		return s.guard.Fail(ctx, fmt.Sprintf("delete %q", id), err)
	}
	return nil
}

// execer runs one statement that returns no rows: the pool, or a transaction.
type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// missingOrConflict explains why a versioned write matched no row.
func (s *Store) missingOrConflict(ctx context.Context, op, id string, expected int64) error {
	var actual int64
	if err := s.pool.QueryRow(ctx, s.q.version, id).Scan(&actual); err != nil {
		return s.guard.FailRead(ctx, fmt.Sprintf("%s %q", op, id), err, pgx.ErrNoRows)
	}
	return &store.ConflictError{ID: id, Expected: expected, Actual: actual}
}

// List implements [store.Store].
func (s *Store) List(ctx context.Context, f store.Filter, p store.Page) ([]store.Record, string, error) {
	if err := s.guard.Begin(ctx, "list"); err != nil {
		return nil, "", err
	}
	limit, after, err := p.Normalize(f)
	if err != nil {
		return nil, "", err
	}
	query, args := sqlq.List(s.q.dialect, f, after, limit)
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, "", s.guard.Fail(ctx, "list", err)
	}
	defer rows.Close()
	recs, next, err := sqlq.Collect(rows, scanRecord, f, limit)
	if err != nil {
		return nil, "", s.guard.Fail(ctx, "list", err)
	}
	return recs, next, nil
}

// ConsumeNonce implements [store.NonceStore]. The nonce table's primary key makes the first
// consumer win across every process sharing the database.
func (s *Store) ConsumeNonce(ctx context.Context, nonce string, expiresAt time.Time) error {
	if err := s.guard.Begin(ctx, "consume nonce"); err != nil {
		return err
	}
	if err := store.ValidateNonce(nonce); err != nil {
		return err
	}
	now := s.now()
	if !expiresAt.After(now) {
		return fmt.Errorf("postgres: consume nonce: %w", store.ErrNonceExpired)
	}
	if s.pruneTimer.Due(now) {
		if _, err := s.pool.Exec(ctx, s.q.prune, now); err != nil {
			return s.guard.Fail(ctx, "consume nonce: prune expired nonces", err)
		}
	}
	tag, err := s.pool.Exec(ctx, s.q.consume, nonce, expiresAt)
	if err != nil {
		return s.guard.Fail(ctx, "consume nonce", err) // never quote the nonce
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: consume nonce: %w", store.ErrNonceReused)
	}
	return nil
}

// Close implements [store.Store]. It closes the pool if Open created it, waiting for in-flight
// calls to return their connections.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.guard.Close()
		if s.ownsPool {
			s.pool.Close()
		}
	})
	return nil
}

func servicesArg(s []string) []string {
	if s == nil {
		return []string{} // NOT NULL column
	}
	return s
}

// duplicate maps a unique violation to a *store.DuplicateError, or returns nil.
func duplicate(err error, rec store.Record) error {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "23505" {
		return nil
	}
	switch pe.ConstraintName {
	case "records_unique_key_key":
		return &store.DuplicateError{Field: "unique_key", Value: rec.UniqueKey}
	default:
		return &store.DuplicateError{Field: "id", Value: rec.ID}
	}
}
