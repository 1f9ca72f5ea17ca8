package consenttest_test

import (
	"testing"

	"github.com/tenantapps/tenantapps/consent/consenttest"
)

func TestFakeConformance(t *testing.T) {
	consenttest.RunDriverConformance(t, func(t *testing.T) consenttest.Env {
		f := consenttest.NewFake()
		return consenttest.Env{Driver: f, Directory: f, Faults: f}
	})
}
