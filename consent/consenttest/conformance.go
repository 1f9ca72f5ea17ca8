package consenttest

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"math/big"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/google/uuid"

	"github.com/tenantapps/tenantapps/consent"
	"github.com/tenantapps/tenantapps/roles"
)

// Well-known permission IDs the suite grants (Microsoft Graph and Exchange Online app roles and
// scopes; the same in every tenant).
const (
	graphUserReadAll      = "df021288-bdef-4463-88db-98f22de89214" // User.Read.All
	graphDirectoryReadAll = "7ab1d382-f21e-4acd-a863-ba3e13f7da61" // Directory.Read.All
	exchangeFullAccess    = "dc890d15-9560-4a4c-9b7f-a736ec74ec40" // full_access_as_app

	skuE5 = "06ebc4ee-1bb5-47dd-8120-11324bc54e06" // SPE_E5
	skuE3 = "05e9a617-0261-4cee-bb44-138d3ef5d965" // SPE_E3
)

// RunDriverConformance runs the consent.Driver conformance suite. newEnv is called once per
// subtest and must return a fresh environment (an empty directory, or one whose existing
// contents the suite's random tenant and app IDs cannot collide with); it may register
// t.Cleanup to release it.
//
// The suite checks every Driver method and every optional interface the driver implements
// (subtests of missing capabilities are skipped with a message), typed errors (unknown tenant vs
// no service principal vs forbidden vs throttled vs transient; CouldNotCheck on each), that
// every tenant change Directory offers is reflected by the next read, isolation between tenants
// and apps, and concurrent use. Failures are reported per property with t.Errorf, so one run
// lists everything that is wrong.
func RunDriverConformance(t *testing.T, newEnv func(t *testing.T) Env) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, s *suite)
	}{
		{"AppState/NoServicePrincipal", testNoServicePrincipal},
		{"AppState/UnknownTenant", testUnknownTenant},
		{"AppState/InvalidArguments", testInvalidArguments},
		{"AppState/Grants", testGrants},
		{"AppState/RevokeAppRole", testRevokeAppRole},
		{"AppState/RevokeDelegated", testRevokeDelegated},
		{"AppState/RemoveDirectoryRole", testRemoveDirectoryRole},
		{"AppState/DisableServicePrincipal", testDisableServicePrincipal},
		{"AppState/DeleteServicePrincipal", testDeleteServicePrincipal},
		{"AppState/TenantDeleted", testTenantDeleted},
		{"AppState/Isolation", testIsolation},
		{"AppState/Concurrent", testConcurrent},
		{"AppState/Canceled", testCanceled},
		{"Faults", testFaults},
		{"AppStatesReader", testAppStates},
		{"RoleAssigner", testRoleAssigner},
		{"KeyCredentialReader", testKeyCredentials},
		{"CertificateProver", testProveCertificate},
		{"CodeRedeemer", testRedeemCode},
		{"DelegatedProver", testProveDelegated},
		{"UserStateReader", testUserState},
		{"SignInReader", testSignIns},
		{"AzureRoleReader", testAzureRoles},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := newEnv(t)
			if env.Driver == nil || env.Directory == nil {
				t.Fatal("newEnv returned an Env without Driver or Directory")
			}
			s := &suite{Env: env}
			if s.Now == nil {
				s.Now = time.Now
			}
			tc.fn(t, s)
		})
	}
}

type suite struct {
	Env
}

func (s *suite) ctx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func newGUID() string { return uuid.NewString() }

func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("setup: %s: %v", what, err)
	}
}

// tenant adds a new tenant and returns its ID.
func (s *suite) tenant(t *testing.T) string {
	t.Helper()
	id := newGUID()
	must(t, "AddTenant", s.Directory.AddTenant(Tenant{ID: id, DisplayName: "Tenant " + id[:8], DefaultDomain: "t" + id[:8] + ".onmicrosoft.com"}))
	return id
}

// app registers a new app in home with the given certificates and returns its app ID.
func (s *suite) app(t *testing.T, home string, certs ...*x509.Certificate) string {
	t.Helper()
	id := newGUID()
	must(t, "RegisterApp", s.Directory.RegisterApp(App{
		AppID: id, HomeTenantID: home, DisplayName: "App " + id[:8], Certificates: certs,
		RedirectURIs: []string{"https://portal.example/consent/callback"},
	}))
	return id
}

// consentedApp sets up a vendor tenant with a registered app and a customer tenant where the
// app has a service principal; it returns the customer tenant, the app ID and the SP object ID.
func (s *suite) consentedApp(t *testing.T, certs ...*x509.Certificate) (tenantID, appID, spID string) {
	t.Helper()
	vendor := s.tenant(t)
	appID = s.app(t, vendor, certs...)
	tenantID = s.tenant(t)
	spID, err := s.Directory.CreateServicePrincipal(tenantID, appID)
	must(t, "CreateServicePrincipal", err)
	return tenantID, appID, spID
}

func (s *suite) state(t *testing.T, tenantID, appID string) consent.AppState {
	t.Helper()
	st, err := s.Driver.AppState(s.ctx(t), tenantID, appID)
	if err != nil {
		t.Fatalf("AppState(%s, %s): %v", tenantID, appID, err)
	}
	return st
}

func (s *suite) credential(t *testing.T) consent.CertificateCredential {
	t.Helper()
	if s.NewCredential != nil {
		return s.NewCredential(t)
	}
	return SelfSignedCredential(t, "consenttest", s.Now())
}

// SelfSignedCredential returns a new self-signed RSA-2048 certificate and key valid from an hour
// before now to a day after, with the given common name. It fails t on error.
func SelfSignedCredential(t testing.TB, commonName string, now time.Time) consent.CertificateCredential {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatalf("generate RSA key: %v", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		t.Fatalf("serial: %v", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: commonName},
		NotBefore:    now.Add(-time.Hour).Truncate(time.Second),
		NotAfter:     now.Add(24 * time.Hour).Truncate(time.Second),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatalf("create certificate: %v", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("parse certificate: %v", err)
	}
	return consent.CertificateCredential{Chain: []*x509.Certificate{cert}, Key: key}
}

// checkErr reports whether err wraps want, and that CouldNotCheck classifies it as expected.
func checkErr(t *testing.T, call string, err, want error) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: got nil error, want %v", call, want)
		return
	}
	if !errors.Is(err, want) {
		t.Errorf("%s: got error %v, want one wrapping %v", call, err, want)
	}
	couldNot := errors.Is(want, consent.ErrThrottled) || errors.Is(want, consent.ErrTransient) || errors.Is(want, consent.ErrForbidden) ||
		errors.Is(want, context.Canceled) || errors.Is(want, context.DeadlineExceeded)
	if got := consent.CouldNotCheck(err); got != couldNot {
		t.Errorf("%s: CouldNotCheck(%v) = %v, want %v", call, err, got, couldNot)
	}
	var de *consent.DriverError
	if !errors.As(err, &de) {
		t.Errorf("%s: error %v is not a *consent.DriverError", call, err)
	}
}

// appStateOpts compares AppStates on what is portable across drivers: IDs the directory
// chose (assignment and grant IDs) and creation times are ignored.
var appStateOpts = cmp.Options{
	cmpopts.IgnoreFields(consent.AppRoleGrant{}, "AssignmentID", "CreatedAt"),
	cmpopts.IgnoreFields(consent.DelegatedGrant{}, "GrantID"),
	cmpopts.IgnoreFields(consent.ServicePrincipal{}, "DisplayName", "AppOwnerTenantID"),
	cmpopts.EquateEmpty(),
	cmp.Transformer("lowerString", strings.ToLower),
	cmp.Transformer("lowerRole", func(r roles.TemplateID) string { return strings.ToLower(string(r)) }),
}

func testNoServicePrincipal(t *testing.T, s *suite) {
	tenantID := s.tenant(t)
	appID := s.app(t, s.tenant(t))
	got := s.state(t, tenantID, appID)
	want := consent.AppState{TenantID: tenantID, AppID: appID}
	if diff := cmp.Diff(want, got, appStateOpts); diff != "" {
		t.Errorf("AppState of an app never consented in the tenant mismatch (-want +got):\n%s", diff)
	}
	// An app ID no directory knows at all is equally absent, not an error.
	other := newGUID()
	got, err := s.Driver.AppState(s.ctx(t), tenantID, other)
	if err != nil {
		t.Errorf("AppState of an unknown app ID: %v, want Exists=false and nil error", err)
	} else if got.Exists {
		t.Errorf("AppState of an unknown app ID: Exists = true")
	}
}

