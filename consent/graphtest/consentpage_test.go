package graphtest

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestConsentPageAsksForTheAccount: the "Signed in as" field is required, and accepting with it
// empty shows the page again with what to enter, not AADSTS50034 (an unknown account).
func TestConsentPageAsksForTheAccount(t *testing.T) {
	f, _, _ := consentFixture(t)
	resp, err := f.http.Get(f.consentURL(tenantB, nil))
	must(t, err)
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(page), `name="graphtest_user" value="" required `) {
		t.Errorf("the Signed in as field is not required:\n%s", page)
	}
	form := url.Values{"client_id": {appX}, "redirect_uri": {userRO}, "state": {"s-123"}, "scope": {"https://graph.microsoft.com/.default"},
		"graphtest_decision": {"accept"}, "graphtest_user": {"  "}}
	resp, err = f.http.PostForm(f.srv.URL+"/"+tenantB+"/v2.0/adminconsent", form)
	must(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || strings.Contains(string(body), "AADSTS50034") ||
		!strings.Contains(string(body), `id="problem">Enter the user principal name`) || !strings.Contains(string(body), `name="state" value="s-123"`) {
		t.Errorf("accept with no account: %d\n%s", resp.StatusCode, body)
	}
}
