package main

import (
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tenantapps/tenantapps/consent"
	"github.com/tenantapps/tenantapps/examples/internal/demo"
)

// TestWhoMayConsentIsGenerated: the pages say who may consent in the words of the consent rules
// that BeginConsent checks, so they cannot disagree with it: for APElements Automation (an
// Elements premium app) that is a Global Administrator, not a Privileged Role Administrator.
func TestWhoMayConsentIsGenerated(t *testing.T) {
	tp := newTestPortal(t)
	r := tp.postMultipart("/profiles", map[string][]string{"csrf": {tp.csrf()}, "customer": {demo.CustomerName}, "tenant": {demo.CustomerTenantID},
		"service": {"Nitro"}, "mode": {"modern"}}, nil)
	want, err := consent.WhoMayConsent(consent.Target{AppType: "APElements Automation", Service: "Nitro"}, consent.AdminConsent)
	if err != nil {
		t.Fatal(err)
	}
	if body := html.UnescapeString(r.body); !strings.Contains(body, "Who may consent: "+want+".") {
		t.Errorf("the consent step does not say %q:\n%s", want, r.body)
	}
	ids := createdRE.FindAllStringSubmatch(r.body, -1)
	if len(ids) != 1 {
		t.Fatalf("created %d profiles, want 1", len(ids))
	}
	page := html.UnescapeString(tp.get("/profiles/" + ids[0][1] + "/reauthorize").body)
	if !strings.Contains(page, "Who may consent: "+want+".") || strings.Contains(page, "Privileged Role Administrator)") {
		t.Errorf("the re-authorize page does not say who may consent as the rules do (%q):\n%s", want, page)
	}

	// An account the rules refuse: the page says what it lacks, once, and leads back.
	r = tp.post("/profiles/"+ids[0][1]+"/consent", url.Values{"csrf": {tp.csrf()}, "account": {demo.InsightsUPN}})
	body := html.UnescapeString(r.body)
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(body, "This account cannot consent: the consenting account needs the Global Administrator role.") ||
		!strings.Contains(body, `href="/profiles/`+ids[0][1]+`/reauthorize"`) {
		t.Errorf("refused consent: %d\n%s", r.status, body)
	}
}
