package graph

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/cache"
	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"
	"github.com/google/uuid"

	"github.com/tenantapps/tenantapps/consent"
)

func decodeSegment(s string) ([]byte, error) {
	s = strings.TrimRight(s, "=")
	return base64.RawURLEncoding.DecodeString(s)
}

// signAssertion builds the client assertion MSAL would (PS256, x5t#S256, aud = token endpoint)
// with any RSA crypto.Signer, for keys MSAL cannot hold itself (HSM, KMS).
func signAssertion(c consent.CertificateCredential, clientID, tokenEndpoint string) (string, error) {
	leaf := c.Leaf()
	sum := sha256.Sum256(leaf.Raw)
	hdr, _ := json.Marshal(map[string]any{"alg": "PS256", "typ": "JWT", "x5t#S256": base64.RawURLEncoding.EncodeToString(sum[:])})
	now := time.Now()
	body, _ := json.Marshal(map[string]any{"aud": tokenEndpoint, "iss": clientID, "sub": clientID, "jti": uuid.NewString(),
		"nbf": now.Unix(), "exp": now.Add(10 * time.Minute).Unix()})
	input := base64.RawURLEncoding.EncodeToString(hdr) + "." + base64.RawURLEncoding.EncodeToString(body)
	h := sha256.Sum256([]byte(input))
	sig, err := c.Key.Sign(rand.Reader, h[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: crypto.SHA256})
	if err != nil {
		return "", fmt.Errorf("graph: signing the client assertion: %w", err)
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

// blobCache is an MSAL cache accessor that keeps the serialized cache in memory, so RedeemCode
// can hand the caller the token cache (with the refresh token) to seal and store.
type blobCache struct {
	mu   sync.Mutex
	data []byte
}

func (b *blobCache) Replace(_ context.Context, u cache.Unmarshaler, _ cache.ReplaceHints) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.data) == 0 {
		return nil
	}
	return u.Unmarshal(b.data)
}

func (b *blobCache) Export(_ context.Context, m cache.Marshaler, _ cache.ExportHints) error {
	data, err := m.Marshal()
	if err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.data = data
	return nil
}

func (b *blobCache) bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.data)
}

// ProveCertificate acquires an app-only token for appID in tenantID with cred, through a fresh
// MSAL client (never a cached token: the point is to prove the certificate now), and reports the
// token's claims. See consent.CertificateProver for the errors.
func (d *Driver) ProveCertificate(ctx context.Context, tenantID, appID string, cred consent.CertificateCredential) (consent.TokenProof, error) {
	const op = "ProveCertificate"
	fail := func(err error) (consent.TokenProof, error) {
		return consent.TokenProof{}, &consent.DriverError{Op: op, TenantID: tenantID, AppID: appID, Err: err}
	}
	if _, err := uuid.Parse(tenantID); err != nil {
		return fail(fmt.Errorf("tenant ID %q is not a GUID: %w", tenantID, consent.ErrInvalidArgument))
	}
	if _, err := uuid.Parse(appID); err != nil {
		return fail(fmt.Errorf("app ID %q is not a GUID: %w", appID, consent.ErrInvalidArgument))
	}
	mc, err := msalCredential(cred)
	if err != nil {
		return fail(err)
	}
	release, err := d.acquire(ctx, tenantID)
	if err != nil {
		return fail(err)
	}
	defer release()
	client, err := d.newClient(appID, tenantID, mc, nil)
	if err != nil {
		return fail(err)
	}
	ar, err := client.AcquireTokenByCredential(ctx, []string{d.cfg.GraphScope}, confidential.WithTenantID(tenantID))
	if err != nil {
		return consent.TokenProof{}, tokenError(ctx, op, tenantID, appID, err, false)
	}
	c, err := claims(ar.AccessToken)
	if err != nil {
		return fail(fmt.Errorf("%w: %v", consent.ErrTransient, err))
	}
	str := func(k string) string { v, _ := c[k].(string); return v }
	proof := consent.TokenProof{TenantID: str("tid"), AppID: str("appid"), ServicePrincipalID: str("oid"), ExpiresAt: ar.ExpiresOn.UTC()}
	if proof.AppID == "" {
		proof.AppID = str("azp")
	}
	if rs, ok := c["roles"].([]any); ok {
		for _, r := range rs {
			if v, ok := r.(string); ok {
				proof.Roles = append(proof.Roles, v)
			}
		}
	}
	slices.Sort(proof.Roles)
	return proof, nil
}

