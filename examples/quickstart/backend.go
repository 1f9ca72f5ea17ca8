package main

import (
	"context"

	"github.com/tenantapps/tenantapps/consent"
	"github.com/tenantapps/tenantapps/consent/consenttest"
	"github.com/tenantapps/tenantapps/consent/graphtest"
)

// backend is the tenant directory the quickstart changes and the driver that reads it.
type backend struct {
	driverName string
	url        string
	authority  string
	dir        consenttest.Directory
	drv        consent.Driver
	srv        *graphtest.Server
	close      func()
}

func startBackend(ctx context.Context, redirectURI string) (*backend, error) {
	f := consenttest.NewFake()
	return &backend{driverName: "consenttest.Fake", url: "(in memory)", authority: consent.PublicCloudAuthority, dir: f, drv: f, close: func() {}}, nil
}
