package graphtest

import (
	"bytes"
	"compress/gzip"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/tenantapps/tenantapps/consent/consenttest"
	"github.com/tenantapps/tenantapps/roles"
)

func TestOpenIDConfigurationIsOnTheServersHost(t *testing.T) {
	f := newFixture(t, Options{})
	resp, err := f.http.Get(f.srv.URL + "/" + tenantA + "/v2.0/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var cfg map[string]any
	if err := jsonDecode(resp.Body, &cfg); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"issuer":         f.srv.URL + "/" + tenantA + "/v2.0",
		"token_endpoint": f.srv.URL + "/" + tenantA + "/oauth2/v2.0/token",
	}
	got := map[string]any{"issuer": cfg["issuer"], "token_endpoint": cfg["token_endpoint"]}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("openid-configuration mismatch (-want +got):\n%s", diff)
	}
}

func TestTokenClientCredentials(t *testing.T) {
	f := newFixture(t, Options{})
	tokenURL := func(tenant string) string { return f.srv.URL + "/" + tenant + "/oauth2/v2.0/token" }
	other := newCert(t, "other", time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	usedJTI := assertion(t, f.cert, appX, tokenURL(tenantA), func(_, c map[string]any) { c["jti"] = "fixed-jti" })
	if st, body := f.token(t, tenantA, appX, url.Values{"client_assertion": {usedJTI}}); st != http.StatusOK {
		t.Fatalf("first use of a jti: %d %v", st, body)
	}
	tests := []struct {
		name       string
		tenant     string
		app        string
		assertion  string
		scope      string
		wantStatus int
		wantCode   string
	}{
		{name: "ok", tenant: tenantA, app: appX, wantStatus: 200},
		{name: "tenant by domain", tenant: "contoso.onmicrosoft.com", app: appX,
			assertion: assertion(t, f.cert, appX, tokenURL("contoso.onmicrosoft.com"), nil), wantStatus: 200},
		{name: "x5t sha1 RS256 style", tenant: tenantA, app: appX, wantStatus: 200,
			assertion: assertion(t, f.cert, appX, tokenURL(tenantA), func(h, _ map[string]any) {
				delete(h, "x5t#S256")
				s := sha1.Sum(f.cert.Raw)
				h["x5t"] = base64.RawURLEncoding.EncodeToString(s[:])
			})},
		{name: "x5t#S256 base64url", tenant: tenantA, app: appX, wantStatus: 200,
			assertion: assertion(t, f.cert, appX, tokenURL(tenantA), func(h, _ map[string]any) {
				s := sha256.Sum256(f.cert.Raw)
				h["x5t#S256"] = base64.RawURLEncoding.EncodeToString(s[:])
			})},
		{name: "unknown tenant", tenant: "99999999-9999-4999-8999-999999999999", app: appX, wantStatus: 400, wantCode: "AADSTS90002"},
		{name: "no service principal", tenant: tenantB, app: appX, wantStatus: 400, wantCode: "AADSTS700016"},
		{name: "unregistered certificate", tenant: tenantA, app: appX, wantStatus: 401, wantCode: "AADSTS700027",
			assertion: assertion(t, other, appX, tokenURL(tenantA), nil)},
		{name: "bad signature", tenant: tenantA, app: appX, wantStatus: 401, wantCode: "AADSTS700027",
			assertion: badSignature(assertion(t, f.cert, appX, tokenURL(tenantA), nil))},
		{name: "wrong audience", tenant: tenantA, app: appX, wantStatus: 401, wantCode: "AADSTS700212",
			assertion: assertion(t, f.cert, appX, "https://login.microsoftonline.com/"+tenantA+"/oauth2/v2.0/token", nil)},
		{name: "expired assertion", tenant: tenantA, app: appX, wantStatus: 401, wantCode: "AADSTS700024",
			assertion: assertion(t, f.cert, appX, tokenURL(tenantA), func(_, c map[string]any) { c["exp"] = time.Now().Add(-time.Hour).Unix() })},
		{name: "not yet valid", tenant: tenantA, app: appX, wantStatus: 401, wantCode: "AADSTS700024",
			assertion: assertion(t, f.cert, appX, tokenURL(tenantA), func(_, c map[string]any) { c["nbf"] = time.Now().Add(time.Hour).Unix() })},
		{name: "jti replay", tenant: tenantA, app: appX, wantStatus: 401, wantCode: "AADSTS700025", assertion: usedJTI},
		{name: "iss is another app", tenant: tenantA, app: appX, wantStatus: 401, wantCode: "AADSTS700021",
			assertion: assertion(t, f.cert, appX, tokenURL(tenantA), func(_, c map[string]any) { c["iss"] = reader })},
		{name: "garbage assertion", tenant: tenantA, app: appX, wantStatus: 401, wantCode: "AADSTS50027", assertion: "not.a.jwt"},
		{name: "scope without .default", tenant: tenantA, app: appX, scope: "https://graph.microsoft.com/User.Read", wantStatus: 400, wantCode: "AADSTS1002012"},
		{name: "unknown app", tenant: tenantA, app: "bbbbbbbb-0000-4000-8000-000000000001", wantStatus: 400, wantCode: "AADSTS700016"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			form := url.Values{}
			if tc.assertion != "" {
				form.Set("client_assertion", tc.assertion)
			}
			if tc.scope != "" {
				form.Set("scope", tc.scope)
			}
			st, body := f.token(t, tc.tenant, tc.app, form)
			got := struct {
				Status int
				Code   string
			}{st, aadsts(body)}
			want := struct {
				Status int
				Code   string
			}{tc.wantStatus, tc.wantCode}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("token mismatch (-want +got):\n%s\nbody: %v", diff, body)
			}
			if st == 200 && body["expires_in"] != float64(3599) {
				t.Errorf("expires_in = %v, want 3599 (MSAL caches only tokens with > 5 min left)", body["expires_in"])
			}
		})
	}
}

