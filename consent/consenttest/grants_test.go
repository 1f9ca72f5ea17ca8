package consenttest_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tenantapps/tenantapps/consent"
	"github.com/tenantapps/tenantapps/consent/consenttest"
	"github.com/tenantapps/tenantapps/permissions"
)

// granted lists the app's grants as "Application:<resource>/<role id>" and
// "Delegated:<resource>/<scope>" (tenant-wide grants only), sorted.
func granted(t *testing.T, f *consenttest.Fake, tenantID, appID string) []string {
	t.Helper()
	st, err := f.AppState(context.Background(), tenantID, appID)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, g := range st.AppRoleGrants {
		out = append(out, "Application:"+g.ResourceAppID+"/"+g.AppRoleID)
	}
	for _, g := range st.DelegatedGrants {
		if g.ConsentType != consent.ConsentAllPrincipals {
			continue
		}
		for _, s := range g.Scopes {
			out = append(out, "Delegated:"+g.ResourceAppID+"/"+strings.ToLower(s))
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func wanted(perms []permissions.Permission, skip string) []string {
	var out []string
	for _, p := range perms {
		if strings.EqualFold(p.Value, skip) {
			continue
		}
		if p.Type == permissions.Application {
			out = append(out, "Application:"+p.ResourceAppID+"/"+p.ID)
		} else {
			out = append(out, "Delegated:"+p.ResourceAppID+"/"+strings.ToLower(p.Value))
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// TestGrantConsentAndRevokePermission: one call grants what an admin consent to a hybrid app type
// grants (app roles and tenant-wide delegated scopes, the shared list of a custom app type), and
// one call revokes a named permission of either kind.
func TestGrantConsentAndRevokePermission(t *testing.T) {
	cat := permissions.Default()
	for _, appType := range []string{"APElements Baseline Management", "Custom app for Baseline management"} {
		t.Run(appType, func(t *testing.T) {
			f := setUp(t)
			if err := consenttest.GrantConsent(f, tenantA, appX, cat, appType); err != nil {
				t.Fatal(err)
			}
			a, err := cat.AppType("APElements Baseline Management")
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(wanted(a.Permissions, ""), granted(t, f, tenantA, appX)); diff != "" {
				t.Errorf("after GrantConsent (-want +got):\n%s", diff)
			}
			var app, del string
			for _, p := range a.Permissions {
				switch {
				case p.Type == permissions.Application && app == "":
					app = p.Value
				case p.Type == permissions.Delegated && del == "" && !slices.ContainsFunc(a.Permissions, func(q permissions.Permission) bool {
					return q.Type == permissions.Application && q.Value == p.Value
				}):
					del = p.Value
				}
			}
			for _, v := range []string{app, strings.ToUpper(del)} {
				if err := consenttest.RevokePermission(f, tenantA, appX, cat, appType, v); err != nil {
					t.Fatal(err)
				}
				want := wanted(a.Permissions, v)
				if v != app {
					want = wanted(slices.DeleteFunc(slices.Clone(a.Permissions), func(p permissions.Permission) bool { return p.Value == app }), v)
				}
				if diff := cmp.Diff(want, granted(t, f, tenantA, appX)); diff != "" {
					t.Errorf("after RevokePermission(%s) (-want +got):\n%s", v, diff)
				}
			}
		})
	}
}

func TestGrantKitErrors(t *testing.T) {
	f := setUp(t)
	err := consenttest.GrantConsent(f, tenantA, appX, nil, "No Such App")
	if !errors.Is(err, permissions.ErrUnknownAppType) || !strings.Contains(err.Error(), "APElements Automation") {
		t.Errorf("GrantConsent(unknown app type) = %v, want ErrUnknownAppType listing the valid names", err)
	}
	err = consenttest.RevokePermission(f, tenantA, appX, nil, "APElements Automation", "Mail.Send")
	if err == nil || !strings.Contains(err.Error(), "does not request \"Mail.Send\"") || !strings.Contains(err.Error(), "Group.Create") {
		t.Errorf("RevokePermission(value not requested) = %v, want an error listing what the app type requests", err)
	}
	if err := consenttest.GrantConsent(f, "00000000-0000-0000-0000-00000000dead", appX, nil, "APElements Automation"); !errors.Is(err, consenttest.ErrUnknown) {
		t.Errorf("GrantConsent(unknown tenant) = %v, want ErrUnknown", err)
	}
}
