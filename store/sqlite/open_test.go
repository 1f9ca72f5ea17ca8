package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	_ "modernc.org/sqlite"

	"github.com/tenantapps/tenantapps/store"
	"github.com/tenantapps/tenantapps/store/sqlite"
)

func open(t *testing.T, path string, opts ...sqlite.Option) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(t.Context(), path, opts...)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func rawExec(t *testing.T, path string, stmts ...string) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

func TestReopenKeepsRecords(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.db")
	clock := func() time.Time { return time.Date(2026, 11, 25, 4, 0, 0, 123456789, time.UTC) }
	st := open(t, path, sqlite.WithClock(clock))
	want, err := st.Create(t.Context(), store.Record{ID: "p1", Tenant: "t", Services: []string{"mail"}, UniqueKey: "t/v", Payload: []byte("x")})
	if err != nil {
		t.Fatal(err)
	}
	if !want.CreatedAt.Equal(time.Date(2026, 11, 25, 4, 0, 0, 123456000, time.UTC)) {
		t.Errorf("CreatedAt = %v, want the injected clock truncated to µs", want.CreatedAt)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st2 := open(t, path)
	got, err := st2.Get(t.Context(), "p1")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("record after reopen mismatch (-want +got):\n%s", diff)
	}
	if recs, _, err := st2.List(t.Context(), store.Filter{Service: "mail"}, store.Page{}); err != nil || len(recs) != 1 {
		t.Errorf("List(Service) after reopen = %d, %v", len(recs), err)
	}
	if err := st2.CheckIntegrity(t.Context()); err != nil {
		t.Error(err)
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.db")
	st := open(t, path)
	st.Close()
	rawExec(t, path, fmt.Sprintf("PRAGMA user_version = %d", sqlite.SchemaVersion+1))
	_, err := sqlite.Open(t.Context(), path)
	if !errors.Is(err, store.ErrSchemaTooNew) {
		t.Fatalf("Open(newer file): err = %v, want ErrSchemaTooNew", err)
	}
	var sv *store.SchemaVersionError
	if !errors.As(err, &sv) || sv.Found != sqlite.SchemaVersion+1 || sv.Known != sqlite.SchemaVersion || sv.Database != path {
		t.Errorf("err = %#v, want *SchemaVersionError{%s, %d, %d}", err, path, sqlite.SchemaVersion+1, sqlite.SchemaVersion)
	}
}

func TestOpenRefusesForeignFiles(t *testing.T) {
	dir := t.TempDir()
	other := filepath.Join(dir, "other.db")
	rawExec(t, other, "CREATE TABLE invoices (id INTEGER)")
	text := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(text, []byte(strings.Repeat("not a database\n", 500)), 0o600); err != nil {
		t.Fatal(err)
	}
	appID := filepath.Join(dir, "appid.db")
	rawExec(t, appID, "PRAGMA application_id = 42")
	tests := []struct {
		path, want string
	}{
		{other, "another application"},
		{appID, "another application"},
		{text, "not a database"},
		{filepath.Join(dir, "missing-dir", "p.db"), "directory " + filepath.Join(dir, "missing-dir") + " does not exist"},
	}
	for _, tc := range tests {
		_, err := sqlite.Open(t.Context(), tc.path)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Open(%s): err = %v, want one mentioning %q", filepath.Base(tc.path), err, tc.want)
		}
	}
	// The foreign database was not modified.
	db, _ := sql.Open("sqlite", other)
	defer db.Close()
	var n int
	if err := db.QueryRow("SELECT count(*) FROM sqlite_schema").Scan(&n); err != nil || n != 1 {
		t.Errorf("foreign database has %d objects after Open, want 1 (%v)", n, err)
	}
}

func TestOpenRejectsBadPaths(t *testing.T) {
	for _, p := range []string{"", ":memory:", "file:x.db?mode=memory", "a?b.db", "a#b.db"} {
		if _, err := sqlite.Open(t.Context(), p); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("Open(%q): err = %v, want ErrInvalid", p, err)
		}
	}
}

func TestOpenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "p.db")); !errors.Is(err, context.Canceled) {
		t.Errorf("Open(cancelled): err = %v, want context.Canceled", err)
	}
}

// Two Stores on one file behave like two processes: one sees the other's writes, conflicts are
// detected across them and a nonce consumed by one is refused by the other.
func TestTwoStoresShareAFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shared.db")
	a, b := open(t, path), open(t, path)
	ctx := t.Context()
	rec, err := a.Create(ctx, store.Record{ID: "p", Status: "Valid", UniqueKey: "k"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := b.Get(ctx, "p")
	if err != nil || got.Version != 1 {
		t.Fatalf("b.Get = %+v, %v", got, err)
	}
	got.Status = "Expired"
	if _, err := b.Update(ctx, got); err != nil {
		t.Fatal(err)
	}
	rec.Status = "Invalid"
	if _, err := a.Update(ctx, rec); !errors.Is(err, store.ErrConflict) {
		t.Errorf("a.Update with the version b replaced: err = %v, want ErrConflict", err)
	}
	if _, err := b.Create(ctx, store.Record{ID: "q", UniqueKey: "k"}); !errors.Is(err, store.ErrDuplicate) {
		t.Errorf("b.Create with a's unique key: err = %v, want ErrDuplicate", err)
	}
	exp := time.Now().Add(time.Hour)
	if err := a.ConsumeNonce(ctx, "n", exp); err != nil {
		t.Fatal(err)
	}
	if err := b.ConsumeNonce(ctx, "n", exp); !errors.Is(err, store.ErrNonceReused) {
		t.Errorf("b.ConsumeNonce of a's nonce: err = %v, want ErrNonceReused", err)
	}
}

func TestNoncePruning(t *testing.T) {
	var clock fakeClock
	clock.set(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	now := clock.now()
	path := filepath.Join(t.TempDir(), "p.db")
	st := open(t, path, sqlite.WithClock(clock.now))
	ctx := t.Context()
	for i := range 10 {
		if err := st.ConsumeNonce(ctx, fmt.Sprint("old-", i), now.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	now = now.Add(2 * time.Hour)
	clock.set(now)
	if err := st.ConsumeNonce(ctx, "new", now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	db, _ := sql.Open("sqlite", path)
	defer db.Close()
	var n int
	if err := db.QueryRow("SELECT count(*) FROM nonces").Scan(&n); err != nil || n != 1 {
		t.Errorf("%d nonces left after pruning (err %v), want 1", n, err)
	}
	// A pruned nonce presented with its original expiry is still refused.
	if err := st.ConsumeNonce(ctx, "old-1", now.Add(-2*time.Hour+time.Minute)); !errors.Is(err, store.ErrNonceExpired) {
		t.Errorf("ConsumeNonce(pruned) = %v, want ErrNonceExpired", err)
	}
}

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *fakeClock) set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }
