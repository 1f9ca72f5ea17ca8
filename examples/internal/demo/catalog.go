// Package demo wires the tenantapps packages together for the examples: an appprofile.Catalog
// over the versioned permissions catalog, a demo customer tenant in the graphtest emulator (or any
// consenttest.Directory), and the "admin plays along" consent steps the quickstart, the portal and
// their tests use. It is internal to the examples: embedders copy what they need.
package demo

import (
	"fmt"
	"slices"
	"sync"

	"github.com/tenantapps/tenantapps/appprofile"
	"github.com/tenantapps/tenantapps/permissions"
)

// Catalog adapts the permissions package's versioned catalog to appprofile.Catalog. It keeps every
// version published so far, so AddedSince can answer for profiles consented at an older one.
// Publish makes a new version current. Safe for concurrent use.
type Catalog struct {
	mu       sync.RWMutex
	versions []*permissions.Catalog // oldest first; the last is current
	specs    []appprofile.AppSpec   // of the current version
}

var _ appprofile.Catalog = (*Catalog)(nil)

// NewCatalog returns a Catalog whose current version is c (permissions.Default() when nil).
func NewCatalog(c *permissions.Catalog) *Catalog {
	if c == nil {
		c = permissions.Default()
	}
	cat := &Catalog{}
	cat.publishLocked(c)
	return cat
}

// Publish makes next the current version. Its version string must be new.
func (c *Catalog) Publish(next *permissions.Catalog) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, v := range c.versions {
		if v.Version() == next.Version() {
			return fmt.Errorf("demo: catalog version %q was already published; choose a new version", next.Version())
		}
	}
	c.publishLocked(next)
	return nil
}

func (c *Catalog) publishLocked(next *permissions.Catalog) {
	c.versions = append(c.versions, next)
	c.specs = specsOf(next)
}

// Current returns the current permissions catalog.
func (c *Catalog) Current() *permissions.Catalog {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.versions[len(c.versions)-1]
}

// Version implements appprofile.Catalog.
func (c *Catalog) Version() string { return c.Current().Version() }

// AppTypes implements appprofile.Catalog.
func (c *Catalog) AppTypes() []appprofile.AppSpec {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]appprofile.AppSpec, len(c.specs))
	for i, s := range c.specs {
		out[i] = cloneSpec(s)
	}
	return out
}

// AddedSince implements appprofile.Catalog: the permissions app type gained (or whose ID changed)
// between version since and the current one.
func (c *Catalog) AddedSince(appType, since string) ([]appprofile.Permission, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	cur := c.versions[len(c.versions)-1]
	if since == cur.Version() {
		return nil, nil
	}
	var old *permissions.Catalog
	for _, v := range c.versions {
		if v.Version() == since {
			old = v
		}
	}
	if old == nil {
		return nil, fmt.Errorf("demo: unknown catalog version %q (known: %s)", since, c.knownLocked())
	}
	var out []appprofile.Permission
	for _, ch := range permissions.ChangesFor(permissions.Diff(old, cur), appType) {
		if ch.RequiresConsent() {
			out = append(out, permissionOf(ch.Permission))
		}
	}
	return out, nil
}

func (c *Catalog) knownLocked() string {
	var s []string
	for _, v := range c.versions {
		s = append(s, v.Version())
	}
	return fmt.Sprint(s)
}

func specsOf(c *permissions.Catalog) []appprofile.AppSpec {
	var out []appprofile.AppSpec
	for _, a := range c.AppTypes() {
		out = append(out, specOf(a))
	}
	return out
}

// specOf maps one app type of the permissions catalog to what the Manager needs.
func specOf(a permissions.AppType) appprofile.AppSpec {
	s := appprofile.AppSpec{
		Name: a.Name, EntraName: a.EntraAppName, Services: slices.Clone(a.Services), Family: string(a.Family),
		Mode: modeOf(a.Modes), Shape: shapeOf(a.Shape()), PermissionsPublished: a.PermissionsState == permissions.Published,
		DirectoryRoles: slices.Clone(a.DirectoryRoles), AzureRoles: slices.Clone(a.AzureRoles),
		UserConsent: a.UserConsent, Creatable: a.Creatable, BackupFunctions: slices.Clone(a.Functions),
	}
	for _, p := range a.Permissions {
		s.Permissions = append(s.Permissions, permissionOf(p))
	}
	return s
}

func modeOf(ms []permissions.Mode) appprofile.Mode {
	for _, want := range []permissions.Mode{permissions.ModeCustom, permissions.ModeDelegated, permissions.ModeModern, permissions.ModeClassic} {
		if slices.Contains(ms, want) && (len(ms) == 1 || want == permissions.ModeModern) {
			return appprofile.Mode(want)
		}
	}
	if len(ms) > 0 {
		return appprofile.Mode(ms[0])
	}
	return appprofile.Modern
}

func shapeOf(s permissions.Shape) appprofile.Shape {
	switch s {
	case permissions.Hybrid:
		return appprofile.ShapeHybrid
	case permissions.Purebred:
		return appprofile.ShapePurebred
	case permissions.ApplicationOnly:
		return appprofile.ShapeApplicationOnly
	}
	return appprofile.ShapeUnknown
}

func permissionOf(p permissions.Permission) appprofile.Permission {
	kind := appprofile.Application
	if p.Type == permissions.Delegated {
		kind = appprofile.DelegatedPermission
	}
	return appprofile.Permission{ResourceAppID: p.ResourceAppID, ID: p.ID, ResourceName: p.Resource, Value: p.Value, Kind: kind}
}

func cloneSpec(s appprofile.AppSpec) appprofile.AppSpec {
	s.Services = slices.Clone(s.Services)
	s.Permissions = slices.Clone(s.Permissions)
	s.DirectoryRoles = slices.Clone(s.DirectoryRoles)
	s.AzureRoles = slices.Clone(s.AzureRoles)
	s.BackupFunctions = slices.Clone(s.BackupFunctions)
	return s
}
