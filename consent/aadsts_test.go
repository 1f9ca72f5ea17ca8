package consent

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseAADSTS(t *testing.T) {
	tests := []struct {
		in   string
		code int
		ok   bool
	}{
		{"AADSTS65004: The resource owner or authorization server denied the request.\r\nTrace ID: 1", 65004, true},
		{"error AADSTS700016: Application with identifier 'x' was not found", 700016, true},
		{"AADSTS: no digits, then AADSTS50076 later", 50076, true},
		{"AADSTS1234567890 is too long", 0, false},
		{"AADSTS1234567890 too long, AADSTS53003 fine", 53003, true},
		{"aadsts65004 lower case is not Entra's format", 0, false},
		{"", 0, false},
		{"AADSTS", 0, false},
	}
	for _, tt := range tests {
		code, ok := ParseAADSTS(tt.in)
		if code != tt.code || ok != tt.ok {
			t.Errorf("ParseAADSTS(%q) = %d, %t; want %d, %t", tt.in, code, ok, tt.code, tt.ok)
		}
	}
}

func TestErrorFromAADSTS(t *testing.T) {
	tests := []struct {
		errCode, desc string
		sentinel      error
		code          int
	}{
		{"consent_required", "AADSTS65004: The resource owner or authorization server denied the request.", ErrConsentDeclined, 65004},
		{"access_denied", "AADSTS90094: The grant requires admin permission.", ErrAdminApprovalRequired, 90094},
		{"access_denied", "AADSTS90099: The application has not been authorized in the tenant.", ErrAdminApprovalRequired, 90099},
		{"invalid_grant", "AADSTS65001: The user or administrator has not consented to use the application.", ErrConsentRequired, 65001},
		{"unauthorized_client", "AADSTS700016: Application with identifier 'app' was not found in the directory 'contoso'.", ErrAppNotInTenant, 700016},
		{"invalid_request", "AADSTS50020: User account from identity provider does not exist in tenant.", ErrUserFromOtherTenant, 50020},
		{"access_denied", "AADSTS53003: Access has been blocked by Conditional Access policies.", ErrBlockedByConditionalAccess, 53003},
		{"interaction_required", "AADSTS50076: Due to a configuration change made by your administrator, you must use multi-factor authentication.", ErrMFARequired, 50076},
		{"interaction_required", "AADSTS50079: The user is required to use multi-factor authentication.", ErrMFARequired, 50079},
		{"invalid_grant", "AADSTS50173: The provided grant has expired due to it being revoked.", ErrGrantExpired, 50173},
		{"invalid_grant", "AADSTS700082: The refresh token has expired due to inactivity.", ErrGrantExpired, 700082},
		{"invalid_request", "AADSTS50011: The redirect URI specified in the request does not match.", ErrRedirectURIMismatch, 50011},
		{"access_denied", "the user canceled", ErrConsentDeclined, 0},
		{"permission_denied", "The admin canceled the request", ErrConsentDeclined, 0},
		{"consent_required", "", ErrConsentRequired, 0},
		{"server_error", "AADSTS90002: Tenant not found.", ErrConsentFailed, 90002},
		{"invalid_request", "AADSTS90002: Tenant not found.", ErrTenantNotFound, 90002},
		{"unauthorized_client", "AADSTS700016: Application not found.", ErrNotConsented, 700016},
		{"invalid_grant", "AADSTS50173: The provided grant has expired.", ErrInvalidGrant, 50173},
		{"invalid_grant", "AADSTS54005: OAuth2 Authorization code was already redeemed.", ErrInvalidGrant, 54005},
		{"invalid_grant", "AADSTS54005: OAuth2 Authorization code was already redeemed.", ErrConsentFailed, 54005},
		{"invalid_grant", "AADSTS70008: The provided authorization code or refresh token has expired.", ErrGrantExpired, 70008},
		{"invalid_client", "AADSTS700027: Client assertion failed signature validation.", ErrInvalidCredential, 700027},
		{"invalid_client", "AADSTS7000215: Invalid client secret provided.", ErrInvalidCredential, 7000215},
		{"invalid_client", "AADSTS7000222: The provided client secret keys are expired.", ErrInvalidCredential, 7000222},
		{"invalid_client", "AADSTS700024: Client assertion is not within its valid time range.", ErrInvalidCredential, 700024},
		{"unauthorized_client", "AADSTS7000112: Application is disabled.", ErrAppDisabled, 7000112},
		{"", "something odd", ErrConsentFailed, 0},
	}
	for _, tt := range tests {
		err := ErrorFromAADSTS(tt.errCode, tt.desc)
		var ae *AADSTSError
		if !errors.As(err, &ae) {
			t.Fatalf("ErrorFromAADSTS(%q, %q) = %v, not *AADSTSError", tt.errCode, tt.desc, err)
		}
		if !errors.Is(err, tt.sentinel) || ae.Code != tt.code || ae.OAuthError != tt.errCode {
			t.Errorf("ErrorFromAADSTS(%q, %q) = %#v (%v); want code %d wrapping %v", tt.errCode, tt.desc, ae, err, tt.code, tt.sentinel)
		}
		if ae.Remediation() == "" || strings.HasPrefix(ae.Remediation(), "look up") && tt.code != 0 && tt.sentinel != ErrConsentFailed || !strings.Contains(err.Error(), ae.Remediation()) {
			t.Errorf("%v: message lacks remediation", err)
		}
	}
	if err := ErrorFromAADSTS("", ""); err != nil {
		t.Errorf("ErrorFromAADSTS(\"\", \"\") = %v, want nil", err)
	}
}

