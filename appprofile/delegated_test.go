package appprofile_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tenantapps/tenantapps/appprofile"
	"github.com/tenantapps/tenantapps/consent/consenttest"
	"github.com/tenantapps/tenantapps/roles"
)

const delegatedAppID = "a1b2c3d4-0000-4000-8000-00000000de1e"

// TestDelegatedAppBackupFunctions: the Cloud Backup for Microsoft 365 Delegated App needs the
// functions that will use it chosen before consent (seed 000/003), and changing them is a
// re-authorization (in AOS: the app is not modern).
func TestDelegatedAppBackupFunctions(t *testing.T) {
	e := newEnv(t, appprofile.WithVendorAppIDs(map[string]string{"Delegated App": delegatedAppID}))
	must(t, e.fake.RegisterApp(consenttest.App{AppID: delegatedAppID, DisplayName: "AvePoint Online Services – Delegated App", RedirectURIs: []string{redirectURI}}))
	ps, err := e.mgr.Create(e.ctx, appprofile.CreateRequest{Customer: "contoso", Tenant: tenantID, Services: []string{"Cloud Backup for Microsoft 365"}, AppType: "Delegated App"})
	must(t, err)
	p := ps[0]
	if p.Mode != appprofile.Delegated {
		t.Fatalf("mode %s", p.Mode)
	}
	_, err = e.mgr.BeginConsent(e.ctx, p.ID, appprofile.BeginConsentRequest{Consenter: e.globalAdmin()})
	var ee *appprofile.EligibilityError
	if !errors.As(err, &ee) {
		t.Fatalf("consent without functions: %v", err)
	}
	if _, err := e.mgr.BeginConsent(e.ctx, p.ID, appprofile.BeginConsentRequest{Consenter: e.globalAdmin(), BackupFunctions: []string{"Protect Exchange"}}); !errors.As(err, &ee) {
		t.Fatalf("unknown function: %v", err)
	}
	other, err := e.fake.AddUser(tenantID, consenttestUser("reader@contoso.example"))
	must(t, err)
	fns := []string{"Protect Power BI", "Restore Planner task comments"}
	if _, err := e.mgr.BeginConsent(e.ctx, p.ID, appprofile.BeginConsentRequest{Consenter: consenterOf(other, "reader@contoso.example"), BackupFunctions: fns}); !errors.As(err, &ee) {
		t.Fatalf("non-admin: %v", err)
	}
	if cur, _ := e.mgr.Get(e.ctx, p.ID); len(cur.BackupFunctions) != 0 {
		t.Errorf("functions kept although consent was refused: %v", cur.BackupFunctions)
	}
	start, err := e.mgr.BeginConsent(e.ctx, p.ID, appprofile.BeginConsentRequest{Consenter: e.globalAdmin(), BackupFunctions: fns})
	must(t, err)
	e.grantAll(delegatedAppID, "Delegated App") // its list is partial: grant the known rows
	got, err := e.mgr.CompleteConsent(e.ctx, appprofile.Callback{State: start.State, Tenant: tenantID, AdminConsent: "True"})
	must(t, err)
	if !slices.Equal(got.BackupFunctions, fns) || got.Status != appprofile.Valid {
		t.Fatalf("after consent: %s functions %v reasons %v", got.Status, got.BackupFunctions, codes(got))
	}
	change := appprofile.ReauthorizeInput{ReauthorizeRequest: appprofile.ReauthorizeRequest{Change: appprofile.ChangeBackupFunctions, BackupFunctions: []string{"Protect Power Automate / Power Apps"}}, Consenter: e.globalAdmin()}
	if _, err := e.mgr.Reauthorize(e.ctx, p.ID, change); !errors.Is(err, appprofile.ErrNotAllowed) {
		t.Errorf("changing functions on the Elements page: %v", err)
	}
	change.Surface = appprofile.SurfaceAOS
	if _, err := e.mgr.Reauthorize(e.ctx, p.ID, change); err != nil {
		t.Fatal(err)
	}
	got, err = e.mgr.Get(e.ctx, p.ID)
	must(t, err)
	if !slices.Equal(got.BackupFunctions, []string{"Protect Power Automate / Power Apps"}) {
		t.Errorf("functions after re-authorization: %v", got.BackupFunctions)
	}
}

func TestAzureChecklist(t *testing.T) {
	const asmID = "a1b2c3d4-0000-4000-8000-0000000000a5"
	e := newEnv(t, appprofile.WithVendorAppIDs(map[string]string{"APElements Azure Security Management": asmID}))
	must(t, e.fake.RegisterApp(consenttest.App{AppID: asmID, DisplayName: "ASM"}))
	ps, err := e.mgr.Create(e.ctx, appprofile.CreateRequest{Customer: "contoso", Tenant: tenantID, Services: []string{"Azure security management"}})
	must(t, err)
	_, err = e.fake.CreateServicePrincipal(tenantID, asmID)
	must(t, err)
	sub1, sub2 := "/subscriptions/11111111-0000-4000-8000-000000000001", "/subscriptions/11111111-0000-4000-8000-000000000002"
	must(t, e.fake.AssignAzureRole(tenantID, asmID, sub1, roles.Contributor))
	got, err := e.mgr.AzureChecklist(e.ctx, ps[0].ID, []appprofile.AzureScope{
		{Resource: roles.Subscription, ID: sub1},
		{Resource: roles.Subscription, ID: sub2},
		{Resource: roles.KeyVault, Condition: roles.KeyVaultAccessPolicy, ID: sub1 + "/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv"},
	})
	must(t, err)
	type line struct {
		Scope              string
		Verified, Assigned bool
	}
	var lines []line
	for _, c := range got {
		lines = append(lines, line{c.Scope[len(c.Scope)-3:], c.Verified, c.Assigned})
	}
	want := []line{{"001", true, true}, {"002", true, false}, {"/kv", false, false}}
	if diff := cmp.Diff(want, lines); diff != "" {
		t.Errorf("Azure checklist (-want +got):\n%s", diff)
	}
	if _, err := e.mgr.AzureChecklist(e.ctx, ps[0].ID, []appprofile.AzureScope{{Resource: roles.AKSCluster, Condition: "bogus", ID: "x"}}); !errors.Is(err, appprofile.ErrInvalidRequest) {
		t.Errorf("bad condition: %v", err)
	}
}
