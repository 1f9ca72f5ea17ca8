package integration_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"strings"
	"testing"

	"github.com/tenantapps/tenantapps/appprofile"
	"github.com/tenantapps/tenantapps/consent/graph"
	"github.com/tenantapps/tenantapps/consent/graphtest"
	"github.com/tenantapps/tenantapps/internal/pgtest"
	"github.com/tenantapps/tenantapps/store"
	"github.com/tenantapps/tenantapps/store/postgres"
)

// openPostgres opens a PostgreSQL store in a schema of its own (dropped afterwards); it skips
// when TENANTAPPS_POSTGRES_DSN is unset.
func openPostgres(tb testing.TB) (*postgres.Store, string) {
	tb.Helper()
	dsn, schema := pgtest.Schema(tb, "integration_")
	st, err := postgres.Open(context.Background(), dsn, postgres.WithSchema(schema))
	must(tb, err)
	tb.Cleanup(func() { _ = st.Close() })
	return st, schema
}

func testSealer(tb testing.TB) appprofile.Sealer {
	tb.Helper()
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	s, err := appprofile.NewAESGCMSealer("k1", map[string][]byte{"k1": key})
	must(tb, err)
	return s
}

// TestTokensSharedAcrossReplicas: replicas whose Graph drivers share the store's token cache ask
// Entra for one token per tenant between them; the stored entry is sealed; a consent change
// (the Manager's invalidation) makes the next read ask for a fresh token.
func TestTokensSharedAcrossReplicas(t *testing.T) {
	st, _ := openPostgres(t)
	shared, err := appprofile.NewSharedTokenCache(st, testSealer(t))
	must(t, err)
	w := newWorld(t, graphtest.Options{}, func(c *graph.Config) { c.SharedTokenCache = shared })
	w.addTenants(t, 3, nil)
	ctx := context.Background()
	var replicas []*graph.Driver
	for range 3 {
		cfg := w.cfg
		d, err := graph.New(cfg) // another process: its own MSAL clients, the same store
		must(t, err)
		replicas = append(replicas, d)
	}
	for i := range 3 {
		for _, d := range replicas {
			if _, err := d.AppState(ctx, tenantN(i), nitroApp); err != nil {
				t.Fatal(err)
			}
		}
	}
	stats := w.srv.Stats()
	for i := range 3 {
		if n := stats.Total(graphtest.RouteToken, tenantN(i)); n != 1 {
			t.Errorf("tenant %s: %d token requests across 3 replicas, want 1", tenantN(i), n)
		}
	}
	// At rest the entry is sealed: no access token (a JWT, "eyJ...") in the store.
	raw, err := st.LoadTokenCache(ctx, strings.ToLower(tenantN(0)), readerApp+"_"+strings.ToLower(tenantN(0))+"_AppTokenCache")
	if err != nil {
		t.Fatalf("the shared entry of tenant 0 is not under MSAL's partition key: %v", err)
	}
	if bytes.Contains(raw, []byte("eyJ")) || bytes.Contains(raw, []byte("AccessToken")) {
		t.Error("the shared token cache entry is stored unsealed")
	}
	// A consent change invalidates: the store entry goes, the replica's own tokens too.
	var tc store.TokenCacheStore = st
	must(t, tc.DeleteTokenCaches(ctx, strings.ToLower(tenantN(0))))
	replicas[0].InvalidateTokens(tenantN(0))
	if _, err := replicas[0].AppState(ctx, tenantN(0), nitroApp); err != nil {
		t.Fatal(err)
	}
	if n := w.srv.Stats().Total(graphtest.RouteToken, tenantN(0)); n != 2 {
		t.Errorf("after invalidation: %d token requests, want 2 (one fresh token)", n)
	}
	if _, err := replicas[1].AppState(ctx, tenantN(1), nitroApp); err != nil {
		t.Fatal(err)
	}
	if n := w.srv.Stats().Total(graphtest.RouteToken, tenantN(1)); n != 1 {
		t.Errorf("tenant 1 asked for another token after tenant 0's invalidation: %d", n)
	}
	// A released tenant's client is gone, its token is not: the next read reloads it from the
	// store instead of asking Entra.
	replicas[2].ReleaseTenant(tenantN(2))
	if _, err := replicas[2].AppState(ctx, tenantN(2), nitroApp); err != nil {
		t.Fatal(err)
	}
	if n := w.srv.Stats().Total(graphtest.RouteToken, tenantN(2)); n != 1 {
		t.Errorf("after ReleaseTenant: %d token requests for the tenant, want still 1 (the shared cache's)", n)
	}
}
