package consenttest_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantapps/tenantapps/consent"
	"github.com/tenantapps/tenantapps/consent/consenttest"
)

func TestParseScope(t *testing.T) {
	type result struct {
		Resource, Value string
		OK              bool
	}
	tests := []struct {
		in   string
		want result
	}{
		{"https://graph.microsoft.com/User.Read", result{consent.MicrosoftGraphAppID, "User.Read", true}},
		{"HTTPS://GRAPH.MICROSOFT.COM/Mail.Read", result{consent.MicrosoftGraphAppID, "Mail.Read", true}},
		{"User.Read", result{consent.MicrosoftGraphAppID, "User.Read", true}},
		{"offline_access", result{consent.MicrosoftGraphAppID, "offline_access", true}},
		{" openid ", result{consent.MicrosoftGraphAppID, "openid", true}},
		{"https://outlook.office365.com/EWS.AccessAsUser.All", result{consent.ExchangeOnlineAppID, "EWS.AccessAsUser.All", true}},
		{"https://contoso.sharepoint.com/AllSites.Read", result{consent.SharePointOnlineAppID, "AllSites.Read", true}},
		{"00000003-0000-0000-c000-000000000000/User.Read", result{consent.MicrosoftGraphAppID, "User.Read", true}},
		{"https://graph.microsoft.com/.default", result{}},
		{".default", result{}},
		{"", result{}},
		{"https://graph.microsoft.com/", result{}},
		{"/User.Read", result{}},
		{"User.Read Mail.Read", result{}},
		{"https://unknown.example/Do.Things", result{}},
		{"http://contoso.sharepoint.com/AllSites.Read", result{}},
		{"https://contoso.sharepoint.com/sites/x/AllSites.Read", result{}},
	}
	for _, tt := range tests {
		var got result
		got.Resource, got.Value, got.OK = consenttest.ParseScope(tt.in)
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("ParseScope(%q) mismatch (-want +got):\n%s", tt.in, diff)
		}
	}
}

func FuzzParseScope(f *testing.F) {
	for _, s := range []string{"https://graph.microsoft.com/User.Read", "User.Read", "", "/", "a/b/c", "00000003-0000-0000-c000-000000000000/x", "https://x.sharepoint.com/y", "%zz/\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		res, val, ok := consenttest.ParseScope(in)
		if !ok {
			if res != "" || val != "" {
				t.Errorf("ParseScope(%q) = %q, %q, false; want empty results when not ok", in, res, val)
			}
			return
		}
		if res == "" || val == "" || val == ".default" || strings.ContainsAny(val, " \t\r\n/") {
			t.Errorf("ParseScope(%q) = %q, %q, true: invalid result", in, res, val)
		}
		// The value is the scope's last segment.
		if !strings.HasSuffix(strings.TrimSpace(in), val) {
			t.Errorf("ParseScope(%q) value %q is not the scope's suffix", in, val)
		}
	})
}

func TestScopeWithin(t *testing.T) {
	const sub = "/subscriptions/s1"
	tests := []struct {
		scope, parent string
		want          bool
	}{
		{sub, sub, true},
		{sub + "/", sub, true},
		{sub, sub + "/", true},
		{sub + "/resourceGroups/rg", sub, true},
		{"/SUBSCRIPTIONS/S1/resourceGroups/rg", sub, true},
		{"/subscriptions/s10", sub, false},
		{sub, sub + "/resourceGroups/rg", false},
		{sub, "", true},
		{"", sub, false},
	}
	for _, tt := range tests {
		if got := consenttest.ScopeWithin(tt.scope, tt.parent); got != tt.want {
			t.Errorf("ScopeWithin(%q, %q) = %v, want %v", tt.scope, tt.parent, got, tt.want)
		}
	}
}

func FuzzScopeWithin(f *testing.F) {
	f.Add("/subscriptions/s1/resourceGroups/rg", "/subscriptions/s1")
	f.Add("/a", "/a/")
	f.Add("", "")
	f.Fuzz(func(t *testing.T, scope, parent string) {
		got := consenttest.ScopeWithin(scope, parent)
		if !consenttest.ScopeWithin(scope, "") {
			t.Errorf("ScopeWithin(%q, \"\") = false", scope)
		}
		if consenttest.ScopeWithin(scope, scope) != true {
			t.Errorf("ScopeWithin(%q, itself) = false", scope)
		}
		// Within is transitive through the child itself.
		if got && !consenttest.ScopeWithin(scope+"/child", parent) {
			t.Errorf("ScopeWithin(%q, %q) but not its child", scope, parent)
		}
	})
}
