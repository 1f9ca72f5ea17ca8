package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tenantapps/tenantapps/appprofile"
	"github.com/tenantapps/tenantapps/consent"
	"github.com/tenantapps/tenantapps/consent/consenttest"
	"github.com/tenantapps/tenantapps/permissions"
	"github.com/tenantapps/tenantapps/store"
	"github.com/tenantapps/tenantapps/store/sqlite"
)

var (
	t0       = time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	tenantA  = "6f1c3a52-8d4e-4b7a-a1c9-2e5f7b9d0c13"
	tenantB  = "7a2d4b63-9e5f-4c8b-b2da-3f6a8c0e1d24"
	nitroApp = "5d0c1f5e-0000-4000-8000-000000000001"
	custApp  = "5d0c1f5e-0000-4000-8000-000000000002"
)

// seedStore writes three profiles to a new SQLite store and builds a Fake tenant directory in
// which the first is healthy, the second lacks one grant and the third was never consented.
func seedStore(t *testing.T) (string, *consenttest.Fake) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "profiles.db")
	ctx := context.Background()
	st, err := sqlite.Open(ctx, path, sqlite.WithClock(func() time.Time { return t0 }))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cat := permissions.Default()
	nitro, err := cat.AppType("APElements Automation")
	if err != nil {
		t.Fatal(err)
	}
	consented := &appprofile.ConsentRecord{Method: appprofile.AdminConsent, UserID: "u-admin", UserPrincipalName: "admin@contoso.example", At: t0, CatalogVersion: cat.Version()}
	profiles := []appprofile.Profile{
		{ID: "p-1-nitro", Name: "APElements Automation", Customer: "Contoso", Tenant: tenantA, Services: []string{"Nitro"}, AppType: nitro.Name, AppID: nitroApp,
			Mode: appprofile.Modern, Shape: appprofile.ShapeApplicationOnly, Status: appprofile.Valid, Consent: consented, CreatedAt: t0, UpdatedAt: t0},
		{ID: "p-2-nitro", Name: "APElements Automation", Customer: "Fabrikam", Tenant: tenantB, Services: []string{"Nitro"}, AppType: nitro.Name, AppID: nitroApp,
			Mode: appprofile.Modern, Shape: appprofile.ShapeApplicationOnly, Status: appprofile.Valid, Consent: consented, CreatedAt: t0, UpdatedAt: t0},
		{ID: "p-3-custom", Name: "Contoso baseline app", Customer: "Contoso", Tenant: tenantA, Services: []string{"Baseline management"}, AppType: "Custom app for Baseline management",
			AppID: custApp, Mode: appprofile.Custom, Shape: appprofile.ShapeHybrid, Status: appprofile.Pending, CreatedAt: t0, UpdatedAt: t0,
			Reasons: []appprofile.Reason{{Code: appprofile.ReasonNotConsented, Message: "the profile has not been consented yet", Remediation: "consent to the app", Effect: appprofile.EffectPending}},
			Custom:  &appprofile.CustomApp{ApplicationID: custApp, Thumbprint: "78A83993790629E6FF304A2C1DF25B4CC78993C1", NotAfter: t0.AddDate(1, 0, 0), PFX: appprofile.SealedSecret{KeyID: "k1", Nonce: []byte("nonce"), Ciphertext: []byte("sealed-pfx")}}},
	}
	for _, p := range profiles {
		payload, err := appprofile.MarshalPayload(p)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.Create(ctx, store.Record{ID: p.ID, Customer: p.Customer, Tenant: p.Tenant, Services: p.Services, AppType: p.AppType, Mode: string(p.Mode),
			Status: string(p.Status), UniqueKey: p.Tenant + "|" + p.AppType, Payload: payload}); err != nil {
			t.Fatal(err)
		}
	}
	f := consenttest.NewFake(consenttest.WithClock(func() time.Time { return t0 }))
	for _, tid := range []string{tenantA, tenantB} {
		if err := f.AddTenant(consenttest.Tenant{ID: tid, DisplayName: tid}); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.RegisterApp(consenttest.App{AppID: nitroApp, DisplayName: "APElements Automation"}); err != nil {
		t.Fatal(err)
	}
	for _, tid := range []string{tenantA, tenantB} {
		if err := consenttest.GrantConsent(f, tid, nitroApp, nil, nitro.Name); err != nil {
			t.Fatal(err)
		}
	}
	// Tenant B: the first permission was revoked.
	if err := consenttest.RevokePermission(f, tenantB, nitroApp, nil, nitro.Name, nitro.Permissions[0].Value); err != nil {
		t.Fatal(err)
	}
	return path, f
}

func runProfilesCLI(t *testing.T, vars map[string]string, f *consenttest.Fake, args ...string) (int, string, string) {
	t.Helper()
	o := cliOpts{vars: vars, now: func() time.Time { return t0.Add(48 * time.Hour) }}
	if f != nil {
		o.newDriver = func(context.Context, *cliEnv) (consent.Driver, func(), error) { return f, func() {}, nil }
	}
	return runCLIOpts(t, o, args...)
}

