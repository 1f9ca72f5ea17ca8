package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/tenantapps/tenantapps/store/memstore"
	"github.com/tenantapps/tenantapps/store/sqlite"
	"github.com/tenantapps/tenantapps/store/storetest"
)

// FuzzRoundTrip feeds arbitrary text and bytes through the SQLite store and the in-memory
// reference: validation, round-tripping and filtering must agree.
func FuzzRoundTrip(f *testing.F) {
	st, err := sqlite.Open(context.Background(), filepath.Join(f.TempDir(), "fuzz.db"), sqlite.WithSynchronous(sqlite.SyncNormal))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	ref := memstore.New()
	f.Add("profile-1", "cust", "tenant", "mail", "Valid", "", []byte(`{"a":1}`))
	f.Add("профиль-🚀", "Müller", "テナント", "e\u0301", "Válido", "ключ", []byte{0, 0xff})
	f.Add("", "", "", "", "", "", []byte(nil))
	f.Add("a\x00b", "\xff", "t", "", "", "k", []byte("x"))
	f.Add("same", "c", "t", "s", "s", "same", []byte("y"))
	f.Fuzz(func(t *testing.T, id, customer, tenant, service, status, uniqueKey string, payload []byte) {
		storetest.Differential(t, st, ref, storetest.FuzzInput{ID: id, Customer: customer, Tenant: tenant, Service: service, Status: status, UniqueKey: uniqueKey, Payload: payload})
	})
}
