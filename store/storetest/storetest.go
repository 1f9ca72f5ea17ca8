// Package storetest is the conformance suite for [store.Store] implementations, in the spirit of
// testing/fstest: one call checks every property of the contract and reports every failure, not
// only the first.
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store {
//			st, err := mystore.Open(t.Context(), filepath.Join(t.TempDir(), "db"))
//			if err != nil {
//				t.Fatal(err)
//			}
//			return st
//		})
//	}
//
// Each property runs as its own subtest on a fresh, empty store. The suite closes every store it
// gets (Close must be idempotent, so the caller may close it again in a cleanup). If the store
// implements [store.NonceStore] or [store.OutboxStore], that capability is checked as well;
// stores that do not are reported as skipped for those subtests.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/tenantapps/tenantapps/store"
)

// NewStore returns a new, empty store for one subtest. It may call t.Fatal, and should register
// any cleanup of external resources (files, schemas) with t.Cleanup.
type NewStore func(t *testing.T) store.Store

// Run checks that the stores made by newStore satisfy the [store.Store] contract (and the
// [store.NonceStore] one when implemented). It runs subtests in sequence; each gets a fresh store.
func Run(t *testing.T, newStore NewStore) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, st store.Store)
	}{
		{"CreateGet", testCreateGet},
		{"CreateIgnoresVersionAndTimes", testCreateIgnoresVersionAndTimes},
		{"CreateDuplicateID", testCreateDuplicateID},
		{"UniqueKey", testUniqueKey},
		{"NotFound", testNotFound},
		{"Update", testUpdate},
		{"UpdateConflict", testUpdateConflict},
		{"Delete", testDelete},
		{"InvalidArguments", testInvalidArguments},
		{"ReturnsCopies", testReturnsCopies},
		{"Filters", testFilters},
		{"FilterUpdatedTime", testFilterUpdatedTime},
		{"Pagination", testPagination},
		{"PaginationWhileInserting", testPaginationWhileInserting},
		{"IDOrderIsBytewise", testIDOrderIsBytewise},
		{"ConcurrentReadModifyWrite", testConcurrentReadModifyWrite},
		{"ConcurrentCreateSameUniqueKey", testConcurrentCreateSameUniqueKey},
		{"CancelledContext", testCancelledContext},
		{"LargePayload", testLargePayload},
		{"UnicodeFields", testUnicodeFields},
		{"UseAfterClose", testUseAfterClose},
		{"NonceSingleUse", testNonceSingleUse},
		{"NonceConcurrent", testNonceConcurrent},
		{"TokenCache", testTokenCache},
	}
	tests = append(tests, outboxTests...)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := newStore(t)
			if st == nil {
				t.Fatal("newStore returned nil")
			}
			t.Cleanup(func() {
				if err := st.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tc.fn(t, st)
		})
	}
}

// recordOpts compares records ignoring nothing; empty and nil slices are equal.
var recordOpts = cmp.Options{cmpopts.EquateEmpty()}

func sample(id string) store.Record {
	return store.Record{
		ID:        id,
		Customer:  "contoso-msp-customer-1",
		Tenant:    "11111111-2222-3333-4444-555555555555",
		Services:  []string{"backup", "mail-security"},
		AppType:   "vendor",
		Mode:      "admin",
		Status:    "Valid",
		UniqueKey: "",
		Payload:   []byte(`{"sealed":"AAECAw=="}`),
	}
}

func mustCreate(t *testing.T, st store.Store, r store.Record) store.Record {
	t.Helper()
	got, err := st.Create(t.Context(), r)
	if err != nil {
		t.Fatalf("Create(%q): %v", r.ID, err)
	}
	return got
}

// checkStored checks the invariants every returned record has and returns whether they hold.
func checkTimes(t *testing.T, what string, r store.Record) {
	t.Helper()
	for _, ts := range []struct {
		name string
		v    time.Time
	}{{"CreatedAt", r.CreatedAt}, {"UpdatedAt", r.UpdatedAt}} {
		if ts.v.IsZero() {
			t.Errorf("%s: %s is zero; the store must set it", what, ts.name)
			continue
		}
		if ts.v.Location() != time.UTC {
			t.Errorf("%s: %s location = %v, want UTC", what, ts.name, ts.v.Location())
		}
		if !ts.v.Equal(ts.v.Truncate(time.Microsecond)) {
			t.Errorf("%s: %s = %v has sub-microsecond precision; want store.Timestamp semantics", what, ts.name, ts.v)
		}
	}
	if r.UpdatedAt.Before(r.CreatedAt) {
		t.Errorf("%s: UpdatedAt %v before CreatedAt %v", what, r.UpdatedAt, r.CreatedAt)
	}
}

func testCreateGet(t *testing.T, st store.Store) {
	in := sample("profile-1")
	in.UniqueKey = "tenant-1/vendor"
	created := mustCreate(t, st, in)
	checkTimes(t, "Create", created)
	if !created.CreatedAt.Equal(created.UpdatedAt) {
		t.Errorf("Create: CreatedAt %v != UpdatedAt %v", created.CreatedAt, created.UpdatedAt)
	}
	want := in
	want.Version = 1
	want.CreatedAt, want.UpdatedAt = created.CreatedAt, created.UpdatedAt
	if diff := cmp.Diff(want, created, recordOpts); diff != "" {
		t.Errorf("Create result mismatch (-want +got):\n%s", diff)
	}
	got, err := st.Get(t.Context(), "profile-1")
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if diff := cmp.Diff(want, got, recordOpts); diff != "" {
		t.Errorf("Get mismatch (-want +got):\n%s", diff)
	}

	// A record with only an ID round-trips with empty fields.
	bare := mustCreate(t, st, store.Record{ID: "bare"})
	got, err = st.Get(t.Context(), "bare")
	if err != nil {
		t.Fatalf("Get(bare): %v", err)
	}
	if diff := cmp.Diff(bare, got, recordOpts); diff != "" {
		t.Errorf("Get(bare) mismatch (-want +got):\n%s", diff)
	}
	if got.Services != nil || got.Payload != nil {
		t.Errorf("Get(bare): Services=%#v Payload=%#v, want nil for empty", got.Services, got.Payload)
	}
}

