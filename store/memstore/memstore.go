// Package memstore is an in-memory [store.Store] for tests and small embedders. It keeps nothing
// on disk: everything is lost when the process exits.
//
// It passes the same conformance suite (store/storetest) as the SQL stores, including the
// optional [store.NonceStore] and [store.OutboxStore] capabilities, so code tested against it
// behaves the same on them.
package memstore

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tenantapps/tenantapps/store"
)

// Option configures a Store.
type Option func(*Store)

// WithClock sets the clock the store reads for CreatedAt, UpdatedAt and nonce expiry.
// The default is time.Now. now must be safe for concurrent use.
func WithClock(now func() time.Time) Option {
	return func(s *Store) {
		if now != nil {
			s.now = now
		}
	}
}

// Store is an in-memory store. The zero value is not usable; call [New]. It is safe for
// concurrent use by multiple goroutines.
type Store struct {
	now func() time.Time

	isClosed atomic.Bool // mirrors closed for the lock-free check in begin

	mu      sync.RWMutex
	closed  bool
	records map[string]store.Record // by ID
	ids     []string                // sorted IDs of records, for List
	unique  map[string]string       // UniqueKey -> ID
	nonces  map[string]time.Time    // nonce -> expiry
	consume int                     // ConsumeNonce calls since the last prune
	outbox  outbox                  // events and history (outbox.go)
	tokens  tokenCaches             // TokenCacheStore (tokencache.go)
}

var (
	_ store.Store       = (*Store)(nil)
	_ store.NonceStore  = (*Store)(nil)
	_ store.OutboxStore = (*Store)(nil)
)

// New returns an empty store.
func New(opts ...Option) *Store {
	s := &Store{
		now:     time.Now,
		records: make(map[string]store.Record),
		unique:  make(map[string]string),
		nonces:  make(map[string]time.Time),
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

// begin checks the preconditions every call shares, in the order all stores check them:
// closed, then context, then arguments.
func (s *Store) begin(ctx context.Context, op string) error {
	if s.isClosed.Load() {
		return closedErr(op)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memstore: %s: %w", op, err)
	}
	return nil
}

func closedErr(op string) error { return fmt.Errorf("memstore: %s: %w", op, store.ErrClosed) }

// Get implements [store.Store].
func (s *Store) Get(ctx context.Context, id string) (store.Record, error) {
	if err := s.begin(ctx, "get"); err != nil {
		return store.Record{}, err
	}
	if err := store.ValidateID(id); err != nil {
		return store.Record{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return store.Record{}, closedErr("get")
	}
	r, ok := s.records[id]
	if !ok {
		return store.Record{}, fmt.Errorf("memstore: get %q: %w", id, store.ErrNotFound)
	}
	return r.Clone(), nil
}

// Create implements [store.Store].
func (s *Store) Create(ctx context.Context, rec store.Record) (store.Record, error) {
	if err := s.begin(ctx, "create"); err != nil {
		return store.Record{}, err
	}
	if err := rec.Validate(); err != nil {
		return store.Record{}, err
	}
	rec = normalize(rec)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return store.Record{}, closedErr("create")
	}
	if _, ok := s.records[rec.ID]; ok {
		return store.Record{}, &store.DuplicateError{Field: "id", Value: rec.ID}
	}
	if rec.UniqueKey != "" {
		if _, ok := s.unique[rec.UniqueKey]; ok {
			return store.Record{}, &store.DuplicateError{Field: "unique_key", Value: rec.UniqueKey}
		}
		s.unique[rec.UniqueKey] = rec.ID
	}
	now := store.Timestamp(s.now())
	rec.Version, rec.CreatedAt, rec.UpdatedAt = 1, now, now
	s.records[rec.ID] = rec
	i, _ := slices.BinarySearch(s.ids, rec.ID)
	s.ids = slices.Insert(s.ids, i, rec.ID)
	return rec.Clone(), nil
}

// Update implements [store.Store].
func (s *Store) Update(ctx context.Context, rec store.Record) (store.Record, error) {
	return s.update(ctx, rec, nil)
}

// update is Update; when write is not nil it runs under the same lock after the record was
// checked and just before it is stored, with the store clock's current time.
func (s *Store) update(ctx context.Context, rec store.Record, write func(now time.Time)) (store.Record, error) {
	if err := s.begin(ctx, "update"); err != nil {
		return store.Record{}, err
	}
	if err := rec.Validate(); err != nil {
		return store.Record{}, err
	}
	if err := store.ValidateVersion(rec.Version); err != nil {
		return store.Record{}, err
	}
	rec = normalize(rec)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return store.Record{}, closedErr("update")
	}
	old, ok := s.records[rec.ID]
	if !ok {
		return store.Record{}, fmt.Errorf("memstore: update %q: %w", rec.ID, store.ErrNotFound)
	}
	if old.Version != rec.Version {
		return store.Record{}, &store.ConflictError{ID: rec.ID, Expected: rec.Version, Actual: old.Version}
	}
	if rec.UniqueKey != "" && rec.UniqueKey != old.UniqueKey {
		if _, ok := s.unique[rec.UniqueKey]; ok {
			return store.Record{}, &store.DuplicateError{Field: "unique_key", Value: rec.UniqueKey}
		}
	}
	if old.UniqueKey != "" {
		delete(s.unique, old.UniqueKey)
	}
	if rec.UniqueKey != "" {
		s.unique[rec.UniqueKey] = rec.ID
	}
	if write != nil {
		write(s.now())
	}
	rec.Version = old.Version + 1
	rec.CreatedAt = old.CreatedAt
	rec.UpdatedAt = store.Timestamp(s.now())
	s.records[rec.ID] = rec
	return rec.Clone(), nil
}

// Delete implements [store.Store].
func (s *Store) Delete(ctx context.Context, id string, version int64) error {
	return s.delete(ctx, id, version, nil)
}

// delete is Delete; a non-nil write runs under the same lock once the deletion is certain.
func (s *Store) delete(ctx context.Context, id string, version int64, write func(now time.Time)) error {
	if err := s.begin(ctx, "delete"); err != nil {
		return err
	}
	if err := store.ValidateID(id); err != nil {
		return err
	}
	if err := store.ValidateVersion(version); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return closedErr("delete")
	}
	old, ok := s.records[id]
	if !ok {
		return fmt.Errorf("memstore: delete %q: %w", id, store.ErrNotFound)
	}
	if old.Version != version {
		return &store.ConflictError{ID: id, Expected: version, Actual: old.Version}
	}
	if write != nil {
		write(s.now())
	}
	if old.UniqueKey != "" {
		delete(s.unique, old.UniqueKey)
	}
	delete(s.records, id)
	if i, found := slices.BinarySearch(s.ids, id); found {
		s.ids = slices.Delete(s.ids, i, i+1)
	}
	return nil
}

