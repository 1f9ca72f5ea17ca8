package graphtest

import (
	"bytes"
	"cmp"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"math/big"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

type authCode struct {
	tenant, appID, userID, redirectURI string
	scopes                             []string
	challenge, method                  string
	nonce                              string // OpenID Connect nonce of the authorize request (oidc.go)
	expires                            time.Time
	used                               bool
}

type refreshGrant struct {
	tenant, appID, userID string
	scopes                []string
	issued                time.Time
}

// aadstsError is a token-endpoint error in Entra's JSON shape.
type aadstsError struct {
	status int
	name   string // invalid_client, unauthorized_client, invalid_grant, invalid_request...
	code   int
	msg    string
}

func (s *Server) writeAADSTS(w http.ResponseWriter, e aadstsError) {
	trace := s.newID()
	now := s.now().UTC()
	writeJSON(w, e.status, map[string]any{
		"error": e.name,
		"error_description": fmt.Sprintf("AADSTS%d: %s\r\nTrace ID: %s\r\nCorrelation ID: %s\r\nTimestamp: %s",
			e.code, e.msg, trace, trace, now.Format("2006-01-02 15:04:05Z")),
		"error_codes":    []int{e.code},
		"timestamp":      now.Format("2006-01-02 15:04:05Z"),
		"trace_id":       trace,
		"correlation_id": trace,
	})
}

func (s *Server) serveEntra(w http.ResponseWriter, r *http.Request) {
	segs := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if len(segs) < 2 {
		s.count(RouteUnknown, "", "", false)
		http.NotFound(w, r)
		return
	}
	tenant, rest := segs[0], strings.Join(segs[1:], "/")
	var route string
	switch rest {
	case "v2.0/.well-known/openid-configuration":
		route = RouteOpenIDConfiguration
	case "discovery/v2.0/keys":
		route = RouteJWKS
	case "oauth2/v2.0/token":
		route = RouteToken
	case "v2.0/adminconsent", "adminconsent":
		route = RouteAdminConsent
	case "oauth2/v2.0/authorize":
		route = RouteAuthorize
	default:
		s.count(RouteUnknown, tenant, "", false)
		http.NotFound(w, r)
		return
	}
	client := r.URL.Query().Get("client_id")
	if route == RouteToken {
		_ = r.ParseForm()
		client = r.PostForm.Get("client_id")
	}
	tkey := strings.ToLower(tenant)
	s.mu.Lock()
	if t, ok := s.tenantLocked(tenant); ok {
		tkey = t.ID
	}
	s.mu.Unlock()
	s.count(route, tkey, client, false)
	done, truncate := s.applyFault(w, r, route, tkey, client, false)
	if done {
		return
	}
	if truncate {
		tw := &truncatingWriter{ResponseWriter: w}
		defer tw.flush()
		w = tw
	}
	if route == RouteToken && r.PostForm.Get("grant_type") == "client_credentials" && s.throttleToken(tkey, client) {
		// Entra's answer to too many client-credentials requests (throttling.go).
		s.announceRetryAfter(tkey, client, time.Minute)
		w.Header().Set("Retry-After", "60")
		writeJSON(w, http.StatusTooManyRequests, map[string]any{"error": "temporarily_unavailable", "error_description": "Too many requests. Please retry again later."})
		return
	}
	switch route {
	case RouteOpenIDConfiguration:
		s.serveOpenIDConfig(w, tenant)
	case RouteJWKS:
		s.serveJWKS(w)
	case RouteToken:
		s.serveToken(w, r, tenant)
	case RouteAdminConsent:
		s.serveConsent(w, r, tenant, true)
	case RouteAuthorize:
		s.serveConsent(w, r, tenant, false)
	}
}

// applyFault applies a fault picked for the request. done reports that the response has been
// written (or the connection dropped); truncate asks the caller to cut the normal response.
func (s *Server) applyFault(w http.ResponseWriter, r *http.Request, route, tenant, client string, graph bool) (done, truncate bool) {
	f := s.pickFault(route, tenant)
	if f == nil {
		return false, false
	}
	s.countFault(route, f.Kind)
	switch f.Kind {
	case FaultLatency:
		s.sleep(r, f.Latency)
		return false, false
	case FaultThrottle, FaultUnavailable:
		status, code, msg := http.StatusTooManyRequests, "TooManyRequests", "Too many requests. Please retry again later."
		if f.Kind == FaultUnavailable {
			status, code, msg = http.StatusServiceUnavailable, "ServiceUnavailable", "The service is temporarily unavailable. Please retry again later."
		}
		s.announceRetryAfter(tenant, client, f.RetryAfter)
		w.Header().Set("Retry-After", retryAfterHeader(f.RetryAfter))
		if graph {
			writeODataError(w, r, status, code, msg)
		} else {
			// Entra's error body shape with error_codes, timestamp, trace_id and correlation_id
			// (entra-docs docs/identity-platform/v2-oauth2-client-creds-grant-flow.md, error
			// response); codes from docs/identity-platform/reference-error-codes.md:
			// AADSTS90024 RequestBudgetExceededError (transient), AADSTS90033
			// MsodsServiceUnavailable.
			code := 90024
			if f.Kind == FaultUnavailable {
				code = 90033
			}
			s.writeAADSTS(w, aadstsError{status, "temporarily_unavailable", code, msg})
		}
		return true, false
	case FaultGatewayTimeout:
		if graph {
			writeODataError(w, r, http.StatusGatewayTimeout, "GatewayTimeout", "The gateway timed out.")
		} else {
			s.writeAADSTS(w, aadstsError{http.StatusGatewayTimeout, "temporarily_unavailable", 90033, "The directory service is not available (gateway timeout)."})
		}
		return true, false
	case FaultHang:
		d := f.Latency
		if d <= 0 {
			d = time.Hour
		}
		s.sleep(r, d)
		panic(http.ErrAbortHandler) // drop the connection without a response
	case FaultMalformedJSON:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(`{"value":[{"id": <html>not json`))
		return true, false
	case FaultForbidden:
		if graph {
			writeODataError(w, r, http.StatusForbidden, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
		} else {
			s.writeAADSTS(w, aadstsError{http.StatusBadRequest, "unauthorized_client", 700016, "Forbidden by graphtest fault injection."})
		}
		return true, false
	case FaultErrorWithoutMessage:
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": map[string]any{"code": "Request_BadRequest"}})
		return true, false
	case FaultTruncatedJSON:
		return false, true
	}
	return false, false
}

func (s *Server) sleep(r *http.Request, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.Context().Done():
	case <-s.closed:
	}
}

