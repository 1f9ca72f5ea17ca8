package consent

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// Sentinels for the outcomes Microsoft Entra ID reports with AADSTS codes (in a consent callback's
// error_description or a token endpoint's error body). A *AADSTSError wraps one of them.
var (
	// ErrConsentDeclined: the user or administrator declined consent (AADSTS65004, or error
	// access_denied without a code).
	ErrConsentDeclined = errors.New("consent: consent declined")
	// ErrAdminApprovalRequired: the account may not consent; an administrator must approve
	// (AADSTS90094, AADSTS90099).
	ErrAdminApprovalRequired = errors.New("consent: administrator approval required")
	// ErrConsentRequired: the app has not been consented for the requested permissions (AADSTS65001).
	ErrConsentRequired = errors.New("consent: consent missing")
	// ErrAppNotInTenant: the app has no service principal in the tenant — never consented, consent
	// removed, or the wrong tenant (AADSTS700016).
	ErrAppNotInTenant = errors.New("consent: app not found in tenant")
	// ErrUserFromOtherTenant: the signed-in account belongs to another tenant (AADSTS50020).
	ErrUserFromOtherTenant = errors.New("consent: account from another tenant")
	// ErrBlockedByConditionalAccess: a Conditional Access policy blocked the sign-in (AADSTS53003).
	ErrBlockedByConditionalAccess = errors.New("consent: blocked by Conditional Access")
	// ErrMFARequired: multi-factor authentication is required (AADSTS50076, AADSTS50079).
	ErrMFARequired = errors.New("consent: multi-factor authentication required")
	// ErrGrantExpired: the grant or refresh token expired or was revoked, e.g. after a password
	// change (AADSTS50173, AADSTS700082).
	ErrGrantExpired = errors.New("consent: grant expired or revoked")
	// ErrRedirectURIMismatch: the redirect URI is not registered on the app (AADSTS50011).
	ErrRedirectURIMismatch = errors.New("consent: redirect URI not registered on the app")
	// ErrConsentFailed: Microsoft Entra ID reported an error this package does not classify. The
	// *AADSTSError carries the code and description.
	ErrConsentFailed = errors.New("consent: Microsoft Entra ID reported an error")
	// ErrEntraUnavailable: Microsoft Entra ID had a temporary problem (OAuth error server_error
	// or temporarily_unavailable); the same request may succeed when retried after a short delay
	// (entra-docs docs/identity-platform/v2-oauth2-auth-code-flow.md, "Error codes for
	// authorization endpoint errors": "Retry the request"). AADSTSError.Retryable reports it.
	ErrEntraUnavailable = errors.New("consent: Microsoft Entra ID is temporarily unavailable")
)

type aadstsInfo struct {
	// sentinel classifies the outcome for consent flows (nil: ErrConsentFailed).
	sentinel error
	// driver is the Driver SPI sentinel the code means for token requests and Graph reads, so a
	// driver can return ErrorFromAADSTS as is; nil when none applies.
	driver      error
	remediation string
}