func testCreateIgnoresVersionAndTimes(t *testing.T, st store.Store) {
	in := sample("p")
	in.Version = 42
	in.CreatedAt = time.Date(2001, 2, 3, 4, 5, 6, 7, time.UTC)
	in.UpdatedAt = in.CreatedAt
	got := mustCreate(t, st, in)
	if got.Version != 1 {
		t.Errorf("Create: Version = %d, want 1 (the store ignores the caller's version)", got.Version)
	}
	if got.CreatedAt.Equal(in.CreatedAt) || got.UpdatedAt.Equal(in.UpdatedAt) {
		t.Errorf("Create kept the caller's timestamps (%v, %v); the store sets them", got.CreatedAt, got.UpdatedAt)
	}
}

func testCreateDuplicateID(t *testing.T, st store.Store) {
	first := mustCreate(t, st, sample("dup"))
	second := sample("dup")
	second.Customer = "someone-else"
	_, err := st.Create(t.Context(), second)
	if !errors.Is(err, store.ErrDuplicate) {
		t.Fatalf("second Create with same ID: err = %v, want ErrDuplicate", err)
	}
	var de *store.DuplicateError
	if !errors.As(err, &de) || de.Field != "id" || de.Value != "dup" {
		t.Errorf("second Create: err = %#v, want *DuplicateError{Field: \"id\", Value: \"dup\"}", err)
	}
	got, err := st.Get(t.Context(), "dup")
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if diff := cmp.Diff(first, got, recordOpts); diff != "" {
		t.Errorf("failed Create changed the record (-want +got):\n%s", diff)
	}
}

func testUniqueKey(t *testing.T, st store.Store) {
	ctx := t.Context()
	a := sample("a")
	a.UniqueKey = "tenant-1/vendor"
	a = mustCreate(t, st, a)

	// Same key on Create.
	b := sample("b")
	b.UniqueKey = "tenant-1/vendor"
	_, err := st.Create(ctx, b)
	var de *store.DuplicateError
	if !errors.Is(err, store.ErrDuplicate) || !errors.As(err, &de) || de.Field != "unique_key" {
		t.Errorf("Create with taken UniqueKey: err = %v, want *DuplicateError{Field: unique_key}", err)
	}
	if _, err := st.Get(ctx, "b"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("after refused Create, Get(b): err = %v, want ErrNotFound", err)
	}

	// Many records may have no key.
	for _, id := range []string{"n1", "n2", "n3"} {
		mustCreate(t, st, sample(id))
	}

	// Same key on Update.
	c := mustCreate(t, st, sample("c"))
	c.UniqueKey = "tenant-1/vendor"
	if _, err := st.Update(ctx, c); !errors.Is(err, store.ErrDuplicate) {
		t.Errorf("Update to taken UniqueKey: err = %v, want ErrDuplicate", err)
	}
	if got, err := st.Get(ctx, "c"); err != nil || got.Version != 1 || got.UniqueKey != "" {
		t.Errorf("after refused Update, Get(c) = (version %d, key %q, %v), want version 1 and no key", got.Version, got.UniqueKey, err)
	}

	// Keeping one's own key on Update is fine.
	a.Status = "Expired"
	a2, err := st.Update(ctx, a)
	if err != nil {
		t.Fatalf("Update keeping own UniqueKey: %v", err)
	}

	// Changing the key frees the old one.
	a2.UniqueKey = "tenant-1/vendor-v2"
	a3, err := st.Update(ctx, a2)
	if err != nil {
		t.Fatalf("Update changing UniqueKey: %v", err)
	}
	b.UniqueKey = "tenant-1/vendor"
	if _, err := st.Create(ctx, b); err != nil {
		t.Errorf("Create with a key freed by Update: %v", err)
	}

	// Deleting a record frees its key.
	if err := st.Delete(ctx, a3.ID, a3.Version); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	d := sample("d")
	d.UniqueKey = "tenant-1/vendor-v2"
	if _, err := st.Create(ctx, d); err != nil {
		t.Errorf("Create with a key freed by Delete: %v", err)
	}
}

func testNotFound(t *testing.T, st store.Store) {
	ctx := t.Context()
	mustCreate(t, st, sample("exists"))
	if _, err := st.Get(ctx, "missing"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get(missing): err = %v, want ErrNotFound", err)
	}
	r := sample("missing")
	r.Version = 1
	if _, err := st.Update(ctx, r); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Update(missing): err = %v, want ErrNotFound", err)
	}
	if _, err := st.Get(ctx, "missing"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Update(missing) created the record: Get err = %v", err)
	}
	if err := st.Delete(ctx, "missing", 1); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Delete(missing): err = %v, want ErrNotFound", err)
	}
	// Case and prefix differences are different IDs.
	for _, id := range []string{"EXISTS", "exist", "exists "} {
		if _, err := st.Get(ctx, id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Get(%q): err = %v, want ErrNotFound (IDs match exactly)", id, err)
		}
	}
}

