// Package sqlite is the embedded default [store.Store]: one SQLite file, pure Go
// (modernc.org/sqlite, no cgo), no server to run.
//
// Open creates the file if needed and applies the versioned schema migrations; it refuses a file
// written by a newer version of this module ([store.ErrSchemaTooNew]) and a SQLite file that
// belongs to another application. The database runs in WAL mode with a busy timeout, so several
// processes on one machine may open the same file: writes are serialized by SQLite's file lock
// (each write is one IMMEDIATE transaction) and readers never block writers. With the default
// synchronous=FULL a write that returned is durable even if the process is killed or the machine
// loses power right after.
//
// Do not put the file on a network file system: SQLite's locking is not reliable there. Use
// store/postgres when several machines share the profiles.
package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	sqlitedrv "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/tenantapps/tenantapps/store"
	"github.com/tenantapps/tenantapps/store/internal/sqlq"
)

// Synchronous is SQLite's durability setting (PRAGMA synchronous) for the store's writes.
type Synchronous int

const (
	// SyncFull syncs the WAL on every commit: a committed write survives a process kill and a
	// power loss. The default.
	SyncFull Synchronous = iota
	// SyncNormal syncs only at checkpoints: a committed write survives a process kill, but the
	// last writes may be lost on power loss. Faster writes.
	SyncNormal
)

// Option configures Open.
type Option func(*config)

type config struct {
	now         func() time.Time
	busyTimeout time.Duration
	sync        Synchronous
	maxReaders  int
}

// WithClock sets the clock the store reads for CreatedAt, UpdatedAt and nonce expiry. The default
// is time.Now. now must be safe for concurrent use.
func WithClock(now func() time.Time) Option {
	return func(c *config) {
		if now != nil {
			c.now = now
		}
	}
}

// WithBusyTimeout sets how long a write waits for another process's write lock before failing.
// The default is 10 seconds; values below one millisecond are raised to one millisecond.
func WithBusyTimeout(d time.Duration) Option {
	return func(c *config) { c.busyTimeout = max(d, time.Millisecond) }
}

// WithSynchronous sets the durability of writes; the default is [SyncFull].
func WithSynchronous(s Synchronous) Option {
	return func(c *config) { c.sync = s }
}

// WithMaxReaders sets the number of connections used for reads (Get, List). The default is
// twice GOMAXPROCS, at least 4. Writes always use one connection.
func WithMaxReaders(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.maxReaders = n
		}
	}
}

// Store is a SQLite-backed store. It is safe for concurrent use by multiple goroutines, and
// several Stores (in one process or several) may share a file.
type Store struct {
	path string
	now  func() time.Time
	w    *sql.DB // exactly one connection; every transaction is BEGIN IMMEDIATE
	r    *sql.DB // read-only connections

	guard      sqlq.Guard // closed flag and error vocabulary
	closeOnce  sync.Once
	closeErr   error
	pruneTimer sqlq.PruneTimer
	tokens     tokenTable // TokenCacheStore (tokencache.go)
}

var (
	_ store.Store       = (*Store)(nil)
	_ store.NonceStore  = (*Store)(nil)
	_ store.OutboxStore = (*Store)(nil)
)

