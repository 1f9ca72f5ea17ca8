package main

import (
	"context"
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"
)

// Operator sign-in: the MSP's own staff sign in to the portal with OpenID Connect against the
// MSP's Microsoft Entra tenant — the authorization code flow with PKCE, the code redeemed by MSAL
// Go's confidential client (the portal's app registration and its certificate), the ID token's
// signature checked against the tenant's published keys and its claims validated as the
// Microsoft identity platform documents
// (https://learn.microsoft.com/en-us/entra/identity-platform/id-token-claims-reference):
//
//   - iss is "<authority>/<MSP tenant>/v2.0" and tid the MSP tenant: only the MSP's own
//     directory signs operators in (a guest or another tenant's user is refused);
//   - aud is the portal's client ID;
//   - nonce is the one this browser's sign-in sent ("If it doesn't match, your application should
//     reject the token");
//   - exp is in the future and nbf/iat are not (60 s of clock skew allowed);
//   - then oid (or preferred_username) must be on the operator allow-list. Microsoft warns that
//     preferred_username is mutable and must not be used for authorization decisions, so list
//     object IDs; UPN entries are accepted for convenience and logged at start-up.
//
// A signed-in operator gets a session cookie (HttpOnly, SameSite=Lax, Secure over TLS, HMAC
// signed, 8 hours); every route but the sign-in routes and the consent callback (which the
// customer's administrator, not an operator, comes back to, protected by its signed single-use
// state) requires it.

const (
	operatorCookie   = "tenantapps_operator"
	signInCookie     = "tenantapps_signin"
	operatorLifetime = 8 * time.Hour
	signInLifetime   = 10 * time.Minute
	clockSkew        = time.Minute
)

// OperatorConfig configures operator sign-in against the MSP's Entra tenant.
type OperatorConfig struct {
	// AuthorityHost is the Entra host, e.g. https://login.microsoftonline.com (or an emulator).
	AuthorityHost string
	// TenantID is the MSP's own tenant (GUID): operators are its members.
	TenantID string
	// ClientID is the portal's app registration in that tenant, with RedirectURI registered
	// as a Web redirect URI and Credential as its certificate.
	ClientID    string
	Credential  confidential.Credential
	RedirectURI string
	// Operators lists who may operate the portal: object IDs (recommended) or UPNs.
	Operators []string
	// Key signs the session and sign-in cookies (at least 32 bytes).
	Key []byte
	// Secure marks the cookies Secure (the portal is served over HTTPS).
	Secure     bool
	HTTPClient *http.Client
	Now        func() time.Time
	Logger     *slog.Logger
}

// String describes the configuration without the key or the credential.
func (c OperatorConfig) String() string {
	return fmt.Sprintf("operator sign-in: tenant %s, client %s, %d operators", c.TenantID, c.ClientID, len(c.Operators))
}

// operatorAuth signs operators in and checks their sessions. It is safe for concurrent use.
type operatorAuth struct {
	cfg     OperatorConfig
	client  confidential.Client
	ids     map[string]bool // allowed object IDs, lower-case
	upns    map[string]bool // allowed UPNs, lower-case
	issuer  string
	jwksURL string

	mu       sync.Mutex
	keys     map[string]*rsa.PublicKey // kid -> key
	keysRead time.Time
}

// operator is a signed-in operator, as kept in the session cookie.
type operator struct {
	ID   string `json:"oid"`
	UPN  string `json:"upn"`
	Name string `json:"name,omitempty"`
	Exp  int64  `json:"exp"`
}

