package graph_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/tenantapps/tenantapps/consent"
	"github.com/tenantapps/tenantapps/consent/consenttest"
	"github.com/tenantapps/tenantapps/consent/graph"
	"github.com/tenantapps/tenantapps/consent/graphtest"
	"github.com/tenantapps/tenantapps/roles"
)

// These tests hold the driver to Microsoft's published contract (issue 13), each against the
// emulator rule that encodes it (see graphtest's package documentation).

// TestSignInsStopsAtLimit: a busy app's sign-in log is not walked to its end. With 210
// sign-ins on pages of 2 and limit 2, the driver sends one v1.0 and one beta request ($top=2,
// newest first) and returns the two newest.
func TestSignInsStopsAtLimit(t *testing.T) {
	e := newEnv(t, graphtest.Options{PageSize: 2}, nil)
	e.withCustomer(t)
	uid, err := e.srv.AddUser(tenantA, consenttest.User{UserPrincipalName: "anna@contoso.example"})
	must(t, err)
	var last []consent.SignIn
	for range 210 {
		si, err := e.srv.SimulateSignIn(tenantA, appX, uid, "203.0.113.7")
		must(t, err)
		last = append(last, si)
	}
	// The newest sign-in is interactive (a user consent): v1.0 serves it, beta the others.
	must(t, e.srv.SetRequiredPermissions(appX, graphtest.Permission{ResourceAppID: graphtest.MicrosoftGraphAppID, Kind: graphtest.Delegated, Value: "User.Read"}))
	if _, err := e.srv.AuthorizeUser(consenttest.AuthorizeRequest{TenantID: tenantA, AppID: appX, UserID: uid, RedirectURI: redirect,
		Scopes: []string{"https://graph.microsoft.com/User.Read"}}); err != nil {
		t.Fatal(err)
	}
	before := e.srv.Stats().Total(graphtest.RouteSignIns, tenantA)
	got, err := e.drv.SignIns(ctxT(t), tenantA, appX, last[0].Time.Add(-1), 2)
	if err != nil {
		t.Fatalf("SignIns: %v", err)
	}
	if len(got) != 2 {
		t.Fatalf("SignIns(limit 2) returned %d sign-ins, want 2", len(got))
	}
	if got[1].ID != last[209].ID || got[0].ID == last[208].ID || got[0].Time.Before(got[1].Time) {
		t.Errorf("SignIns(limit 2) = %+v; want the interactive consent sign-in, then the newest non-interactive one", got)
	}
	if n := e.srv.Stats().Total(graphtest.RouteSignIns, tenantA) - before; n > 2 {
		t.Errorf("SignIns(limit 2) sent %d sign-in requests, want at most 2 (v1.0 interactive + beta non-interactive)", n)
	}
}

// TestPerUserMFAForbiddenIsCouldNotCheck: without Policy.Read.All the beta per-user MFA read is
// refused; that is "could not check", never "MFA not required"
// (api-reference/beta/api/authentication-get.md).
func TestPerUserMFAForbiddenIsCouldNotCheck(t *testing.T) {
	for _, tc := range []struct {
		name  string
		perms []string
	}{
		{"all documented permissions", graph.ReaderPermissions(true)},
		{"without Policy.Read.All", without(graph.ReaderPermissions(true), graph.PermPolicyReadAll)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnvWith(t, tc.perms)
			e.withCustomer(t)
			uid, err := e.srv.AddUser(tenantA, consenttest.User{UserPrincipalName: "anna@contoso.example", MFARegistered: true})
			must(t, err)
			must(t, e.srv.RequireUserMFA(tenantA, uid))
			st, err := e.drv.UserState(ctxT(t), tenantA, uid)
			if err != nil {
				t.Fatalf("UserState: %v", err)
			}
			full := slices.Contains(tc.perms, graph.PermPolicyReadAll)
			switch {
			case full && (!st.MFA.Known || !st.MFA.Required || st.MFA.Err != nil):
				t.Errorf("MFA = %+v, want known and required", st.MFA)
			case !full && (st.MFA.Known || !consent.CouldNotCheck(st.MFA.Err) || !errors.Is(st.MFA.Err, consent.ErrForbidden)):
				t.Errorf("MFA = %+v, want unknown with a forbidden (could-not-check) Err", st.MFA)
			}
		})
	}
}