func testUpdate(t *testing.T, st store.Store) {
	ctx := t.Context()
	v1 := mustCreate(t, st, sample("u"))
	next := v1
	next.Customer = "customer-2"
	next.Tenant = "tenant-2"
	next.Services = []string{"archive"}
	next.AppType = "customer"
	next.Mode = "user"
	next.Status = "Invalid"
	next.UniqueKey = "k"
	next.Payload = []byte(`{"v":2}`)
	next.CreatedAt = time.Date(1999, 1, 1, 0, 0, 0, 0, time.UTC) // ignored
	v2, err := st.Update(ctx, next)
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	checkTimes(t, "Update", v2)
	want := next
	want.Version = 2
	want.CreatedAt = v1.CreatedAt
	want.UpdatedAt = v2.UpdatedAt
	if diff := cmp.Diff(want, v2, recordOpts); diff != "" {
		t.Errorf("Update result mismatch (-want +got):\n%s", diff)
	}
	if v2.UpdatedAt.Before(v1.UpdatedAt) {
		t.Errorf("UpdatedAt went backwards: %v -> %v", v1.UpdatedAt, v2.UpdatedAt)
	}
	got, err := st.Get(ctx, "u")
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if diff := cmp.Diff(v2, got, recordOpts); diff != "" {
		t.Errorf("Get after Update mismatch (-want +got):\n%s", diff)
	}

	// Clearing fields works.
	v2.Services, v2.Payload, v2.UniqueKey, v2.Status = nil, nil, "", ""
	v3, err := st.Update(ctx, v2)
	if err != nil {
		t.Fatalf("Update clearing fields: %v", err)
	}
	if v3.Version != 3 || len(v3.Services) != 0 || len(v3.Payload) != 0 || v3.UniqueKey != "" || v3.Status != "" {
		t.Errorf("Update clearing fields returned %+v", v3)
	}
	if got, err := st.Get(ctx, "u"); err != nil || len(got.Services) != 0 || got.Version != 3 {
		t.Errorf("Get after clearing = (%+v, %v)", got, err)
	}
	// Filtering by the removed service no longer finds it.
	if recs := listAll(t, st, store.Filter{Service: "archive"}, 10); len(recs) != 0 {
		t.Errorf("List(Service: archive) after removing the service = %v, want none", ids(recs))
	}
}

func testUpdateConflict(t *testing.T, st store.Store) {
	ctx := t.Context()
	v1 := mustCreate(t, st, sample("c"))
	fresh := v1
	fresh.Status = "Expired"
	v2, err := st.Update(ctx, fresh)
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	stale := v1
	stale.Status = "Invalid"
	_, err = st.Update(ctx, stale)
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("Update with stale version: err = %v, want ErrConflict", err)
	}
	var ce *store.ConflictError
	if !errors.As(err, &ce) {
		t.Errorf("Update with stale version: err = %#v, want *ConflictError", err)
	} else if diff := cmp.Diff(&store.ConflictError{ID: "c", Expected: 1, Actual: 2}, ce); diff != "" {
		t.Errorf("ConflictError mismatch (-want +got):\n%s", diff)
	}
	// A version from the future is a conflict too.
	future := v2
	future.Version = 7
	if _, err := st.Update(ctx, future); !errors.Is(err, store.ErrConflict) {
		t.Errorf("Update with future version: err = %v, want ErrConflict", err)
	}
	got, err := st.Get(ctx, "c")
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if diff := cmp.Diff(v2, got, recordOpts); diff != "" {
		t.Errorf("refused Updates changed the record (-want +got):\n%s", diff)
	}
}

func testDelete(t *testing.T, st store.Store) {
	ctx := t.Context()
	v1 := mustCreate(t, st, sample("d"))
	mustCreate(t, st, sample("other"))
	v1.Status = "Expired"
	v2, err := st.Update(ctx, v1)
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	err = st.Delete(ctx, "d", 1)
	var ce *store.ConflictError
	if !errors.Is(err, store.ErrConflict) || !errors.As(err, &ce) || ce.Actual != 2 || ce.Expected != 1 {
		t.Errorf("Delete with stale version: err = %v, want *ConflictError{Expected 1, Actual 2}", err)
	}
	if _, err := st.Get(ctx, "d"); err != nil {
		t.Errorf("refused Delete removed the record: %v", err)
	}
	if err := st.Delete(ctx, "d", v2.Version); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := st.Get(ctx, "d"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get after Delete: err = %v, want ErrNotFound", err)
	}
	if err := st.Delete(ctx, "d", v2.Version); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second Delete: err = %v, want ErrNotFound", err)
	}
	if recs := listAll(t, st, store.Filter{}, 10); !slices.Equal(ids(recs), []string{"other"}) {
		t.Errorf("List after Delete = %v, want [other]", ids(recs))
	}
	if recs := listAll(t, st, store.Filter{Service: "backup"}, 10); !slices.Equal(ids(recs), []string{"other"}) {
		t.Errorf("List(Service) after Delete = %v, want [other]", ids(recs))
	}
	// The ID can be used again and starts over at version 1.
	again := mustCreate(t, st, sample("d"))
	if again.Version != 1 {
		t.Errorf("re-created record: Version = %d, want 1", again.Version)
	}
}

