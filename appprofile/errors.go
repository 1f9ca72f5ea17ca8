package appprofile

import (
	"errors"
	"fmt"
	"strings"

	"github.com/tenantapps/tenantapps/consent"
)

// Sentinel errors of the Manager, checked with errors.Is. Typed errors below wrap them.
var (
	// ErrNotFound: no profile with that ID.
	ErrNotFound = errors.New("appprofile: profile not found")
	// ErrInvalidRequest: the request breaks a rule of seed 000 (see *RequestError for each problem).
	ErrInvalidRequest = errors.New("appprofile: invalid request")
	// ErrDuplicate: the tenant already has a profile of that app type.
	ErrDuplicate = errors.New("appprofile: duplicate profile")
	// ErrNoSealer: a secret would have to be kept but no Sealer was configured (WithSealer).
	ErrNoSealer = errors.New("appprofile: no sealer configured; refusing to keep secrets (use WithSealer)")
	// ErrNoStateKey: consent needs a state key (WithStateKey) and a redirect URI (WithRedirectURI).
	ErrNoStateKey = errors.New("appprofile: no consent state key or redirect URI configured (use WithStateKey and WithRedirectURI)")
	// ErrNoAppID: the app type's application ID is unknown (use WithVendorAppIDs).
	ErrNoAppID = errors.New("appprofile: the app type's application ID is unknown")
	// ErrCertificate: the custom app's .pfx has problems (see *CertificateError).
	ErrCertificate = errors.New("appprofile: certificate is not usable")
	// ErrNotEligible: the consenter may not consent that way (see *EligibilityError).
	ErrNotEligible = errors.New("appprofile: consenter is not eligible")
	// ErrConsentNotProven: the tenant does not show the grants a consent callback claims.
	ErrConsentNotProven = errors.New("appprofile: consent not proven by the tenant")
	// ErrConsentDenied: the consent callback carries an error (the admin declined, AADSTS...).
	ErrConsentDenied = errors.New("appprofile: consent was not given")
	// ErrCouldNotCheck: the tenant could not be read (throttled, transient, forbidden); no status
	// was changed because of it. Retry later. A *ConsentRecordedError wraps it when CompleteConsent
	// recorded a consent it could not prove yet; AssignRoles wraps it with the roles it assigned
	// before the failure.
	ErrCouldNotCheck = errors.New("appprofile: could not check the tenant; the status was not changed, retry later")
	// ErrConflict: the profile changed concurrently; re-read it and try again.
	ErrConflict = errors.New("appprofile: profile was changed concurrently; re-read it and retry")
	// ErrTenantMismatch: a consent callback came from another tenant than the one the state names.
	ErrTenantMismatch = errors.New("appprofile: consent callback is for another tenant")
)

// RequestError lists every problem of a request.
type RequestError struct {
	Op       string
	Problems []string
	// also are sentinels some problems match besides ErrInvalidRequest (ErrNoAppID).
	also []error
}

func (e *RequestError) Error() string {
	return fmt.Sprintf("appprofile: %s: %s", e.Op, strings.Join(e.Problems, "; "))
}

// Unwrap returns ErrInvalidRequest and the sentinels of particular problems: a Create whose app
// type's application ID is unknown also matches ErrNoAppID.
func (e *RequestError) Unwrap() []error { return append([]error{ErrInvalidRequest}, e.also...) }

// DuplicateError names the existing profile of the same (tenant, app type).
type DuplicateError struct {
	Tenant, AppType string
}

func (e *DuplicateError) Error() string {
	return fmt.Sprintf("appprofile: tenant %s already has a profile of app type %q; re-authorize or delete it instead, or build the Manager WithDuplicates(true)", e.Tenant, e.AppType)
}
func (e *DuplicateError) Unwrap() error { return ErrDuplicate }

// CertificateError lists every problem of a custom app's certificate.
type CertificateError struct {
	Problems []string
	// Err is the driver's error when Microsoft Entra ID rejected the certificate as the app's
	// credential (it wraps consent.ErrInvalidCredential); nil for problems of the file itself.
	Err error
}

func (e *CertificateError) Error() string {
	return "appprofile: certificate is not usable: " + strings.Join(e.Problems, "; ")
}

// Unwrap returns ErrCertificate and, when set, Err.
func (e *CertificateError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrCertificate}
	}
	return []error{ErrCertificate, e.Err}
}

// EligibilityError lists every requirement the consenter does not meet.
type EligibilityError struct {
	AppType string
	Method  ConsentMethod
	Missing []string
}

func (e *EligibilityError) Error() string {
	return fmt.Sprintf("appprofile: %s consent to %s needs: %s", e.Method, e.AppType, strings.Join(e.Missing, "; "))
}
func (e *EligibilityError) Unwrap() error { return ErrNotEligible }

// ConsentNotProvenError lists what the tenant does not show after a consent callback.
type ConsentNotProvenError struct {
	ProfileID string
	Missing   []string
}

func (e *ConsentNotProvenError) Error() string {
	return fmt.Sprintf("appprofile: consent for profile %s is not visible in the tenant: %s; nothing was recorded, consent again (BeginConsent) and accept every permission", e.ProfileID, strings.Join(e.Missing, "; "))
}
func (e *ConsentNotProvenError) Unwrap() error { return ErrConsentNotProven }

// ConsentRecordedError is CompleteConsent's error when the callback was genuine but the tenant
// could not be read to prove the consent (throttled, Graph unavailable, ...): the consent is
// recorded anyway (ConsentRecord.Unproven) with the profile's status unchanged, because the
// callback's single-use state is spent and Microsoft has recorded the consent. Verify or
// VerifyAll will prove it: do not send the administrator to consent again. It wraps
// ErrCouldNotCheck and the driver's error.
type ConsentRecordedError struct {
	ProfileID string
	// Err is why the tenant could not be read.
	Err error
}

func (e *ConsentRecordedError) Error() string {
	return fmt.Sprintf("appprofile: the consent for profile %s is recorded, but the tenant could not be read to prove it (%v); Verify or VerifyAll will prove it, do not send the administrator to consent again", e.ProfileID, e.Err)
}

// Unwrap returns ErrCouldNotCheck and Err.
func (e *ConsentRecordedError) Unwrap() []error { return []error{ErrCouldNotCheck, e.Err} }

// ConsentDeniedError is a consent callback (or code redemption) that carries an error. It wraps
// ErrConsentDenied and, when Microsoft Entra ID reported the error, the *consent.AADSTSError, so
// callers can match the outcome with the consent package's sentinels, e.g.
// errors.Is(err, consent.ErrConsentDeclined) or errors.Is(err, consent.ErrAdminApprovalRequired).
type ConsentDeniedError struct {
	Code        string
	Description string
	// AADSTS is the error as the consent package classifies it; nil when there is none.
	AADSTS *consent.AADSTSError
}

// deniedError is the *ConsentDeniedError of a callback's error and error_description.
func deniedError(code, description string) *ConsentDeniedError {
	e := &ConsentDeniedError{Code: code, Description: firstLine(description)}
	errors.As(consent.ErrorFromAADSTS(code, description), &e.AADSTS)
	return e
}

func (e *ConsentDeniedError) Error() string {
	return fmt.Sprintf("appprofile: consent was not given (%s: %s); ask the administrator to consent again", e.Code, e.Description)
}

// Unwrap returns ErrConsentDenied and, when set, the *consent.AADSTSError.
func (e *ConsentDeniedError) Unwrap() []error {
	if e.AADSTS == nil {
		return []error{ErrConsentDenied}
	}
	return []error{ErrConsentDenied, e.AADSTS}
}
