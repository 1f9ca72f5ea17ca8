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

// TestProfilePageAcceptDeviation: each reason on the profile page offers to accept it; a missing
// grant (an Invalid state of the product rules) is refused with the Manager's explanation, and
// the profile stays invalid.
func TestProfilePageAcceptDeviation(t *testing.T) {
	tp := newTestPortal(t)
	id := tp.create("Nitro")[0]
	tp.consent(id, demo.AdminUPN)
	tp.post("/demo", url.Values{"csrf": {tp.csrf()}, "action": {"revoke-grant"}, "profile": {id}})
	tp.post("/profiles/"+id+"/verify", url.Values{"csrf": {tp.csrf()}})
	page := tp.get("/profiles/" + id).body
	if !strings.Contains(page, `action="/profiles/`+id+`/accept"`) || !strings.Contains(page, `name="code" value="grant-missing"`) {
		t.Fatalf("the profile page offers no acceptance of grant-missing:\n%s", page)
	}
	r := tp.post("/profiles/"+id+"/accept", url.Values{"csrf": {tp.csrf()}, "code": {"grant-missing"}, "by": {"ops"}, "why": {"later"}, "days": {"7"}})
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "Not accepted") || !strings.Contains(r.body, "invalid") {
		t.Errorf("accepting a missing grant: %d\n%s", r.status, r.body)
	}
	if r := tp.post("/profiles/"+id+"/accept", url.Values{"csrf": {tp.csrf()}, "code": {"grant-missing"}, "by": {"ops"}, "why": {"later"}, "days": {"x"}}); r.status != http.StatusUnprocessableEntity {
		t.Errorf("accepting for x days: %d, want 422", r.status)
	}
	if r := tp.post("/profiles/"+id+"/accept", url.Values{"code": {"grant-missing"}, "by": {"ops"}, "why": {"later"}, "days": {"7"}}); r.status != http.StatusForbidden {
		t.Errorf("accepting without the CSRF token: %d, want 403", r.status)
	}
	if got := tp.statuses("?status=invalid"); len(got) != 1 {
		t.Errorf("after the refused acceptance: %v, want the profile still invalid", got)
	}
}

// TestProfilePageWithdrawAcceptance: an accepted deviation is listed with a Withdraw form;
// withdrawing it (who and why from the form) ends the acceptance, and the history says so.
func TestProfilePageWithdrawAcceptance(t *testing.T) {
	tp := newTestPortal(t)
	id := tp.create("Baseline management")[0]
	if r := tp.consent(id, demo.AdminUPN); r.status != http.StatusSeeOther {
		t.Fatalf("consent: %d\n%s", r.status, r.body)
	}
	page := tp.get("/profiles/" + id).body
	if !strings.Contains(page, `name="code" value="role-pending"`) {
		t.Fatalf("the consented Baseline profile offers no role-pending to accept:\n%s", page)
	}
	if r := tp.post("/profiles/"+id+"/accept", url.Values{"csrf": {tp.csrf()}, "code": {"role-pending"}, "by": {"ops"}, "why": {"Entra assigns them"}, "days": {"2"}}); r.status != http.StatusSeeOther {
		t.Fatalf("accept: %d\n%s", r.status, r.body)
	}
	page = tp.get("/profiles/" + id).body
	m := regexp.MustCompile(`name="acceptance" value="([^"]+)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("the accepted deviation has no Withdraw form:\n%s", page)
	}
	if r := tp.post("/profiles/"+id+"/withdraw", url.Values{"csrf": {tp.csrf()}, "acceptance": {m[1]}, "by": {"lead"}}); r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "Why") {
		t.Errorf("withdrawing without a why: %d, want 422 naming Why\n%s", r.status, r.body)
	}
	if r := tp.post("/profiles/"+id+"/withdraw", url.Values{"acceptance": {m[1]}, "by": {"lead"}, "why": {"mistake"}}); r.status != http.StatusForbidden {
		t.Errorf("withdrawing without the CSRF token: %d, want 403", r.status)
	}
	r := tp.post("/profiles/"+id+"/withdraw", url.Values{"csrf": {tp.csrf()}, "acceptance": {m[1]}, "by": {"lead"}, "why": {"accepted by mistake"}})
	if r.status != http.StatusSeeOther || !strings.Contains(r.location, "flash=withdrawn") {
		t.Fatalf("withdraw: %d %s\n%s", r.status, r.location, r.body)
	}
	page = tp.get("/profiles/" + id).body
	if strings.Contains(page, `name="acceptance"`) || !strings.Contains(page, `name="code" value="role-pending"`) {
		t.Errorf("after withdrawing, the acceptance is still listed or role-pending is not offered again:\n%s", page)
	}
	if !strings.Contains(page, "Acceptance of role-pending ended (withdrawn by lead: accepted by mistake)") {
		t.Errorf("the history does not show the withdrawal:\n%s", page)
	}
}
