package postgres_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tenantapps/tenantapps/store"
	"github.com/tenantapps/tenantapps/store/postgres"
)

// Two stores with their own pools stand in for two replicas: for each of many rounds both read
// the same version and update at the same instant; exactly one must win.
func TestTwoReplicasUpdateOneRecord(t *testing.T) {
	schema := freshSchema(t)
	a, b := open(t, schema), open(t, schema)
	ctx := t.Context()
	if _, err := a.Create(ctx, store.Record{ID: "p", Payload: []byte("0")}); err != nil {
		t.Fatal(err)
	}
	const rounds = 30
	for round := range rounds {
		ra, err := a.Get(ctx, "p")
		if err != nil {
			t.Fatal(err)
		}
		rb, err := b.Get(ctx, "p")
		if err != nil {
			t.Fatal(err)
		}
		ra.Payload, rb.Payload = []byte("a"), []byte("b")
		var wg sync.WaitGroup
		start := make(chan struct{})
		var errA, errB error
		wg.Add(2)
		go func() { defer wg.Done(); <-start; _, errA = a.Update(ctx, ra) }()
		go func() { defer wg.Done(); <-start; _, errB = b.Update(ctx, rb) }()
		close(start)
		wg.Wait()
		wins := 0
		for _, err := range []error{errA, errB} {
			switch {
			case err == nil:
				wins++
			case !errors.Is(err, store.ErrConflict):
				t.Errorf("round %d: err = %v, want nil or ErrConflict", round, err)
			}
		}
		if wins != 1 {
			t.Errorf("round %d: %d replicas won the same version (a: %v, b: %v), want exactly 1", round, wins, errA, errB)
		}
	}
	got, err := a.Get(ctx, "p")
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != 1+rounds {
		t.Errorf("version = %d after %d rounds, want %d", got.Version, rounds, 1+rounds)
	}
}

func TestReplicasShareNoncesAndUniqueKeys(t *testing.T) {
	schema := freshSchema(t)
	a, b := open(t, schema), open(t, schema)
	ctx := t.Context()
	exp := time.Now().Add(time.Hour)
	if err := a.ConsumeNonce(ctx, "n", exp); err != nil {
		t.Fatal(err)
	}
	if err := b.ConsumeNonce(ctx, "n", exp); !errors.Is(err, store.ErrNonceReused) {
		t.Errorf("b.ConsumeNonce of a's nonce: err = %v, want ErrNonceReused", err)
	}
	if _, err := a.Create(ctx, store.Record{ID: "x", UniqueKey: "t/v"}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Create(ctx, store.Record{ID: "y", UniqueKey: "t/v"}); !errors.Is(err, store.ErrDuplicate) {
		t.Errorf("b.Create with a's unique key: err = %v, want ErrDuplicate", err)
	}
}

// Many replicas starting at once against an empty schema migrate it exactly once.
func TestConcurrentOpenMigratesOnce(t *testing.T) {
	schema := freshSchema(t)
	const n = 6
	var wg sync.WaitGroup
	errs := make([]error, n)
	stores := make([]*postgres.Store, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stores[i], errs[i] = postgres.Open(t.Context(), dsn(t), postgres.WithSchema(schema))
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Open %d: %v", i, err)
		} else {
			stores[i].Close()
		}
	}
	pool := rawPool(t)
	var rows int
	if err := pool.QueryRow(t.Context(), "SELECT count(*) FROM "+pgx.Identifier{schema}.Sanitize()+".schema_version").Scan(&rows); err != nil || rows != postgres.SchemaVersion {
		t.Errorf("schema_version has %d rows (%v), want %d", rows, err, postgres.SchemaVersion)
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	schema := freshSchema(t)
	open(t, schema).Close()
	pool := rawPool(t)
	if _, err := pool.Exec(t.Context(), "INSERT INTO "+pgx.Identifier{schema}.Sanitize()+".schema_version (version) VALUES ($1)", postgres.SchemaVersion+1); err != nil {
		t.Fatal(err)
	}
	_, err := postgres.Open(t.Context(), dsn(t), postgres.WithSchema(schema))
	var sv *store.SchemaVersionError
	if !errors.Is(err, store.ErrSchemaTooNew) || !errors.As(err, &sv) || sv.Found != postgres.SchemaVersion+1 {
		t.Errorf("Open(newer schema): err = %v, want *SchemaVersionError with Found %d", err, postgres.SchemaVersion+1)
	}
}

func TestOpenRefusesForeignSchema(t *testing.T) {
	schema := freshSchema(t)
	pool := rawPool(t)
	q := pgx.Identifier{schema}.Sanitize()
	if _, err := pool.Exec(t.Context(), "CREATE SCHEMA "+q+"; CREATE TABLE "+q+".invoices (id int)"); err != nil {
		t.Fatal(err)
	}
	_, err := postgres.Open(t.Context(), dsn(t), postgres.WithSchema(schema))
	if err == nil || !strings.Contains(err.Error(), "another application") {
		t.Errorf("Open(foreign schema): err = %v, want one saying the schema belongs to another application", err)
	}
}

func TestNewKeepsCallersPool(t *testing.T) {
	schema := freshSchema(t)
	pool := rawPool(t)
	st, err := postgres.New(t.Context(), pool, postgres.WithSchema(schema))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Create(t.Context(), store.Record{ID: "p"}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	if _, err := st.Get(t.Context(), "p"); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Get after Close: %v, want ErrClosed", err)
	}
	if err := pool.Ping(t.Context()); err != nil {
		t.Errorf("Close closed the caller's pool: %v", err)
	}
	if _, err := postgres.New(t.Context(), nil); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("New(nil pool): err = %v, want ErrInvalid", err)
	}
}

func TestOpenBadInput(t *testing.T) {
	dsn(t)
	_, err := postgres.Open(t.Context(), "postgres://user:s3cret-pw@host:notaport/db")
	if !errors.Is(err, store.ErrInvalid) || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("Open(bad DSN): err = %v, want ErrInvalid without the password", err)
	}
	for _, s := range []string{"", strings.Repeat("s", 64), "a\x00b"} {
		if _, err := postgres.Open(t.Context(), dsn(t), postgres.WithSchema(s)); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("WithSchema(%q): err = %v, want ErrInvalid", s, err)
		}
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := postgres.Open(ctx, dsn(t), postgres.WithSchema(freshSchema(t))); !errors.Is(err, context.Canceled) {
		t.Errorf("Open(cancelled): err = %v, want context.Canceled", err)
	}
}

// A schema name that needs quoting works (the name is never spliced unquoted into SQL).
func TestSchemaNameIsQuoted(t *testing.T) {
	schema := freshSchema(t) + `-Odd "name"; DROP`
	t.Cleanup(func() {
		rawPool(t).Exec(context.Background(), "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
	})
	st := open(t, schema)
	if _, err := st.Create(t.Context(), store.Record{ID: "p", Services: []string{"mail"}}); err != nil {
		t.Fatal(err)
	}
	recs, _, err := st.List(t.Context(), store.Filter{Service: "mail"}, store.Page{})
	if err != nil || len(recs) != 1 {
		t.Errorf("List = %d, %v", len(recs), err)
	}
	if got := st.Schema(); got != schema {
		t.Errorf("Schema() = %q, want %q", got, schema)
	}
}
