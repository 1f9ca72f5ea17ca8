package graph_test

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/tenantapps/tenantapps/consent"
	"github.com/tenantapps/tenantapps/consent/consenttest"
	"github.com/tenantapps/tenantapps/consent/graphtest"
)

// TestDelegatedConsentLifecycle: a user consents through the emulator's authorize endpoint, the
// driver redeems the code (PKCE) with MSAL, proves the consent later by refreshing from the
// kept token cache, and reports the tenant's refusal once the user's password is reset.
func TestDelegatedConsentLifecycle(t *testing.T) {
	for _, authorityTenant := range []string{tenantA, "organizations"} {
		t.Run(authorityTenant, func(t *testing.T) {
			e := newEnv(t, graphtest.Options{}, nil)
			e.withCustomer(t)
			ctx := ctxT(t)
			userID, err := e.srv.AddUser(tenantA, consenttest.User{UserPrincipalName: "anna@contoso.example", Licenses: []string{"c7df2760-2c81-4ef7-b578-5b5392b571df"}})
			must(t, err)
			verifier := "0123456789abcdef0123456789abcdef0123456789abcdef"
			sum := sha256.Sum256([]byte(verifier))
			scopes := []string{"openid", "offline_access", "https://graph.microsoft.com/User.Read"}
			code, err := e.srv.AuthorizeUser(consenttest.AuthorizeRequest{TenantID: tenantA, AppID: appX, UserID: userID, RedirectURI: redirect,
				Scopes: scopes, CodeChallenge: base64.RawURLEncoding.EncodeToString(sum[:])})
			must(t, err)

			red, err := e.drv.RedeemCode(ctx, consent.CodeRedemption{TenantID: authorityTenant, AppID: appX, Code: code, RedirectURI: redirect, PKCEVerifier: verifier, Scopes: scopes})
			if err != nil {
				t.Fatalf("RedeemCode: %v", err)
			}
			want := consent.Redeemed{TenantID: tenantA, UserObjectID: userID, UserPrincipalName: "anna@contoso.example", Scopes: []string{"User.Read"}}
			if diff := cmp.Diff(want, red, cmpopts.IgnoreFields(consent.Redeemed{}, "ExpiresAt", "TokenCache")); diff != "" {
				t.Errorf("Redeemed mismatch (-want +got):\n%s", diff)
			}
			if len(red.TokenCache) == 0 {
				t.Fatal("no token cache to keep")
			}
			if _, err := e.drv.RedeemCode(ctx, consent.CodeRedemption{TenantID: authorityTenant, AppID: appX, Code: code, RedirectURI: redirect, PKCEVerifier: verifier, Scopes: scopes}); !errors.Is(err, consent.ErrInvalidGrant) {
				t.Errorf("second redemption: %v, want ErrInvalidGrant", err)
			}

			req := consent.DelegatedRefresh{TenantID: tenantA, AppID: appX, UserObjectID: userID, TokenCache: red.TokenCache}
			e.srv.ResetStats()
			proof, err := e.drv.ProveDelegated(ctx, req)
			if err != nil {
				t.Fatalf("ProveDelegated: %v", err)
			}
			if proof.UserObjectID != userID || !cmp.Equal(proof.Scopes, []string{"User.Read"}) {
				t.Errorf("proof = %v", proof)
			}
			if n := e.srv.Stats().Total(graphtest.RouteToken, tenantA); n != 1 {
				t.Errorf("ProveDelegated sent %d token requests, want 1: it must really refresh, not answer from the cache", n)
			}

			must(t, e.srv.ResetUserPassword(tenantA, userID))
			_, err = e.drv.ProveDelegated(ctx, req)
			var de *consent.DriverError
			if !errors.Is(err, consent.ErrInvalidGrant) || !errors.As(err, &de) || de.Code != "AADSTS50173" {
				t.Fatalf("after password reset: %v, want ErrInvalidGrant AADSTS50173", err)
			}
			var ae *consent.AADSTSError
			if !errors.As(err, &ae) || !errors.Is(err, consent.ErrGrantExpired) {
				t.Errorf("after password reset: %v lacks the tenant's AADSTSError", err)
			}
			st, err := e.drv.UserState(ctx, tenantA, userID)
			if err != nil {
				t.Fatal(err)
			}
			if !st.Exists || st.SignInSessionsValidFrom.IsZero() || !cmp.Equal(st.AssignedLicenses, []string{"c7df2760-2c81-4ef7-b578-5b5392b571df"}) {
				t.Errorf("UserState = %+v", st)
			}
		})
	}
}
