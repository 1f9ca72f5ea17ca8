// Package consenttest is the test kit for consent.Driver, in the style of net/http/httptest and
// client-go's fake clientsets.
//
//   - Fake is an in-memory directory of tenants, application registrations, service principals,
//     application and delegated grants, directory and Azure roles, users, sign-ins, authorization
//     codes and token caches. It implements consent.Driver and every optional driver interface
//     (AppStatesReader, RoleAssigner, KeyCredentialReader, CertificateProver, CodeRedeemer,
//     DelegatedProver, UserStateReader, SignInReader, AzureRoleReader), records every driver
//     call (Actions, CountActions; an AppStates call is one Action however many apps it reads)
//     and runs per-method hooks before each call (OnCall with Fail, Throttle, Delay, ForTenant,
//     Times; MethodAppStatesItem hooks fail single apps of an AppStates call). It is safe for
//     concurrent use. OnlyDriver hides its optional interfaces to test code against a minimal
//     driver.
//   - Directory is the interface of tenant changes tests make (register an app, grant a
//     permission, reset a user's password, block an IP, delete a service principal...). It is
//     implemented by Fake and by the Entra/Graph emulator in consent/graphtest, so the same test
//     can run against the fake and, over TLS, against the real driver. FaultInjector and
//     TenantDeleter are optional extras.
//   - GrantConsent does in one call what an administrator's consent to an app type records in a
//     tenant (its service principal, every application permission as an app role, every delegated
//     permission tenant-wide); RevokePermission revokes one permission by its value;
//     GrantPermissions grants a list of one's own. All three work on any Directory.
//   - RunDriverConformance is the driver conformance suite. Every consent.Driver
//     implementation must pass it against a Directory it reads.
//
// A portal-style test of a revoked grant:
//
//	consenttest.GrantConsent(fake, tenant, appID, nil, "APElements Automation") // the admin consents
//	p, _ := m.CompleteConsent(ctx, cb)
//	consenttest.RevokePermission(fake, tenant, appID, nil, "APElements Automation", "Group.Create")
//	res, _ := m.Verify(ctx, p.ID)
//	if !res.Profile.HasReason(appprofile.ReasonGrantMissing) { t.Error(...) }
//
// Running the suite against a driver:
//
//	func TestConformance(t *testing.T) {
//		consenttest.RunDriverConformance(t, func(t *testing.T) consenttest.Env {
//			srv := graphtest.NewServer(...)     // or consenttest.NewFake()
//			t.Cleanup(srv.Close)
//			return consenttest.Env{
//				Driver:    newDriverFor(srv),  // the driver under test, reading srv
//				Directory: srv,
//				Faults:    srv,                // optional: fault subtests skip when nil
//				DriverIP:  "127.0.0.1",        // optional: enables the Conditional Access check
//			}
//		})
//	}
//
// The suite reports every failing property (t.Errorf in named subtests), skips the subtests of
// optional interfaces a driver lacks, and is itself tested against deliberately broken drivers.
package consenttest
