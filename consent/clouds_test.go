package consent_test

import (
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/tenantapps/tenantapps/consent"
)

// TestNationalCloudAuthorityImpliesGraph: a national cloud's authority implies its Graph
// endpoint (Microsoft Graph national cloud deployments); an explicit GraphEndpoint still wins.
func TestNationalCloudAuthorityImpliesGraph(t *testing.T) {
	tests := []struct {
		authority, graph, wantScope string
	}{
		{consent.PublicCloudAuthority, "", "https://graph.microsoft.com/.default"},
		{"", "", "https://graph.microsoft.com/.default"},
		{"https://LOGIN.microsoftonline.us/", "", "https://graph.microsoft.us/.default"},
		{consent.ChinaAuthority, "", "https://microsoftgraph.chinacloudapi.cn/.default"},
		{consent.USGovernmentAuthority, consent.USGovDoDGraph, "https://dod-graph.microsoft.us/.default"},
		{"http://127.0.0.1:8443", "", "https://graph.microsoft.com/.default"},
	}
	for _, tt := range tests {
		b := consent.URLBuilder{AuthorityHost: tt.authority, GraphEndpoint: tt.graph, RedirectURIs: []string{"https://portal.example/cb"}}
		u, _, err := b.UserConsentURL(consent.UserConsentRequest{Tenant: "6f1e2d3c-1111-4a5b-9c8d-000000000001", ClientID: "6f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b",
			RedirectURI: "https://portal.example/cb", State: "s"})
		if err != nil {
			t.Fatalf("%s: %v", tt.authority, err)
		}
		q, _ := url.ParseQuery(u.RawQuery)
		if got := q.Get("scope"); !slices.Contains(strings.Fields(got), tt.wantScope) {
			t.Errorf("authority %q graph %q: scope %q, want it to hold %s", tt.authority, tt.graph, got, tt.wantScope)
		}
	}
}
