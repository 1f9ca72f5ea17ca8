package appprofile

import (
	"fmt"
	"slices"
	"strings"
)

// ReasonCode names one thing that is wrong (or about to be) with a profile. Codes are stable
// strings; embedders may key translations and dashboards by them.
type ReasonCode string

// Effect is what a reason does to a profile's status.
type Effect string

const (
	// EffectInvalid makes the profile Invalid.
	EffectInvalid Effect = "invalid"
	// EffectExpired makes the profile Expired (unless another reason makes it Invalid).
	EffectExpired Effect = "expired"
	// EffectWarning leaves the status as it is; something needs attention soon.
	EffectWarning Effect = "warning"
	// EffectPending keeps the profile Pending.
	EffectPending Effect = "pending"
	// EffectInfo leaves the status as it is; it states a limit of what could be checked.
	EffectInfo Effect = "info"
)

// The reasons a profile can have. Each one's effect, remediation and whether re-authorization
// fixes it are listed by Describe.
const (
	ReasonNotConsented     ReasonCode = "not-consented"
	ReasonPermissionsAdded ReasonCode = "permissions-added"
	ReasonGrantMissing     ReasonCode = "grant-missing"
	ReasonGrantExtra       ReasonCode = "grant-extra"
	// ReasonPermissionsPartial: the app type's permission list is partial (permissions.Partial),
	// so a profile whose known rows are all granted is still not known to have every required
	// permission. It never changes the status.
	ReasonPermissionsPartial      ReasonCode = "permissions-partial"
	ReasonRoleMissing             ReasonCode = "role-missing"
	ReasonRolePending             ReasonCode = "role-pending"
	ReasonServicePrincipalDeleted ReasonCode = "service-principal-deleted"
	ReasonServicePrincipalOff     ReasonCode = "service-principal-disabled"
	ReasonCertificateExpired      ReasonCode = "certificate-expired"
	ReasonCertificateExpiring     ReasonCode = "certificate-expiring"
	ReasonCertificateChanged      ReasonCode = "certificate-changed"
	ReasonCertificateNotOnApp     ReasonCode = "certificate-not-on-app"
	ReasonCustomAppChanged        ReasonCode = "custom-app-changed"
	ReasonUserPasswordReset       ReasonCode = "consent-user-password-reset"
	ReasonUserSessionsRevoked     ReasonCode = "consent-user-sessions-revoked"
	ReasonUserDeleted             ReasonCode = "consent-user-deleted"
	ReasonUserDisabled            ReasonCode = "consent-user-disabled"
	ReasonUserLicensesRemoved     ReasonCode = "consent-user-licenses-removed"
	ReasonUserMFAEnabled          ReasonCode = "consent-user-mfa-enabled"
	ReasonConditionalAccessIP     ReasonCode = "conditional-access-blocks-ip"
	ReasonRefreshTokenExpired     ReasonCode = "refresh-token-expired"
	ReasonConsentAccountChange    ReasonCode = "consent-account-change-requested"
)

// Reason is one typed explanation of a profile's status.
type Reason struct {
	Code ReasonCode `json:"code"`
	// Message says what is wrong, naming the permission, role, certificate, user or IP.
	Message string `json:"message"`
	// Remediation says what to do.
	Remediation string `json:"remediation"`
	// FixedByReauthorization reports whether re-authorizing the profile is enough to fix it.
	FixedByReauthorization bool   `json:"fixedByReauthorization"`
	Effect                 Effect `json:"effect"`
	// Permissions names the permissions concerned ("Microsoft Graph Group.Create (Application)").
	Permissions []string `json:"permissions,omitempty"`
	// Roles names the directory roles concerned.
	Roles []string `json:"roles,omitempty"`
	// IP is the address a Conditional Access policy must allow.
	IP string `json:"ip,omitempty"`
	// Thumbprint names the certificate concerned.
	Thumbprint string `json:"thumbprint,omitempty"`
	// Accepted is set when an operator accepted exactly this deviation (Manager.AcceptDeviation)
	// and the acceptance holds: the reason is shown but does not drive the status.
	Accepted *AcceptedDeviation `json:"accepted,omitempty"`
}

func (r Reason) clone() Reason {
	r.Permissions = slices.Clone(r.Permissions)
	r.Roles = slices.Clone(r.Roles)
	if r.Accepted != nil {
		a := r.Accepted.clone()
		r.Accepted = &a
	}
	return r
}

// String renders the reason for people: "invalid: <message> — <remediation>".
func (r Reason) String() string {
	return fmt.Sprintf("%s: %s — %s", r.Effect, r.Message, r.Remediation)
}

// ReasonInfo is the fixed description of a reason code.
type ReasonInfo struct {
	Code                   ReasonCode
	Effect                 Effect
	FixedByReauthorization bool
	// Remediation is the generic advice; a Reason may be more specific.
	Remediation string
}

