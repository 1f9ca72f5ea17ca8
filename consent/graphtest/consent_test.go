package graphtest

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tenantapps/tenantapps/consent/consenttest"
	"github.com/tenantapps/tenantapps/roles"
)

// consentFixture: tenant B with a Global Administrator and a plain user; app X asks for Graph
// User.Read.All (application) and User.Read (delegated).
func consentFixture(t *testing.T) (*fixture, string, string) {
	f := newFixture(t, Options{})
	admin, err := f.srv.AddUser(tenantB, consenttest.User{UserPrincipalName: "admin@fabrikam.example", DirectoryRoles: []roles.TemplateID{roles.GlobalAdministrator}})
	must(t, err)
	user, err := f.srv.AddUser(tenantB, consenttest.User{UserPrincipalName: "user@fabrikam.example"})
	must(t, err)
	must(t, f.srv.SetRequiredPermissions(appX,
		Permission{ResourceAppID: MicrosoftGraphAppID, Kind: Application, Value: "User.Read.All"},
		Permission{ResourceAppID: MicrosoftGraphAppID, Kind: Delegated, Value: "User.Read"}))
	return f, admin, user
}

func (f *fixture) consentURL(tenant string, extra url.Values) string {
	q := url.Values{"client_id": {appX}, "redirect_uri": {userRO}, "state": {"s-123"}, "scope": {"https://graph.microsoft.com/.default"}}
	for k, v := range extra {
		q[k] = v
	}
	return f.srv.URL + "/" + tenant + "/v2.0/adminconsent?" + q.Encode()
}

// redirectQuery follows nothing: it returns the query of the Location a consent answered with.
func redirectQuery(t *testing.T, resp *http.Response) url.Values {
	t.Helper()
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("status %d, want 302: %s", resp.StatusCode, b)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || !strings.HasPrefix(loc.String(), userRO) {
		t.Fatalf("Location %q does not go to the redirect URI", resp.Header.Get("Location"))
	}
	return loc.Query()
}

func TestAdminConsentPageAndDecisions(t *testing.T) {
	f, _, _ := consentFixture(t)
	resp, err := f.http.Get(f.consentURL(tenantB, nil))
	must(t, err)
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`id="accept"`, `id="cancel"`, "User.Read.All", "App X", `name="state" value="s-123"`} {
		if !strings.Contains(string(page), want) {
			t.Errorf("consent page lacks %s:\n%s", want, page)
		}
	}

	post := func(decision, user string) url.Values {
		form := url.Values{"client_id": {appX}, "redirect_uri": {userRO}, "state": {"s-123"}, "scope": {"https://graph.microsoft.com/.default"},
			"graphtest_decision": {decision}, "graphtest_user": {user}}
		resp, err := f.http.PostForm(f.srv.URL+"/"+tenantB+"/v2.0/adminconsent", form)
		must(t, err)
		return redirectQuery(t, resp)
	}
	code := func(q url.Values) string { c, _, _ := strings.Cut(q.Get("error_description"), ":"); return c }

	q := post("cancel", "admin@fabrikam.example")
	if got := []string{q.Get("error"), code(q), q.Get("state"), q.Get("admin_consent")}; !cmp.Equal(got, []string{"access_denied", "AADSTS65004", "s-123", "True"}) {
		t.Errorf("cancel redirect: %v", q)
	}
	q = post("accept", "user@fabrikam.example")
	if code(q) != "AADSTS90094" {
		t.Errorf("non-admin accept: %v, want AADSTS90094", q)
	}
	if _, err := f.srv.ServicePrincipalID(tenantB, appX); err == nil {
		t.Error("a refused consent created the service principal")
	}
	q = post("accept", "admin@fabrikam.example")
	want := url.Values{"admin_consent": {"True"}, "tenant": {tenantB}, "state": {"s-123"},
		"scope": {"https://graph.microsoft.com/User.Read.All https://graph.microsoft.com/User.Read"}}
	if diff := cmp.Diff(want, q); diff != "" {
		t.Errorf("admin consent redirect mismatch (-want +got):\n%s", diff)
	}
	// The consent is real: app X can now get a token in B carrying the app role.
	tok := f.accessToken(t, tenantB, appX)
	p, _ := parseJWT(tok)
	if diff := cmp.Diff([]any{"User.Read.All"}, p.Claims["roles"]); diff != "" {
		t.Errorf("roles after consent mismatch (-want +got):\n%s", diff)
	}
}