func TestAccessTokenClaims(t *testing.T) {
	f := newFixture(t, Options{})
	tok := f.accessToken(t, tenantA, appX)
	p, err := parseJWT(tok)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.verify(f.srv.PublicKey()); err != nil {
		t.Fatalf("token does not verify with the server's key: %v", err)
	}
	spID, _ := f.srv.ServicePrincipalID(tenantA, appX)
	got := map[string]any{"tid": p.str("tid"), "appid": p.str("appid"), "oid": p.str("oid"), "aud": p.str("aud"), "idtyp": p.str("idtyp"), "roles": p.Claims["roles"]}
	want := map[string]any{"tid": tenantA, "appid": appX, "oid": spID, "aud": "https://graph.microsoft.com", "idtyp": "app", "roles": []any{"User.Read.All"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("claims mismatch (-want +got):\n%s", diff)
	}
}

func TestGraphRejectsBadTokens(t *testing.T) {
	f := newFixture(t, Options{Now: time.Now})
	good := f.accessToken(t, tenantA, appX)
	for _, tc := range []struct{ name, token string }{
		{"missing", ""},
		{"garbage", "abc"},
		{"tampered", good[:len(good)-4] + "AAAA"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, hdr, body := f.graph(t, "GET", "/servicePrincipals", tc.token, nil, nil)
			if st != 401 || errorCode(body) != "InvalidAuthenticationToken" || hdr.Get("WWW-Authenticate") == "" {
				t.Errorf("got %d %v, want 401 InvalidAuthenticationToken with WWW-Authenticate", st, body)
			}
		})
	}
}