var reasonInfo = map[ReasonCode]ReasonInfo{
	ReasonNotConsented:            {Effect: EffectPending, FixedByReauthorization: true, Remediation: "authorize the app profile: an administrator of the customer's tenant who may consent to this app type signs in to Microsoft and accepts its permissions"},
	ReasonPermissionsAdded:        {Effect: EffectInvalid, FixedByReauthorization: true, Remediation: "re-authorize the app profile so the new permissions are consented"},
	ReasonGrantMissing:            {Effect: EffectInvalid, FixedByReauthorization: true, Remediation: "re-authorize the app profile (or grant admin consent in Entra ID) so the missing permissions are granted"},
	ReasonPermissionsPartial:      {Effect: EffectInfo, FixedByReauthorization: false, Remediation: "nothing to do for the checked permissions; for the rest, compare the app's grants in Entra ID > Enterprise applications with the app's page in the AvePoint documentation"},
	ReasonGrantExtra:              {Effect: EffectWarning, FixedByReauthorization: false, Remediation: "review the extra permissions in Entra ID > Enterprise applications and revoke the ones the app type does not need"},
	ReasonRoleMissing:             {Effect: EffectInvalid, FixedByReauthorization: false, Remediation: "assign the missing directory roles to the app in the Microsoft Entra admin center (Roles and administrators)"},
	ReasonRolePending:             {Effect: EffectWarning, FixedByReauthorization: false, Remediation: "no action: the roles are assigned automatically within 24 hours after authorization; verify again later"},
	ReasonServicePrincipalDeleted: {Effect: EffectInvalid, FixedByReauthorization: true, Remediation: "re-authorize the app profile; consent re-creates the app's service principal in the tenant"},
	ReasonServicePrincipalOff:     {Effect: EffectInvalid, FixedByReauthorization: false, Remediation: "enable the app in Entra ID > Enterprise applications > Properties (Enabled for users to sign in)"},
	ReasonCertificateExpired:      {Effect: EffectExpired, FixedByReauthorization: true, Remediation: "upload a new certificate (.cer/.crt) to the custom app in Entra ID and re-authorize the profile with the matching .pfx"},
	ReasonCertificateExpiring:     {Effect: EffectWarning, FixedByReauthorization: true, Remediation: "before it expires, upload a new certificate to the custom app and re-authorize the profile with the matching .pfx"},
	ReasonCertificateChanged:      {Effect: EffectWarning, FixedByReauthorization: true, Remediation: "the app's certificates changed; if the certificate was replaced, re-authorize the profile with the new .pfx"},
	ReasonCertificateNotOnApp:     {Effect: EffectInvalid, FixedByReauthorization: true, Remediation: "upload the profile's certificate (.cer/.crt) to the custom app in Entra ID, or re-authorize with the .pfx paired with the app's current certificate"},
	ReasonCustomAppChanged:        {Effect: EffectInvalid, FixedByReauthorization: true, Remediation: "re-authorize the profile with the application ID and .pfx of the app the tenant now uses"},
	ReasonUserPasswordReset:       {Effect: EffectInvalid, FixedByReauthorization: true, Remediation: "re-authorize the app profile (the consent user signs in again)"},
	ReasonUserSessionsRevoked:     {Effect: EffectInvalid, FixedByReauthorization: true, Remediation: "re-authorize the app profile (the consent user's sessions were revoked)"},
	ReasonUserDeleted:             {Effect: EffectInvalid, FixedByReauthorization: true, Remediation: "re-authorize the app profile with another eligible account"},
	ReasonUserDisabled:            {Effect: EffectInvalid, FixedByReauthorization: true, Remediation: "unblock the consent user, or re-authorize the app profile with another eligible account"},
	ReasonUserLicensesRemoved:     {Effect: EffectInvalid, FixedByReauthorization: true, Remediation: "assign the Microsoft 365 licences back to the consent user, or re-authorize with a licensed account"},
	ReasonUserMFAEnabled:          {Effect: EffectInvalid, FixedByReauthorization: true, Remediation: "re-authorize the app profile: the consent user must sign in again with MFA"},
	ReasonConditionalAccessIP:     {Effect: EffectInvalid, FixedByReauthorization: false, Remediation: "add the original IP address to the tenant's Conditional Access policies, then re-authorize or verify again"},
	ReasonRefreshTokenExpired:     {Effect: EffectExpired, FixedByReauthorization: true, Remediation: "re-authorize the app profile: the delegated consent's refresh token has expired"},
	ReasonConsentAccountChange:    {Effect: EffectWarning, FixedByReauthorization: true, Remediation: "re-authorize the app profile with the new consent account"},
}

// Describe returns the fixed description of a code, and false for an unknown code.
func Describe(code ReasonCode) (ReasonInfo, bool) {
	info, ok := reasonInfo[code]
	info.Code = code
	return info, ok
}

// ReasonCodes returns every defined code, sorted.
func ReasonCodes() []ReasonCode {
	out := make([]ReasonCode, 0, len(reasonInfo))
	for c := range reasonInfo {
		out = append(out, c)
	}
	slices.Sort(out)
	return out
}

// newReason builds a Reason from its code's fixed description.
func newReason(code ReasonCode, format string, args ...any) Reason {
	info := reasonInfo[code]
	return Reason{
		Code:                   code,
		Message:                fmt.Sprintf(format, args...),
		Remediation:            info.Remediation,
		FixedByReauthorization: info.FixedByReauthorization,
		Effect:                 info.Effect,
	}
}

// statusOf derives the status from reasons: any Invalid effect wins, then Expired, then Pending;
// warnings alone leave a profile Valid. Accepted reasons do not count.
func statusOf(reasons []Reason) Status {
	var expired, pending bool
	for _, r := range reasons {
		if r.Accepted != nil {
			continue
		}
		switch r.Effect {
		case EffectInvalid:
			return Invalid
		case EffectExpired:
			expired = true
		case EffectPending:
			pending = true
		}
	}
	switch {
	case expired:
		return Expired
	case pending:
		return Pending
	}
	return Valid
}

func joinNames(names []string) string { return strings.Join(names, ", ") }
