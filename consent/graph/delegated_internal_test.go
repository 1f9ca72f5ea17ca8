package graph

import (
	"encoding/json"
	"strings"
	"testing"
)

// A token cached for ".default" is refreshed for ".default" alone: Entra refuses ".default"
// mixed with other scopes of its resource.
func TestCachedScopesPreferDefault(t *testing.T) {
	const user = "0f0f0f0f-0000-4000-8000-000000000001"
	mk := func(target string) []byte {
		b, _ := json.Marshal(map[string]any{"AccessToken": map[string]any{
			"k": map[string]string{"home_account_id": user + ".t", "target": target}}})
		return b
	}
	for target, want := range map[string]string{
		"https://graph.microsoft.com/User.Read openid profile offline_access https://graph.microsoft.com/.default": "https://graph.microsoft.com/.default",
		"https://graph.microsoft.com/User.Read openid profile offline_access":                                      "https://graph.microsoft.com/User.Read",
	} {
		if got := strings.Join(cachedScopes(mk(target), user), " "); got != want {
			t.Errorf("cachedScopes(%q) = %q, want %q", target, got, want)
		}
	}
}