func TestGraphReadsGroundTruth(t *testing.T) {
	f := newFixture(t, Options{PageSize: 2})
	must(t, f.srv.GrantDelegated(tenantA, appX, MicrosoftGraphAppID, "", "User.Read", "openid"))
	must(t, f.srv.AssignAppDirectoryRole(tenantA, appX, roles.ExchangeAdministrator))
	tok := f.accessToken(t, tenantA, reader)
	spID, _ := f.srv.ServicePrincipalID(tenantA, appX)

	st, _, body := f.graph(t, "GET", "/servicePrincipals?$filter="+url.QueryEscape("appId eq '"+appX+"'")+"&$select=id,appId,accountEnabled", tok, nil, nil)
	vals, _ := body["value"].([]any)
	if st != 200 || len(vals) != 1 {
		t.Fatalf("servicePrincipals filter: %d %v", st, body)
	}
	if diff := cmp.Diff(map[string]any{"id": spID, "appId": appX, "accountEnabled": true}, vals[0]); diff != "" {
		t.Errorf("$select mismatch (-want +got):\n%s", diff)
	}

	st, _, body = f.graph(t, "GET", "/servicePrincipals(appId='"+appX+"')/appRoleAssignments", tok, nil, nil)
	vals, _ = body["value"].([]any)
	if st != 200 || len(vals) != 1 || vals[0].(map[string]any)["appRoleId"] != "df021288-bdef-4463-88db-98f22de89214" {
		t.Errorf("appRoleAssignments by appId key: %d %v", st, body)
	}

	st, _, body = f.graph(t, "GET", "/oauth2PermissionGrants?$filter="+url.QueryEscape("clientId eq '"+spID+"'"), tok, nil, nil)
	vals, _ = body["value"].([]any)
	if st != 200 || len(vals) != 1 || strings.Fields(vals[0].(map[string]any)["scope"].(string))[0] != "User.Read" {
		t.Errorf("oauth2PermissionGrants: %d %v", st, body)
	}

	st, _, body = f.graph(t, "GET", "/servicePrincipals/"+spID+"/memberOf", tok, nil, nil)
	vals, _ = body["value"].([]any)
	if st != 200 || len(vals) != 1 || vals[0].(map[string]any)["roleTemplateId"] != string(roles.ExchangeAdministrator) {
		t.Errorf("memberOf: %d %v", st, body)
	}

	st, _, body = f.graph(t, "GET", "/servicePrincipals(appId='bbbbbbbb-0000-4000-8000-000000000009')", tok, nil, nil)
	if st != 404 || errorCode(body) != "Request_ResourceNotFound" {
		t.Errorf("absent SP: %d %v", st, body)
	}

	// Paging: the seeded resource SPs + reader + app X, in pages of 2.
	wantSPs := len(builtinResources()) + 2
	var ids []string
	next := "/servicePrincipals?$select=id"
	pages := 0
	for next != "" {
		st, _, body = f.graph(t, "GET", next, tok, nil, nil)
		if st != 200 {
			t.Fatalf("page %d: %d %v", pages, st, body)
		}
		for _, v := range body["value"].([]any) {
			ids = append(ids, v.(map[string]any)["id"].(string))
		}
		next = ""
		if nl, ok := body["@odata.nextLink"].(string); ok {
			next = strings.TrimPrefix(nl, f.srv.GraphURL())
		}
		pages++
	}
	if wantPages := (wantSPs + 1) / 2; pages != wantPages || len(ids) != wantSPs {
		t.Errorf("paging: %d pages, %d ids; want %d pages, %d ids", pages, len(ids), wantPages, wantSPs)
	}
	sort.Strings(ids)
	if len(slicesCompact(ids)) != len(ids) {
		t.Errorf("paging returned duplicates: %v", ids)
	}

	st, _, body = f.graph(t, "GET", "/servicePrincipals?$filter="+url.QueryEscape("appId in ('x')"), tok, nil, nil)
	if st != 200 {
		t.Errorf("appId in filter: %d %v", st, body)
	}
	st, _, body = f.graph(t, "GET", "/servicePrincipals?$filter="+url.QueryEscape("appId in ('x') or appId eq 'y'"), tok, nil, nil)
	if st != 400 || errorCode(body) != "Request_UnsupportedQuery" {
		t.Errorf("unsupported filter: %d %v", st, body)
	}
}