func (s *Server) serveOpenIDConfig(w http.ResponseWriter, tenant string) {
	base := s.URL + "/" + tenant
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                base + "/v2.0",
		"authorization_endpoint":                base + "/oauth2/v2.0/authorize",
		"token_endpoint":                        base + "/oauth2/v2.0/token",
		"jwks_uri":                              base + "/discovery/v2.0/keys",
		"response_types_supported":              []string{"code", "id_token", "code id_token", "id_token token"},
		"response_modes_supported":              []string{"query", "fragment", "form_post"},
		"subject_types_supported":               []string{"pairwise"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"scopes_supported":                      []string{"openid", "profile", "email", "offline_access"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
		"tenant_region_scope":                   "EU",
	})
}

func (s *Server) serveJWKS(w http.ResponseWriter) {
	pub := s.signer.PublicKey
	writeJSON(w, http.StatusOK, map[string]any{"keys": []map[string]any{{
		"kty": "RSA", "use": "sig", "kid": s.kid, "alg": "RS256",
		"n": base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
	}}})
}

// PublicKey returns the key that signs the emulator's tokens (also served as JWKS).
func (s *Server) PublicKey() *rsa.PublicKey { return &s.signer.PublicKey }

const assertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

func (s *Server) serveToken(w http.ResponseWriter, r *http.Request, tenantKey string) {
	if r.Method != http.MethodPost {
		s.writeAADSTS(w, aadstsError{http.StatusMethodNotAllowed, "invalid_request", 900561, "The endpoint only accepts POST requests."})
		return
	}
	// The reply is built under the lock and its tokens signed after it: RSA signing under the
	// server's one lock serialized every Graph request behind token issuance.
	reply := &deferredReply{header: http.Header{}}
	s.mu.Lock()
	s.serveTokenLocked(reply, r, tenantKey)
	s.mu.Unlock()
	reply.flush(w, s)
}

func (s *Server) serveTokenLocked(w *deferredReply, r *http.Request, tenantKey string) {
	form := r.PostForm
	t, ok := s.tenantLocked(tenantKey)
	if !ok && (tenantKey == "organizations" || tenantKey == "common") {
		// Multi-tenant endpoints: a code or refresh token names its tenant.
		var tid string
		switch form.Get("grant_type") {
		case "authorization_code":
			if c, found := s.codes[form.Get("code")]; found {
				tid = c.tenant
			}
		case "refresh_token":
			if g, found := s.refresh[form.Get("refresh_token")]; found {
				tid = g.tenant
			}
		default:
			s.writeAADSTS(w, aadstsError{http.StatusBadRequest, "invalid_request", 9001023, "The grant type is not supported over the /common or /organizations endpoints. Please use the /tenant-id endpoint."})
			return
		}
		t, ok = s.tenants[tid]
	}
	if !ok {
		s.writeAADSTS(w, aadstsError{http.StatusBadRequest, "invalid_request", 90002, fmt.Sprintf("Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.", tenantKey)})
		return
	}
	clientID := strings.ToLower(form.Get("client_id"))
	app, ok := s.apps[clientID]
	if !ok {
		s.writeAADSTS(w, aadstsError{http.StatusBadRequest, "unauthorized_client", 700016, fmt.Sprintf("Application with identifier '%s' was not found in the directory '%s'.", clientID, t.DisplayName)})
		return
	}
	if e := s.checkAssertionLocked(form, app, tenantKey); e != nil {
		s.writeAADSTS(w, *e)
		return
	}
	sp, err := s.spLocked(t, clientID)
	if err != nil {
		s.writeAADSTS(w, aadstsError{http.StatusBadRequest, "unauthorized_client", 700016, fmt.Sprintf("Application with identifier '%s' was not found in the directory '%s'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant.", clientID, t.DisplayName)})
		return
	}
	if !sp.enabled {
		s.writeAADSTS(w, aadstsError{http.StatusBadRequest, "unauthorized_client", 7000112, fmt.Sprintf("Application '%s'(%s) is disabled.", clientID, app.DisplayName)})
		return
	}
	switch gt := form.Get("grant_type"); gt {
	case "client_credentials":
		s.clientCredentialsLocked(w, form, t, app, sp)
	case "authorization_code":
		s.authCodeLocked(w, r, form, t, app, sp)
	case "refresh_token":
		s.refreshLocked(w, r, form, t, app, sp)
	default:
		s.writeAADSTS(w, aadstsError{http.StatusBadRequest, "unsupported_grant_type", 70003, fmt.Sprintf("The app requested an unsupported grant type '%s'.", gt)})
	}
}