func TestAADSTSErrorMessage(t *testing.T) {
	err := ErrorFromAADSTS("consent_required", "AADSTS65004: The resource owner or authorization server denied the request.\r\nTrace ID: 0d5f\r\nCorrelation ID: 9c1e\r\nTimestamp: 2026-11-25 04:00:00Z")
	want := "consent: Microsoft Entra ID AADSTS65004 (consent_required): The resource owner or authorization server denied the request; the account declined the consent prompt; start consent again and accept the requested permissions"
	if diff := cmp.Diff(want, err.Error()); diff != "" {
		t.Errorf("message mismatch (-want +got):\n%s", diff)
	}
}

func TestAADSTSDescriptionIsCleaned(t *testing.T) {
	long := "AADSTS53003: " + strings.Repeat("é", 2000)
	err := ErrorFromAADSTS("access_denied\x1b[31m", long+"\nsecond line")
	var ae *AADSTSError
	errors.As(err, &ae)
	if len(ae.Description) > maxDescription || strings.Contains(ae.Description, "second line") {
		t.Errorf("description not cut: %d bytes", len(ae.Description))
	}
	if strings.ContainsAny(ae.OAuthError, "\x1b") {
		t.Errorf("control characters kept: %q", ae.OAuthError)
	}
	if !errors.Is(err, ErrBlockedByConditionalAccess) {
		t.Errorf("code lost: %v", err)
	}
}

func FuzzParseAADSTS(f *testing.F) {
	f.Add("AADSTS65004: declined")
	f.Add("xxAADSTS700016yy AADSTS1")
	f.Add("AADSTS99999999999999999999")
	f.Fuzz(func(t *testing.T, s string) {
		code, ok := ParseAADSTS(s)
		if ok && (code < 0 || !strings.Contains(s, "AADSTS")) {
			t.Fatalf("ParseAADSTS(%q) = %d, true", s, code)
		}
		if !ok && code != 0 {
			t.Fatalf("ParseAADSTS(%q) = %d, false", s, code)
		}
		err := ErrorFromAADSTS("e", s)
		if err == nil || err.Error() == "" {
			t.Fatal("no error")
		}
	})
}

// TestAADSTSCodesHaveRemediation: every mapped code says what to do and maps to at least one
// sentinel other than ErrConsentFailed.
func TestAADSTSCodesHaveRemediation(t *testing.T) {
	for code, info := range aadstsCodes {
		if info.remediation == "" || (info.sentinel == nil && info.driver == nil) {
			t.Errorf("AADSTS%d: %+v", code, info)
		}
	}
}
