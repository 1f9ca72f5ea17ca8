package store

import (
	"context"
	"time"
	"unicode/utf8"
)

// TokenCacheStore is an optional capability of a [Store]: token cache partitions shared by every
// process using the database, so that a fleet of replicas asks Microsoft Entra ID for one token
// per (app, tenant) per token lifetime instead of one per replica. The store keeps opaque blobs;
// callers seal them first (tokens are secrets: appprofile seals them with its Sealer). All
// stores in this module implement it; discover it with a type assertion:
//
//	tc, ok := st.(store.TokenCacheStore)
//
// Methods are safe for concurrent use, also across processes; the last SaveTokenCache wins.
type TokenCacheStore interface {
	// LoadTokenCache returns the blob saved for (tenant, partition), or an error wrapping
	// ErrNotFound when there is none (never saved, deleted, or expired at the store's clock).
	LoadTokenCache(ctx context.Context, tenant, partition string) ([]byte, error)
	// SaveTokenCache stores blob for (tenant, partition) until expiresAt, replacing any earlier
	// blob. Expired entries may be pruned at any time.
	SaveTokenCache(ctx context.Context, tenant, partition string, blob []byte, expiresAt time.Time) error
	// DeleteTokenCaches removes every partition of tenant (after a consent change, so that no
	// process keeps using a token minted before it). Deleting nothing is not an error.
	DeleteTokenCaches(ctx context.Context, tenant string) error
}

// MaxTokenCacheSize bounds a token cache blob.
const MaxTokenCacheSize = 256 << 10

// ValidateTokenCacheKey checks a TokenCacheStore key: tenant and partition are 1 to 512 bytes of
// valid UTF-8 without NUL. Errors wrap ErrInvalid and never quote the values.
func ValidateTokenCacheKey(tenant, partition string) error {
	if err := validateKeyPart("tenant", tenant); err != nil {
		return err
	}
	return validateKeyPart("partition", partition)
}

// ValidateTokenCacheBlob checks a blob for SaveTokenCache: not empty, at most MaxTokenCacheSize.
func ValidateTokenCacheBlob(blob []byte) error {
	if len(blob) == 0 || len(blob) > MaxTokenCacheSize {
		return &ValidationError{Field: "blob", Problem: "must be 1 byte to 256 KiB"}
	}
	return nil
}

func validateKeyPart(field, v string) error {
	if len(v) == 0 || len(v) > 512 || !utf8.ValidString(v) {
		return &ValidationError{Field: field, Problem: "must be 1 to 512 bytes of valid UTF-8"}
	}
	for i := 0; i < len(v); i++ {
		if v[i] == 0 {
			return &ValidationError{Field: field, Problem: "must not contain NUL bytes"}
		}
	}
	return nil
}
