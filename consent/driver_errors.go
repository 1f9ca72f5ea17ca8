package consent

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Errors a Driver returns, wrapped (normally in a *DriverError) and checked with errors.Is.
//
// Two families matter to callers. Ground truth: ErrTenantNotFound, ErrNotFound, ErrNotConsented,
// ErrAppDisabled, ErrInvalidCredential and ErrInvalidGrant say something true about the tenant (the app is not
// there, the certificate is not accepted). Could not check: ErrForbidden, ErrThrottled,
// ErrTransient, context errors and anything unrecognised say nothing about the tenant; a status
// must never change because of them. CouldNotCheck tells the families apart.
var (
	// ErrTenantNotFound: the tenant does not exist (deleted, or a wrong ID): AADSTS90002, or a
	// directory that does not know it. Check the tenant ID.
	ErrTenantNotFound = errors.New("tenant not found")

	// ErrNotFound: the object asked about (an application registration, a user looked up by a
	// method that does not report absence in its result) does not exist in the tenant.
	ErrNotFound = errors.New("not found in tenant")

	// ErrNotConsented: the app has no service principal in the tenant (never consented, or the
	// enterprise application was deleted): AADSTS700016. Grant consent again.
	ErrNotConsented = errors.New("app has no service principal in the tenant")

	// ErrAppDisabled: the app's service principal exists in the tenant but is disabled
	// (accountEnabled false, AADSTS7000112): nobody can sign in as the app. Enable the
	// enterprise application.
	ErrAppDisabled = errors.New("app's service principal is disabled in the tenant")

	// ErrForbidden: the driver's own identity lacks a permission it needs to read or change
	// the tenant (Graph 403 Authorization_RequestDenied). It says nothing about the checked
	// app; grant the reading app the permission named in the error.
	ErrForbidden = errors.New("forbidden: the driver lacks a permission in the tenant")

	// ErrThrottled: the tenant or Graph throttled the driver (HTTP 429). Retry after
	// RetryAfter(err).
	ErrThrottled = errors.New("throttled")

	// ErrTransient: a temporary failure (5xx, timeout, connection error, malformed or truncated
	// response). Retry later.
	ErrTransient = errors.New("transient failure")

	// ErrInvalidCredential: the tenant rejected the app's credential (certificate not registered
	// on the app, expired, bad assertion signature: AADSTS700027, 7000222, 700024...). Upload the
	// matching .cer/.crt to the app registration or supply the right .pfx.
	ErrInvalidCredential = errors.New("credential rejected by the tenant")

	// ErrInvalidGrant: an authorization code or refresh token was rejected (expired, already
	// redeemed, redirect URI or PKCE verifier mismatch, user's sessions revoked): AADSTS70008,
	// 54005, 50173, invalid_grant. Ask the user to consent again.
	ErrInvalidGrant = errors.New("authorization grant rejected")

	// ErrInvalidArgument: the request itself is malformed (empty ID, missing certificate); the
	// driver did not contact the tenant.
	ErrInvalidArgument = errors.New("invalid argument")
)

// DriverError is the error a Driver returns: which operation failed for which tenant and app, the
// sentinel that classifies it (Err), and details from the tenant. It never carries secrets.
type DriverError struct {
	// Op is the driver method, e.g. "AppState".
	Op string
	// TenantID and AppID locate the failure; either may be empty.
	TenantID string
	AppID    string
	// Code is the service's error code when there was one: an OData code such as
	// "Authorization_RequestDenied" or "AADSTS700016"; empty otherwise.
	Code string
	// RetryAfter is how long the service asked to wait (HTTP Retry-After); zero if none.
	RetryAfter time.Duration
	// Err is one of the sentinels of this package, possibly wrapping a lower-level cause, or
	// a context error.
	Err error
}

