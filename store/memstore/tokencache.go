package memstore

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/tenantapps/tenantapps/store"
)

var _ store.TokenCacheStore = (*Store)(nil)

type tokenEntry struct {
	blob      []byte
	expiresAt time.Time
}

// tokenCaches is the TokenCacheStore state: tenant -> partition -> entry. Guarded by Store.mu.
type tokenCaches map[string]map[string]tokenEntry

// LoadTokenCache implements [store.TokenCacheStore].
func (s *Store) LoadTokenCache(ctx context.Context, tenant, partition string) ([]byte, error) {
	if err := s.begin(ctx, "load token cache"); err != nil {
		return nil, err
	}
	if err := store.ValidateTokenCacheKey(tenant, partition); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, closedErr("load token cache")
	}
	e, ok := s.tokens[tenant][partition]
	if !ok || !e.expiresAt.After(s.now()) {
		return nil, fmt.Errorf("memstore: load token cache: %w", store.ErrNotFound)
	}
	return slices.Clone(e.blob), nil
}

// SaveTokenCache implements [store.TokenCacheStore].
func (s *Store) SaveTokenCache(ctx context.Context, tenant, partition string, blob []byte, expiresAt time.Time) error {
	if err := s.begin(ctx, "save token cache"); err != nil {
		return err
	}
	if err := store.ValidateTokenCacheKey(tenant, partition); err != nil {
		return err
	}
	if err := store.ValidateTokenCacheBlob(blob); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return closedErr("save token cache")
	}
	if s.tokens == nil {
		s.tokens = tokenCaches{}
	}
	if s.tokens[tenant] == nil {
		s.tokens[tenant] = map[string]tokenEntry{}
	}
	s.tokens[tenant][partition] = tokenEntry{blob: slices.Clone(blob), expiresAt: expiresAt}
	return nil
}

// DeleteTokenCaches implements [store.TokenCacheStore].
func (s *Store) DeleteTokenCaches(ctx context.Context, tenant string) error {
	if err := s.begin(ctx, "delete token caches"); err != nil {
		return err
	}
	if err := store.ValidateTokenCacheKey(tenant, "-"); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return closedErr("delete token caches")
	}
	delete(s.tokens, tenant)
	return nil
}
