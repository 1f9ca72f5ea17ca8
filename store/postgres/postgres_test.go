package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tenantapps/tenantapps/store"
	"github.com/tenantapps/tenantapps/store/postgres"
	"github.com/tenantapps/tenantapps/store/storetest"
)

// dsn returns the test database, skipping the test when TENANTAPPS_POSTGRES_DSN is unset.
func dsn(t testing.TB) string {
	t.Helper()
	d := os.Getenv("TENANTAPPS_POSTGRES_DSN")
	if d == "" {
		t.Skip("set TENANTAPPS_POSTGRES_DSN to run the PostgreSQL tests, e.g. TENANTAPPS_POSTGRES_DSN='postgres://postgres@127.0.0.1:5432/test?sslmode=disable' (a database where the tests may create and drop schemas; .ci/run sets it)")
	}
	return d
}

// freshSchema returns a schema name unique to this test run and drops the schema when the test
// ends, so parallel runs and reruns never collide.
func freshSchema(t testing.TB) string {
	t.Helper()
	d := dsn(t)
	var b [6]byte
	rand.Read(b[:])
	name := "storetest_" + hex.EncodeToString(b[:])
	t.Cleanup(func() {
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, d)
		if err != nil {
			t.Errorf("drop schema %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{name}.Sanitize()+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", name, err)
		}
	})
	return name
}

func open(t testing.TB, schema string, opts ...postgres.Option) *postgres.Store {
	t.Helper()
	st, err := postgres.Open(context.Background(), dsn(t), append([]postgres.Option{postgres.WithSchema(schema)}, opts...)...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func TestConformance(t *testing.T) {
	dsn(t)
	storetest.Run(t, func(t *testing.T) store.Store {
		return open(t, freshSchema(t))
	})
}

func rawPool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	p, err := pgxpool.New(context.Background(), dsn(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}