// RedeemCode redeems a consent callback's authorization code with MSAL
// (AcquireTokenByAuthCode, PKCE verifier included) and returns who consented and the serialized
// token cache. See consent.CodeRedeemer for the errors.
func (d *Driver) RedeemCode(ctx context.Context, req consent.CodeRedemption) (consent.Redeemed, error) {
	const op = "RedeemCode"
	fail := func(err error) (consent.Redeemed, error) {
		return consent.Redeemed{}, &consent.DriverError{Op: op, TenantID: req.TenantID, AppID: req.AppID, Err: err}
	}
	if req.TenantID == "" || strings.ContainsAny(req.TenantID, "/?#") {
		return fail(fmt.Errorf("tenant %q is not a tenant ID or \"organizations\": %w", req.TenantID, consent.ErrInvalidArgument))
	}
	if _, err := uuid.Parse(req.AppID); err != nil {
		return fail(fmt.Errorf("app ID %q is not a GUID: %w", req.AppID, consent.ErrInvalidArgument))
	}
	if req.Code == "" || req.RedirectURI == "" {
		return fail(fmt.Errorf("the code and the redirect URI are required: %w", consent.ErrInvalidArgument))
	}
	cred, err := d.appCredential(req.AppID, req.Credential)
	if err != nil {
		return fail(err)
	}
	mc, err := msalCredential(cred)
	if err != nil {
		return fail(err)
	}
	release, err := d.acquire(ctx, req.TenantID)
	if err != nil {
		return fail(err)
	}
	defer release()
	store := &blobCache{}
	client, err := d.newClient(req.AppID, req.TenantID, mc, store)
	if err != nil {
		return fail(err)
	}
	var opts []confidential.AcquireByAuthCodeOption
	if req.PKCEVerifier != "" {
		opts = append(opts, confidential.WithChallenge(req.PKCEVerifier))
	}
	scopes := slices.DeleteFunc(slices.Clone(req.Scopes), func(s string) bool {
		return s == "openid" || s == "profile" || s == "offline_access" // MSAL adds them itself
	})
	ar, err := client.AcquireTokenByAuthCode(ctx, req.Code, req.RedirectURI, scopes, opts...)
	if err != nil {
		return consent.Redeemed{}, tokenError(ctx, op, req.TenantID, req.AppID, err, false)
	}
	out := consent.Redeemed{
		TenantID: ar.IDToken.TenantID, UserObjectID: ar.IDToken.Oid, UserPrincipalName: ar.IDToken.PreferredUsername,
		ExpiresAt: ar.ExpiresOn.UTC(), TokenCache: store.bytes(),
	}
	if out.UserPrincipalName == "" {
		out.UserPrincipalName = ar.IDToken.UPN
	}
	if c, err := claims(ar.AccessToken); err == nil {
		if scp, ok := c["scp"].(string); ok {
			out.Scopes = strings.Fields(scp)
		}
		if out.TenantID == "" {
			out.TenantID, _ = c["tid"].(string)
		}
	}
	if len(out.Scopes) == 0 {
		for _, s := range ar.GrantedScopes {
			if i := strings.LastIndex(s, "/"); i >= 0 {
				s = s[i+1:]
			}
			if s != "openid" && s != "profile" && s != "offline_access" && s != ".default" {
				out.Scopes = append(out.Scopes, s)
			}
		}
	}
	slices.Sort(out.Scopes)
	out.Scopes = slices.Compact(out.Scopes)
	return out, nil
}
