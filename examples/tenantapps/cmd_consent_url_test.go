package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tenantapps/tenantapps/consent"
)

const (
	cliTenant   = "0b1f6c2e-8f0a-4a4e-9d2b-6c1d2e3f4a5b"
	cliClient   = "6f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b"
	cliRedirect = "https://portal.example/consent/callback"
)

var cliSecret = bytes.Repeat([]byte{0x5a}, 32)

func TestConsentURLRoundTrip(t *testing.T) {
	vars := map[string]string{envStateKey: base64.StdEncoding.EncodeToString(cliSecret), envStateKeyID: "ops-1"}
	codec, err := consent.NewStateCodec(consent.StateKey{ID: "ops-1", Secret: cliSecret})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		method, wantPath string
		extra            []string
	}{
		{"admin", "/" + cliTenant + "/v2.0/adminconsent", []string{"--app-type", "APElements Baseline Management"}},
		{"user", "/" + cliTenant + "/oauth2/v2.0/authorize", []string{"--app-type", "Viva Engage", "--service", "Cloud Governance", "--print-verifier"}},
	} {
		t.Run(tc.method, func(t *testing.T) {
			args := append([]string{"consent-url", "--format", "json", "--tenant", strings.ToUpper(cliTenant), "--client-id", cliClient,
				"--redirect-uri", cliRedirect, "--method", tc.method, "--profile-id", "p-7"}, tc.extra...)
			code, out, errOut := runCLIOpts(t, cliOpts{vars: vars}, args...)
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			var got consentURLJSON
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatal(err)
			}
			u, err := url.Parse(got.URL)
			if err != nil {
				t.Fatal(err)
			}
			if u.Host != "login.microsoftonline.com" || u.Path != tc.wantPath || u.Query().Get("redirect_uri") != cliRedirect {
				t.Errorf("URL %s", got.URL)
			}
			st, err := codec.Open(u.Query().Get("state"))
			if err != nil {
				t.Fatalf("state does not verify with the key: %v", err)
			}
			want := consentStateJSON{ProfileID: "p-7", Tenant: cliTenant, Method: consent.Method(tc.method), Nonce: st.Nonce, ExpiresAt: st.ExpiresAt}
			if diff := cmp.Diff(want, got.State); diff != "" {
				t.Errorf("state mismatch (-want +got):\n%s", diff)
			}
			if tc.method == "user" {
				if got.PKCEVerifier == "" || consent.PKCEVerifier(got.PKCEVerifier).Challenge() != u.Query().Get("code_challenge") {
					t.Errorf("verifier %q does not match the challenge", got.PKCEVerifier)
				}
			}
		})
	}
}

func TestConsentURLTableWithholdsVerifier(t *testing.T) {
	vars := map[string]string{envStateKey: base64.RawURLEncoding.EncodeToString(cliSecret)}
	code, out, errOut := runCLIOpts(t, cliOpts{vars: vars}, "consent-url", "--tenant", cliTenant, "--client-id", cliClient, "--redirect-uri", cliRedirect, "--method", "user")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "PKCE verifier withheld") || !strings.HasPrefix(out, "User consent URL (state for profile cli") {
		t.Errorf("output:\n%s", out)
	}
}

func TestConsentURLUsageErrors(t *testing.T) {
	key := map[string]string{envStateKey: base64.StdEncoding.EncodeToString(cliSecret)}
	base := []string{"consent-url", "--tenant", cliTenant, "--client-id", cliClient, "--redirect-uri", cliRedirect}
	for _, tc := range []struct {
		vars    map[string]string
		args    []string
		wantErr string
	}{
		{key, []string{"consent-url", "--client-id", cliClient, "--redirect-uri", cliRedirect}, "--tenant is required"},
		{nil, base, "TENANTAPPS_STATE_KEY is not set"},
		{map[string]string{envStateKey: "not base64!"}, base, "is not base64"},
		{map[string]string{envStateKey: base64.StdEncoding.EncodeToString([]byte("short"))}, base, "at least 32 random bytes"},
		{key, append(base, "--method", "user", "--app-type", "Fly App"), "allow no user consent"},
		{key, append(base, "--method", "delegated"), "unknown consent method"},
		{key, []string{"consent-url", "--tenant", "contoso.com", "--client-id", cliClient, "--redirect-uri", cliRedirect}, "is a domain name, not a tenant ID"},
		{key, []string{"consent-url", "--tenant", cliTenant, "--client-id", cliClient, "--redirect-uri", "http://portal.example/cb"}, "must use https"},
		{key, append(base, "--authority", "http://login.example"), "invalid authority host"},
		{key, append(base, "--ttl", "48h"), "out of range"},
	} {
		code, out, errOut := runCLIOpts(t, cliOpts{vars: tc.vars}, tc.args...)
		if code != exitUsage || !strings.Contains(errOut, tc.wantErr) || out != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 2 and %q", tc.args, code, out, errOut, tc.wantErr)
		}
		if strings.Contains(errOut, string(cliSecret)) || strings.Contains(errOut, tc.vars[envStateKey]) && tc.vars[envStateKey] != "" {
			t.Errorf("%v: the state key appears in stderr", tc.args)
		}
	}
}

// TestConsentURLNationalCloud: --authority of a national cloud implies its Graph endpoint for
// the default scope; --graph still overrides it.
func TestConsentURLNationalCloud(t *testing.T) {
	vars := map[string]string{envStateKey: base64.StdEncoding.EncodeToString(cliSecret)}
	for _, tc := range []struct {
		extra     []string
		wantScope string
	}{
		{[]string{"--authority", "https://login.microsoftonline.us"}, "https://graph.microsoft.us/.default"},
		{[]string{"--authority", "https://login.chinacloudapi.cn"}, "https://microsoftgraph.chinacloudapi.cn/.default"},
		{[]string{"--authority", "https://login.microsoftonline.us", "--graph", "https://dod-graph.microsoft.us"}, "https://dod-graph.microsoft.us/.default"},
	} {
		args := append([]string{"consent-url", "--format", "json", "--tenant", cliTenant, "--client-id", cliClient, "--redirect-uri", cliRedirect, "--method", "user"}, tc.extra...)
		code, out, errOut := runCLIOpts(t, cliOpts{vars: vars}, args...)
		if code != exitOK {
			t.Fatalf("%v: exit %d: %s", tc.extra, code, errOut)
		}
		var got consentURLJSON
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatal(err)
		}
		u, err := url.Parse(got.URL)
		if err != nil {
			t.Fatal(err)
		}
		if scopes := strings.Fields(u.Query().Get("scope")); !slices.Contains(scopes, tc.wantScope) {
			t.Errorf("%v: scope %v, want %s", tc.extra, scopes, tc.wantScope)
		}
	}
}
