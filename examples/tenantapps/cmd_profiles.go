package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/tenantapps/tenantapps/appprofile"
	"github.com/tenantapps/tenantapps/store"
	"github.com/tenantapps/tenantapps/store/sqlite"
)

// profilesCommand lists the app profiles in a store with their status and reasons.
//
//	tenantapps profiles --db PATH [--customer C] [--tenant ID] [--service S] [--app-type T]
//	                    [--status valid|expired|invalid|pending] [--format table|json]
//
// --format json prints one object per profile:
//
//	[{"id": "...", "customer": "...", "tenant": "...", "appType": "...", "mode": "modern",
//	  "status": "invalid", "lastCheck": {"at": "...", "outcome": "could-not-check", "error": "..."},
//	  "reasons": [{"code": "...", "message": "...", "remediation": "...",
//	               "fixedByReauthorization": true, "effect": "invalid"}]}]
//
// Sealed secrets are never printed. Exit 1 when a listed profile is Expired or Invalid, 0 when all
// are Valid or Pending, 2 on a usage error (missing --db, unknown status) or an unreadable store.
func profilesCommand() command {
	return command{summary: "list app profiles in a store with status and reasons", run: runProfiles}
}

type profileJSON struct {
	ID        string              `json:"id"`
	Customer  string              `json:"customer"`
	Tenant    string              `json:"tenant"`
	AppType   string              `json:"appType"`
	Mode      appprofile.Mode     `json:"mode"`
	Status    appprofile.Status   `json:"status"`
	LastCheck *appprofile.Check   `json:"lastCheck,omitempty"`
	Reasons   []appprofile.Reason `json:"reasons"`
}

func runProfiles(env *cliEnv, args []string) int {
	fs := flag.NewFlagSet("profiles", flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	format := fs.String("format", "table", "output `format`: table or json")
	db := fs.String("db", "", "the SQLite store `file` (required)")
	var f store.Filter
	fs.StringVar(&f.Customer, "customer", "", "only this `customer`")
	fs.StringVar(&f.Tenant, "tenant", "", "only this tenant `ID`")
	fs.StringVar(&f.Service, "service", "", "only profiles serving this `service`")
	fs.StringVar(&f.AppType, "app-type", "", "only this app `type`")
	fs.StringVar(&f.Status, "status", "", "only this `status`: valid, expired, invalid or pending")
	fs.Usage = func() {
		fmt.Fprintln(env.stderr, "usage: tenantapps profiles --db PATH [filters] [--format table|json]\n\nLists app profiles with their status and typed reasons.\n\nflags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	usageErr := func(format string, a ...any) int {
		fmt.Fprintf(env.stderr, "tenantapps profiles: "+format+"\n", a...)
		return exitUsage
	}
	switch {
	case fs.NArg() > 0:
		return usageErr("unexpected argument %q", fs.Arg(0))
	case *format != "table" && *format != "json":
		return usageErr("unknown --format %q: use table or json", *format)
	case *db == "":
		return usageErr("--db is required")
	case f.Status != "" && !appprofile.Status(f.Status).Valid():
		return usageErr("unknown --status %q: use valid, expired, invalid or pending", f.Status)
	}
	ctx := context.Background()
	st, err := sqlite.Open(ctx, *db)
	if err != nil {
		return usageErr("%v", err)
	}
	defer st.Close()
	var out []profileJSON
	negative := false
	page := store.Page{Limit: store.MaxLimit}
	for {
		recs, next, err := st.List(ctx, f, page)
		if err != nil {
			return usageErr("%v", err)
		}
		for _, r := range recs {
			p, err := appprofile.UnmarshalPayload(r.Payload)
			if err != nil {
				return usageErr("record %s: %v", r.ID, err)
			}
			if p.Status == appprofile.Expired || p.Status == appprofile.Invalid {
				negative = true
			}
			if p.Reasons == nil {
				p.Reasons = []appprofile.Reason{}
			}
			out = append(out, profileJSON{ID: r.ID, Customer: p.Customer, Tenant: p.Tenant, AppType: p.AppType, Mode: p.Mode, Status: p.Status, LastCheck: p.LastCheck, Reasons: p.Reasons})
		}
		if next == "" {
			break
		}
		page.Cursor = next
	}
	if *format == "json" {
		if out == nil {
			out = []profileJSON{}
		}
		enc := json.NewEncoder(env.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			return usageErr("%v", err)
		}
	} else {
		tw := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tTENANT\tAPP TYPE\tMODE\tSTATUS\tREASONS")
		for _, p := range out {
			var codes []string
			for _, r := range p.Reasons {
				codes = append(codes, string(r.Code))
			}
			status := string(p.Status)
			if p.LastCheck != nil && p.LastCheck.Outcome == appprofile.CouldNotCheck {
				status += " (last check: could not check)"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", p.ID, p.Tenant, p.AppType, p.Mode, status, strings.Join(codes, ", "))
		}
		tw.Flush()
	}
	if negative {
		return exitNegative
	}
	return exitOK
}
