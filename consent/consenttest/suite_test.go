package consenttest_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/tenantapps/tenantapps/consent"
	"github.com/tenantapps/tenantapps/consent/consenttest"
	"github.com/tenantapps/tenantapps/roles"
)

// The conformance suite is only worth something if it fails broken drivers. Each broken driver
// below wraps the Fake with one realistic bug; TestConformanceCatchesBrokenDrivers runs the
// suite against it in a child process and requires a failure naming the broken property.

// cachingDriver answers from its own records after the first read: the CIPP bug (status
// computed from the library's saved table instead of the tenant).
type cachingDriver struct {
	*consenttest.Fake
	mu    sync.Mutex
	cache map[string]consent.AppState
}

func (d *cachingDriver) AppState(ctx context.Context, tenantID, appID string) (consent.AppState, error) {
	d.mu.Lock()
	st, ok := d.cache[tenantID+appID]
	d.mu.Unlock()
	if ok {
		return st, nil
	}
	st, err := d.Fake.AppState(ctx, tenantID, appID)
	if err == nil {
		d.mu.Lock()
		d.cache[tenantID+appID] = st
		d.mu.Unlock()
	}
	return st, err
}

// missingIsErrorDriver reports an absent service principal as an error.
type missingIsErrorDriver struct{ *consenttest.Fake }

func (d missingIsErrorDriver) AppState(ctx context.Context, tenantID, appID string) (consent.AppState, error) {
	st, err := d.Fake.AppState(ctx, tenantID, appID)
	if err == nil && !st.Exists {
		return consent.AppState{}, &consent.DriverError{Op: "AppState", Err: consent.ErrNotConsented}
	}
	return st, err
}

// faultAsMissingDriver turns a failed read into "no grants": the false "grant missing".
type faultAsMissingDriver struct{ *consenttest.Fake }

func (d faultAsMissingDriver) AppState(ctx context.Context, tenantID, appID string) (consent.AppState, error) {
	st, err := d.Fake.AppState(ctx, tenantID, appID)
	if consent.CouldNotCheck(err) && ctx.Err() == nil {
		return consent.AppState{TenantID: tenantID, AppID: appID}, nil
	}
	return st, err
}

// flatErrorsDriver loses the error chain (fmt.Errorf with %v).
type flatErrorsDriver struct{ *consenttest.Fake }

func (d flatErrorsDriver) AppState(ctx context.Context, tenantID, appID string) (consent.AppState, error) {
	st, err := d.Fake.AppState(ctx, tenantID, appID)
	if err != nil {
		return st, errors.New(err.Error())
	}
	return st, nil
}

// alwaysAssignsDriver is not idempotent.
type alwaysAssignsDriver struct{ *consenttest.Fake }

func (d alwaysAssignsDriver) AssignDirectoryRole(ctx context.Context, tenantID, appID string, role roles.TemplateID) (bool, error) {
	_, err := d.Fake.AssignDirectoryRole(ctx, tenantID, appID, role)
	return err == nil, err
}

// anyCertDriver accepts any certificate.
type anyCertDriver struct{ *consenttest.Fake }

func (d anyCertDriver) ProveCertificate(ctx context.Context, tenantID, appID string, cred consent.CertificateCredential) (consent.TokenProof, error) {
	p, err := d.Fake.ProveCertificate(ctx, tenantID, appID, cred)
	if errors.Is(err, consent.ErrInvalidCredential) {
		return consent.TokenProof{TenantID: tenantID, AppID: appID}, nil
	}
	return p, err
}

// unsortedDriver returns grants in reverse order.
type unsortedDriver struct{ *consenttest.Fake }

func (d unsortedDriver) AppState(ctx context.Context, tenantID, appID string) (consent.AppState, error) {
	st, err := d.Fake.AppState(ctx, tenantID, appID)
	slices.Reverse(st.AppRoleGrants)
	return st, err
}