func testInvalidArguments(t *testing.T, st store.Store) {
	ctx := t.Context()
	existing := mustCreate(t, st, sample("ok"))
	long := func(n int) string { return string(bytes.Repeat([]byte("x"), n)) }
	bad := []struct {
		name string
		mod  func(r *store.Record)
	}{
		{"empty ID", func(r *store.Record) { r.ID = "" }},
		{"long ID", func(r *store.Record) { r.ID = long(store.MaxIDLen + 1) }},
		{"ID with newline", func(r *store.Record) { r.ID = "a\nb" }},
		{"ID with NUL", func(r *store.Record) { r.ID = "a\x00b" }},
		{"ID invalid UTF-8", func(r *store.Record) { r.ID = "a\xffb" }},
		{"Tenant invalid UTF-8", func(r *store.Record) { r.Tenant = "\xc3\x28" }},
		{"Customer with NUL", func(r *store.Record) { r.Customer = "x\x00" }},
		{"Status too long", func(r *store.Record) { r.Status = long(store.MaxFieldLen + 1) }},
		{"UniqueKey too long", func(r *store.Record) { r.UniqueKey = long(store.MaxFieldLen + 1) }},
		{"empty service", func(r *store.Record) { r.Services = []string{"a", ""} }},
		{"duplicate service", func(r *store.Record) { r.Services = []string{"a", "b", "a"} }},
		{"too many services", func(r *store.Record) {
			r.Services = nil
			for i := range store.MaxServices + 1 {
				r.Services = append(r.Services, strconv.Itoa(i))
			}
		}},
		{"payload too large", func(r *store.Record) { r.Payload = make([]byte, store.MaxPayloadSize+1) }},
	}
	for _, tc := range bad {
		r := sample("new")
		tc.mod(&r)
		if _, err := st.Create(ctx, r); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("Create(%s): err = %v, want ErrInvalid", tc.name, err)
		}
		u := existing
		if tc.name != "empty ID" && tc.name != "long ID" && tc.name[:2] != "ID" {
			tc.mod(&u)
			if _, err := st.Update(ctx, u); !errors.Is(err, store.ErrInvalid) {
				t.Errorf("Update(%s): err = %v, want ErrInvalid", tc.name, err)
			}
		}
	}
	for _, id := range []string{"", "a\x00", "\xff", long(store.MaxIDLen + 1)} {
		if _, err := st.Get(ctx, id); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("Get(%q): err = %v, want ErrInvalid", id, err)
		}
		if err := st.Delete(ctx, id, 1); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("Delete(%q): err = %v, want ErrInvalid", id, err)
		}
	}
	for _, v := range []int64{0, -1} {
		u := existing
		u.Version = v
		if _, err := st.Update(ctx, u); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("Update(version %d): err = %v, want ErrInvalid", v, err)
		}
		if err := st.Delete(ctx, "ok", v); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("Delete(version %d): err = %v, want ErrInvalid", v, err)
		}
	}
	if _, _, err := st.List(ctx, store.Filter{}, store.Page{Limit: -1}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("List(Limit -1): err = %v, want ErrInvalid", err)
	}
	for _, c := range []string{"garbage", "c1.", "c1.!!!", "c1.AAAA"} {
		if _, _, err := st.List(ctx, store.Filter{}, store.Page{Cursor: c}); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("List(Cursor %q): err = %v, want ErrInvalid", c, err)
		}
	}
	if _, _, err := st.List(ctx, store.Filter{Tenant: "\xff"}, store.Page{}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("List(Tenant invalid UTF-8): err = %v, want ErrInvalid", err)
	}
	// A cursor is bound to its filter.
	for _, id := range []string{"p1", "p2", "p3"} {
		mustCreate(t, st, sample(id))
	}
	_, next, err := st.List(ctx, store.Filter{Status: "Valid"}, store.Page{Limit: 1})
	if err != nil || next == "" {
		t.Fatalf("List(Limit 1) = next %q, err %v; want a next cursor", next, err)
	}
	if _, _, err := st.List(ctx, store.Filter{Status: "Expired"}, store.Page{Limit: 1, Cursor: next}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("List with a cursor from another filter: err = %v, want ErrInvalid", err)
	}
	// Nothing of the above changed the stored record.
	if got, err := st.Get(ctx, "ok"); err != nil || got.Version != 1 {
		t.Errorf("Get(ok) after invalid calls = version %d, %v; want version 1", got.Version, err)
	}
}