// List implements [store.Store].
func (s *Store) List(ctx context.Context, f store.Filter, p store.Page) ([]store.Record, string, error) {
	if err := s.begin(ctx, "list"); err != nil {
		return nil, "", err
	}
	limit, after, err := p.Normalize(f)
	if err != nil {
		return nil, "", err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, "", closedErr("list")
	}
	start := 0
	if after != "" {
		i, found := slices.BinarySearch(s.ids, after)
		if found {
			i++
		}
		start = i
	}
	var out []store.Record
	for _, id := range s.ids[start:] {
		r := s.records[id]
		if !f.Match(r) {
			continue
		}
		if len(out) == limit {
			return out, store.EncodeCursor(f, out[len(out)-1].ID), nil
		}
		out = append(out, r.Clone())
	}
	return out, "", nil
}

// ConsumeNonce implements [store.NonceStore].
func (s *Store) ConsumeNonce(ctx context.Context, nonce string, expiresAt time.Time) error {
	if err := s.begin(ctx, "consume nonce"); err != nil {
		return err
	}
	if err := store.ValidateNonce(nonce); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return closedErr("consume nonce")
	}
	now := s.now()
	if !expiresAt.After(now) {
		return fmt.Errorf("memstore: consume nonce: %w", store.ErrNonceExpired)
	}
	if _, used := s.nonces[nonce]; used {
		return fmt.Errorf("memstore: consume nonce: %w", store.ErrNonceReused)
	}
	s.nonces[nonce] = expiresAt
	if s.consume++; s.consume >= 1024 {
		s.consume = 0
		for n, exp := range s.nonces {
			if !now.Before(exp) {
				delete(s.nonces, n)
			}
		}
	}
	return nil
}

// Close implements [store.Store]. It drops the records.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	s.isClosed.Store(true)
	s.records, s.ids, s.unique, s.nonces = nil, nil, nil, nil
	s.outbox = outbox{}
	return nil
}

// normalize copies the caller's slices (so later changes by the caller do not reach the store)
// and turns empty slices into nil.
func normalize(r store.Record) store.Record {
	r = r.Clone()
	if len(r.Services) == 0 {
		r.Services = nil
	}
	if len(r.Payload) == 0 {
		r.Payload = nil
	}
	return r
}
