package graph_test

import (
	"testing"
	"time"

	"github.com/tenantapps/tenantapps/consent"
	"github.com/tenantapps/tenantapps/consent/consenttest"
	"github.com/tenantapps/tenantapps/consent/graph"
	"github.com/tenantapps/tenantapps/consent/graphtest"
)

// TestConformance runs the driver conformance suite against the real driver (MSAL Go +
// msgraph-sdk-go) talking TLS to the graphtest emulator: the same suite the consenttest fake
// passes. The emulator enforces Graph permissions (its default) and the reading app holds
// exactly graph.ReaderPermissions(true) (newEnv), so the documented list is sufficient;
// TestEachReaderPermissionIsNeeded shows each entry is necessary.
func TestConformance(t *testing.T) {
	consenttest.RunDriverConformance(t, func(t *testing.T) consenttest.Env { return conformanceEnv(t, nil) })
}

// conformanceEnv is the suite's environment: newEnv with short retries, then tweak.
func conformanceEnv(t *testing.T, tweak func(*graph.Config)) consenttest.Env {
	e := newEnv(t, graphtest.Options{}, func(c *graph.Config) {
		c.MaxRetries = 1
		c.MaxRetryWait = 100 * time.Millisecond
		if tweak != nil {
			tweak(c)
		}
	})
	return consenttest.Env{
		Driver:        e.drv,
		Directory:     e.srv,
		Faults:        e.srv,
		NewCredential: func(t testing.TB) consent.CertificateCredential { return newCredential(t) },
		DriverIP:      "127.0.0.1",
	}
}
