package permissions

import (
	"fmt"
	"slices"
	"time"
)

// AsOf returns the catalog as AvePoint's pages stood at the end of month ("2023-09"): every row
// whose Since is later is left out, and an app type left with no row is Unpublished then. Rows
// without a date are kept (the pages do not say when they were added). The version is c's
// version and the month joined by "@", e.g. "2026.12.04@2023-09", so a profile consented then
// names it, and Diff(c.AsOf(m), c) says what was added after m and when.
func (c *Catalog) AsOf(month string) (*Catalog, error) {
	if _, err := time.Parse("2006-01", month); err != nil {
		return nil, fmt.Errorf("permissions: AsOf(%q): write the month as YYYY-MM", month)
	}
	f := c.file()
	f.Version = c.version + "@" + month
	for i := range f.AppTypes {
		a := &f.AppTypes[i]
		a.Shape = ""
		if a.PermissionsFrom != "" {
			a.Permissions = nil
			continue
		}
		a.Permissions = slices.DeleteFunc(slices.Clone(a.Permissions), func(p Permission) bool { return p.Since > month })
		if len(a.Permissions) == 0 && a.PermissionsState.Known() {
			a.PermissionsState, a.Sources = Unpublished, nil
		}
	}
	// App types sharing a list follow their source's state.
	for i := range f.AppTypes {
		if from := f.AppTypes[i].PermissionsFrom; from != "" {
			if src, err := findAppType(f, from); err == nil && src.PermissionsState == Unpublished {
				f.AppTypes[i].PermissionsState, f.AppTypes[i].PermissionsFrom = Unpublished, ""
			}
		}
	}
	return build(f)
}

// History returns the earlier versions of the catalog its row dates imply, oldest first: for
// every month some row is dated (Since), the catalog as of the month before. Pass them to
// appprofile.FromPermissions so a profile consented at an earlier version is told what was added
// since, and when.
func (c *Catalog) History() ([]*Catalog, error) {
	months := map[string]bool{}
	for _, a := range c.appTypes {
		for _, p := range a.Permissions {
			if p.Since != "" {
				months[p.Since] = true
			}
		}
	}
	var sorted []string
	for m := range months {
		sorted = append(sorted, m)
	}
	slices.Sort(sorted)
	var out []*Catalog
	for _, m := range sorted {
		t, _ := time.Parse("2006-01", m)
		old, err := c.AsOf(t.AddDate(0, -1, 0).Format("2006-01"))
		if err != nil {
			return nil, err
		}
		out = append(out, old)
	}
	return out, nil
}
