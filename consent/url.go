package consent

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"slices"
	"strings"
)

// Authority hosts (Microsoft Entra ID sign-in endpoints) of the Microsoft clouds.
const (
	PublicCloudAuthority  = "https://login.microsoftonline.com"
	USGovernmentAuthority = "https://login.microsoftonline.us"
	ChinaAuthority        = "https://login.chinacloudapi.cn"
)

// Microsoft Graph endpoints of the Microsoft clouds; the default scope of a consent URL is
// "<graph endpoint>/.default".
const (
	PublicCloudGraph  = "https://graph.microsoft.com"
	USGovernmentGraph = "https://graph.microsoft.us"
	USGovDoDGraph     = "https://dod-graph.microsoft.us"
	ChinaGraph        = "https://microsoftgraph.chinacloudapi.cn"
)

// Errors of consent URL building.
var (
	// ErrInvalidAuthority: the authority host is not an https URL without path (http is accepted
	// only for a loopback emulator).
	ErrInvalidAuthority = errors.New("consent: invalid authority host")
	// ErrRedirectURINotAllowed: the redirect URI is not exactly one of the allow-listed URIs.
	ErrRedirectURINotAllowed = errors.New("consent: redirect URI not in the allow-list")
	// ErrInvalidConsentRequest: a consent URL request has a bad tenant, client ID, state or scope.
	ErrInvalidConsentRequest = errors.New("consent: invalid consent URL request")
)

// URLBuilder builds consent URLs. The zero value is not usable: RedirectURIs must list at least
// the URIs the embedder registered on its apps. A URLBuilder is a plain value, safe for concurrent
// use once built.
type URLBuilder struct {
	// AuthorityHost is the Entra ID sign-in host, e.g. PublicCloudAuthority (the default when
	// empty), USGovernmentAuthority, or a local emulator such as "http://127.0.0.1:8443" in tests.
	AuthorityHost string
	// GraphEndpoint is the Microsoft Graph endpoint whose ".default" scope is requested when a
	// request names no scopes; when empty, the Graph endpoint of AuthorityHost's cloud
	// (GraphEndpointFor), and PublicCloudGraph for an authority of no known cloud (an emulator).
	GraphEndpoint string
	// RedirectURIs is the allow-list: a request's redirect URI must equal one of them exactly
	// (Entra ID compares redirect URIs exactly too). Each must be an absolute https URI (http only
	// for loopback) without fragment.
	RedirectURIs []string
	// Rand is the source of PKCE verifiers; crypto/rand.Reader when nil. A builder used by several
	// goroutines needs a Rand that is safe for concurrent use (crypto/rand.Reader is).
	Rand io.Reader
}

// Validate checks the authority host and every allow-listed redirect URI, so a misconfiguration
// shows at start-up rather than at the first consent. Errors wrap ErrInvalidAuthority or
// ErrRedirectURINotAllowed.
func (b URLBuilder) Validate() error {
	if _, err := b.authority(); err != nil {
		return err
	}
	if len(b.RedirectURIs) == 0 {
		return fmt.Errorf("%w: the allow-list is empty; list the redirect URIs registered on the apps", ErrRedirectURINotAllowed)
	}
	for _, uri := range b.RedirectURIs {
		if err := b.checkRedirect(uri); err != nil {
			return err
		}
	}
	return nil
}

// AdminConsentRequest asks for an admin-consent URL.
type AdminConsentRequest struct {
	// Tenant is the tenant ID (GUID), a verified domain, or "organizations". Not "common".
	Tenant string
	// ClientID is the app's application (client) ID.
	ClientID string
	// RedirectURI must be in the builder's allow-list and registered on the app.
	RedirectURI string
	// State is the encoded state from StateCodec.Issue.
	State string
	// Scopes, each "<resource>/.default"; "<GraphEndpoint>/.default" when empty.
	Scopes []string
}

// UserConsentRequest asks for a user-consent (authorization code) URL.
type UserConsentRequest struct {
	// Tenant is the tenant ID (GUID), a verified domain, or "organizations". Not "common".
	Tenant      string
	ClientID    string
	RedirectURI string
	State       string
	// Scopes requested; when empty: openid profile offline_access <GraphEndpoint>/.default (the
	// app's statically configured delegated permissions, and a refresh token).
	Scopes []string
	// LoginHint pre-fills the account (e.g. the consent user's UPN); optional.
	LoginHint string
	// PKCEVerifier, when set, is used instead of a fresh random verifier — for a caller that
	// derives it (e.g. HMAC of a server secret and the state's nonce) rather than storing it. It
	// must be 43-128 characters of A-Z a-z 0-9 - . _ ~ (RFC 7636) and never derivable from the
	// state alone.
	PKCEVerifier PKCEVerifier
}

