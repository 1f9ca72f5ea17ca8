package graphtest

import (
	"net/url"
	"strings"
	"testing"
)

// BenchmarkTokenClientCredentials measures the emulator's token endpoint: assertion parsing,
// PS256 verification against the registered certificate, jti bookkeeping and token signing.
func BenchmarkTokenClientCredentials(b *testing.B) {
	f := newFixture(b, Options{})
	tokenURL := f.srv.URL + "/" + tenantA + "/oauth2/v2.0/token"
	b.ReportAllocs()
	for b.Loop() {
		form := url.Values{"grant_type": {"client_credentials"}, "client_id": {appX}, "scope": {"https://graph.microsoft.com/.default"},
			"client_assertion_type": {assertionType}, "client_assertion": {assertion(b, f.cert, appX, tokenURL, nil)}}
		resp, err := f.http.PostForm(tokenURL, form)
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
}

// BenchmarkBatch measures a four-item $batch (the driver's AppState shape).
func BenchmarkBatch(b *testing.B) {
	f := newFixture(b, Options{})
	tok := f.accessToken(b, tenantA, reader)
	base := "/servicePrincipals(appId='" + appX + "')"
	body := `{"requests":[{"id":"1","method":"GET","url":"` + base + `"},{"id":"2","method":"GET","url":"` + base + `/appRoleAssignments"},` +
		`{"id":"3","method":"GET","url":"` + base + `/oauth2PermissionGrants"},{"id":"4","method":"GET","url":"` + base + `/memberOf/microsoft.graph.directoryRole"}]}`
	b.ReportAllocs()
	for b.Loop() {
		st, _, _ := f.graph(b, "POST", "/$batch", tok, strings.NewReader(body), map[string]string{"Content-Type": "application/json"})
		if st != 200 {
			b.Fatalf("status %d", st)
		}
	}
}
