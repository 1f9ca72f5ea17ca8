// Package graph is the real consent.Driver: it reads a customer tenant's ground truth with
// Microsoft Graph (msgraph-sdk-go) using tokens from Microsoft Entra ID (MSAL Go). It is the only
// package of the module that imports either SDK; building it costs ~90 s and ~4.5 GB of memory
// cold (msgraph-sdk-go's models package), so everything else stays buildable without it.
//
// # Identities
//
// Reads run as the MSP's reading app (Config.ReaderAppID with a certificate credential), an
// app-only identity consented in every customer tenant with read permissions. The checked apps'
// own certificates are used only to prove them (ProveCertificate) or to redeem and refresh a
// delegated consent (RedeemCode, ProveDelegated). A failure of the reading app — its
// certificate rejected, not consented in a tenant, Graph 403 — is reported as
// consent.ErrForbidden (could not check), never as a fact about the checked app.
//
// # The reading app's permissions
//
// ReaderReads is the reading app's contract with Microsoft Graph as typed data: each request the
// driver sends and the application permission Microsoft documents for it (the
// microsoft-graph-docs-contrib page is named). ReaderPermissions is their union:
//
//	Directory.Read.All                 service principals, grants, app roles, directory roles,
//	                                   users, applications (keyCredentials), role assignments;
//	                                   the sign-in log needs it too (signin-list.md known issue)
//	AuditLog.Read.All                  sign-ins (with Directory.Read.All), userRegistrationDetails
//	Policy.Read.All                    per-user MFA state (beta authentication/requirements)
//	RoleManagement.ReadWrite.Directory assigning directory roles (AssignDirectoryRole) only
//
// The CLI prints the same list (tenantapps reader-permissions). Without a permission, the reads
// that need it return consent.ErrForbidden; a per-user MFA state that could not be read is
// consent.MFAState.Err, never "not required".
//
// # Following Microsoft's contract
//
// Requests follow the documented shapes, which the graphtest emulator enforces: OData casts on
// memberOf are sent as advanced queries (ConsistencyLevel: eventual and $count=true);
// userRegistrationDetails is addressed by object ID (a UPN is resolved first); $filter values
// are percent-encoded with %20 for spaces; the sign-in log is read with $top=limit and stops at
// the limit, interactive sign-ins from v1.0 and non-interactive ones from beta with a
// signInEventTypes filter; a 400 on role assignment counts as "already assigned" only when the
// principal's roleAssignments show the role.
//
// # Tokens
//
// The reading app has one MSAL confidential client per tenant, each with MSAL's in-memory
// token cache, so each tenant costs one token request per token lifetime (about an hour) however
// many calls run at once. (One client for all tenants with a tenant-partitioned cache does not
// work under concurrency: MSAL swaps its whole in-memory cache per lookup and reads it after
// unlocking, so a lookup racing another tenant's misses and asks Entra again.) When Graph refuses
// a cached token (401, for example after the tenant was deleted) the tenant's client is dropped
// and the call is retried once with a fresh token, which turns a deleted tenant into
// consent.ErrTenantNotFound. Clients idle for two hours are dropped.
// MSAL requires an https authority and, for hosts other than Microsoft's, instance discovery
// off: the driver always disables it, so AuthorityHost may be a national cloud or the
// graphtest emulator. Certificates must have RSA keys (MSAL Go and Entra client assertions);
// an EC or Ed25519 key gives *UnsupportedKeyError. RSA keys behind crypto.Signer (HSM, KMS)
// sign through an assertion callback.
//
// Delegated scopes (RedeemCode, ProveDelegated) may be "<resource>/.default": Entra answers
// with the concrete scopes it granted, which MSAL Go alone would reject as "declined scopes".
// MSAL's requests go through a small layer on Config.HTTPClient that adds the requested
// ".default" to such a token response's "scope" when it grants a scope of that resource, so
// MSAL accepts it and caches the token under ".default" too; scopes Entra really declined
// still fail (see consent/internal/tokenscope).
//
// # Graph
//
// Requests go through a Kiota request adapter built on Config.HTTPClient with the Graph
// middleware (telemetry, bounded retries of 429/503/504 GETs honouring Retry-After; request
// bodies are not gzip-compressed: a fresh deflate state per $batch cost more than the few KB it
// saved). AppStates reads up to six apps of a tenant in one $batch — their service principals
// with one `appId in (...)` filter, then each app's appRoleAssignments, oauth2PermissionGrants
// and directory roles addressed by appId (servicePrincipals(appId='…')) — and AppState is
// AppStates of one app (more than six apps: several $batch requests, on the tenant's free
// concurrency slots), so a check costs one Graph round trip (the first in a tenant also
// resolves the catalog's resource service principals inside the same $batch; a grant on another
// resource costs one more, once, as resource IDs are cached per tenant). The $batch envelope is
// decoded with encoding/json and each item body parsed once into msgraph-sdk-go's models. The
// driver retries 429/503/504 $batch requests and items itself — the SDK never retries items —
// after Retry-After, at most Config.MaxRetries times, never for longer than Config.MaxRetryWait
// nor past the context's deadline; a longer wait is returned at once as consent.ErrThrottled
// with RetryAfter set. A Retry-After is read with consent.ParseRetryAfter: clamped to
// consent.MaxRetryAfter, and NaN, negative or absurd values (a date years ahead) count as absent.
// Concurrency is bounded per tenant (Config.MaxConcurrentPerTenant).
//
// The driver never panics on odd answers: batch items are looked up by hand (the SDK's
// GetBatchResponseById panics on a missing id and parses through Kiota's global registry, which
// the driver leaves untouched), OData errors are read field by field (ODataError.Error panics
// without error.message), and Kiota RequestInformation values are rebuilt for every attempt
// (they are single-use: resolving a raw URL clears the path parameters that copies share).
//
// # Errors
//
// Every error is a *consent.DriverError wrapping one sentinel of package consent: Graph 404 →
// absence in the result (Exists == false) or ErrNotFound; 403 → ErrForbidden; 429 →
// ErrThrottled with RetryAfter; 5xx, timeouts, truncated or malformed JSON → ErrTransient;
// token-endpoint AADSTS codes → ErrTenantNotFound (90002), ErrNotConsented (700016),
// ErrAppDisabled (7000112), ErrInvalidCredential (700027, 700024, …), ErrInvalidGrant (50173,
// 54005, 53003, 50076, 50079, 700082, 50133, 70043, …: the delegated refresh's answer, the
// primary signal of a delegated check), with consent.AADSTSError (the tenant's words and a remediation)
// wrapped underneath for errors about the checked app. consent.CouldNotCheck tells "the grant
// is missing" from "we could not check".
//
// Tests run this driver over TLS against consent/graphtest, including the shared conformance
// suite (consenttest.RunDriverConformance).
package graph
