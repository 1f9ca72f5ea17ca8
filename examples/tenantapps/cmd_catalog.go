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
//	tenantapps catalog [--format table|json] [--app-type NAME]
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
	fs := newFlagSet(env, "catalog", "usage: tenantapps catalog [--format table|json] [--app-type NAME]\n\nPrints the embedded permission catalog.")
	format := formatFlag(fs)
	appType := fs.String("app-type", "", "show only the app type with this `name` or alias (case-insensitive)")
	if code, ok := parseCommon(env, fs, args, format, commonOpts{noArgs: true, showUsage: true}); !ok {
		return code
	}
	c := permissions.Default()
	var selected *permissions.AppType
	if *appType != "" {
		a, err := c.AppType(*appType)
		if err != nil {
			fmt.Fprintf(env.stderr, "tenantapps catalog: --app-type: %v\n", err)
			return exitUsage
		}
		selected = &a
	}
	var err error
	if *format == "json" {
		err = writeCatalogJSON(env.stdout, c, selected)
	} else if selected != nil {
		err = writeAppTypeTable(env.stdout, c.Version(), *selected)
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

func writeAppTypeTable(w io.Writer, version string, a permissions.AppType) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(tw, "%s\t%s\n", k, v)
		}
	}
	row("App type:", a.Name)
	row("Catalog version:", version)
	row("Entra app name:", a.EntraAppName)
	row("Aliases:", strings.Join(a.Aliases, ", "))
	row("Family:", string(a.Family))
	row("Services:", strings.Join(a.Services, ", "))
	row("Modes:", joinModes(a.Modes))
	row("Shape:", string(a.Shape()))
	row("Creatable:", fmt.Sprint(a.Creatable))
	row("User consent:", fmt.Sprint(a.UserConsent))
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
	if a.PermissionsState != permissions.Published {
		_, err := fmt.Fprintln(w, "Permissions: unpublished — the product documents do not list them; nothing is guessed.")
		return err
	}
	fmt.Fprintf(w, "Permissions: %s\n", permissionCount(a))
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "RESOURCE\tPERMISSION\tTYPE\tID\tDESCRIPTION")
	for _, p := range a.Permissions {
		d := p.Description
		if p.SeedValue != "" {
			d += fmt.Sprintf(" [AvePoint's page writes %s]", p.SeedValue)
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
	if a.PermissionsState != permissions.Published {
		return "unpublished"
	}
	return fmt.Sprintf("%d (%d application, %d delegated)", len(a.Permissions),
		len(a.PermissionsOfType(permissions.Application)), len(a.PermissionsOfType(permissions.Delegated)))
}

func joinModes(ms []permissions.Mode) string {
	s := make([]string, len(ms))
	for i, m := range ms {
		s[i] = string(m)
	}
	return strings.Join(s, ", ")
}