// staleUserDriver ignores password resets.
type staleUserDriver struct {
	*consenttest.Fake
	mu   sync.Mutex
	seen map[string]consent.UserState
}

func (d *staleUserDriver) UserState(ctx context.Context, tenantID, userID string) (consent.UserState, error) {
	st, err := d.Fake.UserState(ctx, tenantID, userID)
	d.mu.Lock()
	defer d.mu.Unlock()
	if old, ok := d.seen[tenantID+userID]; ok && err == nil {
		st.LastPasswordChange, st.SignInSessionsValidFrom = old.LastPasswordChange, old.SignInSessionsValidFrom
	} else if err == nil {
		d.seen[tenantID+userID] = st
	}
	return st, err
}

// lenientDelegatedDriver treats any refused refresh as fine (it would keep a delegated profile
// Valid after the consent user's password was reset).
type lenientDelegatedDriver struct{ *consenttest.Fake }

func (d lenientDelegatedDriver) ProveDelegated(ctx context.Context, req consent.DelegatedRefresh) (consent.DelegatedProof, error) {
	p, err := d.Fake.ProveDelegated(ctx, req)
	if errors.Is(err, consent.ErrInvalidGrant) {
		return consent.DelegatedProof{TenantID: req.TenantID, UserObjectID: req.UserObjectID, TokenCache: req.TokenCache}, nil
	}
	return p, err
}

// sortedStatesDriver answers AppStates in app ID order instead of request order (results
// gathered from a map, or from a batch response taken in the order it lists them): each app
// would be judged by another app's grants.
type sortedStatesDriver struct{ *consenttest.Fake }

func (d sortedStatesDriver) AppStates(ctx context.Context, tenantID string, appIDs []string) ([]consent.AppStateResult, error) {
	res, err := d.Fake.AppStates(ctx, tenantID, appIDs)
	slices.SortStableFunc(res, func(x, y consent.AppStateResult) int {
		return strings.Compare(strings.ToLower(x.State.AppID), strings.ToLower(y.State.AppID))
	})
	return res, err
}

// statesErrAsMissingDriver turns an app it could not read, and a call that failed whole, into
// Exists=false results: the false "grant missing", for a whole tenant at once.
type statesErrAsMissingDriver struct{ *consenttest.Fake }

func (d statesErrAsMissingDriver) AppStates(ctx context.Context, tenantID string, appIDs []string) ([]consent.AppStateResult, error) {
	res, err := d.Fake.AppStates(ctx, tenantID, appIDs)
	if ctx.Err() != nil {
		return res, err
	}
	if err != nil {
		res = make([]consent.AppStateResult, len(appIDs))
	}
	for i := range res {
		if err != nil || res[i].Err != nil {
			res[i] = consent.AppStateResult{State: consent.AppState{TenantID: tenantID, AppID: appIDs[i]}}
		}
	}
	return res, nil
}

var brokenDrivers = map[string]func(f *consenttest.Fake) consent.Driver{
	"caching": func(f *consenttest.Fake) consent.Driver {
		return &cachingDriver{Fake: f, cache: map[string]consent.AppState{}}
	},
	"missingIsError":   func(f *consenttest.Fake) consent.Driver { return missingIsErrorDriver{f} },
	"faultAsMissing":   func(f *consenttest.Fake) consent.Driver { return faultAsMissingDriver{f} },
	"flatErrors":       func(f *consenttest.Fake) consent.Driver { return flatErrorsDriver{f} },
	"alwaysAssigns":    func(f *consenttest.Fake) consent.Driver { return alwaysAssignsDriver{f} },
	"anyCert":          func(f *consenttest.Fake) consent.Driver { return anyCertDriver{f} },
	"unsorted":         func(f *consenttest.Fake) consent.Driver { return unsortedDriver{f} },
	"lenientDelegated": func(f *consenttest.Fake) consent.Driver { return lenientDelegatedDriver{f} },
	"sortedStates":     func(f *consenttest.Fake) consent.Driver { return sortedStatesDriver{f} },
	"statesErrAsMissing": func(f *consenttest.Fake) consent.Driver {
		return statesErrAsMissingDriver{f}
	},
	"staleUser": func(f *consenttest.Fake) consent.Driver {
		return &staleUserDriver{Fake: f, seen: map[string]consent.UserState{}}
	},
}

