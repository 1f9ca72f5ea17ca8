package graph_test

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/cache"
	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"
	"github.com/google/go-cmp/cmp"

	"github.com/tenantapps/tenantapps/consent"
	"github.com/tenantapps/tenantapps/consent/consenttest"
	"github.com/tenantapps/tenantapps/consent/graph"
	"github.com/tenantapps/tenantapps/consent/graphtest"
)

const graphDefault = "https://graph.microsoft.com/.default"

// userCode has a user of tenant A consent to app X for Graph User.Read through the emulator's
// authorize endpoint and returns the user's ID, the code and its PKCE verifier.
func userCode(t *testing.T, e *env) (userID, code, verifier string) {
	t.Helper()
	userID, err := e.srv.AddUser(tenantA, consenttest.User{UserPrincipalName: "ben@contoso.example"})
	must(t, err)
	verifier = "0123456789abcdef0123456789abcdef0123456789abcdef"
	sum := sha256.Sum256([]byte(verifier))
	code, err = e.srv.AuthorizeUser(consenttest.AuthorizeRequest{TenantID: tenantA, AppID: appX, UserID: userID, RedirectURI: redirect,
		Scopes: []string{"openid", "offline_access", "https://graph.microsoft.com/User.Read"}, CodeChallenge: base64.RawURLEncoding.EncodeToString(sum[:])})
	must(t, err)
	return userID, code, verifier
}

// cachedTargets returns the targets of the access tokens in a serialized MSAL cache.
func cachedTargets(t *testing.T, blob []byte) []string {
	t.Helper()
	var c struct {
		AccessToken map[string]struct {
			Target string `json:"target"`
		}
	}
	must(t, json.Unmarshal(blob, &c))
	var out []string
	for _, at := range c.AccessToken {
		out = append(out, at.Target)
	}
	return out
}

type blob struct{ data []byte }

func (b *blob) Replace(_ context.Context, u cache.Unmarshaler, _ cache.ReplaceHints) error {
	return u.Unmarshal(b.data)
}

func (b *blob) Export(_ context.Context, m cache.Marshaler, _ cache.ExportHints) error {
	var err error
	b.data, err = m.Marshal()
	return err
}

