package store_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/tenantapps/tenantapps/store"
	"github.com/tenantapps/tenantapps/store/memstore"
)

// Optimistic concurrency: an Update based on a stale read fails with ErrConflict and changes
// nothing; the caller reads again and retries.
func Example_optimisticConcurrency() {
	ctx := context.Background()
	var st store.Store = memstore.New()
	defer st.Close()

	rec, _ := st.Create(ctx, store.Record{ID: "profile-1", Tenant: "t-1", Status: "Valid"})
	stale := rec

	rec.Status = "Expired"
	rec, _ = st.Update(ctx, rec)
	fmt.Println("version after update:", rec.Version)

	stale.Status = "Invalid"
	_, err := st.Update(ctx, stale)
	fmt.Println("stale update conflicts:", errors.Is(err, store.ErrConflict))
	// Output:
	// version after update: 2
	// stale update conflicts: true
}

// Paging through every record of a tenant, resumable from the cursor.
func ExampleStore_List() {
	ctx := context.Background()
	st := memstore.New()
	defer st.Close()
	for _, id := range []string{"c", "a", "d", "b", "e"} {
		st.Create(ctx, store.Record{ID: id, Tenant: "t-1"})
	}
	f := store.Filter{Tenant: "t-1"}
	cursor := ""
	for {
		recs, next, err := st.List(ctx, f, store.Page{Limit: 2, Cursor: cursor})
		if err != nil {
			fmt.Println(err)
			return
		}
		for _, r := range recs {
			fmt.Print(r.ID, " ")
		}
		fmt.Println("| more:", next != "")
		if next == "" {
			break
		}
		cursor = next
	}
	// Output:
	// a b | more: true
	// c d | more: true
	// e | more: false
}