func testReturnsCopies(t *testing.T, st store.Store) {
	ctx := t.Context()
	in := sample("copy")
	created, err := st.Create(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	in.Services[0] = "mutated-input"
	in.Payload[0] = 'X'
	created.Services[0] = "mutated-result"
	created.Payload[0] = 'Y'
	got, err := st.Get(ctx, "copy")
	if err != nil {
		t.Fatal(err)
	}
	got.Services[1] = "mutated-get"
	got.Payload[1] = 'Z'
	again, err := st.Get(ctx, "copy")
	if err != nil {
		t.Fatal(err)
	}
	want := sample("copy")
	if diff := cmp.Diff(want.Services, again.Services); diff != "" {
		t.Errorf("Services changed through an aliased slice (-want +got):\n%s", diff)
	}
	if !bytes.Equal(want.Payload, again.Payload) {
		t.Errorf("Payload changed through an aliased slice: %q", again.Payload)
	}
	recs, _, err := st.List(ctx, store.Filter{}, store.Page{})
	if err != nil || len(recs) != 1 {
		t.Fatalf("List = %d records, %v", len(recs), err)
	}
	recs[0].Payload[0] = 'W'
	if again, _ := st.Get(ctx, "copy"); !bytes.Equal(want.Payload, again.Payload) {
		t.Errorf("Payload changed through a List result: %q", again.Payload)
	}
}

// filterFixture creates a varied set of records and returns them as stored.
func filterFixture(t *testing.T, st store.Store) []store.Record {
	t.Helper()
	customers := []string{"cust-a", "cust-b", "cust-c"}
	tenants := []string{"t-1", "t-2", "t-3", "t-4"}
	services := []string{"backup", "mail", "archive", "teams"}
	appTypes := []string{"vendor", "customer"}
	modes := []string{"admin", "user"}
	statuses := []string{"Valid", "Expired", "Invalid"}
	var out []store.Record
	for i := range 48 {
		r := store.Record{
			ID:       fmt.Sprintf("rec-%03d", (i*37)%48), // created out of ID order
			Customer: customers[i%len(customers)],
			Tenant:   tenants[(i/3)%len(tenants)],
			AppType:  appTypes[i%len(appTypes)],
			Mode:     modes[(i/2)%len(modes)],
			Status:   statuses[(i/5)%len(statuses)],
			Payload:  []byte(strconv.Itoa(i)),
		}
		for j, s := range services {
			if (i>>j)&1 == 1 {
				r.Services = append(r.Services, s)
			}
		}
		out = append(out, mustCreate(t, st, r))
	}
	return out
}

func expected(all []store.Record, f store.Filter) []string {
	var want []string
	for _, r := range all {
		if f.Match(r) {
			want = append(want, r.ID)
		}
	}
	sort.Strings(want)
	return want
}

// listAll pages through List with the given page size and returns everything, checking the
// paging invariants on the way.
func listAll(t *testing.T, st store.Store, f store.Filter, limit int) []store.Record {
	t.Helper()
	var all []store.Record
	cursor := ""
	for page := 0; ; page++ {
		if page > 100000 {
			t.Fatalf("List(%+v) did not terminate", f)
		}
		recs, next, err := st.List(t.Context(), f, store.Page{Limit: limit, Cursor: cursor})
		if err != nil {
			t.Fatalf("List(%+v, page %d): %v", f, page, err)
		}
		if limit > 0 && len(recs) > limit {
			t.Errorf("List page %d has %d records, more than Limit %d", page, len(recs), limit)
		}
		if next != "" && limit > 0 && len(recs) < limit {
			t.Errorf("List page %d has %d < %d records but a next cursor", page, len(recs), limit)
		}
		all = append(all, recs...)
		if next == "" {
			return all
		}
		if next == cursor {
			t.Fatalf("List returned the same cursor twice")
		}
		cursor = next
	}
}

func ids(recs []store.Record) []string {
	out := make([]string, 0, len(recs))
	for _, r := range recs {
		out = append(out, r.ID)
	}
	return out
}

func testFilters(t *testing.T, st store.Store) {
	all := filterFixture(t, st)
	filters := []struct {
		name string
		f    store.Filter
	}{
		{"none", store.Filter{}},
		{"customer", store.Filter{Customer: "cust-b"}},
		{"tenant", store.Filter{Tenant: "t-3"}},
		{"service", store.Filter{Service: "mail"}},
		{"app type", store.Filter{AppType: "customer"}},
		{"mode", store.Filter{Mode: "user"}},
		{"status", store.Filter{Status: "Expired"}},
		{"tenant and status", store.Filter{Tenant: "t-2", Status: "Valid"}},
		{"customer service mode", store.Filter{Customer: "cust-a", Service: "backup", Mode: "admin"}},
		{"all fields", store.Filter{Customer: "cust-a", Tenant: "t-1", Service: "backup", AppType: "vendor", Mode: "admin", Status: "Valid"}},
		{"unknown tenant", store.Filter{Tenant: "t-9"}},
		{"unknown service", store.Filter{Service: "nope"}},
		{"case differs", store.Filter{Status: "valid"}},
		{"prefix is not a match", store.Filter{Service: "back"}},
	}
	for _, fc := range filters {
		want := expected(all, fc.f)
		for _, limit := range []int{0, 1, 5, 1000} {
			recs := listAll(t, st, fc.f, limit)
			if diff := cmp.Diff(want, ids(recs), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("List(%s, limit %d) IDs mismatch (-want +got):\n%s", fc.name, limit, diff)
			}
		}
		// Whole records, not only IDs, come back intact.
		recs := listAll(t, st, fc.f, 7)
		byID := map[string]store.Record{}
		for _, r := range all {
			byID[r.ID] = r
		}
		for _, r := range recs {
			if diff := cmp.Diff(byID[r.ID], r, recordOpts); diff != "" {
				t.Errorf("List(%s) record %s mismatch (-want +got):\n%s", fc.name, r.ID, diff)
			}
		}
	}
	// Sanity: the fixture makes the filters meaningful.
	if n := len(expected(all, store.Filter{Tenant: "t-2", Status: "Valid"})); n == 0 || n == len(all) {
		t.Fatalf("fixture is degenerate: %d of %d match", n, len(all))
	}
}

func testFilterUpdatedTime(t *testing.T, st store.Store) {
	ctx := t.Context()
	var recs []store.Record
	for i := range 6 {
		recs = append(recs, mustCreate(t, st, sample(fmt.Sprintf("time-%d", i))))
		time.Sleep(3 * time.Millisecond)
	}
	// Update two of them later, so UpdatedAt differs from creation order.
	for _, i := range []int{1, 4} {
		r := recs[i]
		r.Status = "Expired"
		u, err := st.Update(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		recs[i] = u
		time.Sleep(3 * time.Millisecond)
	}
	if !recs[0].UpdatedAt.Before(recs[5].UpdatedAt) {
		t.Fatalf("store clock did not advance over 18ms (%v, %v); cannot test time filters", recs[0].UpdatedAt, recs[5].UpdatedAt)
	}
	pivot := recs[3].UpdatedAt
	cases := []store.Filter{
		{UpdatedBefore: pivot},
		{UpdatedAfter: pivot},
		{UpdatedAfter: recs[0].UpdatedAt, UpdatedBefore: recs[4].UpdatedAt},
		{UpdatedAfter: pivot, Status: "Expired"},
		{UpdatedBefore: pivot.Add(500 * time.Nanosecond)}, // sub-microsecond part is ignored
		{UpdatedAfter: pivot.Add(-time.Hour).In(time.FixedZone("X", 3600))},
		{UpdatedBefore: recs[0].UpdatedAt}, // nothing
	}
	for _, f := range cases {
		want := expected(recs, f)
		got := ids(listAll(t, st, f, 2))
		if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("List(UpdatedBefore %v, UpdatedAfter %v, Status %q) mismatch (-want +got):\n%s",
				f.UpdatedBefore, f.UpdatedAfter, f.Status, diff)
		}
	}
	if n := len(expected(recs, store.Filter{UpdatedBefore: pivot})); n == 0 || n == len(recs) {
		t.Errorf("degenerate time fixture: %d of %d before pivot", n, len(recs))
	}
}

func testPagination(t *testing.T, st store.Store) {
	ctx := t.Context()
	var want []string
	for i := range 21 {
		id := fmt.Sprintf("page-%02d", i)
		want = append(want, id)
		mustCreate(t, st, sample(id))
	}
	// 21 records in pages of 7: exactly three pages, the last without a next cursor.
	cursor := ""
	var got []string
	for page := range 3 {
		recs, next, err := st.List(ctx, store.Filter{}, store.Page{Limit: 7, Cursor: cursor})
		if err != nil {
			t.Fatalf("page %d: %v", page, err)
		}
		if len(recs) != 7 {
			t.Errorf("page %d: %d records, want 7", page, len(recs))
		}
		if page < 2 && next == "" {
			t.Fatalf("page %d: no next cursor", page)
		}
		if page == 2 && next != "" {
			t.Errorf("last page returned next cursor %q; want \"\" when nothing follows", next)
		}
		got = append(got, ids(recs)...)
		cursor = next
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("paged IDs mismatch (-want +got):\n%s", diff)
	}
	// Default and clamped limits.
	recs, next, err := st.List(ctx, store.Filter{}, store.Page{})
	if err != nil || len(recs) != 21 || next != "" {
		t.Errorf("List(Limit 0) = %d records, next %q, %v; want all 21 (default limit %d)", len(recs), next, err, store.DefaultLimit)
	}
	recs, _, err = st.List(ctx, store.Filter{}, store.Page{Limit: store.MaxLimit * 10})
	if err != nil || len(recs) != 21 {
		t.Errorf("List(Limit > MaxLimit) = %d records, %v; want 21", len(recs), err)
	}
	// A cursor stays valid after the record it points at is deleted.
	recs, next, err = st.List(ctx, store.Filter{}, store.Page{Limit: 5})
	if err != nil {
		t.Fatal(err)
	}
	last := recs[len(recs)-1]
	if err := st.Delete(ctx, last.ID, last.Version); err != nil {
		t.Fatal(err)
	}
	recs, _, err = st.List(ctx, store.Filter{}, store.Page{Limit: 3, Cursor: next})
	if err != nil {
		t.Fatalf("List after deleting the cursor's record: %v", err)
	}
	if diff := cmp.Diff(want[5:8], ids(recs)); diff != "" {
		t.Errorf("page after deleted cursor record mismatch (-want +got):\n%s", diff)
	}
	// Empty store / no match: no records, no cursor.
	recs, next, err = st.List(ctx, store.Filter{Tenant: "nobody"}, store.Page{Limit: 3})
	if err != nil || len(recs) != 0 || next != "" {
		t.Errorf("List(no match) = %d records, next %q, %v", len(recs), next, err)
	}
}

func testPaginationWhileInserting(t *testing.T, st store.Store) {
	ctx := t.Context()
	var originals []string
	for i := 0; i < 60; i += 2 {
		id := fmt.Sprintf("w-%03d", i*10)
		originals = append(originals, id)
		mustCreate(t, st, sample(id))
	}
	// Some originals do not match the filter; they must not appear.
	odd := sample("w-0005")
	odd.Status = "Invalid"
	mustCreate(t, st, odd)

	f := store.Filter{Status: "Valid"}
	seen := map[string]int{}
	var order []string
	cursor := ""
	inserted := 0
	for page := 0; ; page++ {
		recs, next, err := st.List(ctx, f, store.Page{Limit: 4, Cursor: cursor})
		if err != nil {
			t.Fatalf("page %d: %v", page, err)
		}
		for _, r := range recs {
			seen[r.ID]++
			order = append(order, r.ID)
		}
		// Insert records before, between and after the current position.
		for _, base := range []int{0, page*80 + 5, page*80 + 15, 595, 700 + page} {
			id := fmt.Sprintf("w-%03d-new-%d", base, page)
			mustCreate(t, st, sample(id))
			inserted++
		}
		if next == "" {
			break
		}
		if page > 1000 {
			t.Fatal("paging did not terminate")
		}
		cursor = next
	}
	for _, id := range originals {
		if seen[id] != 1 {
			t.Errorf("original record %s seen %d times during the scan, want exactly once", id, seen[id])
		}
	}
	for id, n := range seen {
		if n > 1 {
			t.Errorf("record %s returned %d times", id, n)
		}
	}
	if seen["w-0005"] != 0 {
		t.Errorf("record not matching the filter was returned")
	}
	if !slices.IsSorted(order) {
		t.Errorf("scan order is not ascending by ID: %v", order)
	}
	if inserted == 0 {
		t.Fatal("no records inserted during the scan")
	}
}

func testIDOrderIsBytewise(t *testing.T, st store.Store) {
	idsIn := []string{"b", "B", "a", "A", "ä", "Z", "z", "a b", "a-b", "a_b", "0", "10", "9", "é", "e", "日本", "Ω", "~", "a\u0301"}
	for _, id := range idsIn {
		mustCreate(t, st, sample(id))
	}
	want := slices.Clone(idsIn)
	sort.Strings(want)
	for _, limit := range []int{0, 3} {
		got := ids(listAll(t, st, store.Filter{}, limit))
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("List(limit %d) order is not byte-wise ascending (-want +got):\n%s", limit, diff)
		}
	}
}

