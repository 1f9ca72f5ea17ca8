package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tenantapps/tenantapps/appprofile"
	"github.com/tenantapps/tenantapps/examples/internal/envconfig"
	"github.com/tenantapps/tenantapps/permissions"
	"github.com/tenantapps/tenantapps/store"
)

// envStoreDSN names the store when --db is not given: a SQLite file path, or a postgres:// DSN
// (which may carry a password, so it is never a flag).
const envStoreDSN = envconfig.StoreDSN

// profilesCommand reads (and verifies) the profiles in a store.
//
//	tenantapps profiles list   [--db PATH] [--customer C] [--tenant T] [--service S] [--app-type A]
//	                           [--status S] [--limit N] [--cursor C] [--format table|json]
//	tenantapps profiles show   [--db PATH] [--format table|json] ID
//	tenantapps profiles verify [--db PATH] [filters] [--format table|json] [ID...]
//	tenantapps profiles history [--db PATH] [--from T] [--to T] [--format table|json] ID
//	tenantapps profiles report [--db PATH] --tenant ID [--from T] [--to T]
//
// The store is the SQLite file --db, or $TENANTAPPS_STORE_DSN (a SQLite path or a postgres:// DSN).
// The store must exist: the command never creates one. Sealed secrets are never printed.
//
// --format json prints, for list, {"profiles": [PROFILE...], "next": CURSOR?}; for show, one
// PROFILE; for verify, {"results": [{"profile": PROFILE, "outcome", "changed", "error"?}],
// "valid", "notValid", "couldNotCheck"}. PROFILE is {"id", "name", "customer", "tenant",
// "services", "appType", "appId", "mode", "status", "reasons": [{"code", "message", "remediation",
// "fixedByReauthorization", "effect", ...}], "consent"?: {"method", "userPrincipalName", "at",
// "catalogVersion"}, "custom"?: {"applicationId", "thumbprint", "notAfter"}, "lastCheck"?: {"at",
// "outcome", "error"?}, "createdAt", "updatedAt"}.
//
// Exit status: show exits 1 when the profile does not exist; verify exits 1 when a profile is not
// Valid or could not be checked.
func profilesCommand() command {
	return command{summary: "list, show, verify the app profiles in a store; their history and evidence report", run: runProfiles}
}

// profileJSON is the stable JSON shape of a profile (no sealed secrets).
type profileJSON struct {
	ID        string              `json:"id"`
	Name      string              `json:"name"`
	Customer  string              `json:"customer"`
	Tenant    string              `json:"tenant"`
	Services  []string            `json:"services"`
	AppType   string              `json:"appType"`
	AppID     string              `json:"appId"`
	Mode      string              `json:"mode"`
	Status    string              `json:"status"`
	Reasons   []appprofile.Reason `json:"reasons"`
	Consent   *consentJSON        `json:"consent,omitempty"`
	Custom    *customJSON         `json:"custom,omitempty"`
	LastCheck *appprofile.Check   `json:"lastCheck,omitempty"`
	CreatedAt time.Time           `json:"createdAt"`
	UpdatedAt time.Time           `json:"updatedAt"`
}

type consentJSON struct {
	Method            string    `json:"method"`
	UserPrincipalName string    `json:"userPrincipalName,omitempty"`
	At                time.Time `json:"at"`
	CatalogVersion    string    `json:"catalogVersion,omitempty"`
}

type customJSON struct {
	ApplicationID string    `json:"applicationId"`
	Thumbprint    string    `json:"thumbprint"`
	NotAfter      time.Time `json:"notAfter"`
}

func profileView(p appprofile.Profile) profileJSON {
	v := profileJSON{ID: p.ID, Name: p.Name, Customer: p.Customer, Tenant: p.Tenant, Services: p.Services, AppType: p.AppType, AppID: p.AppID,
		Mode: string(p.Mode), Status: string(p.Status), Reasons: p.Reasons, LastCheck: p.LastCheck, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt}
	if v.Services == nil {
		v.Services = []string{}
	}
	if v.Reasons == nil {
		v.Reasons = []appprofile.Reason{}
	}
	if c := p.Consent; c != nil {
		v.Consent = &consentJSON{Method: string(c.Method), UserPrincipalName: c.UserPrincipalName, At: c.At, CatalogVersion: c.CatalogVersion}
	}
	if c := p.Custom; c != nil {
		v.Custom = &customJSON{ApplicationID: c.ApplicationID, Thumbprint: c.Thumbprint, NotAfter: c.NotAfter}
	}
	return v
}