// checkAssertionLocked verifies the certificate client assertion against the app's registered
// keyCredentials. It returns nil when the client authenticated.
func (s *Server) checkAssertionLocked(form url.Values, app *application, tenantKey string) *aadstsError {
	if form.Get("client_secret") != "" {
		return &aadstsError{http.StatusUnauthorized, "invalid_client", 7000215, "Invalid client secret provided. The emulator accepts certificate credentials only."}
	}
	if form.Get("client_assertion_type") != assertionType || form.Get("client_assertion") == "" {
		return &aadstsError{http.StatusUnauthorized, "invalid_client", 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'."}
	}
	p, err := parseJWT(form.Get("client_assertion"))
	if err != nil {
		return &aadstsError{http.StatusUnauthorized, "invalid_client", 50027, "JWT token is invalid or malformed."}
	}
	var key *keyCredential
	if x := p.hdr("x5t#S256"); x != "" {
		if b, err := decodeB64Any(x); err == nil && len(b) == 32 {
			for i := range app.keys {
				if subtle.ConstantTimeCompare(app.keys[i].s256[:], b) == 1 {
					key = &app.keys[i]
				}
			}
		}
	} else if x := p.hdr("x5t"); x != "" {
		if b, err := decodeB64Any(x); err == nil && len(b) == 20 {
			for i := range app.keys {
				if subtle.ConstantTimeCompare(app.keys[i].sha1[:20], b) == 1 {
					key = &app.keys[i]
				}
			}
		}
	}
	if key == nil {
		return &aadstsError{http.StatusUnauthorized, "invalid_client", 700027, fmt.Sprintf("The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., Thumbprint of key used by client: '%s']", strings.ToUpper(hex.EncodeToString(thumbOf(p))))}
	}
	pub, ok := key.cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return &aadstsError{http.StatusUnauthorized, "invalid_client", 700027, "Client assertion failed signature validation: the registered key is not RSA."}
	}
	if err := p.verify(pub); err != nil {
		return &aadstsError{http.StatusUnauthorized, "invalid_client", 700027, "Client assertion failed signature validation."}
	}
	now := s.now()
	if now.Before(key.cert.NotBefore) || now.After(key.cert.NotAfter) {
		return &aadstsError{http.StatusUnauthorized, "invalid_client", 700027, fmt.Sprintf("Client assertion contains an invalid signature. [Reason - The key used is expired., Thumbprint of key used by client: '%X', Found key 'Start=%s, End=%s']", key.sha1[:20], key.cert.NotBefore.UTC().Format("01/02/2006 15:04:05"), key.cert.NotAfter.UTC().Format("01/02/2006 15:04:05"))}
	}
	if iss, sub := p.str("iss"), p.str("sub"); !strings.EqualFold(iss, app.AppID) || !strings.EqualFold(sub, app.AppID) {
		return &aadstsError{http.StatusUnauthorized, "invalid_client", 700021, "Client assertion application identifier doesn't match 'client_id' parameter."}
	}
	wantAud := s.URL + "/" + tenantKey + "/oauth2/v2.0/token"
	if aud := p.str("aud"); aud != wantAud {
		return &aadstsError{http.StatusUnauthorized, "invalid_client", 700212, fmt.Sprintf("No matching federated identity record found for presented assertion audience '%s'.", aud)}
	}
	nbf, okN := p.num("nbf")
	exp, okE := p.num("exp")
	const skew = 5 * time.Minute
	if !okE || now.Add(-skew).Unix() >= exp || (okN && now.Add(skew).Unix() < nbf) {
		return &aadstsError{http.StatusUnauthorized, "invalid_client", 700024, "Client assertion is not within its valid time range."}
	}
	jti := p.str("jti")
	if jti == "" {
		return &aadstsError{http.StatusUnauthorized, "invalid_client", 50027, "The client assertion has no jti claim."}
	}
	for k, until := range s.jtis { // forget expired entries
		if now.After(until) {
			delete(s.jtis, k)
		}
	}
	replayKey := app.AppID + "|" + jti
	if _, seen := s.jtis[replayKey]; seen {
		return &aadstsError{http.StatusUnauthorized, "invalid_client", 700025, "Client assertion jti has been used before (replay)."}
	}
	s.jtis[replayKey] = time.Unix(exp, 0).Add(skew)
	return nil
}

