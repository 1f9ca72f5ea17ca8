package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tenantapps/tenantapps/store/internal/storebench"
	"github.com/tenantapps/tenantapps/store/postgres"
)

// The benchmark loops and the fixture's records are shared with store/sqlite (see
// store/internal/storebench); this file keeps what talks to PostgreSQL: the fixture, loaded once
// per test binary run with COPY into a schema of its own and dropped by TestMain, and the raw
// List query.

var (
	benchOnce   sync.Once
	benchSchema string
	benchErr    error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if benchSchema != "" {
		ctx := context.Background()
		if conn, err := pgx.Connect(ctx, os.Getenv("TENANTAPPS_POSTGRES_DSN")); err == nil {
			conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{benchSchema}.Sanitize()+" CASCADE")
			conn.Close(ctx)
		}
	}
	os.Exit(code)
}

func benchFixture(b *testing.B) string {
	b.Helper()
	d := dsn(b)
	benchOnce.Do(func() {
		var r [6]byte
		rand.Read(r[:])
		schema := "bench_" + hex.EncodeToString(r[:])
		start := time.Now()
		ctx := context.Background()
		st, err := postgres.Open(ctx, d, postgres.WithSchema(schema))
		if err != nil {
			benchErr = err
			return
		}
		st.Close()
		benchSchema = schema
		conn, err := pgx.Connect(ctx, d)
		if err != nil {
			benchErr = err
			return
		}
		defer conn.Close(ctx)
		now := time.Now().UTC()
		_, benchErr = conn.CopyFrom(ctx, pgx.Identifier{schema, "records"},
			[]string{"id", "version", "customer", "tenant", "services", "app_type", "mode", "status", "unique_key", "created_at", "updated_at", "payload"},
			pgx.CopyFromSlice(storebench.Records, func(i int) ([]any, error) {
				r := storebench.Record(i, now)
				return []any{r.ID, r.Version, r.Customer, r.Tenant, r.Services, r.AppType, r.Mode, r.Status, r.UniqueKey, r.CreatedAt, r.UpdatedAt, r.Payload}, nil
			}))
		if benchErr == nil {
			_, benchErr = conn.Exec(ctx, "ANALYZE "+pgx.Identifier{schema, "records"}.Sanitize())
		}
		fmt.Fprintf(os.Stderr, "postgres bench fixture: %d records in %v\n", storebench.Records, time.Since(start).Round(time.Millisecond))
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchSchema
}

func benchStore(b *testing.B) *postgres.Store {
	b.Helper()
	schema := benchFixture(b)
	st, err := postgres.Open(context.Background(), dsn(b), postgres.WithSchema(schema))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	return st
}

// rawList runs the query List runs for a tenant and status through a pgx pool of its own,
// scanning the same columns into the same types: the floor List is compared against. The scan
// targets are reused from call to call, so the returned function is for one goroutine.
func rawList(b *testing.B) storebench.RawList {
	b.Helper()
	schema := benchFixture(b)
	pool, err := pgxpool.New(context.Background(), dsn(b))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(pool.Close)
	query := `SELECT r.id, r.version, r.customer, r.tenant, r.services, r.app_type, r.mode, r.status, r.unique_key, r.created_at, r.updated_at, r.payload
		FROM ` + pgx.Identifier{schema, "records"}.Sanitize() + ` r WHERE r.tenant = $1 AND r.status = $2 ORDER BY r.id LIMIT $3`
	var (
		id, customer, tenant, appType, mode, status string
		services                                    []string
		uniqueKey                                   *string
		version                                     int64
		created, updated                            time.Time
		payload                                     []byte
	)
	return func(ctx context.Context, tenantArg, statusArg string, limit int) (int, error) {
		rows, err := pool.Query(ctx, query, tenantArg, statusArg, limit)
		if err != nil {
			return 0, err
		}
		defer rows.Close()
		n := 0
		for rows.Next() {
			if err := rows.Scan(&id, &version, &customer, &tenant, &services, &appType, &mode, &status, &uniqueKey, &created, &updated, &payload); err != nil {
				return n, err
			}
			n++
		}
		return n, rows.Err()
	}
}

func BenchmarkGet(b *testing.B)                 { storebench.Get(b, benchStore(b)) }
func BenchmarkUpdate(b *testing.B)              { storebench.Update(b, benchStore(b)) }
func BenchmarkListTenantStatus(b *testing.B)    { storebench.ListTenantStatus(b, benchStore(b)) }
func BenchmarkListTenantStatusRaw(b *testing.B) { storebench.ListTenantStatusRaw(b, rawList(b)) }

// BenchmarkListVsRaw alternates List and the raw query in one loop and reports their time ratio.
func BenchmarkListVsRaw(b *testing.B) { storebench.ListVsRaw(b, benchStore(b), rawList(b)) }