// TestBrokenDriverChild runs the suite against the broken driver named by
// $CONSENTTEST_BROKEN_DRIVER; it is a no-op in a normal test run.
func TestBrokenDriverChild(t *testing.T) {
	name := os.Getenv("CONSENTTEST_BROKEN_DRIVER")
	if name == "" {
		t.Skip("child process of TestConformanceCatchesBrokenDrivers")
	}
	wrap, ok := brokenDrivers[name]
	if !ok {
		t.Fatalf("no broken driver %q", name)
	}
	consenttest.RunDriverConformance(t, func(t *testing.T) consenttest.Env {
		f := consenttest.NewFake()
		return consenttest.Env{Driver: wrap(f), Directory: f, Faults: f}
	})
}

func TestConformanceCatchesBrokenDrivers(t *testing.T) {
	if os.Getenv("CONSENTTEST_BROKEN_DRIVER") != "" {
		t.Skip("in the child process")
	}
	tests := []struct {
		driver  string
		subtest string // -test.run pattern below TestBrokenDriverChild
		want    string // in the child's output
	}{
		{"caching", "AppState/RevokeAppRole", "AppState after revoking User.Read.All mismatch"},
		{"missingIsError", "AppState/NoServicePrincipal", "AppState(" /* fatal: AppState(t, a): error */},
		{"faultAsMissing", "Faults", "got nil error, want throttled"},
		{"flatErrors", "AppState/UnknownTenant", "want one wrapping tenant not found"},
		{"alwaysAssigns", "RoleAssigner", "want false, nil (idempotent)"},
		{"anyCert", "CertificateProver", "ProveCertificate(unregistered certificate): got nil error"},
		{"unsorted", "AppState/Grants", "AppState mismatch"},
		{"staleUser", "UserStateReader", "after a password reset: LastPasswordChange"},
		{"lenientDelegated", "DelegatedProver/password_reset", "ProveDelegated after password reset: got nil error"},
		{"sortedStates", "AppStatesReader", "results not in request order"},
		{"statesErrAsMissing", "AppStatesReader", "AppStates(unknown tenant): got nil error"},
	}
	// Bugs with more than one face must be caught in each.
	alsoWant := map[string][]string{
		"statesErrAsMissing": {
			`AppStates(an empty app ID among valid ones): result 1 (app ""): got nil error`, // one app failed
			"AppStates(empty tenant ID) = 1 results, <nil>",                                 // the whole call failed
		},
	}
	for _, tt := range tests {
		t.Run(tt.driver, func(t *testing.T) {
			pattern := "^TestBrokenDriverChild$"
			for _, part := range strings.Split(tt.subtest, "/") {
				pattern += "/^" + part + "$"
			}
			cmd := exec.Command(os.Args[0], "-test.run", pattern, "-test.v")
			cmd.Env = append(os.Environ(), "CONSENTTEST_BROKEN_DRIVER="+tt.driver)
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			if !errors.As(err, &exit) {
				t.Fatalf("the suite passed a driver with bug %q (err %v):\n%s", tt.driver, err, out)
			}
			for _, want := range append([]string{tt.want}, alsoWant[tt.driver]...) {
				if !strings.Contains(string(out), want) {
					t.Errorf("the suite failed driver %q without reporting %q:\n%s", tt.driver, want, out)
				}
			}
			if !strings.Contains(string(out), "--- FAIL: TestBrokenDriverChild/"+tt.subtest) {
				t.Errorf("subtest %s did not fail for driver %q:\n%s", tt.subtest, tt.driver, out)
			}
		})
	}
}