var aadstsCodes = map[int]aadstsInfo{
	65004:   {ErrConsentDeclined, nil, "the account declined the consent prompt; start consent again and accept the requested permissions"},
	90094:   {ErrAdminApprovalRequired, nil, "the account may not consent to these permissions; consent again with administrator consent from an account that may consent to this app type, or have an administrator approve the request"},
	90099:   {ErrAdminApprovalRequired, nil, "the app has not been authorized in the tenant; an administrator must grant admin consent before user consent"},
	65001:   {ErrConsentRequired, nil, "the app lacks consent for the requested permissions; re-authorize the app profile (administrator consent)"},
	700016:  {ErrAppNotInTenant, ErrNotConsented, "the app is not in the tenant (never consented, removed, or the wrong tenant); check the tenant ID, then re-authorize the app profile; right after consent, retry after a short wait"},
	50020:   {ErrUserFromOtherTenant, nil, "the account signed in belongs to another tenant; sign in with an account of the customer's tenant (not a guest)"},
	53003:   {ErrBlockedByConditionalAccess, nil, "a Conditional Access policy blocked the sign-in; for delegated apps add the original IP address to the tenant's Conditional Access policies, then re-authorize"},
	50076:   {ErrMFARequired, nil, "the account must complete multi-factor authentication; re-authorize the app profile interactively"},
	50079:   {ErrMFARequired, nil, "the account must register for multi-factor authentication; register, then re-authorize the app profile"},
	50173:   {ErrGrantExpired, ErrInvalidGrant, "the grant expired or was revoked (for example the consent user's password changed); re-authorize the app profile"},
	700082:  {ErrGrantExpired, ErrInvalidGrant, "the refresh token expired from inactivity; re-authorize the app profile"},
	70008:   {ErrGrantExpired, ErrInvalidGrant, "the authorization code or refresh token expired; start consent again"},
	54005:   {nil, ErrInvalidGrant, "the authorization code was already redeemed; start consent again"},
	50011:   {ErrRedirectURIMismatch, nil, "the redirect URI is not registered on the app; register it exactly, or use a registered one"},
	90002:   {nil, ErrTenantNotFound, "the tenant does not exist; check the tenant ID"},
	7000112: {nil, ErrAppDisabled, "the app's enterprise application is disabled in the tenant; enable it (Enterprise applications > the app > Properties > Enabled for users to sign in)"},
	7000215: {nil, ErrInvalidCredential, "the client secret is wrong; supply the app's current credential"},
	7000222: {nil, ErrInvalidCredential, "the app's client secret has expired; create a new credential and update the app profile"},
	7000218: {nil, ErrInvalidCredential, "no client credential was sent; supply the app's certificate (.pfx) or secret"},
	700027:  {nil, ErrInvalidCredential, "the certificate is not registered on the app; upload the matching .cer/.crt to the app registration or supply the right .pfx"},
	700024:  {nil, ErrInvalidCredential, "the client assertion is outside its validity window; check this machine's clock"},
}

// maxDescription bounds the description kept in an AADSTSError and its message.
const maxDescription = 1024

// AADSTSError is an error reported by Microsoft Entra ID: the OAuth error code, the AADSTS code parsed
// from the description (0 when there is none) and the description's first line. It wraps the
// sentinel of its code (ErrConsentDeclined, ErrMFARequired, ...) or ErrConsentFailed, so callers
// use errors.Is for the outcome and errors.As for detail.
//
// Entra ID descriptions carry trace and correlation IDs, never tokens or codes; ErrorFromAADSTS cuts
// the description at its first line and to 1 KiB, with control characters removed. A driver that
// reads the token endpoint's "error_codes" array may also build the value directly:
// &AADSTSError{Code: codes[0], OAuthError: body.Error}; Unwrap derives the sentinels from Code.
type AADSTSError struct {
	// Code is the AADSTS number, e.g. 65004; 0 when the description has none.
	Code int
	// OAuthError is the OAuth 2.0 error code, e.g. "consent_required" or "access_denied".
	OAuthError string
	// Description is the first line of error_description.
	Description string
	// Subcode is the error_subcode of a consent callback, e.g. "cancel" (the user cancelled the
	// prompt); empty when none was sent.
	Subcode string
}

// Retryable reports whether Entra ID asks the client to retry the same request after a short
// delay (server_error, temporarily_unavailable).
func (e *AADSTSError) Retryable() bool { return errors.Is(e.sentinel(), ErrEntraUnavailable) }

func (e *AADSTSError) Error() string {
	var b strings.Builder
	b.WriteString("consent: Microsoft Entra ID")
	if e.Code != 0 {
		fmt.Fprintf(&b, " AADSTS%d", e.Code)
	}
	if e.OAuthError != "" {
		fmt.Fprintf(&b, " (%s)", e.OAuthError)
	}
	d := e.Description
	if e.Code != 0 {
		d = strings.TrimPrefix(d, fmt.Sprintf("AADSTS%d:", e.Code))
	}
	if d = strings.TrimRight(strings.TrimSpace(d), "."); d != "" {
		b.WriteString(": ")
		b.WriteString(d)
	}
	b.WriteString("; ")
	b.WriteString(e.Remediation())
	return b.String()
}