func TestGraphEnforcePermissions(t *testing.T) {
	f := newFixture(t, Options{})
	tokX := f.accessToken(t, tenantA, appX) // holds User.Read.All only
	st, _, body := f.graph(t, "GET", "/servicePrincipals", tokX, nil, nil)
	if st != 403 || errorCode(body) != "Authorization_RequestDenied" {
		t.Errorf("app without Application.Read.All: %d %v", st, body)
	}
	tokR := f.accessToken(t, tenantA, reader)
	if st, _, body := f.graph(t, "GET", "/servicePrincipals", tokR, nil, nil); st != 200 {
		t.Errorf("reader: %d %v", st, body)
	}
	spID, _ := f.srv.ServicePrincipalID(tenantA, appX)
	if st, _, body := f.graph(t, "POST", "/roleManagement/directory/roleAssignments", tokX,
		strings.NewReader(`{"roleDefinitionId":"`+string(roles.ExchangeAdministrator)+`","principalId":"`+spID+`","directoryScopeId":"/"}`), map[string]string{"Content-Type": "application/json"}); st != 403 {
		t.Errorf("role assignment without RoleManagement.ReadWrite.Directory: %d %v", st, body)
	}
}

func TestRoleAssignmentCreateIsGzipAwareAndConflicts(t *testing.T) {
	f := newFixture(t, Options{})
	tok := f.accessToken(t, tenantA, reader)
	spID, _ := f.srv.ServicePrincipalID(tenantA, appX)
	payload := `{"roleDefinitionId":"` + string(roles.ExchangeAdministrator) + `","principalId":"` + spID + `","directoryScopeId":"/"}`
	gz := func() *bytes.Buffer {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		_, _ = zw.Write([]byte(payload))
		_ = zw.Close()
		return &b
	}
	hdr := map[string]string{"Content-Type": "application/json", "Content-Encoding": "gzip"}
	st, _, body := f.graph(t, "POST", "/roleManagement/directory/roleAssignments", tok, gz(), hdr)
	if st != 201 || body["roleDefinitionId"] != string(roles.ExchangeAdministrator) {
		t.Fatalf("create: %d %v", st, body)
	}
	st, _, body = f.graph(t, "POST", "/roleManagement/directory/roleAssignments", tok, gz(), hdr)
	if st != 400 || errorCode(body) != "Request_BadRequest" {
		t.Errorf("duplicate: %d %v", st, body)
	}
	st, _, body = f.graph(t, "GET", "/roleManagement/directory/roleAssignments?$filter="+url.QueryEscape("principalId eq '"+spID+"'"), tok, nil, nil)
	if vals, _ := body["value"].([]any); st != 200 || len(vals) != 1 {
		t.Errorf("list: %d %v", st, body)
	}
}

