// Package demo wires the tenantapps packages together for the examples: a catalog that can
// publish new versions while a Manager runs, a demo customer tenant in the graphtest emulator (or
// any consenttest.Directory), and the "admin plays along" consent steps the quickstart, the portal
// and their tests use. It is internal to the examples: embedders copy what they need.
package demo

import (
	"fmt"
	"sync"

	"github.com/tenantapps/tenantapps/appprofile"
	"github.com/tenantapps/tenantapps/permissions"
)

// Catalog is an appprofile.Catalog whose current version can change while Managers use it:
// Publish makes a new permissions catalog current and keeps the earlier ones as history, so that
// AddedSince names what an app type gained since a profile was consented. Each version is adapted
// with appprofile.FromPermissions. Safe for concurrent use.
type Catalog struct {
	mu       sync.RWMutex
	versions []*permissions.Catalog // oldest first; the last is current
	inner    appprofile.Catalog
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

// Publish makes next the current version. Its version string must not have been published before.
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
	history := append([]*permissions.Catalog(nil), c.versions...)
	c.versions = append(c.versions, next)
	c.inner = appprofile.FromPermissions(next, history...)
}

// Current returns the current permissions catalog.
func (c *Catalog) Current() *permissions.Catalog {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.versions[len(c.versions)-1]
}

func (c *Catalog) current() appprofile.Catalog {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.inner
}

// Version implements appprofile.Catalog.
func (c *Catalog) Version() string { return c.current().Version() }

// AppTypes implements appprofile.Catalog.
func (c *Catalog) AppTypes() []appprofile.AppSpec { return c.current().AppTypes() }

// AddedSince implements appprofile.Catalog.
func (c *Catalog) AddedSince(appType, since string) ([]appprofile.Permission, error) {
	return c.current().AddedSince(appType, since)
}
