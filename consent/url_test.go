package consent

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const (
	clientA  = "6f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b"
	redirect = "https://portal.example/consent/callback"
)

func builder() URLBuilder {
	return URLBuilder{RedirectURIs: []string{redirect, "http://127.0.0.1:8080/cb"}, Rand: bytes.NewReader(bytes.Repeat([]byte{9}, 64))}
}

func TestAdminConsentURL(t *testing.T) {
	tests := []struct {
		name string
		b    URLBuilder
		req  AdminConsentRequest
		want string
	}{
		{"public cloud default", builder(), AdminConsentRequest{Tenant: strings.ToUpper(tenantA), ClientID: clientA, RedirectURI: redirect, State: "v1.k.p.s"},
			"https://login.microsoftonline.com/" + tenantA + "/v2.0/adminconsent?client_id=" + clientA + "&redirect_uri=https%3A%2F%2Fportal.example%2Fconsent%2Fcallback&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default&state=v1.k.p.s"},
		{"us government", URLBuilder{AuthorityHost: USGovernmentAuthority, GraphEndpoint: USGovernmentGraph, RedirectURIs: []string{redirect}},
			AdminConsentRequest{Tenant: "Contoso.onmicrosoft.us", ClientID: clientA, RedirectURI: redirect, State: "s"},
			"https://login.microsoftonline.us/contoso.onmicrosoft.us/v2.0/adminconsent?client_id=" + clientA + "&redirect_uri=https%3A%2F%2Fportal.example%2Fconsent%2Fcallback&scope=https%3A%2F%2Fgraph.microsoft.us%2F.default&state=s"},
		{"local emulator, two resources", URLBuilder{AuthorityHost: "http://127.0.0.1:9443/", RedirectURIs: []string{"http://127.0.0.1:8080/cb"}},
			AdminConsentRequest{Tenant: "organizations", ClientID: clientA, RedirectURI: "http://127.0.0.1:8080/cb", State: "s", Scopes: []string{"https://graph.microsoft.com/.default", "https://outlook.office365.com/.default"}},
			"http://127.0.0.1:9443/organizations/v2.0/adminconsent?client_id=" + clientA + "&redirect_uri=http%3A%2F%2F127.0.0.1%3A8080%2Fcb&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default+https%3A%2F%2Foutlook.office365.com%2F.default&state=s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := tt.b.AdminConsentURL(tt.req)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, u.String()); diff != "" {
				t.Errorf("AdminConsentURL mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestUserConsentURL(t *testing.T) {
	b := builder()
	u, verifier, err := b.UserConsentURL(UserConsentRequest{Tenant: tenantA, ClientID: clientA, RedirectURI: redirect, State: "s", LoginHint: "consent.user@contoso.com"})
	if err != nil {
		t.Fatal(err)
	}
	wantVerifier := base64.RawURLEncoding.EncodeToString(bytes.Repeat([]byte{9}, 32))
	if string(verifier) != wantVerifier || len(verifier) != 43 {
		t.Errorf("verifier = %q, want %q", string(verifier), wantVerifier)
	}
	sum := sha256.Sum256([]byte(wantVerifier))
	want := url.Values{
		"client_id":             {clientA},
		"response_type":         {"code"},
		"response_mode":         {"query"},
		"redirect_uri":          {redirect},
		"scope":                 {"openid profile offline_access https://graph.microsoft.com/.default"},
		"state":                 {"s"},
		"prompt":                {"consent"},
		"code_challenge":        {base64.RawURLEncoding.EncodeToString(sum[:])},
		"code_challenge_method": {"S256"},
		"login_hint":            {"consent.user@contoso.com"},
	}
	if diff := cmp.Diff(want, u.Query()); diff != "" {
		t.Errorf("query mismatch (-want +got):\n%s", diff)
	}
	if got := u.Scheme + "://" + u.Host + u.Path; got != "https://login.microsoftonline.com/"+tenantA+"/oauth2/v2.0/authorize" {
		t.Errorf("endpoint = %s", got)
	}
	if strings.Contains(u.String(), wantVerifier) {
		t.Error("the PKCE verifier leaked into the URL")
	}
	if s := fmt.Sprintf("%v %s %#v", verifier, verifier, verifier); strings.Contains(s, wantVerifier) {
		t.Errorf("formatting shows the verifier: %s", s)
	}
}

func TestConsentURLErrors(t *testing.T) {
	ok := AdminConsentRequest{Tenant: tenantA, ClientID: clientA, RedirectURI: redirect, State: "s"}
	with := func(f func(*AdminConsentRequest)) AdminConsentRequest { r := ok; f(&r); return r }
	tests := []struct {
		name string
		b    URLBuilder
		req  AdminConsentRequest
		want error
	}{
		{"redirect not allow-listed", builder(), with(func(r *AdminConsentRequest) { r.RedirectURI = "https://evil.example/cb" }), ErrRedirectURINotAllowed},
		{"redirect differs by a trailing slash", builder(), with(func(r *AdminConsentRequest) { r.RedirectURI = redirect + "/" }), ErrRedirectURINotAllowed},
		{"allow-listed redirect over plain http", URLBuilder{RedirectURIs: []string{"http://portal.example/cb"}}, with(func(r *AdminConsentRequest) { r.RedirectURI = "http://portal.example/cb" }), ErrRedirectURINotAllowed},
		{"allow-listed redirect with fragment", URLBuilder{RedirectURIs: []string{"https://portal.example/cb#x"}}, with(func(r *AdminConsentRequest) { r.RedirectURI = "https://portal.example/cb#x" }), ErrRedirectURINotAllowed},
		{"empty allow-list", URLBuilder{}, ok, ErrRedirectURINotAllowed},
		{"http authority", URLBuilder{AuthorityHost: "http://login.example", RedirectURIs: []string{redirect}}, ok, ErrInvalidAuthority},
		{"authority with path", URLBuilder{AuthorityHost: "https://login.microsoftonline.com/common", RedirectURIs: []string{redirect}}, ok, ErrInvalidAuthority},
		{"authority not a URL", URLBuilder{AuthorityHost: "login.microsoftonline.com", RedirectURIs: []string{redirect}}, ok, ErrInvalidAuthority},
		{"common tenant", builder(), with(func(r *AdminConsentRequest) { r.Tenant = "common" }), ErrInvalidConsentRequest},
		{"tenant with a slash", builder(), with(func(r *AdminConsentRequest) { r.Tenant = "contoso.com/../x" }), ErrInvalidConsentRequest},
		{"tenant single label", builder(), with(func(r *AdminConsentRequest) { r.Tenant = "contoso" }), ErrInvalidConsentRequest},
		{"client ID not a GUID", builder(), with(func(r *AdminConsentRequest) { r.ClientID = "my-app" }), ErrInvalidConsentRequest},
		{"no state", builder(), with(func(r *AdminConsentRequest) { r.State = "" }), ErrInvalidConsentRequest},
		{"explicit scope on admin consent", builder(), with(func(r *AdminConsentRequest) { r.Scopes = []string{"https://graph.microsoft.com/User.Read"} }), ErrInvalidConsentRequest},
		{"scope with a space", builder(), with(func(r *AdminConsentRequest) { r.Scopes = []string{"a/.default b/.default"} }), ErrInvalidConsentRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if u, err := tt.b.AdminConsentURL(tt.req); !errors.Is(err, tt.want) {
				t.Errorf("AdminConsentURL = %v, %v; want %v", u, err, tt.want)
			}
			ur := UserConsentRequest{Tenant: tt.req.Tenant, ClientID: tt.req.ClientID, RedirectURI: tt.req.RedirectURI, State: tt.req.State}
			if tt.want == ErrInvalidConsentRequest && len(tt.req.Scopes) > 0 && !strings.Contains(tt.req.Scopes[0], " ") {
				return // explicit scopes are fine for user consent
			}
			ur.Scopes = tt.req.Scopes
			if u, _, err := tt.b.UserConsentURL(ur); !errors.Is(err, tt.want) {
				t.Errorf("UserConsentURL = %v, %v; want %v", u, err, tt.want)
			}
		})
	}
}

func TestUserConsentURLRandFailure(t *testing.T) {
	b := builder()
	b.Rand = bytes.NewReader(nil)
	if _, _, err := b.UserConsentURL(UserConsentRequest{Tenant: tenantA, ClientID: clientA, RedirectURI: redirect, State: "s"}); err == nil {
		t.Error("UserConsentURL without randomness succeeded")
	}
}

func TestPKCEChallengeRFC7636(t *testing.T) {
	// RFC 7636, Appendix B.
	v := PKCEVerifier("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
	if got := v.Challenge(); got != "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM" {
		t.Errorf("Challenge() = %s", got)
	}
}

func TestURLBuilderValidate(t *testing.T) {
	tests := []struct {
		name string
		b    URLBuilder
		want error
	}{
		{"ok", URLBuilder{RedirectURIs: []string{redirect, "http://localhost:8080/cb"}}, nil},
		{"empty allow-list", URLBuilder{}, ErrRedirectURINotAllowed},
		{"relative redirect", URLBuilder{RedirectURIs: []string{"/cb"}}, ErrRedirectURINotAllowed},
		{"http redirect off loopback", URLBuilder{RedirectURIs: []string{"http://portal.example/cb"}}, ErrRedirectURINotAllowed},
		{"bad authority", URLBuilder{AuthorityHost: "ftp://login.example", RedirectURIs: []string{redirect}}, ErrInvalidAuthority},
	}
	for _, tt := range tests {
		if err := tt.b.Validate(); !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
			t.Errorf("%s: Validate() = %v, want %v", tt.name, err, tt.want)
		}
	}
}

func TestUserConsentURLCallerVerifier(t *testing.T) {
	b := builder()
	req := UserConsentRequest{Tenant: tenantA, ClientID: clientA, RedirectURI: redirect, State: "s",
		PKCEVerifier: "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"}
	u, v, err := b.UserConsentURL(req)
	if err != nil {
		t.Fatal(err)
	}
	if v != req.PKCEVerifier || u.Query().Get("code_challenge") != "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM" {
		t.Errorf("verifier %q, challenge %q", string(v), u.Query().Get("code_challenge"))
	}
	for _, bad := range []PKCEVerifier{"short", PKCEVerifier(strings.Repeat("a", 129)), PKCEVerifier(strings.Repeat("a", 42) + "+")} {
		req.PKCEVerifier = bad
		if _, _, err := b.UserConsentURL(req); !errors.Is(err, ErrInvalidConsentRequest) {
			t.Errorf("verifier %q: %v", string(bad), err)
		}
	}
}
