package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/tenantapps/tenantapps/permissions"
	"github.com/tenantapps/tenantapps/roles"
)

// catalogCommand prints the permission catalog.
//
//	tenantapps catalog [--format table|json] [--app-type NAME] [--catalog FILE]...
//	tenantapps catalog validate [--format table|json] FILE...
//
// --catalog lays an embedder's catalog file over the default catalog (permissions.Overlay): its
// own app types, services and consent rules, or replacements of default app types. "catalog
// validate" checks such files together with the default catalog and reports every problem of
// every file (exit 0 valid, 1 invalid, 2 usage); --format json prints {"valid", "version",
// "appTypes", "added", "replaced", "problems": [{"path", "message"}]}.
//
// --format json prints the catalog's stable export (see package permissions: {"version",
// "sources", "services", "appTypes": [...]}); with --app-type, the export of the subset catalog
// (permissions.Catalog.Subset) holding only that app type, its services and sources. --format table prints one line per app type, or with --app-type the app type's details
// and every permission with its ID. An unknown app type is a usage error (exit 2) that lists the
// valid names.
func catalogCommand() command {
	return command{summary: "print the permission catalog: app types, permissions with IDs, roles", run: runCatalog}
}

func runCatalog(env *cliEnv, args []string) int {
	if len(args) > 0 && args[0] == "validate" {
		return runCatalogValidate(env, args[1:])
	}
	fs := newFlagSet(env, "catalog", "usage: tenantapps catalog [--format table|json] [--app-type NAME] [--catalog FILE]...\n       tenantapps catalog validate [--format table|json] FILE...\n\nPrints the embedded permission catalog, with the embedder's files laid over it.")
	format := formatFlag(fs)
	appType := fs.String("app-type", "", "show only the app type with this `name` or alias (case-insensitive)")
	catalogs := catalogFlag(fs)
	if code, ok := parseCommon(env, fs, args, format, commonOpts{noArgs: true, showUsage: true}); !ok {
		return code
	}
	c, err := loadCatalog(*catalogs)
	if err != nil {
		return usageError(env, fs, "%v", err)
	}
	var selected *permissions.AppType
	if *appType != "" {
		a, err := c.AppType(*appType)
		if err != nil {
			fmt.Fprintf(env.stderr, "tenantapps catalog: --app-type: %v\n", err)
			return exitUsage
		}
		selected = &a
	}
	if *format == "json" {
		err = writeCatalogJSON(env.stdout, c, selected)
	} else if selected != nil {
		err = writeAppTypeTable(env.stdout, c, *selected)
	} else {
		err = writeCatalogTable(env.stdout, c)
	}
	if err != nil {
		fmt.Fprintf(env.stderr, "tenantapps catalog: %v\n", err)
		return exitNegative
	}
	return exitOK
}

// writeCatalogJSON writes the export; with an app type selected, the export of the subset
// catalog holding just that app type, its services and its resources' sources.
func writeCatalogJSON(w io.Writer, c *permissions.Catalog, selected *permissions.AppType) error {
	if selected != nil {
		var err error
		if c, err = c.Subset(selected.Name); err != nil {
			return err
		}
	}
	data, err := c.MarshalJSON()
	if err != nil {
		return err
	}
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, data, "", "  "); err != nil {
		return err
	}
	pretty.WriteByte('\n')
	_, err = pretty.WriteTo(w)
	return err
}

func writeCatalogTable(w io.Writer, c *permissions.Catalog) error {
	fmt.Fprintf(w, "Permission catalog %s\n\n", c.Version())
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "APP TYPE\tFAMILY\tMODES\tSHAPE\tPERMISSIONS\tSERVICES")
	for _, a := range c.AppTypes() {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", a.Name, a.Family, joinModes(a.Modes), a.Shape(), permissionCount(a), strings.Join(a.Services, ", "))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintln(w, "\nRun 'tenantapps catalog --app-type NAME' for an app type's permissions and roles.")
	return err
}

