package consent_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantapps/tenantapps/consent"
)

// A distinct flag name: package consent's other tests may define their own -update.
var updateDriverGolden = flag.Bool("update-driver-golden", false, "rewrite testdata/driver_errors.golden")

// TestDriverErrorMessagesGolden pins the message of every driver sentinel inside a DriverError:
// what users see in logs and the portal, each saying what to do next.
func TestDriverErrorMessagesGolden(t *testing.T) {
	sentinels := []struct {
		name string
		err  error
		code string
	}{
		{"ErrTenantNotFound", consent.ErrTenantNotFound, "AADSTS90002"},
		{"ErrNotFound", consent.ErrNotFound, "Request_ResourceNotFound"},
		{"ErrNotConsented", consent.ErrNotConsented, "AADSTS700016"},
		{"ErrAppDisabled", consent.ErrAppDisabled, "AADSTS7000112"},
		{"ErrForbidden", consent.ErrForbidden, "Authorization_RequestDenied"},
		{"ErrThrottled", consent.ErrThrottled, "TooManyRequests"},
		{"ErrTransient", consent.ErrTransient, "serviceNotAvailable"},
		{"ErrInvalidCredential", consent.ErrInvalidCredential, "AADSTS700027"},
		{"ErrInvalidGrant", consent.ErrInvalidGrant, "AADSTS54005"},
		{"ErrInvalidArgument", consent.ErrInvalidArgument, ""},
	}
	var b strings.Builder
	for _, s := range sentinels {
		de := &consent.DriverError{Op: "AppState", TenantID: "11111111-2222-3333-4444-555555555555", AppID: "66666666-7777-8888-9999-000000000000", Code: s.code, Err: s.err}
		if s.err == consent.ErrThrottled {
			de.RetryAfter = 2500 * time.Millisecond
		}
		fmt.Fprintf(&b, "%s\n\t%s\n", s.name, de.Error())
	}
	golden := filepath.Join("testdata", "driver_errors.golden")
	if *updateDriverGolden {
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -run TestDriverErrorMessagesGolden ./consent -update-driver-golden to create it)", err)
	}
	if diff := cmp.Diff(string(want), b.String()); diff != "" {
		t.Errorf("driver error messages mismatch (-want +got):\n%s", diff)
	}
}