func newOperatorAuth(c OperatorConfig) (*operatorAuth, error) {
	var problems []string
	if !guidRE.MatchString(c.TenantID) {
		problems = append(problems, "the operators' tenant ID must be a GUID")
	}
	if !guidRE.MatchString(c.ClientID) {
		problems = append(problems, "the portal's sign-in client ID must be a GUID")
	}
	if len(c.Key) < 32 {
		problems = append(problems, "the cookie key must be at least 32 bytes")
	}
	u, err := url.Parse(c.RedirectURI)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		problems = append(problems, "the sign-in redirect URI must be an absolute http(s) URL")
	}
	a := &operatorAuth{cfg: c, ids: map[string]bool{}, upns: map[string]bool{}}
	for _, o := range c.Operators {
		o = strings.ToLower(strings.TrimSpace(o))
		switch {
		case o == "":
		case guidRE.MatchString(o):
			a.ids[o] = true
		case strings.Count(o, "@") == 1 && !strings.ContainsAny(o, " \t,;"):
			a.upns[o] = true
		default:
			problems = append(problems, fmt.Sprintf("operator %q is neither an object ID (GUID) nor a UPN", o))
		}
	}
	if len(a.ids)+len(a.upns) == 0 {
		problems = append(problems, "list at least one operator (object ID or UPN)")
	}
	if len(problems) > 0 {
		return nil, errors.New("operator sign-in: " + strings.Join(problems, "; "))
	}
	if a.cfg.Now == nil {
		a.cfg.Now = time.Now
	}
	if a.cfg.Logger == nil {
		a.cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if a.cfg.HTTPClient == nil {
		a.cfg.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	host := strings.TrimSuffix(c.AuthorityHost, "/")
	a.issuer = host + "/" + strings.ToLower(c.TenantID) + "/v2.0"
	a.jwksURL = host + "/" + strings.ToLower(c.TenantID) + "/discovery/v2.0/keys"
	a.client, err = confidential.New(host+"/"+c.TenantID, c.ClientID, c.Credential,
		confidential.WithHTTPClient(a.cfg.HTTPClient), confidential.WithInstanceDiscovery(false))
	if err != nil {
		return nil, fmt.Errorf("operator sign-in: MSAL client: %w", err)
	}
	if len(a.upns) > 0 {
		a.cfg.Logger.Warn("operators listed by UPN are matched on the ID token's preferred_username, which Microsoft says is mutable; list object IDs instead", "upns", len(a.upns))
	}
	return a, nil
}

// ---- signed cookies ----

func (a *operatorAuth) mac(purpose string, payload []byte) []byte {
	m := hmac.New(sha256.New, a.cfg.Key)
	m.Write([]byte("tenantapps/portal/" + purpose + "\x00"))
	m.Write(payload)
	return m.Sum(nil)
}

func (a *operatorAuth) seal(purpose string, v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b) + "." + base64.RawURLEncoding.EncodeToString(a.mac(purpose, b)), nil
}

func (a *operatorAuth) open(purpose, s string, v any) bool {
	body, sig, ok := strings.Cut(s, ".")
	if !ok || len(s) > 4096 {
		return false
	}
	b, err1 := base64.RawURLEncoding.DecodeString(body)
	got, err2 := base64.RawURLEncoding.DecodeString(sig)
	if err1 != nil || err2 != nil || !hmac.Equal(got, a.mac(purpose, b)) {
		return false
	}
	return json.Unmarshal(b, v) == nil
}

func (a *operatorAuth) cookie(name, value, path string, maxAge time.Duration) *http.Cookie {
	return &http.Cookie{Name: name, Value: value, Path: path, MaxAge: int(maxAge.Seconds()), HttpOnly: true, Secure: a.cfg.Secure, SameSite: http.SameSiteLaxMode}
}

// current returns the signed-in operator of the request, if any.
func (a *operatorAuth) current(r *http.Request) (operator, bool) {
	c, err := r.Cookie(operatorCookie)
	if err != nil {
		return operator{}, false
	}
	var op operator
	if !a.open("session", c.Value, &op) || a.cfg.Now().Unix() >= op.Exp || !a.allowed(op.ID, op.UPN) {
		return operator{}, false
	}
	return op, true
}

// allowed reports whether the account is on the allow-list (checked again on every request, so
// removing an operator from the list ends their sessions at the next restart).
func (a *operatorAuth) allowed(oid, upn string) bool {
	return a.ids[strings.ToLower(oid)] || (upn != "" && a.upns[strings.ToLower(upn)])
}

// ---- the flow ----

// signInState is what the sign-in cookie carries between /auth/signin and /auth/callback.
type signInState struct {
	State    string `json:"s"`
	Nonce    string `json:"n"`
	Verifier string `json:"v"`
	Next     string `json:"r"`
	Exp      int64  `json:"e"`
}

