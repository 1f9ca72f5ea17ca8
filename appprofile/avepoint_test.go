package appprofile_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/tenantapps/tenantapps/appprofile"
	"github.com/tenantapps/tenantapps/consent/consenttest"
	"github.com/tenantapps/tenantapps/permissions"
)

const policiesID = "a1b2c3d4-0000-4000-8000-00000000901c"

// TestPoliciesRevokedExchangeManageAsApp: the case. AvePoint publishes (part of) the
// permissions of "AvePoint Policies for Microsoft365"; an administrator who revokes
// Exchange.ManageAsApp makes the profile Invalid with grant-missing, and the fully granted
// profile says its list is partial.
func TestPoliciesRevokedExchangeManageAsApp(t *testing.T) {
	e := newEnv(t, appprofile.WithVendorAppIDs(map[string]string{"Policies for Microsoft 365": policiesID}))
	must(t, e.fake.RegisterApp(consenttest.App{AppID: policiesID, DisplayName: "AvePoint Policies for Microsoft365", RedirectURIs: []string{redirectURI}}))
	p := e.createAndConsent("Policies for Microsoft 365", "Policies for Microsoft 365", policiesID)
	if p.Status != appprofile.Valid || !slices.Equal(codes(p), []appprofile.ReasonCode{appprofile.ReasonPermissionsPartial}) {
		t.Fatalf("after consent: %s %v, want valid with permissions-partial", p.Status, codes(p))
	}
	a, err := e.cat.AppType("Policies for Microsoft 365")
	must(t, err)
	k := slices.IndexFunc(a.Permissions, func(q permissions.Permission) bool { return q.Value == "Exchange.ManageAsApp" })
	if k < 0 {
		t.Fatal("the catalog's Policies list lacks Exchange.ManageAsApp")
	}
	must(t, e.fake.RevokeAppRole(tenantID, policiesID, a.Permissions[k].ResourceAppID, a.Permissions[k].ID))
	got := e.verify(p.ID).Profile
	if got.Status != appprofile.Invalid || got.Reasons[0].Code != appprofile.ReasonGrantMissing ||
		!cmp.Equal(got.Reasons[0].Permissions, []string{"Office 365 Exchange Online Exchange.ManageAsApp (Application)"}) {
		t.Errorf("after the revoke: %s %+v, want invalid, grant-missing Exchange.ManageAsApp", got.Status, got.Reasons)
	}
}

// TestPermissionsAddedSaysWhen: a profile consented when AvePoint's Policies page did not list
// ChannelMember.ReadWrite.All yet (catalog as of September 2023) is told it gained it, and when.
func TestPermissionsAddedSaysWhen(t *testing.T) {
	cur := permissions.Default()
	hist, err := cur.History()
	must(t, err)
	old, err := cur.AsOf("2023-09")
	must(t, err)
	if !slices.ContainsFunc(hist, func(h *permissions.Catalog) bool { return h.Version() == old.Version() }) {
		t.Fatalf("History lacks %s", old.Version())
	}
	var changes []string
	for _, ch := range permissions.ChangesFor(permissions.Diff(old, cur), "Policies for Microsoft 365") {
		changes = append(changes, ch.String())
	}
	want := "Policies for Microsoft 365 gained ChannelMember.ReadWrite.All (Microsoft Graph, Application) (October 2023)"
	if !slices.Contains(changes, want) {
		t.Errorf("Diff(as of September 2023, now) = %q, want it to contain %q", changes, want)
	}

	cat := appprofile.FromPermissions(cur, hist...)
	added, err := cat.AddedSince("Policies for Microsoft 365", old.Version())
	must(t, err)
	if len(added) != 1 || added[0].Value != "ChannelMember.ReadWrite.All" || added[0].Since != "2023-10" {
		t.Fatalf("AddedSince = %+v", added)
	}
	var app appprofile.AppSpec
	for _, a := range cat.AppTypes() {
		if a.Name == "Policies for Microsoft 365" {
			app = a
		}
	}
	prof := appprofile.Profile{ID: "p", Tenant: tenantID, AppType: app.Name, AppID: policiesID, Mode: appprofile.Modern, Status: appprofile.Valid,
		Consent: &appprofile.ConsentRecord{Method: appprofile.AdminConsent, CatalogVersion: old.Version()}}
	var grants []appprofile.Permission
	for _, q := range app.Permissions {
		if q.Value != "ChannelMember.ReadWrite.All" {
			grants = append(grants, q)
		}
	}
	obs := appprofile.Observation{ServicePrincipal: appprofile.ServicePrincipalState{Exists: true, Enabled: true}, Grants: grants}
	a := appprofile.Assess(prof, appprofile.Requirements{App: app, AddedSinceConsent: added}, obs, time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC), appprofile.Policy{})
	if a.Status != appprofile.Invalid || a.Reasons[0].Code != appprofile.ReasonPermissionsAdded ||
		!strings.Contains(a.Reasons[0].Message, "ChannelMember.ReadWrite.All (Application) in October 2023") {
		t.Errorf("assessment %s %+v, want permissions-added naming October 2023", a.Status, a.Reasons)
	}
}