func testUnknownTenant(t *testing.T, s *suite) {
	got, err := s.Driver.AppState(s.ctx(t), newGUID(), newGUID())
	checkErr(t, "AppState(unknown tenant)", err, consent.ErrTenantNotFound)
	if diff := cmp.Diff(consent.AppState{}, got, appStateOpts); diff != "" {
		t.Errorf("AppState on error returned a non-zero state (-want +got):\n%s", diff)
	}
}

func testInvalidArguments(t *testing.T, s *suite) {
	tenantID := s.tenant(t)
	for _, tc := range []struct{ name, tenant, app string }{
		{"empty tenant", "", newGUID()},
		{"empty app", tenantID, ""},
	} {
		_, err := s.Driver.AppState(s.ctx(t), tc.tenant, tc.app)
		if !errors.Is(err, consent.ErrInvalidArgument) {
			t.Errorf("AppState(%s): got %v, want an error wrapping ErrInvalidArgument", tc.name, err)
		}
	}
}

// setUpGrants gives the app two Graph app roles, an Exchange app role, a tenant-wide delegated
// grant, a per-user delegated grant and a directory role. It returns the user's object ID.
func (s *suite) setUpGrants(t *testing.T, tenantID, appID string) string {
	t.Helper()
	userID, err := s.Directory.AddUser(tenantID, User{UserPrincipalName: "consent." + newGUID()[:8] + "@example.onmicrosoft.com"})
	must(t, "AddUser", err)
	must(t, "GrantAppRole", s.Directory.GrantAppRole(tenantID, appID, consent.MicrosoftGraphAppID, graphUserReadAll))
	must(t, "GrantAppRole", s.Directory.GrantAppRole(tenantID, appID, consent.MicrosoftGraphAppID, graphDirectoryReadAll))
	must(t, "GrantAppRole", s.Directory.GrantAppRole(tenantID, appID, consent.ExchangeOnlineAppID, exchangeFullAccess))
	must(t, "GrantAppRole again", s.Directory.GrantAppRole(tenantID, appID, consent.MicrosoftGraphAppID, graphUserReadAll))
	must(t, "GrantDelegated", s.Directory.GrantDelegated(tenantID, appID, consent.MicrosoftGraphAppID, "", "User.Read", "Mail.Read"))
	must(t, "GrantDelegated", s.Directory.GrantDelegated(tenantID, appID, consent.MicrosoftGraphAppID, userID, "Files.Read"))
	must(t, "AssignAppDirectoryRole", s.Directory.AssignAppDirectoryRole(tenantID, appID, roles.ExchangeAdministrator))
	return userID
}

func wantGrantsState(tenantID, appID, spID, userID string) consent.AppState {
	return consent.AppState{
		TenantID: tenantID, AppID: appID, Exists: true,
		ServicePrincipal: consent.ServicePrincipal{ObjectID: spID, AppID: appID, Enabled: true},
		AppRoleGrants: []consent.AppRoleGrant{
			{ResourceAppID: consent.ExchangeOnlineAppID, AppRoleID: exchangeFullAccess},
			{ResourceAppID: consent.MicrosoftGraphAppID, AppRoleID: graphDirectoryReadAll},
			{ResourceAppID: consent.MicrosoftGraphAppID, AppRoleID: graphUserReadAll},
		},
		DelegatedGrants: []consent.DelegatedGrant{
			{ResourceAppID: consent.MicrosoftGraphAppID, ConsentType: consent.ConsentAllPrincipals, Scopes: []string{"Mail.Read", "User.Read"}},
			{ResourceAppID: consent.MicrosoftGraphAppID, ConsentType: consent.ConsentPrincipal, PrincipalID: userID, Scopes: []string{"Files.Read"}},
		},
		DirectoryRoles: []roles.TemplateID{roles.ExchangeAdministrator},
	}
}

func testGrants(t *testing.T, s *suite) {
	tenantID, appID, spID := s.consentedApp(t)
	userID := s.setUpGrants(t, tenantID, appID)
	got := s.state(t, tenantID, appID)
	if diff := cmp.Diff(wantGrantsState(tenantID, appID, spID, userID), got, appStateOpts); diff != "" {
		t.Errorf("AppState mismatch (-want +got):\n%s", diff)
	}
	if !got.HasAppRole(consent.MicrosoftGraphAppID, graphUserReadAll) || !got.HasDelegatedScope(consent.MicrosoftGraphAppID, "", "User.Read") ||
		!got.HasDelegatedScope(consent.MicrosoftGraphAppID, userID, "Files.Read") || !got.HasDirectoryRole(roles.ExchangeAdministrator) {
		t.Errorf("AppState helpers do not see the granted permissions: %+v", got)
	}
	for _, g := range got.AppRoleGrants {
		if !g.CreatedAt.IsZero() && g.CreatedAt.After(s.Now().Add(time.Minute)) {
			t.Errorf("AppRoleGrant %s CreatedAt %v is in the future", g.AppRoleID, g.CreatedAt)
		}
	}
}

// baseline reads the state set up by setUpGrants before a change, so that a driver answering
// from its own earlier reads fails the check after the change.
func (s *suite) baseline(t *testing.T, tenantID, appID, spID, userID string) {
	t.Helper()
	if diff := cmp.Diff(wantGrantsState(tenantID, appID, spID, userID), s.state(t, tenantID, appID), appStateOpts); diff != "" {
		t.Errorf("AppState before the change mismatch (-want +got):\n%s", diff)
	}
}

func testRevokeAppRole(t *testing.T, s *suite) {
	tenantID, appID, spID := s.consentedApp(t)
	userID := s.setUpGrants(t, tenantID, appID)
	s.baseline(t, tenantID, appID, spID, userID)
	must(t, "RevokeAppRole", s.Directory.RevokeAppRole(tenantID, appID, consent.MicrosoftGraphAppID, graphUserReadAll))
	want := wantGrantsState(tenantID, appID, spID, userID)
	want.AppRoleGrants = want.AppRoleGrants[:2]
	if diff := cmp.Diff(want, s.state(t, tenantID, appID), appStateOpts); diff != "" {
		t.Errorf("AppState after revoking User.Read.All mismatch (-want +got):\n%s", diff)
	}
}

func testRevokeDelegated(t *testing.T, s *suite) {
	tenantID, appID, spID := s.consentedApp(t)
	userID := s.setUpGrants(t, tenantID, appID)
	s.baseline(t, tenantID, appID, spID, userID)
	must(t, "RevokeDelegated scope", s.Directory.RevokeDelegated(tenantID, appID, consent.MicrosoftGraphAppID, "", "Mail.Read"))
	want := wantGrantsState(tenantID, appID, spID, userID)
	want.DelegatedGrants[0].Scopes = []string{"User.Read"}
	if diff := cmp.Diff(want, s.state(t, tenantID, appID), appStateOpts); diff != "" {
		t.Errorf("AppState after revoking Mail.Read mismatch (-want +got):\n%s", diff)
	}
	must(t, "RevokeDelegated user grant", s.Directory.RevokeDelegated(tenantID, appID, consent.MicrosoftGraphAppID, userID))
	want.DelegatedGrants = want.DelegatedGrants[:1]
	if diff := cmp.Diff(want, s.state(t, tenantID, appID), appStateOpts); diff != "" {
		t.Errorf("AppState after revoking the user's grant mismatch (-want +got):\n%s", diff)
	}
	must(t, "RevokeDelegated last scope", s.Directory.RevokeDelegated(tenantID, appID, consent.MicrosoftGraphAppID, "", "User.Read"))
	want.DelegatedGrants = nil
	got := s.state(t, tenantID, appID)
	if diff := cmp.Diff(want, got, appStateOpts); diff != "" {
		t.Errorf("AppState after revoking the last scope mismatch (-want +got):\n%s", diff)
	}
	if got.HasDelegatedScope(consent.MicrosoftGraphAppID, "", "User.Read") {
		t.Errorf("HasDelegatedScope(User.Read) = true after revocation")
	}
}

func testRemoveDirectoryRole(t *testing.T, s *suite) {
	tenantID, appID, spID := s.consentedApp(t)
	userID := s.setUpGrants(t, tenantID, appID)
	s.baseline(t, tenantID, appID, spID, userID)
	must(t, "RemoveAppDirectoryRole", s.Directory.RemoveAppDirectoryRole(tenantID, appID, roles.ExchangeAdministrator))
	want := wantGrantsState(tenantID, appID, spID, userID)
	want.DirectoryRoles = nil
	if diff := cmp.Diff(want, s.state(t, tenantID, appID), appStateOpts); diff != "" {
		t.Errorf("AppState after removing Exchange Administrator mismatch (-want +got):\n%s", diff)
	}
}