func TestBatch(t *testing.T) {
	f := newFixture(t, Options{})
	tok := f.accessToken(t, tenantA, reader)
	f.srv.ResetStats()
	batch := `{"requests":[
	 {"id":"sp","method":"GET","url":"/servicePrincipals(appId='` + appX + `')?%24select=id"},
	 {"id":"ara","method":"GET","url":"/servicePrincipals(appId='` + appX + `')/appRoleAssignments","dependsOn":["sp"]},
	 {"id":"missing","method":"GET","url":"/servicePrincipals(appId='bbbbbbbb-0000-4000-8000-000000000009')"},
	 {"id":"after-missing","method":"GET","url":"/organization","dependsOn":["missing"]}
	]}`
	st, _, body := f.graph(t, "POST", "/$batch", tok, strings.NewReader(batch), map[string]string{"Content-Type": "application/json"})
	if st != 200 {
		t.Fatalf("batch: %d %v", st, body)
	}
	got := map[string]float64{}
	for _, r := range body["responses"].([]any) {
		m := r.(map[string]any)
		got[m["id"].(string)] = m["status"].(float64)
	}
	want := map[string]float64{"sp": 200, "ara": 200, "missing": 404, "after-missing": 424}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("batch statuses mismatch (-want +got):\n%s", diff)
	}
	stats := f.srv.Stats()
	if n := stats.GraphRoundTrips(tenantA); n != 1 {
		t.Errorf("round trips = %d, want 1", n)
	}
	if n := stats.BatchItems[RouteTenant{RouteServicePrincipals, tenantA}]; n != 2 {
		t.Errorf("servicePrincipals batch items = %d, want 2", n)
	}

	for _, bad := range []string{`{}`, `{"requests":[{"id":"a","method":"GET","url":"/x"},{"id":"A","method":"GET","url":"/y"}]}`, `not json`,
		`{"requests":[{"id":"a","method":"GET","url":"/x","dependsOn":["b"]}]}`} {
		st, _, body := f.graph(t, "POST", "/$batch", tok, strings.NewReader(bad), nil)
		if st != 400 {
			t.Errorf("batch %s: %d %v, want 400", bad, st, body)
		}
	}
	var many []string
	for i := range 21 {
		many = append(many, fmt.Sprintf(`{"id":"%d","method":"GET","url":"/organization"}`, i))
	}
	if st, _, _ := f.graph(t, "POST", "/$batch", tok, strings.NewReader(`{"requests":[`+strings.Join(many, ",")+`]}`), nil); st != 400 {
		t.Errorf("21 requests: %d, want 400", st)
	}
}