func (b URLBuilder) authority() (*url.URL, error) {
	host := b.AuthorityHost
	if host == "" {
		host = PublicCloudAuthority
	}
	u, err := url.Parse(host)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || (u.Path != "" && u.Path != "/") {
		return nil, fmt.Errorf("%w %q: use a scheme and host only, e.g. %s", ErrInvalidAuthority, host, PublicCloudAuthority)
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !isLoopback(u.Hostname()) {
			return nil, fmt.Errorf("%w %q: http is accepted only for a loopback emulator; use https", ErrInvalidAuthority, host)
		}
	default:
		return nil, fmt.Errorf("%w %q: scheme must be https", ErrInvalidAuthority, host)
	}
	return &url.URL{Scheme: u.Scheme, Host: u.Host}, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (b URLBuilder) checkRedirect(uri string) error {
	if !slices.Contains(b.RedirectURIs, uri) {
		return fmt.Errorf("%w: %q; add it to URLBuilder.RedirectURIs and register it on the app", ErrRedirectURINotAllowed, uri)
	}
	u, err := url.Parse(uri)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("%w: %q must be an absolute URI without fragment", ErrRedirectURINotAllowed, uri)
	}
	if u.Scheme != "https" && !(u.Scheme == "http" && isLoopback(u.Hostname())) {
		return fmt.Errorf("%w: %q must use https (http only on loopback)", ErrRedirectURINotAllowed, uri)
	}
	return nil
}

// checkTenant accepts a GUID, a domain name or "organizations".
func checkTenant(t string) (string, error) {
	if g, ok := canonicalGUID(t); ok {
		return g, nil
	}
	switch strings.ToLower(t) {
	case "organizations":
		return "organizations", nil
	case "common", "consumers":
		return "", fmt.Errorf("%w: tenant %q; consent for a customer uses its tenant ID (or \"organizations\")", ErrInvalidConsentRequest, t)
	}
	if len(t) == 0 || len(t) > 253 || !strings.Contains(t, ".") {
		return "", fmt.Errorf("%w: tenant %q is neither a tenant ID (GUID) nor a domain name", ErrInvalidConsentRequest, t)
	}
	for _, label := range strings.Split(t, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return "", fmt.Errorf("%w: tenant %q is not a valid domain name", ErrInvalidConsentRequest, t)
		}
		for _, r := range label {
			if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '-') {
				return "", fmt.Errorf("%w: tenant %q is not a valid domain name", ErrInvalidConsentRequest, t)
			}
		}
	}
	return strings.ToLower(t), nil
}

func checkCommon(tenant, clientID, state string) (string, string, error) {
	t, err := checkTenant(tenant)
	if err != nil {
		return "", "", err
	}
	c, ok := canonicalGUID(clientID)
	if !ok {
		return "", "", fmt.Errorf("%w: client ID %q is not an application ID (GUID)", ErrInvalidConsentRequest, clientID)
	}
	if state == "" || len(state) > maxStateLen {
		return "", "", fmt.Errorf("%w: state must be 1-%d bytes; issue one with StateCodec.Issue", ErrInvalidConsentRequest, maxStateLen)
	}
	return t, c, nil
}

func (b URLBuilder) graphDefault() string {
	g := b.GraphEndpoint
	if g == "" {
		g, _ = GraphEndpointFor(b.AuthorityHost)
	}
	if g == "" {
		g = PublicCloudGraph
	}
	return strings.TrimRight(g, "/") + "/.default"
}

func checkScopes(scopes []string) error {
	for _, s := range scopes {
		if s == "" || strings.ContainsAny(s, " \t\r\n") {
			return fmt.Errorf("%w: scope %q is empty or contains white space", ErrInvalidConsentRequest, s)
		}
	}
	return nil
}

