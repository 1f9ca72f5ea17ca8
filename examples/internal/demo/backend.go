package demo

import (
	"context"
	"time"

	"github.com/tenantapps/tenantapps/consent"
	"github.com/tenantapps/tenantapps/consent/consenttest"
	"github.com/tenantapps/tenantapps/consent/graphtest"
)

// Backend is a tenant directory the examples change and the driver that reads it.
type Backend struct {
	// DriverName names the consent.Driver implementation.
	DriverName string
	// URL is the emulator's base URL ("" without an emulator).
	URL string
	// Authority is the Entra authority host consent URLs point at.
	Authority string
	Directory consenttest.Directory
	Driver    consent.Driver
	Server    *graphtest.Server
	closers   []func()
}

// Close stops the emulator.
func (b *Backend) Close() {
	for i := len(b.closers) - 1; i >= 0; i-- {
		b.closers[i]()
	}
}

// Start starts the demo backend and fills it with the demo tenant (see Setup): the consenttest
// Fake as directory and driver.
func Start(ctx context.Context, redirectURI string, now func() time.Time) (*Backend, *Env, error) {
	if now == nil {
		now = time.Now
	}
	f := consenttest.NewFake()
	b := &Backend{DriverName: "consenttest.Fake", Authority: consent.PublicCloudAuthority, Directory: f, Driver: f}
	env, err := Setup(b.Directory, b.Driver, b.Server, NewCatalog(nil), redirectURI, now)
	if err != nil {
		b.Close()
		return nil, nil, err
	}
	return b, env, nil
}