func testDisableServicePrincipal(t *testing.T, s *suite) {
	tenantID, appID, _ := s.consentedApp(t)
	if got := s.state(t, tenantID, appID); !got.Exists || !got.ServicePrincipal.Enabled {
		t.Errorf("new service principal: Exists=%v Enabled=%v, want true true", got.Exists, got.ServicePrincipal.Enabled)
	}
	must(t, "SetServicePrincipalEnabled(false)", s.Directory.SetServicePrincipalEnabled(tenantID, appID, false))
	got := s.state(t, tenantID, appID)
	if !got.Exists || got.ServicePrincipal.Enabled {
		t.Errorf("after disabling: Exists=%v Enabled=%v, want true false", got.Exists, got.ServicePrincipal.Enabled)
	}
	must(t, "SetServicePrincipalEnabled(true)", s.Directory.SetServicePrincipalEnabled(tenantID, appID, true))
	if got := s.state(t, tenantID, appID); !got.ServicePrincipal.Enabled {
		t.Errorf("after enabling again: Enabled = false")
	}
}

func testDeleteServicePrincipal(t *testing.T, s *suite) {
	tenantID, appID, spID := s.consentedApp(t)
	userID := s.setUpGrants(t, tenantID, appID)
	s.baseline(t, tenantID, appID, spID, userID)
	must(t, "DeleteServicePrincipal", s.Directory.DeleteServicePrincipal(tenantID, appID))
	want := consent.AppState{TenantID: tenantID, AppID: appID}
	if diff := cmp.Diff(want, s.state(t, tenantID, appID), appStateOpts); diff != "" {
		t.Errorf("AppState after deleting the service principal mismatch (-want +got):\n%s", diff)
	}
	// Consenting again creates a new service principal without the old grants.
	newSP, err := s.Directory.CreateServicePrincipal(tenantID, appID)
	must(t, "CreateServicePrincipal again", err)
	got := s.state(t, tenantID, appID)
	want = consent.AppState{TenantID: tenantID, AppID: appID, Exists: true, ServicePrincipal: consent.ServicePrincipal{ObjectID: newSP, AppID: appID, Enabled: true}}
	if diff := cmp.Diff(want, got, appStateOpts); diff != "" {
		t.Errorf("AppState after re-creating the service principal mismatch (-want +got):\n%s", diff)
	}
	if strings.EqualFold(newSP, spID) {
		t.Errorf("re-created service principal kept the deleted one's object ID %s", spID)
	}
}

func testTenantDeleted(t *testing.T, s *suite) {
	td, ok := s.Directory.(TenantDeleter)
	if !ok {
		t.Skipf("%T does not implement consenttest.TenantDeleter", s.Directory)
	}
	tenantID, appID, _ := s.consentedApp(t)
	if got := s.state(t, tenantID, appID); !got.Exists {
		t.Errorf("AppState before deleting the tenant: Exists = false")
	}
	must(t, "DeleteTenant", td.DeleteTenant(tenantID))
	got, err := s.Driver.AppState(s.ctx(t), tenantID, appID)
	checkErr(t, "AppState(deleted tenant)", err, consent.ErrTenantNotFound)
	if got.Exists {
		t.Errorf("AppState(deleted tenant) returned Exists = true")
	}
}

func testIsolation(t *testing.T, s *suite) {
	tenantA, appID, _ := s.consentedApp(t)
	s.setUpGrants(t, tenantA, appID)
	tenantB := s.tenant(t)
	spB, err := s.Directory.CreateServicePrincipal(tenantB, appID)
	must(t, "CreateServicePrincipal in B", err)
	want := consent.AppState{TenantID: tenantB, AppID: appID, Exists: true, ServicePrincipal: consent.ServicePrincipal{ObjectID: spB, AppID: appID, Enabled: true}}
	if diff := cmp.Diff(want, s.state(t, tenantB, appID), appStateOpts); diff != "" {
		t.Errorf("tenant B sees tenant A's grants (-want +got):\n%s", diff)
	}
	other := s.app(t, s.tenant(t))
	spOther, err := s.Directory.CreateServicePrincipal(tenantA, other)
	must(t, "CreateServicePrincipal other app", err)
	want = consent.AppState{TenantID: tenantA, AppID: other, Exists: true, ServicePrincipal: consent.ServicePrincipal{ObjectID: spOther, AppID: other, Enabled: true}}
	if diff := cmp.Diff(want, s.state(t, tenantA, other), appStateOpts); diff != "" {
		t.Errorf("another app in tenant A sees the first app's grants (-want +got):\n%s", diff)
	}
}

