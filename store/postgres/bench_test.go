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

	"github.com/tenantapps/tenantapps/store"
	"github.com/tenantapps/tenantapps/store/postgres"
)

// Benchmark fixture: benchRecords records over benchTenants tenants and three statuses in a
// schema of their own, loaded once per test binary run with COPY and dropped by TestMain.
const (
	benchRecords = 100_000
	benchTenants = 1_000
)

var benchStatuses = []string{"Valid", "Expired", "Invalid"}

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

func benchID(i int) string     { return fmt.Sprintf("profile-%08d", i) }
func benchTenant(i int) string { return fmt.Sprintf("tenant-%05d", i%benchTenants) }
func benchStatus(i int) string { return benchStatuses[(i/benchTenants)%len(benchStatuses)] }

func benchPayload(i int) []byte {
	return fmt.Appendf(nil, `{"displayName":"Profile %d","appId":"00000000-0000-0000-0000-%012d","permissions":["Mail.Read","User.Read.All","Directory.Read.All"],"sealed":"%0400d"}`, i, i, i)
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
			pgx.CopyFromSlice(benchRecords, func(i int) ([]any, error) {
				ts := now.Add(time.Duration(i) * time.Microsecond)
				return []any{benchID(i), int64(1), fmt.Sprintf("customer-%04d", i%500), benchTenant(i), []string{"backup", "mail"},
					[]string{"vendor", "customer"}[i%2], "admin", benchStatus(i), fmt.Sprintf("%s/%d", benchTenant(i), i), ts, ts, benchPayload(i)}, nil
			}))
		if benchErr == nil {
			_, benchErr = conn.Exec(ctx, "ANALYZE "+pgx.Identifier{schema, "records"}.Sanitize())
		}
		fmt.Fprintf(os.Stderr, "postgres bench fixture: %d records in %v\n", benchRecords, time.Since(start).Round(time.Millisecond))
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

func BenchmarkGet(b *testing.B) {
	st := benchStore(b)
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := st.Get(ctx, benchID((i*7919)%benchRecords)); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkUpdate(b *testing.B) {
	st := benchStore(b)
	ctx := context.Background()
	recs := make([]store.Record, 64)
	for j := range recs {
		r, err := st.Get(ctx, benchID(50_000+j))
		if err != nil {
			b.Fatal(err)
		}
		recs[j] = r
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		j := i % len(recs)
		r := recs[j]
		r.Status = benchStatuses[i%3]
		u, err := st.Update(ctx, r)
		if err != nil {
			b.Fatal(err)
		}
		recs[j] = u
		i++
	}
}

func BenchmarkListTenantStatus(b *testing.B) {
	st := benchStore(b)
	ctx := context.Background()
	b.ReportAllocs()
	i, total := 0, 0
	for b.Loop() {
		f := store.Filter{Tenant: benchTenant(i), Status: benchStatuses[i%3]}
		recs, _, err := st.List(ctx, f, store.Page{Limit: 100})
		if err != nil {
			b.Fatal(err)
		}
		total += len(recs)
		i++
	}
	b.ReportMetric(float64(total)/float64(i), "records/op")
}

// BenchmarkListTenantStatusRaw runs the query List runs, through a pgx pool, scanning the same
// columns: the floor List is compared against.
func BenchmarkListTenantStatusRaw(b *testing.B) {
	schema := benchFixture(b)
	pool, err := pgxpool.New(context.Background(), dsn(b))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(pool.Close)
	query := `SELECT r.id, r.version, r.customer, r.tenant, r.services, r.app_type, r.mode, r.status, r.unique_key, r.created_at, r.updated_at, r.payload
		FROM ` + pgx.Identifier{schema, "records"}.Sanitize() + ` r WHERE r.tenant = $1 AND r.status = $2 ORDER BY r.id LIMIT $3`
	ctx := context.Background()
	var (
		id, customer, tenant, appType, mode, status string
		services                                    []string
		uniqueKey                                   *string
		version                                     int64
		created, updated                            time.Time
		payload                                     []byte
	)
	b.ReportAllocs()
	i, total := 0, 0
	for b.Loop() {
		rows, err := pool.Query(ctx, query, benchTenant(i), benchStatuses[i%3], 101)
		if err != nil {
			b.Fatal(err)
		}
		for rows.Next() {
			if err := rows.Scan(&id, &version, &customer, &tenant, &services, &appType, &mode, &status, &uniqueKey, &created, &updated, &payload); err != nil {
				b.Fatal(err)
			}
			total++
		}
		if err := rows.Err(); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(float64(total)/float64(i), "records/op")
}

// BenchmarkListVsRaw alternates List and the raw query on the same filters in one loop and reports
// their time ratio, which stays meaningful on a loaded machine where separate runs drift.
func BenchmarkListVsRaw(b *testing.B) {
	st := benchStore(b)
	pool, err := pgxpool.New(context.Background(), dsn(b))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(pool.Close)
	query := `SELECT r.id, r.version, r.customer, r.tenant, r.services, r.app_type, r.mode, r.status, r.unique_key, r.created_at, r.updated_at, r.payload
		FROM ` + pgx.Identifier{st.Schema(), "records"}.Sanitize() + ` r WHERE r.tenant = $1 AND r.status = $2 ORDER BY r.id LIMIT $3`
	ctx := context.Background()
	raw := func(tenant, status string) int {
		rows, err := pool.Query(ctx, query, tenant, status, 101)
		if err != nil {
			b.Fatal(err)
		}
		defer rows.Close()
		n := 0
		var (
			id, customer, tenantCol, appType, mode, statusCol string
			services                                          []string
			uniqueKey                                         *string
			version                                           int64
			created, updated                                  time.Time
			payload                                           []byte
		)
		for rows.Next() {
			if err := rows.Scan(&id, &version, &customer, &tenantCol, &services, &appType, &mode, &statusCol, &uniqueKey, &created, &updated, &payload); err != nil {
				b.Fatal(err)
			}
			n++
		}
		return n
	}
	var listTime, rawTime time.Duration
	i := 0
	for b.Loop() {
		tenant, status := benchTenant(i), benchStatuses[i%3]
		list := func() int {
			t0 := time.Now()
			recs, _, err := st.List(ctx, store.Filter{Tenant: tenant, Status: status}, store.Page{Limit: 100})
			if err != nil {
				b.Fatal(err)
			}
			listTime += time.Since(t0)
			return len(recs)
		}
		direct := func() int {
			t0 := time.Now()
			n := raw(tenant, status)
			rawTime += time.Since(t0)
			return n
		}
		// Alternate which runs first, so neither always gets the pages the other warmed.
		var nList, nRaw int
		if i%2 == 0 {
			nList, nRaw = list(), direct()
		} else {
			nRaw, nList = direct(), list()
		}
		if nList != nRaw {
			b.Fatalf("raw query found %d records, List %d", nRaw, nList)
		}
		i++
	}
	b.ReportMetric(float64(listTime)/float64(rawTime), "list/raw")
}
