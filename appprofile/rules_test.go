package appprofile

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/tenantapps/tenantapps/roles"
)

func TestCheckReauthorize(t *testing.T) {
	cat := newTestCatalog("1")
	spec := func(name string) AppSpec {
		a, ok := lookupAppType(cat, name)
		if !ok {
			t.Fatalf("no app type %q", name)
		}
		return a
	}
	delegated := Profile{ID: "d", AppType: "Delegated App", Mode: Delegated, Consent: &ConsentRecord{At: t0}}
	tests := []struct {
		name  string
		p     Profile
		app   AppSpec
		req   ReauthorizeRequest
		where Surface // "" with ok=true means allowed
		ok    bool
	}{
		{"modern on elements", baselineProfile(), spec("APElements Baseline Management"), ReauthorizeRequest{}, "", true},
		{"modern change account", baselineProfile(), spec("APElements Baseline Management"), ReauthorizeRequest{Change: ChangeConsentAccount}, "", true},
		{"custom on elements goes to AOS", customProfile(), spec("Custom app for Baseline management"), ReauthorizeRequest{Change: ChangeCertificate}, SurfaceAOS, false},
		{"custom certificate in AOS", customProfile(), spec("Custom app for Baseline management"), ReauthorizeRequest{Surface: SurfaceAOS, Change: ChangeCertificate}, "", true},
		{"custom app change in AOS", customProfile(), spec("Custom app for Baseline management"), ReauthorizeRequest{Surface: SurfaceAOS, Change: ChangeCustomApp}, "", true},
		{"classic on elements goes to AOS", Profile{ID: "c", Mode: Classic}, spec("Microsoft 365 (All permissions)"), ReauthorizeRequest{}, SurfaceAOS, false},
		{"certificate change on modern", baselineProfile(), spec("APElements Baseline Management"), ReauthorizeRequest{Change: ChangeCertificate}, "", false},
		{"user consent where allowed", insightsProfile(), spec("Insights for Microsoft 365"), ReauthorizeRequest{Method: UserConsent}, "", true},
		{"user consent before admin consent", func() Profile { p := insightsProfile(); p.Consent = nil; return p }(), spec("Insights for Microsoft 365"), ReauthorizeRequest{Method: UserConsent}, "", false},
		{"user consent not allowed", baselineProfile(), spec("APElements Baseline Management"), ReauthorizeRequest{Method: UserConsent}, "", false},
		{"backup functions", delegated, spec("Delegated App"), ReauthorizeRequest{Surface: SurfaceAOS, Change: ChangeBackupFunctions, BackupFunctions: []string{"Protect Power BI"}}, "", true},
		{"backup functions empty", delegated, spec("Delegated App"), ReauthorizeRequest{Surface: SurfaceAOS, Change: ChangeBackupFunctions}, "", false},
		{"backup functions unknown", delegated, spec("Delegated App"), ReauthorizeRequest{Surface: SurfaceAOS, Change: ChangeBackupFunctions, BackupFunctions: []string{"Protect Exchange"}}, "", false},
		{"backup functions on other app", baselineProfile(), spec("APElements Baseline Management"), ReauthorizeRequest{Change: ChangeBackupFunctions, BackupFunctions: []string{"Protect Power BI"}}, "", false},
	}
	for _, tt := range tests {
		err := CheckReauthorize(tt.p, tt.app, tt.req)
		if tt.ok {
			if err != nil {
				t.Errorf("%s: %v, want allowed", tt.name, err)
			}
			continue
		}
		var na *NotAllowedError
		if !errors.As(err, &na) || !errors.Is(err, ErrNotAllowed) {
			t.Errorf("%s: err = %v, want *NotAllowedError", tt.name, err)
			continue
		}
		if na.Where != tt.where {
			t.Errorf("%s: Where = %q, want %q (%v)", tt.name, na.Where, tt.where, err)
		}
	}
}

