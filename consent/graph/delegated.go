package graph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"
	msalerrors "github.com/AzureAD/microsoft-authentication-library-for-go/apps/errors"
	"github.com/google/uuid"

	"github.com/tenantapps/tenantapps/consent"
)

var _ consent.DelegatedProver = (*Driver)(nil)

// withoutAccessTokens removes cached access tokens from a serialized MSAL cache, so that a silent
// acquisition must redeem the refresh token at the token endpoint (a real, non-interactive
// sign-in of the consent user) instead of answering from the cache.
func withoutAccessTokens(blob []byte) ([]byte, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(blob, &m); err != nil {
		return nil, err
	}
	delete(m, "AccessToken")
	return json.Marshal(m)
}

// cachedScopes returns the scopes of the user's cached access token (the MSAL cache's
// AccessToken "target"), i.e. those consented — only its "<resource>/.default" scopes when it
// has any; nil when none is found.
func cachedScopes(blob []byte, userObjectID string) []string {
	var c struct {
		AccessToken map[string]struct {
			HomeAccountID string `json:"home_account_id"`
			Target        string `json:"target"`
		}
	}
	if json.Unmarshal(blob, &c) != nil {
		return nil
	}
	keys := make([]string, 0, len(c.AccessToken))
	for k := range c.AccessToken {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		at := c.AccessToken[k]
		if strings.HasPrefix(strings.ToLower(at.HomeAccountID), strings.ToLower(userObjectID)+".") {
			scopes := slices.DeleteFunc(strings.Fields(at.Target), func(s string) bool {
				return s == "openid" || s == "profile" || s == "offline_access"
			})
			// A token acquired for "<resource>/.default" is cached with that scope next to the
			// concrete ones it granted (tokenscope.Transport); ask for ".default" again, since
			// Entra refuses ".default" mixed with other scopes of its resource.
			if defaults := slices.DeleteFunc(slices.Clone(scopes), func(s string) bool { return !strings.HasSuffix(s, "/.default") }); len(defaults) > 0 {
				return defaults
			}
			return scopes
		}
	}
	return nil
}

// ProveDelegated refreshes the consent user's token from req.TokenCache through MSAL
// (AcquireTokenSilent with the cached account, its access tokens dropped so the refresh token
// is redeemed) and reports the new token's claims and the rotated cache. See
// consent.DelegatedProver for the errors.
func (d *Driver) ProveDelegated(ctx context.Context, req consent.DelegatedRefresh) (consent.DelegatedProof, error) {
	const op = "ProveDelegated"
	fail := func(err error, code string) (consent.DelegatedProof, error) {
		return consent.DelegatedProof{}, &consent.DriverError{Op: op, TenantID: req.TenantID, AppID: req.AppID, Code: code, Err: err}
	}
	if _, err := uuid.Parse(req.TenantID); err != nil {
		return fail(fmt.Errorf("tenant ID %q is not a GUID: %w", req.TenantID, consent.ErrInvalidArgument), "")
	}
	if _, err := uuid.Parse(req.AppID); err != nil {
		return fail(fmt.Errorf("app ID %q is not a GUID: %w", req.AppID, consent.ErrInvalidArgument), "")
	}
	if req.UserObjectID == "" {
		return fail(fmt.Errorf("the consent user's object ID is required: %w", consent.ErrInvalidArgument), "")
	}
	cred, err := d.appCredential(req.AppID, req.Credential)
	if err != nil {
		return fail(err, "")
	}
	mc, err := msalCredential(cred)
	if err != nil {
		return fail(err, "")
	}
	scopes := slices.DeleteFunc(slices.Clone(req.Scopes), func(s string) bool {
		return s == "openid" || s == "profile" || s == "offline_access"
	})
	if len(scopes) == 0 {
		scopes = cachedScopes(req.TokenCache, req.UserObjectID)
	}
	if len(scopes) == 0 {
		scopes = []string{d.cfg.GraphScope}
	}
	store := &blobCache{}
	if len(req.TokenCache) > 0 {
		if store.data, err = withoutAccessTokens(req.TokenCache); err != nil {
			return fail(fmt.Errorf("%w: the token cache is not an MSAL cache (%v); consent again", consent.ErrInvalidGrant, err), "AADSTS9002313")
		}
	}
	release, err := d.acquire(ctx, req.TenantID)
	if err != nil {
		return fail(err, "")
	}
	defer release()
	client, err := d.newClient(req.AppID, req.TenantID, mc, store)
	if err != nil {
		return fail(err, "")
	}
	acct, err := client.Account(ctx, req.UserObjectID+"."+req.TenantID)
	if err != nil || acct.IsZero() {
		return fail(fmt.Errorf("%w: the token cache holds no account for user %s; consent again", consent.ErrInvalidGrant, req.UserObjectID), "AADSTS9002313")
	}
	ar, err := client.AcquireTokenSilent(ctx, scopes, confidential.WithSilentAccount(acct), confidential.WithTenantID(req.TenantID))
	if err != nil {
		var ce msalerrors.CallErr
		var ue *url.Error
		var ne net.Error
		if ctx.Err() == nil && !errors.As(err, &ce) && !errors.As(err, &ue) && !errors.As(err, &ne) {
			// MSAL sent nothing: the cache has no refresh token for the account and scopes.
			return fail(fmt.Errorf("%w: the token cache holds no usable refresh token (%v); consent again", consent.ErrInvalidGrant, firstLine(err.Error())), "AADSTS9002313")
		}
		return consent.DelegatedProof{}, tokenError(ctx, op, req.TenantID, req.AppID, err, false)
	}
	out := consent.DelegatedProof{ExpiresAt: ar.ExpiresOn.UTC(), TokenCache: store.bytes(), TenantID: req.TenantID, UserObjectID: req.UserObjectID}
	if c, err := claims(ar.AccessToken); err == nil {
		s := func(k string) string { v, _ := c[k].(string); return v }
		if v := s("tid"); v != "" {
			out.TenantID = v
		}
		if v := s("oid"); v != "" {
			out.UserObjectID = v
		}
		out.UserPrincipalName = s("upn")
		if out.UserPrincipalName == "" {
			out.UserPrincipalName = s("preferred_username")
		}
		out.Scopes = strings.Fields(s("scp"))
	}
	slices.Sort(out.Scopes)
	out.Scopes = slices.Compact(out.Scopes)
	return out, nil
}

// appCredential picks the credential of an app: the one passed, else Config.AppCredentials.
func (d *Driver) appCredential(appID string, passed *consent.CertificateCredential) (consent.CertificateCredential, error) {
	switch {
	case passed != nil:
		return *passed, nil
	case d.cfg.AppCredentials != nil:
		c, ok := d.cfg.AppCredentials(appID)
		if !ok {
			return consent.CertificateCredential{}, fmt.Errorf("no credential for app %s (Config.AppCredentials): %w", appID, consent.ErrInvalidArgument)
		}
		return c, nil
	}
	return consent.CertificateCredential{}, fmt.Errorf("no credential for app %s: pass one in the request or set Config.AppCredentials: %w", appID, consent.ErrInvalidArgument)
}
