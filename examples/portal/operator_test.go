package main

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"
	"github.com/tenantapps/tenantapps/examples/internal/demo"
)

// newSignInPortal is the demo portal on the emulator with operator sign-in, and a client that
// trusts the emulator's TLS certificate and keeps cookies.
func newSignInPortal(t *testing.T) *testPortal {
	t.Helper()
	app, srv := startTestDemo(t, false, true)
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Transport: app.backend.Server.Client().Transport, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &testPortal{t: t, app: app, srv: srv, client: c}
}

// signInAs plays an operator's sign-in: the portal sends the browser to the tenant's authorize
// endpoint, the emulator signs upn in (as Entra's sign-in page would) and sends the browser back
// to /auth/callback. It returns the callback's response.
func (tp *testPortal) signInAs(upn, next string) resp {
	tp.t.Helper()
	r := tp.get("/auth/signin?" + url.Values{"next": {next}}.Encode())
	if r.status != http.StatusSeeOther || !strings.Contains(r.location, "/oauth2/v2.0/authorize?") {
		tp.t.Fatalf("sign-in start: %d %s", r.status, r.location)
	}
	u, _ := url.Parse(r.location)
	q := u.Query()
	for _, p := range []string{"state", "nonce", "code_challenge"} {
		if q.Get(p) == "" {
			tp.t.Errorf("authorize request without %s: %s", p, r.location)
		}
	}
	if q.Get("code_challenge_method") != "S256" || q.Get("scope") != "openid profile" {
		tp.t.Errorf("authorize request %s: want S256 PKCE and scope openid profile", r.location)
	}
	q.Set("graphtest_decision", "accept")
	q.Set("graphtest_user", upn)
	u.RawQuery = q.Encode()
	req, _ := http.NewRequest(http.MethodGet, u.String(), nil)
	r = tp.do(req)
	if r.status != http.StatusFound || !strings.HasPrefix(r.location, tp.srv.URL+"/auth/callback?") {
		tp.t.Fatalf("emulator sign-in: %d %s\n%s", r.status, r.location, r.body)
	}
	req, _ = http.NewRequest(http.MethodGet, r.location, nil)
	return tp.do(req)
}

// TestOperatorSignIn: with operator sign-in, an anonymous client can neither read nor change
// anything (the attack of issue 16: a cookie and CSRF token from a GET, then a POST); an operator
// on the list signs in with OpenID Connect and works; a member of the MSP tenant who is not on the
// list, a forged state and a callback without the sign-in cookie are refused with a fixed text.
func TestOperatorSignIn(t *testing.T) {
	tp := newSignInPortal(t)

	if r := tp.get("/profiles/new"); r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, "/auth/signin?next=") {
		t.Fatalf("anonymous GET: %d %s, want a redirect to sign-in", r.status, r.location)
	}
	var csrf string
	if m := csrfRE.FindStringSubmatch(tp.get("/auth/signedout").body); m != nil {
		csrf = m[1] // a CSRF token an anonymous client can get
	}
	for _, path := range []string{"/profiles", "/profiles/x/delete", "/profiles/x/verify", "/demo"} {
		r := tp.post(path, url.Values{"csrf": {csrf}, "customer": {demo.CustomerName}, "tenant": {demo.CustomerTenantID}, "service": {"Nitro"}, "mode": {"modern"}, "action": {"reset-password"}, "account": {demo.AlexUPN}})
		if r.status != http.StatusUnauthorized {
			t.Errorf("anonymous POST %s: %d, want 401", path, r.status)
		}
	}

	r := tp.signInAs(demo.OutsiderUPN, "/profiles")
	if r.status != http.StatusForbidden || !strings.Contains(r.body, "not an operator of this portal") {
		t.Errorf("outsider's sign-in: %d\n%s", r.status, r.body)
	}
	if r := tp.get("/profiles"); r.status != http.StatusSeeOther {
		t.Errorf("after the outsider's sign-in: GET /profiles %d, want a redirect to sign-in", r.status)
	}

	r = tp.signInAs(demo.OperatorUPN, "/profiles?flash=verified")
	if r.status != http.StatusSeeOther || r.location != "/profiles?flash=verified" {
		t.Fatalf("operator's sign-in: %d %s\n%s", r.status, r.location, r.body)
	}
	var session *http.Cookie
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if c.Name == operatorCookie {
			session = c
		}
	}
	if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteLaxMode || session.Path != "/" {
		t.Errorf("operator session cookie = %+v, want HttpOnly, SameSite=Lax, Path=/", session)
	}
	if r := tp.get("/profiles"); r.status != http.StatusOK || !strings.Contains(r.body, "Signed in as "+demo.OperatorUPN) {
		t.Fatalf("operator's GET /profiles: %d", r.status)
	}
	if ids := tp.create("Nitro"); len(ids) != 1 {
		t.Errorf("operator's create: %v", ids)
	}
	// Customers are checked against the configured list.
	r = tp.postMultipart("/profiles", map[string][]string{"csrf": {tp.csrf()}, "customer": {"Fabrikam"}, "tenant": {"11111111-2222-3333-4444-555555555555"},
		"service": {"Nitro"}, "mode": {"modern"}}, nil)
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "not among the portal&#39;s customers") {
		t.Errorf("create for an unknown customer: %d\n%s", r.status, r.body)
	}

	// A callback with a forged state, or without the sign-in cookie.
	if r := tp.get("/auth/callback?code=x&state=forged"); r.status != http.StatusBadRequest || strings.Contains(r.body, "forged") {
		t.Errorf("callback without a sign-in: %d\n%s", r.status, r.body)
	}
	if r := tp.post("/auth/signout", url.Values{"csrf": {tp.csrf()}}); r.status != http.StatusSeeOther {
		t.Errorf("sign-out: %d", r.status)
	}
	if r := tp.get("/profiles"); r.status != http.StatusSeeOther {
		t.Errorf("after sign-out: GET /profiles %d, want a redirect to sign-in", r.status)
	}
}

