package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/tenantapps/tenantapps/store"
	"github.com/tenantapps/tenantapps/store/sqlite"
	"github.com/tenantapps/tenantapps/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "profiles.db"))
		if err != nil {
			t.Fatal(err)
		}
		return st
	})
}
