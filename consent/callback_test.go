package consent

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const tenantA = "0b1f6c2e-8f0a-4a4e-9d2b-6c1d2e3f4a5b"

func TestParseCallback(t *testing.T) {
	tests := []struct {
		name    string
		query   string
		want    Callback
		wantErr error // nil for success
	}{
		{name: "admin consent success",
			query: "admin_consent=True&tenant=" + strings.ToUpper(tenantA) + "&scope=https://graph.microsoft.com/User.Read.All+https://graph.microsoft.com/Group.Read.All&state=s1",
			want:  Callback{Flow: AdminConsentFlow, AdminConsent: true, Tenant: tenantA, State: "s1", Scopes: []string{"https://graph.microsoft.com/User.Read.All", "https://graph.microsoft.com/Group.Read.All"}}},
		{name: "admin consent v1 form without scope, lower-case true",
			query: "admin_consent=true&tenant=" + tenantA + "&state=s1",
			want:  Callback{Flow: AdminConsentFlow, AdminConsent: true, Tenant: tenantA, State: "s1"}},
		{name: "authorization code",
			query: "code=0.AAA-secret-code&state=s2&session_state=abc",
			want:  Callback{Flow: AuthorizationCodeFlow, Code: "0.AAA-secret-code", State: "s2"}},
		{name: "admin consent declined with AADSTS65004",
			query:   "admin_consent=True&error=consent_required&error_description=AADSTS65004%3a+The+resource+owner+or+authorization+server+denied+the+request.%0d%0aTrace+ID%3a+1&state=s3",
			want:    Callback{Flow: AdminConsentFlow, AdminConsent: true, State: "s3", Error: "consent_required", ErrorDescription: "AADSTS65004: The resource owner or authorization server denied the request.\r\nTrace ID: 1"},
			wantErr: ErrConsentDeclined},
		{name: "v1 admin cancel without state",
			query:   "error=permission_denied&error_description=The+admin+canceled+the+request",
			want:    Callback{Error: "permission_denied", ErrorDescription: "The admin canceled the request"},
			wantErr: ErrConsentDeclined},
		{name: "user consent blocked by conditional access",
			query:   "error=access_denied&error_description=AADSTS53003%3a+Access+has+been+blocked&state=s4",
			want:    Callback{State: "s4", Error: "access_denied", ErrorDescription: "AADSTS53003: Access has been blocked"},
			wantErr: ErrBlockedByConditionalAccess},
		{name: "error drops a code",
			query:   "code=c&error=interaction_required&error_description=AADSTS50076%3a+MFA&state=s5",
			want:    Callback{Flow: AuthorizationCodeFlow, State: "s5", Error: "interaction_required", ErrorDescription: "AADSTS50076: MFA"},
			wantErr: ErrMFARequired},
		{name: "admin_consent False without error is a decline",
			query:   "admin_consent=False&tenant=" + tenantA + "&state=s6",
			want:    Callback{Flow: AdminConsentFlow, Tenant: tenantA, State: "s6"},
			wantErr: ErrConsentDeclined},
		{name: "repeated state", query: "code=c&state=a&state=b", wantErr: ErrMalformedCallback},
		{name: "repeated tenant", query: "admin_consent=True&tenant=" + tenantA + "&tenant=" + tenantA + "&state=s", wantErr: ErrMalformedCallback},
		{name: "no state", query: "code=c", wantErr: ErrMalformedCallback},
		{name: "admin consent without tenant", query: "admin_consent=True&state=s", wantErr: ErrMalformedCallback},
		{name: "tenant not a GUID", query: "admin_consent=True&tenant=contoso.com&state=s", wantErr: ErrMalformedCallback},
		{name: "admin_consent yes", query: "admin_consent=yes&tenant=" + tenantA + "&state=s", wantErr: ErrMalformedCallback},
		{name: "admin_consent empty", query: "admin_consent=&tenant=" + tenantA + "&state=s", wantErr: ErrMalformedCallback},
		{name: "both code and admin_consent", query: "admin_consent=True&code=c&tenant=" + tenantA + "&state=s", wantErr: ErrMalformedCallback},
		{name: "nothing", query: "state=s", wantErr: ErrMalformedCallback},
		{name: "empty", query: "", wantErr: ErrMalformedCallback},
		{name: "state too long", query: "code=c&state=" + strings.Repeat("a", maxStateLen+1), wantErr: ErrMalformedCallback},
		{name: "invalid UTF-8", query: "code=c&state=%ff", wantErr: ErrMalformedCallback},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := url.ParseQuery(tt.query)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ParseCallback(q)
			if tt.wantErr == nil && err != nil {
				t.Fatalf("ParseCallback: %v", err)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("ParseCallback error = %v, want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseCallback mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseCallbackURL(t *testing.T) {
	u, _ := url.Parse("https://portal.example/consent/callback?admin_consent=True&tenant=" + tenantA + "&state=xyz")
	got, err := ParseCallbackURL(u)
	if err != nil {
		t.Fatal(err)
	}
	if got.Tenant != tenantA || got.State != "xyz" || !got.AdminConsent {
		t.Errorf("ParseCallbackURL = %+v", got)
	}
	if _, err := ParseCallbackURL(nil); !errors.Is(err, ErrMalformedCallback) {
		t.Errorf("nil URL: %v", err)
	}
	if _, err := ParseCallbackURL(&url.URL{RawQuery: "code=%zz&state=s"}); !errors.Is(err, ErrMalformedCallback) {
		t.Errorf("bad escape: %v", err)
	}
}

func TestCallbackStringRedactsCode(t *testing.T) {
	c := Callback{Flow: AuthorizationCodeFlow, Code: "0.AAA-super-secret", State: "s"}
	if s := c.String(); strings.Contains(s, "super-secret") || !strings.Contains(s, "[redacted]") {
		t.Errorf("String() = %q", s)
	}
}

func FuzzParseCallback(f *testing.F) {
	f.Add("admin_consent=True&tenant=" + tenantA + "&scope=a+b&state=s1")
	f.Add("code=abc&state=s2")
	f.Add("admin_consent=True&error=consent_required&error_description=AADSTS65004%3a+x&state=s3")
	f.Add("error=access_denied")
	f.Add("admin_consent=FALSE&tenant=" + tenantA + "&state=s")
	f.Add("code=c&state=a&state=b")
	f.Add("error=access_denied&error_subcode=cancel&state=s")
	f.Add("admin_consent=True&tenant=contoso.example&error=temporarily_unavailable&error_description=busy")
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		c, err := ParseCallback(q)
		if err != nil {
			if errors.Is(err, ErrMalformedCallback) && !cmp.Equal(c, Callback{}) {
				t.Fatalf("malformed callback returned fields: %+v", c)
			}
			_ = err.Error()
			return
		}
		// Every accepted callback round-trips its fields.
		again, err := ParseCallback(c.Values())
		if err != nil {
			t.Fatalf("re-parsing %v: %v", c.Values(), err)
		}
		if diff := cmp.Diff(c, again); diff != "" {
			t.Fatalf("round trip mismatch (-first +second):\n%s", diff)
		}
		if c.State == "" || (c.Flow == AdminConsentFlow && (c.Tenant == "" || !c.AdminConsent)) || (c.Flow == AuthorizationCodeFlow && c.Code == "") {
			t.Fatalf("accepted an incomplete callback: %+v", c)
		}
	})
}

func BenchmarkParseCallback(b *testing.B) {
	q := url.Values{"admin_consent": {"True"}, "tenant": {tenantA}, "state": {strings.Repeat("s", 200)}, "scope": {"https://graph.microsoft.com/User.Read.All https://graph.microsoft.com/Group.Read.All"}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseCallback(q); err != nil {
			b.Fatal(err)
		}
	}
}

// TestCallbackContract covers the callback shapes Microsoft documents that an earlier parser
// mishandled (issue 13): error_subcode, the retryable server_error and temporarily_unavailable,
// a stateless error, and a non-GUID tenant in an error callback.
func TestCallbackContract(t *testing.T) {
	tests := []struct {
		name        string
		query       string
		wantErr     error
		wantSubcode string
		retryable   bool
	}{
		// MSAL reads error_subcode=cancel as the user cancelling
		// (AzureAD/microsoft-authentication-library-for-dotnet AuthorizationResult.FromUri).
		{"cancel with subcode", "error=access_denied&error_subcode=cancel&state=s1", ErrConsentDeclined, "cancel", false},
		// entra-docs docs/identity-platform/v2-oauth2-auth-code-flow.md: "Retry the request".
		{"server_error", "error=server_error&error_description=AADSTS50000%3a+There+was+an+error&state=s1", ErrEntraUnavailable, "", true},
		{"temporarily_unavailable", "error=temporarily_unavailable&error_description=busy&state=s1", ErrEntraUnavailable, "", true},
		// entra-docs docs/identity-platform/v2-admin-consent.md: the error example has no state.
		{"stateless admin-consent error", "error=permission_denied&error_description=The+admin+canceled+the+request", ErrConsentDeclined, "", false},
		{"non-GUID tenant in an error callback", "admin_consent=True&tenant=contoso.onmicrosoft.com&error=access_denied&error_description=AADSTS65004%3a+declined&state=s1", ErrConsentDeclined, "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q, err := url.ParseQuery(tc.query)
			if err != nil {
				t.Fatal(err)
			}
			cb, err := ParseCallback(q)
			var ae *AADSTSError
			if !errors.As(err, &ae) || !errors.Is(err, tc.wantErr) || errors.Is(err, ErrMalformedCallback) {
				t.Fatalf("ParseCallback(%s) error = %v; want a *AADSTSError wrapping %v", tc.query, err, tc.wantErr)
			}
			if ae.Subcode != tc.wantSubcode || cb.ErrorSubcode != tc.wantSubcode {
				t.Errorf("subcode = %q / %q, want %q", ae.Subcode, cb.ErrorSubcode, tc.wantSubcode)
			}
			if ae.Retryable() != tc.retryable {
				t.Errorf("Retryable() = %v, want %v", ae.Retryable(), tc.retryable)
			}
			if cb.Tenant != "" && cb.Tenant != tenantA {
				t.Errorf("Tenant = %q: a non-GUID tenant must be dropped", cb.Tenant)
			}
			if cb.State == "" {
				// A stateless error is the consent failure it reports, not a forged state.
				codec := newCodec(t, &fakeClock{now: time.Unix(1_800_000_000, 0)}, keyNew)
				if _, verr := codec.VerifyCallback(cb); !errors.Is(verr, tc.wantErr) || errors.Is(verr, ErrStateMalformed) {
					t.Errorf("VerifyCallback(stateless error) = %v; want %v, not a bad state", verr, tc.wantErr)
				}
			}
		})
	}
}
