package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantapps/tenantapps/consent"
)

// update rewrites every golden file in testdata:
//
//	go test -run Golden -update ./examples/tenantapps
//
// -update-catalog, -update-consent, -update-cert and -update-profiles are older names for it.
var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func init() {
	for _, name := range []string{"update-catalog", "update-consent", "update-cert", "update-profiles"} {
		flag.BoolVar(update, name, false, "the same as -update (an older name)")
	}
}

// cliOpts is what a test gives the in-process CLI besides its arguments; the zero value means
// empty stdin and environment and no tenant driver.
type cliOpts struct {
	stdin     string
	vars      map[string]string
	newDriver func(ctx context.Context, env *cliEnv) (consent.Driver, func(), error)
	now       func() time.Time
}

// runCLI runs the command in-process with empty stdin and environment and returns exit code,
// stdout and stderr.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	return runCLIOpts(t, cliOpts{}, args...)
}

// runCLIOpts runs the command in-process with o and returns exit code, stdout and stderr.
func runCLIOpts(t *testing.T, o cliOpts, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	env := &cliEnv{stdin: strings.NewReader(o.stdin), stdout: &stdout, stderr: &stderr, getenv: func(k string) string { return o.vars[k] },
		newDriver: o.newDriver, now: o.now}
	code := run(env, args)
	return code, stdout.String(), stderr.String()
}

// checkGolden compares got with testdata/name, after rewriting the file under -update.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run Golden -update ./examples/tenantapps)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s mismatch (-golden +got):\n%s", path, diff)
	}
}

// goldenCase is one invocation whose stdout is compared with testdata/golden; it must exit with
// code and write nothing to stderr.
type goldenCase struct {
	golden string
	code   int
	args   []string
}

// testGoldens runs each case in-process as a subtest named after its golden file.
func testGoldens(t *testing.T, cases []goldenCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.golden, func(t *testing.T) {
			code, out, errOut := runCLI(t, tc.args...)
			if code != tc.code || errOut != "" {
				t.Fatalf("exit %d (want %d), stderr %q", code, tc.code, errOut)
			}
			checkGolden(t, tc.golden, out)
		})
	}
}
