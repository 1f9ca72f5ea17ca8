package appprofile

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tenantapps/tenantapps/permissions"
	"github.com/tenantapps/tenantapps/roles"
)

// Observation is the ground truth read from a tenant for one profile. Parts that were not read are
// nil; parts that failed to read are listed in Failures, which makes the whole assessment
// CouldNotCheck.
type Observation struct {
	ServicePrincipal ServicePrincipalState
	// Grants are the granted permissions: app-role assignments (Application) and delegated
	// oauth2PermissionGrants (Delegated), by resource app ID and value.
	Grants []Permission
	// DirectoryRoles are the directory roles assigned to the service principal.
	DirectoryRoles []roles.TemplateID
	// App is the custom app's registration; nil unless the profile is a custom one.
	App *AppRegistrationState
	// ConsentUser is the consent user's state; nil unless the profile uses delegated permissions.
	ConsentUser *UserState
	// Delegated is what token redemption and sign-in logs say about the delegated consent.
	Delegated *DelegatedState
	// Failures are the parts that could not be read.
	Failures []Failure
}

// ServicePrincipalState is the app's service principal in the tenant.
type ServicePrincipalState struct {
	Exists  bool
	Enabled bool
}

// AppRegistrationState is a custom app's registration in the tenant.
type AppRegistrationState struct {
	Exists bool
	// Thumbprints of the certificates in keyCredentials (SHA-1 hex, upper case).
	Thumbprints []string
}

// UserState is a consent user's account.
type UserState struct {
	Exists         bool
	AccountEnabled bool
	// LastPasswordChange is lastPasswordChangeDateTime.
	LastPasswordChange time.Time
	// SessionsValidFrom is signInSessionsValidFromDateTime (bumped by "revoke sessions").
	SessionsValidFrom time.Time
	// Licensed reports whether the user has any assigned licence.
	Licensed bool
	// MFAEnabledAt is when multi-factor authentication was registered or enforced; zero if never.
	MFAEnabledAt time.Time
}

// DelegatedState is what the token endpoint and sign-in logs say about a delegated consent.
type DelegatedState struct {
	// RefreshTokenExpired: the token endpoint answered AADSTS700082 (or equivalent).
	RefreshTokenExpired bool
	// LastUsed is the last successful non-interactive sign-in with the consent's refresh token.
	LastUsed time.Time
	// BlockedByConditionalAccess: sign-ins fail with a Conditional Access block (AADSTS53003).
	BlockedByConditionalAccess bool
	// BlockedIP is the address the block names; it is the original consent IP (seed 003).
	BlockedIP string
	// MFARequired: sign-ins fail because the consent user must now perform multi-factor
	// authentication (AADSTS50076 / 50079).
	MFARequired bool
	// RefreshRejected is the AADSTS code with which the token endpoint refused to refresh the
	// consent user's token (consent.DelegatedProver), e.g. "AADSTS50173"; empty when it was not
	// tried or succeeded.
	RefreshRejected string
	// RefreshSucceeded: the token endpoint refreshed the consent user's token during this
	// check. The token endpoint's answer is the primary signal (v1.0 sign-in logs do not even
	// list refresh-token sign-ins — microsoft-graph-docs-contrib
	// api-reference/v1.0/api/signin-list.md — and beta lists them late), so sign-in failures
	// (BlockedByConditionalAccess, MFARequired, RefreshTokenExpired) are then stale and ignored.
	RefreshSucceeded bool
}

// Failure is one part of an observation that could not be read.
type Failure struct {
	Part string
	Err  error
}

// Requirements is what the catalog says a profile needs, resolved by the Manager.
type Requirements struct {
	App AppSpec
	// AddedSinceConsent are the permissions the app type gained since the consented catalog version.
	AddedSinceConsent []Permission
}

// Policy tunes the status engine. The zero value means the defaults.
type Policy struct {
	// RoleGrace is how long automatically assigned roles may be missing after consent (24 h).
	RoleGrace time.Duration
	// CertificateWarning is how early an expiring certificate is flagged (30 days).
	CertificateWarning time.Duration
	// RefreshTokenLifetime is how long an unused refresh token lives (90 days; Entra's default
	// inactivity lifetime).
	RefreshTokenLifetime time.Duration
}

