package graph

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"testing"
	"time"

	msalerrors "github.com/AzureAD/microsoft-authentication-library-for-go/apps/errors"
	"github.com/google/go-cmp/cmp"

	"github.com/tenantapps/tenantapps/consent"
)

func TestParseRetryAfter(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
	}{
		{"", 0}, {"2", 2 * time.Second}, {"2.128", 2128 * time.Millisecond}, {"0", 0}, {"-1", 0},
		{"abc", 0}, {"1e9", 0}, {" 3 ", 3 * time.Second},
		{"NaN", 0}, {"-Inf", 0}, {"Fri, 31 Dec 9999 23:59:59 GMT", 0}, {"7200", consent.MaxRetryAfter},
	} {
		if got := parseRetryAfter(tc.in); got != tc.want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
	future := time.Now().Add(30 * time.Second).UTC().Format(http.TimeFormat)
	if got := parseRetryAfter(future); got < 25*time.Second || got > 31*time.Second {
		t.Errorf("parseRetryAfter(HTTP date in 30 s) = %v", got)
	}
}

func callErr(status int, retryAfter, body string) error {
	resp := &http.Response{StatusCode: status, Header: http.Header{}}
	if retryAfter != "" {
		resp.Header.Set("Retry-After", retryAfter)
	}
	return msalerrors.CallErr{Resp: resp, Err: errors.New("http call(https://login/x/oauth2/v2.0/token)(POST) error: reply status code was " + http.StatusText(status) + ":\n" + body)}
}

func TestTokenErrorMapping(t *testing.T) {
	body := func(name string, code int, desc string) string {
		return `{"error":"` + name + `","error_description":"AADSTS` + strconv.Itoa(code) + `: ` + desc + `\r\nTrace ID: x","error_codes":[` + strconv.Itoa(code) + `]}`
	}
	tests := []struct {
		name      string
		err       error
		reader    bool
		want      error
		code      string
		couldNot  bool
		retryWait time.Duration
	}{
		{"throttled", callErr(429, "7", `{"error":"temporarily_unavailable"}`), false, consent.ErrThrottled, "", true, 7 * time.Second},
		{"5xx", callErr(503, "", `{"error":"temporarily_unavailable"}`), false, consent.ErrTransient, "", true, 0},
		{"no HTTP answer", errors.New("dial tcp: connection refused"), false, consent.ErrTransient, "", true, 0},
		{"tenant not found", callErr(400, "", body("invalid_request", 90002, "Tenant 'x' not found.")), false, consent.ErrTenantNotFound, "AADSTS90002", false, 0},
		{"app not in tenant", callErr(400, "", body("unauthorized_client", 700016, "Application not found.")), false, consent.ErrNotConsented, "AADSTS700016", false, 0},
		{"reader not in tenant", callErr(400, "", body("unauthorized_client", 700016, "Application not found.")), true, consent.ErrForbidden, "AADSTS700016", true, 0},
		{"certificate not registered", callErr(401, "", body("invalid_client", 700027, "Client assertion failed.")), false, consent.ErrInvalidCredential, "AADSTS700027", false, 0},
		{"reader certificate not registered", callErr(401, "", body("invalid_client", 700027, "Client assertion failed.")), true, consent.ErrForbidden, "AADSTS700027", true, 0},
		{"app disabled", callErr(400, "", body("unauthorized_client", 7000112, "Application is disabled.")), false, consent.ErrAppDisabled, "AADSTS7000112", false, 0},
		{"password changed", callErr(400, "", body("invalid_grant", 50173, "The grant was revoked.")), false, consent.ErrInvalidGrant, "AADSTS50173", false, 0},
		{"conditional access", callErr(400, "", body("invalid_grant", 53003, "Blocked by CA.")), false, consent.ErrInvalidGrant, "AADSTS53003", false, 0},
		// The refresh answers the delegated check reads as facts (entra-docs
		// docs/identity-platform/reference-error-codes.md): expired from inactivity, MFA
		// registration required, session invalid after a password change, sign-in frequency.
		{"refresh token expired", callErr(400, "", body("invalid_grant", 700082, "The refresh token has expired due to inactivity.")), false, consent.ErrInvalidGrant, "AADSTS700082", false, 0},
		{"MFA registration required", callErr(400, "", body("invalid_grant", 50079, "Due to a configuration change, you must enroll in MFA.")), false, consent.ErrInvalidGrant, "AADSTS50079", false, 0},
		{"session invalid after password change", callErr(400, "", body("invalid_grant", 50133, "Session is invalid due to expiration or recent password change.")), false, consent.ErrInvalidGrant, "AADSTS50133", false, 0},
		{"sign-in frequency", callErr(400, "", body("invalid_grant", 70043, "The refresh token has expired or is invalid due to sign-in frequency checks by Conditional Access.")), false, consent.ErrInvalidGrant, "AADSTS70043", false, 0},
		{"unknown code", callErr(400, "", body("invalid_request", 123456, "Something else.")), false, nil, "AADSTS123456", true, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tokenError(context.Background(), "Op", "tenant", "app", tc.err, tc.reader)
			var de *consent.DriverError
			if !errors.As(err, &de) {
				t.Fatalf("tokenError = %T %v, want *consent.DriverError", err, err)
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("tokenError = %v, want it to wrap %v", err, tc.want)
			}
			got := struct {
				Code       string
				CouldNot   bool
				RetryAfter time.Duration
			}{de.Code, consent.CouldNotCheck(err), de.RetryAfter}
			want := struct {
				Code       string
				CouldNot   bool
				RetryAfter time.Duration
			}{tc.code, tc.couldNot, tc.retryWait}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("tokenError(%s) mismatch (-want +got):\n%s\nerror: %v", tc.name, diff, err)
			}
			if tc.reader && (errors.Is(err, consent.ErrInvalidCredential) || errors.Is(err, consent.ErrNotConsented)) {
				t.Errorf("a reader failure carries a ground-truth sentinel about the app: %v", err)
			}
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := tokenError(ctx, "Op", "t", "a", errors.New("x"), false); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled context: %v", err)
	}
}

func TestItemError(t *testing.T) {
	for _, tc := range []struct {
		status int
		hdr    map[string]string
		body   map[string]any
		want   error
		wait   time.Duration
	}{
		{404, nil, map[string]any{"error": map[string]any{"code": "Request_ResourceNotFound", "message": "gone"}}, consent.ErrNotFound, 0},
		{403, nil, map[string]any{"error": map[string]any{"code": ptr("Authorization_RequestDenied")}}, consent.ErrForbidden, 0},
		{429, map[string]string{"retry-after": "3"}, nil, consent.ErrThrottled, 3 * time.Second},
		{504, nil, map[string]any{"error": "not an object"}, consent.ErrTransient, 0},
	} {
		err := itemError("Op", "t", "a", tc.status, tc.hdr, tc.body)
		if !errors.Is(err, tc.want) {
			t.Errorf("itemError(%d) = %v, want %v", tc.status, err, tc.want)
		}
		if d, _ := consent.RetryAfter(err); d != tc.wait {
			t.Errorf("itemError(%d) RetryAfter = %v, want %v", tc.status, d, tc.wait)
		}
	}
}

func TestWithoutAccessTokens(t *testing.T) {
	out, err := withoutAccessTokens([]byte(`{"AccessToken":{"k":{}},"RefreshToken":{"r":{}},"Account":{}}`))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(`{"Account":{},"RefreshToken":{"r":{}}}`, string(out)); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
	if _, err := withoutAccessTokens([]byte("not json")); err == nil {
		t.Error("garbage accepted")
	}
}

func ptr(s string) *string { return &s }
