package consent

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"unicode/utf8"
)

// ErrMalformedCallback: the redirect back from Microsoft Entra ID cannot be a genuine consent
// callback (a parameter repeated, too long or invalid, or neither a result nor an error). Show a
// generic error and start consent again; do not act on any of its fields.
var ErrMalformedCallback = errors.New("consent: malformed consent callback")

// Flow is the OAuth flow a callback completes.
type Flow string

const (
	// AdminConsentFlow: the admin-consent endpoint redirected back with admin_consent and tenant.
	AdminConsentFlow Flow = "admin-consent"
	// AuthorizationCodeFlow: the authorize endpoint redirected back with an authorization code (user
	// consent); the code is redeemed with the PKCE verifier.
	AuthorizationCodeFlow Flow = "authorization-code"
)

// Callback is a parsed consent callback. Its fields are what Microsoft Entra ID (or whoever
// controls the browser) sent; nothing in it is authenticated until the state is verified, and the
// tenant of an admin-consent callback is only proven by acquiring a token in it.
type Callback struct {
	Flow Flow `json:"flow,omitempty"`
	// AdminConsent is the admin_consent parameter ("True" / "False", any case); false when absent.
	AdminConsent bool `json:"adminConsent,omitempty"`
	// Tenant is the tenant ID of an admin-consent callback (a GUID, lower-cased).
	Tenant string `json:"tenant,omitempty"`
	// State is the state parameter as sent; verify it with a StateCodec.
	State string `json:"state,omitempty"`
	// Code is the authorization code of a user-consent callback. It is a secret: redeem it once, do
	// not log it. Callback.String omits it.
	Code string `json:"-"`
	// Scopes are the granted scopes of the scope parameter, when present.
	Scopes []string `json:"scopes,omitempty"`
	// Error and ErrorDescription are the OAuth error parameters, when present.
	Error            string `json:"error,omitempty"`
	ErrorDescription string `json:"errorDescription,omitempty"`
	// ErrorSubcode is the error_subcode parameter, e.g. "cancel" when the user cancelled the
	// sign-in or consent prompt (Microsoft's MSAL libraries read error_subcode=cancel as a user
	// cancellation: AzureAD/microsoft-authentication-library-for-dotnet AuthorizationResult).
	ErrorSubcode string `json:"errorSubcode,omitempty"`
}

// String describes the callback without the authorization code.
func (c Callback) String() string {
	code := ""
	if c.Code != "" {
		code = " code=[redacted]"
	}
	return fmt.Sprintf("consent callback flow=%s admin_consent=%t tenant=%q scopes=%q error=%q%s", c.Flow, c.AdminConsent, c.Tenant, c.Scopes, c.Error, code)
}

// GoString is String, so that %#v does not print the authorization code.
func (c Callback) GoString() string { return c.String() }

// LogValue implements slog.LogValuer without the authorization code.
func (c Callback) LogValue() slog.Value {
	return slog.GroupValue(slog.String("flow", string(c.Flow)), slog.Bool("admin_consent", c.AdminConsent),
		slog.String("tenant", c.Tenant), slog.Any("scopes", c.Scopes), slog.String("error", c.Error), slog.Bool("has_code", c.Code != ""))
}

// Values encodes the callback back into query parameters (the inverse of ParseCallback for an
// accepted callback).
func (c Callback) Values() url.Values {
	v := url.Values{}
	if c.Flow == AdminConsentFlow || c.AdminConsent {
		if c.AdminConsent {
			v.Set("admin_consent", "True")
		} else {
			v.Set("admin_consent", "False")
		}
	}
	set := func(k, val string) {
		if val != "" {
			v.Set(k, val)
		}
	}
	set("tenant", c.Tenant)
	set("state", c.State)
	set("code", c.Code)
	set("scope", strings.Join(c.Scopes, " "))
	set("error", c.Error)
	set("error_description", c.ErrorDescription)
	set("error_subcode", c.ErrorSubcode)
	return v
}

// Limits on callback parameters; genuine values are far shorter (authorization codes are about
// 1-2 KB).
const (
	maxStateLen       = 4096
	maxCodeLen        = 8192
	maxScopeLen       = 8192
	maxErrorLen       = 128
	maxErrorDescLen   = 8192
	maxCallbackParams = 32
)

// ParseCallbackURL is ParseCallback for the full callback URL.
func ParseCallbackURL(u *url.URL) (Callback, error) {
	if u == nil {
		return Callback{}, fmt.Errorf("%w: no URL", ErrMalformedCallback)
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return Callback{}, fmt.Errorf("%w: query string does not parse; start consent again", ErrMalformedCallback)
	}
	return ParseCallback(q)
}

