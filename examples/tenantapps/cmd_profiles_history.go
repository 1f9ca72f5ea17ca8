package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tenantapps/tenantapps/appprofile"
)

// timeRangeFlags registers --from and --to (RFC 3339 or YYYY-MM-DD, UTC).
func timeRangeFlags(fs *flag.FlagSet) (from, to *string) {
	return fs.String("from", "", "only changes at or after this `time` (RFC 3339 or YYYY-MM-DD)"),
		fs.String("to", "", "only changes before this `time` (RFC 3339 or YYYY-MM-DD)")
}

// parseRange reads --from and --to; when one is not a time it reports the usage error and
// returns its exit code (otherwise -1).
func parseRange(env *cliEnv, fs *flag.FlagSet, fromFlag, toFlag string) (from, to time.Time, code int) {
	var err error
	if from, err = parseTimeFlag("from", fromFlag); err == nil {
		to, err = parseTimeFlag("to", toFlag)
	}
	if err != nil {
		return from, to, usageError(env, fs, "%v", err)
	}
	return from, to, -1
}

func parseTimeFlag(name, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("--%s %q is not a time: use RFC 3339 (2026-12-04T10:00:00Z) or a date (2026-12-04)", name, v)
}

// runProfilesHistory prints what the checks of one profile saw change.
//
//	tenantapps profiles history [--db PATH] [--from T] [--to T] [--format table|json] ID
//
// --format json prints {"history": [ENTRY...]} with appprofile.HistoryEntry's JSON.
func runProfilesHistory(env *cliEnv, args []string) int {
	f := newProfilesFlags(env, "history", "history [flags] ID", false)
	fromFlag, toFlag := timeRangeFlags(f.fs)
	if code := f.parse(env, args); code >= 0 {
		return code
	}
	if f.fs.NArg() != 1 {
		return usageError(env, f.fs, "give exactly one profile ID")
	}
	from, to, code := parseRange(env, f.fs, *fromFlag, *toFlag)
	if code >= 0 {
		return code
	}
	ctx := context.Background()
	st, code := f.openStore(ctx, env)
	if code >= 0 {
		return code
	}
	defer st.Close()
	q := appprofile.HistoryQuery{ProfileID: f.fs.Arg(0), From: from, To: to, Limit: 1000}
	out := struct {
		History []appprofile.HistoryEntry `json:"history"`
	}{History: []appprofile.HistoryEntry{}}
	for {
		page, err := appprofile.ReadHistory(ctx, st, q)
		if err != nil {
			fmt.Fprintf(env.stderr, "tenantapps profiles history: %v\n", err)
			if errors.Is(err, appprofile.ErrNoHistory) {
				return exitUsage
			}
			return exitNegative
		}
		out.History = append(out.History, page...)
		if len(page) < q.Limit {
			break
		}
		q.AfterSeq = page[len(page)-1].Seq
	}
	if !writeResult(env, f.fs, *f.format, out, func(w io.Writer) error { return writeHistoryTable(w, out.History) }) {
		return exitNegative
	}
	return exitOK
}

func writeHistoryTable(w io.Writer, hs []appprofile.HistoryEntry) error {
	if len(hs) == 0 {
		_, err := fmt.Fprintln(w, "no history in this range")
		return err
	}
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "AT\tSTATUS\tCHANGES")
	for _, h := range hs {
		status := strings.ToUpper(string(h.NewStatus))
		if h.OldStatus != h.NewStatus {
			status = strings.ToUpper(string(h.OldStatus)) + " -> " + status
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", h.At.UTC().Format(time.RFC3339), status, strings.Join(historyChanges(h), "; "))
	}
	return tw.Flush()
}