func (p Policy) withDefaults() Policy {
	if p.RoleGrace <= 0 {
		p.RoleGrace = 24 * time.Hour
	}
	if p.CertificateWarning <= 0 {
		p.CertificateWarning = 30 * 24 * time.Hour
	}
	if p.RefreshTokenLifetime <= 0 {
		p.RefreshTokenLifetime = 90 * 24 * time.Hour
	}
	return p
}

// Assessment is the result of the status engine.
type Assessment struct {
	Outcome Outcome
	Status  Status
	Reasons []Reason
	// Err is set when Outcome is CouldNotCheck; it joins the failures.
	Err error
	// Accepted are the profile's acceptances that still hold (see AcceptedDeviation); the
	// reasons they cover carry Reason.Accepted and do not count towards Status.
	Accepted []AcceptedDeviation
}

// Assess is the pure status engine: from a profile, what its app type requires, what the tenant
// shows and the current time, it derives the status and every reason. If any part of the
// observation failed, the outcome is CouldNotCheck and the profile's current status and reasons are
// returned unchanged. Safe for concurrent use.
func Assess(p Profile, req Requirements, obs Observation, now time.Time, pol Policy) Assessment {
	pol = pol.withDefaults()
	if len(obs.Failures) > 0 {
		errs := make([]error, 0, len(obs.Failures))
		for _, f := range obs.Failures {
			errs = append(errs, fmt.Errorf("%s: %w", f.Part, f.Err))
		}
		st := p.Status
		if st == "" {
			st = Pending
		}
		return Assessment{Outcome: CouldNotCheck, Status: st, Reasons: cloneReasons(p.Reasons), Err: errors.Join(errs...), Accepted: p.clone().Accepted}
	}
	if p.Consent == nil {
		rs := []Reason{newReason(ReasonNotConsented, "%s has not been consented in tenant %s yet", p.AppType, p.Tenant)}
		return Assessment{Outcome: Checked, Status: Pending, Reasons: rs, Accepted: applyAcceptances(p.Accepted, rs, now)}
	}
	var rs []Reason
	app := req.App

	// Service principal.
	switch {
	case !obs.ServicePrincipal.Exists && p.Consent != nil && p.Consent.Unproven:
		// The consent was recorded while the tenant could not be read and never showed up there.
		rs = append(rs, newReason(ReasonServicePrincipalDeleted, "the consent recorded for %s (app %s) at %s never reached tenant %s: the app has no service principal there", p.AppType, p.AppID, p.Consent.At.UTC().Format(time.RFC3339), p.Tenant))
	case !obs.ServicePrincipal.Exists:
		rs = append(rs, newReason(ReasonServicePrincipalDeleted, "the service principal of %s (app %s) no longer exists in tenant %s", p.AppType, p.AppID, p.Tenant))
	case !obs.ServicePrincipal.Enabled:
		rs = append(rs, newReason(ReasonServicePrincipalOff, "the service principal of %s (app %s) is disabled in tenant %s", p.AppType, p.AppID, p.Tenant))
	}
	spExists := obs.ServicePrincipal.Exists

	// Permissions added to the app type since consent.
	added := map[permKey]bool{}
	if len(req.AddedSinceConsent) > 0 {
		names := make([]string, 0, len(req.AddedSinceConsent))
		dated := make([]string, 0, len(req.AddedSinceConsent))
		for _, perm := range req.AddedSinceConsent {
			added[perm.key()] = true
			names = append(names, perm.String())
			if perm.Since != "" {
				dated = append(dated, perm.String()+" in "+permissions.MonthText(perm.Since))
			} else {
				dated = append(dated, perm.String())
			}
		}
		r := newReason(ReasonPermissionsAdded, "%s gained %d permission(s) since consent (catalog %s): %s", p.AppType, len(names), consentedVersion(p), joinNames(dated))
		r.Permissions = names
		rs = append(rs, r)
	}

	// Grants, when the catalog publishes the permissions and the service principal exists.
	if spExists && app.PermissionsPublished {
		granted := map[permKey]bool{}
		for _, g := range obs.Grants {
			granted[g.key()] = true
		}
		var missing []string
		grantedRows := 0
		for _, perm := range app.Permissions {
			if granted[perm.key()] {
				grantedRows++
			} else if !added[perm.key()] {
				missing = append(missing, perm.String())
			}
		}
		if len(missing) > 0 {
			r := newReason(ReasonGrantMissing, "%d required permission(s) are not granted: %s", len(missing), joinNames(missing))
			r.Permissions = missing
			rs = append(rs, r)
		}
		if app.PermissionsPartial {
			// The unknown rest of the list may be granted or not, and grants beyond the known
			// rows may be required ones: never claim completeness, never call them extra.
			rs = append(rs, partialReason(p, app, grantedRows))
		}
	}
	if spExists && app.PermissionsPublished && !app.PermissionsPartial {
		required := map[permKey]bool{}
		for _, perm := range app.Permissions {
			required[perm.key()] = true
		}
		var extra []string
		for _, g := range obs.Grants {
			if !required[g.key()] {
				extra = append(extra, g.String())
			}
		}
		slices.Sort(extra)
		extra = slices.Compact(extra)
		if len(extra) > 0 {
			r := newReason(ReasonGrantExtra, "%d permission(s) are granted that %s does not need: %s", len(extra), p.AppType, joinNames(extra))
			r.Permissions = extra
			rs = append(rs, r)
		}
	}

	// Directory roles.
	if spExists {
		rs = append(rs, roleReasons(p, app, obs, now, pol)...)
	}

	// Custom app: registration and certificate.
	if p.Mode == Custom && p.Custom != nil {
		rs = append(rs, customReasons(p, obs, now, pol)...)
	}

	// Consent user (delegated and hybrid apps only: seed 003's matrix).
	if dependsOnConsentUser(p) {
		rs = append(rs, userReasons(p, obs, now, pol)...)
	}

	if p.ReauthorizationRequested != "" {
		rs = append(rs, newReason(ReasonConsentAccountChange, "re-authorization requested: %s", p.ReauthorizationRequested))
	}
	accepted := applyAcceptances(p.Accepted, rs, now)
	return Assessment{Outcome: Checked, Status: statusOf(rs), Reasons: rs, Accepted: accepted}
}