// TestAssignDirectoryRoleDecidesAlreadyAssignedPositively: Graph's 400 Request_BadRequest is
// generic; an invalid roleDefinitionId must come back as an error, not as "already assigned".
func TestAssignDirectoryRoleDecidesAlreadyAssignedPositively(t *testing.T) {
	e := newEnv(t, graphtest.Options{}, nil)
	e.withCustomer(t)
	ctx := ctxT(t)
	const notARole = roles.TemplateID("0b1e5c7a-0000-4000-8000-00000000dead")
	changed, err := e.drv.AssignDirectoryRole(ctx, tenantA, appX, notARole)
	if err == nil {
		t.Fatalf("AssignDirectoryRole(unknown role) = %v, nil; want an error (Graph answered 400)", changed)
	}
	if consent.IsGroundTruth(err) {
		t.Errorf("AssignDirectoryRole(unknown role) error %v reads as a tenant fact", err)
	}
	changed, err = e.drv.AssignDirectoryRole(ctx, tenantA, appX, roles.GlobalReader)
	if err != nil || !changed {
		t.Fatalf("AssignDirectoryRole(Global Reader) = %v, %v; want true, nil", changed, err)
	}
	changed, err = e.drv.AssignDirectoryRole(ctx, tenantA, appX, roles.GlobalReader)
	if err != nil || changed {
		t.Errorf("AssignDirectoryRole(Global Reader) again = %v, %v; want false, nil", changed, err)
	}
}

// TestUserStateByUPN: a UPN is resolved to the object ID before userRegistrationDetails, which
// Microsoft keys by object ID (api-reference/v1.0/api/userregistrationdetails-get.md); the
// memberOf cast is sent as the advanced query the docs require.
func TestUserStateByUPN(t *testing.T) {
	e := newEnv(t, graphtest.Options{}, nil)
	e.withCustomer(t)
	uid, err := e.srv.AddUser(tenantA, consenttest.User{UserPrincipalName: "anna@contoso.example", MFARegistered: true,
		DirectoryRoles: []roles.TemplateID{roles.GlobalReader}})
	must(t, err)
	st, err := e.drv.UserState(ctxT(t), tenantA, "anna@contoso.example")
	if err != nil {
		t.Fatalf("UserState(UPN): %v", err)
	}
	if st.ObjectID != uid || !st.MFA.Known || !st.MFA.Registered || st.MFA.Err != nil {
		t.Errorf("UserState(UPN) = %+v; want object ID %s and a known, registered MFA state", st, uid)
	}
	if !slices.Contains(st.DirectoryRoles, roles.GlobalReader) {
		t.Errorf("DirectoryRoles = %v, want Global Reader (memberOf cast with ConsistencyLevel and $count)", st.DirectoryRoles)
	}
}

func without(perms []string, drop string) []string {
	return slices.DeleteFunc(slices.Clone(perms), func(p string) bool { return p == drop })
}

// newEnvWith is newEnv whose reading app holds exactly perms.
func newEnvWith(t *testing.T, perms []string) *env {
	t.Helper()
	return newEnvPerms(t, graphtest.Options{}, perms, nil)
}

// TestEachReaderPermissionIsNeeded: TestConformance passes with exactly ReaderPermissions
// (enforced by the emulator), and here each permission is needed: without it, exactly the
// operations whose documented reads need it come back as a typed consent.ErrForbidden (could
// not check), never as a fact about the checked app.
func TestEachReaderPermissionIsNeeded(t *testing.T) {
	all := graph.ReaderPermissions(true)
	for _, perm := range all {
		t.Run("without "+perm, func(t *testing.T) {
			e := newEnvWith(t, without(all, perm))
			e.withCustomer(t)
			uid, err := e.srv.AddUser(tenantA, consenttest.User{UserPrincipalName: "anna@contoso.example", MFARegistered: true})
			must(t, err)
			ctx := ctxT(t)
			ops := map[string]error{}
			_, ops["AppState"] = e.drv.AppState(ctx, tenantA, appX)
			_, ops["KeyCredentials"] = e.drv.KeyCredentials(ctx, mspTenant, appX)
			st, err := e.drv.UserState(ctx, tenantA, uid)
			if err == nil {
				err = st.MFA.Err
			}
			ops["UserState"] = err
			_, ops["SignIns"] = e.drv.SignIns(ctx, tenantA, appX, time.Time{}, 5)
			_, ops["AssignDirectoryRole"] = e.drv.AssignDirectoryRole(ctx, tenantA, appX, roles.GlobalReader)
			for op, err := range ops {
				needs := false
				for _, r := range graph.ReaderReads() {
					needs = needs || (r.Operation == op && slices.Contains(r.Permissions, perm))
				}
				switch {
				case needs && (!errors.Is(err, consent.ErrForbidden) || !consent.CouldNotCheck(err)):
					t.Errorf("%s without %s: err %v; want a typed consent.ErrForbidden", op, perm, err)
				case !needs && err != nil:
					t.Errorf("%s does not need %s (graph.ReaderReads) but failed: %v", op, perm, err)
				}
			}
		})
	}
}