// TestIDTokenValidation signs ID tokens with a test key (served as the tenant's JWKS) and checks
// that validateIDToken accepts the right one and refuses each wrong claim and a bad signature.
func TestIDTokenValidation(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	const tenant, client, oid = "3d9a7c51-2b4e-4f60-8e1a-5c7d9b0e2f41", "9e2b4d6f-8a1c-4e3b-b5d7-0f2a4c6e8b1d", "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
	jwks := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"keys": []map[string]string{{"kty": "RSA", "kid": "k1",
			"n": base64.RawURLEncoding.EncodeToString(key.N.Bytes()), "e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(key.E)).Bytes())}}})
	}))
	defer jwks.Close()
	now := time.Unix(1_800_000_000, 0)
	cred, err := confidential.NewCredFromSecret("test-only")
	if err != nil {
		t.Fatal(err)
	}
	a, err := newOperatorAuth(OperatorConfig{AuthorityHost: jwks.URL, TenantID: tenant, ClientID: client, Credential: cred,
		RedirectURI: "https://portal.example/auth/callback", Operators: []string{oid}, Key: make([]byte, 32), Now: func() time.Time { return now }, HTTPClient: jwks.Client()})
	if err != nil {
		t.Fatal(err)
	}
	good := map[string]any{"iss": jwks.URL + "/" + tenant + "/v2.0", "aud": client, "tid": tenant, "oid": oid, "nonce": "n0nce",
		"exp": now.Add(time.Hour).Unix(), "nbf": now.Unix(), "iat": now.Unix(), "ver": "2.0"}
	with := func(k string, v any) map[string]any {
		c := map[string]any{}
		for kk, vv := range good {
			c[kk] = vv
		}
		c[k] = v
		return c
	}
	sign := func(k *rsa.PrivateKey, kid string, claims map[string]any) string {
		h, _ := json.Marshal(map[string]string{"alg": "RS256", "typ": "JWT", "kid": kid})
		p, _ := json.Marshal(claims)
		body := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(p)
		sig, err := signRS256(k, body)
		if err != nil {
			t.Fatal(err)
		}
		return body + "." + sig
	}
	if _, err := a.validateIDToken(context.Background(), sign(key, "k1", good), "n0nce"); err != nil {
		t.Fatalf("a good ID token was refused: %v", err)
	}
	for name, tok := range map[string]string{
		"other issuer":      sign(key, "k1", with("iss", "https://login.microsoftonline.com/"+tenant+"/v2.0")),
		"other tenant":      sign(key, "k1", with("tid", "11111111-2222-3333-4444-555555555555")),
		"other audience":    sign(key, "k1", with("aud", "11111111-2222-3333-4444-555555555555")),
		"other nonce":       sign(key, "k1", with("nonce", "replayed")),
		"no nonce":          sign(key, "k1", with("nonce", "")),
		"expired":           sign(key, "k1", with("exp", now.Add(-2*time.Minute).Unix())),
		"not yet valid":     sign(key, "k1", with("nbf", now.Add(5*time.Minute).Unix())),
		"no oid":            sign(key, "k1", with("oid", "")),
		"other key":         sign(other, "k1", good),
		"unknown kid":       sign(key, "k2", good),
		"tampered payload":  strings.Replace(sign(key, "k1", good), ".", ".e30", 1),
		"not a JWT":         "abc",
		"alg none (header)": base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","kid":"k1"}`)) + ".e30.",
	} {
		if _, err := a.validateIDToken(context.Background(), tok, "n0nce"); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func signRS256(k *rsa.PrivateKey, body string) (string, error) {
	sum := sha256.Sum256([]byte(body))
	sig, err := rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA256, sum[:])
	return base64.RawURLEncoding.EncodeToString(sig), err
}
