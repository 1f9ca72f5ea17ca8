package main

import (
	"context"

	"github.com/tenantapps/tenantapps/consent"
	"github.com/tenantapps/tenantapps/examples/internal/envconfig"
)

// Environment variables of the Graph driver 'profiles verify' reads tenants with (see package
// examples/internal/envconfig). The .pfx password is a secret, so it is never a flag.
const (
	envReaderAppID     = envconfig.ReaderAppID
	envReaderPFX       = envconfig.ReaderPFX
	envReaderPassword  = envconfig.ReaderPFXPassword
	envAuthorityHost   = envconfig.Authority
	envGraphURL        = envconfig.GraphURL
	envGraphScope      = envconfig.GraphScope
	envExtraRootCAFile = envconfig.CAFile
)

// graphDriverFromEnv builds the real Graph driver from the environment.
func graphDriverFromEnv(_ context.Context, env *cliEnv) (consent.Driver, func(), error) {
	drv, err := envconfig.GraphDriver(env.getenv)
	if err != nil {
		return nil, nil, err
	}
	return drv, func() {}, nil
}
