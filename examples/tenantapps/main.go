// Command tenantapps answers the everyday questions about customer app profiles from the command
// line: the permission catalog, who may consent to an app type, whether a .pfx is usable, consent
// URLs, and the profiles in a store.
//
// Usage:
//
//	tenantapps <command> [flags]
//
//	catalog          the permission catalog, or one app type's permissions and roles
//	catalog validate check an embedder's catalog files laid over the default catalog
//	cert inspect     open and judge a .pfx (and its pairing with the .cer/.crt uploaded to Entra ID)
//	cert new         create a self-signed app certificate (.pfx, .cer, .crt)
//	consent-methods  the consent methods of an app type and who may use them
//	consent-check    may this account consent? every missing role, licence or precondition
//	consent-url      an admin- or user-consent URL with a signed state
//	profiles list    the profiles in a store, filtered by customer, tenant, service, app type, status
//	profiles show    one profile with its reasons and what to do
//	profiles verify  verify profiles against their tenants through Microsoft Graph
//	reader-permissions  the Graph permissions the reading app needs, and the read that needs each
//
// # Conventions
//
// Every command accepts --format table|json (table by default) and --help (usage on stderr, exit
// 0). The commands that read the catalog (catalog, consent-methods, consent-check, consent-url,
// profiles verify) accept --catalog FILE, repeatable: an embedder's catalog file laid over the
// default catalog (permissions.Overlay), so its own app types and consent rules are known. Exit codes: 0 success, 1 a negative verdict (a .pfx with errors, an account that may not
// consent, a profile that is not Valid, a profile that does not exist), 2 a usage error (bad flags,
// missing configuration, unreadable files). Errors go to stderr; stdout carries only the result.
//
// Secrets are read only from the environment or stdin, never from flags: .pfx passwords
// (--password-env VAR or --password-stdin), the consent state key ($TENANTAPPS_STATE_KEY), the
// reading app's .pfx password ($TENANTAPPS_READER_PFX_PASSWORD) and a postgres DSN
// ($TENANTAPPS_STORE_DSN; --db takes only a SQLite file). No command prints a secret, and sealed
// secrets in a store are never shown.
//
// profiles verify reads tenants as the MSP's reading app through the Graph driver: set
// $TENANTAPPS_READER_APP_ID, $TENANTAPPS_READER_PFX (path) and $TENANTAPPS_READER_PFX_PASSWORD, and
// for national clouds or an emulator $TENANTAPPS_AUTHORITY, $TENANTAPPS_GRAPH_URL,
// $TENANTAPPS_GRAPH_SCOPE and $TENANTAPPS_CA_FILE.
//
// # JSON (stable)
//
// Field names and meanings do not change; new fields may be added. Times are RFC 3339 UTC.
//
//	catalog          the catalog's export format (package permissions): {"version", "sources",
//	                 "services", "consentRules", "appTypes": [...]}; with --app-type, the same for
//	                 that app type only
//	catalog validate {"valid", "version", "appTypes", "added", "replaced", "problems": [{"path",
//	                 "message"}]}
//	cert inspect     {"ok", "problems": [{"code", "severity", "message"}], "sha1Thumbprint",
//	                 "sha256Thumbprint", "subject", "issuer", "notBefore", "notAfter", "keyType",
//	                 "keyBits", "chainLength", "paired": bool|null}
//	cert new         {"pfx", "cer", "crt", "subject", "sha1Thumbprint", "customKeyIdentifier",
//	                 "sha256Thumbprint", "notBefore", "notAfter"}
//	consent-methods  {"appType", "service", "methods": ["admin", "user"], "admin": {"anyOf",
//	                 "extra", "notes"}, "user": {"preconditions"}}
//	consent-check    consent.Decision: {"target", "method", "allowed", "missing": [{"kind",
//	                 "rule", ..., "message", "remediation"}], "notes"}
//	consent-url      {"method", "url", "state": {"profileId", "tenant", "method", "nonce",
//	                 "expiresAt"}, "pkceVerifier"?} (the verifier only with --print-verifier)
//	profiles list    {"profiles": [PROFILE...], "next"?: CURSOR}
//	profiles show    PROFILE
//	profiles verify  {"results": [{"profile": PROFILE, "outcome": "checked"|"could-not-check",
//	                 "changed", "error"?}], "valid", "notValid", "couldNotCheck"}
//	reader-permissions {"permissions": [...], "reads": [{"operation", "request", "permissions",
//	                 "doc", "optional"?}]}
//
// PROFILE is {"id", "name", "customer", "tenant", "services", "appType", "appId", "mode",
// "status": "pending"|"valid"|"expired"|"invalid", "reasons": [{"code", "message", "remediation",
// "fixedByReauthorization", "effect", "permissions"?, "roles"?, "ip"?, "thumbprint"?}],
// "consent"?: {"method", "userPrincipalName", "at", "catalogVersion"}, "custom"?:
// {"applicationId", "thumbprint", "notAfter"}, "lastCheck"?: {"at", "outcome", "error"?},
// "createdAt", "updatedAt"}. Reason codes are appprofile.ReasonCode values.
//
// # Development
//
// The commands share their flag plumbing (flags.go: newFlagSet, parseCommon, usageError) and the
// tests share one in-process runner and golden check (cli_test.go). Golden files in testdata are
// rewritten with one flag, go test -run Golden -update ./examples/tenantapps; the former
// per-command flags -update-catalog, -update-consent, -update-cert and -update-profiles are
// aliases of -update and rewrite every golden file of the run.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"sort"
	"time"

	"github.com/tenantapps/tenantapps/consent"
)

// command is one subcommand. run returns the process exit code.
type command struct {
	summary string
	run     func(env *cliEnv, args []string) int
}

// cliEnv carries the process's streams and environment so tests can run commands in-process.
type cliEnv struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	// newDriver opens the tenant driver 'profiles verify' reads tenants with; tests inject a
	// consenttest.Fake. close releases it.
	newDriver func(ctx context.Context, env *cliEnv) (drv consent.Driver, close func(), err error)
	// now is the clock of commands that record times (time.Now when nil).
	now func() time.Time
}

const (
	exitOK       = 0
	exitNegative = 1
	exitUsage    = 2
)

func commands() map[string]command {
	return map[string]command{
		// Each subcommand lives in its own cmd_*.go file.
		"catalog":         catalogCommand(),
		"cert":            certCommand(),
		"consent-check":   consentCheckCommand(),
		"consent-methods": consentMethodsCommand(),
		"consent-url":     consentURLCommand(),
		"profiles":        profilesCommand(),
		// The reading app's contract with Graph (issue 13): cmd_reader_permissions.go.
		"reader-permissions": readerPermissionsCommand(),
	}
}

func main() {
	env := &cliEnv{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv, newDriver: graphDriverFromEnv}
	os.Exit(run(env, os.Args[1:]))
}

func run(env *cliEnv, args []string) int {
	cmds := commands()
	if code, done := groupHelp(args, func() { usage(env.stderr, cmds) }); done {
		return code
	}
	c, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(env.stderr, "tenantapps: unknown command %q\n\n", args[0])
		usage(env.stderr, cmds)
		return exitUsage
	}
	return c.run(env, args[1:])
}

func usage(w io.Writer, cmds map[string]command) {
	fmt.Fprintln(w, "usage: tenantapps <command> [flags]\n\ncommands:")
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	width := 0
	for _, n := range names {
		width = max(width, len(n))
	}
	for _, n := range names {
		fmt.Fprintf(w, "  %-*s %s\n", width, n, cmds[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'tenantapps <command> --help' for a command's flags.")
}