// TestDefaultScope: Entra answers a delegated ".default" request with the concrete scopes it
// granted; the driver's MSAL must accept that for RedeemCode and ProveDelegated, and the cached
// token must be found again for ".default".
func TestDefaultScope(t *testing.T) {
	e := newEnv(t, graphtest.Options{}, nil)
	e.withCustomer(t)
	ctx := ctxT(t)
	userID, code, verifier := userCode(t, e)

	red, err := e.drv.RedeemCode(ctx, consent.CodeRedemption{TenantID: tenantA, AppID: appX, Code: code, RedirectURI: redirect,
		PKCEVerifier: verifier, Scopes: []string{"openid", "offline_access", graphDefault}})
	if err != nil {
		t.Fatalf("RedeemCode with .default: %v", err)
	}
	if red.UserObjectID != userID || !cmp.Equal(red.Scopes, []string{"User.Read"}) {
		t.Errorf("Redeemed = %+v, want user %s with scopes [User.Read]", red, userID)
	}
	targets := cachedTargets(t, red.TokenCache)
	if len(targets) != 1 || !strings.Contains(targets[0], "https://graph.microsoft.com/User.Read") || !strings.Contains(targets[0], graphDefault) {
		t.Errorf("cached access token targets %q, want the granted scopes and %s", targets, graphDefault)
	}

	// MSAL's own silent lookup for ".default" finds the cached token: no token request.
	key, ok := e.appX.Key.(*rsa.PrivateKey)
	if !ok {
		t.Fatal("test credential key is not RSA")
	}
	cred, err := confidential.NewCredFromCert(e.appX.Chain, key)
	must(t, err)
	store := &blob{data: red.TokenCache}
	client, err := confidential.New(e.srv.URL+"/"+tenantA, appX, cred, confidential.WithHTTPClient(e.srv.Client()),
		confidential.WithInstanceDiscovery(false), confidential.WithCache(store))
	must(t, err)
	acct, err := client.Account(ctx, userID+"."+tenantA)
	must(t, err)
	e.srv.ResetStats()
	if _, err := client.AcquireTokenSilent(ctx, []string{graphDefault}, confidential.WithSilentAccount(acct)); err != nil {
		t.Fatalf("AcquireTokenSilent(.default) from the redeemed cache: %v", err)
	}
	if n := e.srv.Stats().Total(graphtest.RouteToken, tenantA); n != 0 {
		t.Errorf("AcquireTokenSilent(.default) sent %d token requests, want 0 (cache hit)", n)
	}

	for _, tc := range []struct {
		name   string
		scopes []string
	}{
		{"explicit .default", []string{graphDefault}},
		{"scopes from the cache", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.srv.ResetStats()
			proof, err := e.drv.ProveDelegated(ctx, consent.DelegatedRefresh{TenantID: tenantA, AppID: appX, UserObjectID: userID,
				TokenCache: red.TokenCache, Scopes: tc.scopes})
			if err != nil {
				t.Fatalf("ProveDelegated: %v", err)
			}
			if proof.UserObjectID != userID || !cmp.Equal(proof.Scopes, []string{"User.Read"}) {
				t.Errorf("proof = %+v, want scopes [User.Read]", proof)
			}
			if n := e.srv.Stats().Total(graphtest.RouteToken, tenantA); n != 1 {
				t.Errorf("ProveDelegated sent %d token requests, want 1", n)
			}
			// The refreshed cache serves ".default" silently too.
			store.data = proof.TokenCache
			e.srv.ResetStats()
			if _, err := client.AcquireTokenSilent(ctx, []string{graphDefault}, confidential.WithSilentAccount(acct)); err != nil {
				t.Fatalf("AcquireTokenSilent(.default) from the refreshed cache: %v", err)
			}
			if n := e.srv.Stats().Total(graphtest.RouteToken, tenantA); n != 0 {
				t.Errorf("AcquireTokenSilent(.default) after refresh sent %d token requests, want 0", n)
			}
		})
	}

	// A concrete scope the user never consented to is still refused.
	_, err = e.drv.ProveDelegated(ctx, consent.DelegatedRefresh{TenantID: tenantA, AppID: appX, UserObjectID: userID,
		TokenCache: red.TokenCache, Scopes: []string{"https://graph.microsoft.com/Mail.Read"}})
	var de *consent.DriverError
	if !errors.As(err, &de) || de.Code != "AADSTS65001" {
		t.Errorf("ProveDelegated for an unconsented scope: %v, want AADSTS65001", err)
	}
}

// scopeRewriter stands in for a token endpoint whose answer grants other scopes than asked:
// it replaces the "scope" of successful token responses.
type scopeRewriter struct {
	next  http.RoundTripper
	scope string
}

func (s *scopeRewriter) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := s.next.RoundTrip(req)
	if err != nil || !strings.HasSuffix(req.URL.Path, "/oauth2/v2.0/token") || resp.StatusCode != http.StatusOK {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, err
	}
	if _, ok := m["refresh_token"]; ok { // user tokens only; leave the reader's app tokens alone
		m["scope"] = s.scope
	}
	body, _ = json.Marshal(m)
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.Header.Del("Content-Length")
	return resp, nil
}

// TestDeclinedScopesStillFail: the ".default" handling never hides scopes the tenant really
// declined.
func TestDeclinedScopesStillFail(t *testing.T) {
	tests := []struct {
		name      string
		requested []string
		granted   string
	}{
		{"concrete scope not granted", []string{"https://graph.microsoft.com/User.Read"}, "https://graph.microsoft.com/Mail.Read openid profile offline_access"},
		{".default answered for another resource", []string{graphDefault}, "https://outlook.office.com/Mail.Read openid profile offline_access"},
		{".default answered with OIDC scopes only", []string{graphDefault}, "openid profile offline_access"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, graphtest.Options{}, func(c *graph.Config) {
				c.HTTPClient = &http.Client{Transport: &scopeRewriter{next: c.HTTPClient.Transport, scope: tc.granted}}
			})
			e.withCustomer(t)
			_, code, verifier := userCode(t, e)
			_, err := e.drv.RedeemCode(ctxT(t), consent.CodeRedemption{TenantID: tenantA, AppID: appX, Code: code, RedirectURI: redirect,
				PKCEVerifier: verifier, Scopes: tc.requested})
			if err == nil || !strings.Contains(err.Error(), "declined scopes") {
				t.Fatalf("RedeemCode = %v, want MSAL's declined-scopes error", err)
			}
		})
	}
}