// Error says what failed and what to do next.
func (e *DriverError) Error() string {
	if e == nil {
		return "consent driver: <nil>"
	}
	var b strings.Builder
	b.WriteString("consent driver: ")
	if e.Op != "" {
		b.WriteString(e.Op)
	} else {
		b.WriteString("request")
	}
	if e.AppID != "" {
		fmt.Fprintf(&b, " app %s", e.AppID)
	}
	if e.TenantID != "" {
		fmt.Fprintf(&b, " in tenant %s", e.TenantID)
	}
	b.WriteString(": ")
	if e.Err != nil {
		b.WriteString(e.Err.Error())
	} else {
		b.WriteString("unknown error")
	}
	if e.Code != "" {
		fmt.Fprintf(&b, " (%s)", e.Code)
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, "; retry after %s", e.RetryAfter)
	} else if hint := hintFor(e.Err); hint != "" {
		b.WriteString("; ")
		b.WriteString(hint)
	}
	return b.String()
}

// Unwrap returns Err.
func (e *DriverError) Unwrap() error {
	if e == nil {
		return nil
	}
	return e.Err
}

func hintFor(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrThrottled):
		return "retry later"
	case errors.Is(err, ErrTransient):
		return "retry later"
	case errors.Is(err, ErrForbidden):
		return "grant the driver's reading app the missing Graph permission and consent again; the checked app's status is unknown, not invalid"
	case errors.Is(err, ErrAppDisabled):
		return "enable the enterprise application in the tenant"
	case errors.Is(err, ErrNotConsented):
		return "grant consent to the app in the tenant"
	case errors.Is(err, ErrInvalidCredential):
		return "upload the certificate to the app registration or supply the matching .pfx"
	case errors.Is(err, ErrInvalidGrant):
		return "ask the user to consent again"
	case errors.Is(err, ErrTenantNotFound):
		return "check the tenant ID"
	case errors.Is(err, ErrNotFound):
		return "check the ID (an application registration lives in its home tenant)"
	case errors.Is(err, ErrInvalidArgument):
		return "fix the call; the tenant was not contacted"
	}
	return ""
}

// RetryAfter returns the wait a throttled (or transient) error asked for, from the outermost
// *DriverError in err's chain that carries one, clamped to MaxRetryAfter (see ClampRetryAfter):
// whatever a driver reports, a caller never waits longer than MaxRetryAfter on its word.
func RetryAfter(err error) (time.Duration, bool) {
	for err != nil {
		var de *DriverError
		if !errors.As(err, &de) {
			return 0, false
		}
		if de.RetryAfter > 0 {
			return ClampRetryAfter(de.RetryAfter), true
		}
		err = de.Err
	}
	return 0, false
}

// CouldNotCheck reports whether err means the tenant could not be read, so the caller learned
// nothing about it and must not change any status because of it: throttling, transient failures,
// the driver's own missing permissions, cancellation or deadline, and any error it does not
// recognise. It returns false for nil and for ground-truth errors (see IsGroundTruth) and for
// ErrInvalidArgument (a caller bug, not a tenant fact, but retrying cannot fix it).
//
// A ground-truth sentinel wrapped together with a could-not-check one (errors.Join) counts as
// could-not-check.
func CouldNotCheck(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, ErrThrottled) || errors.Is(err, ErrTransient) || errors.Is(err, ErrForbidden) ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	return !IsGroundTruth(err) && !errors.Is(err, ErrInvalidArgument)
}

// IsGroundTruth reports whether err states a fact about the tenant (ErrTenantNotFound,
// ErrNotFound, ErrNotConsented, ErrAppDisabled, ErrInvalidCredential, ErrInvalidGrant) rather
// than a failure to read it. An error that also wraps a could-not-check sentinel is not ground
// truth.
func IsGroundTruth(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, ErrThrottled) || errors.Is(err, ErrTransient) || errors.Is(err, ErrForbidden) ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	return errors.Is(err, ErrTenantNotFound) || errors.Is(err, ErrNotFound) || errors.Is(err, ErrNotConsented) ||
		errors.Is(err, ErrAppDisabled) || errors.Is(err, ErrInvalidCredential) || errors.Is(err, ErrInvalidGrant)
}
