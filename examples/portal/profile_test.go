package main

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/tenantapps/tenantapps/examples/internal/demo"
)

var historyRowRE = regexp.MustCompile(`<tr class="history" data-seq="\d+">`)

// TestProfilePageShowsHistory: the profile page lists what the checks saw change, newest first:
// the consent, then a revoked grant that made the profile invalid.
func TestProfilePageShowsHistory(t *testing.T) {
	tp := newTestPortal(t)
	id := tp.create("Nitro")[0]
	if r := tp.consent(id, demo.AdminUPN); r.status != http.StatusSeeOther {
		t.Fatalf("consent: %d\n%s", r.status, r.body)
	}
	if r := tp.post("/demo", url.Values{"csrf": {tp.csrf()}, "action": {"revoke-grant"}, "profile": {id}}); r.status != http.StatusSeeOther {
		t.Fatalf("demo change: %d\n%s", r.status, r.body)
	}
	if r := tp.post("/profiles/"+id+"/verify", url.Values{"csrf": {tp.csrf()}}); r.status != http.StatusSeeOther {
		t.Fatalf("verify: %d\n%s", r.status, r.body)
	}
	if !strings.Contains(tp.get("/profiles").body, `href="/profiles/`+id+`"`) {
		t.Error("the list does not link to the profile page")
	}
	r := tp.get("/profiles/" + id)
	if r.status != http.StatusOK {
		t.Fatalf("profile page: %d\n%s", r.status, r.body)
	}
	if n := len(historyRowRE.FindAllString(r.body, -1)); n != 2 {
		t.Errorf("profile page shows %d history rows, want 2 (consent, revoked grant):\n%s", n, r.body)
	}
	revoked := strings.Index(r.body, "− grants:")
	consented := strings.Index(r.body, "Consented (admin) by "+demo.AdminUPN)
	if revoked < 0 || consented < 0 || revoked > consented {
		t.Errorf("history: revoked grant at %d, consent at %d; want both, newest first:\n%s", revoked, consented, r.body)
	}
	if !strings.Contains(r.body, "valid → invalid") || !strings.Contains(r.body, "+ grant-missing") {
		t.Errorf("history does not show the status change and its reason:\n%s", r.body)
	}
	if r := tp.get("/profiles/no-such-profile"); r.status != http.StatusNotFound {
		t.Errorf("unknown profile: %d, want 404", r.status)
	}
}
