// Command quickstart walks the whole life of customer app profiles in one run, with no
// configuration: it starts a local Microsoft Entra ID + Microsoft Graph emulator with a demo
// customer tenant (Contoso), opens the embedded SQLite store, and then, through the
// appprofile.Manager and a driver that reads the tenant,
//
//  1. creates profiles for several services: Elements premium (Workspace management, Nitro,
//     Baseline management modern, and Baseline management with the customer's own app and a freshly
//     generated certificate) and an AOS service (Insights);
//  2. consents to each (the emulator plays the administrator; Insights is then re-authorized by a
//     non-administrator with user consent) and shows statuses;
//  3. shows every profile's role checklist;
//  4. changes the tenant — resets a consent user's password, revokes a granted permission,
//     publishes a catalog version that adds a permission — and verifies the whole fleet: the new
//     statuses, the typed reasons and what to do;
//  5. lets eight days pass (the custom app's certificate was made for a week) and verifies again;
//  6. re-authorizes the profiles that re-authorization fixes and verifies once more.
//
// Usage:
//
//	go run ./examples/quickstart [-db PATH] [-json]
//
// -db keeps the SQLite file at PATH (default: a temporary file, removed at exit); -json prints the
// same report as JSON (the Report type). Progress goes to stderr. Exit status 0 when the walk-through
// completed, 1 when a step failed.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("quickstart", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dbPath := fs.String("db", "", "SQLite file to keep the profiles in (default: a temporary file)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: quickstart [-db PATH] [-json]\n\nWalks the whole customer app profile lifecycle against a local Entra ID + Graph emulator.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "quickstart: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return 2
	}
	prog := &progress{w: stderr, start: time.Now()}
	var out func(Step)
	if !*asJSON {
		out = func(s Step) { s.writeTable(stdout) }
	}
	rep, err := walk(ctx, config{dbPath: *dbPath, progress: prog, onStep: out})
	if err != nil {
		fmt.Fprintf(stderr, "quickstart: %v\n", err)
		return 1
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			fmt.Fprintf(stderr, "quickstart: %v\n", err)
			return 1
		}
	}
	prog.say("done")
	return 0
}

// progress reports slow work on stderr with the elapsed time.
type progress struct {
	w     io.Writer
	start time.Time
}

func (p *progress) say(format string, args ...any) {
	if p == nil || p.w == nil {
		return
	}
	fmt.Fprintf(p.w, "[%5.1fs] %s\n", time.Since(p.start).Seconds(), fmt.Sprintf(format, args...))
}