// Open opens the store in the SQLite file at path, creating the file (not its directory) if it
// does not exist — with mode 0600, owner only, as are the -wal and -shm files SQLite makes next to
// it; an existing file keeps its mode — and migrating its schema to [SchemaVersion]. It fails with an error wrapping
// [store.ErrSchemaTooNew] when the file has a newer schema, and with a descriptive error when the
// file is not a tenantapps store. ctx bounds the opening and migration only.
//
// The caller must Close the store.
func Open(ctx context.Context, path string, opts ...Option) (*Store, error) {
	cfg := config{now: time.Now, busyTimeout: 10 * time.Second, maxReaders: max(4, 2*runtime.GOMAXPROCS(0))}
	for _, o := range opts {
		o(&cfg)
	}
	if err := checkPath(path); err != nil {
		return nil, err
	}
	if fi, err := os.Stat(filepath.Dir(path)); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("sqlite: open %s: directory %s does not exist; create it first (Open creates only the file)", path, filepath.Dir(path))
	}
	if err := createFile(path); err != nil {
		return nil, err
	}
	syncMode := "FULL"
	if cfg.sync == SyncNormal {
		syncMode = "NORMAL"
	}
	common := url.Values{}
	common.Set("_busy_timeout", strconv.FormatInt(cfg.busyTimeout.Milliseconds(), 10))
	wq := url.Values{}
	for k, v := range common {
		wq[k] = v
	}
	wq.Set("_journal_mode", "WAL")
	wq.Set("_synchronous", syncMode)
	wq.Set("_foreign_keys", "1")
	wq.Set("_txlock", "immediate")
	w, err := sql.Open("sqlite", path+"?"+wq.Encode())
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	if err := migrate(ctx, w, path); err != nil {
		w.Close()
		return nil, err
	}
	rq := common
	rq.Set("_query_only", "1")
	r, err := sql.Open("sqlite", path+"?"+rq.Encode())
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s for reading: %w", path, err)
	}
	r.SetMaxOpenConns(cfg.maxReaders)
	r.SetMaxIdleConns(cfg.maxReaders)
	if err := r.PingContext(ctx); err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("sqlite: open %s for reading: %w", path, err)
	}
	return &Store{path: path, now: cfg.now, w: w, r: r, guard: sqlq.Guard{Name: "sqlite"}}, nil
}

func checkPath(path string) error {
	switch {
	case path == "":
		return &store.ValidationError{Field: "path", Problem: "empty; pass the file to keep the profiles in"}
	case path == ":memory:" || strings.HasPrefix(path, "file:"):
		return &store.ValidationError{Field: "path", Problem: fmt.Sprintf("%q is not a file path; for an in-memory store use store/memstore", path)}
	case strings.ContainsAny(path, "?#\x00"):
		return &store.ValidationError{Field: "path", Problem: fmt.Sprintf("%q contains '?', '#' or NUL, which SQLite would misread; rename the file", path)}
	}
	return nil
}

