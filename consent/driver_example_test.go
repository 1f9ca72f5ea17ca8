package consent_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/tenantapps/tenantapps/consent"
)

// CouldNotCheck separates "the tenant says no" from "we could not ask": only the first may
// change a profile's status.
func ExampleCouldNotCheck() {
	errs := []error{
		&consent.DriverError{Op: "AppState", TenantID: "contoso", Err: consent.ErrThrottled, RetryAfter: 3 * time.Second},
		&consent.DriverError{Op: "AppState", TenantID: "contoso", Code: "Authorization_RequestDenied", Err: consent.ErrForbidden},
		&consent.DriverError{Op: "ProveCertificate", TenantID: "contoso", Code: "AADSTS700027", Err: consent.ErrInvalidCredential},
		&consent.DriverError{Op: "ProveCertificate", TenantID: "contoso", Code: "AADSTS700016", Err: consent.ErrNotConsented},
		errors.New("connection reset by peer"),
	}
	for _, err := range errs {
		fmt.Printf("could not check=%-5v ground truth=%-5v %v\n", consent.CouldNotCheck(err), consent.IsGroundTruth(err), errors.Unwrap(err))
	}
	// Output:
	// could not check=true  ground truth=false throttled
	// could not check=true  ground truth=false forbidden: the driver lacks a permission in the tenant
	// could not check=false ground truth=true  credential rejected by the tenant
	// could not check=false ground truth=true  app has no service principal in the tenant
	// could not check=true  ground truth=false <nil>
}