// partialReason says that only part of the app type's required permissions is published, so
// "every known row is granted" is all that can be said.
func partialReason(p Profile, app AppSpec, granted int) Reason {
	src := "AvePoint's documentation"
	if len(app.PermissionSources) > 0 {
		src = joinNames(app.PermissionSources)
	}
	return newReason(ReasonPermissionsPartial, "%s's permission list is partial: %d of the %d permission(s) published (%s) are granted; the rest of the required list is not published, so the library cannot confirm that all required permissions are granted",
		p.AppType, granted, len(app.Permissions), src)
}

func consentedVersion(p Profile) string {
	if p.Consent == nil || p.Consent.CatalogVersion == "" {
		return "unknown"
	}
	return p.Consent.CatalogVersion
}

// dependsOnConsentUser reports whether the profile acts as its consent user: delegated mode or a
// hybrid / purebred app shape.
func dependsOnConsentUser(p Profile) bool {
	return p.Mode == Delegated || p.Shape.HasDelegated() || (p.Consent != nil && p.Consent.Method == UserConsent)
}

func roleReasons(p Profile, app AppSpec, obs Observation, now time.Time, pol Policy) []Reason {
	uses := make([]roles.Condition, len(p.Uses))
	for i, u := range p.Uses {
		uses[i] = roles.Condition(u)
	}
	var missing, pending []string
	for _, req := range app.DirectoryRoles {
		if !req.AppliesTo(uses...) || slices.Contains(obs.DirectoryRoles, req.Role) {
			continue
		}
		if req.Assignment == roles.AutomaticWithin24h && now.Sub(p.Consent.At) < pol.RoleGrace {
			pending = append(pending, req.Role.Name())
			continue
		}
		missing = append(missing, req.Role.Name())
	}
	var rs []Reason
	if len(missing) > 0 {
		r := newReason(ReasonRoleMissing, "the app is missing directory role(s): %s", joinNames(missing))
		r.Roles = missing
		rs = append(rs, r)
	}
	if len(pending) > 0 {
		r := newReason(ReasonRolePending, "directory role(s) not assigned yet (automatic within %s of consent at %s): %s", pol.RoleGrace, p.Consent.At.UTC().Format(time.RFC3339), joinNames(pending))
		r.Roles = pending
		rs = append(rs, r)
	}
	return rs
}

