package consent

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tenantapps/tenantapps/permissions"
	"github.com/tenantapps/tenantapps/roles"
)

func acmeRulebook(t *testing.T) *Rulebook {
	t.Helper()
	data, err := os.ReadFile("../permissions/testdata/overlay/acme.json")
	if err != nil {
		t.Fatal(err)
	}
	cat, err := permissions.Overlay(permissions.Default(), permissions.OverlayFile{Name: "acme.json", Data: data})
	if err != nil {
		t.Fatal(err)
	}
	return NewRulebook(cat)
}

// TestRulebookOfAnEmbeddersCatalog: an app type declared in an embedder's file is evaluated by its
// own rules, and the default catalog's rules are unchanged.
func TestRulebookOfAnEmbeddersCatalog(t *testing.T) {
	b := acmeRulebook(t)
	target := Target{AppType: "Acme MSP Automation"}
	p, err := b.PolicyFor(target, AdminConsent)
	if err != nil {
		t.Fatal(err)
	}
	want := Policy{Target: Target{AppType: "Acme MSP Automation", Service: "Acme Managed Backup"}, Method: AdminConsent,
		Requirements: []Requirement{roleReq("acme/admin-global-administrator", gaOnly)}}
	if diff := cmp.Diff(want, p); diff != "" {
		t.Errorf("PolicyFor (-want +got):\n%s", diff)
	}
	// A Privileged Role Administrator may consent to AvePoint's apps, not to Acme's.
	d, err := b.Evaluate(target, AdminConsent, Consenter{Roles: []roles.TemplateID{roles.PrivilegedRoleAdministrator}}, TenantFacts{})
	if err != nil || d.Allowed {
		t.Errorf("PRA on Acme: %+v, %v", d, err)
	}
	if d, err := b.Evaluate(target, AdminConsent, Consenter{Roles: []roles.TemplateID{roles.GlobalAdministrator}}, TenantFacts{}); err != nil || !d.Allowed {
		t.Errorf("GA on Acme: %+v, %v", d, err)
	}
	if d, err := b.Evaluate(target, UserConsent, Consenter{}, TenantFacts{}); err != nil || d.Allowed || d.Missing[0].Kind != KindAdminConsentGranted {
		t.Errorf("user consent before admin consent: %+v, %v", d, err)
	}
	if m, err := b.Methods("acme msp automation"); err != nil || len(m) != 2 {
		t.Errorf("Methods = %v, %v", m, err)
	}
	rows := b.UserConsentTable()
	if last := rows[len(rows)-1]; last.AppType != "Acme MSP Automation" || last.EntraAppName != "Acme MSP Automation" {
		t.Errorf("last user-consent row = %+v", last)
	}
	// The default rulebook does not know Acme; its error lists the valid names.
	_, err = PolicyFor(target, AdminConsent)
	if !errors.Is(err, ErrUnknownAppType) || !strings.Contains(err.Error(), `"Viva Engage"`) {
		t.Errorf("default rulebook: %v", err)
	}
	if _, err := b.PolicyFor(Target{AppType: "Acme Typo"}, AdminConsent); err == nil || !strings.Contains(err.Error(), `"Acme MSP Automation"`) {
		t.Errorf("unknown app type error does not list the catalog's names: %v", err)
	}
	// An AvePoint app type keeps its seed 003 rules in the overlay.
	for _, m := range []Method{AdminConsent, UserConsent} {
		got, err := b.PolicyFor(Target{AppType: appVivaEngage, Service: svcCloudBackupM365}, m)
		if err != nil {
			t.Fatal(err)
		}
		def, _ := PolicyFor(Target{AppType: appVivaEngage, Service: svcCloudBackupM365}, m)
		if diff := cmp.Diff(def, got); diff != "" {
			t.Errorf("Viva Engage %s policy changed by the overlay (-default +overlay):\n%s", m, diff)
		}
	}
}