func migrate(ctx context.Context, db *sql.DB, path string) error {
	tx, err := db.BeginTx(ctx, nil) // IMMEDIATE: one migrator at a time across processes
	if err != nil {
		return fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	defer tx.Rollback()
	var appID, version, objects int
	if err := tx.QueryRowContext(ctx, "PRAGMA application_id").Scan(&appID); err != nil {
		return fmt.Errorf("sqlite: open %s: not a readable SQLite database: %w", path, err)
	}
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema").Scan(&objects); err != nil {
		return fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	switch {
	case appID != 0 && appID != applicationID:
		return fmt.Errorf("sqlite: open %s: the file belongs to another application (application_id %#x); choose another path", path, appID)
	case appID == 0 && objects > 0:
		return fmt.Errorf("sqlite: open %s: the file already holds %d tables or indexes of another application; choose another path", path, objects)
	case version > SchemaVersion:
		return &store.SchemaVersionError{Database: path, Found: version, Known: SchemaVersion}
	}
	for v := version; v < SchemaVersion; v++ {
		if _, err := tx.ExecContext(ctx, migrations[v]); err != nil {
			return fmt.Errorf("sqlite: open %s: migrate to schema version %d: %w", path, v+1, err)
		}
	}
	if version < SchemaVersion || appID == 0 {
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA application_id = %d; PRAGMA user_version = %d", applicationID, SchemaVersion)); err != nil {
			return fmt.Errorf("sqlite: open %s: record schema version: %w", path, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	return nil
}

// Path returns the file the store was opened on.
func (s *Store) Path() string { return s.path }

// scanRecord decodes a row of sqlq.Columns: *sql.Row from QueryRowContext or *sql.Rows.
func scanRecord(sc sqlq.Scanner) (store.Record, error) {
	var (
		r          store.Record
		services   string
		uniqueKey  sql.NullString
		created    int64
		updated    int64
		payloadRaw []byte
	)
	if err := sc.Scan(&r.ID, &r.Version, &r.Customer, &r.Tenant, &services, &r.AppType, &r.Mode, &r.Status,
		&uniqueKey, &created, &updated, &payloadRaw); err != nil {
		return store.Record{}, err
	}
	var err error
	if r.Services, err = decodeServices(services); err != nil {
		return store.Record{}, fmt.Errorf("record %q has a corrupt services column: %w", r.ID, err)
	}
	r.UniqueKey = uniqueKey.String
	r.CreatedAt = time.UnixMicro(created).UTC()
	r.UpdatedAt = time.UnixMicro(updated).UTC()
	if len(payloadRaw) > 0 {
		r.Payload = payloadRaw // database/sql copies into a *[]byte destination
	}
	return r, nil
}

// decodeServices parses the JSON array encodeServices wrote. Arrays without escapes (the usual
// case: service names are plain identifiers) take a fast path without encoding/json.
func decodeServices(s string) ([]string, error) {
	if s == "[]" {
		return nil, nil
	}
	// Fast path for exactly what encodeServices writes: no escapes, valid UTF-8 (json.Marshal
	// replaces invalid bytes, so a column holding them did not come from us; let encoding/json
	// decode it the same way it would re-encode it).
	if inner, ok := strings.CutPrefix(s, `["`); ok && !strings.ContainsRune(s, '\\') && utf8.ValidString(s) {
		if inner, ok = strings.CutSuffix(inner, `"]`); ok {
			parts := strings.Split(inner, `","`)
			if strings.Count(s, `"`) == 2*len(parts) { // no stray quotes: exactly our encoding
				return parts, nil
			}
		}
	}
	var out []string
	if err := json.Unmarshal([]byte(s), &out); err != nil {
		return nil, err
	}
	return out, nil
}

func encodeServices(s []string) string {
	if len(s) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(s) // []string always marshals
	return string(b)
}

// Get implements [store.Store].
func (s *Store) Get(ctx context.Context, id string) (store.Record, error) {
	if err := s.guard.Begin(ctx, "get"); err != nil {
		return store.Record{}, err
	}
	if err := store.ValidateID(id); err != nil {
		return store.Record{}, err
	}
	r, err := scanRecord(s.r.QueryRowContext(ctx, "SELECT "+sqlq.Columns+" FROM records r WHERE r.id = ?", id))
	if err != nil {
		return store.Record{}, s.guard.FailRead(ctx, fmt.Sprintf("get %q", id), err, sql.ErrNoRows)
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
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO records
			(id, version, customer, tenant, services, app_type, mode, status, unique_key, created_at, updated_at, payload)
			VALUES (?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			rec.ID, rec.Customer, rec.Tenant, encodeServices(rec.Services), rec.AppType, rec.Mode, rec.Status,
			sqlq.NullableKey(rec.UniqueKey), now.UnixMicro(), now.UnixMicro(), sqlq.PayloadArg(rec.Payload))
		if err != nil {
			return duplicate(err, rec)
		}
		return insertServices(ctx, tx, rec)
	})
	if err != nil {
		return store.Record{}, s.wrapWrite(ctx, fmt.Sprintf("create %q", rec.ID), err)
	}
	return sqlq.Created(rec, now), nil
}

// Update implements [store.Store].
func (s *Store) Update(ctx context.Context, rec store.Record) (store.Record, error) {
	return s.update(ctx, rec, nil)
}

// update is Update; a non-nil also runs in the same transaction after the record was written,
// and its error rolls everything back.
func (s *Store) update(ctx context.Context, rec store.Record, also func(*sql.Tx, time.Time) error) (store.Record, error) {
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
	var created int64 // Unix microseconds
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `UPDATE records SET version = version + 1,
			customer = ?, tenant = ?, services = ?, app_type = ?, mode = ?, status = ?, unique_key = ?,
			updated_at = ?, payload = ?
			WHERE id = ? AND version = ? RETURNING created_at`,
			rec.Customer, rec.Tenant, encodeServices(rec.Services), rec.AppType, rec.Mode, rec.Status,
			sqlq.NullableKey(rec.UniqueKey), now.UnixMicro(), sqlq.PayloadArg(rec.Payload), rec.ID, rec.Version).Scan(&created)
		if errors.Is(err, sql.ErrNoRows) {
			return missingOrConflict(ctx, tx, rec.ID, rec.Version)
		}
		if err != nil {
			return duplicate(err, rec)
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM record_services WHERE record_id = ?", rec.ID); err != nil {
			return err
		}
		if err := insertServices(ctx, tx, rec); err != nil {
			return err
		}
		if also != nil {
			return also(tx, now)
		}
		return nil
	})
	if err != nil {
		return store.Record{}, s.wrapWrite(ctx, fmt.Sprintf("update %q", rec.ID), err)
	}
	return sqlq.Updated(rec, time.UnixMicro(created), now), nil
}

