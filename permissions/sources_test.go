package permissions

import (
	"bufio"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// microsoftRow is one appRole or oauth2PermissionScope of a Microsoft resource service
// principal, from testdata/microsoft_ids.tsv (see testdata/SOURCES.md).
type microsoftRow struct {
	ServicePrincipal string
	ID               string
	Description      string
}

func readMicrosoftIDs(t *testing.T) map[Key]microsoftRow {
	t.Helper()
	f, err := os.Open("testdata/microsoft_ids.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[Key]microsoftRow{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		c := strings.Split(line, "\t")
		if len(c) != 6 {
			t.Fatalf("microsoft_ids.tsv:%d: %d columns, want 6", n, len(c))
		}
		k := Key{ResourceAppID: c[1], Type: Kind(c[2]), Value: c[3]}
		if _, dup := out[k]; dup {
			t.Fatalf("microsoft_ids.tsv:%d: %v twice", n, k)
		}
		out[k] = microsoftRow{ServicePrincipal: c[0], ID: c[4], Description: c[5]}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestIDsMatchMicrosoftExport: every permission's ID and description is exactly what the
// resource's Microsoft service principal publishes, and every resource is cited with the
// service principal's display name.
func TestIDsMatchMicrosoftExport(t *testing.T) {
	ms := readMicrosoftIDs(t)
	c := mustDefault(t)
	spName := map[string]string{}
	for _, s := range c.Sources() {
		spName[s.ResourceAppID] = s.ServicePrincipalDisplayName
	}
	for _, r := range c.Resources() {
		for _, p := range r.Permissions {
			row, ok := ms[p.Key()]
			if !ok {
				t.Errorf("%s: not published by the resource's service principal (no row in microsoft_ids.tsv)", p)
				continue
			}
			got := microsoftRow{ServicePrincipal: spName[p.ResourceAppID], ID: p.ID, Description: p.Description}
			if diff := cmp.Diff(row, got); diff != "" {
				t.Errorf("%s mismatch (-microsoft +catalog):\n%s", p, diff)
			}
		}
	}
}

// TestCrossCheckTableCoversNonGraphIDs: testdata/SOURCES.md has exactly one row in its per-ID
// cross-check table for every non-Graph row of microsoft_ids.tsv, with the same id and one of
// the documented verdicts, so the record of which sources confirm an id cannot drift from the ids.
func TestCrossCheckTableCoversNonGraphIDs(t *testing.T) {
	const graph = "00000003-0000-0000-c000-000000000000"
	type row struct{ sp, kind, value string }
	want := map[row]string{}
	for k, r := range readMicrosoftIDs(t) {
		if k.ResourceAppID != graph {
			want[row{r.ServicePrincipal, string(k.Type), k.Value}] = r.ID
		}
	}
	data, err := os.ReadFile("testdata/SOURCES.md")
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(data), "| Service principal | Type | Value | ID | Confirmed by | Verdict |\n|---|---|---|---|---|---|\n")
	if !ok {
		t.Fatal("SOURCES.md: per-ID cross-check table not found")
	}
	got := map[row]string{}
	for _, line := range strings.Split(table, "\n") {
		if !strings.HasPrefix(line, "|") {
			break
		}
		c := strings.Split(strings.Trim(line, "|"), "|")
		for i := range c {
			c[i] = strings.TrimSpace(c[i])
		}
		if len(c) != 6 {
			t.Errorf("SOURCES.md table row %q: %d columns, want 6", line, len(c))
			continue
		}
		r := row{c[0], c[1], c[2]}
		if _, dup := got[r]; dup {
			t.Errorf("SOURCES.md table: %v twice", r)
		}
		got[r] = c[3]
		verdict, _, _ := strings.Cut(c[5], ",")
		switch verdict {
		case "Microsoft", "independent", "export only", "contradicted":
		default:
			t.Errorf("SOURCES.md table %v: verdict %q, want Microsoft, independent, export only or contradicted", r, c[5])
		}
		if (verdict == "export only") != (c[4] == "—") {
			t.Errorf("SOURCES.md table %v: confirmed by %q but verdict %q", r, c[4], c[5])
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("SOURCES.md cross-check table vs microsoft_ids.tsv (-tsv +table):\n%s", diff)
	}
}
