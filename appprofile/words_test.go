package appprofile_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tenantapps/tenantapps/appprofile"
	"github.com/tenantapps/tenantapps/store"
)

// TestErrorsSayItOnce: a missing profile is reported once, in the Manager's words, and still
// matches both sentinels.
func TestErrorsSayItOnce(t *testing.T) {
	e := newEnv(t)
	_, err := e.mgr.Get(e.ctx, "nope")
	if !errors.Is(err, appprofile.ErrNotFound) || !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Get(nope) = %v, want ErrNotFound and store.ErrNotFound", err)
	}
	if diff := cmp.Diff(`appprofile: no profile with ID "nope"; list the profiles to find it`, err.Error()); diff != "" {
		t.Errorf("Get(nope) message (-want +got):\n%s", diff)
	}
}

// TestNamesMatchLikeTheCatalog: services and app types match ignoring case, as the catalog's
// do; unknown names are answered with the valid ones.
func TestNamesMatchLikeTheCatalog(t *testing.T) {
	e := newEnv(t)
	ps, err := e.mgr.Create(e.ctx, appprofile.CreateRequest{Customer: "contoso", Tenant: tenantID, Services: []string{"nitro"}, AppType: "apelements automation", CustomerServices: []string{"NITRO"}})
	must(t, err)
	if diff := cmp.Diff([]string{"Nitro"}, ps[0].Services); diff != "" || ps[0].AppType != "APElements Automation" {
		t.Errorf("Create(nitro): app type %q services (-want +got):\n%s", ps[0].AppType, diff)
	}
	got, _, err := e.mgr.List(e.ctx, store.Filter{Service: "NITRO", AppType: "APElements  automation"}, store.Page{})
	must(t, err)
	if len(got) != 1 {
		t.Errorf("List(service NITRO) = %d profiles, want 1", len(got))
	}

	_, err = e.mgr.Create(e.ctx, appprofile.CreateRequest{Customer: "contoso", Tenant: tenantID, Services: []string{"Nitrogen"}})
	if !errors.Is(err, appprofile.ErrInvalidRequest) || !strings.Contains(err.Error(), `unknown service "Nitrogen"; use one of: `) || !strings.Contains(err.Error(), "Baseline management") {
		t.Errorf("Create(unknown service) = %v, want the valid service names", err)
	}
	_, err = e.mgr.Create(e.ctx, appprofile.CreateRequest{Customer: "contoso", Tenant: tenantID, Services: []string{"Azure security management"}})
	if !errors.Is(err, appprofile.ErrNoAppID) || !errors.Is(err, appprofile.ErrInvalidRequest) || strings.Count(err.Error(), "appprofile:") != 1 {
		t.Errorf("Create(no vendor app ID) = %v, want ErrNoAppID and ErrInvalidRequest, said once", err)
	}
}
