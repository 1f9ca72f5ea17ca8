package integration_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tenantapps/tenantapps/appprofile"
	"github.com/tenantapps/tenantapps/consent"
	"github.com/tenantapps/tenantapps/consent/consenttest"
	"github.com/tenantapps/tenantapps/consent/graph"
	"github.com/tenantapps/tenantapps/consent/graphtest"
	"github.com/tenantapps/tenantapps/permissions"
	"github.com/tenantapps/tenantapps/store"
)

// TestReaderPermissionRemovedIsCouldNotCheck removes each Graph permission of the reading app's
// documented list (graph.ReaderPermissions) in turn. The reads Microsoft documents as needing
// it are refused by the emulator (403, which it enforces by default); the driver reports a typed
// consent.ErrForbidden; and the profile's check is CouldNotCheck naming the part that could not
// be read, with its Valid status kept — never a false Invalid. With the whole list the same
// profile is checked.
func TestReaderPermissionRemovedIsCouldNotCheck(t *testing.T) {
	all := graph.ReaderPermissions(false) // the optional role-assignment permission only matters to AssignDirectoryRole
	wantParts := map[string][]string{
		graph.PermDirectoryReadAll: {"app state"},
		graph.PermAuditLogReadAll:  {"consent user MFA", "sign-ins"},
		graph.PermPolicyReadAll:    {"consent user MFA"},
	}
	for _, perm := range append([]string{""}, all...) {
		name := "all documented permissions"
		if perm != "" {
			name = "without " + perm
		}
		t.Run(name, func(t *testing.T) {
			held := slices.DeleteFunc(slices.Clone(all), func(p string) bool { return p == perm })
			w := newWorldPerms(t, graphtest.Options{}, held, nil)
			ctx := context.Background()
			tid := tenantN(7)
			must(t, w.srv.AddTenant(consenttest.Tenant{ID: tid, DisplayName: "Contoso"}))
			_, err := w.srv.CreateServicePrincipal(tid, nitroApp)
			must(t, err)
			for _, p := range w.nitro.Permissions {
				must(t, w.srv.GrantAppRole(tid, nitroApp, p.ResourceAppID, p.ID))
			}
			uid, err := w.srv.AddUser(tid, consenttest.User{UserPrincipalName: "anna@contoso.example", MFARegistered: true})
			must(t, err)
			// A delegated profile, so the check reads the app, the consent user (with MFA) and
			// the sign-ins.
			p := appprofile.Profile{ID: "p-perm", Customer: "c", Tenant: tid, Services: []string{"Nitro"}, AppType: w.nitro.Name, AppID: nitroApp,
				Mode: appprofile.Delegated, Shape: appprofile.ShapeApplicationOnly, Status: appprofile.Valid,
				Consent: &appprofile.ConsentRecord{Method: appprofile.AdminConsent, UserID: uid, UserHadMFA: true, At: time.Now().Add(-time.Hour), CatalogVersion: permissions.Default().Version()}}
			b, err := appprofile.MarshalPayload(p)
			must(t, err)
			_, err = w.store.Create(ctx, store.Record{ID: p.ID, Tenant: tid, AppType: p.AppType, Status: string(p.Status), Payload: b})
			must(t, err)

			res, err := w.manager(t).Verify(ctx, p.ID)
			if perm == "" {
				if err != nil || res.Outcome != appprofile.Checked {
					t.Fatalf("with every documented permission: outcome %s, err %v; want checked", res.Outcome, err)
				}
				return
			}
			if res.Outcome != appprofile.CouldNotCheck || !errors.Is(err, appprofile.ErrCouldNotCheck) {
				t.Fatalf("outcome %s, err %v; want could-not-check", res.Outcome, err)
			}
			if res.Profile.Status != appprofile.Valid {
				t.Errorf("status %s, want Valid kept: a missing reader permission is no fact about the app", res.Profile.Status)
			}
			if !errors.Is(res.Err, consent.ErrForbidden) {
				t.Errorf("check error %v does not wrap consent.ErrForbidden", res.Err)
			}
			for _, part := range wantParts[perm] {
				if !strings.Contains(res.Err.Error(), part+":") {
					t.Errorf("check error %q does not name the part %q", res.Err, part)
				}
			}
		})
	}
}
