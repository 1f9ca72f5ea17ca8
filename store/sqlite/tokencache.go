package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/tenantapps/tenantapps/store"
)

var _ store.TokenCacheStore = (*Store)(nil)

// tokenTable creates the token_caches table on first use (CREATE TABLE IF NOT EXISTS), so the
// capability needs no schema migration of the records.
type tokenTable struct {
	mu    sync.Mutex
	ready bool
}

const tokenDDL = `CREATE TABLE IF NOT EXISTS token_caches (
	tenant     TEXT    NOT NULL,
	partition  TEXT    NOT NULL,
	blob       BLOB    NOT NULL,
	expires_at INTEGER NOT NULL, -- unix microseconds
	PRIMARY KEY (tenant, partition)
)`

func (s *Store) ensureTokenTable(ctx context.Context) error {
	s.tokens.mu.Lock()
	defer s.tokens.mu.Unlock()
	if s.tokens.ready {
		return nil
	}
	if err := s.writeTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, tokenDDL)
		return err
	}); err != nil {
		return err
	}
	s.tokens.ready = true
	return nil
}

// LoadTokenCache implements [store.TokenCacheStore].
func (s *Store) LoadTokenCache(ctx context.Context, tenant, partition string) ([]byte, error) {
	if err := s.guard.Begin(ctx, "load token cache"); err != nil {
		return nil, err
	}
	if err := store.ValidateTokenCacheKey(tenant, partition); err != nil {
		return nil, err
	}
	if err := s.ensureTokenTable(ctx); err != nil {
		return nil, s.guard.Fail(ctx, "load token cache", err)
	}
	var blob []byte
	err := s.r.QueryRowContext(ctx, "SELECT blob FROM token_caches WHERE tenant = ? AND partition = ? AND expires_at > ?",
		tenant, partition, s.now().UnixMicro()).Scan(&blob)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("sqlite: load token cache: %w", store.ErrNotFound)
	}
	if err != nil {
		return nil, s.guard.Fail(ctx, "load token cache", err)
	}
	return blob, nil
}

// SaveTokenCache implements [store.TokenCacheStore]. Expired entries of the tenant are pruned in
// the same transaction.
func (s *Store) SaveTokenCache(ctx context.Context, tenant, partition string, blob []byte, expiresAt time.Time) error {
	if err := s.guard.Begin(ctx, "save token cache"); err != nil {
		return err
	}
	if err := store.ValidateTokenCacheKey(tenant, partition); err != nil {
		return err
	}
	if err := store.ValidateTokenCacheBlob(blob); err != nil {
		return err
	}
	if err := s.ensureTokenTable(ctx); err != nil {
		return s.guard.Fail(ctx, "save token cache", err)
	}
	now := s.now().UnixMicro()
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "DELETE FROM token_caches WHERE tenant = ? AND expires_at <= ?", tenant, now); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO token_caches (tenant, partition, blob, expires_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (tenant, partition) DO UPDATE SET blob = excluded.blob, expires_at = excluded.expires_at`,
			tenant, partition, blob, expiresAt.UnixMicro())
		return err
	})
	if err != nil {
		return s.guard.Fail(ctx, "save token cache", err)
	}
	return nil
}

// DeleteTokenCaches implements [store.TokenCacheStore].
func (s *Store) DeleteTokenCaches(ctx context.Context, tenant string) error {
	if err := s.guard.Begin(ctx, "delete token caches"); err != nil {
		return err
	}
	if err := store.ValidateTokenCacheKey(tenant, "-"); err != nil {
		return err
	}
	if err := s.ensureTokenTable(ctx); err != nil {
		return s.guard.Fail(ctx, "delete token caches", err)
	}
	if err := s.writeTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "DELETE FROM token_caches WHERE tenant = ?", tenant)
		return err
	}); err != nil {
		return s.guard.Fail(ctx, "delete token caches", err)
	}
	return nil
}
