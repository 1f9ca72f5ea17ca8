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
