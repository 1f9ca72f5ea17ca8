package consent

import (
	"errors"
	"fmt"
	"strings"
)

// Errors of the consent rules (methods, eligibility). Check them with errors.Is; the typed errors
// below carry the detail.
var (
	// ErrUnknownAppType: the app type is not one the consent rules know. Check the spelling against
	// AppTypes (or the catalog in package permissions).
	ErrUnknownAppType = errors.New("consent: unknown app type")
	// ErrServiceRequired: the app type serves several services whose consent rules differ; name the
	// service.
	ErrServiceRequired = errors.New("consent: service required")
	// ErrUnknownService: the app type does not serve the named service.
	ErrUnknownService = errors.New("consent: app type does not serve this service")
	// ErrUnknownMethod: the consent method is neither AdminConsent nor UserConsent.
	ErrUnknownMethod = errors.New("consent: unknown consent method")
	// ErrMethodNotSupported: the app type does not support the consent method (user consent for an
	// app type outside seed 003's user-consent table). Use AdminConsent.
	ErrMethodNotSupported = errors.New("consent: consent method not supported for this app type")
	// ErrUnknownFunction: a backup function that is not one of BackupFunctions, or functions given
	// for an app that is not the Cloud Backup for Microsoft 365 delegated app.
	ErrUnknownFunction = errors.New("consent: unknown backup function")
	// ErrUnknownScanObject: TenantFacts.Scans holds a value that is not a ScanObject. It is an
	// error rather than ignored, so a typo cannot skip a precondition.
	ErrUnknownScanObject = errors.New("consent: unknown scan object")
	// ErrNotEligible: the consenting account (or the tenant) does not meet the requirements of the
	// consent method. The *NotEligibleError lists every missing requirement.
	ErrNotEligible = errors.New("consent: account not eligible to consent")
)

// TargetError reports a Target the rules cannot resolve. It wraps ErrUnknownAppType,
// ErrServiceRequired, ErrUnknownService, ErrMethodNotSupported or ErrUnknownFunction.
type TargetError struct {
	AppType string
	Service string
	// Services lists the services the app type serves, when known, so the caller can pick one.
	Services []string
	Err      error
}

func (e *TargetError) Error() string {
	switch {
	case errors.Is(e.Err, ErrUnknownAppType):
		return fmt.Sprintf("%v %q; use one of: %s", e.Err, e.AppType, strings.Join(AppTypes(), ", "))
	case errors.Is(e.Err, ErrServiceRequired):
		return fmt.Sprintf("%v: app type %q serves %s and the rules differ; name one of them", e.Err, e.AppType, quoteList(e.Services))
	case errors.Is(e.Err, ErrUnknownService):
		return fmt.Sprintf("%v: app type %q does not serve %q; it serves %s", e.Err, e.AppType, e.Service, quoteList(e.Services))
	case errors.Is(e.Err, ErrMethodNotSupported):
		return fmt.Sprintf("%v: %q (service %q) cannot be re-authorized with user consent; use administrator consent", e.Err, e.AppType, e.Service)
	}
	return fmt.Sprintf("%v (app type %q, service %q)", e.Err, e.AppType, e.Service)
}

func (e *TargetError) Unwrap() error { return e.Err }

func unknownAppType(name string) error {
	return &TargetError{AppType: name, Err: ErrUnknownAppType}
}

func quoteList(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}

// NotEligibleError is the error form of a negative Decision: it wraps ErrNotEligible and lists
// every missing requirement with what to do about it.
type NotEligibleError struct {
	Target  Target
	Method  Method
	Missing []Requirement
}

func (e *NotEligibleError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%v: %s to %q", ErrNotEligible, e.Method.Describe(), e.Target.AppType)
	if e.Target.Service != "" {
		fmt.Fprintf(&b, " (%s)", e.Target.Service)
	}
	b.WriteString(" is not possible yet:")
	for i, r := range e.Missing {
		if i > 0 {
			b.WriteString(";")
		}
		fmt.Fprintf(&b, " %s — %s", r, r.Remediation())
	}
	return b.String()
}

func (e *NotEligibleError) Unwrap() error { return ErrNotEligible }
