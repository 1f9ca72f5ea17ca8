package appprofile_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tenantapps/tenantapps/appprofile"
	"github.com/tenantapps/tenantapps/store"
	"github.com/tenantapps/tenantapps/store/memstore"
)

func TestSharedTokenCacheSealsAndBindsEntries(t *testing.T) {
	st := memstore.New()
	sealer, err := appprofile.NewAESGCMSealer("k1", map[string][]byte{"k1": bytes.Repeat([]byte{9}, 32)})
	must(t, err)
	c, err := appprofile.NewSharedTokenCache(st, sealer)
	must(t, err)
	ctx := context.Background()
	blob := []byte(`{"AccessToken":{"k":{"secret":"eyJhbGciOi"}}}`)
	exp := time.Now().Add(time.Hour)
	must(t, c.SaveTokenCache(ctx, "t1", "p1", blob, exp))
	got, err := c.LoadTokenCache(ctx, "t1", "p1")
	must(t, err)
	if !bytes.Equal(got, blob) {
		t.Errorf("LoadTokenCache = %q, want the saved blob", got)
	}
	raw, err := st.LoadTokenCache(ctx, "t1", "p1")
	must(t, err)
	if bytes.Contains(raw, []byte("eyJ")) || bytes.Contains(raw, []byte("AccessToken")) {
		t.Error("the store holds the token cache unsealed")
	}
	// An entry moved to another tenant or partition does not open.
	must(t, st.SaveTokenCache(ctx, "t2", "p1", raw, exp))
	if _, err := c.LoadTokenCache(ctx, "t2", "p1"); !errors.Is(err, appprofile.ErrUnseal) {
		t.Errorf("moved entry: %v, want ErrUnseal", err)
	}
	// Nothing saved: nil, nil.
	if got, err := c.LoadTokenCache(ctx, "t3", "p1"); got != nil || err != nil {
		t.Errorf("missing entry = %q, %v; want nil, nil", got, err)
	}
	if _, err := appprofile.NewSharedTokenCache(nil, sealer); err == nil {
		t.Error("NewSharedTokenCache without a store succeeded")
	}
}

// TestCompleteConsentInvalidatesTokens: tokens minted before a consent keep the old permissions,
// so a consent change clears the tenant's shared token cache.
func TestCompleteConsentInvalidatesTokens(t *testing.T) {
	e := newEnv(t)
	_, cb := e.beginNitro()
	e.grantAll(nitroID, "APElements Automation")
	must(t, e.store.SaveTokenCache(e.ctx, tenantID, "reader_AppTokenCache", []byte("sealed"), e.clock.Now().Add(time.Hour)))
	must(t, e.store.SaveTokenCache(e.ctx, "other-tenant", "reader_AppTokenCache", []byte("sealed"), e.clock.Now().Add(time.Hour)))
	if _, err := e.mgr.CompleteConsent(e.ctx, cb); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.LoadTokenCache(e.ctx, tenantID, "reader_AppTokenCache"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the consenting tenant's token cache survived the consent: %v", err)
	}
	if _, err := e.store.LoadTokenCache(e.ctx, "other-tenant", "reader_AppTokenCache"); err != nil {
		t.Errorf("another tenant's token cache was cleared: %v", err)
	}
}