func testConcurrentReadModifyWrite(t *testing.T, st store.Store) {
	const writers, cycles = 8, 25
	ctx := t.Context()
	r := sample("counter")
	r.Payload = []byte("0")
	mustCreate(t, st, r)
	var (
		wg        sync.WaitGroup
		mu        sync.Mutex
		conflicts int
		errs      []error
	)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range cycles {
				for attempt := 0; ; attempt++ {
					if attempt > 10000 {
						mu.Lock()
						errs = append(errs, fmt.Errorf("writer %d: no progress after 10000 attempts", w))
						mu.Unlock()
						return
					}
					cur, err := st.Get(ctx, "counter")
					if err != nil {
						mu.Lock()
						errs = append(errs, fmt.Errorf("writer %d: Get: %w", w, err))
						mu.Unlock()
						return
					}
					n, err := strconv.Atoi(string(cur.Payload))
					if err != nil {
						mu.Lock()
						errs = append(errs, fmt.Errorf("writer %d: corrupt payload %q", w, cur.Payload))
						mu.Unlock()
						return
					}
					runtime.Gosched() // widen the read-modify-write window
					cur.Payload = []byte(strconv.Itoa(n + 1))
					_, err = st.Update(ctx, cur)
					if errors.Is(err, store.ErrConflict) {
						mu.Lock()
						conflicts++
						mu.Unlock()
						continue
					}
					if err != nil {
						mu.Lock()
						errs = append(errs, fmt.Errorf("writer %d: Update: %w", w, err))
						mu.Unlock()
						return
					}
					break
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		t.Error(err)
	}
	got, err := st.Get(ctx, "counter")
	if err != nil {
		t.Fatal(err)
	}
	if string(got.Payload) != strconv.Itoa(writers*cycles) || got.Version != 1+writers*cycles {
		t.Errorf("after %d×%d read-modify-write cycles: counter %s, version %d; want %d and %d (updates were lost)",
			writers, cycles, got.Payload, got.Version, writers*cycles, 1+writers*cycles)
	}
	t.Logf("%d conflicts retried", conflicts)
}

func testConcurrentCreateSameUniqueKey(t *testing.T, st store.Store) {
	const n = 16
	ctx := t.Context()
	var wg sync.WaitGroup
	results := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := sample(fmt.Sprintf("racer-%02d", i))
			r.UniqueKey = "tenant/vendor"
			_, results[i] = st.Create(ctx, r)
		}()
	}
	wg.Wait()
	wins := 0
	for i, err := range results {
		switch {
		case err == nil:
			wins++
		case !errors.Is(err, store.ErrDuplicate):
			t.Errorf("racer %d: err = %v, want nil or ErrDuplicate", i, err)
		}
	}
	if wins != 1 {
		t.Errorf("%d of %d concurrent Creates with one UniqueKey succeeded, want exactly 1", wins, n)
	}
	if recs := listAll(t, st, store.Filter{}, 0); len(recs) != 1 {
		t.Errorf("%d records stored, want 1", len(recs))
	}
}

