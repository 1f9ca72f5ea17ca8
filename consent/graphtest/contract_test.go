package graphtest

import (
	"crypto/x509"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tenantapps/tenantapps/consent/consenttest"
	"github.com/tenantapps/tenantapps/roles"
)

// TestRequestRules checks each documented request rule of contract.go (see the package
// documentation's rule list): the request that breaks it is refused with Graph's answer, the
// request that follows it is served.
func TestRequestRules(t *testing.T) {
	f := newFixture(t, Options{})
	uid, err := f.srv.AddUser(tenantA, consenttest.User{UserPrincipalName: "anna@contoso.example", MFARegistered: true,
		DirectoryRoles: []roles.TemplateID{roles.GlobalReader}})
	must(t, err)
	tok := f.accessToken(t, tenantA, reader)
	eventual := map[string]string{"ConsistencyLevel": "eventual"}
	sp := "/servicePrincipals(appId='" + appX + "')"
	for _, tc := range []struct {
		name     string
		path     string
		hdr      map[string]string
		wantCode int
		wantErr  string
	}{
		{"memberOf cast without ConsistencyLevel", sp + "/memberOf/microsoft.graph.directoryRole?$count=true", nil, 400, "Request_UnsupportedQuery"},
		{"memberOf cast without $count", sp + "/memberOf/microsoft.graph.directoryRole", eventual, 400, "Request_UnsupportedQuery"},
		{"memberOf cast as an advanced query", sp + "/memberOf/microsoft.graph.directoryRole?$count=true", eventual, 200, ""},
		{"user memberOf cast without header", "/users/" + uid + "/memberOf/microsoft.graph.directoryRole", nil, 400, "Request_UnsupportedQuery"},
		{"memberOf without cast", sp + "/memberOf", nil, 200, ""},
		{"userRegistrationDetails by UPN", "/reports/authenticationMethods/userRegistrationDetails/anna@contoso.example", nil, 400, "BadRequest"},
		{"userRegistrationDetails by object ID", "/reports/authenticationMethods/userRegistrationDetails/" + uid, nil, 200, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, _, body := f.graph(t, "GET", tc.path, tok, nil, tc.hdr)
			if st != tc.wantCode || (tc.wantErr != "" && errorCode(body) != tc.wantErr) {
				t.Errorf("GET %s = %d %v, want %d %s", tc.path, st, body, tc.wantCode, tc.wantErr)
			}
		})
	}
	// Single entities carry @odata.context.
	for _, p := range []string{sp, "/users/" + uid, "/reports/authenticationMethods/userRegistrationDetails/" + uid, "/applications(appId='" + appX + "')"} {
		tokHome := tok
		if strings.HasPrefix(p, "/applications") {
			tokHome = f.accessToken(t, homeT, reader)
		}
		st, _, body := f.graph(t, "GET", p, tokHome, nil, nil)
		if ctx, _ := body["@odata.context"].(string); st != 200 || !strings.HasSuffix(ctx, "/$entity") {
			t.Errorf("GET %s = %d, @odata.context %q; want a $entity context", p, st, ctx)
		}
	}
}

// TestPermissionsEnforcedByDefault: the documented permissions are required without any option;
// the sign-in log needs AuditLog.Read.All and Directory.Read.All together
// (api-reference/v1.0/api/signin-list.md).
func TestPermissionsEnforcedByDefault(t *testing.T) {
	f := newFixture(t, Options{})
	const auditOnly = "aaaaaaaa-0000-4000-8000-0000000000a1"
	must(t, f.srv.RegisterApp(consenttest.App{AppID: auditOnly, HomeTenantID: homeT, DisplayName: "Audit only", Certificates: []*x509.Certificate{f.cert}}))
	must(t, f.srv.ProvisionEverywhere(auditOnly, Permission{ResourceAppID: MicrosoftGraphAppID, Value: "AuditLog.Read.All"}))
	tok := f.accessToken(t, tenantA, auditOnly)
	if st, _, body := f.graph(t, "GET", "/auditLogs/signIns", tok, nil, nil); st != 403 {
		t.Errorf("signIns with AuditLog.Read.All alone = %d %v, want 403", st, body)
	}
	if st, _, body := f.graph(t, "GET", "/auditLogs/signIns", f.accessToken(t, tenantA, reader), nil, nil); st != 200 {
		t.Errorf("signIns with AuditLog.Read.All and Directory.Read.All = %d %v, want 200", st, body)
	}
	skip := newFixture(t, Options{SkipPermissionChecks: true})
	if st, _, body := skip.graph(t, "GET", "/auditLogs/signIns", skip.accessToken(t, tenantA, appX), nil, nil); st != 200 {
		t.Errorf("SkipPermissionChecks: signIns = %d %v, want 200", st, body)
	}
}

