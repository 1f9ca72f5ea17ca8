package graphtest

// OpenID Connect sign-in, for portals that sign in their own staff (an MSP's operators) against
// the emulated Microsoft Entra ID with the authorization code flow: /{tenant}/oauth2/v2.0/authorize
// with scope "openid profile", a nonce and a PKCE challenge, then the token endpoint, which answers
// with an id_token. What the emulator does, and the Microsoft identity platform documentation it
// follows:
//
//   - the sign-in request: scope "openid", a nonce, state and a registered redirect URI
//     (https://learn.microsoft.com/en-us/entra/identity-platform/v2-protocols-oidc, "Send the
//     sign-in request"); with response_type=code the code comes back to the redirect URI;
//   - discovery: /{tenant}/v2.0/.well-known/openid-configuration names the issuer
//     ("<authority>/<tenant>/v2.0"), the authorize and token endpoints and jwks_uri
//     (https://learn.microsoft.com/en-us/entra/identity-platform/v2-protocols-oidc, "Find your
//     app's OpenID configuration document URI");
//   - signing keys: jwks_uri, /{tenant}/discovery/v2.0/keys, serves the RSA key that signs every
//     token (RS256, the kid in each token's header) (same page, its sample configuration's
//     jwks_uri; the header claims alg and kid: id-token-claims-reference below);
//   - the id_token of an authorization code redemption carries aud (the client ID), iss, tid,
//     oid, sub, preferred_username, name, iat, nbf, exp, ver "2.0" and, when the authorize request
//     had one, nonce — "The nonce matches the parameter included in the original authorize
//     request to the IDP. If it doesn't match, your application should reject the token."
//     (https://learn.microsoft.com/en-us/entra/identity-platform/id-token-claims-reference);
//   - the authorization code is single-use and bound to the redirect URI and the PKCE challenge
//     (https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-auth-code-flow).

// idTokenNonce puts the authorize request's nonce into the id_token of a token reply built by
// userTokensLocked (the pending claims with ver "2.0"); a refresh, which has no authorize request,
// has none.
func idTokenNonce(w *deferredReply, nonce string) {
	if nonce == "" {
		return
	}
	for _, claims := range w.pending {
		if claims["ver"] == "2.0" {
			claims["nonce"] = nonce
		}
	}
}
