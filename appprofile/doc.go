// Package appprofile is the type users of tenantapps call: a Manager that turns the permission
// catalog, the consent rules, certificates, a Store and a tenant Driver into the lifecycle of a
// customer app profile — create, consent, verify, re-authorize, delete — and verifies a whole fleet
// of tenants without tripping Microsoft Graph throttling.
//
// # Usage
//
//	m, err := appprofile.New(st, drv, // a store.Store (memstore, sqlite, postgres) and a consent.Driver
//		appprofile.WithSealer(sealer),            // NewAESGCMSealer(keyID, keys): required for custom apps
//		appprofile.WithStateKey(key),             // 32+ random bytes signing consent state
//		appprofile.WithRedirectURI(callbackURL),
//		appprofile.WithVendorAppIDs(ids),         // app type → the vendor's application ID
//		appprofile.WithRateLimit(appprofile.RateLimit{PerSecond: 50, Burst: 10}),
//		appprofile.WithEventHook(onStatusChange))
//	ps, err := m.Create(ctx, appprofile.CreateRequest{Customer: c, Tenant: t, Services: []string{"Nitro"}})
//	start, err := m.BeginConsent(ctx, ps[0].ID, appprofile.BeginConsentRequest{Consenter: admin})
//	// redirect the administrator to start.URL; on the callback:
//	cb, err := appprofile.ParseCallback(r.URL.RawQuery)
//	p, err := m.CompleteConsent(ctx, cb)
//	res, err := m.Verify(ctx, p.ID)                               // or, for the whole fleet:
//	sum, err := m.VerifyAll(ctx, store.Filter{}, appprofile.VerifyAllOptions{Progress: report})
//
// CompleteConsent never trusts the callback alone: it reads the grants from the tenant, reading
// again while Entra replicates a fresh consent (WithReplicationWait, WithMaxAttempts). When the
// tenant cannot be read it still records the consent, unproven and with the status unchanged, and
// returns the profile with a *ConsentRecordedError (it wraps ErrCouldNotCheck): Verify or
// VerifyAll will prove it, so do not send the administrator to consent again. A custom app's
// .pfx is checked against the app's keyCredentials and, when the driver implements
// consent.CertificateProver, by signing in as the app, at Create and whenever Reauthorize gets a
// new custom app or certificate.
//
// Re-authorization (Reauthorize, RequestReauthorization), deletion (Delete), the role checklist
// (RoleChecklist, AzureChecklist) and the Planner helper (PlannerRequirement) follow seeds 000 and
// 003; the pure rules are exported as CheckReauthorize, CheckDelete, BuildChecklist and Assess.
// AssignRoles assigns the checklist's missing directory roles through a driver that implements
// consent.RoleAssigner (the MSP's reading app needs RoleManagement.ReadWrite.Directory in the
// tenant); Azure RBAC roles are only read.
//
// # Status
//
// Every consented profile is Valid, Expired or Invalid, with typed Reasons that say why, what to do,
// and whether re-authorization fixes it. A profile that has been created but not yet consented is
// Pending. Reasons are codes, not errors: check one with p.HasReason(ReasonGrantMissing) or
// r, ok := p.Reason(ReasonGrantMissing).
//
// A tenant is named by its tenant ID, a GUID: every method and filter that takes a tenant
// normalises it to lower case (NormalizeTenantID), so spellings that differ in case are one
// tenant, and refuses anything else (a domain name, a typo) with a *TenantIDError that says where
// the administrator finds the ID. The Manager writes no log unless built WithLogger.
//
//   - Expired means time ran out and nothing else is wrong: the custom app's certificate passed its
//     NotAfter, or the delegated consent's refresh token outlived its lifetime (Entra revokes a
//     refresh token that has been inactive for 90 days; a token endpoint answer of AADSTS700082 says
//     the same). Re-authorizing (with a new certificate for a custom app) fixes it.
//   - Invalid means something broke: a grant or directory role is missing, the service principal
//     was deleted or disabled, the certificate is no longer on the app, the consent user's password
//     was reset or the user was deleted, blocked, disabled, lost its licences or got MFA, a
//     Conditional Access policy blocks the original IP, or the app type gained permissions since
//     consent. Invalid wins over Expired when both apply.
//   - A check that could not be made (throttling, a transient error, a malformed answer) is its own
//     Outcome, CouldNotCheck: it never flips a status; the profile keeps its last known status and
//     reasons and records the failed attempt.
//
// A permission list the catalog marks partial (permissions.Partial: AvePoint publishes only part
// of it) is checked row by row — a revoked known row is grant-missing — and a profile of it always
// carries ReasonPermissionsPartial (effect info, status unchanged): the library never claims that
// every required permission is granted when it knows only part of the list. Grants beyond the
// known rows are not reported as extra. When the catalog dates the rows (permissions.Permission
// Since) the permissions-added reason says when each permission was added.
//
// # App types of the embedder's own
//
// The catalog given to WithCatalog (FromPermissions of permissions.Overlay: the default catalog
// plus the embedder's files) may declare app types of any family with their own services, vendor
// app ID, permissions, roles and consent rules; BeginConsent applies the rules of that catalog
// (EligibilityFrom, chosen automatically when the catalog implements RulebookProvider).
//
// Seed 003's matrix applies: profiles that use application permissions only stay Valid when the
// consent user's password is reset, the user is blocked or loses licences or roles; only delegated
// and hybrid profiles become Invalid.
//
// # Concurrent writers and ErrConflict
//
// Every write is a versioned Update: of two writers that read the same version, one wins and the
// other gets ErrConflict. The Manager retries internally the writes that are idempotent — it
// applies them again to the profile that won:
//
//   - Verify and VerifyAll write-backs (a check's result is applied again as long as the profile
//     is still about the same app, tenant, custom app and consent; a concurrent edit that changed
//     those wins and the result says Superseded);
//   - RequestReauthorization;
//   - Delete.
//
// Callers must retry ErrConflict themselves (re-read, decide again) from Create (the unique
// tenant and app type), BeginConsent (when it stores the chosen backup functions) and
// Reauthorize; CompleteConsent's ErrConflict is answered by retrying the same callback (see
// CompleteConsent). ResealAll retries its own conflicts.
//
// # Events, history and accepted deviations
//
// Every status change is an Event. With a store that implements store.OutboxStore (the three
// built-in stores do) the Manager writes the event in the same transaction as the change, and a
// Dispatcher (NewDispatcher, Run) delivers it to the embedder's Handler at least once, in order
// per profile, with an idempotency key; a failing handler is retried with backoff without holding
// up other profiles, and several replicas on one PostgreSQL database share the work (FOR UPDATE
// SKIP LOCKED). WithEventHook is the in-process, best-effort alternative for stores without an
// outbox.
//
// The same transaction appends a HistoryEntry whenever a check (or a consent, a re-authorization
// request, an acceptance) changed something: status, reasons, the grants and roles the tenant
// showed, who consented when and how. History reads it by profile or tenant and time range;
// PruneHistory applies WithHistoryRetention; Report (and BuildReport) turn a tenant's profiles and
// history into an evidence report for auditors (ReportSchema, versioned JSON).
//
// AcceptDeviation lets an operator accept one reason instance — an extra grant, a pending or late
// automatic role, an expiring or changed certificate — with who, why and an expiry. While the
// tenant shows exactly the accepted fact, the reason is marked Accepted and does not drive the
// status; when the fact changes or the acceptance expires — or an operator withdraws it first
// (WithdrawAcceptance, with who and why) — the reason counts again and an Event
// (EventDeviationReraised, or EventStatusChanged with Reraised) says so. Reasons that make a
// profile Invalid under the seed rules (a missing required grant, a deleted service principal, a
// consent user whose password was reset, ...) are refused with a *DeviationRefusedError.
//
// # Secrets
//
// A custom app's .pfx and password are sealed with AES-256-GCM under a key ID (see Sealer and
// NewAESGCMSealer) before they reach the Store; the embedder supplies the keys and can rotate them.
// Without a Sealer the Manager refuses to keep secrets (ErrNoSealer). Deleting a profile wipes them.
// Secrets never appear in errors or logs, and every type that holds one (Manager, AESGCMSealer,
// CustomAppInput) prints a fixed description for every fmt verb and for log/slog.
//
// # Key rotation
//
// Seal keys: give NewAESGCMSealer the new key as current and keep the old ones, then run
// ResealAll (resumable with its Cursor, safe beside other writers) until it reports no failures,
// then drop the old keys. Consent-state keys: WithStateKeys(new, old...) signs new states with the
// first key and verifies with all, so consents in flight complete (their PKCE verifiers are
// derived from the key that signed them); drop an old key once its states have expired
// (WithStateTTL).
//
// # Fleets, Graph's budget and replicas
//
// VerifyAll verifies a fleet in one process; VerifyTenant is its per-tenant step on its own, for
// job queues that run one job per tenant across replicas (appprofile/fleetriver, on River and the
// embedder's PostgreSQL). Both charge the rate budget (WithRateLimit) in Graph's resource units
// when the driver prices its reads (consent.ResourceUnitCoster: consent/graph does), keep a
// per-tenant RU bucket sized by the tenant's users (consent.TenantReadBudget), pause the whole Manager
// on an Application-scope 429 and only the tenant on a Tenant or Tenant_Application one, and
// slow down when Graph reports x-ms-throttle-limit-percentage of 0.8 or more (budget.go).
// Background reads ask Graph for low priority, Verify for high (x-ms-throttle-priority).
//
// NewSharedTokenCache keeps the Graph driver's tokens in the store, sealed, so that replicas
// share one token per tenant; a consent change clears the tenant's entries. Spans and metrics go
// to OpenTelemetry (WithTracerProvider, WithMeterProvider; telemetry.go lists them).
package appprofile
