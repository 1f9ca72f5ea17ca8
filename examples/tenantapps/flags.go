package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
)

// formatHelp is the help text of --format, which every command accepts.
const formatHelp = "output `format`: table or json"

// newFlagSet returns the flag set of "tenantapps <name>": parse errors and usage go to
// env.stderr. A non-empty usage replaces the flag package's default usage: it is printed, then
// "flags:" and the flag list.
func newFlagSet(env *cliEnv, name, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	if usage != "" {
		fs.Usage = func() {
			fmt.Fprintln(env.stderr, usage+"\n\nflags:")
			fs.PrintDefaults()
		}
	}
	return fs
}

// formatFlag registers --format (table by default).
func formatFlag(fs *flag.FlagSet) *string {
	return fs.String("format", "table", formatHelp)
}

// parseFlags parses args; when the command must stop (--help, a bad flag, which the flag package
// has reported) it returns the exit code and false.
func parseFlags(fs *flag.FlagSet, args []string) (int, bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK, false
		}
		return exitUsage, false
	}
	return 0, true
}

// commonOpts says which of the shared checks parseCommon makes.
type commonOpts struct {
	noArgs    bool // a positional argument is a usage error
	showUsage bool // print the command's usage after a usage error
}

// parseCommon parses args and checks what every command shares: --help, bad flags, (with
// noArgs) stray arguments and --format table|json. When the command must stop it returns the exit
// code and false.
func parseCommon(env *cliEnv, fs *flag.FlagSet, args []string, format *string, o commonOpts) (int, bool) {
	if code, ok := parseFlags(fs, args); !ok {
		return code, false
	}
	fail := func(msg string, a ...any) (int, bool) {
		usageError(env, fs, msg, a...)
		if o.showUsage {
			fs.Usage()
		}
		return exitUsage, false
	}
	if o.noArgs && fs.NArg() > 0 {
		return fail("unexpected argument %q", fs.Arg(0))
	}
	if *format != "table" && *format != "json" {
		return fail("unknown --format %q: use table or json", *format)
	}
	return 0, true
}

// requireFlags reports the required flags (name → value) that were not given, all at once, and
// returns exitUsage and false when any is missing.
func requireFlags(env *cliEnv, fs *flag.FlagSet, flags map[string]string) (int, bool) {
	var missing []string
	for name, value := range flags {
		if strings.TrimSpace(value) == "" {
			missing = append(missing, name)
		}
	}
	switch len(missing) {
	case 0:
		return 0, true
	case 1:
		return usageError(env, fs, "%s is required (see --help)", missing[0]), false
	}
	sort.Strings(missing)
	return usageError(env, fs, "%s and %s are required (see --help)", strings.Join(missing[:len(missing)-1], ", "), missing[len(missing)-1]), false
}

// usageError reports a usage error of the command fs belongs to and returns exitUsage.
func usageError(env *cliEnv, fs *flag.FlagSet, msg string, a ...any) int {
	fmt.Fprintf(env.stderr, "tenantapps "+fs.Name()+": "+msg+"\n", a...)
	return exitUsage
}

// groupHelp handles the help of a command that dispatches to others (tenantapps itself, cert,
// profiles): with no arguments it prints the usage and returns exitUsage, with -h, --help or help
// it prints it and returns exitOK; otherwise it returns false and prints nothing.
func groupHelp(args []string, usage func()) (int, bool) {
	if len(args) > 0 && args[0] != "-h" && args[0] != "--help" && args[0] != "help" {
		return 0, false
	}
	usage()
	if len(args) == 0 {
		return exitUsage, true
	}
	return exitOK, true
}

// writeResult writes v to stdout as JSON when format is json and with table otherwise. A failed
// write is reported on stderr as an error of the command fs belongs to, and writeResult returns
// false (the command then exits 1).
func writeResult(env *cliEnv, fs *flag.FlagSet, format string, v any, table func(io.Writer) error) bool {
	var err error
	if format == "json" {
		err = writeJSON(env.stdout, v)
	} else {
		err = table(env.stdout)
	}
	if err != nil {
		fmt.Fprintf(env.stderr, "tenantapps %s: %v\n", fs.Name(), err)
		return false
	}
	return true
}