func TestProfilesGolden(t *testing.T) {
	tests := []struct {
		golden string
		args   []string
		code   int
		env    bool // name the store through $TENANTAPPS_STORE_DSN instead of --db
	}{
		{"profiles_list.json", []string{"profiles", "list", "--format", "json"}, exitOK, false},
		{"profiles_list.txt", []string{"profiles", "list"}, exitOK, true},
		{"profiles_list_contoso_pending.json", []string{"profiles", "list", "--format", "json", "--customer", "Contoso", "--status", "pending"}, exitOK, false},
		{"profiles_list_page.json", []string{"profiles", "list", "--format", "json", "--limit", "2"}, exitOK, false},
		{"profiles_show_custom.json", []string{"profiles", "show", "--format", "json", "p-3-custom"}, exitOK, false},
		{"profiles_show_custom.txt", []string{"profiles", "show", "p-3-custom"}, exitOK, false},
		{"profiles_verify.json", []string{"profiles", "verify", "--format", "json"}, exitNegative, false},
		{"profiles_verify.txt", []string{"profiles", "verify"}, exitNegative, false},
		{"profiles_verify_valid.json", []string{"profiles", "verify", "--format", "json", "p-1-nitro"}, exitOK, false},
	}
	for _, tc := range tests {
		t.Run(tc.golden, func(t *testing.T) {
			path, f := seedStore(t)
			args, vars := tc.args, map[string]string{}
			if tc.env {
				vars[envStoreDSN] = path
			} else {
				args = append(args[:2:2], append([]string{"--db", path}, args[2:]...)...)
			}
			code, out, errOut := runProfilesCLI(t, vars, f, args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d; stderr %q", code, tc.code, errOut)
			}
			checkGolden(t, tc.golden, out)
			if strings.Contains(out, "sealed-pfx") || strings.Contains(out, "c2VhbGVk") {
				t.Error("output contains sealed secrets")
			}
		})
	}
}

func TestProfilesErrors(t *testing.T) {
	path, f := seedStore(t)
	tests := []struct {
		name    string
		vars    map[string]string
		args    []string
		code    int
		wantErr string
	}{
		{"no subcommand", nil, []string{"profiles"}, exitUsage, "usage: tenantapps profiles"},
		{"help", nil, []string{"profiles", "--help"}, exitOK, "usage: tenantapps profiles"},
		{"subcommand help", nil, []string{"profiles", "list", "--help"}, exitOK, "usage: tenantapps profiles list"},
		{"unknown subcommand", nil, []string{"profiles", "frob"}, exitUsage, "unknown subcommand"},
		{"no store", nil, []string{"profiles", "list"}, exitUsage, "pass --db PATH or set $TENANTAPPS_STORE_DSN"},
		{"missing file", nil, []string{"profiles", "list", "--db", filepath.Join(t.TempDir(), "nope.db")}, exitUsage, "no store at"},
		{"postgres DSN in a flag", nil, []string{"profiles", "list", "--db", "postgres://u:secret@h/db"}, exitUsage, "put a postgres DSN in $TENANTAPPS_STORE_DSN"},
		{"bad format", nil, []string{"profiles", "list", "--db", path, "--format", "yaml"}, exitUsage, "unknown --format"},
		{"bad status", nil, []string{"profiles", "list", "--db", path, "--status", "broken"}, exitUsage, "unknown --status"},
		{"tenant not an ID", nil, []string{"profiles", "list", "--db", path, "--tenant", "contoso.onmicrosoft.com"}, exitUsage, "is a domain name, not a tenant ID"},
		{"unknown service", nil, []string{"profiles", "list", "--db", path, "--service", "Nitrogen"}, exitUsage, `unknown service "Nitrogen"; use one of: `},
		{"service in any case", nil, []string{"profiles", "list", "--db", path, "--service", "NITRO", "--app-type", "apelements automation"}, exitOK, ""},
		{"bad limit", nil, []string{"profiles", "list", "--db", path, "--limit", "0"}, exitUsage, "--limit must be between"},
		{"bad cursor", nil, []string{"profiles", "list", "--db", path, "--cursor", "garbage"}, exitUsage, "cursor"},
		{"show unknown", nil, []string{"profiles", "show", "--db", path, "p-404"}, exitNegative, "no profile \"p-404\""},
		{"show no id", nil, []string{"profiles", "show", "--db", path}, exitUsage, "exactly one profile ID"},
		{"verify unknown", nil, []string{"profiles", "verify", "--db", path, "p-404"}, exitNegative, "no profile \"p-404\""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := runProfilesCLI(t, tc.vars, f, tc.args...)
			if code != tc.code || !strings.Contains(errOut, tc.wantErr) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, errOut, tc.code, tc.wantErr)
			}
			if strings.Contains(errOut, "secret") && !strings.Contains(tc.wantErr, "secret") {
				t.Errorf("stderr echoes the DSN's password: %q", errOut)
			}
		})
	}
	// A service or app type in another case finds the same profiles.
	_, exact, _ := runProfilesCLI(t, nil, f, "profiles", "list", "--db", path, "--service", "Nitro", "--format", "json")
	_, anyCase, _ := runProfilesCLI(t, nil, f, "profiles", "list", "--db", path, "--service", "NITRO", "--app-type", "apelements automation", "--format", "json")
	if !strings.Contains(exact, `"appType": "APElements Automation"`) || anyCase != exact {
		t.Errorf("--service NITRO listed\n%s\nwant what --service Nitro lists:\n%s", anyCase, exact)
	}
	// Without a driver, verify is a usage error that says so.
	code, _, errOut := runProfilesCLI(t, nil, nil, "profiles", "verify", "--db", path)
	if code != exitUsage || !strings.Contains(errOut, "driver") {
		t.Errorf("verify without driver: exit %d, %q", code, errOut)
	}
}