// historyChanges renders an entry's changes for people.
func historyChanges(h appprofile.HistoryEntry) []string {
	var out []string
	add := func(label string, items []string) {
		if len(items) > 0 {
			out = append(out, label+" "+strings.Join(items, ", "))
		}
	}
	if c := h.Consent; c != nil {
		what := "consent"
		if c.Reauthorization {
			what = "re-authorization"
		}
		who := c.UserPrincipalName
		if who == "" {
			who = c.UserID
		}
		out = append(out, fmt.Sprintf("%s (%s) by %s at %s", what, c.Method, who, c.At.UTC().Format(time.RFC3339)))
	}
	codes := func(rs []appprofile.ReasonChange) []string {
		var s []string
		for _, r := range rs {
			s = append(s, string(r.Code))
		}
		return s
	}
	add("reasons +", codes(h.ReasonsAdded))
	add("reasons -", codes(h.ReasonsRemoved))
	add("grants +", h.GrantsAdded)
	add("grants -", h.GrantsRemoved)
	add("roles +", h.RolesAdded)
	add("roles -", h.RolesRemoved)
	if h.ReauthorizationRequested != "" {
		out = append(out, "re-authorization requested: "+h.ReauthorizationRequested)
	}
	if a := h.AppChanged; a != nil {
		out = append(out, fmt.Sprintf("custom app %s -> %s, certificate %s -> %s", a.OldAppID, a.NewAppID, a.OldThumbprint, a.NewThumbprint))
	}
	for _, a := range h.Accepted {
		out = append(out, fmt.Sprintf("accepted %s by %s until %s: %s", a.Code, a.By, a.Expires.UTC().Format(time.RFC3339), a.Why))
	}
	for _, r := range h.Reraised {
		out = append(out, fmt.Sprintf("acceptance of %s re-raised (%s)", r.Acceptance.Code, r.Why))
	}
	for _, a := range h.Resolved {
		out = append(out, fmt.Sprintf("accepted %s resolved", a.Code))
	}
	if h.Deleted {
		out = append(out, "profile deleted")
	}
	if len(out) == 0 && h.Outcome != "" {
		out = append(out, "check: "+string(h.Outcome))
	}
	return out
}

// runProfilesReport writes a tenant's evidence report (appprofile.ReportSchema) as JSON.
//
//	tenantapps profiles report [--db PATH] --tenant ID [--from T] [--to T]
func runProfilesReport(env *cliEnv, args []string) int {
	f := newProfilesFlags(env, "report", "report [flags] --tenant ID\n\nWrites the tenant's evidence report as JSON (schema "+appprofile.ReportSchema+").", false)
	tenant := f.fs.String("tenant", "", "the tenant `ID` (required)")
	fromFlag, toFlag := timeRangeFlags(f.fs)
	*f.format = "json"
	if code := f.parse(env, args); code >= 0 {
		return code
	}
	if f.fs.NArg() > 0 {
		return usageError(env, f.fs, "unexpected argument %q", f.fs.Arg(0))
	}
	if *f.format != "json" {
		return usageError(env, f.fs, "the report is JSON only: drop --format or pass --format json")
	}
	if *tenant == "" {
		return usageError(env, f.fs, "pass --tenant ID")
	}
	from, to, code := parseRange(env, f.fs, *fromFlag, *toFlag)
	if code >= 0 {
		return code
	}
	ctx := context.Background()
	st, code := f.openStore(ctx, env)
	if code >= 0 {
		return code
	}
	defer st.Close()
	now := env.now
	if now == nil {
		now = time.Now
	}
	rep, err := appprofile.BuildReport(ctx, st, *tenant, from, to, now())
	if err != nil {
		fmt.Fprintf(env.stderr, "tenantapps profiles report: %v\n", err)
		if errors.Is(err, appprofile.ErrNoHistory) || errors.Is(err, appprofile.ErrInvalidRequest) {
			return exitUsage
		}
		return exitNegative
	}
	if err := rep.WriteJSON(env.stdout); err != nil {
		fmt.Fprintf(env.stderr, "tenantapps profiles report: %v\n", err)
		return exitNegative
	}
	return exitOK
}