// AdminConsentURL returns the v2 admin-consent URL:
// {authority}/{tenant}/v2.0/adminconsent?client_id=..&scope=..&redirect_uri=..&state=..
// Errors wrap ErrInvalidAuthority, ErrRedirectURINotAllowed or ErrInvalidConsentRequest.
func (b URLBuilder) AdminConsentURL(r AdminConsentRequest) (*url.URL, error) {
	u, err := b.authority()
	if err != nil {
		return nil, err
	}
	tenant, client, err := checkCommon(r.Tenant, r.ClientID, r.State)
	if err != nil {
		return nil, err
	}
	if err := b.checkRedirect(r.RedirectURI); err != nil {
		return nil, err
	}
	scopes := r.Scopes
	if len(scopes) == 0 {
		scopes = []string{b.graphDefault()}
	}
	if err := checkScopes(scopes); err != nil {
		return nil, err
	}
	for _, s := range scopes {
		if !strings.HasSuffix(s, "/.default") {
			return nil, fmt.Errorf("%w: admin consent requests \"<resource>/.default\" scopes, not %q", ErrInvalidConsentRequest, s)
		}
	}
	u.Path = "/" + tenant + "/v2.0/adminconsent"
	q := url.Values{}
	q.Set("client_id", client)
	q.Set("scope", strings.Join(scopes, " "))
	q.Set("redirect_uri", r.RedirectURI)
	q.Set("state", r.State)
	u.RawQuery = q.Encode()
	return u, nil
}

// UserConsentURL returns an authorize-endpoint URL that asks the signed-in account for consent:
// {authority}/{tenant}/oauth2/v2.0/authorize with response_type=code, response_mode=query,
// prompt=consent and a PKCE S256 challenge. It also returns the PKCE verifier: keep it server-side
// with the pending consent (never in the state, a cookie or the URL) and pass it when redeeming
// the code. Errors are those of AdminConsentURL, or a failure to read randomness.
func (b URLBuilder) UserConsentURL(r UserConsentRequest) (*url.URL, PKCEVerifier, error) {
	u, err := b.authority()
	if err != nil {
		return nil, "", err
	}
	tenant, client, err := checkCommon(r.Tenant, r.ClientID, r.State)
	if err != nil {
		return nil, "", err
	}
	if err := b.checkRedirect(r.RedirectURI); err != nil {
		return nil, "", err
	}
	scopes := r.Scopes
	if len(scopes) == 0 {
		scopes = []string{"openid", "profile", "offline_access", b.graphDefault()}
	}
	if err := checkScopes(scopes); err != nil {
		return nil, "", err
	}
	rnd := b.Rand
	if rnd == nil {
		rnd = rand.Reader
	}
	verifier := r.PKCEVerifier
	if verifier == "" {
		if verifier, err = NewPKCEVerifier(rnd); err != nil {
			return nil, "", err
		}
	} else if !verifier.valid() {
		return nil, "", fmt.Errorf("%w: the PKCE verifier must be 43-128 characters of A-Z a-z 0-9 - . _ ~", ErrInvalidConsentRequest)
	}
	u.Path = "/" + tenant + "/oauth2/v2.0/authorize"
	q := url.Values{}
	q.Set("client_id", client)
	q.Set("response_type", "code")
	q.Set("response_mode", "query")
	q.Set("redirect_uri", r.RedirectURI)
	q.Set("scope", strings.Join(scopes, " "))
	q.Set("state", r.State)
	q.Set("prompt", "consent")
	q.Set("code_challenge", verifier.Challenge())
	q.Set("code_challenge_method", "S256")
	if r.LoginHint != "" {
		q.Set("login_hint", r.LoginHint)
	}
	u.RawQuery = q.Encode()
	return u, verifier, nil
}

// PKCEVerifier is an RFC 7636 code verifier: 43 characters of base64url from 32 random bytes. It is
// a secret until the code is redeemed; String and GoString redact it (use string(v) to send it).
type PKCEVerifier string

// NewPKCEVerifier reads 32 bytes from r.
func NewPKCEVerifier(r io.Reader) (PKCEVerifier, error) {
	b := make([]byte, 32)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", fmt.Errorf("consent: reading random PKCE verifier: %w", err)
	}
	return PKCEVerifier(base64.RawURLEncoding.EncodeToString(b)), nil
}

func (v PKCEVerifier) valid() bool {
	if len(v) < 43 || len(v) > 128 {
		return false
	}
	for _, r := range v {
		if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '-' || r == '.' || r == '_' || r == '~') {
			return false
		}
	}
	return true
}

// Challenge returns the S256 code challenge: BASE64URL(SHA256(verifier)).
func (v PKCEVerifier) Challenge() string {
	sum := sha256.Sum256([]byte(v))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// String redacts the verifier.
func (v PKCEVerifier) String() string { return "[redacted PKCE verifier]" }

// GoString redacts the verifier.
func (v PKCEVerifier) GoString() string { return v.String() }

// LogValue implements slog.LogValuer, redacting the verifier (a JSON handler would otherwise print
// the string).
func (v PKCEVerifier) LogValue() slog.Value { return slog.StringValue(v.String()) }