func testCancelledContext(t *testing.T, st store.Store) {
	existing := mustCreate(t, st, sample("ctx"))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	check := func(op string, err error) {
		t.Helper()
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s with cancelled context: err = %v, want one wrapping context.Canceled", op, err)
		}
	}
	_, err := st.Get(ctx, "ctx")
	check("Get", err)
	_, err = st.Create(ctx, sample("never"))
	check("Create", err)
	u := existing
	u.Status = "Expired"
	_, err = st.Update(ctx, u)
	check("Update", err)
	check("Delete", st.Delete(ctx, "ctx", 1))
	_, _, err = st.List(ctx, store.Filter{}, store.Page{})
	check("List", err)
	if ns, ok := st.(store.NonceStore); ok {
		check("ConsumeNonce", ns.ConsumeNonce(ctx, "n", time.Now().Add(time.Hour)))
		if err := ns.ConsumeNonce(t.Context(), "n", time.Now().Add(time.Hour)); err != nil {
			t.Errorf("ConsumeNonce after a cancelled call: %v (the cancelled call must not consume it)", err)
		}
	}

	dctx, dcancel := context.WithDeadline(t.Context(), time.Now().Add(-time.Second))
	defer dcancel()
	if _, err := st.Get(dctx, "ctx"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Get with expired deadline: err = %v, want context.DeadlineExceeded", err)
	}

	// Nothing happened.
	if _, err := st.Get(t.Context(), "never"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Create with cancelled context stored the record: %v", err)
	}
	if got, err := st.Get(t.Context(), "ctx"); err != nil || got.Version != 1 {
		t.Errorf("Update/Delete with cancelled context changed the record: version %d, %v", got.Version, err)
	}
}

func testLargePayload(t *testing.T, st store.Store) {
	ctx := t.Context()
	big := make([]byte, 1<<20)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range big {
		big[i] = byte(rng.UintN(256))
	}
	r := sample("big")
	r.Payload = big
	mustCreate(t, st, r)
	got, err := st.Get(ctx, "big")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(big, got.Payload) {
		t.Errorf("1 MiB payload did not round-trip (got %d bytes)", len(got.Payload))
	}
	// Every byte value, including NUL and invalid UTF-8, survives.
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	got.Payload = append(all, big[:1000]...)
	upd, err := st.Update(ctx, got)
	if err != nil {
		t.Fatal(err)
	}
	again, err := st.Get(ctx, "big")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(upd.Payload, again.Payload) || !bytes.Equal(again.Payload[:256], all) {
		t.Errorf("binary payload did not round-trip through Update")
	}
	recs, _, err := st.List(ctx, store.Filter{}, store.Page{})
	if err != nil || len(recs) != 1 || !bytes.Equal(recs[0].Payload, again.Payload) {
		t.Errorf("List did not return the binary payload intact (err %v)", err)
	}
}

