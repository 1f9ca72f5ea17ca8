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
// # Strict rules and their sources
//
// The emulator is strict wherever Microsoft documents strictness, so a test that passes against
// it means something against real tenants. Each rule below names the Microsoft document it comes
// from: "graph:" is a path in microsoftgraph/microsoft-graph-docs-contrib, "entra:" one in
// MicrosoftDocs/entra-docs. contract.go holds the request rules and permission table.
//
// Graph requests
//
//   - Permissions are enforced by default (Options.SkipPermissionChecks turns them off for tests
//     that say why): 403 Authorization_RequestDenied without the application permission each
//     call's page documents — servicePrincipals, appRoleAssignments, memberOf, applications:
//     Application.Read.All or Directory.Read.All (graph: api-reference/v1.0/api/
//     serviceprincipal-get.md, serviceprincipal-list-approleassignments.md,
//     serviceprincipal-list-memberof.md, application-get.md); oauth2PermissionGrants:
//     DelegatedPermissionGrant.Read.All or Directory.Read.All
//     (serviceprincipal-list-oauth2permissiongrants.md); roleAssignments: RoleManagement.Read.Directory
//     or Directory.Read.All, POST RoleManagement.ReadWrite.Directory
//     (rbacapplication-list-roleassignments.md, rbacapplication-post-roleassignments.md); users:
//     User.Read.All or Directory.Read.All (user-get.md); userRegistrationDetails:
//     AuditLog.Read.All (userregistrationdetails-get.md); auditLogs/signIns: AuditLog.Read.All
//     and Directory.Read.All together (signin-list.md, "known issue"); beta
//     users/{id}/authentication/requirements: Policy.Read.All or
//     Policy.ReadWrite.AuthenticationMethod (api-reference/beta/api/authentication-get.md).
//   - An OData cast on memberOf/transitiveMemberOf needs "ConsistencyLevel: eventual" and
//     $count=true, else 400 Request_UnsupportedQuery (graph: serviceprincipal-list-memberof.md
//     and user-list-memberof.md request headers; concepts/aad-advanced-queries.md for the
//     answer). One example on the user page omits both; the emulator enforces the stricter
//     reading and the driver sends both.
//   - userRegistrationDetails is keyed by the user's object ID; a UPN is 400 (graph:
//     userregistrationdetails-get.md, GET .../userRegistrationDetails/{userId}).
//   - v1.0 auditLogs/signIns lists interactive sign-ins only, newest first; beta lists the event
//     types a signInEventTypes/any(t: t eq '…') filter asks for, interactive only without one
//     (graph: api-reference/v1.0/api/signin-list.md, api-reference/beta/api/signin-list.md;
//     entra: docs/identity/monitoring-health/concept-sign-ins.md).
//   - POST roleAssignments with a roleDefinitionId that names no role, or an assignment that
//     exists, is 400 Request_BadRequest — the same code for both (graph:
//     rbacapplication-post-roleassignments.md; concepts/errors.md).
//   - $filter supports only what the emulator parses; anything else is 400
//     Request_UnsupportedQuery (graph: concepts/query-parameters.md, concepts/errors.md).
//   - Single entities carry @odata.context ".../$metadata#set/$entity"; collections carry
//     @odata.context and an absolute @odata.nextLink, and $top caps a page (graph:
//     concepts/paging.md and the examples of each API page).
//   - Errors have the OData shape {"error": {"code", "message", "innerError"}} (graph:
//     concepts/errors.md); 429 and 503 carry Retry-After (concepts/throttling.md).
//   - $batch: at most 20 requests, URLs relative to the version, unique ids, dependsOn ordering,
//     424 for a failed dependency, each item's own headers (graph: concepts/json-batching.md).
//
// Entra ID
//
//   - Client assertions: RS256/PS256 JWT with x5t#S256 (or x5t) matching a registered
//     certificate, aud the token endpoint, iss = sub = client_id, nbf/exp, jti not replayed
//     (entra: docs/identity-platform/certificate-credentials.md).
//   - Token errors: {"error", "error_description" "AADSTSnnnn: …", "error_codes", "timestamp",
//     "trace_id", "correlation_id"}, injected faults included (AADSTS90024 transient, 90033
//     directory unavailable) (entra: docs/identity-platform/v2-oauth2-client-creds-grant-flow.md,
//     docs/identity-platform/reference-error-codes.md).
//   - Authorization code with PKCE S256, single-use codes, refresh tokens revoked by password
//     reset (AADSTS50173), Conditional Access (53003), MFA (50076) answered on refresh (entra:
//     docs/identity-platform/v2-oauth2-auth-code-flow.md, reference-error-codes.md).
//   - Admin consent redirect: admin_consent=True, tenant, state, and scope only when something
//     was granted (never an empty scope=); errors carry error and error_description, and a
//     cancel carries error_subcode=cancel (entra: docs/identity-platform/v2-admin-consent.md;
//     MSAL reads error_subcode=cancel as a user cancellation:
//     AzureAD/microsoft-authentication-library-for-dotnet AuthorizationResult).
//
// All methods of Server are safe for concurrent use.
package graphtest
