package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tenantapps/tenantapps/appprofile"
	"github.com/tenantapps/tenantapps/store"
)

type verifyJSON struct {
	Results       []verifyResultJSON `json:"results"`
	Valid         int                `json:"valid"`
	NotValid      int                `json:"notValid"`
	CouldNotCheck int                `json:"couldNotCheck"`
}

type verifyResultJSON struct {
	Profile profileJSON `json:"profile"`
	Outcome string      `json:"outcome"`
	Changed bool        `json:"changed"`
	Error   string      `json:"error,omitempty"`
}

func runProfilesVerify(env *cliEnv, args []string) int {
	f := newProfilesFlags(env, "verify", "verify [flags] [ID...]", true)
	catalogs := catalogFlag(f.fs)
	if code := f.parse(env, args); code >= 0 {
		return code
	}
	cat, err := loadCatalog(*catalogs)
	if err != nil {
		return usageError(env, f.fs, "%v", err)
	}
	ctx := context.Background()
	st, code := f.openStore(ctx, env)
	if code >= 0 {
		return code
	}
	defer st.Close()
	if env.newDriver == nil {
		fmt.Fprintln(env.stderr, "tenantapps profiles verify: no tenant driver is configured")
		return exitUsage
	}
	drv, closeDriver, err := env.newDriver(ctx, env)
	if err != nil {
		fmt.Fprintf(env.stderr, "tenantapps profiles verify: %v\n", err)
		return exitUsage
	}
	defer closeDriver()
	now := env.now
	if now == nil {
		now = time.Now
	}
	mgr, err := appprofile.New(st, drv, appprofile.WithCatalog(appprofile.FromPermissions(cat)), appprofile.WithClock(now),
		appprofile.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		fmt.Fprintf(env.stderr, "tenantapps profiles verify: %v\n", err)
		return exitNegative
	}
	ids := f.fs.Args()
	if len(ids) == 0 {
		page := store.Page{Limit: *f.limit, Cursor: *f.cursor}
		for {
			recs, next, err := st.List(ctx, f.filter, page)
			if err != nil {
				fmt.Fprintf(env.stderr, "tenantapps profiles verify: %v\n", err)
				return exitNegative
			}
			for _, r := range recs {
				ids = append(ids, r.ID)
			}
			if next == "" {
				break
			}
			page.Cursor = next
		}
	}
	out := verifyJSON{Results: []verifyResultJSON{}}
	for _, id := range ids {
		res, err := mgr.Verify(ctx, id)
		switch {
		case errors.Is(err, appprofile.ErrNotFound):
			fmt.Fprintf(env.stderr, "tenantapps profiles verify: no profile %q\n", id)
			return exitNegative
		case err != nil && !errors.Is(err, appprofile.ErrCouldNotCheck):
			fmt.Fprintf(env.stderr, "tenantapps profiles verify: %s: %v\n", id, err)
			return exitNegative
		}
		r := verifyResultJSON{Profile: profileView(res.Profile), Outcome: string(res.Outcome), Changed: res.Changed}
		if res.Err != nil {
			r.Error = res.Err.Error()
		}
		switch {
		case res.Outcome == appprofile.CouldNotCheck:
			out.CouldNotCheck++
		case res.Profile.Status == appprofile.Valid:
			out.Valid++
		default:
			out.NotValid++
		}
		out.Results = append(out.Results, r)
	}
	if !writeResult(env, f.fs, *f.format, out, func(w io.Writer) error { return writeVerifyTable(w, out) }) {
		return exitNegative
	}
	if out.NotValid+out.CouldNotCheck > 0 {
		return exitNegative
	}
	return exitOK
}

func writeVerifyTable(w io.Writer, out verifyJSON) error {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tAPP TYPE\tOUTCOME\tSTATUS\tCHANGED\tREASONS")
	for _, r := range out.Results {
		var codes []string
		for _, x := range r.Profile.Reasons {
			codes = append(codes, string(x.Code))
		}
		reasons := strings.Join(codes, ", ")
		if reasons == "" {
			reasons = "-"
		}
		if r.Error != "" {
			reasons += " (" + r.Error + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%v\t%s\n", r.Profile.ID, r.Profile.AppType, r.Outcome, strings.ToUpper(r.Profile.Status), r.Changed, reasons)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "\n%d valid, %d not valid, %d could not be checked\n", out.Valid, out.NotValid, out.CouldNotCheck)
	return err
}
