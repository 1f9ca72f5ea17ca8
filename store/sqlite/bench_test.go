package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/tenantapps/tenantapps/store"
	"github.com/tenantapps/tenantapps/store/sqlite"
)

// Benchmark fixture: benchRecords records over benchTenants tenants and three statuses, built
// once per test binary run with raw batched inserts (building it through Create would take
// minutes of fsyncs) and removed by TestMain.
const (
	benchRecords = 100_000
	benchTenants = 1_000
)

var benchStatuses = []string{"Valid", "Expired", "Invalid"}

var (
	benchOnce sync.Once
	benchDir  string
	benchPath string
	benchErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if benchDir != "" {
		os.RemoveAll(benchDir)
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
	benchOnce.Do(func() {
		benchDir, benchErr = os.MkdirTemp("", "tenantapps-sqlite-bench")
		if benchErr != nil {
			return
		}
		benchPath = filepath.Join(benchDir, "bench.db")
		start := time.Now()
		st, err := sqlite.Open(context.Background(), benchPath)
		if err != nil {
			benchErr = err
			return
		}
		st.Close()
		benchErr = bulkInsert(benchPath)
		fmt.Fprintf(os.Stderr, "sqlite bench fixture: %d records in %v\n", benchRecords, time.Since(start).Round(time.Millisecond))
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchPath
}

func bulkInsert(path string) error {
	db, err := sql.Open("sqlite", path+"?_pragma=synchronous(OFF)&_pragma=journal_mode(WAL)")
	if err != nil {
		return err
	}
	defer db.Close()
	tx, err := db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	insRec, err := tx.Prepare(`INSERT INTO records (id, version, customer, tenant, services, app_type, mode, status, unique_key, created_at, updated_at, payload)
		VALUES (?, 1, ?, ?, ?, ?, 'admin', ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	insSvc, err := tx.Prepare("INSERT INTO record_services (record_id, service) VALUES (?, ?)")
	if err != nil {
		return err
	}
	now := time.Now().UnixMicro()
	for i := range benchRecords {
		appType := []string{"vendor", "customer"}[i%2]
		_, err := insRec.Exec(benchID(i), fmt.Sprintf("customer-%04d", i%500), benchTenant(i), `["backup","mail"]`, appType,
			benchStatus(i), fmt.Sprintf("%s/%d", benchTenant(i), i), now+int64(i), now+int64(i), benchPayload(i))
		if err != nil {
			return err
		}
		for _, s := range []string{"backup", "mail"} {
			if _, err := insSvc.Exec(benchID(i), s); err != nil {
				return err
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	_, err = db.Exec("ANALYZE")
	return err
}

func benchStore(b *testing.B, opts ...sqlite.Option) *sqlite.Store {
	b.Helper()
	st, err := sqlite.Open(context.Background(), benchFixture(b), opts...)
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

func benchUpdate(b *testing.B, opts ...sqlite.Option) {
	st := benchStore(b, opts...)
	ctx := context.Background()
	// Work on records of our own range so repeated runs see consistent versions.
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

// BenchmarkUpdate measures the default, durable configuration (synchronous=FULL: an fsync per
// commit); BenchmarkUpdateSyncNormal the WAL-normal one.
func BenchmarkUpdate(b *testing.B) { benchUpdate(b) }
func BenchmarkUpdateSyncNormal(b *testing.B) {
	benchUpdate(b, sqlite.WithSynchronous(sqlite.SyncNormal))
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

// BenchmarkListTenantStatusRaw runs the query List runs, through database/sql and the same
// driver, scanning the same columns: the floor List is compared against.
func BenchmarkListTenantStatusRaw(b *testing.B) {
	path := benchFixture(b)
	db, err := sql.Open("sqlite", path+"?_query_only=1")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	const query = `SELECT r.id, r.version, r.customer, r.tenant, r.services, r.app_type, r.mode, r.status, r.unique_key, r.created_at, r.updated_at, r.payload
		FROM records r WHERE r.tenant = ? AND r.status = ? ORDER BY r.id LIMIT ?`
	ctx := context.Background()
	var (
		id, customer, tenant, services, appType, mode, status string
		uniqueKey                                             sql.NullString
		version, created, updated                             int64
		payload                                               []byte
	)
	b.ReportAllocs()
	i, total := 0, 0
	for b.Loop() {
		rows, err := db.QueryContext(ctx, query, benchTenant(i), benchStatuses[i%3], 101)
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
		rows.Close()
		i++
	}
	b.ReportMetric(float64(total)/float64(i), "records/op")
}

// BenchmarkListVsRaw alternates List and the raw query on the same filters in one loop and reports
// their time ratio, which stays meaningful on a loaded machine where separate runs drift.
func BenchmarkListVsRaw(b *testing.B) {
	st := benchStore(b)
	db, err := sql.Open("sqlite", benchFixture(b)+"?_query_only=1")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	ctx := context.Background()
	raw := func(tenant, status string) int {
		rows, err := db.QueryContext(ctx, rawListQuery, tenant, status, 101)
		if err != nil {
			b.Fatal(err)
		}
		defer rows.Close()
		n := 0
		var (
			id, customer, tenantCol, services, appType, mode, statusCol string
			uniqueKey                                                   sql.NullString
			version, created, updated                                   int64
			payload                                                     []byte
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

const rawListQuery = `SELECT r.id, r.version, r.customer, r.tenant, r.services, r.app_type, r.mode, r.status, r.unique_key, r.created_at, r.updated_at, r.payload
		FROM records r WHERE r.tenant = ? AND r.status = ? ORDER BY r.id LIMIT ?`