// Unwrap returns the sentinel of the code for consent flows (ErrConsentDeclined, ...,
// ErrConsentFailed) and, when the code has one, the Driver sentinel it means for token requests
// (ErrNotConsented for 700016, ErrInvalidGrant for 50173, ErrInvalidCredential for 700027,
// ErrTenantNotFound for 90002, ...), so errors.Is works with either family.
func (e *AADSTSError) Unwrap() []error {
	if info, ok := aadstsCodes[e.Code]; ok && info.driver != nil {
		return []error{e.sentinel(), info.driver}
	}
	return []error{e.sentinel()}
}

func (e *AADSTSError) sentinel() error {
	if info, ok := aadstsCodes[e.Code]; ok && info.sentinel != nil {
		return info.sentinel
	}
	switch e.OAuthError {
	case "access_denied", "permission_denied":
		return ErrConsentDeclined
	case "consent_required":
		return ErrConsentRequired
	case "server_error", "temporarily_unavailable":
		if _, known := aadstsCodes[e.Code]; !known {
			// A code this package knows (e.g. AADSTS90002) says more than the generic error.
			return ErrEntraUnavailable
		}
	}
	return ErrConsentFailed
}

// Remediation says what to do about the error.
func (e *AADSTSError) Remediation() string {
	if info, ok := aadstsCodes[e.Code]; ok {
		return info.remediation
	}
	switch e.sentinel() {
	case ErrConsentDeclined:
		if e.Subcode == "cancel" {
			return "the account cancelled the consent prompt; start consent again and accept the requested permissions"
		}
		return "consent was declined or cancelled; start consent again and accept the requested permissions"
	case ErrEntraUnavailable:
		return "Microsoft Entra ID had a temporary problem; retry the consent after a short delay"
	case ErrConsentRequired:
		return "the app lacks consent; re-authorize the app profile (administrator consent)"
	}
	if e.Code != 0 {
		return fmt.Sprintf("look up AADSTS%d in Microsoft's error code reference (https://login.microsoftonline.com/error?code=%d)", e.Code, e.Code)
	}
	return "see the error description; if it persists, re-authorize the app profile"
}

// ParseAADSTS finds the first "AADSTS<digits>" in an error description and returns the number.
// It returns false when there is none or the number does not fit 9 digits.
func ParseAADSTS(description string) (code int, ok bool) {
	s := description
	for {
		i := strings.Index(s, "AADSTS")
		if i < 0 {
			return 0, false
		}
		s = s[i+len("AADSTS"):]
		n := 0
		for n < len(s) && s[n] >= '0' && s[n] <= '9' {
			n++
		}
		if n > 0 && n <= 9 {
			v, err := strconv.Atoi(s[:n])
			if err == nil {
				return v, true
			}
		}
		if n > 9 {
			s = s[n:]
		}
	}
}

// ErrorFromAADSTS turns an OAuth error code and description (from a consent callback or a token
// endpoint's error body) into a *AADSTSError. It returns nil when both are empty. The token
// endpoint's "error_codes" array, when present, is authoritative; pass its first element as
// "AADSTS<n>" in the description if the description lacks it.
func ErrorFromAADSTS(errCode, description string) error {
	if errCode == "" && description == "" {
		return nil
	}
	code, _ := ParseAADSTS(description)
	return &AADSTSError{Code: code, OAuthError: cleanLine(errCode, 128), Description: cleanLine(description, maxDescription)}
}

// cleanLine keeps the first line of s, without control characters, cut to max bytes on a rune
// boundary.
func cleanLine(s string, max int) string {
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i]
	}
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == unicode.ReplacementChar {
			return -1
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut]
	}
	return s
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
