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
// Seed 003's matrix applies: profiles that use application permissions only stay Valid when the
// consent user's password is reset, the user is blocked or loses licences or roles; only delegated
// and hybrid profiles become Invalid.
//
// # Secrets
//
// A custom app's .pfx and password are sealed with AES-256-GCM under a key ID (see Sealer and
// NewAESGCMSealer) before they reach the Store; the embedder supplies the keys and can rotate them.
// Without a Sealer the Manager refuses to keep secrets (ErrNoSealer). Deleting a profile wipes them.
// Secrets never appear in errors or logs.
package appprofile
