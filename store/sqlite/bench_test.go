package sqlite_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/tenantapps/tenantapps/store/internal/storebench"
	"github.com/tenantapps/tenantapps/store/sqlite"
)

// The benchmark loops and the fixture's records are shared with store/postgres (see
// store/internal/storebench); this file keeps what talks to SQLite: the fixture, built once per
// test binary run with raw batched inserts (building it through Create would take minutes of
// fsyncs) and removed by TestMain, and the raw List query.

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
		fmt.Fprintf(os.Stderr, "sqlite bench fixture: %d records in %v\n", storebench.Records, time.Since(start).Round(time.Millisecond))
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
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	insSvc, err := tx.Prepare("INSERT INTO record_services (record_id, service) VALUES (?, ?)")
	if err != nil {
		return err
	}
	now := time.Now()
	for i := range storebench.Records {
		r := storebench.Record(i, now)
		services, err := json.Marshal(r.Services) // the store's column encoding: a JSON array
		if err != nil {
			return err
		}
		_, err = insRec.Exec(r.ID, r.Version, r.Customer, r.Tenant, string(services), r.AppType, r.Mode, r.Status, r.UniqueKey,
			r.CreatedAt.UnixMicro(), r.UpdatedAt.UnixMicro(), r.Payload)
		if err != nil {
			return err
		}
		for _, s := range r.Services {
			if _, err := insSvc.Exec(r.ID, s); err != nil {
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

// rawList runs the query List runs for a tenant and status through database/sql and the same
// driver, on a read-only handle of its own, scanning the same columns into the same types: the
// floor List is compared against. The scan targets are reused from call to call, so the returned
// function is for one goroutine.
func rawList(b *testing.B) storebench.RawList {
	b.Helper()
	db, err := sql.Open("sqlite", benchFixture(b)+"?_query_only=1")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	const query = `SELECT r.id, r.version, r.customer, r.tenant, r.services, r.app_type, r.mode, r.status, r.unique_key, r.created_at, r.updated_at, r.payload
		FROM records r WHERE r.tenant = ? AND r.status = ? ORDER BY r.id LIMIT ?`
	var (
		id, customer, tenant, services, appType, mode, status string
		uniqueKey                                             sql.NullString
		version, created, updated                             int64
		payload                                               []byte
	)
	return func(ctx context.Context, tenantArg, statusArg string, limit int) (int, error) {
		rows, err := db.QueryContext(ctx, query, tenantArg, statusArg, limit)
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

func BenchmarkGet(b *testing.B) { storebench.Get(b, benchStore(b)) }

// BenchmarkUpdate measures the default, durable configuration (synchronous=FULL: an fsync per
// commit); BenchmarkUpdateSyncNormal the WAL-normal one.
func BenchmarkUpdate(b *testing.B) { storebench.Update(b, benchStore(b)) }
func BenchmarkUpdateSyncNormal(b *testing.B) {
	storebench.Update(b, benchStore(b, sqlite.WithSynchronous(sqlite.SyncNormal)))
}

func BenchmarkListTenantStatus(b *testing.B)    { storebench.ListTenantStatus(b, benchStore(b)) }
func BenchmarkListTenantStatusRaw(b *testing.B) { storebench.ListTenantStatusRaw(b, rawList(b)) }

// BenchmarkListVsRaw alternates List and the raw query in one loop and reports their time ratio.
func BenchmarkListVsRaw(b *testing.B) { storebench.ListVsRaw(b, benchStore(b), rawList(b)) }
