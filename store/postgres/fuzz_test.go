package postgres_test

import (
	"testing"

	"github.com/tenantapps/tenantapps/store/memstore"
	"github.com/tenantapps/tenantapps/store/storetest"
)

// FuzzRoundTrip feeds arbitrary text and bytes through the PostgreSQL store and the in-memory
// reference: validation, round-tripping and filtering must agree (NUL bytes, invalid UTF-8 and
// collation surprises are where PostgreSQL differs from Go strings).
func FuzzRoundTrip(f *testing.F) {
	st := open(f, freshSchema(f))
	ref := memstore.New()
	f.Add("profile-1", "cust", "tenant", "mail", "Valid", "", []byte(`{"a":1}`))
	f.Add("профиль-🚀", "Müller", "テナント", "e\u0301", "Válido", "ключ", []byte{0, 0xff})
	f.Add("", "", "", "", "", "", []byte(nil))
	f.Add("a\x00b", "\xff", "t", "", "", "k", []byte("x"))
	f.Fuzz(func(t *testing.T, id, customer, tenant, service, status, uniqueKey string, payload []byte) {
		storetest.Differential(t, st, ref, storetest.FuzzInput{ID: id, Customer: customer, Tenant: tenant, Service: service, Status: status, UniqueKey: uniqueKey, Payload: payload})
	})
}
