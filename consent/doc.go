// Package consent holds the rules and the wire protocol of consenting to an app in a customer's
// Microsoft Entra ID tenant, so a portal can tell an administrator, before sending them to
// Microsoft, "this account can't consent to X because it lacks Y", and can complete the consent
// safely when Microsoft redirects back.
//
// # Who may consent
//
// The rules are data of a permission catalog (permissions.ConsentRule, AppType.Consent): a
// Rulebook (NewRulebook) applies the rules of the catalog it is given, so an embedder's own app
// types are checked by their own rules; the package-level functions use DefaultRulebook, the
// rules of permissions.Default() (seed 003's). Methods lists the consent methods of an app type:
// AdminConsent for every app type, UserConsent only where its rules allow it (UserConsentTable). PolicyFor returns
// everything a method requires for a Target (an app type as used by a service) as typed
// Requirement values, each tagged with the seed rule it encodes (Rules). Evaluate checks a
// Consenter (the account's directory roles, licences, Viva Engage Verified Admin, owned groups)
// and TenantFacts (admin consent already granted, Power Platform / Power BI objects scanned,
// groups whose settings change) against the policy and returns a Decision listing every missing
// requirement with a readable message and a Remediation — never only the first.
//
// # Consent URLs, state and callbacks
//
// URLBuilder builds the admin-consent URL (/{tenant}/v2.0/adminconsent with ".default" scopes)
// and the user-consent URL (the authorize endpoint with prompt=consent and PKCE S256), for any
// authority host (public cloud, national clouds, a local emulator), and only for allow-listed
// redirect URIs. StateCodec signs the state parameter (HMAC-SHA256 with embedder keys, key
// rotation by key ID, an injected clock) carrying profile ID, tenant, method, nonce and expiry;
// verification tells tampering, expiry and a callback for another tenant apart. The state is
// single-use only if the caller consumes its nonce: see StateCodec.VerifyCallback. ParseCallback
// reads the redirect's parameters and maps Entra ID errors (AADSTS codes) to *AADSTSError values
// that wrap sentinels such as ErrConsentDeclined or ErrMFARequired and say what to do;
// ErrorFromAADSTS does the same for token-endpoint errors.
//
// # Driver SPI
//
// The package also defines the Driver interface (database/sql driver style) through which the
// appprofile manager reads ground truth from a tenant — the app's service principal, its
// application and delegated grants, its directory roles — plus optional capability interfaces
// discovered by type assertion (AppStatesReader, RoleAssigner, CodeRedeemer, CertificateProver, UserStateReader,
// ...) and the driver errors (ErrNotConsented, ErrForbidden, ErrThrottled, ...; see CouldNotCheck).
// consent/consenttest is a recording fake with a conformance suite, consent/graph the real driver
// over MSAL Go and Microsoft Graph, and consent/graphtest a local Entra ID + Graph emulator.
//
// Everything in this package except the Driver implementations is pure: no I/O, no global mutable state; time and
// randomness are injectable; all functions and immutable values are safe for concurrent use.
// Secrets (state keys, PKCE verifiers, authorization codes) never appear in errors or String
// output. The package imports only roles, permissions and the standard library.
package consent
