package graphtest

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/tenantapps/tenantapps/consent/consenttest"
)

const (
	tenantA = "11111111-1111-4111-8111-111111111111"
	tenantB = "22222222-2222-4222-8222-222222222222"
	homeT   = "33333333-3333-4333-8333-333333333333"
	appX    = "aaaaaaaa-0000-4000-8000-000000000001"
	reader  = "aaaaaaaa-0000-4000-8000-0000000000ff"
	userRO  = "https://app.example/callback"
)

var (
	keyOnce sync.Once
	testKey *rsa.PrivateKey
)

func rsaKey(t testing.TB) *rsa.PrivateKey {
	keyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		testKey = k
	})
	return testKey
}

// newCert makes a self-signed certificate for the shared test key, valid from nb to na.
func newCert(t testing.TB, cn string, nb, na time.Time) *x509.Certificate {
	t.Helper()
	key := rsaKey(t)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn}, NotBefore: nb, NotAfter: na}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// assertion builds a client assertion the way MSAL Go v1.10.1 does (PS256, x5t#S256 in standard
// base64, no iat); mutate may change header or claims.
func assertion(t testing.TB, cert *x509.Certificate, appID, aud string, mutate func(h, c map[string]any)) string {
	t.Helper()
	sum := sha256.Sum256(cert.Raw)
	h := map[string]any{"alg": "PS256", "typ": "JWT", "x5t#S256": base64.StdEncoding.EncodeToString(sum[:])}
	now := time.Now()
	c := map[string]any{"aud": aud, "exp": now.Add(10 * time.Minute).Unix(), "iss": appID, "jti": uuid.NewString(), "nbf": now.Unix(), "sub": appID}
	if mutate != nil {
		mutate(h, c)
	}
	hb, _ := json.Marshal(h)
	cb, _ := json.Marshal(c)
	input := base64.RawURLEncoding.EncodeToString(hb) + "." + base64.RawURLEncoding.EncodeToString(cb)
	d := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPSS(rand.Reader, rsaKey(t), crypto.SHA256, d[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

type fixture struct {
	srv  *Server
	cert *x509.Certificate
	http *http.Client
}

// newFixture: tenants A and B and home; app X registered in home with cert, consented in A with
// Graph User.Read.All; the reader app provisioned everywhere.
func newFixture(t testing.TB, opts Options) *fixture {
	t.Helper()
	srv := NewServer(opts)
	t.Cleanup(srv.Close)
	cert := newCert(t, "app-x", time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour))
	must(t, srv.AddTenant(consenttest.Tenant{ID: homeT, DisplayName: "MSP"}))
	must(t, srv.RegisterApp(consenttest.App{AppID: reader, HomeTenantID: homeT, DisplayName: "Reader", Certificates: []*x509.Certificate{cert}}))
	// The reading app holds the permissions Microsoft documents for the reads these tests make
	// (see contract.go); permissions are enforced.
	var perms []Permission
	for _, v := range []string{"Application.Read.All", "Directory.Read.All", "RoleManagement.ReadWrite.Directory", "AuditLog.Read.All", "Policy.Read.All"} {
		perms = append(perms, Permission{ResourceAppID: MicrosoftGraphAppID, Value: v})
	}
	must(t, srv.ProvisionEverywhere(reader, perms...))
	must(t, srv.AddTenant(consenttest.Tenant{ID: tenantA, DisplayName: "Contoso", DefaultDomain: "contoso.onmicrosoft.com"}))
	must(t, srv.AddTenant(consenttest.Tenant{ID: tenantB, DisplayName: "Fabrikam"}))
	must(t, srv.RegisterApp(consenttest.App{AppID: appX, HomeTenantID: homeT, DisplayName: "App X", Certificates: []*x509.Certificate{cert}, RedirectURIs: []string{userRO}}))
	if _, err := srv.CreateServicePrincipal(tenantA, appX); err != nil {
		t.Fatal(err)
	}
	must(t, srv.GrantAppRole(tenantA, appX, MicrosoftGraphAppID, "df021288-bdef-4463-88db-98f22de89214"))
	c := srv.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &fixture{srv: srv, cert: cert, http: c}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// token posts a client_credentials request and returns status and decoded JSON.
func (f *fixture) token(t testing.TB, tenant, appID string, form url.Values) (int, map[string]any) {
	t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if form.Get("grant_type") == "" {
		form.Set("grant_type", "client_credentials")
	}
	if form.Get("scope") == "" {
		form.Set("scope", "https://graph.microsoft.com/.default openid offline_access profile")
	}
	form.Set("client_id", appID)
	if _, ok := form["client_assertion"]; !ok {
		form.Set("client_assertion", assertion(t, f.cert, appID, f.srv.URL+"/"+tenant+"/oauth2/v2.0/token", nil))
	}
	form.Set("client_assertion_type", assertionType)
	resp, err := f.http.PostForm(f.srv.URL+"/"+tenant+"/oauth2/v2.0/token", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	body, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatalf("token response is not JSON: %v: %s", err, body)
	}
	return resp.StatusCode, out
}

func (f *fixture) accessToken(t testing.TB, tenant, appID string) string {
	t.Helper()
	st, body := f.token(t, tenant, appID, nil)
	if st != http.StatusOK {
		t.Fatalf("token: %d %v", st, body)
	}
	return body["access_token"].(string)
}

// graph sends a Graph request with a bearer token and decodes the JSON answer.
func (f *fixture) graph(t testing.TB, method, path, token string, body io.Reader, hdr map[string]string) (int, http.Header, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, f.srv.GraphURL()+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := f.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			out = map[string]any{"_raw": string(raw)}
		}
	}
	return resp.StatusCode, resp.Header, out
}

func errorCode(body map[string]any) string {
	e, _ := body["error"].(map[string]any)
	c, _ := e["code"].(string)
	return c
}

func aadsts(body map[string]any) string {
	d, _ := body["error_description"].(string)
	code, _, _ := strings.Cut(d, ":")
	return code
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
