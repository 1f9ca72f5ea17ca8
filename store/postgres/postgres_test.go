package postgres_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tenantapps/tenantapps/internal/pgtest"
	"github.com/tenantapps/tenantapps/store"
	"github.com/tenantapps/tenantapps/store/postgres"
	"github.com/tenantapps/tenantapps/store/storetest"
)

// dsn returns the test database, skipping the test when TENANTAPPS_POSTGRES_DSN is unset.
func dsn(t testing.TB) string { return pgtest.DSN(t) }

// freshSchema returns a schema name unique to this test run and drops the schema when the test
// ends, so parallel runs and reruns never collide.
func freshSchema(t testing.TB) string {
	_, schema := pgtest.Schema(t, "storetest_")
	return schema
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