func thumbOf(p *jwtParts) []byte {
	for _, h := range []string{"x5t#S256", "x5t"} {
		if b, err := decodeB64Any(p.hdr(h)); err == nil && len(b) > 0 {
			return b
		}
	}
	return nil
}

func (s *Server) clientCredentialsLocked(w *deferredReply, form url.Values, t *tenantState, app *application, sp *servicePrincipal) {
	var resource string
	for _, sc := range strings.Fields(form.Get("scope")) {
		res, v := resourceFromScope(sc)
		if res == "" {
			continue // MSAL appends openid offline_access profile
		}
		if v != ".default" {
			s.writeAADSTS(w, aadstsError{http.StatusBadRequest, "invalid_scope", 1002012, fmt.Sprintf("The provided value for scope %s is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).", sc)})
			return
		}
		if resource != "" && resource != res {
			s.writeAADSTS(w, aadstsError{http.StatusBadRequest, "invalid_scope", 28000, "Provided value for the input parameter scope is not valid because it contains more than one resource."})
			return
		}
		resource = res
	}
	if resource == "" {
		s.writeAADSTS(w, aadstsError{http.StatusBadRequest, "invalid_scope", 70011, "The provided request must include a 'scope' input parameter."})
		return
	}
	var rolesClaim []string
	if resID, ok := t.spByApp[resource]; ok {
		res := t.sps[resID]
		for _, a := range t.araList {
			if a.principalID == sp.id && a.resourceID == res.id {
				for _, ar := range res.appRoles {
					if ar.ID == a.appRoleID {
						rolesClaim = append(rolesClaim, ar.Value)
					}
				}
			}
		}
	}
	now := s.now()
	claims := map[string]any{
		"aud": resourceURI(resource), "iss": "https://sts.windows.net/" + t.ID + "/", "tid": t.ID,
		"appid": app.AppID, "azp": app.AppID, "oid": sp.id, "sub": sp.id, "idtyp": "app",
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(s.opts.TokenLifetime).Unix(), "uti": s.newID(), "ver": "1.0",
	}
	if len(rolesClaim) > 0 {
		slices.Sort(rolesClaim)
		claims["roles"] = rolesClaim
	}
	tok := w.sign(claims)
	secs := int(s.opts.TokenLifetime.Seconds())
	writeJSON(w, http.StatusOK, map[string]any{"token_type": "Bearer", "expires_in": secs, "ext_expires_in": secs, "access_token": tok})
}

// userTokensLocked issues access, id and refresh tokens for a user of the tenant.
func (s *Server) userTokensLocked(w *deferredReply, t *tenantState, app *application, u *userState, scopes []string) {
	now := s.now()
	var resource string
	var granted []string
	for _, sc := range scopes {
		res, v := resourceFromScope(sc)
		if res == "" {
			continue
		}
		resource = res
		if v == ".default" {
			granted = append(granted, s.grantedScopesLocked(t, app, u.ID, res)...)
		} else {
			granted = append(granted, v)
		}
	}
	if resource == "" {
		resource = MicrosoftGraphAppID
	}
	slices.Sort(granted)
	granted = slices.Compact(granted)
	at := w.sign(map[string]any{
		"aud": resourceURI(resource), "iss": "https://sts.windows.net/" + t.ID + "/", "tid": t.ID,
		"appid": app.AppID, "oid": u.ID, "sub": u.ID, "upn": u.UserPrincipalName, "name": u.DisplayName,
		"scp": strings.Join(granted, " "), "idtyp": "user", "iat": now.Unix(), "nbf": now.Unix(),
		"exp": now.Add(s.opts.TokenLifetime).Unix(), "uti": s.newID(), "ver": "1.0",
	})
	idt := w.sign(map[string]any{
		"aud": app.AppID, "iss": s.URL + "/" + t.ID + "/v2.0", "tid": t.ID, "oid": u.ID, "sub": u.ID,
		"preferred_username": u.UserPrincipalName, "name": u.DisplayName, "iat": now.Unix(), "nbf": now.Unix(),
		"exp": now.Add(time.Hour).Unix(), "ver": "2.0",
	})
	rt := s.newID() + "." + s.newID()
	s.refresh[rt] = &refreshGrant{tenant: t.ID, appID: app.AppID, userID: u.ID, scopes: slices.Clone(scopes), issued: now}
	ci, _ := json.Marshal(map[string]string{"uid": u.ID, "utid": t.ID})
	var scopeOut []string
	for _, g := range granted {
		scopeOut = append(scopeOut, resourceURI(resource)+"/"+g)
	}
	scopeOut = append(scopeOut, "openid", "profile", "offline_access")
	secs := int(s.opts.TokenLifetime.Seconds())
	writeJSON(w, http.StatusOK, map[string]any{
		"token_type": "Bearer", "scope": strings.Join(scopeOut, " "), "expires_in": secs, "ext_expires_in": secs,
		"access_token": at, "refresh_token": rt, "id_token": idt,
		"client_info": base64.RawURLEncoding.EncodeToString(ci),
	})
}

