package consent_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantapps/tenantapps/consent"
)

func TestErrorClassification(t *testing.T) {
	wrapped := func(err error) error {
		return &consent.DriverError{Op: "AppState", TenantID: "t", AppID: "a", Err: err}
	}
	tests := []struct {
		name          string
		err           error
		couldNotCheck bool
		groundTruth   bool
	}{
		{"nil", nil, false, false},
		{"throttled", wrapped(consent.ErrThrottled), true, false},
		{"transient", wrapped(consent.ErrTransient), true, false},
		{"transient with cause", wrapped(fmt.Errorf("%w: unexpected EOF", consent.ErrTransient)), true, false},
		{"forbidden", wrapped(consent.ErrForbidden), true, false},
		{"canceled", wrapped(context.Canceled), true, false},
		{"deadline", wrapped(context.DeadlineExceeded), true, false},
		{"bare deadline", context.DeadlineExceeded, true, false},
		{"unrecognised", io.ErrUnexpectedEOF, true, false},
		{"unrecognised in DriverError", wrapped(errors.New("boom")), true, false},
		{"tenant not found", wrapped(consent.ErrTenantNotFound), false, true},
		{"not found", wrapped(consent.ErrNotFound), false, true},
		{"not consented", wrapped(consent.ErrNotConsented), false, true},
		{"app disabled", wrapped(consent.ErrAppDisabled), false, true},
		{"invalid credential", wrapped(consent.ErrInvalidCredential), false, true},
		{"invalid grant", wrapped(consent.ErrInvalidGrant), false, true},
		{"bare sentinel", consent.ErrNotConsented, false, true},
		{"invalid argument", wrapped(consent.ErrInvalidArgument), false, false},
		{"ground truth joined with throttling", errors.Join(consent.ErrNotConsented, consent.ErrThrottled), true, false},
		{"ground truth joined with cancel", errors.Join(consent.ErrInvalidCredential, context.Canceled), true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := consent.CouldNotCheck(tt.err); got != tt.couldNotCheck {
				t.Errorf("CouldNotCheck(%v) = %v, want %v", tt.err, got, tt.couldNotCheck)
			}
			if got := consent.IsGroundTruth(tt.err); got != tt.groundTruth {
				t.Errorf("IsGroundTruth(%v) = %v, want %v", tt.err, got, tt.groundTruth)
			}
		})
	}
}

func TestDriverErrorMessage(t *testing.T) {
	tests := []struct {
		name string
		err  *consent.DriverError
		want string
	}{
		{
			"throttled",
			&consent.DriverError{Op: "AppState", TenantID: "11111111-1111-1111-1111-111111111111", AppID: "22222222-2222-2222-2222-222222222222", Code: "TooManyRequests", RetryAfter: 3 * time.Second, Err: consent.ErrThrottled},
			"consent driver: AppState app 22222222-2222-2222-2222-222222222222 in tenant 11111111-1111-1111-1111-111111111111: throttled (TooManyRequests); retry after 3s",
		},
		{
			"forbidden",
			&consent.DriverError{Op: "UserState", TenantID: "t1", Code: "Authorization_RequestDenied", Err: consent.ErrForbidden},
			"consent driver: UserState in tenant t1: forbidden: the driver lacks a permission in the tenant (Authorization_RequestDenied); grant the driver's reading app the missing Graph permission and consent again; the checked app's status is unknown, not invalid",
		},
		{
			"credential",
			&consent.DriverError{Op: "ProveCertificate", TenantID: "t1", AppID: "a1", Code: "AADSTS700027", Err: fmt.Errorf("%w: the certificate is not registered on the application", consent.ErrInvalidCredential)},
			"consent driver: ProveCertificate app a1 in tenant t1: credential rejected by the tenant: the certificate is not registered on the application (AADSTS700027); upload the certificate to the app registration or supply the matching .pfx",
		},
		{"empty", &consent.DriverError{}, "consent driver: request: unknown error"},
		{"plain cause", &consent.DriverError{Op: "SignIns", Err: errors.New("boom")}, "consent driver: SignIns: boom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tt.err.Error()); diff != "" {
				t.Errorf("Error() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDriverErrorUnwrap(t *testing.T) {
	cause := fmt.Errorf("%w: status 503", consent.ErrTransient)
	var err error = fmt.Errorf("verify profile: %w", &consent.DriverError{Op: "AppState", Err: cause})
	if !errors.Is(err, consent.ErrTransient) {
		t.Errorf("errors.Is(%v, ErrTransient) = false", err)
	}
	var de *consent.DriverError
	if !errors.As(err, &de) || de.Op != "AppState" {
		t.Errorf("errors.As(*DriverError) = %v, %+v", errors.As(err, &de), de)
	}
}

func TestRetryAfter(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		want   time.Duration
		wantOK bool
	}{
		{"nil", nil, 0, false},
		{"plain", consent.ErrThrottled, 0, false},
		{"no wait", &consent.DriverError{Err: consent.ErrThrottled}, 0, false},
		{"wait", &consent.DriverError{Err: consent.ErrThrottled, RetryAfter: 2 * time.Second}, 2 * time.Second, true},
		{"wrapped", fmt.Errorf("check: %w", &consent.DriverError{Err: consent.ErrThrottled, RetryAfter: time.Minute}), time.Minute, true},
		{"inner", &consent.DriverError{Op: "outer", Err: &consent.DriverError{Op: "inner", Err: consent.ErrThrottled, RetryAfter: 5 * time.Second}}, 5 * time.Second, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := consent.RetryAfter(tt.err)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("RetryAfter(%v) = %v, %v; want %v, %v", tt.err, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestNilDriverError(t *testing.T) {
	var de *consent.DriverError
	if got := de.Error(); got != "consent driver: <nil>" {
		t.Errorf("nil Error() = %q", got)
	}
	if de.Unwrap() != nil {
		t.Errorf("nil Unwrap() != nil")
	}
}
