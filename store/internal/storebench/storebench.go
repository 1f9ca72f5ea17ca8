// Package storebench is the benchmark harness the SQL stores share: the records of the benchmark
// fixture and the benchmark loops. store/sqlite and store/postgres keep only what talks to their
// database — loading the fixture and the raw List query List is compared against — so their
// numbers measure the same work and a change to a loop reaches both.
//
// It is internal rather than part of store/storetest on purpose: storetest is the public
// conformance kit, a promise about correctness that embedders build on, while these loops, the
// fixture's size and shape and the List-vs-raw ratio are tuning tools for this module's own SQL
// stores and must stay free to change with them.
package storebench

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tenantapps/tenantapps/store"
)

// The fixture: Records records spread over Tenants tenants and the three Statuses.
const (
	Records = 100_000
	Tenants = 1_000
)

// Statuses are the statuses the fixture's records cycle through.
var Statuses = []string{"Valid", "Expired", "Invalid"}

// ListLimit is the page size the List benchmarks ask for. List's query fetches one row more to
// learn whether another page follows, so a [RawList] is called with ListLimit+1.
const ListLimit = 100

// ID is the ID of the i-th fixture record.
func ID(i int) string { return fmt.Sprintf("profile-%08d", i) }

// Tenant is the tenant of the i-th fixture record.
func Tenant(i int) string { return fmt.Sprintf("tenant-%05d", i%Tenants) }

// Status is the status of the i-th fixture record.
func Status(i int) string { return Statuses[(i/Tenants)%len(Statuses)] }

// Record returns the i-th fixture record as the store keeps it: version 1, both timestamps base
// plus i microseconds, two services, a unique key and a payload of about 600 bytes shaped like
// the manager's. Fixture loaders write its fields with their database's own bulk path.
func Record(i int, base time.Time) store.Record {
	ts := base.Add(time.Duration(i) * time.Microsecond)
	return store.Record{
		ID:        ID(i),
		Version:   1,
		Customer:  fmt.Sprintf("customer-%04d", i%500),
		Tenant:    Tenant(i),
		Services:  []string{"backup", "mail"},
		AppType:   []string{"vendor", "customer"}[i%2],
		Mode:      "admin",
		Status:    Status(i),
		UniqueKey: fmt.Sprintf("%s/%d", Tenant(i), i),
		CreatedAt: ts,
		UpdatedAt: ts,
		Payload:   fmt.Appendf(nil, `{"displayName":"Profile %d","appId":"00000000-0000-0000-0000-%012d","permissions":["Mail.Read","User.Read.All","Directory.Read.All"],"sealed":"%0400d"}`, i, i, i),
	}
}

// RawList runs the query List runs for the filter {Tenant: tenant, Status: status} directly
// through the store's driver, with limit as its LIMIT, scans every row into the same column types
// List scans, and returns how many rows it read. It is the floor List is compared against.
type RawList func(ctx context.Context, tenant, status string, limit int) (int, error)

// Get reads fixture records spread over the whole ID range.
func Get(b *testing.B, st store.Store) {
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := st.Get(ctx, ID((i*7919)%Records)); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// Update changes the status of 64 fixture records in turn, each time from the version the
// previous update returned.
func Update(b *testing.B, st store.Store) {
	ctx := context.Background()
	// Work on records of our own range so repeated runs see consistent versions.
	recs := make([]store.Record, 64)
	for j := range recs {
		r, err := st.Get(ctx, ID(50_000+j))
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
		r.Status = Statuses[i%3]
		u, err := st.Update(ctx, r)
		if err != nil {
			b.Fatal(err)
		}
		recs[j] = u
		i++
	}
}

// ListTenantStatus lists the first page of one tenant's records in one status, the manager's
// most common query, and reports the records a page held.
func ListTenantStatus(b *testing.B, st store.Store) {
	ctx := context.Background()
	b.ReportAllocs()
	i, total := 0, 0
	for b.Loop() {
		f := store.Filter{Tenant: Tenant(i), Status: Statuses[i%3]}
		recs, _, err := st.List(ctx, f, store.Page{Limit: ListLimit})
		if err != nil {
			b.Fatal(err)
		}
		total += len(recs)
		i++
	}
	b.ReportMetric(float64(total)/float64(i), "records/op")
}

// ListTenantStatusRaw is [ListTenantStatus] through raw instead of the store.
func ListTenantStatusRaw(b *testing.B, raw RawList) {
	ctx := context.Background()
	b.ReportAllocs()
	i, total := 0, 0
	for b.Loop() {
		n, err := raw(ctx, Tenant(i), Statuses[i%3], ListLimit+1)
		if err != nil {
			b.Fatal(err)
		}
		total += n
		i++
	}
	b.ReportMetric(float64(total)/float64(i), "records/op")
}

// ListVsRaw alternates List and raw on the same filters in one loop and reports their time ratio,
// which stays meaningful on a loaded machine where separate runs drift.
func ListVsRaw(b *testing.B, st store.Store, raw RawList) {
	ctx := context.Background()
	var listTime, rawTime time.Duration
	i := 0
	for b.Loop() {
		tenant, status := Tenant(i), Statuses[i%3]
		list := func() int {
			t0 := time.Now()
			recs, _, err := st.List(ctx, store.Filter{Tenant: tenant, Status: status}, store.Page{Limit: ListLimit})
			if err != nil {
				b.Fatal(err)
			}
			listTime += time.Since(t0)
			return len(recs)
		}
		direct := func() int {
			t0 := time.Now()
			n, err := raw(ctx, tenant, status, ListLimit+1)
			if err != nil {
				b.Fatal(err)
			}
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
