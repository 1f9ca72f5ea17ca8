package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/tenantapps/tenantapps/consent"
	"github.com/tenantapps/tenantapps/roles"
)

// consentCheckCommand decides whether an account may consent, with every missing requirement.
//
//	tenantapps consent-check --app-type NAME [--service NAME] [--method admin|user]
//	    [--role NAME]... [--license viva-engage|power-bi]... [--verified-admin]
//	    [--owned-group ID]... [--admin-consent-granted] [--scan OBJECT]...
//	    [--changed-group ID]... [--function NAME]... [--catalog FILE]... [--format table|json]
//
// Roles are given by name, alias or template ID ("Engage Administrator", "Global Administrator").
// --format json prints consent.Decision ({"target", "method", "allowed", "missing": [{"kind",
// "rule", ..., "message", "remediation"}], "notes"}). Exit 0 when the account may consent, 1 when
// it may not, 2 for a usage error.
func consentCheckCommand() command {
	return command{summary: "may this account consent? every missing role, licence or precondition", run: runConsentCheck}
}

// listFlag collects a repeatable flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func runConsentCheck(env *cliEnv, args []string) int {
	fs := newFlagSet(env, "consent-check", "usage: tenantapps consent-check --app-type NAME [--service NAME] [--method admin|user] [--role NAME]... [flags]\n\nDecides whether the described account may consent, by the consent rules. Exit 0 yes, 1 no.")
	format := formatFlag(fs)
	appType := fs.String("app-type", "", "the app type `name` (required)")
	service := fs.String("service", "", "the service `name`; required when the app type serves several services")
	methodFlag := fs.String("method", "admin", "consent `method`: admin or user")
	var roleNames, licenses, ownedGroups, scans, changedGroups, functions listFlag
	fs.Var(&roleNames, "role", "a directory role the account holds (`name` or template ID); repeatable")
	fs.Var(&licenses, "license", "a licence the account has: viva-engage or power-bi; repeatable")
	verifiedAdmin := fs.Bool("verified-admin", false, "the account is a Viva Engage Verified Admin")
	fs.Var(&ownedGroups, "owned-group", "a group `ID` the account owns; repeatable")
	granted := fs.Bool("admin-consent-granted", false, "admin consent was already granted to the app in the tenant")
	fs.Var(&scans, "scan", "an `object` kind the profile scans (Environments, Power BI, ...); repeatable")
	fs.Var(&changedGroups, "changed-group", "a group `ID` whose Outside Senders / Subscribe Members settings will change; repeatable")
	fs.Var(&functions, "function", "a Cloud Backup `function` that will use the Delegated App; repeatable")
	catalogs := catalogFlag(fs)
	if code, ok := parseCommon(env, fs, args, format, commonOpts{noArgs: true}); !ok {
		return code
	}
	usageErr := func(msg string, a ...any) int { return usageError(env, fs, msg, a...) }
	if strings.TrimSpace(*appType) == "" {
		return usageErr("--app-type is required")
	}
	method, err := consent.ParseMethod(*methodFlag)
	if err != nil {
		return usageErr("--method: %v", err)
	}
	who := consent.Consenter{VivaEngageVerifiedAdmin: *verifiedAdmin, OwnedGroups: ownedGroups}
	for _, n := range roleNames {
		r, ok := roles.LookupDirectoryRole(n)
		if !ok {
			var names []string
			for _, d := range roles.DirectoryRoles() {
				names = append(names, d.Name)
			}
			return usageErr("--role: unknown directory role %q; use one of: %s", n, strings.Join(names, ", "))
		}
		who.Roles = append(who.Roles, r.TemplateID)
	}
	for _, l := range licenses {
		switch lic := consent.License(strings.ToLower(strings.TrimSpace(l))); lic {
		case consent.LicenseVivaEngage, consent.LicensePowerBI:
			who.Licenses = append(who.Licenses, lic)
		default:
			return usageErr("--license: unknown licence %q; use %s or %s", l, consent.LicenseVivaEngage, consent.LicensePowerBI)
		}
	}
	facts := consent.TenantFacts{AdminConsentGranted: *granted, GroupsWithSettingChanges: changedGroups}
	for _, s := range scans {
		o, err := consent.ParseScanObject(s)
		if err != nil {
			return usageErr("--scan: %v", err)
		}
		facts.Scans = append(facts.Scans, o)
	}
	target := consent.Target{AppType: *appType, Service: *service}
	for _, f := range functions {
		fn, err := consent.ParseBackupFunction(f)
		if err != nil {
			return usageErr("--function: %v", err)
		}
		target.Functions = append(target.Functions, fn)
	}
	cat, err := loadCatalog(*catalogs)
	if err != nil {
		return usageErr("%v", err)
	}
	d, err := consent.NewRulebook(cat).Evaluate(target, method, who, facts)
	if err != nil {
		return usageErr("%v", err)
	}
	if !writeResult(env, fs, *format, d, func(w io.Writer) error { return writeDecisionTable(w, d) }) {
		return exitNegative
	}
	if !d.Allowed {
		return exitNegative
	}
	return exitOK
}

func writeDecisionTable(w io.Writer, d consent.Decision) error {
	verdict := "may consent"
	if !d.Allowed {
		verdict = "may NOT consent yet"
	}
	fmt.Fprintf(w, "%s to %s (%s): the account %s\n", d.Method.Describe(), d.Target.AppType, d.Target.Service, verdict)
	for _, m := range d.Missing {
		fmt.Fprintf(w, "  - %s\n    what to do: %s\n", m, m.Remediation())
	}
	for _, n := range d.Notes {
		fmt.Fprintf(w, "  Note: %s\n", n.Text)
	}
	return nil
}