func customReasons(p Profile, obs Observation, now time.Time, pol Policy) []Reason {
	c := p.Custom
	var rs []Reason
	if !c.NotAfter.IsZero() {
		switch {
		case !now.Before(c.NotAfter):
			r := newReason(ReasonCertificateExpired, "the certificate %s of custom app %s expired at %s", c.Thumbprint, c.ApplicationID, c.NotAfter.UTC().Format(time.RFC3339))
			r.Thumbprint = c.Thumbprint
			rs = append(rs, r)
		case c.NotAfter.Sub(now) <= pol.CertificateWarning:
			r := newReason(ReasonCertificateExpiring, "the certificate %s of custom app %s expires at %s", c.Thumbprint, c.ApplicationID, c.NotAfter.UTC().Format(time.RFC3339))
			r.Thumbprint = c.Thumbprint
			rs = append(rs, r)
		}
	}
	reg := obs.App
	if reg == nil {
		return rs
	}
	if !reg.Exists {
		rs = append(rs, newReason(ReasonCustomAppChanged, "the app registration of custom app %s was deleted since consent; a replacement app has a new application ID", c.ApplicationID))
		return rs
	}
	have := normalizeThumbprints(reg.Thumbprints)
	if !slices.Contains(have, strings.ToUpper(c.Thumbprint)) {
		r := newReason(ReasonCertificateNotOnApp, "the certificate %s is no longer among the keyCredentials of custom app %s", c.Thumbprint, c.ApplicationID)
		r.Thumbprint = c.Thumbprint
		rs = append(rs, r)
	}
	if len(c.AppThumbprints) > 0 && !slices.Equal(have, normalizeThumbprints(c.AppThumbprints)) {
		r := newReason(ReasonCertificateChanged, "the certificates of custom app %s changed since consent (now: %s)", c.ApplicationID, joinNames(have))
		r.Thumbprint = c.Thumbprint
		rs = append(rs, r)
	}
	return rs
}