// Delete implements [store.Store].
func (s *Store) Delete(ctx context.Context, id string, version int64) error {
	return s.delete(ctx, id, version, nil)
}

// delete is Delete; a non-nil also runs in the same transaction after the record was deleted,
// and its error rolls everything back.
func (s *Store) delete(ctx context.Context, id string, version int64, also func(*sql.Tx, time.Time) error) error {
	if err := s.guard.Begin(ctx, "delete"); err != nil {
		return err
	}
	if err := store.ValidateID(id); err != nil {
		return err
	}
	if err := store.ValidateVersion(version); err != nil {
		return err
	}
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "DELETE FROM records WHERE id = ? AND version = ?", id, version)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return missingOrConflict(ctx, tx, id, version)
		}
		if also != nil {
			return also(tx, store.Timestamp(s.now()))
		}
		return nil
	})
	if err != nil {
		return s.wrapWrite(ctx, fmt.Sprintf("delete %q", id), err)
	}
	return nil
}

// dialect is the SQLite flavour of the shared List query.
var dialect = sqlq.Dialect{
	Records:     "records",
	Placeholder: sqlq.QuestionMark,
	Time:        func(t time.Time) any { return t.UnixMicro() },
	HasService: func(ph string) string {
		return "EXISTS (SELECT 1 FROM record_services s WHERE s.record_id = r.id AND s.service = " + ph + ")"
	},
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
	query, args := sqlq.List(dialect, f, after, limit)
	rows, err := s.r.QueryContext(ctx, query, args...)
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

// nonceErr marks a nonce failure decided inside the transaction.
var errNonceReused = fmt.Errorf("sqlite: consume nonce: %w", store.ErrNonceReused)

// ConsumeNonce implements [store.NonceStore]. The nonce is recorded in the same file, so a
// nonce consumed by one process is refused in every other process sharing the file.
func (s *Store) ConsumeNonce(ctx context.Context, nonce string, expiresAt time.Time) error {
	if err := s.guard.Begin(ctx, "consume nonce"); err != nil {
		return err
	}
	if err := store.ValidateNonce(nonce); err != nil {
		return err
	}
	now := s.now()
	if !expiresAt.After(now) {
		return fmt.Errorf("sqlite: consume nonce: %w", store.ErrNonceExpired)
	}
	prune := s.pruneTimer.Due(now)
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		if prune {
			if _, err := tx.ExecContext(ctx, "DELETE FROM nonces WHERE expires_at <= ?", now.UnixMicro()); err != nil {
				return err
			}
		}
		res, err := tx.ExecContext(ctx, "INSERT INTO nonces (nonce, expires_at) VALUES (?, ?) ON CONFLICT (nonce) DO NOTHING",
			nonce, expiresAt.UnixMicro())
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return errNonceReused
		}
		return nil
	})
	if errors.Is(err, errNonceReused) {
		return err
	}
	if err != nil {
		return s.guard.Fail(ctx, "consume nonce", err) // never quote the nonce
	}
	return nil
}