func writeAppTypeTable(w io.Writer, c *permissions.Catalog, a permissions.AppType) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(tw, "%s\t%s\n", k, v)
		}
	}
	row("App type:", a.Name)
	row("Catalog version:", c.Version())
	row("Entra app name:", a.EntraAppName)
	row("Aliases:", strings.Join(a.Aliases, ", "))
	row("Family:", string(a.Family))
	row("Services:", strings.Join(a.Services, ", "))
	row("Modes:", joinModes(a.Modes))
	row("Shape:", string(a.Shape()))
	row("Creatable:", fmt.Sprint(a.Creatable))
	row("User consent:", fmt.Sprint(a.UserConsent))
	row("App ID:", a.AppID)
	for _, m := range []permissions.ConsentMethod{permissions.AdminConsent, permissions.UserConsent} {
		for _, ref := range a.Consent.Refs(m) {
			text := ref.Rule
			if r, ok := c.ConsentRule(ref.Rule); ok {
				text = r.Summary
			}
			if len(ref.Services) > 0 {
				text += " (for " + strings.Join(ref.Services, ", ") + ")"
			}
			row(fmt.Sprintf("%s consent rule:", strings.ToUpper(string(m[:1]))+string(m[1:])), text)
		}
	}
	row("Functions:", strings.Join(a.Functions, "; "))
	row("Permissions from:", a.PermissionsFrom)
	for _, r := range a.DirectoryRoles {
		row("Directory role:", fmt.Sprintf("%s (%s) — %s", r.Role.Name(), r.Role, describeCondition(r.Condition, r.Assignment.Describe())))
	}
	for _, r := range a.AzureRoles {
		row("Azure role:", r.Describe())
	}
	for _, n := range a.Notes {
		row("Note:", n)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	if !a.PermissionsState.Known() {
		_, err := fmt.Fprintln(w, "Permissions: unpublished — the product documents do not list them; nothing is guessed.")
		for _, s := range a.PagesSearched {
			fmt.Fprintf(w, "  searched: %s\n", s)
		}
		return err
	}
	fmt.Fprintf(w, "Permissions: %s\n", permissionCount(a))
	if a.PermissionsState == permissions.Partial {
		fmt.Fprintln(w, "  partial: the rows below are a known part of the required list; all of them granted does not mean every required permission is granted.")
	}
	for _, src := range a.PermissionSources {
		fmt.Fprintf(w, "  source: %s", src.Title)
		if src.URL != "" {
			fmt.Fprintf(w, " <%s>", src.URL)
		}
		if src.Stored != "" {
			fmt.Fprintf(w, " (stored copy %s)", src.Stored)
		}
		fmt.Fprintln(w)
	}
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "RESOURCE\tPERMISSION\tTYPE\tID\tDESCRIPTION")
	for _, p := range a.Permissions {
		d := p.Description
		if p.SeedValue != "" {
			d += fmt.Sprintf(" [AvePoint's page writes %s]", p.SeedValue)
		}
		if p.Since != "" {
			d += fmt.Sprintf(" [since %s]", p.SinceText())
		}
		if p.Correction != "" {
			d += fmt.Sprintf(" [corrected: %s]", p.Correction)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", p.Resource, p.Value, p.Type, p.ID, d)
	}
	return tw.Flush()
}

func describeCondition(c roles.Condition, s string) string {
	switch c {
	case "":
		return s
	case roles.ManagesExchange:
		return "only if the app manages Exchange mailboxes and settings, security and distribution groups or Microsoft 365 Defender settings; " + s
	}
	return fmt.Sprintf("only when %s; %s", c, s)
}

func permissionCount(a permissions.AppType) string {
	if !a.PermissionsState.Known() {
		return "unpublished"
	}
	partial := ""
	if a.PermissionsState == permissions.Partial {
		partial = "partial: "
	}
	return fmt.Sprintf("%s%d (%d application, %d delegated)", partial, len(a.Permissions),
		len(a.PermissionsOfType(permissions.Application)), len(a.PermissionsOfType(permissions.Delegated)))
}

func joinModes(ms []permissions.Mode) string {
	s := make([]string, len(ms))
	for i, m := range ms {
		s[i] = string(m)
	}
	return strings.Join(s, ", ")
}