func normalizeThumbprints(ts []string) []string {
	out := make([]string, 0, len(ts))
	for _, t := range ts {
		out = append(out, strings.ToUpper(strings.ReplaceAll(t, ":", "")))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func userReasons(p Profile, obs Observation, now time.Time, pol Policy) []Reason {
	var rs []Reason
	c := p.Consent
	who := c.UserPrincipalName
	if who == "" {
		who = c.UserID
	}
	if u := obs.ConsentUser; u != nil {
		switch {
		case !u.Exists:
			rs = append(rs, newReason(ReasonUserDeleted, "the consent user %s was deleted", who))
		case !u.AccountEnabled:
			rs = append(rs, newReason(ReasonUserDisabled, "the consent user %s is blocked from signing in (account disabled)", who))
		}
		if u.Exists {
			pwReset := u.LastPasswordChange.After(c.At)
			if pwReset {
				rs = append(rs, newReason(ReasonUserPasswordReset, "the password of consent user %s was changed at %s, after consent", who, u.LastPasswordChange.UTC().Format(time.RFC3339)))
			}
			if !pwReset && u.SessionsValidFrom.After(c.At) {
				rs = append(rs, newReason(ReasonUserSessionsRevoked, "the sign-in sessions of consent user %s were revoked at %s, after consent", who, u.SessionsValidFrom.UTC().Format(time.RFC3339)))
			}
			if c.UserHadLicenses && !u.Licensed {
				rs = append(rs, newReason(ReasonUserLicensesRemoved, "the Microsoft 365 licences of consent user %s were removed", who))
			}
			mfaBySignIn := obs.Delegated != nil && obs.Delegated.MFARequired && !obs.Delegated.RefreshSucceeded
			if !c.UserHadMFA && (mfaBySignIn || !u.MFAEnabledAt.IsZero() && u.MFAEnabledAt.After(c.At)) {
				rs = append(rs, newReason(ReasonUserMFAEnabled, "multi-factor authentication was enabled for consent user %s after consent", who))
			}
		}
	}
	if d := obs.Delegated; d != nil {
		if d.RefreshSucceeded {
			// The token endpoint just answered; sign-in failures it contradicts are stale.
			cp := *d
			cp.BlockedByConditionalAccess, cp.MFARequired, cp.RefreshTokenExpired = false, false, false
			d = &cp
		}
		if d.BlockedByConditionalAccess {
			ip := d.BlockedIP
			if ip == "" {
				ip = c.OriginalIP
			}
			r := newReason(ReasonConditionalAccessIP, "a Conditional Access policy blocks the delegated sign-ins of %s; allow the original IP address %s", who, ipOrUnknown(ip))
			r.IP = ip
			rs = append(rs, r)
		}
		last := d.LastUsed
		if last.IsZero() {
			last = c.At
		}
		rs = append(rs, refreshReasons(rs, d.RefreshRejected, who, c.OriginalIP)...)
		if d.RefreshTokenExpired || now.Sub(last) > pol.RefreshTokenLifetime {
			rs = append(rs, newReason(ReasonRefreshTokenExpired, "the refresh token of the delegated consent by %s has expired (last used %s)", who, last.UTC().Format(time.RFC3339)))
		}
	}
	return rs
}

func ipOrUnknown(ip string) string {
	if ip == "" {
		return "(unknown: see the tenant's sign-in logs)"
	}
	return ip
}

func cloneReasons(rs []Reason) []Reason {
	if rs == nil {
		return nil
	}
	out := make([]Reason, len(rs))
	for i, r := range rs {
		out[i] = r.clone()
	}
	return out
}

// refreshReasons maps a refused token refresh to a reason, unless the directory already explained
// it (have).
func refreshReasons(have []Reason, code, who, ip string) []Reason {
	if code == "" {
		return nil
	}
	already := func(codes ...ReasonCode) bool {
		for _, r := range have {
			if slices.Contains(codes, r.Code) {
				return true
			}
		}
		return false
	}
	switch code {
	case "AADSTS50173", "AADSTS50133", "AADSTS70043":
		if !already(ReasonUserPasswordReset, ReasonUserSessionsRevoked) {
			return []Reason{newReason(ReasonUserSessionsRevoked, "the token of consent user %s was revoked (%s: password changed or sessions revoked)", who, code)}
		}
	case "AADSTS50057":
		if !already(ReasonUserDisabled) {
			return []Reason{newReason(ReasonUserDisabled, "the consent user %s is disabled (%s)", who, code)}
		}
	case "AADSTS50034":
		if !already(ReasonUserDeleted) {
			return []Reason{newReason(ReasonUserDeleted, "the consent user %s no longer exists (%s)", who, code)}
		}
	case "AADSTS50076", "AADSTS50079":
		if !already(ReasonUserMFAEnabled) {
			return []Reason{newReason(ReasonUserMFAEnabled, "consent user %s must now use multi-factor authentication (%s)", who, code)}
		}
	case "AADSTS53003":
		if !already(ReasonConditionalAccessIP) {
			r := newReason(ReasonConditionalAccessIP, "a Conditional Access policy blocks the delegated sign-ins of %s (%s); allow the original IP address %s", who, code, ipOrUnknown(ip))
			r.IP = ip
			return []Reason{r}
		}
	case "AADSTS65001":
		if !already(ReasonGrantMissing) {
			return []Reason{newReason(ReasonGrantMissing, "the delegated grant of consent user %s was revoked (%s)", who, code)}
		}
	default: // AADSTS700082 (expired), AADSTS9002313 (no usable refresh token) and others
		if !already(ReasonRefreshTokenExpired) {
			return []Reason{newReason(ReasonRefreshTokenExpired, "the refresh token of the delegated consent by %s was refused (%s)", who, code)}
		}
	}
	return nil
}
