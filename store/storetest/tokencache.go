package storetest

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tenantapps/tenantapps/store"
)

// testTokenCache checks the [store.TokenCacheStore] contract when the store implements it.
func testTokenCache(t *testing.T, st store.Store) {
	tc, ok := st.(store.TokenCacheStore)
	if !ok {
		t.Skipf("%T does not implement store.TokenCacheStore", st)
	}
	ctx := context.Background()
	exp := time.Now().Add(time.Hour)
	const tenantA, tenantB = "tenant-a", "tenant-b"
	if _, err := tc.LoadTokenCache(ctx, tenantA, "p1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("LoadTokenCache before any save: %v, want ErrNotFound", err)
	}
	for _, s := range []struct {
		tenant, partition, blob string
	}{{tenantA, "p1", "a1"}, {tenantA, "p2", "a2"}, {tenantB, "p1", "b1"}, {tenantA, "p1", "a1-v2"}} {
		if err := tc.SaveTokenCache(ctx, s.tenant, s.partition, []byte(s.blob), exp); err != nil {
			t.Fatalf("SaveTokenCache(%s, %s): %v", s.tenant, s.partition, err)
		}
	}
	load := func(tenant, partition string) string {
		t.Helper()
		b, err := tc.LoadTokenCache(ctx, tenant, partition)
		if errors.Is(err, store.ErrNotFound) {
			return "<none>"
		}
		if err != nil {
			t.Fatalf("LoadTokenCache(%s, %s): %v", tenant, partition, err)
		}
		return string(b)
	}
	for _, c := range []struct{ tenant, partition, want string }{
		{tenantA, "p1", "a1-v2"}, {tenantA, "p2", "a2"}, {tenantB, "p1", "b1"}, {tenantB, "p2", "<none>"},
	} {
		if got := load(c.tenant, c.partition); got != c.want {
			t.Errorf("LoadTokenCache(%s, %s) = %q, want %q (the last save wins, partitions and tenants apart)", c.tenant, c.partition, got, c.want)
		}
	}
	// A returned blob is a copy.
	if b, err := tc.LoadTokenCache(ctx, tenantB, "p1"); err == nil {
		b[0] = 'X'
		if got := load(tenantB, "p1"); got != "b1" {
			t.Errorf("modifying a loaded blob changed the stored one: %q", got)
		}
	}
	if err := tc.DeleteTokenCaches(ctx, tenantA); err != nil {
		t.Fatal(err)
	}
	if got := load(tenantA, "p1") + load(tenantA, "p2"); got != "<none><none>" {
		t.Errorf("after DeleteTokenCaches(%s): %q, want nothing", tenantA, got)
	}
	if got := load(tenantB, "p1"); got != "b1" {
		t.Errorf("DeleteTokenCaches(%s) removed tenant %s's cache: %q", tenantA, tenantB, got)
	}
	if err := tc.DeleteTokenCaches(ctx, "nobody"); err != nil {
		t.Errorf("DeleteTokenCaches of a tenant without caches: %v", err)
	}
	// An expired entry is not returned.
	if err := tc.SaveTokenCache(ctx, tenantB, "old", []byte("x"), time.Now().Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got := load(tenantB, "old"); got != "<none>" {
		t.Errorf("expired entry loaded: %q", got)
	}
	// Bad input is refused with ErrInvalid and never stored.
	big := bytes.Repeat([]byte("x"), store.MaxTokenCacheSize+1)
	for _, c := range []struct {
		name              string
		tenant, partition string
		blob              []byte
	}{
		{"empty tenant", "", "p", []byte("x")},
		{"empty partition", tenantA, "", []byte("x")},
		{"NUL in partition", tenantA, "a\x00b", []byte("x")},
		{"invalid UTF-8", "\xff", "p", []byte("x")},
		{"long partition", tenantA, strings.Repeat("p", 513), []byte("x")},
		{"empty blob", tenantA, "p", nil},
		{"huge blob", tenantA, "p", big},
	} {
		if err := tc.SaveTokenCache(ctx, c.tenant, c.partition, c.blob, exp); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("SaveTokenCache(%s): %v, want ErrInvalid", c.name, err)
		}
	}
	if _, err := tc.LoadTokenCache(ctx, "", "p"); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("LoadTokenCache with an empty tenant: %v, want ErrInvalid", err)
	}
}
