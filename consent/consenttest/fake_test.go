package consenttest_test

import (
	"testing"

	"github.com/tenantapps/tenantapps/consent/consenttest"
)

func TestFakeConformance(t *testing.T) {
	consenttest.RunDriverConformance(t, func(t *testing.T) consenttest.Env {
		f := consenttest.NewFake()
		return consenttest.Env{Driver: f, Directory: f, Faults: f, DriverIP: consenttest.FakeClientIP}
	})
}

// A driver with no optional capability and no fault injection still passes: those subtests
// skip rather than fail.
func TestMinimalDriverConformance(t *testing.T) {
	consenttest.RunDriverConformance(t, func(t *testing.T) consenttest.Env {
		f := consenttest.NewFake()
		return consenttest.Env{Driver: consenttest.OnlyDriver(f), Directory: f}
	})
}
