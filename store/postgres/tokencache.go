package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tenantapps/tenantapps/store"
)

var _ store.TokenCacheStore = (*Store)(nil)

// tokenTable creates the token_caches table on first use (CREATE TABLE IF NOT EXISTS), so the
// capability needs no migration of the records' schema.
type tokenTable struct {
	mu    sync.Mutex
	ready bool
}

func (s *Store) tokenTableName() string { return pgx.Identifier{s.schema, "token_caches"}.Sanitize() }

func (s *Store) ensureTokenTable(ctx context.Context) error {
	s.tokens.mu.Lock()
	defer s.tokens.mu.Unlock()
	if s.tokens.ready {
		return nil
	}
	_, err := s.pool.Exec(ctx, `CREATE TABLE IF NOT EXISTS `+s.tokenTableName()+` (
		tenant     text        NOT NULL,
		partition  text        NOT NULL,
		blob       bytea       NOT NULL,
		expires_at timestamptz NOT NULL,
		PRIMARY KEY (tenant, partition)
	)`)
	if err != nil {
		// Another process may have created it at the same moment (CREATE TABLE IF NOT EXISTS
		// is not atomic in PostgreSQL): the table existing is what matters.
		if _, err2 := s.pool.Exec(ctx, "SELECT 1 FROM "+s.tokenTableName()+" LIMIT 0"); err2 != nil {
			return err
		}
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
	err := s.pool.QueryRow(ctx, "SELECT blob FROM "+s.tokenTableName()+" WHERE tenant = $1 AND partition = $2 AND expires_at > $3",
		tenant, partition, s.now()).Scan(&blob)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("postgres: load token cache: %w", store.ErrNotFound)
	}
	if err != nil {
		return nil, s.guard.Fail(ctx, "load token cache", err)
	}
	return blob, nil
}

// SaveTokenCache implements [store.TokenCacheStore]: an upsert, last writer wins.
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
	_, err := s.pool.Exec(ctx, `INSERT INTO `+s.tokenTableName()+` (tenant, partition, blob, expires_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (tenant, partition) DO UPDATE SET blob = EXCLUDED.blob, expires_at = EXCLUDED.expires_at`,
		tenant, partition, blob, expiresAt)
	if err != nil {
		return s.guard.Fail(ctx, "save token cache", err)
	}
	return nil
}

// DeleteTokenCaches implements [store.TokenCacheStore]. It also prunes every expired entry.
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
	if _, err := s.pool.Exec(ctx, "DELETE FROM "+s.tokenTableName()+" WHERE tenant = $1 OR expires_at <= $2", tenant, s.now()); err != nil {
		return s.guard.Fail(ctx, "delete token caches", err)
	}
	return nil
}