// CheckIntegrity runs SQLite's PRAGMA integrity_check and foreign_key_check and returns an error
// describing the first problems found, or nil when the file is sound.
func (s *Store) CheckIntegrity(ctx context.Context) error {
	if err := s.guard.Begin(ctx, "check integrity"); err != nil {
		return err
	}
	rows, err := s.r.QueryContext(ctx, "PRAGMA integrity_check")
	if err != nil {
		return s.guard.Fail(ctx, "check integrity", err)
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return s.guard.Fail(ctx, "check integrity", err)
		}
		if line != "ok" {
			problems = append(problems, line)
		}
	}
	if err := rows.Err(); err != nil {
		return s.guard.Fail(ctx, "check integrity", err)
	}
	var orphans int
	if err := s.r.QueryRowContext(ctx, "SELECT count(*) FROM pragma_foreign_key_check").Scan(&orphans); err != nil {
		return s.guard.Fail(ctx, "check integrity", err)
	}
	if orphans > 0 {
		problems = append(problems, fmt.Sprintf("%d rows violate foreign keys", orphans))
	}
	if len(problems) > 0 {
		if len(problems) > 5 {
			problems = append(problems[:5], "...")
		}
		return fmt.Errorf("sqlite: %s failed the integrity check: %s; restore it from a backup", s.path, strings.Join(problems, "; "))
	}
	return nil
}

// Close implements [store.Store]. It waits for in-flight calls to release their connections.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.guard.Close()
		s.closeErr = errors.Join(s.r.Close(), s.w.Close())
	})
	return s.closeErr
}

// writeTx runs fn in one IMMEDIATE transaction on the write connection.
func (s *Store) writeTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// wrapWrite keeps the store's own errors (conflict, duplicate, not found) and maps the rest.
func (s *Store) wrapWrite(ctx context.Context, op string, err error) error {
	var (
		ce *store.ConflictError
		de *store.DuplicateError
	)
	switch {
	case errors.As(err, &ce), errors.As(err, &de):
		return err
	case errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("sqlite: %s: %w", op, err)
	}
	return s.guard.Fail(ctx, op, err)
}

func insertServices(ctx context.Context, tx *sql.Tx, rec store.Record) error {
	for _, svc := range rec.Services {
		if _, err := tx.ExecContext(ctx, "INSERT INTO record_services (record_id, service) VALUES (?, ?)", rec.ID, svc); err != nil {
			return err
		}
	}
	return nil
}

func missingOrConflict(ctx context.Context, tx *sql.Tx, id string, expected int64) error {
	var actual int64
	err := tx.QueryRowContext(ctx, "SELECT version FROM records WHERE id = ?", id).Scan(&actual)
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrNotFound
	}
	if err != nil {
		return err
	}
	return &store.ConflictError{ID: id, Expected: expected, Actual: actual}
}

// duplicate maps a uniqueness violation to a *store.DuplicateError; other errors pass through.
func duplicate(err error, rec store.Record) error {
	var se *sqlitedrv.Error
	if !errors.As(err, &se) {
		return err
	}
	switch se.Code() {
	case sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return &store.DuplicateError{Field: "id", Value: rec.ID}
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE:
		if strings.Contains(se.Error(), "records.unique_key") {
			return &store.DuplicateError{Field: "unique_key", Value: rec.UniqueKey}
		}
		if strings.Contains(se.Error(), "records.id") {
			return &store.DuplicateError{Field: "id", Value: rec.ID}
		}
	}
	return err
}