func randomString() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// safeNext keeps a post-sign-in destination on this portal: a path, not a URL elsewhere.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") || strings.HasPrefix(next, "/auth/") || len(next) > 1024 {
		return "/profiles"
	}
	return next
}

// signIn starts the sign-in: a fresh state, nonce and PKCE verifier go into a signed, short-lived
// cookie, and the browser to the tenant's authorize endpoint.
func (a *operatorAuth) signIn(w http.ResponseWriter, r *http.Request) {
	st := signInState{State: randomString(), Nonce: randomString(), Verifier: randomString(),
		Next: safeNext(r.URL.Query().Get("next")), Exp: a.cfg.Now().Add(signInLifetime).Unix()}
	v, err := a.seal("signin", st)
	if err != nil {
		http.Error(w, "sign-in could not start", http.StatusInternalServerError)
		return
	}
	http.SetCookie(w, a.cookie(signInCookie, v, "/auth/", signInLifetime))
	sum := sha256.Sum256([]byte(st.Verifier))
	q := url.Values{
		"client_id": {a.cfg.ClientID}, "response_type": {"code"}, "redirect_uri": {a.cfg.RedirectURI},
		"response_mode": {"query"}, "scope": {"openid profile"}, "state": {st.State}, "nonce": {st.Nonce},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"},
	}
	http.Redirect(w, r, strings.TrimSuffix(a.cfg.AuthorityHost, "/")+"/"+a.cfg.TenantID+"/oauth2/v2.0/authorize?"+q.Encode(), http.StatusSeeOther)
}

// signInError is a sign-in failure: Status and the fixed, HTML-safe Message for the browser; the
// detail is logged only.
type signInError struct {
	Status  int
	Message string
	detail  error
}

func (e *signInError) Error() string { return e.Message + ": " + e.detail.Error() }

// finish completes a sign-in from the callback's query and the sign-in cookie's value, returning
// the operator.
func (a *operatorAuth) finish(ctx context.Context, q url.Values, cookieValue string) (operator, string, error) {
	var st signInState
	if !a.open("signin", cookieValue, &st) || a.cfg.Now().Unix() >= st.Exp {
		return operator{}, "", &signInError{http.StatusBadRequest, "The sign-in expired or was started in another browser. Sign in again.", errors.New("no valid sign-in cookie")}
	}
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(st.State)) != 1 {
		return operator{}, "", &signInError{http.StatusBadRequest, "The sign-in answer does not belong to this browser's sign-in. Sign in again.", errors.New("state mismatch")}
	}
	if e := q.Get("error"); e != "" {
		return operator{}, "", &signInError{http.StatusForbidden, "Microsoft Entra ID did not sign you in. Sign in again, or ask your administrator.", fmt.Errorf("%s: %s", e, firstLine(q.Get("error_description")))}
	}
	code := q.Get("code")
	if code == "" {
		return operator{}, "", &signInError{http.StatusBadRequest, "The sign-in answer carries no authorization code. Sign in again.", errors.New("no code")}
	}
	res, err := a.client.AcquireTokenByAuthCode(ctx, code, a.cfg.RedirectURI, []string{"openid", "profile"}, confidential.WithChallenge(st.Verifier))
	if err != nil {
		return operator{}, "", &signInError{http.StatusBadGateway, "Microsoft Entra ID did not accept the sign-in. Sign in again.", err}
	}
	claims, err := a.validateIDToken(ctx, res.IDToken.RawToken, st.Nonce)
	if err != nil {
		return operator{}, "", &signInError{http.StatusForbidden, "The sign-in could not be verified. Sign in again.", err}
	}
	if !a.allowed(claims.Oid, claims.PreferredUsername) {
		return operator{}, "", &signInError{http.StatusForbidden, "This account is not an operator of this portal. Ask an administrator to add it to the operator list.",
			fmt.Errorf("account %s (%s) is not on the operator list", claims.Oid, claims.PreferredUsername)}
	}
	return operator{ID: claims.Oid, UPN: claims.PreferredUsername, Name: claims.Name, Exp: a.cfg.Now().Add(operatorLifetime).Unix()}, st.Next, nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 200 {
		s = s[:200]
	}
	return strings.TrimSpace(s)
}

