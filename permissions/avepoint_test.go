package permissions

import (
	"bufio"
	"os"
	"slices"
	"strings"
	"testing"
)

// readTSV reads a research file of testdata/avepoint (header row, tab-separated, no quoting).
func readTSV(t *testing.T, path string) []map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var head []string
	var out []map[string]string
	for sc.Scan() {
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			continue
		}
		cells := strings.Split(line, "\t")
		if head == nil {
			head = cells
			continue
		}
		row := map[string]string{}
		for i, h := range head {
			if i < len(cells) {
				row[h] = cells[i]
			}
		}
		out = append(out, row)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// pageAPIServicePrincipal maps the API names AvePoint's tables print to the Microsoft service
// principal that publishes the permission (testdata/avepoint/README.md).
var pageAPIServicePrincipal = map[string]string{
	"SharePoint/Office 365 SharePoint Online": "Office 365 SharePoint Online",
	"Dynamics CRM":                     "Dataverse",
	"Azure Service Management":         "Azure Resource Manager",
	"Azure Rights Management Services": "Microsoft Rights Management Services",
	"Yammer":                           "Viva Engage",
	"":                                 "Microsoft Graph",
}

// TestCatalogMatchesAvePointPages holds every AOS app type to the transcribed AvePoint pages in
// testdata/avepoint: its state (published: a whole table; partial: only cut copies, pages cited;
// unpublished: the pages searched), its Entra name, modes and "unsupported to create new", and
// its rows — every verifiable row of the newest page is in the catalog with the ID of Microsoft's
// export (ids.tsv), and no row comes from anywhere but the cited pages.
func TestCatalogMatchesAvePointPages(t *testing.T) {
	c := mustDefault(t)
	const dir = "testdata/avepoint/"
	ids := map[Key]map[string]string{}
	appIDOf := map[string]string{}
	for _, r := range readTSV(t, dir+"ids.tsv") {
		ids[Key{ResourceAppID: r["resource_app_id"], Type: Kind(r["type"]), Value: r["permission"]}] = r
		appIDOf[r["resource_service_principal"]] = r["resource_app_id"]
	}
	pages := map[string]map[string]string{}
	for _, p := range readTSV(t, dir+"pages.tsv") {
		pages[p["slug"]] = p
	}
	rowsOf := func(slug string) []Key {
		var out []Key
		for _, r := range readTSV(t, dir+"pages/"+slug+".tsv") {
			if r["type"] == "" {
				continue // the stored copy ends before the Type cell
			}
			sp, ok := pageAPIServicePrincipal[r["api"]]
			if !ok {
				sp = r["api"]
			}
			k := Key{ResourceAppID: appIDOf[sp], Type: Kind(r["type"]), Value: r["permission"]}
			if _, ok := ids[k]; ok {
				out = append(out, k)
			}
		}
		return out
	}
	seen := map[string]bool{}
	for _, row := range readTSV(t, dir+"index.tsv") {
		if row["catalog_app_type"] == "(none)" {
			continue // AvePoint Online Services' sign-in app is no app profile type
		}
		name := row["catalog_app_type"]
		if name == "(new)" {
			name = row["aos_app_type"]
		}
		a, err := c.AppType(name)
		if err != nil {
			t.Errorf("%s (%s): %v", row["aos_app_type"], row["entra_app_name"], err)
			continue
		}
		seen[a.Name] = true
		if e := row["entra_app_name"]; !strings.HasPrefix(e, "(") && a.EntraAppName != e {
			t.Errorf("%s: Entra app name %q, AvePoint %q", a.Name, a.EntraAppName, e)
		}
		for _, m := range strings.Split(row["mode"], ";") {
			if !a.HasMode(Mode(m)) {
				t.Errorf("%s: modes %v lack AvePoint's %q", a.Name, a.Modes, m)
			}
		}
		if unsupported := strings.HasPrefix(row["creatable"], "no: Unsupported to create new"); unsupported != a.UnsupportedToCreateNew {
			t.Errorf("%s: UnsupportedToCreateNew %v, AvePoint says %q", a.Name, a.UnsupportedToCreateNew, row["creatable"])
		}
		slugs := strings.FieldsFunc(row["pages"], func(r rune) bool { return r == ';' })
		var union []Key
		for _, s := range slugs {
			union = append(union, rowsOf(s)...)
		}
		want := PermissionsState(row["list_state"])
		if want != Unpublished && len(union) == 0 {
			want = Unpublished // no row of the pages can be verified
		}
		if a.PermissionsState != want {
			t.Errorf("%s: state %s, the pages make it %s", a.Name, a.PermissionsState, want)
			continue
		}
		if want == Unpublished {
			if len(a.PagesSearched) == 0 || len(a.Permissions) != 0 {
				t.Errorf("%s: unpublished with %d rows and pages searched %q", a.Name, len(a.Permissions), a.PagesSearched)
			}
			continue
		}
		for _, s := range slugs {
			if !slices.ContainsFunc(a.PermissionSources, func(src PermissionSource) bool { return src.URL == pages[s]["url"] }) {
				t.Errorf("%s: page %s (%s) is not cited", a.Name, s, pages[s]["url"])
			}
		}
		for _, k := range rowsOf(slugs[0]) {
			p, ok := a.Permission(k)
			if !ok {
				t.Errorf("%s: lacks %s %s of %s", a.Name, k.Type, k.Value, slugs[0])
				continue
			}
			if m := ids[k]; p.ID != m["id"] || p.Description != m["microsoft_display_name"] {
				t.Errorf("%s: %s has id %s %q, Microsoft's export %s %q", a.Name, p, p.ID, p.Description, m["id"], m["microsoft_display_name"])
			}
		}
		for _, p := range a.Permissions {
			if !slices.Contains(union, p.Key()) {
				t.Errorf("%s: %s is on none of its pages", a.Name, p)
			}
		}
	}
	for _, a := range c.AppTypes() {
		if a.Family != AOS {
			continue
		}
		if !seen[a.Name] {
			t.Errorf("%s: AOS app type the research does not cover", a.Name)
		}
		switch a.PermissionsState {
		case Published, Partial:
			if len(a.PermissionSources) == 0 {
				t.Errorf("%s: %s without a cited page", a.Name, a.PermissionsState)
			}
		case Unpublished:
			if len(a.PagesSearched) == 0 {
				t.Errorf("%s: unpublished without the pages searched", a.Name)
			}
		}
	}
}