// grantedScopesLocked is what the user may use of the app on resource: AllPrincipals grants plus
// the user's own Principal grant.
func (s *Server) grantedScopesLocked(t *tenantState, app *application, userID, resource string) []string {
	spID, ok := t.spByApp[app.AppID]
	if !ok {
		return nil
	}
	resID := t.spByApp[resource]
	var out []string
	for _, g := range t.grants {
		if g.clientID == spID && g.resourceID == resID && (g.principalID == "" || g.principalID == userID) {
			out = append(out, g.scopes...)
		}
	}
	return out
}

// evaluateSignInLocked applies the user-state and Conditional Access checks of a sign-in and
// records it in the sign-in log. issued is when the refresh token in use was issued (zero for a
// fresh sign-in); nonInteractive sign-ins cannot satisfy an MFA requirement. It returns the user
// when the sign-in may proceed.
func (s *Server) evaluateSignInLocked(t *tenantState, app *application, userID, ip string, issued time.Time, nonInteractive bool) (*userState, *aadstsError) {
	u, ok := t.users[userID]
	record := func(status string, code int) {
		upn := ""
		if u != nil {
			upn = u.UserPrincipalName
		}
		t.signIns = append(t.signIns, signIn{id: s.newID(), appID: app.AppID, userID: userID, upn: upn, ip: ip, caStatus: status, errorCode: code, at: s.now(), nonInteractive: nonInteractive})
	}
	switch {
	case !ok || u.Deleted:
		record("notApplied", 50034)
		return nil, &aadstsError{http.StatusBadRequest, "invalid_grant", 50034, "The user account does not exist in the directory. To sign into this application, the account must be added to the directory."}
	case !u.AccountEnabled:
		record("notApplied", 50057)
		return nil, &aadstsError{http.StatusBadRequest, "invalid_grant", 50057, "The user account is disabled."}
	case !issued.IsZero() && issued.Before(u.SessionsValidFrom):
		record("notApplied", 50173)
		return nil, &aadstsError{http.StatusBadRequest, "invalid_grant", 50173, fmt.Sprintf("The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password. The grant was issued on '%s' and the TokensValidFrom date (before which tokens are not valid) for this user is '%s'.", issued.UTC().Format(time.RFC3339), u.SessionsValidFrom.UTC().Format(time.RFC3339))}
	case t.blocked[ip]:
		record("failure", 53003)
		return nil, &aadstsError{http.StatusBadRequest, "invalid_grant", 53003, "Access has been blocked by Conditional Access policies. The access policy does not allow token issuance."}
	case u.MFARequired && nonInteractive:
		record("failure", 50076)
		return nil, &aadstsError{http.StatusBadRequest, "invalid_grant", 50076, "Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access the resource."}
	}
	record("success", 0)
	return u, nil
}

func (s *Server) authCodeLocked(w *deferredReply, r *http.Request, form url.Values, t *tenantState, app *application, _ *servicePrincipal) {
	code, ok := s.codes[form.Get("code")]
	switch {
	case !ok || code.appID != app.AppID || code.tenant != t.ID:
		s.writeAADSTS(w, aadstsError{http.StatusBadRequest, "invalid_grant", 9002313, "Invalid request. Request is malformed or invalid: the authorization code is unknown."})
		return
	case code.used:
		s.writeAADSTS(w, aadstsError{http.StatusBadRequest, "invalid_grant", 54005, "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token."})
		return
	case s.now().After(code.expires):
		s.writeAADSTS(w, aadstsError{http.StatusBadRequest, "invalid_grant", 70008, "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource."})
		return
	case form.Get("redirect_uri") != code.redirectURI:
		s.writeAADSTS(w, aadstsError{http.StatusBadRequest, "invalid_grant", 500112, "The reply address does not match the reply address provided when requesting the authorization code."})
		return
	}
	if code.challenge != "" {
		v := form.Get("code_verifier")
		sum := sha256.Sum256([]byte(v))
		got := base64.RawURLEncoding.EncodeToString(sum[:])
		if code.method == "plain" {
			got = v
		}
		if v == "" || subtle.ConstantTimeCompare([]byte(got), []byte(code.challenge)) != 1 {
			s.writeAADSTS(w, aadstsError{http.StatusBadRequest, "invalid_grant", 501481, "The Code_Verifier does not match the code_challenge supplied in the authorization request."})
			return
		}
	}
	code.used = true
	u, e := s.evaluateSignInLocked(t, app, code.userID, clientIP(r), time.Time{}, false)
	if e != nil {
		s.writeAADSTS(w, *e)
		return
	}
	scopes := code.scopes
	if sc := strings.Fields(form.Get("scope")); len(sc) > 0 {
		scopes = sc
	}
	s.userTokensLocked(w, t, app, u, scopes)
	idTokenNonce(w, code.nonce)
}

