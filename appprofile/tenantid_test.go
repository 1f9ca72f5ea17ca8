package appprofile_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/tenantapps/tenantapps/appprofile"
	"github.com/tenantapps/tenantapps/store"
)

func TestNormalizeTenantID(t *testing.T) {
	tests := []struct {
		in, want string
		wantErr  string // a fragment of the error; "" for none
	}{
		{in: "6F1E2D3C-1111-4A5B-9C8D-000000000001", want: tenantID},
		{in: " 6f1e2d3c-1111-4a5b-9c8d-000000000001\n", want: tenantID},
		{in: tenantID, want: tenantID},
		{in: "", wantErr: "the tenant ID is missing"},
		{in: "not a tenant at all", wantErr: `"not a tenant at all" is not a tenant ID`},
		{in: "contoso.onmicrosoft.com", wantErr: `"contoso.onmicrosoft.com" is a domain name, not a tenant ID`},
		{in: "{6f1e2d3c-1111-4a5b-9c8d-000000000001}", wantErr: "is not a tenant ID"},
		{in: "6f1e2d3c11114a5b9c8d000000000001", wantErr: "is not a tenant ID"},
		{in: "6f1e2d3c-1111-4a5b-9c8d-00000000000g", wantErr: "is not a tenant ID"},
	}
	for _, tt := range tests {
		got, err := appprofile.NormalizeTenantID(tt.in)
		if tt.wantErr == "" {
			if err != nil || got != tt.want {
				t.Errorf("NormalizeTenantID(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
			continue
		}
		var te *appprofile.TenantIDError
		if !errors.As(err, &te) || !errors.Is(err, appprofile.ErrInvalidTenantID) || !errors.Is(err, appprofile.ErrInvalidRequest) {
			t.Errorf("NormalizeTenantID(%q) err = %v, want a *TenantIDError wrapping ErrInvalidTenantID and ErrInvalidRequest", tt.in, err)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, tt.wantErr) || !strings.Contains(msg, "Overview > Properties > Tenant ID") {
			t.Errorf("NormalizeTenantID(%q) err = %q, want it to contain %q and where to find the tenant ID", tt.in, msg, tt.wantErr)
		}
	}
}

// TestCreateRefusesJunkTenant: a tenant that is not a tenant ID is refused at Create, not stored
// to fail later at BeginConsent.
func TestCreateRefusesJunkTenant(t *testing.T) {
	e := newEnv(t)
	for _, tenant := range []string{"not a tenant at all", "contoso.onmicrosoft.com", ""} {
		_, err := e.mgr.Create(e.ctx, appprofile.CreateRequest{Customer: "contoso", Tenant: tenant, Services: []string{"Nitro"}})
		if !errors.Is(err, appprofile.ErrInvalidTenantID) {
			t.Errorf("Create(tenant %q) err = %v, want ErrInvalidTenantID", tenant, err)
		}
	}
	ps, _, err := e.mgr.List(e.ctx, store.Filter{}, store.Page{})
	must(t, err)
	if len(ps) != 0 {
		t.Errorf("after refused creates the store holds %d profiles, want 0", len(ps))
	}
	if _, _, err := e.mgr.List(e.ctx, store.Filter{Tenant: "contoso.onmicrosoft.com"}, store.Page{}); !errors.Is(err, appprofile.ErrInvalidTenantID) {
		t.Errorf("List(filter tenant domain) err = %v, want ErrInvalidTenantID", err)
	}
	if _, err := e.mgr.VerifyAll(e.ctx, store.Filter{Tenant: "junk"}, appprofile.VerifyAllOptions{}); !errors.Is(err, appprofile.ErrInvalidTenantID) {
		t.Errorf("VerifyAll(filter tenant junk) err = %v, want ErrInvalidTenantID", err)
	}
}

// TestTenantCaseVariantsAreOneTenant: the upper- and lower-case spellings of a tenant ID are one
// tenant: stored lower-case, one profile per app type, found by either spelling.
func TestTenantCaseVariantsAreOneTenant(t *testing.T) {
	e := newEnv(t)
	upper := strings.ToUpper(tenantID)
	ps, err := e.mgr.Create(e.ctx, appprofile.CreateRequest{Customer: "contoso", Tenant: upper, Services: []string{"Nitro"}})
	must(t, err)
	if ps[0].Tenant != tenantID {
		t.Errorf("stored tenant = %q, want the lower-case %q", ps[0].Tenant, tenantID)
	}
	_, err = e.mgr.Create(e.ctx, appprofile.CreateRequest{Customer: "contoso", Tenant: tenantID, Services: []string{"Nitro"}})
	var dup *appprofile.DuplicateError
	if !errors.As(err, &dup) {
		t.Fatalf("second Create with the lower-case spelling: err = %v, want *DuplicateError", err)
	}
	for _, spelling := range []string{upper, tenantID, " " + tenantID + " "} {
		got, _, err := e.mgr.List(e.ctx, store.Filter{Tenant: spelling}, store.Page{})
		must(t, err)
		var ids []string
		for _, p := range got {
			ids = append(ids, p.ID)
		}
		if diff := cmp.Diff([]string{ps[0].ID}, ids); diff != "" {
			t.Errorf("List(tenant %q) (-want +got):\n%s", spelling, diff)
		}
	}
	// The consent URL is issued for the stored spelling; a callback in upper case is the same tenant.
	start, err := e.mgr.BeginConsent(e.ctx, ps[0].ID, appprofile.BeginConsentRequest{Consenter: e.globalAdmin()})
	must(t, err)
	e.grantAll(nitroID, "APElements Automation")
	if _, err := e.mgr.CompleteConsent(e.ctx, appprofile.Callback{State: start.State, Tenant: upper, AdminConsent: "True", RemoteIP: adminIP}); err != nil {
		t.Errorf("CompleteConsent with the upper-case tenant: %v", err)
	}
}

// TestTenantEntryPointsNormalize: the other Manager methods that take a tenant — VerifyTenant,
// History, Report — read the same tenant in any spelling and refuse what is not a tenant ID.
func TestTenantEntryPointsNormalize(t *testing.T) {
	e := newEnv(t)
	upper := strings.ToUpper(tenantID)
	ps, err := e.mgr.Create(e.ctx, appprofile.CreateRequest{Customer: "contoso", Tenant: tenantID, Services: []string{"Nitro"}})
	must(t, err)
	start, err := e.mgr.BeginConsent(e.ctx, ps[0].ID, appprofile.BeginConsentRequest{Consenter: e.globalAdmin()})
	must(t, err)
	e.grantAll(nitroID, "APElements Automation")
	_, err = e.mgr.CompleteConsent(e.ctx, appprofile.Callback{State: start.State, Tenant: tenantID, AdminConsent: "True", RemoteIP: adminIP})
	must(t, err) // the consent is a history entry of the tenant
	res, err := e.mgr.VerifyTenant(e.ctx, upper, appprofile.VerifyTenantOptions{})
	must(t, err)
	if res.Tenant != tenantID || res.Checked != len(ps) {
		t.Errorf("VerifyTenant(%q) = tenant %q, %d checked; want %q, %d", upper, res.Tenant, res.Checked, tenantID, len(ps))
	}
	lower, err := e.mgr.History(e.ctx, appprofile.HistoryQuery{Tenant: tenantID})
	must(t, err)
	got, err := e.mgr.History(e.ctx, appprofile.HistoryQuery{Tenant: upper})
	must(t, err)
	if len(lower) == 0 || len(got) != len(lower) {
		t.Errorf("History(tenant %q) has %d entries, the lower-case spelling %d (want the same, more than 0)", upper, len(got), len(lower))
	}
	rep, err := e.mgr.Report(e.ctx, upper, time.Time{}, time.Time{})
	must(t, err)
	if len(rep.Profiles) != len(ps) {
		t.Errorf("Report(%q) has %d profiles, want %d", upper, len(rep.Profiles), len(ps))
	}
	for name, err := range map[string]error{
		"VerifyTenant": func() error {
			_, err := e.mgr.VerifyTenant(e.ctx, "contoso.onmicrosoft.com", appprofile.VerifyTenantOptions{})
			return err
		}(),
		"History": func() error { _, err := e.mgr.History(e.ctx, appprofile.HistoryQuery{Tenant: "contoso"}); return err }(),
		"Report":  func() error { _, err := e.mgr.Report(e.ctx, "not a tenant", time.Time{}, time.Time{}); return err }(),
	} {
		if !errors.Is(err, appprofile.ErrInvalidTenantID) {
			t.Errorf("%s with a non-tenant: err = %v, want ErrInvalidTenantID", name, err)
		}
	}
}