// ParseCallback parses the query parameters of a consent callback: admin_consent, tenant, state,
// code, scope, error, error_description and error_subcode.
//
// It returns:
//   - the callback and nil for a success: an admin-consent callback (admin_consent=True, a tenant
//     GUID and a state) or an authorization-code callback (a code and a state);
//   - the callback (with State set when it was sent) and a *AADSTSError when Entra ID reported an
//     error, or admin_consent=False without one (wrapping ErrConsentDeclined) — verify the state and
//     consume its nonce before showing the error, so the attempt cannot be replayed; an error
//     callback without state (Entra sends those too) or with a tenant that is not a GUID (the
//     tenant is then dropped) still reports its error, with error_subcode in
//     AADSTSError.Subcode;
//   - an error wrapping ErrMalformedCallback for anything else: a repeated parameter, a value over
//     its length limit or not valid UTF-8, an admin_consent other than True/False, a tenant that is
//     not a GUID, a success without state, or both a code and admin_consent.
//
// ParseCallback never panics and is safe for concurrent use. It does not verify the state; use
// StateCodec.VerifyCallback.
func ParseCallback(q url.Values) (Callback, error) {
	if len(q) > maxCallbackParams {
		return Callback{}, fmt.Errorf("%w: %d parameters", ErrMalformedCallback, len(q))
	}
	get := func(key string, max int) (string, error) {
		vs, ok := q[key]
		if !ok {
			return "", nil
		}
		if len(vs) != 1 {
			return "", fmt.Errorf("%w: parameter %q appears %d times", ErrMalformedCallback, key, len(vs))
		}
		v := vs[0]
		if len(v) > max {
			return "", fmt.Errorf("%w: parameter %q is %d bytes, over the limit of %d", ErrMalformedCallback, key, len(v), max)
		}
		if !utf8.ValidString(v) {
			return "", fmt.Errorf("%w: parameter %q is not valid UTF-8", ErrMalformedCallback, key)
		}
		return v, nil
	}
	var c Callback
	var err error
	var adminConsent, scope string
	for _, f := range []struct {
		key string
		max int
		dst *string
	}{
		{"admin_consent", 16, &adminConsent},
		{"tenant", 64, &c.Tenant},
		{"state", maxStateLen, &c.State},
		{"code", maxCodeLen, &c.Code},
		{"scope", maxScopeLen, &scope},
		{"error", maxErrorLen, &c.Error},
		{"error_description", maxErrorDescLen, &c.ErrorDescription},
		{"error_subcode", maxErrorLen, &c.ErrorSubcode},
	} {
		if *f.dst, err = get(f.key, f.max); err != nil {
			return Callback{}, err
		}
	}
	hasAdminConsent := false
	switch {
	case adminConsent == "":
		if _, present := q["admin_consent"]; present {
			return Callback{}, fmt.Errorf("%w: admin_consent is empty", ErrMalformedCallback)
		}
	case strings.EqualFold(adminConsent, "true"):
		c.AdminConsent, hasAdminConsent = true, true
	case strings.EqualFold(adminConsent, "false"):
		hasAdminConsent = true
	default:
		return Callback{}, fmt.Errorf("%w: admin_consent must be True or False", ErrMalformedCallback)
	}
	if scope != "" {
		c.Scopes = strings.Fields(scope)
		if len(c.Scopes) == 0 {
			c.Scopes = nil
		}
	}
	hasError := c.Error != "" || c.ErrorDescription != ""
	if c.Tenant != "" {
		t, ok := canonicalGUID(c.Tenant)
		switch {
		case ok:
			c.Tenant = t
		case hasError:
			// An error callback reports the error it carries whatever its tenant parameter
			// says (e.g. a domain name, or "common" when the tenant was never resolved); the
			// tenant is dropped, never trusted.
			c.Tenant = ""
		default:
			return Callback{}, fmt.Errorf("%w: tenant is not a tenant ID (GUID)", ErrMalformedCallback)
		}
	}
	if hasAdminConsent && c.Code != "" {
		return Callback{}, fmt.Errorf("%w: both admin_consent and code are present", ErrMalformedCallback)
	}
	switch {
	case hasAdminConsent:
		c.Flow = AdminConsentFlow
	case c.Code != "":
		c.Flow = AuthorizationCodeFlow
	}
	if hasError {
		// Entra ID reports errors with or without admin_consent and state (the admin-consent
		// doc's error example has no state: entra-docs
		// docs/identity-platform/v2-admin-consent.md); an error never carries a usable code.
		c.Code = ""
		return c, c.aadstsError()
	}
	if c.State == "" {
		return Callback{}, fmt.Errorf("%w: no state; the callback cannot be matched to a consent that was started", ErrMalformedCallback)
	}
	switch c.Flow {
	case AdminConsentFlow:
		if c.Tenant == "" {
			return Callback{}, fmt.Errorf("%w: admin-consent callback without tenant", ErrMalformedCallback)
		}
		if !c.AdminConsent {
			return c, &AADSTSError{OAuthError: "access_denied", Description: "admin_consent=False"}
		}
		return c, nil
	case AuthorizationCodeFlow:
		return c, nil
	}
	return Callback{}, fmt.Errorf("%w: neither admin_consent, code nor error is present", ErrMalformedCallback)
}

// aadstsError is the *AADSTSError the callback's error parameters report (nil without any).
func (c Callback) aadstsError() error {
	err := ErrorFromAADSTS(c.Error, c.ErrorDescription)
	var ae *AADSTSError
	if errors.As(err, &ae) {
		ae.Subcode = cleanLine(c.ErrorSubcode, maxErrorLen)
	}
	return err
}
