// Package tenantapps manages customer app profiles for Microsoft 365 / Entra ID tenants: which
// vendor app each service needs, the exact permissions and directory roles it requires, how and by
// whom it may be consented (administrator or user consent), the customer's own app with its .pfx
// certificate, and whether each profile is still Valid, Expired or Invalid — and why.
//
// This package holds documentation only. The library is a set of small packages:
//
//	roles        Entra directory roles (template IDs), Azure RBAC roles, and when each must be assigned
//	permissions  the versioned permission catalog: services, app types, resource APIs, permissions, Diff
//	consent      who may consent and how; consent URLs, signed state, callback parsing; the Driver SPI
//	  consenttest  a recording fake Driver for tests; GrantConsent / RevokePermission play the admin
//	  graphtest    a local TLS Entra ID + Microsoft Graph emulator (httptest style)
//	  graph        the real Driver: MSAL Go for tokens, msgraph-sdk-go for Graph
//	certs        PKCS#12 (.pfx) inspection and validation, pairing with .cer/.crt, self-signed certificates
//	store        the Store SPI; memstore, sqlite (embedded default, pure Go), postgres (pgx); storetest
//	appprofile   the Manager: create, consent, verify, re-authorize, delete, and verify a whole fleet
//	  fleetriver  fleet verification shared by many replicas as River jobs on the embedder's PostgreSQL
//
// Imports flow one way: roles ← permissions ← consent ← appprofile, with certs and store standing
// alone and appprofile using consent.Driver only as an interface. permissions depends on roles (a
// refinement of the design card, which had both depend on nothing) so that the catalog can name a
// directory role by its typed template ID instead of repeating role data. Only consent/graph and
// the examples import MSAL Go or msgraph-sdk-go, whose models package alone takes minutes and
// ~4.5 GB to compile: an embedder that reads the catalog or validates a .pfx never pays for it.
// River (the job queue of appprofile/fleetriver) is imported by that package only, and pgx by it
// and store/postgres. internal/depcheck enforces all of this against the real import graph.
//
// Conventions throughout: every I/O method takes a context.Context first and never keeps it;
// time, randomness and HTTP clients are injectable; errors are sentinel values or typed errors
// wrapped with %w and checked with errors.Is / errors.As, and their messages say what to do next;
// secrets (.pfx bytes, passwords, tokens) never appear in logs, errors or unsealed in a store;
// the library writes no log unless given a logger (appprofile.WithLogger). A tenant is always its
// tenant ID, a GUID, in lower case (appprofile.NormalizeTenantID).
//
// Start with examples/quickstart (go run ./examples/quickstart), which walks the whole lifecycle
// against the local emulator and the embedded store.
package tenantapps
