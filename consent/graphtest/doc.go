// Package graphtest is a local TLS emulator of Microsoft Entra ID and Microsoft Graph v1.0, in the
// style of net/http/httptest, for the real consent/graph driver, the examples and embedders' own
// integration tests. It imports neither MSAL nor msgraph-sdk-go: it is plain net/http, JSON and
// crypto, cheap to build.
//
// What it speaks:
//
//   - Entra: /{tenant}/v2.0/.well-known/openid-configuration, /{tenant}/discovery/v2.0/keys (JWKS),
//     /{tenant}/oauth2/v2.0/token for client_credentials with a certificate client assertion
//     (signature PS256 or RS256, x5t#S256 or x5t in either base64 alphabet matched against the
//     app's keyCredentials, aud, iss/sub, nbf/exp, jti replay), authorization_code (+ PKCE S256)
//     and refresh_token; /{tenant}/v2.0/adminconsent and /{tenant}/oauth2/v2.0/authorize with an
//     HTML consent page (Accept/Cancel, usable by a headless browser) that records consent and
//     redirects with Entra's callback parameters, error redirects with AADSTS codes included.
//     Errors have Entra's JSON shape (error, error_description "AADSTSnnnn: ...", error_codes).
//     Tokens are RS256 JWTs signed by the server's key (tid, appid, oid, roles or scp, upn).
//   - Graph: servicePrincipals (with $filter=appId eq, the (appId='...') key, $select),
//     appRoleAssignments, oauth2PermissionGrants, memberOf (directoryRole objects),
//     roleManagement/directory/roleAssignments (GET with $filter, POST, DELETE), applications
//     (with keyCredentials), users, reports/authenticationMethods/userRegistrationDetails,
//     auditLogs/signIns, organization, and $batch (up to 20 requests, run concurrently as Graph
//     does unless dependsOn orders them, 424 for failed dependencies). Bearer tokens are validated (signature, expiry, audience, tenant); errors
//     have Graph's OData shape (error.code, error.message always set); gzip request bodies are
//     accepted; collections page with absolute @odata.nextLink.
//
// Tenants change while tests run through the Go API, which implements consenttest.Directory
// (revoke grants, remove roles, reset passwords, disable or delete users, remove licences,
// require MFA, block an IP by Conditional Access, delete or disable the service principal, rotate
// the app's certificate) plus emulator-only controls (SetRequiredPermissions, SetAutoConsent,
// FailNextConsent, ProvisionEverywhere).
//
// Faults (AddFault): per-route latency, 429 with Retry-After, 503, 504, hangs, truncated or
// malformed JSON, 403; on every request, a fraction (with an injectable random source), or a
// schedule (Skip, Times). Stats counts every request by route and tenant, $batch items
// separately, fired faults, and requests that arrived inside a Retry-After window the server
// announced to the same app in the same tenant.
//
// All methods of Server are safe for concurrent use.
package graphtest
