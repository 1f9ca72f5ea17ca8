package storetest

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/tenantapps/tenantapps/store"
)

// FuzzInput is one generated record for [Differential].
type FuzzInput struct {
	ID, Customer, Tenant, Service, Status, UniqueKey string
	Payload                                          []byte
}

// Differential checks one generated record against a reference store (store/memstore): both stores
// must accept or refuse it alike (refusals wrap the same sentinel), return the same record from
// Get, and find it with the same filters. It removes the record from both afterwards, so it can be
// called many times on long-lived stores, as a fuzz target body:
//
//	f.Fuzz(func(t *testing.T, id, tenant string, payload []byte) {
//		storetest.Differential(t, st, ref, storetest.FuzzInput{ID: id, Tenant: tenant, Payload: payload})
//	})
//
// ref is usually memstore.New().
func Differential(t *testing.T, st, ref store.Store, in FuzzInput) {
	t.Helper()
	ctx := context.Background()
	rec := store.Record{ID: in.ID, Customer: in.Customer, Tenant: in.Tenant, Status: in.Status, UniqueKey: in.UniqueKey, Payload: in.Payload}
	if in.Service != "" {
		rec.Services = []string{in.Service}
	}
	got, errGot := st.Create(ctx, rec)
	want, errWant := ref.Create(ctx, rec)
	if (errGot == nil) != (errWant == nil) {
		t.Fatalf("Create: store err = %v, reference err = %v", errGot, errWant)
	}
	if errGot != nil {
		for _, sentinel := range []error{store.ErrInvalid, store.ErrDuplicate} {
			if errors.Is(errGot, sentinel) != errors.Is(errWant, sentinel) {
				t.Fatalf("Create: store err = %v, reference err = %v (differ on %v)", errGot, errWant, sentinel)
			}
		}
		return
	}
	defer func() {
		if err := st.Delete(ctx, got.ID, got.Version); err != nil {
			t.Errorf("Delete: %v", err)
		}
		if err := ref.Delete(ctx, want.ID, want.Version); err != nil {
			t.Errorf("reference Delete: %v", err)
		}
	}()
	ignoreTimes := cmpopts.IgnoreFields(store.Record{}, "CreatedAt", "UpdatedAt")
	if diff := cmp.Diff(want, got, ignoreTimes, cmpopts.EquateEmpty()); diff != "" {
		t.Fatalf("Create result differs from the reference (-ref +store):\n%s", diff)
	}
	stored, err := st.Get(ctx, rec.ID)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if diff := cmp.Diff(got, stored, cmpopts.EquateEmpty()); diff != "" {
		t.Fatalf("Get differs from Create's result (-create +get):\n%s", diff)
	}
	for _, f := range []store.Filter{
		{Tenant: rec.Tenant}, {Customer: rec.Customer, Status: rec.Status}, {Service: in.Service},
	} {
		gotRecs, _, err := st.List(ctx, f, store.Page{Limit: store.MaxLimit})
		if err != nil {
			t.Fatalf("List(%+v): %v", f, err)
		}
		if !slices.ContainsFunc(gotRecs, func(r store.Record) bool { return r.ID == rec.ID }) {
			t.Fatalf("List(%+v) does not find the record", f)
		}
	}
}