// TestConsentRedirectShapes: the cancel redirect carries error_subcode=cancel; an admin consent
// that granted nothing sends no empty scope=.
func TestConsentRedirectShapes(t *testing.T) {
	f, _, _ := consentFixture(t)
	post := func(decision string) url.Values {
		form := url.Values{"client_id": {appX}, "redirect_uri": {userRO}, "state": {"s-1"}, "scope": {"https://graph.microsoft.com/.default"},
			"graphtest_decision": {decision}, "graphtest_user": {"admin@fabrikam.example"}}
		resp, err := f.http.PostForm(f.srv.URL+"/"+tenantB+"/v2.0/adminconsent", form)
		must(t, err)
		return redirectQuery(t, resp)
	}
	if q := post("cancel"); q.Get("error_subcode") != "cancel" {
		t.Errorf("cancel redirect %v lacks error_subcode=cancel", q)
	}
	must(t, f.srv.SetRequiredPermissions(appX))
	if q := post("accept"); q.Has("scope") {
		t.Errorf("admin consent granting nothing sent scope=%q", q.Get("scope"))
	}
}

// TestInjectedTokenErrorsHaveEntraShape: an injected token-endpoint fault answers Entra's error
// body with error_codes, timestamp, trace_id and correlation_id.
func TestInjectedTokenErrorsHaveEntraShape(t *testing.T) {
	for _, kind := range []FaultKind{FaultThrottle, FaultUnavailable, FaultGatewayTimeout} {
		f := newFixture(t, Options{})
		remove := f.srv.AddFault(Fault{Route: RouteToken, Kind: kind})
		st, body := f.token(t, tenantA, reader, nil)
		remove()
		if st < 400 {
			t.Fatalf("%v: status %d", kind, st)
		}
		for _, k := range []string{"error", "error_description", "error_codes", "timestamp", "trace_id", "correlation_id"} {
			if _, ok := body[k]; !ok {
				t.Errorf("%v: token error body %v lacks %s", kind, body, k)
			}
		}
	}
}

// TestRefreshTokenExpiresAfterInactivity: a refresh token unused for 90 days is refused with
// AADSTS700082 (entra-docs docs/identity-platform/refresh-tokens.md, reference-error-codes.md).
func TestRefreshTokenExpiresAfterInactivity(t *testing.T) {
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	f := newFixture(t, Options{Now: clock})
	// A certificate that outlives the idle period, so the client assertion stays valid.
	f.cert = newCert(t, "app-x-long", now.Add(-time.Hour), now.Add(200*24*time.Hour))
	must(t, f.srv.RotateAppCertificates(appX, f.cert))
	user, err := f.srv.AddUser(tenantB, consenttest.User{UserPrincipalName: "user@fabrikam.example"})
	must(t, err)
	must(t, f.srv.SetRequiredPermissions(appX, Permission{ResourceAppID: MicrosoftGraphAppID, Kind: Delegated, Value: "User.Read"}))
	code, err := f.srv.AuthorizeUser(consenttest.AuthorizeRequest{TenantID: tenantB, AppID: appX, UserID: user, RedirectURI: userRO,
		Scopes: []string{"https://graph.microsoft.com/User.Read", "offline_access"}})
	must(t, err)
	st, body := f.token(t, tenantB, appX, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {userRO}})
	if st != 200 {
		t.Fatalf("redeem: %d %v", st, body)
	}
	rt, _ := body["refresh_token"].(string)
	mu.Lock()
	now = now.Add(91 * 24 * time.Hour)
	mu.Unlock()
	atClock := func(_, c map[string]any) { c["nbf"], c["exp"] = clock().Unix(), clock().Add(10*time.Minute).Unix() }
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt},
		"client_assertion": {assertion(t, f.cert, appX, f.srv.URL+"/"+tenantB+"/oauth2/v2.0/token", atClock)}}
	st, body = f.token(t, tenantB, appX, form)
	if codes, _ := body["error_codes"].([]any); st != 400 || body["error"] != "invalid_grant" || len(codes) != 1 || codes[0] != float64(700082) {
		t.Errorf("refresh after 91 idle days: %d %v, want 400 invalid_grant AADSTS700082", st, body)
	}
}
