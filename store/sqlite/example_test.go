package sqlite_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/tenantapps/tenantapps/store"
	"github.com/tenantapps/tenantapps/store/sqlite"
)

// Opening the embedded default store: one file, created on first use, no server.
func ExampleOpen() {
	dir, err := os.MkdirTemp("", "tenantapps-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "profiles.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()

	rec, err := st.Create(ctx, store.Record{
		ID:       "profile-1",
		Tenant:   "11111111-2222-3333-4444-555555555555",
		Services: []string{"backup"},
		Status:   "Valid",
		Payload:  []byte(`{"note":"secrets are sealed before they get here"}`),
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(rec.ID, "version", rec.Version)

	valid, _, err := st.List(ctx, store.Filter{Tenant: rec.Tenant, Status: "Valid"}, store.Page{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("valid profiles in the tenant:", len(valid))
	// Output:
	// profile-1 version 1
	// valid profiles in the tenant: 1
}
