package appprofile

import (
	"errors"
	"fmt"
	"slices"
)

// Surface is where a profile is managed: the Elements Customer app profile page or AvePoint Online
// Services (AOS).
type Surface string

const (
	SurfaceElements Surface = "elements"
	SurfaceAOS      Surface = "aos"
)

// Change is what a re-authorization changes, besides renewing consent.
type Change string

const (
	// ChangeNone: renew consent (status Invalid or Expired, permissions added to the app type).
	ChangeNone Change = ""
	// ChangeConsentAccount: consent with another account.
	ChangeConsentAccount Change = "consent-account"
	// ChangeCustomApp: use another custom Azure app (custom profiles).
	ChangeCustomApp Change = "custom-app"
	// ChangeCertificate: the custom app's certificate file changed (custom profiles).
	ChangeCertificate Change = "certificate"
	// ChangeBackupFunctions: change the Cloud Backup for Microsoft 365 functions that use the
	// Delegated App.
	ChangeBackupFunctions Change = "backup-functions"
)

// ErrNotAllowed is wrapped by *NotAllowedError.
var ErrNotAllowed = errors.New("appprofile: not allowed")

// NotAllowedError says why an operation is not allowed on a profile and, when it can be done
// elsewhere, where.
type NotAllowedError struct {
	Op        string
	ProfileID string
	Reason    string
	// Where is the surface where the operation is possible; empty when it is nowhere.
	Where Surface
}

func (e *NotAllowedError) Error() string {
	s := fmt.Sprintf("appprofile: %s profile %s: %s", e.Op, e.ProfileID, e.Reason)
	if e.Where != "" {
		s += fmt.Sprintf("; do it in %s", surfaceName(e.Where))
	}
	return s
}

func (e *NotAllowedError) Unwrap() error { return ErrNotAllowed }

func surfaceName(s Surface) string {
	switch s {
	case SurfaceAOS:
		return "AvePoint Online Services"
	case SurfaceElements:
		return "the Elements Customer app profile page"
	}
	return string(s)
}

// ReauthorizeRequest describes a re-authorization.
type ReauthorizeRequest struct {
	// Surface is where the re-authorization is done; the zero value is SurfaceElements.
	Surface Surface
	Change  Change
	// Method is the consent method; the zero value is AdminConsent.
	Method ConsentMethod
	// BackupFunctions are the new functions for ChangeBackupFunctions.
	BackupFunctions []string
}

// CheckReauthorize applies seed 000's and 003's re-authorization rules to a profile of app type
// app. It returns nil when the re-authorization is allowed, or a *NotAllowedError. Pure.
//
//   - On the Elements page only modern profiles can be re-authorized; classic and custom profiles
//     are re-authorized in AOS.
//   - Changing the custom app or its certificate applies to custom profiles only.
//   - Changing Cloud Backup functions applies to app types with functions (the Delegated App) and
//     needs at least one known function.
//   - User consent applies only to the app types of seed 003's user-consent table, and only after
//     admin consent was granted (the profile has been consented).
func CheckReauthorize(p Profile, app AppSpec, req ReauthorizeRequest) error {
	deny := func(where Surface, format string, args ...any) error {
		return &NotAllowedError{Op: "re-authorize", ProfileID: p.ID, Reason: fmt.Sprintf(format, args...), Where: where}
	}
	surface := req.Surface
	if surface == "" {
		surface = SurfaceElements
	}
	if surface == SurfaceElements && p.Mode != Modern {
		return deny(SurfaceAOS, "only modern app profiles can be re-authorized on the Elements page; this one is %s", p.Mode)
	}
	switch req.Change {
	case ChangeNone, ChangeConsentAccount:
	case ChangeCustomApp, ChangeCertificate:
		if p.Mode != Custom {
			return deny("", "changing the custom app or its certificate applies to custom app profiles; this one is %s", p.Mode)
		}
	case ChangeBackupFunctions:
		if len(app.BackupFunctions) == 0 {
			return deny("", "%s has no Cloud Backup functions to choose", p.AppType)
		}
		if err := checkFunctions(app, req.BackupFunctions); err != nil {
			return deny("", "%v", err)
		}
	default:
		return deny("", "unknown change %q", req.Change)
	}
	switch req.Method {
	case "", AdminConsent:
	case UserConsent:
		if !app.UserConsent {
			return deny("", "%s does not support user consent; re-authorize with Administrator consent", p.AppType)
		}
		if p.Consent == nil {
			return deny("", "user consent needs admin consent to have been granted to %s first", p.AppType)
		}
	default:
		return deny("", "unknown consent method %q", req.Method)
	}
	return nil
}

func checkFunctions(app AppSpec, fns []string) error {
	if len(fns) == 0 {
		return fmt.Errorf("choose at least one function that will use %s: %q", app.Name, app.BackupFunctions)
	}
	for _, f := range fns {
		if !slices.Contains(app.BackupFunctions, f) {
			return fmt.Errorf("unknown function %q for %s; choose from %q", f, app.Name, app.BackupFunctions)
		}
	}
	return nil
}

// CheckDelete applies seed 000's deletion rule: a profile whose app type is not supported for
// creation on the Customer app profile page cannot be deleted there. Pure.
func CheckDelete(p Profile, app AppSpec) error {
	if !app.Creatable {
		return &NotAllowedError{Op: "delete", ProfileID: p.ID, Reason: fmt.Sprintf("app type %q is not supported for creation on the Customer app profile page, so its profiles cannot be deleted there", p.AppType), Where: SurfaceAOS}
	}
	return nil
}