type profilesFlags struct {
	sub    string // the subcommand, for messages
	fs     *flag.FlagSet
	format *string
	db     *string
	filter store.Filter
	limit  *int
	cursor *string
}

// profilesEnvHelp lists the environment variables a profiles subcommand reads.
func profilesEnvHelp(sub string) string {
	lines := []string{"Environment:", fmt.Sprintf("  $%-31s the store: a SQLite file path or a postgres:// DSN (when --db is not given)", envStoreDSN)}
	if sub == "verify" {
		lines = append(lines,
			fmt.Sprintf("  $%-31s the MSP's reading app's application (client) ID (required)", envReaderAppID),
			fmt.Sprintf("  $%-31s the path of its .pfx, certificate and RSA key (required)", envReaderPFX),
			fmt.Sprintf("  $%-31s the .pfx password (may be empty)", envReaderPassword),
			fmt.Sprintf("  $%-31s the Entra authority, for a national cloud (default https://login.microsoftonline.com)", envAuthorityHost),
			fmt.Sprintf("  $%-31s the Graph base URL with version (default: the authority's cloud, e.g. https://graph.microsoft.us/v1.0)", envGraphURL),
			fmt.Sprintf("  $%-31s the app-only Graph scope (default: the authority's cloud)", envGraphScope),
			fmt.Sprintf("  $%-31s extra PEM roots to trust (an emulator's)", envExtraRootCAFile))
	}
	return strings.Join(lines, "\n")
}

func newProfilesFlags(env *cliEnv, sub, usage string, filters bool) *profilesFlags {
	f := &profilesFlags{sub: sub, fs: newFlagSet(env, "profiles "+sub, fmt.Sprintf("usage: tenantapps profiles %s\n\nThe store is --db or $%s (a SQLite path or a postgres:// DSN).\n\n%s", usage, envStoreDSN, profilesEnvHelp(sub)))}
	f.format = formatFlag(f.fs)
	f.db = f.fs.String("db", "", "the SQLite store `file` (default: $"+envStoreDSN+")")
	if filters {
		f.fs.StringVar(&f.filter.Customer, "customer", "", "only this `customer`")
		f.fs.StringVar(&f.filter.Tenant, "tenant", "", "only this tenant `ID` (a GUID, any case)")
		f.fs.StringVar(&f.filter.Service, "service", "", "only profiles serving this `service`")
		f.fs.StringVar(&f.filter.AppType, "app-type", "", "only this app `type`")
		f.fs.StringVar(&f.filter.Status, "status", "", "only this `status`: pending, valid, expired or invalid")
		f.limit = f.fs.Int("limit", 100, "at most this many profiles per page (1 to 1000)")
		f.cursor = f.fs.String("cursor", "", "continue after a previous page (its \"next\")")
	}
	return f
}

func runProfiles(env *cliEnv, args []string) int {
	subs := map[string]func(*cliEnv, []string) int{"list": runProfilesList, "show": runProfilesShow, "verify": runProfilesVerify,
		"history": runProfilesHistory, "report": runProfilesReport}
	if code, done := groupHelp(args, func() {
		fmt.Fprintln(env.stderr, "usage: tenantapps profiles list|show|verify|history|report [flags]\n\n  list     list the profiles, filtered by customer, tenant, service, app type, status\n  show     show one profile with its reasons\n  verify   verify profiles against their tenants\n  history  show what the checks of one profile saw change\n  report   write a tenant's evidence report (JSON) for auditors\n\nRun 'tenantapps profiles <subcommand> --help' for its flags.")
	}); done {
		return code
	}
	sub, ok := subs[args[0]]
	if !ok {
		fmt.Fprintf(env.stderr, "tenantapps profiles: unknown subcommand %q: use list, show, verify, history or report\n", args[0])
		return exitUsage
	}
	return sub(env, args[1:])
}

