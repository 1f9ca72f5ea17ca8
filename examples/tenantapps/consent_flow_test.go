package main

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"testing"

	"github.com/tenantapps/tenantapps/consent"
	"github.com/tenantapps/tenantapps/consent/consenttest"
	"github.com/tenantapps/tenantapps/consent/graphtest"
	"github.com/tenantapps/tenantapps/roles"
)

// These tests run the consent URLs, state and callback parsing of package consent against the
// local Entra ID emulator (consent/graphtest): the URLs must be accepted as Entra accepts them and
// the emulator's redirects must parse and verify.

const (
	flowTenant   = "0b1f6c2e-8f0a-4a4e-9d2b-6c1d2e3f4a5b"
	flowHome     = "f0f0f0f0-1111-4222-8333-444455556666"
	flowClient   = "6f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b"
	flowRedirect = "https://portal.example/consent/callback"
)

func newConsentEmulator(t *testing.T) *graphtest.Server {
	t.Helper()
	srv := graphtest.NewServer(graphtest.Options{})
	t.Cleanup(srv.Close)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(srv.AddTenant(consenttest.Tenant{ID: flowHome}))
	must(srv.AddTenant(consenttest.Tenant{ID: flowTenant, DefaultDomain: "contoso.onmicrosoft.com"}))
	must(srv.RegisterApp(consenttest.App{AppID: flowClient, HomeTenantID: flowHome, RedirectURIs: []string{flowRedirect}}))
	_, err := srv.AddUser(flowTenant, consenttest.User{UserPrincipalName: "ga@contoso.onmicrosoft.com", DirectoryRoles: []roles.TemplateID{roles.GlobalAdministrator}})
	must(err)
	_, err = srv.AddUser(flowTenant, consenttest.User{UserPrincipalName: "user@contoso.onmicrosoft.com"})
	must(err)
	return srv
}

// follow requests the consent URL and returns the redirect back to the portal.
func follow(t *testing.T, srv *graphtest.Server, consentURL string) *url.URL {
	t.Helper()
	c := srv.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Get(consentURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("GET %s: %s, want a redirect", consentURL, resp.Status)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != flowRedirect {
		t.Fatalf("redirected to %s", got)
	}
	return loc
}

func TestConsentFlowAgainstEmulator(t *testing.T) {
	secret := make([]byte, 32)
	codec, err := consent.NewStateCodec(consent.StateKey{ID: "k1", Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		method   consent.Method
		autoUser string
		failNext int
		wantFlow consent.Flow
		wantErr  error // from ParseCallback; nil: success
	}{
		{"admin consent by a Global Administrator", consent.AdminConsent, "ga@contoso.onmicrosoft.com", 0, consent.AdminConsentFlow, nil},
		{"admin consent by a user without a role", consent.AdminConsent, "user@contoso.onmicrosoft.com", 0, consent.AdminConsentFlow, consent.ErrAdminApprovalRequired},
		{"admin consent declined", consent.AdminConsent, "ga@contoso.onmicrosoft.com", 65004, consent.AdminConsentFlow, consent.ErrConsentDeclined},
		{"user consent blocked by Conditional Access", consent.UserConsent, "user@contoso.onmicrosoft.com", 53003, "", consent.ErrBlockedByConditionalAccess},
		{"user consent", consent.UserConsent, "user@contoso.onmicrosoft.com", 0, consent.AuthorizationCodeFlow, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newConsentEmulator(t)
			if err := srv.SetAutoConsent(flowTenant, tt.autoUser); err != nil {
				t.Fatal(err)
			}
			if tt.failNext != 0 {
				if err := srv.FailNextConsent(flowTenant, tt.failNext, "access_denied", "emulated failure"); err != nil {
					t.Fatal(err)
				}
			}
			state, issued, err := codec.Issue(consent.State{ProfileID: "p-1", Tenant: flowTenant, Method: tt.method})
			if err != nil {
				t.Fatal(err)
			}
			b := consent.URLBuilder{AuthorityHost: srv.URL, RedirectURIs: []string{flowRedirect}}
			if err := b.Validate(); err != nil {
				t.Fatal(err)
			}
			var u *url.URL
			if tt.method == consent.AdminConsent {
				u, err = b.AdminConsentURL(consent.AdminConsentRequest{Tenant: flowTenant, ClientID: flowClient, RedirectURI: flowRedirect, State: state})
			} else {
				u, _, err = b.UserConsentURL(consent.UserConsentRequest{Tenant: flowTenant, ClientID: flowClient, RedirectURI: flowRedirect, State: state})
			}
			if err != nil {
				t.Fatal(err)
			}
			cb, err := consent.ParseCallbackURL(follow(t, srv, u.String()))
			if tt.wantErr == nil && err != nil || tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("ParseCallbackURL error = %v, want %v", err, tt.wantErr)
			}
			if cb.Flow != tt.wantFlow {
				t.Errorf("flow = %q, want %q", cb.Flow, tt.wantFlow)
			}
			st, err := codec.VerifyCallback(cb)
			if err != nil {
				t.Fatalf("VerifyCallback: %v", err)
			}
			if st.Nonce != issued.Nonce || st.ProfileID != "p-1" {
				t.Errorf("state = %+v, issued %+v", st, issued)
			}
			if tt.wantErr == nil && tt.method == consent.AdminConsent {
				if cb.Tenant != flowTenant {
					t.Errorf("callback tenant %q", cb.Tenant)
				}
				if _, err := srv.ServicePrincipalID(flowTenant, flowClient); err != nil {
					t.Errorf("no service principal after admin consent: %v", err)
				}
			}
			if tt.wantErr == nil && tt.method == consent.UserConsent && cb.Code == "" {
				t.Error("user consent returned no code")
			}
		})
	}
}

// TestConsentURLCommandAgainstEmulator: the consent-url command's URL, with --authority pointing
// at the emulator, completes an admin consent whose callback verifies with the same key.
func TestConsentURLCommandAgainstEmulator(t *testing.T) {
	srv := newConsentEmulator(t)
	if err := srv.SetAutoConsent(flowTenant, "ga@contoso.onmicrosoft.com"); err != nil {
		t.Fatal(err)
	}
	secret := []byte("0123456789abcdef0123456789abcdef")
	vars := map[string]string{envStateKey: base64.StdEncoding.EncodeToString(secret), envStateKeyID: "ops"}
	code, out, errOut := runCLIOpts(t, cliOpts{vars: vars}, "consent-url", "--format", "json", "--tenant", flowTenant, "--client-id", flowClient,
		"--redirect-uri", flowRedirect, "--authority", srv.URL, "--app-type", "Insights for Microsoft 365", "--profile-id", "insights-1")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got consentURLJSON
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	cb, err := consent.ParseCallbackURL(follow(t, srv, got.URL))
	if err != nil {
		t.Fatal(err)
	}
	codec, err := consent.NewStateCodec(consent.StateKey{ID: "ops", Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	st, err := codec.VerifyCallback(cb)
	if err != nil || st.ProfileID != "insights-1" || st.Tenant != flowTenant {
		t.Fatalf("VerifyCallback = %+v, %v", st, err)
	}
}