// ---- ID token validation ----

type idClaims struct {
	Iss               string `json:"iss"`
	Aud               string `json:"aud"`
	Tid               string `json:"tid"`
	Oid               string `json:"oid"`
	Nonce             string `json:"nonce"`
	PreferredUsername string `json:"preferred_username"`
	Name              string `json:"name"`
	Exp               int64  `json:"exp"`
	Nbf               int64  `json:"nbf"`
	Iat               int64  `json:"iat"`
}

// validateIDToken checks the ID token's RS256 signature against the tenant's published keys and
// its claims (see the top of this file).
func (a *operatorAuth) validateIDToken(ctx context.Context, raw, nonce string) (idClaims, error) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return idClaims{}, errors.New("the ID token is not a JWT")
	}
	var hdr struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}
	hb, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil || json.Unmarshal(hb, &hdr) != nil {
		return idClaims{}, errors.New("the ID token's header is malformed")
	}
	if hdr.Alg != "RS256" {
		return idClaims{}, fmt.Errorf("the ID token is signed with %q, want RS256", hdr.Alg)
	}
	key, err := a.key(ctx, hdr.Kid)
	if err != nil {
		return idClaims{}, err
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return idClaims{}, errors.New("the ID token's signature is malformed")
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(key, crypto.SHA256, digest[:], sig); err != nil {
		return idClaims{}, errors.New("the ID token's signature does not verify")
	}
	pb, err := base64.RawURLEncoding.DecodeString(parts[1])
	var c idClaims
	if err != nil || json.Unmarshal(pb, &c) != nil {
		return idClaims{}, errors.New("the ID token's payload is malformed")
	}
	now := a.cfg.Now()
	switch {
	case c.Iss != a.issuer:
		return idClaims{}, fmt.Errorf("issuer %q, want %q", c.Iss, a.issuer)
	case !strings.EqualFold(c.Tid, a.cfg.TenantID):
		return idClaims{}, fmt.Errorf("tenant %q, want the MSP's tenant %s", c.Tid, a.cfg.TenantID)
	case c.Aud != a.cfg.ClientID:
		return idClaims{}, fmt.Errorf("audience %q, want the portal's client ID %s", c.Aud, a.cfg.ClientID)
	case nonce == "" || subtle.ConstantTimeCompare([]byte(c.Nonce), []byte(nonce)) != 1:
		return idClaims{}, errors.New("the nonce does not match this browser's sign-in")
	case c.Exp == 0 || !now.Before(time.Unix(c.Exp, 0).Add(clockSkew)):
		return idClaims{}, errors.New("the ID token has expired")
	case c.Nbf != 0 && now.Add(clockSkew).Before(time.Unix(c.Nbf, 0)), c.Iat != 0 && now.Add(clockSkew).Before(time.Unix(c.Iat, 0)):
		return idClaims{}, errors.New("the ID token is not valid yet")
	case !guidRE.MatchString(c.Oid):
		return idClaims{}, errors.New("the ID token names no object ID (oid); request the profile scope")
	}
	return c, nil
}

// key returns the tenant's signing key kid, reading the JWKS when the key is not known yet (at
// most once a minute, so a token with a made-up kid cannot make the portal hammer Entra).
func (a *operatorAuth) key(ctx context.Context, kid string) (*rsa.PublicKey, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if k, ok := a.keys[kid]; ok {
		return k, nil
	}
	if !a.keysRead.IsZero() && a.cfg.Now().Sub(a.keysRead) < time.Minute {
		return nil, fmt.Errorf("the ID token's key %q is not among the tenant's signing keys", kid)
	}
	keys, err := a.readJWKS(ctx)
	if err != nil {
		return nil, err
	}
	a.keys, a.keysRead = keys, a.cfg.Now()
	if k, ok := keys[kid]; ok {
		return k, nil
	}
	return nil, fmt.Errorf("the ID token's key %q is not among the tenant's signing keys", kid)
}

