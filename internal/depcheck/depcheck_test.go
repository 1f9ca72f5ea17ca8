// Package depcheck holds the import-boundary test of the module, in the spirit of Go's own
// go/build/deps_test.go: it reads the real import graph with `go list -deps` and fails when a
// package reaches something it must not.
//
// Two rules:
//
//  1. Heavy modules (msgraph-sdk-go, its Kiota runtime, MSAL Go) are reachable only from
//     consent/graph and examples. A cold build of msgraph-sdk-go's models package costs minutes and
//     ~4.5 GB; an embedder that validates a .pfx or reads the catalog must not pay for it.
//  2. Our own packages import each other only along the documented direction (see doc.go):
//     roles → permissions → consent → appprofile, with certs and store standing alone.
package depcheck

import (
	"bufio"
	"bytes"
	"os/exec"
	"path"
	"sort"
	"strings"
	"testing"
)

const module = "github.com/tenantapps/tenantapps"

// heavy lists module path prefixes that only the Graph driver and the examples may reach.
var heavy = []string{
	"github.com/microsoftgraph/",
	"github.com/microsoft/kiota-",
	"github.com/AzureAD/microsoft-authentication-library-for-go",
	"github.com/Azure/azure-sdk-for-go",
}

// sqlDrivers may be reached only by the packages that wrap them (and by examples): the stores,
// and for pgx the River fleet runner, which works on the embedder's PostgreSQL pool.
var sqlDrivers = map[string][]string{
	"modernc.org/sqlite":    {"store/sqlite"},
	"github.com/jackc/pgx/": {"store/postgres", "appprofile/fleetriver"},
}

// engines may be reached only by the package that adds them: River (the job queue that runs
// fleet verification across replicas) by appprofile/fleetriver alone.
var engines = map[string]string{
	"github.com/riverqueue/": "appprofile/fleetriver",
}

// allowed maps a package (relative to the module; a trailing "/..." matches the subtree) to the
// module packages it may import. Packages not listed may import nothing of ours but internal/...
// helpers; the test fails on a package that matches no rule, so a new package has to be placed
// deliberately.
var allowed = []struct {
	pkg     string
	imports []string
}{
	{"", nil}, // package tenantapps: documentation only
	{"roles", nil},
	{"permissions", []string{"roles"}},
	{"certs", []string{"certs/internal/..."}},
	{"certs/internal/...", []string{"certs/internal/..."}}, // BER normaliser, PKCS#12 decoder, RC2
	{"store", nil},
	{"store/memstore", []string{"store"}},
	{"store/sqlite", []string{"store", "store/internal/..."}},
	{"store/postgres", []string{"store", "store/internal/..."}},
	{"store/storetest", []string{"store"}},
	{"store/internal/...", []string{"store"}},
	{"consent", []string{"permissions", "roles"}},
	{"consent/consenttest", []string{"consent", "permissions", "roles", "certs", "certs/internal/..."}},
	{"consent/graphtest", []string{"consent", "consent/consenttest", "permissions", "roles", "certs", "certs/internal/..."}},
	{"consent/graph", []string{"consent", "permissions", "roles", "certs", "certs/internal/..."}},
	{"consent/internal/...", []string{"consent", "permissions", "roles", "certs", "certs/internal/..."}},
	{"appprofile", []string{"permissions", "roles", "consent", "certs", "certs/internal/...", "store"}},
	{"appprofile/fleetriver", []string{"appprofile", "consent", "permissions", "roles", "certs", "certs/internal/...", "store", "store/memstore", "consent/consenttest"}},
	{"appprofile/...", []string{"appprofile", "permissions", "roles", "consent", "consent/consenttest", "certs", "certs/internal/...", "store", "store/memstore"}},
	{"examples/...", []string{"..."}},
	{"internal/...", []string{"..."}},
}

func match(pattern, rel string) bool {
	if pattern == "..." {
		return true
	}
	if base, ok := strings.CutSuffix(pattern, "/..."); ok {
		return rel == base || strings.HasPrefix(rel, base+"/")
	}
	return pattern == rel
}

func rule(rel string) (imports []string, ok bool) {
	// Most specific rule wins: exact match first, then the longest subtree pattern.
	best := -1
	for i, r := range allowed {
		if r.pkg == rel {
			return r.imports, true
		}
		if strings.HasSuffix(r.pkg, "/...") && match(r.pkg, rel) {
			if best < 0 || len(r.pkg) > len(allowed[best].pkg) {
				best = i
			}
		}
	}
	if best < 0 {
		return nil, false
	}
	return allowed[best].imports, true
}

type pkgDeps struct {
	rel         string
	deps        []string // transitive, non-test
	testImports []string // direct imports of _test.go files
}