func TestCheckDelete(t *testing.T) {
	cat := newTestCatalog("1")
	for _, a := range cat.AppTypes() {
		err := CheckDelete(Profile{ID: "x", AppType: a.Name}, a)
		if (err == nil) != a.Creatable {
			t.Errorf("%s (creatable %v): CheckDelete = %v", a.Name, a.Creatable, err)
		}
	}
}

func TestBuildChecklist(t *testing.T) {
	cat := newTestCatalog("1")
	base, _ := lookupAppType(cat, "APElements Baseline Management")
	p := baselineProfile()
	got := BuildChecklist(p, base, []roles.TemplateID{roles.ExchangeAdministrator}, true, t0.Add(30*time.Hour), Policy{})
	due := t0.Add(24 * time.Hour)
	want := Checklist{ProfileID: "p1", Verified: true, Directory: []RoleCheck{
		{Role: roles.ExchangeAdministrator, Name: "Exchange Administrator", Assignment: roles.AutomaticWithin24h, Instruction: roles.AutomaticWithin24h.Describe(), Assigned: true, Due: due},
		{Role: roles.AttributeDefinitionReader, Name: "Attribute Definition Reader", Assignment: roles.AutomaticWithin24h, Instruction: roles.AutomaticWithin24h.Describe(), Due: due, Overdue: true},
		{Role: roles.SecurityAdministrator, Name: "Security Administrator", Assignment: roles.AutomaticWithin24h, Instruction: roles.AutomaticWithin24h.Describe(), Due: due, Overdue: true},
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("checklist mismatch (-want +got):\n%s", diff)
	}
	if got.Complete() {
		t.Error("Complete() = true with missing roles")
	}

	asm, _ := lookupAppType(cat, "APElements Azure Security Management")
	ac := BuildChecklist(p, asm, nil, false, t0, Policy{})
	if len(ac.Azure) != 5 || ac.Azure[0].Requirement.Role != roles.Contributor {
		t.Errorf("Azure checklist = %+v, want the 5 ASM requirements starting with Contributor", ac.Azure)
	}

	ins, _ := lookupAppType(cat, "Insights for Microsoft 365")
	if c := BuildChecklist(insightsProfile(), ins, nil, true, t0, Policy{}); len(c.Directory) != 0 {
		t.Errorf("Exchange Administrator listed for a profile that does not manage Exchange: %+v", c.Directory)
	}
	ip := insightsProfile()
	ip.Uses = []string{string(roles.ManagesExchange)}
	if c := BuildChecklist(ip, ins, nil, true, t0, Policy{}); len(c.Directory) != 1 || !c.Directory[0].Overdue || c.Directory[0].Assignment != roles.ManualAfterAuthorization {
		t.Errorf("AOS Exchange checklist = %+v, want one overdue manual-after-authorization line", c.Directory)
	}
}

func TestPlannerRequirement(t *testing.T) {
	for _, tt := range []struct {
		mode    Mode
		appType string
		perm    bool
	}{
		{Classic, "Microsoft 365 (All permissions)", true},
		{Modern, "Cloud Backup for Microsoft 365 (All permissions)", false},
		{Custom, "Custom Azure app", true},
	} {
		got, err := PlannerRequirement(tt.mode)
		if err != nil || got.AppType != tt.appType || (got.RequiredPermission != nil) != tt.perm {
			t.Errorf("PlannerRequirement(%s) = %+v, %v", tt.mode, got, err)
		}
		if tt.perm && got.RequiredPermission.Value != "Tasks.ReadWrite.All" {
			t.Errorf("%s: permission %v", tt.mode, got.RequiredPermission)
		}
	}
	if _, err := PlannerRequirement(Delegated); err == nil {
		t.Error("PlannerRequirement(delegated): no error")
	}
}

func ExamplePlannerRequirement() {
	advice, _ := PlannerRequirement(Classic)
	fmt.Println(advice.AppType, "needs", advice.RequiredPermission)
	// Output: Microsoft 365 (All permissions) needs Microsoft Graph Tasks.ReadWrite.All (Application)
}
