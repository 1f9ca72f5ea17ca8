// Command tenantapps answers the everyday questions about customer app profiles from the command
// line: the permission catalog, who may consent to an app type, whether a .pfx is usable, consent
// URLs, and the profiles in a store.
//
// Usage:
//
//	tenantapps <command> [flags]
//
// Every command accepts --format table|json (table by default) and --help. Exit codes: 0 success,
// 1 a negative verdict (for example a .pfx with errors), 2 a usage error. Errors go to stderr.
// Secrets (certificate passwords) are read only from an environment variable or stdin, never from
// flags.
//
// The JSON shapes are stable and documented with each command.
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
		"cert":            {summary: "inspect a .pfx (and its pairing with a .cer/.crt), or create a self-signed app certificate", run: runCert},
		"consent-check":   consentCheckCommand(),
		"consent-methods": consentMethodsCommand(),
		"consent-url":     consentURLCommand(),
		"profiles":        profilesCommand(),
	}
}

func main() {
	env := &cliEnv{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv, newDriver: graphDriverFromEnv}
	os.Exit(run(env, os.Args[1:]))
}

func run(env *cliEnv, args []string) int {
	cmds := commands()
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(env.stderr, cmds)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
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
	for _, n := range names {
		fmt.Fprintf(w, "  %-16s %s\n", n, cmds[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'tenantapps <command> --help' for a command's flags.")
}