func listDeps(t *testing.T) []pkgDeps {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps=false", "-f", "{{.ImportPath}}{{range .Deps}} {{.}}{{end}} |{{range .TestImports}} {{.}}{{end}}{{range .XTestImports}} {{.}}{{end}}", module+"/...")
	cmd.Dir = "../.."
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	var pkgs []pkgDeps
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 {
			continue
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(fields[0], module), "/")
		p := pkgDeps{rel: rel}
		rest := fields[1:]
		for i, f := range rest {
			if f == "|" {
				p.deps, p.testImports = rest[:i], rest[i+1:]
				break
			}
		}
		pkgs = append(pkgs, p)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(pkgs) == 0 {
		t.Fatal("go list returned no packages")
	}
	return pkgs
}

// ownedBy reports whether package rel is one of owners or inside one of them.
func ownedBy(rel string, owners []string) bool {
	for _, o := range owners {
		if rel == o || strings.HasPrefix(rel, o+"/") {
			return true
		}
	}
	return false
}

func TestImportBoundaries(t *testing.T) {
	for _, p := range listDeps(t) {
		isTestKitOrExample := strings.HasPrefix(p.rel, "examples/") || p.rel == "examples" || strings.HasPrefix(p.rel, "internal/")
		mayUseHeavy := p.rel == "consent/graph" || strings.HasPrefix(p.rel, "consent/graph/") || strings.HasPrefix(p.rel, "examples/")
		imports, ok := rule(p.rel)
		if !ok {
			t.Errorf("package %q matches no rule in depcheck's allowed table: add it deliberately", p.rel)
			continue
		}
		var bad []string
		for _, d := range p.deps {
			for _, h := range heavy {
				if strings.HasPrefix(d, h) && !mayUseHeavy {
					bad = append(bad, d+" (heavy: only consent/graph and examples may import it)")
				}
			}
			for prefix, owners := range sqlDrivers {
				if strings.HasPrefix(d, prefix) && !ownedBy(p.rel, owners) && !isTestKitOrExample {
					bad = append(bad, d+" (SQL driver: only "+strings.Join(owners, ", ")+" may import it)")
				}
			}
			for prefix, owner := range engines {
				if strings.HasPrefix(d, prefix) && !ownedBy(p.rel, []string{owner}) && !strings.HasPrefix(p.rel, "internal/") {
					bad = append(bad, d+" (job engine: only "+owner+" may import it)")
				}
			}
			own, isOwn := strings.CutPrefix(d, module+"/")
			if !isOwn {
				continue
			}
			if strings.HasPrefix(own, "internal/") && !strings.HasPrefix(own, "internal/depcheck") {
				continue // shared helpers are fine for everyone
			}
			permitted := false
			for _, a := range imports {
				// A permitted package brings its own internal packages with it.
				if match(a, own) || (!strings.HasSuffix(a, "/...") && match(a+"/internal/...", own)) {
					permitted = true
					break
				}
			}
			if !permitted {
				bad = append(bad, own+" (against the package direction in doc.go)")
			}
		}
		// Tests count too: a pure package's test that imports the Graph driver would make
		// `go test ./thatpkg` compile msgraph-sdk-go.
		for _, d := range p.testImports {
			if mayUseHeavy || isTestKitOrExample {
				break
			}
			for _, h := range heavy {
				if strings.HasPrefix(d, h) {
					bad = append(bad, d+" (heavy, from a _test.go file)")
				}
			}
			if d == module+"/consent/graph" {
				bad = append(bad, d+" (the Graph driver, from a _test.go file: move the test to consent/graph or internal/)")
			}
		}
		if len(bad) > 0 {
			sort.Strings(bad)
			t.Errorf("%s depends on:\n\t%s", path.Join(module, p.rel), strings.Join(bad, "\n\t"))
		}
	}
}

func TestRules(t *testing.T) {
	for _, tc := range []struct {
		pattern, rel string
		want         bool
	}{
		{"store", "store", true},
		{"store", "store/sqlite", false},
		{"examples/...", "examples/portal", true},
		{"examples/...", "examples", true},
		{"examples/...", "examplesx", false},
		{"...", "anything/at/all", true},
	} {
		if got := match(tc.pattern, tc.rel); got != tc.want {
			t.Errorf("match(%q, %q) = %v, want %v", tc.pattern, tc.rel, got, tc.want)
		}
	}
	if imports, ok := rule("consent/graph"); !ok || len(imports) == 0 {
		t.Errorf("rule(consent/graph) = %v, %v; want the exact rule", imports, ok)
	}
	if _, ok := rule("nowhere/pkg"); ok {
		t.Error("rule(nowhere/pkg) found a rule; unknown packages must be reported")
	}
}