func (a *operatorAuth) readJWKS(ctx context.Context) (map[string]*rsa.PublicKey, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.jwksURL, nil)
	if err != nil {
		return nil, err
	}
	resp, err := a.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("reading the tenant's signing keys: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("reading the tenant's signing keys: HTTP %d", resp.StatusCode)
	}
	var set struct {
		Keys []struct {
			Kty, Kid, N, E string
		} `json:"keys"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&set); err != nil {
		return nil, fmt.Errorf("reading the tenant's signing keys: %w", err)
	}
	out := map[string]*rsa.PublicKey{}
	for _, k := range set.Keys {
		if k.Kty != "RSA" {
			continue
		}
		n, err1 := base64.RawURLEncoding.DecodeString(k.N)
		e, err2 := base64.RawURLEncoding.DecodeString(k.E)
		if err1 != nil || err2 != nil || len(n) < 256 || len(n) > 1024 || len(e) == 0 || len(e) > 4 {
			continue
		}
		out[k.Kid] = &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
	}
	return out, nil
}

// ---- handlers ----

func (p *Portal) authSignIn(w http.ResponseWriter, r *http.Request) { p.auth.signIn(w, r) }

func (p *Portal) authCallback(w http.ResponseWriter, r *http.Request) {
	c, _ := r.Cookie(signInCookie)
	value := ""
	if c != nil {
		value = c.Value
	}
	http.SetCookie(w, p.auth.cookie(signInCookie, "", "/auth/", -time.Second))
	op, next, err := p.auth.finish(r.Context(), r.URL.Query(), value)
	if err != nil {
		var se *signInError
		if !errors.As(err, &se) {
			se = &signInError{http.StatusInternalServerError, "Sign-in failed. Sign in again.", err}
		}
		p.logger.Warn("portal: operator sign-in refused", "err", se.detail)
		p.render(w, r, se.Status, "error.html", "Sign-in failed", errorData{Message: se.Message})
		return
	}
	v, err := p.auth.seal("session", op)
	if err != nil {
		p.fail(w, r, http.StatusInternalServerError, "Sign-in failed. Sign in again.")
		return
	}
	http.SetCookie(w, p.auth.cookie(operatorCookie, v, "/", operatorLifetime))
	// A new CSRF session as well: nothing planted before sign-in carries over.
	p.sessions.renew(w, r)
	p.logger.Info("portal: operator signed in", "operator", op.ID, "upn", op.UPN)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (p *Portal) authSignOut(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, p.auth.cookie(operatorCookie, "", "/", -time.Second))
	p.sessions.renew(w, r)
	http.Redirect(w, r, "/auth/signedout", http.StatusSeeOther)
}

func (p *Portal) authSignedOut(w http.ResponseWriter, r *http.Request) {
	p.render(w, r, http.StatusOK, "error.html", "Signed out", errorData{})
}

// requireOperator lets a request through when it needs no operator (sign-in routes, the consent
// callback) or carries a valid operator session; otherwise a page is sent to sign-in and any
// other request is refused.
func (p *Portal) requireOperator(w http.ResponseWriter, r *http.Request) (operator, bool) {
	if p.auth == nil {
		return operator{}, true
	}
	if strings.HasPrefix(r.URL.Path, "/auth/") || r.URL.Path == "/consent/callback" {
		return operator{}, true
	}
	if op, ok := p.auth.current(r); ok {
		return op, true
	}
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		http.Redirect(w, r, "/auth/signin?"+url.Values{"next": {r.URL.RequestURI()}}.Encode(), http.StatusSeeOther)
		return operator{}, false
	}
	p.fail(w, r, http.StatusUnauthorized, "Sign in as an operator first.")
	return operator{}, false
}

// operatorRoutes registers the sign-in routes (only with operator sign-in).
func (p *Portal) operatorRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /auth/signin", p.authSignIn)
	mux.HandleFunc("GET /auth/callback", p.authCallback)
	mux.HandleFunc("POST /auth/signout", p.authSignOut)
	mux.HandleFunc("GET /auth/signedout", p.authSignedOut)
}

// GoString is String, so that %#v does not print the cookie key or the credential.
func (c OperatorConfig) GoString() string { return c.String() }

// String describes the sign-in without its key.
func (a *operatorAuth) String() string { return "operatorAuth{" + a.cfg.String() + "}" }

// GoString is String.
func (a *operatorAuth) GoString() string { return a.String() }
