package graph

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"strings"
	"sync"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/cache"

	"github.com/tenantapps/tenantapps/consent"
)

// sharedRecheck is how often a tenant's reading client looks at the shared cache although its own
// copy still holds a usable token: a consent change elsewhere (which deletes the shared entry)
// reaches this replica within it.
const sharedRecheck = 30 * time.Second

// msalMinLife is MSAL's rule: a cached access token is used only while it has more than 5 minutes
// left.
const msalMinLife = 5 * time.Minute

// sharedCache is the MSAL cache accessor (cache.ExportReplace) of one tenant's reading client,
// backed by Config.SharedTokenCache: MSAL loads the tenant's partition before it looks for a token
// (Replace) and saves it after it got a new one (Export). Only this tenant's client uses it, so
// one MSAL client never mixes partitions (MSAL's doc: "one msal instance per user").
//
// It keeps a digest of what MSAL holds rather than the serialized cache itself: the ~3 KB copy
// per reading client was a fifth of a fleet replica's live heap (BENCHMARKS.md,
// BenchmarkFleetReplicas) for nothing but a comparison.
type sharedCache struct {
	backend consent.SharedTokenCache
	tenant  string
	d       *Driver

	mu      sync.Mutex
	held    [sha256.Size]byte // digest of the serialized cache MSAL holds (as last loaded or exported); zero: none
	expires time.Time         // latest access token expiry in it
	checked time.Time         // last read of the backend
}

// holds reports whether MSAL holds a cache, from the backend or of its own.
func (c *sharedCache) holds() bool { return c.held != [sha256.Size]byte{} }

var _ cache.ExportReplace = (*sharedCache)(nil)

func partitionOf(key string) string {
	if key == "" {
		return "app"
	}
	return key
}

// Replace gives MSAL the shared partition when it changed (another replica's token, or an
// invalidation); while this client's own token is usable and was checked recently, it reads
// nothing. A backend failure is logged and MSAL goes on with what it holds.
func (c *sharedCache) Replace(ctx context.Context, u cache.Unmarshaler, hints cache.ReplaceHints) error {
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.holds() && c.expires.After(now.Add(msalMinLife)) && now.Sub(c.checked) < sharedRecheck {
		return nil
	}
	blob, err := c.backend.LoadTokenCache(ctx, c.tenant, partitionOf(hints.PartitionKey))
	if err != nil {
		c.d.log.Warn("graph: reading the shared token cache failed; using this process's tokens", "tenant", c.tenant, "err", err)
		return nil
	}
	c.checked = now
	switch {
	case blob == nil && !c.holds():
		return nil
	case blob == nil: // invalidated elsewhere: forget our tokens too
		c.held, c.expires = [sha256.Size]byte{}, time.Time{}
		return u.Unmarshal([]byte("{}"))
	}
	sum := sha256.Sum256(blob)
	if sum == c.held {
		return nil
	}
	if err := u.Unmarshal(blob); err != nil {
		c.d.log.Warn("graph: the shared token cache is unreadable; ignoring it", "tenant", c.tenant, "err", err)
		return nil
	}
	c.held, c.expires = sum, latestExpiry(blob)
	return nil
}

// Export saves MSAL's partition after it changed (a new token).
func (c *sharedCache) Export(ctx context.Context, m cache.Marshaler, hints cache.ExportHints) error {
	data, err := m.Marshal()
	if err != nil {
		return err
	}
	sum := sha256.Sum256(data)
	c.mu.Lock()
	defer c.mu.Unlock()
	if sum == c.held {
		return nil
	}
	exp := latestExpiry(data)
	c.held, c.expires, c.checked = sum, exp, time.Now()
	if !exp.After(time.Now()) {
		return nil // no usable token: nothing worth sharing
	}
	if err := c.backend.SaveTokenCache(ctx, c.tenant, partitionOf(hints.PartitionKey), data, exp); err != nil {
		c.d.log.Warn("graph: saving to the shared token cache failed; other replicas will ask for their own token", "tenant", c.tenant, "err", err)
	}
	return nil
}

// latestExpiry reads the latest access token expiry of an MSAL cache blob (its AccessToken
// entries' expires_on, Unix seconds as a string); zero when it has none.
func latestExpiry(blob []byte) time.Time {
	var doc struct {
		AccessToken map[string]struct {
			ExpiresOn json.Number `json:"expires_on"`
		} `json:"AccessToken"`
	}
	if json.Unmarshal(blob, &doc) != nil {
		return time.Time{}
	}
	var latest time.Time
	for _, at := range doc.AccessToken {
		if s, err := at.ExpiresOn.Int64(); err == nil {
			if t := time.Unix(s, 0); t.After(latest) {
				latest = t
			}
		}
	}
	return latest
}

// InvalidateTokens implements consent.TokenInvalidator: the tenant's reading client, and with it
// the tokens this process holds for the tenant, is dropped.
func (d *Driver) InvalidateTokens(tenantID string) { d.evictReader(tenantID) }

var _ consent.TokenInvalidator = (*Driver)(nil)

// ReleaseTenant implements consent.TenantReleaser: the tenant's reading client (with its tokens)
// and its resource lookups are dropped now rather than after Config.ReaderIdle. With
// Config.SharedTokenCache the next call for the tenant reloads its token from the store; without
// it, the next call asks Entra for a new one.
func (d *Driver) ReleaseTenant(tenantID string) {
	d.evictReader(tenantID)
	d.forgetResources([]string{strings.ToLower(tenantID)})
}

var _ consent.TenantReleaser = (*Driver)(nil)