// parse parses the flags; it returns a non-negative exit code when the command must stop.
func (f *profilesFlags) parse(env *cliEnv, args []string) int {
	if code, ok := parseCommon(env, f.fs, args, f.format, commonOpts{}); !ok {
		return code
	}
	if f.limit != nil && (*f.limit < 1 || *f.limit > store.MaxLimit) {
		return usageError(env, f.fs, "--limit must be between 1 and %d", store.MaxLimit)
	}
	if t := f.filter.Tenant; t != "" {
		id, err := appprofile.NormalizeTenantID(t)
		if err != nil {
			return usageError(env, f.fs, "--tenant: %v", err)
		}
		f.filter.Tenant = id
	}
	// Services and app types match the catalog's names ignoring case, as the catalog does.
	if s := f.filter.Service; s != "" {
		svc, err := permissions.Default().Service(s)
		if err != nil {
			return usageError(env, f.fs, "--service: %v", err)
		}
		f.filter.Service = svc.Name
	}
	if a := f.filter.AppType; a != "" {
		at, err := permissions.Default().AppType(a)
		if err != nil {
			return usageError(env, f.fs, "--app-type: %v", err)
		}
		f.filter.AppType = at.Name
	}
	if s := f.filter.Status; s != "" && !appprofile.Status(s).Valid() {
		return usageError(env, f.fs, "unknown --status %q: use pending, valid, expired or invalid", s)
	}
	return -1
}

// openStore opens the store named by --db or $TENANTAPPS_STORE_DSN. It refuses to create a new
// SQLite file: a mistyped path must not look like an empty store.
// openStore opens the store of --db or $TENANTAPPS_STORE_DSN; when it cannot, it says why and
// returns the exit code (code >= 0 means stop with it).
func (f *profilesFlags) openStore(ctx context.Context, env *cliEnv) (st store.Store, code int) {
	st, err := openStore(ctx, env, *f.db)
	if err != nil {
		fmt.Fprintf(env.stderr, "tenantapps profiles %s: %v\n", f.sub, err)
		return nil, exitUsage
	}
	return st, -1
}

func openStore(ctx context.Context, env *cliEnv, db string) (store.Store, error) {
	dsn := db
	if dsn == "" {
		dsn = env.getenv(envStoreDSN)
	}
	if dsn == "" {
		return nil, fmt.Errorf("no store: pass --db PATH or set $%s", envStoreDSN)
	}
	if db != "" && (strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")) {
		return nil, fmt.Errorf("--db takes a SQLite file; put a postgres DSN in $%s (it may carry a password)", envStoreDSN)
	}
	return envconfig.OpenStore(ctx, dsn, false, env.now)
}

func decode(rec store.Record) (appprofile.Profile, error) {
	p, err := appprofile.UnmarshalPayload(rec.Payload)
	if err != nil {
		return appprofile.Profile{}, fmt.Errorf("profile %s: %w", rec.ID, err)
	}
	p.Version = rec.Version
	return p, nil
}

// writeJSON writes v as the commands' JSON: indented by two spaces, HTML characters unescaped.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

func runProfilesList(env *cliEnv, args []string) int {
	f := newProfilesFlags(env, "list", "list [flags]", true)
	if code := f.parse(env, args); code >= 0 {
		return code
	}
	if f.fs.NArg() > 0 {
		return usageError(env, f.fs, "unexpected argument %q", f.fs.Arg(0))
	}
	ctx := context.Background()
	st, code := f.openStore(ctx, env)
	if code >= 0 {
		return code
	}
	defer st.Close()
	recs, next, err := st.List(ctx, f.filter, store.Page{Limit: *f.limit, Cursor: *f.cursor})
	if err != nil {
		fmt.Fprintf(env.stderr, "tenantapps profiles list: %v\n", err)
		if errors.Is(err, store.ErrInvalid) {
			return exitUsage
		}
		return exitNegative
	}
	out := struct {
		Profiles []profileJSON `json:"profiles"`
		Next     string        `json:"next,omitempty"`
	}{Profiles: []profileJSON{}, Next: next}
	for _, r := range recs {
		p, err := decode(r)
		if err != nil {
			fmt.Fprintf(env.stderr, "tenantapps profiles list: %v\n", err)
			return exitNegative
		}
		out.Profiles = append(out.Profiles, profileView(p))
	}
	if !writeResult(env, f.fs, *f.format, out, func(w io.Writer) error {
		if err := writeProfilesTable(w, out.Profiles); err != nil || next == "" {
			return err
		}
		_, err := fmt.Fprintf(w, "\nmore: --cursor %s\n", next)
		return err
	}) {
		return exitNegative
	}
	return exitOK
}

