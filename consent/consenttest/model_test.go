package consenttest_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/tenantapps/tenantapps/consent"
	"github.com/tenantapps/tenantapps/consent/consenttest"
	"github.com/tenantapps/tenantapps/roles"
)

// FuzzFakeMatchesModel applies a random sequence of tenant changes (with IDs in random letter
// case, as Graph treats GUIDs case-insensitively) to a Fake and to a plain map model, then
// checks that AppState reports what the model says.
func FuzzFakeMatchesModel(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9})
	f.Add([]byte{9, 0, 0, 0, 1, 8, 0, 3, 3, 4, 255, 128})
	f.Fuzz(func(t *testing.T, ops []byte) {
		if len(ops) > 300 {
			ops = ops[:300]
		}
		apps := []string{"aaaaaaaa-0000-4000-8000-00000000000a", "bbbbbbbb-0000-4000-8000-00000000000b"}
		resources := []string{consent.MicrosoftGraphAppID, consent.ExchangeOnlineAppID}
		appRoles := []string{"df021288-bdef-4463-88db-98f22de89214", "7ab1d382-f21e-4acd-a863-ba3e13f7da61"}
		scopes := []string{"User.Read", "Mail.Read", "Files.Read"}
		dirRoles := []roles.TemplateID{roles.ExchangeAdministrator, roles.SharePointAdministrator}

		fake := consenttest.NewFake()
		if err := fake.AddTenant(consenttest.Tenant{ID: tenantA}); err != nil {
			t.Fatal(err)
		}
		users := []string{""}
		uid, err := fake.AddUser(tenantA, consenttest.User{UserPrincipalName: "u@a.example"})
		if err != nil {
			t.Fatal(err)
		}
		users = append(users, uid)
		for _, a := range apps {
			if err := fake.RegisterApp(consenttest.App{AppID: a}); err != nil {
				t.Fatal(err)
			}
		}
		type modelSP struct {
			exists    bool
			appRoles  map[[2]string]bool
			delegated map[[2]string]map[string]bool
			dirRoles  map[roles.TemplateID]bool
		}
		model := map[string]*modelSP{}
		for _, a := range apps {
			model[a] = &modelSP{}
		}
		reset := func(m *modelSP) {
			m.appRoles, m.delegated, m.dirRoles = map[[2]string]bool{}, map[[2]string]map[string]bool{}, map[roles.TemplateID]bool{}
		}
		caseOf := func(s string, b byte) string {
			if b&0x80 != 0 {
				return strings.ToUpper(s)
			}
			return s
		}
		for i, op := range ops {
			pick := int(op >> 4)
			app := apps[pick%len(apps)]
			m := model[app]
			appArg := caseOf(app, op)
			res := resources[(pick/2)%len(resources)]
			role := appRoles[(pick/4)%len(appRoles)]
			user := users[(i+pick)%len(users)]
			scope := scopes[(i+pick)%len(scopes)]
			dr := dirRoles[(pick/2)%len(dirRoles)]
			var err error
			switch op % 9 {
			case 0:
				_, err = fake.CreateServicePrincipal(tenantA, appArg)
				if !m.exists {
					m.exists = true
					reset(m)
				}
			case 1:
				err = fake.DeleteServicePrincipal(tenantA, appArg)
				m.exists = false
			case 2:
				err = fake.GrantAppRole(tenantA, appArg, caseOf(res, op), role)
				if m.exists {
					m.appRoles[[2]string{res, role}] = true
				}
			case 3:
				err = fake.RevokeAppRole(tenantA, appArg, res, caseOf(role, op))
				if m.exists {
					delete(m.appRoles, [2]string{res, role})
				}
			case 4:
				err = fake.GrantDelegated(tenantA, appArg, res, user, scope)
				if m.exists {
					k := [2]string{res, user}
					if m.delegated[k] == nil {
						m.delegated[k] = map[string]bool{}
					}
					m.delegated[k][scope] = true
				}
			case 5:
				err = fake.RevokeDelegated(tenantA, appArg, res, user, caseOf(scope, op))
				if m.exists {
					k := [2]string{res, user}
					delete(m.delegated[k], scope)
					if len(m.delegated[k]) == 0 {
						delete(m.delegated, k)
					}
				}
			case 6:
				err = fake.RevokeDelegated(tenantA, appArg, res, user)
				if m.exists {
					delete(m.delegated, [2]string{res, user})
				}
			case 7:
				err = fake.AssignAppDirectoryRole(tenantA, appArg, roles.TemplateID(caseOf(string(dr), op)))
				if m.exists {
					m.dirRoles[dr] = true
				}
			case 8:
				err = fake.RemoveAppDirectoryRole(tenantA, appArg, dr)
				if m.exists {
					delete(m.dirRoles, dr)
				}
			}
			// Changes to an app without a service principal fail with ErrUnknown and change
			// nothing; everything else succeeds.
			if op%9 != 0 && !m.exists && err == nil && op%9 != 1 {
				t.Fatalf("op %d (%d) on an app without a service principal succeeded", i, op%9)
			}
			if m.exists && err != nil {
				t.Fatalf("op %d (%d): %v", i, op%9, err)
			}
		}
		for _, app := range apps {
			m := model[app]
			want := consent.AppState{TenantID: tenantA, AppID: app, Exists: m.exists}
			if m.exists {
				for k := range m.appRoles {
					want.AppRoleGrants = append(want.AppRoleGrants, consent.AppRoleGrant{ResourceAppID: k[0], AppRoleID: k[1]})
				}
				for k, sc := range m.delegated {
					g := consent.DelegatedGrant{ResourceAppID: k[0], ConsentType: consent.ConsentAllPrincipals, PrincipalID: k[1]}
					if k[1] != "" {
						g.ConsentType = consent.ConsentPrincipal
					}
					for s := range sc {
						g.Scopes = append(g.Scopes, s)
					}
					slices.Sort(g.Scopes)
					want.DelegatedGrants = append(want.DelegatedGrants, g)
				}
				for r := range m.dirRoles {
					want.DirectoryRoles = append(want.DirectoryRoles, r)
				}
				want.Normalize()
			}
			got, err := fake.AppState(context.Background(), tenantA, app)
			if err != nil {
				t.Fatal(err)
			}
			opts := cmp.Options{
				cmpopts.IgnoreFields(consent.AppState{}, "ServicePrincipal"),
				cmpopts.IgnoreFields(consent.AppRoleGrant{}, "AssignmentID", "CreatedAt"),
				cmpopts.IgnoreFields(consent.DelegatedGrant{}, "GrantID"),
				cmpopts.EquateEmpty(),
			}
			if diff := cmp.Diff(want, got, opts); diff != "" {
				t.Errorf("app %s: AppState differs from the model (-model +fake):\n%s", app, diff)
			}
		}
	})
}