func testUnicodeFields(t *testing.T, st store.Store) {
	ctx := t.Context()
	r := store.Record{
		ID:        "профиль-🚀-東京",
		Customer:  "Müller & Søn — ĀāĒē",
		Tenant:    "テナント",
		Services:  []string{"сервис", "שירות", "😀 emoji", "e\u0301"},
		AppType:   "ヴェンダー",
		Mode:      "管理者",
		Status:    "Válido",
		UniqueKey: "ключ/🔑",
		Payload:   []byte(`{"name":"Zoë 👩‍💻"}`),
	}
	created := mustCreate(t, st, r)
	got, err := st.Get(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(created, got, recordOpts); diff != "" {
		t.Errorf("Unicode record mismatch (-want +got):\n%s", diff)
	}
	for _, f := range []store.Filter{
		{Customer: r.Customer}, {Tenant: r.Tenant}, {Service: "😀 emoji"}, {AppType: r.AppType},
		{Mode: r.Mode}, {Status: r.Status}, {Service: "e\u0301"},
	} {
		if recs := listAll(t, st, f, 0); !slices.Equal(ids(recs), []string{r.ID}) {
			t.Errorf("List(%+v) = %v, want [%s]", f, ids(recs), r.ID)
		}
	}
	// No Unicode normalization or case folding: é (precomposed) is not e + combining acute.
	if recs := listAll(t, st, store.Filter{Service: "é"}, 0); len(recs) != 0 {
		t.Errorf("List(Service: precomposed é) matched %v; stores must not normalize Unicode", ids(recs))
	}
	if recs := listAll(t, st, store.Filter{Status: "VÁLIDO"}, 0); len(recs) != 0 {
		t.Errorf("List(Status: VÁLIDO) matched %v; matching is case-sensitive", ids(recs))
	}
}

func testUseAfterClose(t *testing.T, st store.Store) {
	existing := mustCreate(t, st, sample("x"))
	if err := st.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := st.Close(); err != nil {
		t.Errorf("second Close: %v (Close must be idempotent)", err)
	}
	ctx := t.Context()
	check := func(op string, err error) {
		t.Helper()
		if !errors.Is(err, store.ErrClosed) {
			t.Errorf("%s after Close: err = %v, want ErrClosed", op, err)
		}
	}
	_, err := st.Get(ctx, "x")
	check("Get", err)
	_, err = st.Create(ctx, sample("y"))
	check("Create", err)
	_, err = st.Update(ctx, existing)
	check("Update", err)
	check("Delete", st.Delete(ctx, "x", 1))
	_, _, err = st.List(ctx, store.Filter{}, store.Page{})
	check("List", err)
	if ns, ok := st.(store.NonceStore); ok {
		check("ConsumeNonce", ns.ConsumeNonce(ctx, "n", time.Now().Add(time.Hour)))
	}
}

func nonceStore(t *testing.T, st store.Store) store.NonceStore {
	t.Helper()
	ns, ok := st.(store.NonceStore)
	if !ok {
		t.Skipf("%T does not implement store.NonceStore", st)
	}
	return ns
}

func testNonceSingleUse(t *testing.T, st store.Store) {
	ns := nonceStore(t, st)
	ctx := t.Context()
	exp := time.Now().Add(10 * time.Minute)
	if err := ns.ConsumeNonce(ctx, "nonce-1", exp); err != nil {
		t.Fatalf("first ConsumeNonce: %v", err)
	}
	for i := range 3 {
		if err := ns.ConsumeNonce(ctx, "nonce-1", exp); !errors.Is(err, store.ErrNonceReused) {
			t.Errorf("repeat %d of ConsumeNonce: err = %v, want ErrNonceReused", i, err)
		}
	}
	// A later expiry does not launder a used nonce.
	if err := ns.ConsumeNonce(ctx, "nonce-1", exp.Add(time.Hour)); !errors.Is(err, store.ErrNonceReused) {
		t.Errorf("ConsumeNonce with a new expiry: err = %v, want ErrNonceReused", err)
	}
	if err := ns.ConsumeNonce(ctx, "nonce-2", exp); err != nil {
		t.Errorf("ConsumeNonce(other nonce): %v", err)
	}
	if err := ns.ConsumeNonce(ctx, "NONCE-1", exp); err != nil {
		t.Errorf("ConsumeNonce is case-sensitive, but NONCE-1: %v", err)
	}
	if err := ns.ConsumeNonce(ctx, "expired", time.Now().Add(-time.Second)); !errors.Is(err, store.ErrNonceExpired) {
		t.Errorf("ConsumeNonce(expired): err = %v, want ErrNonceExpired", err)
	}
	if err := ns.ConsumeNonce(ctx, "", exp); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("ConsumeNonce(\"\"): err = %v, want ErrInvalid", err)
	}
	if err := ns.ConsumeNonce(ctx, "\xff", exp); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("ConsumeNonce(invalid UTF-8): err = %v, want ErrInvalid", err)
	}
	if err := ns.ConsumeNonce(ctx, string(make([]byte, store.MaxNonceLen+1)), exp); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("ConsumeNonce(too long): err = %v, want ErrInvalid", err)
	}
	// Many distinct nonces (exercises pruning paths) are each accepted once.
	for i := range 300 {
		n := fmt.Sprintf("bulk-%d", i)
		if err := ns.ConsumeNonce(ctx, n, exp); err != nil {
			t.Fatalf("ConsumeNonce(%s): %v", n, err)
		}
	}
	if err := ns.ConsumeNonce(ctx, "bulk-7", exp); !errors.Is(err, store.ErrNonceReused) {
		t.Errorf("ConsumeNonce(bulk-7) again: err = %v, want ErrNonceReused", err)
	}
	// Nonces and records do not interfere.
	if _, err := st.Get(ctx, "nonce-1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get(nonce-1): err = %v, want ErrNotFound", err)
	}
}

func testNonceConcurrent(t *testing.T, st store.Store) {
	ns := nonceStore(t, st)
	const n = 16
	exp := time.Now().Add(time.Minute)
	for round := range 5 {
		nonce := fmt.Sprintf("race-%d", round)
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = ns.ConsumeNonce(t.Context(), nonce, exp)
			}()
		}
		wg.Wait()
		ok := 0
		for i, err := range errs {
			switch {
			case err == nil:
				ok++
			case !errors.Is(err, store.ErrNonceReused):
				t.Errorf("round %d goroutine %d: err = %v, want nil or ErrNonceReused", round, i, err)
			}
		}
		if ok != 1 {
			t.Errorf("round %d: %d of %d concurrent ConsumeNonce calls succeeded, want exactly 1", round, ok, n)
		}
	}
}