func writeProfilesTable(w io.Writer, ps []profileJSON) error {
	if len(ps) == 0 {
		_, err := fmt.Fprintln(w, "no profiles match")
		return err
	}
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tCUSTOMER\tTENANT\tAPP TYPE\tMODE\tSTATUS\tREASONS")
	for _, p := range ps {
		var codes []string
		for _, r := range p.Reasons {
			codes = append(codes, string(r.Code))
		}
		reasons := strings.Join(codes, ", ")
		if reasons == "" {
			reasons = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", p.ID, p.Customer, p.Tenant, p.AppType, p.Mode, strings.ToUpper(p.Status), reasons)
	}
	return tw.Flush()
}

func writeProfileDetail(w io.Writer, p profileJSON) error {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	row := func(k, v string) { fmt.Fprintf(tw, "%s\t%s\n", k, v) }
	row("ID", p.ID)
	row("Name", p.Name)
	row("Customer", p.Customer)
	row("Tenant", p.Tenant)
	row("Services", strings.Join(p.Services, ", "))
	row("App type", p.AppType)
	row("Application ID", p.AppID)
	row("Mode", p.Mode)
	row("Status", strings.ToUpper(p.Status))
	if c := p.Consent; c != nil {
		row("Consent", fmt.Sprintf("%s consent by %s at %s (catalog %s)", c.Method, c.UserPrincipalName, c.At.UTC().Format(time.RFC3339), c.CatalogVersion))
	}
	if c := p.Custom; c != nil {
		row("Certificate", fmt.Sprintf("%s, valid until %s", c.Thumbprint, c.NotAfter.UTC().Format(time.RFC3339)))
	}
	if c := p.LastCheck; c != nil {
		row("Last check", fmt.Sprintf("%s at %s %s", c.Outcome, c.At.UTC().Format(time.RFC3339), c.Error))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, r := range p.Reasons {
		fix := ""
		if r.FixedByReauthorization {
			fix = " (re-authorization fixes it)"
		}
		if _, err := fmt.Fprintf(w, "- %s (%s): %s\n  what to do: %s%s\n", r.Code, r.Effect, r.Message, r.Remediation, fix); err != nil {
			return err
		}
	}
	return nil
}

func runProfilesShow(env *cliEnv, args []string) int {
	f := newProfilesFlags(env, "show", "show [flags] ID", false)
	if code := f.parse(env, args); code >= 0 {
		return code
	}
	if f.fs.NArg() != 1 {
		return usageError(env, f.fs, "give exactly one profile ID")
	}
	ctx := context.Background()
	st, code := f.openStore(ctx, env)
	if code >= 0 {
		return code
	}
	defer st.Close()
	rec, err := st.Get(ctx, f.fs.Arg(0))
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			fmt.Fprintf(env.stderr, "tenantapps profiles show: no profile %q; list them with 'tenantapps profiles list'\n", f.fs.Arg(0))
		} else {
			fmt.Fprintf(env.stderr, "tenantapps profiles show: %v\n", err)
		}
		return exitNegative
	}
	p, err := decode(rec)
	if err != nil {
		fmt.Fprintf(env.stderr, "tenantapps profiles show: %v\n", err)
		return exitNegative
	}
	if !writeResult(env, f.fs, *f.format, profileView(p), func(w io.Writer) error { return writeProfileDetail(w, profileView(p)) }) {
		return exitNegative
	}
	return exitOK
}