// refreshTokenInactivity is how long an unused refresh token lives (entra-docs
// docs/identity-platform/refresh-tokens.md: 90 days for all but single-page apps).
const refreshTokenInactivity = 90 * 24 * time.Hour

func (s *Server) refreshLocked(w *deferredReply, r *http.Request, form url.Values, t *tenantState, app *application, _ *servicePrincipal) {
	g, ok := s.refresh[form.Get("refresh_token")]
	if !ok || g.appID != app.AppID || g.tenant != t.ID {
		s.writeAADSTS(w, aadstsError{http.StatusBadRequest, "invalid_grant", 9002313, "Invalid request. The refresh token is unknown or was issued to another client or tenant."})
		return
	}
	if s.now().Sub(g.issued) > refreshTokenInactivity {
		// A refresh token unused for 90 days expires (entra-docs
		// docs/identity-platform/refresh-tokens.md, "Token lifetime"); Entra answers AADSTS700082
		// (docs/identity-platform/reference-error-codes.md). Refreshing rotates the token, so
		// issued is the last use.
		code := 700082
		t.signIns = append(t.signIns, signIn{id: s.newID(), appID: app.AppID, userID: g.userID, ip: clientIP(r), caStatus: "notApplied",
			errorCode: code, at: s.now(), nonInteractive: true})
		s.writeAADSTS(w, aadstsError{http.StatusBadRequest, "invalid_grant", code, fmt.Sprintf("The refresh token has expired due to inactivity. The token was issued on %s and was inactive for 90.00:00:00.", g.issued.UTC().Format(time.RFC3339))})
		return
	}
	u, e := s.evaluateSignInLocked(t, app, g.userID, clientIP(r), g.issued, true)
	if e != nil {
		s.writeAADSTS(w, *e)
		return
	}
	scopes := g.scopes
	if sc := strings.Fields(form.Get("scope")); len(sc) > 0 {
		scopes = sc
	}
	var granted []string
	for _, sc := range scopes {
		if res, v := resourceFromScope(sc); res != "" && v != ".default" {
			granted = append(granted, v)
		}
	}
	if len(granted) > 0 {
		have := map[string]bool{}
		for _, sc := range scopes {
			if res, _ := resourceFromScope(sc); res != "" {
				for _, v := range s.grantedScopesLocked(t, app, u.ID, res) {
					have[v] = true
				}
			}
		}
		for _, v := range granted {
			if !have[v] {
				s.writeAADSTS(w, aadstsError{http.StatusBadRequest, "invalid_grant", 65001, fmt.Sprintf("The user or administrator has not consented to use the application with ID '%s' named '%s'. Send an interactive authorization request for this user and resource.", app.AppID, app.DisplayName)})
				return
			}
		}
	}
	s.userTokensLocked(w, t, app, u, scopes)
}

// ---- consent pages ----