func TestConsentErrors(t *testing.T) {
	f, _, _ := consentFixture(t)
	resp, err := f.http.Get(f.consentURL(tenantB, url.Values{"redirect_uri": {"https://evil.example/cb"}}))
	must(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 400 || !strings.Contains(string(body), "AADSTS50011") || resp.Header.Get("Location") != "" {
		t.Errorf("unregistered redirect URI: %d %s", resp.StatusCode, body)
	}

	must(t, f.srv.SetAutoConsent(tenantB, "admin@fabrikam.example"))
	must(t, f.srv.FailNextConsent(tenantB, 65004, "consent_required", "The resource owner or authorization server denied the request."))
	resp, err = f.http.Get(f.consentURL(tenantB, nil))
	must(t, err)
	q := redirectQuery(t, resp)
	if q.Get("error") != "consent_required" || !strings.HasPrefix(q.Get("error_description"), "AADSTS65004: The resource owner") {
		t.Errorf("FailNextConsent redirect: %v", q)
	}
	resp, err = f.http.Get(f.consentURL(tenantB, nil))
	must(t, err)
	if q := redirectQuery(t, resp); q.Get("admin_consent") != "True" || q.Get("error") != "" || q.Get("tenant") != tenantB {
		t.Errorf("auto consent after the failure: %v", q)
	}
	// "organizations" resolves to the consenting user's tenant.
	must(t, f.srv.SetAutoConsent(tenantB, ""))
	resp, err = f.http.PostForm(f.srv.URL+"/organizations/v2.0/adminconsent", url.Values{"client_id": {appX}, "redirect_uri": {userRO},
		"graphtest_decision": {"accept"}, "graphtest_user": {"admin@fabrikam.example"}})
	must(t, err)
	if q := redirectQuery(t, resp); q.Get("tenant") != tenantB {
		t.Errorf("organizations consent: %v", q)
	}
}

func TestAuthorizationCodeFlow(t *testing.T) {
	f, _, userID := consentFixture(t)
	verifier := "verifier-verifier-verifier-verifier-verifier-0123"
	sum := sha256.Sum256([]byte(verifier))
	challenge := base64.RawURLEncoding.EncodeToString(sum[:])
	authorize := func() string {
		code, err := f.srv.AuthorizeUser(consenttest.AuthorizeRequest{TenantID: tenantB, AppID: appX, UserID: "user@fabrikam.example",
			RedirectURI: userRO, Scopes: []string{"openid", "offline_access", "https://graph.microsoft.com/User.Read"}, CodeChallenge: challenge})
		must(t, err)
		return code
	}
	redeem := func(code, v string) (int, map[string]any) {
		return f.token(t, tenantB, appX, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {userRO},
			"code_verifier": {v}, "scope": {"https://graph.microsoft.com/User.Read openid offline_access profile"}})
	}
	code := authorize()
	if st, body := redeem(code, "wrong-verifier"); st != 400 || aadsts(body) != "AADSTS501481" {
		t.Errorf("wrong verifier: %d %v", st, body)
	}
	code = authorize()
	st, body := redeem(code, verifier)
	if st != 200 {
		t.Fatalf("redeem: %d %v", st, body)
	}
	at, _ := parseJWT(body["access_token"].(string))
	idt, _ := parseJWT(body["id_token"].(string))
	got := map[string]any{"scp": at.str("scp"), "oid": at.str("oid"), "tid": idt.str("tid"), "upn": idt.str("preferred_username"), "aud": idt.str("aud")}
	want := map[string]any{"scp": "User.Read", "oid": userID, "tid": tenantB, "upn": "user@fabrikam.example", "aud": appX}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("tokens mismatch (-want +got):\n%s", diff)
	}
	if st, body := redeem(code, verifier); st != 400 || aadsts(body) != "AADSTS54005" {
		t.Errorf("second redemption: %d %v", st, body)
	}

	refresh := func() (int, map[string]any) {
		return f.token(t, tenantB, appX, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {body["refresh_token"].(string)},
			"scope": {"https://graph.microsoft.com/User.Read openid offline_access profile"}})
	}
	if st, b := refresh(); st != 200 {
		t.Fatalf("refresh: %d %v", st, b)
	}
	for _, tc := range []struct {
		name   string
		change func() error
		undo   func() error
		want   string
	}{
		{"blocked IP", func() error { return f.srv.BlockIP(tenantB, "127.0.0.1") }, func() error { return f.srv.UnblockIP(tenantB, "127.0.0.1") }, "AADSTS53003"},
		{"disabled", func() error { return f.srv.SetUserEnabled(tenantB, userID, false) }, func() error { return f.srv.SetUserEnabled(tenantB, userID, true) }, "AADSTS50057"},
		{"MFA required", func() error { return f.srv.RequireUserMFA(tenantB, userID) }, nil, "AADSTS50076"},
	} {
		must(t, tc.change())
		if st, b := refresh(); st != 400 || aadsts(b) != tc.want {
			t.Errorf("%s: refresh %d %v, want %s", tc.name, st, b, tc.want)
		}
		if tc.undo != nil {
			must(t, tc.undo())
		}
	}
	// Sign-ins were recorded with the Conditional Access outcome. Refreshes are
	// non-interactive sign-ins: v1.0 does not list them (api-reference/v1.0/api/signin-list.md),
	// beta does with a signInEventTypes filter.
	tok := f.accessToken(t, tenantB, reader)
	filter := "appId eq '" + appX + "' and conditionalAccessStatus eq 'failure'"
	st, _, sib := f.graph(t, "GET", "/auditLogs/signIns?$filter="+url.QueryEscape(filter), tok, nil, nil)
	if vals, _ := sib["value"].([]any); st != 200 || len(vals) != 0 {
		t.Errorf("v1.0 failed sign-ins: %d %v, want none (refreshes are non-interactive)", st, sib)
	}
	req, err := http.NewRequest("GET", f.srv.URL+"/beta/auditLogs/signIns?$filter="+url.PathEscape(filter+" and signInEventTypes/any(t: t eq 'nonInteractiveUser')"), nil)
	must(t, err)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := f.http.Do(req)
	must(t, err)
	defer resp.Body.Close()
	sib = map[string]any{}
	must(t, json.NewDecoder(resp.Body).Decode(&sib))
	st = resp.StatusCode
	vals, _ := sib["value"].([]any)
	if st != 200 || len(vals) != 2 { // the CA block and the MFA requirement
		t.Errorf("beta non-interactive failed sign-ins: %d %v", st, sib)
	}
	for _, v := range vals {
		if m, _ := v.(map[string]any); m["isInteractive"] != false {
			t.Errorf("beta sign-in %v: isInteractive should be false", m)
		}
	}
}

func TestResetPasswordRevokesRefreshTokens(t *testing.T) {
	f, _, userID := consentFixture(t)
	code, err := f.srv.AuthorizeUser(consenttest.AuthorizeRequest{TenantID: tenantB, AppID: appX, UserID: userID, RedirectURI: userRO,
		Scopes: []string{"https://graph.microsoft.com/User.Read"}})
	must(t, err)
	st, body := f.token(t, tenantB, appX, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {userRO}})
	if st != 200 {
		t.Fatalf("redeem: %d %v", st, body)
	}
	must(t, f.srv.ResetUserPassword(tenantB, userID))
	st, b := f.token(t, tenantB, appX, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {body["refresh_token"].(string)}})
	if st != 400 || aadsts(b) != "AADSTS50173" {
		t.Errorf("refresh after password reset: %d %v", st, b)
	}
}