func testConcurrent(t *testing.T, s *suite) {
	tenantID, appID, spID := s.consentedApp(t)
	userID := s.setUpGrants(t, tenantID, appID)
	want := wantGrantsState(tenantID, appID, spID, userID)
	ctx := s.ctx(t)
	var wg sync.WaitGroup
	errs := make(chan string, 16)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 3 {
				got, err := s.Driver.AppState(ctx, tenantID, appID)
				if err != nil {
					errs <- fmt.Sprintf("concurrent AppState: %v", err)
					return
				}
				if diff := cmp.Diff(want, got, appStateOpts); diff != "" {
					errs <- fmt.Sprintf("concurrent AppState mismatch (-want +got):\n%s", diff)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

func testCanceled(t *testing.T, s *suite) {
	tenantID, appID, _ := s.consentedApp(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := s.Driver.AppState(ctx, tenantID, appID)
	if err == nil {
		t.Fatal("AppState with a canceled context: nil error")
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("AppState with a canceled context: %v, want an error wrapping context.Canceled", err)
	}
	if !consent.CouldNotCheck(err) {
		t.Errorf("CouldNotCheck(%v) = false for a canceled context", err)
	}
}

func testFaults(t *testing.T, s *suite) {
	if s.Faults == nil {
		t.Skip("Env.Faults is nil: fault injection not available")
	}
	tenantID, appID, _ := s.consentedApp(t)
	s.setUpGrants(t, tenantID, appID)
	userID, err := s.Directory.AddUser(tenantID, User{UserPrincipalName: "fault." + newGUID()[:8] + "@example.onmicrosoft.com"})
	must(t, "AddUser", err)
	customApp := s.app(t, tenantID) // registered in the faulty tenant, for KeyCredentials
	other := s.tenant(t)
	for _, tc := range []struct {
		kind FaultKind
		want error
	}{
		{FaultThrottled, consent.ErrThrottled},
		{FaultUnavailable, consent.ErrTransient},
		{FaultForbidden, consent.ErrForbidden},
		{FaultMalformed, consent.ErrTransient},
	} {
		t.Run(tc.kind.String(), func(t *testing.T) {
			clearFault, err := s.Faults.InjectFault(tenantID, tc.kind)
			if errors.Is(err, errors.ErrUnsupported) {
				t.Skipf("fault %v not supported: %v", tc.kind, err)
			}
			must(t, "InjectFault", err)
			t.Cleanup(clearFault)
			st, err := s.Driver.AppState(s.ctx(t), tenantID, appID)
			checkErr(t, "AppState under fault "+tc.kind.String(), err, tc.want)
			if st.Exists || len(st.AppRoleGrants) > 0 {
				t.Errorf("AppState under fault returned a state along with the error: %+v", st)
			}
			if tc.kind == FaultThrottled {
				if d, ok := consent.RetryAfter(err); !ok || d <= 0 {
					t.Errorf("RetryAfter(%v) = %v, %v; want a positive wait", err, d, ok)
				}
			}
			if r, ok := s.Driver.(consent.AppStatesReader); ok {
				res, err := r.AppStates(s.ctx(t), tenantID, []string{appID})
				checkErr(t, "AppStates under fault "+tc.kind.String(), err, tc.want)
				if err != nil && res != nil {
					t.Errorf("AppStates under fault returned %d results along with the error", len(res))
				}
			}
			if r, ok := s.Driver.(consent.UserStateReader); ok {
				_, err := r.UserState(s.ctx(t), tenantID, userID)
				checkErr(t, "UserState under fault "+tc.kind.String(), err, tc.want)
			}
			if r, ok := s.Driver.(consent.RoleAssigner); ok {
				_, err := r.AssignDirectoryRole(s.ctx(t), tenantID, appID, roles.SharePointAdministrator)
				checkErr(t, "AssignDirectoryRole under fault "+tc.kind.String(), err, tc.want)
			}
			if r, ok := s.Driver.(consent.KeyCredentialReader); ok {
				keys, err := r.KeyCredentials(s.ctx(t), tenantID, customApp)
				checkErr(t, "KeyCredentials under fault "+tc.kind.String(), err, tc.want)
				if len(keys) > 0 {
					t.Errorf("KeyCredentials under fault returned credentials along with the error")
				}
			}
			if r, ok := s.Driver.(consent.SignInReader); ok {
				_, err := r.SignIns(s.ctx(t), tenantID, appID, s.Now().Add(-time.Hour), 0)
				checkErr(t, "SignIns under fault "+tc.kind.String(), err, tc.want)
			}
			if r, ok := s.Driver.(consent.AzureRoleReader); ok {
				_, err := r.AzureRoleAssignments(s.ctx(t), tenantID, appID, "")
				checkErr(t, "AzureRoleAssignments under fault "+tc.kind.String(), err, tc.want)
			}
			// Other tenants are unaffected.
			if _, err := s.Driver.AppState(s.ctx(t), other, appID); err != nil {
				t.Errorf("AppState in another tenant during a fault: %v", err)
			}
			clearFault()
			got, err := s.Driver.AppState(s.ctx(t), tenantID, appID)
			if err != nil {
				t.Errorf("AppState after clearing fault %v: %v", tc.kind, err)
			} else if !got.HasAppRole(consent.MicrosoftGraphAppID, graphUserReadAll) {
				t.Errorf("AppState after clearing fault %v lost grants: %+v", tc.kind, got)
			}
		})
	}
}

// testAppStates checks consent.AppStatesReader: each result is what AppState returns for that
// app (the suite knows that ground truth, and the AppState subtests hold AppState to it), in
// request order; whole-call errors only when no app could be read.
func testAppStates(t *testing.T, s *suite) {
	sr, ok := s.Driver.(consent.AppStatesReader)
	if !ok {
		t.Skipf("%T does not implement consent.AppStatesReader", s.Driver)
	}
	tenantID, granted, spID := s.consentedApp(t)
	userID := s.setUpGrants(t, tenantID, granted)
	grants := wantGrantsState(tenantID, granted, spID, userID)
	disabled := s.app(t, tenantID)
	disabledSP, err := s.Directory.CreateServicePrincipal(tenantID, disabled)
	must(t, "CreateServicePrincipal", err)
	must(t, "SetServicePrincipalEnabled(false)", s.Directory.SetServicePrincipalEnabled(tenantID, disabled, false))
	absent := s.app(t, tenantID) // registered, never consented
	unknown := newGUID()         // no directory knows it
	missing := func(tenant, app string) consent.AppState { return consent.AppState{TenantID: tenant, AppID: app} }
	present := func(app, spID string, enabled bool) consent.AppState {
		return consent.AppState{TenantID: tenantID, AppID: app, Exists: true, ServicePrincipal: consent.ServicePrincipal{ObjectID: spID, AppID: app, Enabled: enabled}}
	}

	// Asked in descending app ID order with a duplicate last, so that a driver answering in app
	// ID order cannot pass by chance (25 apps below catch other orders). This first read is
	// also the baseline of the revocation below.
	byID := map[string]consent.AppState{
		granted:  grants,
		disabled: present(disabled, disabledSP, false),
		absent:   missing(tenantID, absent),
		unknown:  missing(tenantID, unknown),
	}
	ids := slices.SortedFunc(maps.Keys(byID), func(a, b string) int { return strings.Compare(strings.ToLower(b), strings.ToLower(a)) })
	ids = append(ids, granted)
	want := make([]consent.AppStateResult, len(ids))
	for i, id := range ids {
		want[i].State = byID[id]
	}
	s.checkAppStates(t, "AppStates(mixed apps and a duplicate)", sr, tenantID, ids, want)

	got, err := sr.AppStates(s.ctx(t), tenantID, nil)
	if err != nil || len(got) != 0 {
		t.Errorf("AppStates(no app IDs) = %d results, %v; want none and a nil error", len(got), err)
	}

	s.checkAppStates(t, "AppStates(an empty app ID among valid ones)", sr, tenantID, []string{granted, "", absent},
		[]consent.AppStateResult{{State: grants}, {Err: consent.ErrInvalidArgument}, {State: missing(tenantID, absent)}})

	// More apps than one round trip holds (a Graph $batch takes 20 requests); the last, past
	// the first 20, holds a grant.
	many := make([]string, 25)
	wantMany := make([]consent.AppStateResult, len(many))
	for i := range many {
		many[i] = s.app(t, tenantID)
		wantMany[i].State = missing(tenantID, many[i])
		if i%3 == 0 {
			sp, err := s.Directory.CreateServicePrincipal(tenantID, many[i])
			must(t, "CreateServicePrincipal", err)
			wantMany[i].State = present(many[i], sp, true)
		}
	}
	last := &wantMany[len(many)-1].State
	must(t, "GrantAppRole", s.Directory.GrantAppRole(tenantID, last.AppID, consent.MicrosoftGraphAppID, graphUserReadAll))
	last.AppRoleGrants = []consent.AppRoleGrant{{ResourceAppID: consent.MicrosoftGraphAppID, AppRoleID: graphUserReadAll}}
	s.checkAppStates(t, "AppStates(25 apps)", sr, tenantID, many, wantMany)

	tenantB := s.tenant(t)
	s.checkAppStates(t, "AppStates(tenant B, apps consented in tenant A)", sr, tenantB, []string{granted, disabled},
		[]consent.AppStateResult{{State: missing(tenantB, granted)}, {State: missing(tenantB, disabled)}})

	got, err = sr.AppStates(s.ctx(t), newGUID(), []string{granted, absent})
	checkErr(t, "AppStates(unknown tenant)", err, consent.ErrTenantNotFound)
	if err != nil && got != nil {
		t.Errorf("AppStates(unknown tenant) returned %d results along with the error", len(got))
	}
	got, err = sr.AppStates(s.ctx(t), "", []string{granted})
	if !errors.Is(err, consent.ErrInvalidArgument) || got != nil {
		t.Errorf("AppStates(empty tenant ID) = %d results, %v; want none and an error wrapping ErrInvalidArgument", len(got), err)
	}

	must(t, "RevokeAppRole", s.Directory.RevokeAppRole(tenantID, granted, consent.MicrosoftGraphAppID, graphUserReadAll))
	revoked := wantGrantsState(tenantID, granted, spID, userID)
	revoked.AppRoleGrants = revoked.AppRoleGrants[:2]
	s.checkAppStates(t, "AppStates after revoking User.Read.All", sr, tenantID, []string{granted}, []consent.AppStateResult{{State: revoked}})

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	got, err = sr.AppStates(ctx, tenantID, []string{granted})
	switch {
	case !errors.Is(err, context.Canceled):
		t.Errorf("AppStates with a canceled context: %v, want an error wrapping context.Canceled", err)
	case !consent.CouldNotCheck(err):
		t.Errorf("CouldNotCheck(%v) = false for a canceled context", err)
	}
	if err != nil && got != nil {
		t.Errorf("AppStates with a canceled context returned %d results along with the error", len(got))
	}
}

// checkAppStates calls AppStates and checks it answers without a whole-call error, one result
// per app ID, in request order, each as want says: the state AppState returns for that app, or,
// when want.Err is set, an error wrapping it and a zero State.
func (s *suite) checkAppStates(t *testing.T, call string, sr consent.AppStatesReader, tenantID string, appIDs []string, want []consent.AppStateResult) {
	t.Helper()
	got, err := sr.AppStates(s.ctx(t), tenantID, appIDs)
	if err != nil {
		t.Errorf("%s: %v, want one result per app ID and a nil error", call, err)
		return
	}
	if len(got) != len(appIDs) {
		t.Errorf("%s: %d results for %d app IDs, want one per app ID", call, len(got), len(appIDs))
		return
	}
	// The right results in the wrong order are reported once, not as a mismatch of each.
	gotIDs, wantIDs := make([]string, len(got)), make([]string, len(got))
	for i := range got {
		gotIDs[i], wantIDs[i] = "(error)", "(error)"
		if got[i].Err == nil {
			gotIDs[i] = strings.ToLower(got[i].State.AppID)
		}
		if want[i].Err == nil {
			wantIDs[i] = strings.ToLower(appIDs[i])
		}
	}
	if !slices.Equal(gotIDs, wantIDs) && slices.Equal(slices.Sorted(slices.Values(gotIDs)), slices.Sorted(slices.Values(wantIDs))) {
		t.Errorf("%s: results not in request order (-want +got app IDs):\n%s", call, cmp.Diff(wantIDs, gotIDs))
		return
	}
	for i, r := range got {
		what := fmt.Sprintf("%s: result %d (app %q)", call, i, appIDs[i])
		switch {
		case want[i].Err != nil && r.Err == nil:
			t.Errorf("%s: got nil error (Exists=%v), want an error wrapping %v", what, r.State.Exists, want[i].Err)
		case want[i].Err != nil:
			if !errors.Is(r.Err, want[i].Err) {
				t.Errorf("%s: got error %v, want one wrapping %v", what, r.Err, want[i].Err)
			}
			if diff := cmp.Diff(consent.AppState{}, r.State, appStateOpts); diff != "" {
				t.Errorf("%s: a non-zero State along with the error (-want +got):\n%s", what, diff)
			}
		case r.Err != nil:
			t.Errorf("%s: error %v, want the app's state", what, r.Err)
		default:
			if diff := cmp.Diff(want[i].State, r.State, appStateOpts); diff != "" {
				t.Errorf("%s: not what AppState returns (-want +got):\n%s", what, diff)
			}
		}
	}
}

func testRoleAssigner(t *testing.T, s *suite) {
	ra, ok := s.Driver.(consent.RoleAssigner)
	if !ok {
		t.Skipf("%T does not implement consent.RoleAssigner", s.Driver)
	}
	tenantID, appID, _ := s.consentedApp(t)
	ctx := s.ctx(t)
	assigned, err := ra.AssignDirectoryRole(ctx, tenantID, appID, roles.ExchangeAdministrator)
	if err != nil || !assigned {
		t.Errorf("AssignDirectoryRole(missing role) = %v, %v; want true, nil", assigned, err)
	}
	if got := s.state(t, tenantID, appID); !got.HasDirectoryRole(roles.ExchangeAdministrator) {
		t.Errorf("AppState after AssignDirectoryRole: DirectoryRoles = %v, want Exchange Administrator", got.DirectoryRoles)
	}
	assigned, err = ra.AssignDirectoryRole(ctx, tenantID, appID, roles.ExchangeAdministrator)
	if err != nil || assigned {
		t.Errorf("AssignDirectoryRole(already assigned) = %v, %v; want false, nil (idempotent)", assigned, err)
	}
	if got := s.state(t, tenantID, appID); len(got.DirectoryRoles) != 1 {
		t.Errorf("after assigning twice: DirectoryRoles = %v, want exactly one", got.DirectoryRoles)
	}
	must(t, "RemoveAppDirectoryRole", s.Directory.RemoveAppDirectoryRole(tenantID, appID, roles.ExchangeAdministrator))
	assigned, err = ra.AssignDirectoryRole(ctx, tenantID, appID, roles.ExchangeAdministrator)
	if err != nil || !assigned {
		t.Errorf("AssignDirectoryRole(after an admin removed it) = %v, %v; want true, nil", assigned, err)
	}
	noSP := s.app(t, s.tenant(t))
	_, err = ra.AssignDirectoryRole(ctx, tenantID, noSP, roles.ExchangeAdministrator)
	checkErr(t, "AssignDirectoryRole(no service principal)", err, consent.ErrNotConsented)
	_, err = ra.AssignDirectoryRole(ctx, newGUID(), appID, roles.ExchangeAdministrator)
	checkErr(t, "AssignDirectoryRole(unknown tenant)", err, consent.ErrTenantNotFound)
}

func testKeyCredentials(t *testing.T, s *suite) {
	kr, ok := s.Driver.(consent.KeyCredentialReader)
	if !ok {
		t.Skipf("%T does not implement consent.KeyCredentialReader", s.Driver)
	}
	credA, credB := s.credential(t), s.credential(t)
	tenantID := s.tenant(t)
	appID := s.app(t, tenantID, credA.Leaf())
	ctx := s.ctx(t)
	check := func(when string, cred consent.CertificateCredential, notCred consent.CertificateCredential) {
		t.Helper()
		keys, err := kr.KeyCredentials(ctx, tenantID, appID)
		if err != nil {
			t.Errorf("KeyCredentials %s: %v", when, err)
			return
		}
		if len(keys) != 1 {
			t.Errorf("KeyCredentials %s: %d credentials, want 1: %+v", when, len(keys), keys)
			return
		}
		k := keys[0]
		leaf := cred.Leaf()
		s1, s256 := consent.Thumbprints(leaf.Raw)
		if k.ThumbprintSHA1 != s1 {
			t.Errorf("KeyCredentials %s: ThumbprintSHA1 = %q, want %q (upper-case hex)", when, k.ThumbprintSHA1, s1)
		}
		if k.Certificate != nil && k.ThumbprintSHA256 != s256 {
			t.Errorf("KeyCredentials %s: ThumbprintSHA256 = %q, want %q", when, k.ThumbprintSHA256, s256)
		}
		if !k.Matches(leaf) {
			t.Errorf("KeyCredentials %s: credential does not match the registered certificate", when)
		}
		if k.Matches(notCred.Leaf()) {
			t.Errorf("KeyCredentials %s: credential matches a certificate that is not registered", when)
		}
		if !k.Start.Equal(leaf.NotBefore) || !k.End.Equal(leaf.NotAfter) {
			t.Errorf("KeyCredentials %s: validity %v..%v, want the certificate's %v..%v", when, k.Start, k.End, leaf.NotBefore, leaf.NotAfter)
		}
		if k.Usage != "Verify" || k.Type != "AsymmetricX509Cert" || k.KeyID == "" {
			t.Errorf("KeyCredentials %s: Usage %q Type %q KeyID %q, want Verify, AsymmetricX509Cert and a key ID", when, k.Usage, k.Type, k.KeyID)
		}
	}
	check("after registration", credA, credB)
	must(t, "RotateAppCertificates", s.Directory.RotateAppCertificates(appID, credB.Leaf()))
	check("after rotation", credB, credA)
	must(t, "RotateAppCertificates(none)", s.Directory.RotateAppCertificates(appID))
	if keys, err := kr.KeyCredentials(ctx, tenantID, appID); err != nil || len(keys) != 0 {
		t.Errorf("KeyCredentials after removing all certificates = %+v, %v; want none, nil", keys, err)
	}

	_, err := kr.KeyCredentials(ctx, tenantID, newGUID())
	checkErr(t, "KeyCredentials(unknown app)", err, consent.ErrNotFound)
	vendorApp := s.app(t, s.tenant(t), credA.Leaf())
	_, err = kr.KeyCredentials(ctx, tenantID, vendorApp)
	checkErr(t, "KeyCredentials(app registered in another tenant)", err, consent.ErrNotFound)
	_, err = kr.KeyCredentials(ctx, newGUID(), appID)
	checkErr(t, "KeyCredentials(unknown tenant)", err, consent.ErrTenantNotFound)
}

func testProveCertificate(t *testing.T, s *suite) {
	cp, ok := s.Driver.(consent.CertificateProver)
	if !ok {
		t.Skipf("%T does not implement consent.CertificateProver", s.Driver)
	}
	credA, credB := s.credential(t), s.credential(t)
	tenantID := s.tenant(t)
	appID := s.app(t, tenantID, credA.Leaf())
	spID, err := s.Directory.CreateServicePrincipal(tenantID, appID)
	must(t, "CreateServicePrincipal", err)
	must(t, "GrantAppRole", s.Directory.GrantAppRole(tenantID, appID, consent.MicrosoftGraphAppID, graphUserReadAll))
	ctx := s.ctx(t)

	proof, err := cp.ProveCertificate(ctx, tenantID, appID, credA)
	if err != nil {
		t.Fatalf("ProveCertificate(registered certificate): %v", err)
	}
	if !strings.EqualFold(proof.TenantID, tenantID) || !strings.EqualFold(proof.AppID, appID) {
		t.Errorf("ProveCertificate: token for tenant %q app %q, want %q %q", proof.TenantID, proof.AppID, tenantID, appID)
	}
	if proof.ServicePrincipalID != "" && !strings.EqualFold(proof.ServicePrincipalID, spID) {
		t.Errorf("ProveCertificate: ServicePrincipalID %q, want %q", proof.ServicePrincipalID, spID)
	}
	if !containsFold(proof.Roles, "User.Read.All") {
		t.Errorf("ProveCertificate: Roles = %v, want User.Read.All", proof.Roles)
	}
	if !proof.ExpiresAt.After(s.Now()) {
		t.Errorf("ProveCertificate: ExpiresAt %v is not after now", proof.ExpiresAt)
	}

	_, err = cp.ProveCertificate(ctx, tenantID, appID, credB)
	checkErr(t, "ProveCertificate(unregistered certificate)", err, consent.ErrInvalidCredential)
	mismatched := consent.CertificateCredential{Chain: credA.Chain, Key: credB.Key}
	_, err = cp.ProveCertificate(ctx, tenantID, appID, mismatched)
	checkErr(t, "ProveCertificate(key of another certificate)", err, consent.ErrInvalidCredential)

	must(t, "RotateAppCertificates", s.Directory.RotateAppCertificates(appID, credB.Leaf()))
	_, err = cp.ProveCertificate(ctx, tenantID, appID, credA)
	checkErr(t, "ProveCertificate(certificate rotated out)", err, consent.ErrInvalidCredential)
	if _, err := cp.ProveCertificate(ctx, tenantID, appID, credB); err != nil {
		t.Errorf("ProveCertificate(rotated-in certificate): %v", err)
	}

	must(t, "SetServicePrincipalEnabled(false)", s.Directory.SetServicePrincipalEnabled(tenantID, appID, false))
	_, err = cp.ProveCertificate(ctx, tenantID, appID, credB)
	checkErr(t, "ProveCertificate(disabled service principal)", err, consent.ErrAppDisabled)
	must(t, "DeleteServicePrincipal", s.Directory.DeleteServicePrincipal(tenantID, appID))
	_, err = cp.ProveCertificate(ctx, tenantID, appID, credB)
	checkErr(t, "ProveCertificate(deleted service principal)", err, consent.ErrNotConsented)
	_, err = cp.ProveCertificate(ctx, newGUID(), appID, credB)
	checkErr(t, "ProveCertificate(unknown tenant)", err, consent.ErrTenantNotFound)
	_, err = cp.ProveCertificate(ctx, tenantID, appID, consent.CertificateCredential{Chain: credB.Chain})
	if !errors.Is(err, consent.ErrInvalidArgument) {
		t.Errorf("ProveCertificate(no key) = %v, want an error wrapping ErrInvalidArgument", err)
	}
}

func containsFold(list []string, v string) bool {
	for _, s := range list {
		if strings.EqualFold(s, v) {
			return true
		}
	}
	return false
}

func testRedeemCode(t *testing.T, s *suite) {
	cr, ok := s.Driver.(consent.CodeRedeemer)
	if !ok {
		t.Skipf("%T does not implement consent.CodeRedeemer", s.Driver)
	}
	cred, otherCred := s.credential(t), s.credential(t)
	vendor := s.tenant(t)
	appID := s.app(t, vendor, cred.Leaf())
	tenantID := s.tenant(t)
	upn := "consent." + newGUID()[:8] + "@example.onmicrosoft.com"
	userID, err := s.Directory.AddUser(tenantID, User{UserPrincipalName: upn})
	must(t, "AddUser", err)
	const redirect = "https://portal.example/consent/callback"
	scopes := []string{"openid", "profile", "offline_access", "https://graph.microsoft.com/User.Read"}
	verifier := base64.RawURLEncoding.EncodeToString([]byte(newGUID() + newGUID()))
	authorize := func() string {
		t.Helper()
		code, err := s.Directory.AuthorizeUser(AuthorizeRequest{TenantID: tenantID, AppID: appID, UserID: userID, RedirectURI: redirect, Scopes: scopes, CodeChallenge: PKCEChallenge(verifier)})
		must(t, "AuthorizeUser", err)
		return code
	}
	ctx := s.ctx(t)
	req := consent.CodeRedemption{TenantID: tenantID, AppID: appID, Code: authorize(), RedirectURI: redirect, PKCEVerifier: verifier, Scopes: scopes, Credential: &cred}
	got, err := cr.RedeemCode(ctx, req)
	if err != nil {
		t.Fatalf("RedeemCode: %v", err)
	}
	if !strings.EqualFold(got.TenantID, tenantID) || !strings.EqualFold(got.UserObjectID, userID) || !strings.EqualFold(got.UserPrincipalName, upn) {
		t.Errorf("RedeemCode: consent by %q (%q) in %q, want %q (%q) in %q", got.UserPrincipalName, got.UserObjectID, got.TenantID, upn, userID, tenantID)
	}
	if !containsFold(got.Scopes, "User.Read") {
		t.Errorf("RedeemCode: Scopes = %v, want User.Read", got.Scopes)
	}
	if len(got.TokenCache) == 0 {
		t.Errorf("RedeemCode: empty TokenCache")
	}
	if !got.ExpiresAt.After(s.Now()) {
		t.Errorf("RedeemCode: ExpiresAt %v is not after now", got.ExpiresAt)
	}
	for _, text := range []string{got.String(), fmt.Sprintf("%v %+v %#v", got, got, got)} {
		if len(got.TokenCache) > 0 && strings.Contains(text, string(got.TokenCache)) {
			t.Errorf("Redeemed's text form leaks the token cache")
		}
	}
	if st := s.state(t, tenantID, appID); !st.HasDelegatedScope(consent.MicrosoftGraphAppID, userID, "User.Read") {
		t.Errorf("AppState after user consent: no Principal grant of User.Read for the user: %+v", st.DelegatedGrants)
	}

	again, err := cr.RedeemCode(ctx, req)
	checkErr(t, "RedeemCode(code already redeemed)", err, consent.ErrInvalidGrant)
	if len(again.TokenCache) > 0 {
		t.Errorf("RedeemCode on error returned a token cache")
	}
	if err != nil && strings.Contains(err.Error(), req.Code) {
		t.Errorf("RedeemCode error leaks the authorization code: %v", err)
	}

	bad := req
	bad.Code = authorize()
	bad.PKCEVerifier = "wrong-" + verifier
	_, err = cr.RedeemCode(ctx, bad)
	checkErr(t, "RedeemCode(wrong PKCE verifier)", err, consent.ErrInvalidGrant)
	if err != nil && strings.Contains(err.Error(), bad.PKCEVerifier) {
		t.Errorf("RedeemCode error leaks the PKCE verifier: %v", err)
	}

	bad = req
	bad.Code = authorize()
	bad.RedirectURI = "https://evil.example/callback"
	_, err = cr.RedeemCode(ctx, bad)
	checkErr(t, "RedeemCode(other redirect URI)", err, consent.ErrInvalidGrant)

	bad = req
	bad.Code = "not-a-code-" + newGUID()
	_, err = cr.RedeemCode(ctx, bad)
	checkErr(t, "RedeemCode(forged code)", err, consent.ErrInvalidGrant)

	bad = req
	bad.Code = authorize()
	bad.Credential = &otherCred
	_, err = cr.RedeemCode(ctx, bad)
	checkErr(t, "RedeemCode(unregistered certificate)", err, consent.ErrInvalidCredential)
}

func testUserState(t *testing.T, s *suite) {
	ur, ok := s.Driver.(consent.UserStateReader)
	if !ok {
		t.Skipf("%T does not implement consent.UserStateReader", s.Driver)
	}
	tenantID := s.tenant(t)
	upn := "admin." + newGUID()[:8] + "@example.onmicrosoft.com"
	pwdChanged := s.Now().Add(-30 * 24 * time.Hour).UTC().Truncate(time.Second)
	userID, err := s.Directory.AddUser(tenantID, User{
		UserPrincipalName: upn, LastPasswordChange: pwdChanged,
		Licenses: []string{skuE5, skuE3}, DirectoryRoles: []roles.TemplateID{roles.GlobalAdministrator},
	})
	must(t, "AddUser", err)
	ctx := s.ctx(t)
	read := func(id string) consent.UserState {
		t.Helper()
		st, err := ur.UserState(ctx, tenantID, id)
		if err != nil {
			t.Fatalf("UserState(%s): %v", id, err)
		}
		return st
	}
	opts := cmp.Options{cmpopts.EquateEmpty(), cmpopts.IgnoreFields(consent.UserState{}, "MFA"),
		cmp.Transformer("lower", strings.ToLower), cmp.Transformer("lowerRole", func(r roles.TemplateID) string { return strings.ToLower(string(r)) })}
	want := consent.UserState{
		ObjectID: userID, UserPrincipalName: upn, Exists: true, AccountEnabled: true,
		LastPasswordChange: pwdChanged, SignInSessionsValidFrom: pwdChanged,
		AssignedLicenses: sortedFold(skuE5, skuE3), DirectoryRoles: []roles.TemplateID{roles.GlobalAdministrator},
	}
	if diff := cmp.Diff(want, read(userID), opts); diff != "" {
		t.Errorf("UserState by object ID mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, read(upn), opts); diff != "" {
		t.Errorf("UserState by UPN mismatch (-want +got):\n%s", diff)
	}
	if mfa := read(userID).MFA; mfa.Known && (mfa.Registered || mfa.Required) {
		t.Errorf("UserState.MFA = %+v for a user without MFA", mfa)
	}

	before := s.Now().Add(-time.Second).Truncate(time.Second)
	must(t, "ResetUserPassword", s.Directory.ResetUserPassword(tenantID, userID))
	st := read(userID)
	if !st.LastPasswordChange.After(pwdChanged) || st.LastPasswordChange.Before(before) {
		t.Errorf("after a password reset: LastPasswordChange = %v, want about now (was %v)", st.LastPasswordChange, pwdChanged)
	}
	if st.SignInSessionsValidFrom.Before(st.LastPasswordChange.Add(-time.Second)) {
		t.Errorf("after a password reset: SignInSessionsValidFrom = %v, want no earlier than the reset %v", st.SignInSessionsValidFrom, st.LastPasswordChange)
	}

	must(t, "RemoveUserLicense", s.Directory.RemoveUserLicense(tenantID, userID, skuE5))
	if got := read(userID).AssignedLicenses; !cmp.Equal([]string{skuE3}, got, opts) {
		t.Errorf("after removing E5: AssignedLicenses = %v, want [%s]", got, skuE3)
	}
	must(t, "RequireUserMFA", s.Directory.RequireUserMFA(tenantID, userID))
	if mfa := read(userID).MFA; !mfa.Known {
		t.Logf("driver does not report MFA state (MFA.Known = false)")
		if mfa.Err != nil && !consent.CouldNotCheck(mfa.Err) {
			t.Errorf("MFA unknown with Err %v, which is not a could-not-check error", mfa.Err)
		}
	} else if !mfa.Registered || !mfa.Required {
		t.Errorf("after requiring MFA: MFA = %+v, want registered and required", mfa)
	}
	// A UPN reads the same MFA state as the object ID: Graph keys userRegistrationDetails by
	// object ID (microsoft-graph-docs-contrib api-reference/v1.0/api/userregistrationdetails-get.md),
	// so a driver resolves the UPN first.
	byID, byUPN := read(userID).MFA, read(upn).MFA
	if byID.Known != byUPN.Known || byID.Registered != byUPN.Registered || byID.Required != byUPN.Required {
		t.Errorf("MFA by UPN = %+v, by object ID = %+v; want the same", byUPN, byID)
	}
	must(t, "SetUserEnabled(false)", s.Directory.SetUserEnabled(tenantID, userID, false))
	if st := read(userID); !st.Exists || st.AccountEnabled {
		t.Errorf("after blocking sign-in: Exists=%v AccountEnabled=%v, want true false", st.Exists, st.AccountEnabled)
	}
	must(t, "DeleteUser", s.Directory.DeleteUser(tenantID, userID))
	if st := read(userID); st.Exists {
		t.Errorf("after deleting the user: Exists = true")
	}
	if st := read(upn); st.Exists {
		t.Errorf("after deleting the user: Exists = true when read by UPN")
	}
	if st := read(newGUID()); st.Exists {
		t.Errorf("UserState of a user that never existed: Exists = true")
	}
	_, err = ur.UserState(ctx, newGUID(), userID)
	checkErr(t, "UserState(unknown tenant)", err, consent.ErrTenantNotFound)
}

func sortedFold(v ...string) []string {
	out := make([]string, len(v))
	for i, s := range v {
		out[i] = strings.ToLower(s)
	}
	slices.Sort(out)
	return out
}

func testSignIns(t *testing.T, s *suite) {
	sr, ok := s.Driver.(consent.SignInReader)
	if !ok {
		t.Skipf("%T does not implement consent.SignInReader", s.Driver)
	}
	tenantID, appID, _ := s.consentedApp(t)
	userID, err := s.Directory.AddUser(tenantID, User{UserPrincipalName: "signin." + newGUID()[:8] + "@example.onmicrosoft.com"})
	must(t, "AddUser", err)
	since := s.Now().Add(-time.Minute)
	const okIP, blockedIP = "203.0.113.10", "198.51.100.7"
	first, err := s.Directory.SimulateSignIn(tenantID, appID, userID, okIP)
	must(t, "SimulateSignIn", err)
	if first.ErrorCode != 0 {
		t.Errorf("sign-in from an allowed IP: ErrorCode %d, want 0", first.ErrorCode)
	}
	must(t, "BlockIP", s.Directory.BlockIP(tenantID, blockedIP))
	second, err := s.Directory.SimulateSignIn(tenantID, appID, userID, blockedIP)
	must(t, "SimulateSignIn", err)
	if second.ErrorCode != 53003 || second.ConditionalAccess != consent.ConditionalAccessFailure {
		t.Errorf("sign-in from a blocked IP: ErrorCode %d CA %q, want 53003 failure", second.ErrorCode, second.ConditionalAccess)
	}
	must(t, "RequireUserMFA", s.Directory.RequireUserMFA(tenantID, userID))
	third, err := s.Directory.SimulateSignIn(tenantID, appID, userID, okIP)
	must(t, "SimulateSignIn", err)
	if third.ErrorCode != 50076 {
		t.Errorf("sign-in after MFA became required: ErrorCode %d, want 50076", third.ErrorCode)
	}

	got, err := sr.SignIns(s.ctx(t), tenantID, appID, since, 0)
	if err != nil {
		t.Fatalf("SignIns: %v", err)
	}
	type brief struct {
		IP    string
		CA    consent.ConditionalAccessStatus
		Code  int
		User  string
		AppID string
	}
	var gotBrief []brief
	for _, si := range got {
		gotBrief = append(gotBrief, brief{si.IPAddress, si.ConditionalAccess, si.ErrorCode, strings.ToLower(si.UserObjectID), strings.ToLower(si.AppID)})
	}
	u, a := strings.ToLower(userID), strings.ToLower(appID)
	want := []brief{
		{okIP, third.ConditionalAccess, 50076, u, a},
		{blockedIP, consent.ConditionalAccessFailure, 53003, u, a},
		{okIP, first.ConditionalAccess, 0, u, a},
	}
	if diff := cmp.Diff(want, gotBrief); diff != "" {
		t.Errorf("SignIns (newest first) mismatch (-want +got):\n%s", diff)
	}
	for i := 1; i < len(got); i++ {
		if got[i].Time.After(got[i-1].Time) {
			t.Errorf("SignIns not newest first: %v before %v", got[i-1].Time, got[i].Time)
		}
	}
	if got, err := sr.SignIns(s.ctx(t), tenantID, appID, since, 1); err != nil || len(got) != 1 || got[0].ErrorCode != 50076 {
		t.Errorf("SignIns(limit 1) = %+v, %v; want only the newest", got, err)
	}
	if got, err := sr.SignIns(s.ctx(t), tenantID, appID, s.Now().Add(time.Hour), 0); err != nil || len(got) != 0 {
		t.Errorf("SignIns(since the future) = %+v, %v; want none", got, err)
	}
	_, err = sr.SignIns(s.ctx(t), newGUID(), appID, since, 0)
	checkErr(t, "SignIns(unknown tenant)", err, consent.ErrTenantNotFound)
}

func testAzureRoles(t *testing.T, s *suite) {
	ar, ok := s.Driver.(consent.AzureRoleReader)
	if !ok {
		t.Skipf("%T does not implement consent.AzureRoleReader", s.Driver)
	}
	tenantID, appID, _ := s.consentedApp(t)
	sub := "/subscriptions/" + newGUID()
	vault := sub + "/resourceGroups/rg1/providers/Microsoft.KeyVault/vaults/kv1"
	must(t, "AssignAzureRole", s.Directory.AssignAzureRole(tenantID, appID, sub, roles.Contributor))
	must(t, "AssignAzureRole", s.Directory.AssignAzureRole(tenantID, appID, vault, roles.KeyVaultAdministrator))
	ctx := s.ctx(t)
	type brief struct {
		Scope string
		Role  roles.AzureRoleID
	}
	read := func(scope string) []brief {
		t.Helper()
		got, err := ar.AzureRoleAssignments(ctx, tenantID, appID, scope)
		if err != nil {
			t.Fatalf("AzureRoleAssignments(%s): %v", scope, err)
		}
		var out []brief
		for _, g := range got {
			out = append(out, brief{strings.ToLower(g.Scope), roles.AzureRoleID(strings.ToLower(string(g.RoleID)))})
		}
		return out
	}
	lsub, lvault := strings.ToLower(sub), strings.ToLower(vault)
	want := []brief{{lsub, roles.Contributor}, {lvault, roles.KeyVaultAdministrator}}
	if diff := cmp.Diff(want, read(sub)); diff != "" {
		t.Errorf("AzureRoleAssignments(subscription) mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want[1:], read(vault)); diff != "" {
		t.Errorf("AzureRoleAssignments(key vault) mismatch (-want +got):\n%s", diff)
	}
	if got := read("/subscriptions/" + newGUID()); len(got) != 0 {
		t.Errorf("AzureRoleAssignments(other subscription) = %v, want none", got)
	}
	must(t, "RemoveAzureRole", s.Directory.RemoveAzureRole(tenantID, appID, sub, roles.Contributor))
	if diff := cmp.Diff(want[1:], read(sub)); diff != "" {
		t.Errorf("AzureRoleAssignments after removing Contributor mismatch (-want +got):\n%s", diff)
	}
	noSP := s.app(t, s.tenant(t))
	_, err := ar.AzureRoleAssignments(ctx, tenantID, noSP, sub)
	checkErr(t, "AzureRoleAssignments(no service principal)", err, consent.ErrNotConsented)
}

// delegatedConsent sets up a fresh customer tenant where a user consented to a vendor's
// delegated app and the code was redeemed.
type delegatedConsent struct {
	tenantID, appID, userID string
	cred                    consent.CertificateCredential
	redeemed                consent.Redeemed
}

func (s *suite) delegatedConsent(t *testing.T, cred consent.CertificateCredential) delegatedConsent {
	t.Helper()
	cr, ok := s.Driver.(consent.CodeRedeemer)
	if !ok {
		t.Skipf("%T implements consent.DelegatedProver but not consent.CodeRedeemer: no token cache to prove", s.Driver)
	}
	d := delegatedConsent{cred: cred}
	d.appID = s.app(t, s.tenant(t), cred.Leaf())
	d.tenantID = s.tenant(t)
	var err error
	d.userID, err = s.Directory.AddUser(d.tenantID, User{UserPrincipalName: "delegated." + newGUID()[:8] + "@example.onmicrosoft.com"})
	must(t, "AddUser", err)
	const redirect = "https://portal.example/consent/callback"
	scopes := []string{"openid", "offline_access", "https://graph.microsoft.com/User.Read"}
	verifier := base64.RawURLEncoding.EncodeToString([]byte(newGUID() + newGUID()))
	code, err := s.Directory.AuthorizeUser(AuthorizeRequest{TenantID: d.tenantID, AppID: d.appID, UserID: d.userID, RedirectURI: redirect, Scopes: scopes, CodeChallenge: PKCEChallenge(verifier)})
	must(t, "AuthorizeUser", err)
	d.redeemed, err = cr.RedeemCode(s.ctx(t), consent.CodeRedemption{TenantID: d.tenantID, AppID: d.appID, Code: code, RedirectURI: redirect, PKCEVerifier: verifier, Scopes: scopes, Credential: &d.cred})
	must(t, "RedeemCode", err)
	return d
}

func (d delegatedConsent) refresh(cache []byte) consent.DelegatedRefresh {
	return consent.DelegatedRefresh{
		TenantID: d.tenantID, AppID: d.appID, UserObjectID: d.userID,
		Scopes: []string{"https://graph.microsoft.com/User.Read"}, TokenCache: cache, Credential: &d.cred,
	}
}

// checkCode reports whether err is a *consent.DriverError with the given service code.
func checkCode(t *testing.T, call string, err error, code string) {
	t.Helper()
	var de *consent.DriverError
	if errors.As(err, &de) && !strings.EqualFold(de.Code, code) {
		t.Errorf("%s: DriverError.Code = %q, want %q", call, de.Code, code)
	}
}

func testProveDelegated(t *testing.T, s *suite) {
	dp, ok := s.Driver.(consent.DelegatedProver)
	if !ok {
		t.Skipf("%T does not implement consent.DelegatedProver", s.Driver)
	}
	cred := s.credential(t)
	ctx := s.ctx(t)

	d := s.delegatedConsent(t, cred)
	proof, err := dp.ProveDelegated(ctx, d.refresh(d.redeemed.TokenCache))
	if err != nil {
		t.Fatalf("ProveDelegated(fresh consent): %v", err)
	}
	if !strings.EqualFold(proof.TenantID, d.tenantID) || !strings.EqualFold(proof.UserObjectID, d.userID) {
		t.Errorf("ProveDelegated: token of user %q in %q, want %q in %q", proof.UserObjectID, proof.TenantID, d.userID, d.tenantID)
	}
	if !containsFold(proof.Scopes, "User.Read") {
		t.Errorf("ProveDelegated: Scopes = %v, want User.Read", proof.Scopes)
	}
	if len(proof.TokenCache) == 0 || !proof.ExpiresAt.After(s.Now()) {
		t.Errorf("ProveDelegated: token cache %d bytes, expiry %v; want a cache and a future expiry", len(proof.TokenCache), proof.ExpiresAt)
	}
	for _, text := range []string{fmt.Sprintf("%v %+v %#v", proof, proof, proof), fmt.Sprintf("%v %#v", d.refresh(proof.TokenCache), d.refresh(proof.TokenCache))} {
		if strings.Contains(text, string(proof.TokenCache)) {
			t.Errorf("text form leaks the token cache")
		}
	}
	if _, err := dp.ProveDelegated(ctx, d.refresh(proof.TokenCache)); err != nil {
		t.Errorf("ProveDelegated(the cache the previous refresh returned): %v", err)
	}
	_, err = dp.ProveDelegated(ctx, d.refresh([]byte("not a token cache "+newGUID())))
	checkErr(t, "ProveDelegated(garbage cache)", err, consent.ErrInvalidGrant)

	changes := []struct {
		name   string
		change func(d delegatedConsent) error
		want   error
		code   string
	}{
		{"password reset", func(d delegatedConsent) error { return s.Directory.ResetUserPassword(d.tenantID, d.userID) }, consent.ErrInvalidGrant, "AADSTS50173"},
		{"user disabled", func(d delegatedConsent) error { return s.Directory.SetUserEnabled(d.tenantID, d.userID, false) }, consent.ErrInvalidGrant, "AADSTS50057"},
		{"user deleted", func(d delegatedConsent) error { return s.Directory.DeleteUser(d.tenantID, d.userID) }, consent.ErrInvalidGrant, "AADSTS50034"},
		{"MFA required after consent", func(d delegatedConsent) error { return s.Directory.RequireUserMFA(d.tenantID, d.userID) }, consent.ErrInvalidGrant, "AADSTS50076"},
		{"delegated grant revoked", func(d delegatedConsent) error {
			return s.Directory.RevokeDelegated(d.tenantID, d.appID, consent.MicrosoftGraphAppID, d.userID)
		}, consent.ErrInvalidGrant, "AADSTS65001"},
		{"service principal deleted", func(d delegatedConsent) error { return s.Directory.DeleteServicePrincipal(d.tenantID, d.appID) }, consent.ErrNotConsented, ""},
	}
	if s.DriverIP != "" {
		changes = append(changes, struct {
			name   string
			change func(d delegatedConsent) error
			want   error
			code   string
		}{"driver IP blocked by Conditional Access", func(d delegatedConsent) error { return s.Directory.BlockIP(d.tenantID, s.DriverIP) }, consent.ErrInvalidGrant, "AADSTS53003"})
	}
	for _, c := range changes {
		t.Run(strings.ReplaceAll(c.name, " ", "_"), func(t *testing.T) {
			d := s.delegatedConsent(t, cred)
			if _, err := dp.ProveDelegated(ctx, d.refresh(d.redeemed.TokenCache)); err != nil {
				t.Fatalf("ProveDelegated before the change: %v", err)
			}
			must(t, c.name, c.change(d))
			got, err := dp.ProveDelegated(ctx, d.refresh(d.redeemed.TokenCache))
			checkErr(t, "ProveDelegated after "+c.name, err, c.want)
			if c.code != "" {
				checkCode(t, "ProveDelegated after "+c.name, err, c.code)
			}
			if len(got.TokenCache) > 0 {
				t.Errorf("ProveDelegated on error returned a token cache")
			}
		})
	}
}
