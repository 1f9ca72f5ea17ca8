package consent

import (
	"context"
	"time"
)

// SharedTokenCache keeps a driver's serialized token caches outside the process, one partition
// per (app, tenant), so that every replica of a fleet uses the same token for its lifetime
// instead of asking Microsoft Entra ID for one each. Blobs hold access tokens: implementations
// must seal them at rest (appprofile.NewSharedTokenCache seals with the Manager's Sealer).
//
// Implementations must be safe for concurrent use, also by several processes.
type SharedTokenCache interface {
	// LoadTokenCache returns the blob saved for (tenantID, partition), or nil and a nil error
	// when there is none (never saved, expired, or invalidated after a consent change).
	LoadTokenCache(ctx context.Context, tenantID, partition string) ([]byte, error)
	// SaveTokenCache stores blob for (tenantID, partition) until expiresAt (the last token in it
	// expires then), replacing the earlier blob.
	SaveTokenCache(ctx context.Context, tenantID, partition string, blob []byte, expiresAt time.Time) error
}

// TokenInvalidator is implemented by drivers that cache tokens per tenant: InvalidateTokens drops
// what the driver holds for tenantID (in memory), so that the next call asks for a token minted
// after a consent change. The profile manager calls it, and clears the shared cache, when a
// profile's consent changes.
type TokenInvalidator interface {
	InvalidateTokens(tenantID string)
}

// TenantReleaser is implemented by drivers that keep per-tenant state between calls (a token
// client with its tokens, lookups of the tenant's resource service principals). ReleaseTenant
// tells the driver the caller is done with tenantID for now — a fleet sweep that will not read it
// again this period — so it may drop that state instead of keeping it until it idles out; a later
// call builds it again (with a SharedTokenCache, from the store rather than from Entra). It is
// safe to call concurrently with calls for the tenant: those finish with what they hold.
type TenantReleaser interface {
	ReleaseTenant(tenantID string)
}