var consentPage = template.Must(template.New("consent").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>Permissions requested</title></head>
<body>
<h1>Permissions requested</h1>
<p id="app">{{.AppName}}</p>
<p>{{if .Admin}}Accept for your organization{{else}}Accept for yourself{{end}}</p>
<ul id="permissions">{{range .Permissions}}<li>{{.}}</li>{{end}}</ul>
<form method="post" action="{{.Action}}">
{{range $k, $v := .Hidden}}<input type="hidden" name="{{$k}}" value="{{$v}}">{{end}}
{{with .Problem}}<p id="problem">{{.}}</p>{{end}}
<label>Signed in as <input id="user" name="graphtest_user" value="{{.User}}" required size="45" placeholder="user principal name, e.g. admin@contoso.onmicrosoft.com"></label>
<button id="accept" name="graphtest_decision" value="accept" type="submit">Accept</button>
<button id="cancel" name="graphtest_decision" value="cancel" type="submit">Cancel</button>
</form>
</body></html>`))

func (s *Server) consentError(w http.ResponseWriter, status, code int, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = fmt.Fprintf(w, "<!doctype html><html><body><h1>Sorry, but we're having trouble signing you in.</h1><p id=\"error\">AADSTS%d: %s</p></body></html>", code, template.HTMLEscapeString(msg))
}

// serveConsent implements /{tenant}/v2.0/adminconsent (admin=true) and
// /{tenant}/oauth2/v2.0/authorize. GET shows the consent page (or auto-accepts, see
// SetAutoConsent); POST carries the decision.
func (s *Server) serveConsent(w http.ResponseWriter, r *http.Request, tenantKey string, admin bool) {
	if err := r.ParseForm(); err != nil {
		s.consentError(w, http.StatusBadRequest, 900144, "The request body could not be parsed.")
		return
	}
	q := r.Form
	s.mu.Lock()
	defer s.mu.Unlock()
	app, ok := s.apps[strings.ToLower(q.Get("client_id"))]
	if !ok {
		s.consentError(w, http.StatusBadRequest, 700016, fmt.Sprintf("Application with identifier '%s' was not found in the directory.", q.Get("client_id")))
		return
	}
	redirect := q.Get("redirect_uri")
	if !slices.Contains(app.RedirectURIs, redirect) {
		s.consentError(w, http.StatusBadRequest, 50011, fmt.Sprintf("The redirect URI '%s' specified in the request does not match the redirect URIs configured for the application '%s'.", redirect, app.AppID))
		return
	}
	if !admin && q.Get("response_type") != "code" {
		s.consentError(w, http.StatusBadRequest, 900144, "The request body must contain the following parameter: 'response_type' with value 'code'.")
		return
	}
	state := q.Get("state")
	failSub := func(name, subcode string, code int, desc string) {
		v := url.Values{}
		if admin {
			v.Set("admin_consent", "True")
		}
		v.Set("error", name)
		if subcode != "" {
			v.Set("error_subcode", subcode)
		}
		v.Set("error_description", fmt.Sprintf("AADSTS%d: %s\r\nTrace ID: %s\r\nCorrelation ID: %s\r\nTimestamp: %s", code, desc, s.newID(), s.newID(), s.now().UTC().Format("2006-01-02 15:04:05Z")))
		if state != "" {
			v.Set("state", state)
		}
		http.Redirect(w, r, withQuery(redirect, v), http.StatusFound)
	}
	fail := func(name string, code int, desc string) { failSub(name, "", code, desc) }
	// Resolve the tenant: a GUID/domain names it; organizations/common mean the user's home tenant.
	t, known := s.tenantLocked(tenantKey)
	decision, upn := q.Get("graphtest_decision"), q.Get("graphtest_user")
	if known && t.autoUser != "" && r.Method == http.MethodGet {
		decision, upn = "accept", t.autoUser
	}
	if decision == "" {
		s.renderConsent(w, r, app, admin, q, http.StatusOK, "")
		return
	}
	if decision == "accept" && strings.TrimSpace(upn) == "" {
		// Microsoft's page signs the account in first; the emulator asks for it on this page, so
		// an empty field is a form problem, not an unknown account (AADSTS50034).
		s.renderConsent(w, r, app, admin, q, http.StatusBadRequest, "Enter the user principal name of the account that consents (Signed in as), then Accept.")
		return
	}
	if !known {
		for _, cand := range s.tenants {
			if cand.userLocked(upn) != nil {
				t, known = cand, true
			}
		}
		if !known {
			s.consentError(w, http.StatusBadRequest, 90002, fmt.Sprintf("Tenant '%s' not found.", tenantKey))
			return
		}
	}
	if plan := t.consent; plan != nil {
		t.consent = nil
		fail(plan.errorName, plan.code, plan.description)
		return
	}
	if decision != "accept" {
		// Cancel carries error_subcode=cancel, as Entra's redirect does (MSAL reads it as a user
		// cancellation: AzureAD/microsoft-authentication-library-for-dotnet
		// AuthorizationResult.FromUri).
		failSub("access_denied", "cancel", 65004, "User declined to consent to access the app.")
		return
	}
	u := t.userLocked(upn)
	if u == nil {
		s.consentError(w, http.StatusBadRequest, 50034, fmt.Sprintf("The user account %s does not exist in the '%s' directory.", upn, t.ID))
		return
	}
	if e := s.interactiveChecksLocked(r, t, app, u); e != nil {
		fail("access_denied", e.code, e.msg)
		return
	}
	isAdmin := s.isConsentAdminLocked(t, u.ID)
	requested := strings.Fields(q.Get("scope"))
	if admin {
		if !isAdmin {
			fail("access_denied", 90094, "Admin consent is required for the permissions requested by this application. An administrator (Global Administrator or Privileged Role Administrator) must consent.")
			return
		}
		sp := s.addSPLocked(t, app)
		var granted []string
		for _, p := range app.RequiredPermissions {
			res, id, err := s.publishLocked(t, p)
			if err != nil {
				continue
			}
			if p.Kind == Application {
				s.grantRoleLocked(t, sp, res, id)
			} else {
				s.grantScopeLocked(t, sp, res, "", p.Value)
			}
			granted = append(granted, resourceURI(p.ResourceAppID)+"/"+p.Value)
		}
		v := url.Values{"admin_consent": {"True"}, "tenant": {t.ID}}
		// scope lists what was granted; never an empty scope= (entra-docs
		// docs/identity-platform/v2-admin-consent.md, successful response).
		if len(requested) > 0 && len(granted) > 0 {
			v.Set("scope", strings.Join(granted, " "))
		}
		if state != "" {
			v.Set("state", state)
		}
		http.Redirect(w, r, withQuery(redirect, v), http.StatusFound)
		return
	}
	// User consent (authorize): the scopes asked for, limited to the registration's delegated
	// permissions; "Admin" scopes need an admin or an existing tenant-wide grant.
	sp := s.addSPLocked(t, app)
	for _, sc := range requested {
		res, v := resourceFromScope(sc)
		if res == "" || v == ".default" {
			continue
		}
		resID, ok := t.spByApp[res]
		if !ok {
			fail("invalid_client", 650057, fmt.Sprintf("Invalid resource. The client has requested access to a resource which is not listed in the requested permissions in the client's application registration. Resource: %s", res))
			return
		}
		var sc *scope
		for i := range t.sps[resID].scopes {
			if t.sps[resID].scopes[i].Value == v {
				sc = &t.sps[resID].scopes[i]
			}
		}
		if sc == nil {
			fail("invalid_scope", 70011, fmt.Sprintf("The provided value for the input parameter 'scope' is not valid. The scope %s is not valid.", v))
			return
		}
		if sc.Type == "Admin" && !isAdmin && !slices.Contains(s.grantedScopesLocked(t, app, "", res), v) {
			fail("access_denied", 90094, fmt.Sprintf("Admin consent is required for the scope %s requested by this application.", v))
			return
		}
		principal := u.ID
		if q.Get("graphtest_for_all") == "true" && isAdmin {
			principal = ""
		}
		s.grantScopeLocked(t, sp, t.sps[resID], principal, v)
	}
	code := s.newID() + s.newID()
	s.codes[code] = &authCode{tenant: t.ID, appID: app.AppID, userID: u.ID, redirectURI: redirect, scopes: requested,
		challenge: q.Get("code_challenge"), method: q.Get("code_challenge_method"), nonce: q.Get("nonce"), expires: s.now().Add(10 * time.Minute)}
	v := url.Values{"code": {code}, "session_state": {s.newID()}}
	if state != "" {
		v.Set("state", state)
	}
	http.Redirect(w, r, withQuery(redirect, v), http.StatusFound)
}

// interactiveChecksLocked applies user state and Conditional Access to an interactive sign-in.
func (s *Server) interactiveChecksLocked(r *http.Request, t *tenantState, app *application, u *userState) *aadstsError {
	_, e := s.evaluateSignInLocked(t, app, u.ID, clientIP(r), time.Time{}, false)
	return e
}

func (s *Server) isConsentAdminLocked(t *tenantState, userID string) bool {
	for _, r := range t.roleAsg {
		if r.principalID == userID && (r.role == "62e90394-69f5-4237-9190-012177145e10" || r.role == "e8611ab8-c189-46e8-94e1-60213ab1f814") {
			return true
		}
	}
	return false
}

// renderConsent shows the consent page with status; problem, when set, says what to fix in the
// form.
func (s *Server) renderConsent(w http.ResponseWriter, r *http.Request, app *application, admin bool, q url.Values, status int, problem string) {
	var perms []string
	for _, p := range app.RequiredPermissions {
		perms = append(perms, fmt.Sprintf("%s (%s, %s)", p.Value, p.Kind, resourceURI(p.ResourceAppID)))
	}
	hidden := map[string]string{}
	for k, v := range q {
		if !strings.HasPrefix(k, "graphtest_") && len(v) > 0 {
			hidden[k] = v[0]
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_ = consentPage.Execute(w, map[string]any{
		"AppName": app.DisplayName, "Admin": admin, "Permissions": perms,
		"Action": r.URL.Path, "Hidden": hidden, "User": q.Get("login_hint"), "Problem": problem,
	})
}

func withQuery(base string, v url.Values) string {
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return base + sep + v.Encode()
}

// deferredReply buffers a token endpoint reply built under the server's lock; the JWTs in it are
// placeholders until flush signs them, after the lock is released.
type deferredReply struct {
	header  http.Header
	status  int
	body    bytes.Buffer
	pending []map[string]any // claims of placeholder i
}

func (d *deferredReply) Header() http.Header { return d.header }
func (d *deferredReply) WriteHeader(status int) {
	if d.status == 0 {
		d.status = status
	}
}
func (d *deferredReply) Write(b []byte) (int, error) {
	d.WriteHeader(http.StatusOK)
	return d.body.Write(b)
}

// sign returns a placeholder for the JWT of claims.
func (d *deferredReply) sign(claims map[string]any) string {
	d.pending = append(d.pending, claims)
	return fmt.Sprintf("graphtest-pending-jwt-%d", len(d.pending)-1)
}

// flush signs the placeholders' tokens and writes the reply to w.
func (d *deferredReply) flush(w http.ResponseWriter, s *Server) {
	body := d.body.Bytes()
	for i, claims := range d.pending {
		tok, err := signRS256(s.signer, s.kid, claims)
		if err != nil {
			s.mu.Lock()
			s.writeAADSTS(w, aadstsError{http.StatusInternalServerError, "server_error", 90033, "Signing the token failed."})
			s.mu.Unlock()
			return
		}
		body = bytes.Replace(body, []byte(fmt.Sprintf(`"graphtest-pending-jwt-%d"`, i)), []byte(`"`+tok+`"`), 1)
	}
	for k, v := range d.header {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(cmp.Or(d.status, http.StatusOK))
	_, _ = w.Write(body)
}