func TestFaults(t *testing.T) {
	f := newFixture(t, Options{Float64: rand.New(rand.NewPCG(1, 2)).Float64})
	tok := f.accessToken(t, tenantA, reader)
	get := func() (int, http.Header, map[string]any) {
		return f.graph(t, "GET", "/organization", tok, nil, nil)
	}

	remove := f.srv.AddFault(Fault{Route: RouteOrganization, Kind: FaultThrottle, RetryAfter: 2 * time.Second})
	st, hdr, body := get()
	if st != 429 || hdr.Get("Retry-After") != "2" || errorCode(body) != "TooManyRequests" {
		t.Errorf("throttle: %d %q %v", st, hdr.Get("Retry-After"), body)
	}
	_, _, _ = get() // arrives inside the announced window
	remove()
	if n := f.srv.Stats().InsideRetryAfter[RouteTenant{RouteOrganization, tenantA}]; n != 1 {
		t.Errorf("requests inside Retry-After = %d, want 1", n)
	}

	for _, tc := range []struct {
		kind       FaultKind
		wantStatus int
		wantCode   string
	}{
		{FaultUnavailable, 503, "ServiceUnavailable"},
		{FaultGatewayTimeout, 504, "GatewayTimeout"},
		{FaultForbidden, 403, "Authorization_RequestDenied"},
	} {
		remove := f.srv.AddFault(Fault{Route: "graph.*", Tenant: tenantA, Kind: tc.kind})
		st, _, body := get()
		remove()
		if st != tc.wantStatus || errorCode(body) != tc.wantCode {
			t.Errorf("%v: %d %v", tc.kind, st, body)
		}
	}

	remove = f.srv.AddFault(Fault{Kind: FaultTruncatedJSON})
	_, _, body = get()
	remove()
	if _, ok := body["_raw"]; !ok {
		t.Errorf("truncated: body parsed as JSON: %v", body)
	}
	remove = f.srv.AddFault(Fault{Kind: FaultMalformedJSON})
	st, _, body = get()
	remove()
	if _, ok := body["_raw"]; st != 200 || !ok {
		t.Errorf("malformed: %d %v", st, body)
	}

	// Schedule: skip one, fail two, then pass.
	remove = f.srv.AddFault(Fault{Route: RouteOrganization, Kind: FaultUnavailable, Skip: 1, Times: 2, RetryAfter: time.Millisecond})
	var seq []int
	for range 4 {
		st, _, _ := get()
		seq = append(seq, st)
	}
	remove()
	if diff := cmp.Diff([]int{200, 503, 503, 200}, seq); diff != "" {
		t.Errorf("schedule mismatch (-want +got):\n%s", diff)
	}

	// Fraction with a seeded source: deterministic and roughly the fraction.
	remove = f.srv.AddFault(Fault{Route: RouteOrganization, Kind: FaultGatewayTimeout, Probability: 0.3})
	failed := 0
	for range 100 {
		if st, _, _ := get(); st == 504 {
			failed++
		}
	}
	remove()
	if failed < 15 || failed > 45 {
		t.Errorf("fraction 0.3 of 100 requests failed %d times", failed)
	}

	// Hang: the client gives up.
	remove = f.srv.AddFault(Fault{Route: RouteOrganization, Kind: FaultHang})
	c := f.srv.Client()
	c.Timeout = 200 * time.Millisecond
	req, _ := http.NewRequest("GET", f.srv.GraphURL()+"/organization", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	if resp, err := c.Do(req); err == nil {
		resp.Body.Close()
		t.Errorf("hang: got a response %d", resp.StatusCode)
	}
	remove()

	// Batch item faults.
	remove = f.srv.AddFault(Fault{Route: RouteAppRoleAssignments, Kind: FaultThrottle, RetryAfter: 3 * time.Second})
	st, _, body = f.graph(t, "POST", "/$batch", tok, strings.NewReader(`{"requests":[{"id":"1","method":"GET","url":"/servicePrincipals(appId='`+appX+`')/appRoleAssignments"},{"id":"2","method":"GET","url":"/organization"}]}`), nil)
	remove()
	items := map[string]map[string]any{}
	for _, r := range body["responses"].([]any) {
		m := r.(map[string]any)
		items[m["id"].(string)] = m
	}
	if st != 200 || items["1"]["status"] != float64(429) || items["1"]["headers"].(map[string]any)["Retry-After"] != "3" || items["2"]["status"] != float64(200) {
		t.Errorf("batch item throttle: %d %v", st, body)
	}
	faults := f.srv.Stats().Faults
	keys := make([]string, 0, len(faults))
	for k := range faults {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if len(keys) < 7 {
		t.Errorf("fault counters: %v", faults)
	}
}

func TestConformanceFaultInjector(t *testing.T) {
	f := newFixture(t, Options{})
	tok := f.accessToken(t, tenantA, reader)
	clear, err := f.srv.InjectFault(tenantA, consenttest.FaultForbidden)
	must(t, err)
	if st, _, _ := f.graph(t, "GET", "/organization", tok, nil, nil); st != 403 {
		t.Errorf("forbidden fault: %d", st)
	}
	clear()
	if st, _, _ := f.graph(t, "GET", "/organization", tok, nil, nil); st != 200 {
		t.Errorf("after clear: %d", st)
	}
	if _, err := f.srv.InjectFault(tenantA, consenttest.FaultKind(99)); err == nil {
		t.Error("unknown fault kind accepted")
	}
}

func jsonDecode(r interface{ Read([]byte) (int, error) }, v any) error {
	var b bytes.Buffer
	if _, err := b.ReadFrom(r); err != nil {
		return err
	}
	return jsonUnmarshal(b.Bytes(), v)
}

func badSignature(jwt string) string {
	i := strings.LastIndex(jwt, ".")
	return jwt[:i+1] + base64.RawURLEncoding.EncodeToString(make([]byte, 256))
}

func slicesCompact(s []string) []string {
	var out []string
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}
