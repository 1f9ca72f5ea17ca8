package appprofile

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/tenantapps/tenantapps/consent"
	"github.com/tenantapps/tenantapps/store"
)

// NewSharedTokenCache returns a consent.SharedTokenCache kept in st (a store with the
// store.TokenCacheStore capability: memstore, sqlite, postgres) and sealed with s, for the Graph
// driver's Config.SharedTokenCache: every replica sharing the store then uses one token per
// (app, tenant) for its lifetime. Each blob is sealed with associated data naming its tenant and
// partition, so it cannot be moved to another. The Manager deletes a tenant's entries when a
// profile's consent changes (tokens minted before keep their old permissions until they expire).
func NewSharedTokenCache(st store.TokenCacheStore, s Sealer) (consent.SharedTokenCache, error) {
	if st == nil || s == nil {
		return nil, &RequestError{Op: "NewSharedTokenCache", Problems: []string{"a store.TokenCacheStore and a Sealer are required"}}
	}
	return &sealedTokenCache{st: st, sealer: s}, nil
}

type sealedTokenCache struct {
	st     store.TokenCacheStore
	sealer Sealer
}

func tokenCacheAAD(tenant, partition string) []byte {
	return []byte("tenantapps token cache\x00" + tenant + "\x00" + partition)
}

func (c *sealedTokenCache) LoadTokenCache(ctx context.Context, tenant, partition string) ([]byte, error) {
	raw, err := c.st.LoadTokenCache(ctx, tenant, partition)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("appprofile: loading the shared token cache: %w", err)
	}
	var sealed SealedSecret
	if err := json.Unmarshal(raw, &sealed); err != nil {
		return nil, fmt.Errorf("appprofile: the shared token cache entry is not a sealed secret: %w", ErrUnseal)
	}
	blob, err := c.sealer.Open(sealed, tokenCacheAAD(tenant, partition))
	if err != nil {
		return nil, fmt.Errorf("appprofile: opening the shared token cache: %w", err)
	}
	return blob, nil
}

func (c *sealedTokenCache) SaveTokenCache(ctx context.Context, tenant, partition string, blob []byte, expiresAt time.Time) error {
	sealed, err := c.sealer.Seal(blob, tokenCacheAAD(tenant, partition))
	if err != nil {
		return fmt.Errorf("appprofile: sealing the shared token cache: %w", err)
	}
	raw, err := json.Marshal(sealed)
	if err != nil {
		return err
	}
	if err := c.st.SaveTokenCache(ctx, tenant, partition, raw, expiresAt); err != nil {
		return fmt.Errorf("appprofile: saving the shared token cache: %w", err)
	}
	return nil
}

// invalidateTokens drops every token cached for tenant — in the store shared by the replicas and
// in the driver — after a consent change in the tenant. Failures are logged: the stale token
// expires on its own within the hour.
func (m *Manager) invalidateTokens(ctx context.Context, tenant string) {
	if ti, ok := m.driver.(consent.TokenInvalidator); ok {
		ti.InvalidateTokens(tenant)
	}
	if tc, ok := m.store.(store.TokenCacheStore); ok {
		if err := tc.DeleteTokenCaches(ctx, tenant); err != nil {
			m.o.logger.Warn("appprofile: could not clear the tenant's shared token cache after a consent change", "tenant", tenant, "err", err)
		}
	}
}
