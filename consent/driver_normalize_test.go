package consent_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantapps/tenantapps/consent"
	"github.com/tenantapps/tenantapps/roles"
)

func TestAppStateNormalize(t *testing.T) {
	const (
		exo = consent.ExchangeOnlineAppID
		r1  = "7ab1d382-f21e-4acd-a863-ba3e13f7da61"
	)
	in := consent.AppState{
		Exists: true,
		AppRoleGrants: []consent.AppRoleGrant{
			{ResourceAppID: graph, AppRoleID: userReadAll, AssignmentID: "a"},
			{ResourceAppID: exo, AppRoleID: "dc890d15-9560-4a4c-9b7f-a736ec74ec40"},
			{ResourceAppID: graph, AppRoleID: r1},
			{ResourceAppID: graph, AppRoleID: "DF021288-BDEF-4463-88DB-98F22DE89214", AssignmentID: "b"},
		},
		DelegatedGrants: []consent.DelegatedGrant{
			{ResourceAppID: graph, ConsentType: consent.ConsentPrincipal, PrincipalID: "u2", Scopes: []string{"User.Read"}},
			{ResourceAppID: graph, ConsentType: consent.ConsentAllPrincipals, Scopes: []string{"User.Read", "openid", "Mail.Read", "user.read"}, GrantID: "g1"},
			{ResourceAppID: graph, ConsentType: consent.ConsentPrincipal, PrincipalID: "u1", Scopes: []string{"Files.Read"}},
			{ResourceAppID: graph, ConsentType: consent.ConsentAllPrincipals, Scopes: []string{"Calendars.Read"}, GrantID: "g2"},
		},
		DirectoryRoles: []roles.TemplateID{roles.SharePointAdministrator, roles.ExchangeAdministrator, "F28A1F50-F6E7-4571-818B-6A12F2AF6B6C"},
	}
	want := consent.AppState{
		Exists: true,
		AppRoleGrants: []consent.AppRoleGrant{
			{ResourceAppID: exo, AppRoleID: "dc890d15-9560-4a4c-9b7f-a736ec74ec40"},
			{ResourceAppID: graph, AppRoleID: r1},
			{ResourceAppID: graph, AppRoleID: "DF021288-BDEF-4463-88DB-98F22DE89214", AssignmentID: "b"},
		},
		DelegatedGrants: []consent.DelegatedGrant{
			{ResourceAppID: graph, ConsentType: consent.ConsentAllPrincipals, Scopes: []string{"Calendars.Read", "Mail.Read", "openid", "User.Read"}, GrantID: "g1"},
			{ResourceAppID: graph, ConsentType: consent.ConsentPrincipal, PrincipalID: "u1", Scopes: []string{"Files.Read"}},
			{ResourceAppID: graph, ConsentType: consent.ConsentPrincipal, PrincipalID: "u2", Scopes: []string{"User.Read"}},
		},
		DirectoryRoles: []roles.TemplateID{roles.ExchangeAdministrator, "F28A1F50-F6E7-4571-818B-6A12F2AF6B6C"},
	}
	got := in
	got.Normalize()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Normalize mismatch (-want +got):\n%s", diff)
	}
	again := got
	again.Normalize()
	if diff := cmp.Diff(got, again); diff != "" {
		t.Errorf("Normalize is not idempotent (-once +twice):\n%s", diff)
	}
	empty := consent.AppState{AppRoleGrants: []consent.AppRoleGrant{}, DelegatedGrants: []consent.DelegatedGrant{}, DirectoryRoles: []roles.TemplateID{}}
	empty.Normalize()
	if empty.AppRoleGrants != nil || empty.DelegatedGrants != nil || empty.DirectoryRoles != nil {
		t.Errorf("Normalize left empty non-nil slices: %#v", empty)
	}
}

func FuzzAppStateNormalize(f *testing.F) {
	f.Add([]byte("aAbB\x00\x01cC"), "User.Read user.read Mail.Read")
	f.Add([]byte{}, "")
	f.Fuzz(func(t *testing.T, data []byte, scopes string) {
		var st consent.AppState
		ids := []string{graph, "G", "g", "", userReadAll, "DF021288-BDEF-4463-88DB-98F22DE89214"}
		for i, b := range data {
			id := ids[int(b)%len(ids)]
			switch b % 3 {
			case 0:
				st.AppRoleGrants = append(st.AppRoleGrants, consent.AppRoleGrant{ResourceAppID: id, AppRoleID: ids[i%len(ids)]})
			case 1:
				ct := consent.ConsentAllPrincipals
				if b%2 == 0 {
					ct = consent.ConsentPrincipal
				}
				st.DelegatedGrants = append(st.DelegatedGrants, consent.DelegatedGrant{ResourceAppID: id, ConsentType: ct, PrincipalID: ids[i%len(ids)], Scopes: splitFields(scopes, i)})
			default:
				st.DirectoryRoles = append(st.DirectoryRoles, roles.TemplateID(id))
			}
		}
		st.Normalize()
		again := st
		again.AppRoleGrants = append([]consent.AppRoleGrant(nil), st.AppRoleGrants...)
		again.DelegatedGrants = append([]consent.DelegatedGrant(nil), st.DelegatedGrants...)
		again.DirectoryRoles = append([]roles.TemplateID(nil), st.DirectoryRoles...)
		again.Normalize()
		if diff := cmp.Diff(st, again); diff != "" {
			t.Errorf("Normalize is not idempotent (-once +twice):\n%s", diff)
		}
		for i := 1; i < len(st.AppRoleGrants); i++ {
			a, b := st.AppRoleGrants[i-1], st.AppRoleGrants[i]
			if equalFold(a.ResourceAppID, b.ResourceAppID) && equalFold(a.AppRoleID, b.AppRoleID) {
				t.Errorf("duplicate grant after Normalize: %+v", b)
			}
		}
		for _, g := range st.DelegatedGrants {
			for i := 1; i < len(g.Scopes); i++ {
				if equalFold(g.Scopes[i-1], g.Scopes[i]) {
					t.Errorf("duplicate scope after Normalize: %v", g.Scopes)
				}
			}
		}
	})
}

func splitFields(s string, n int) []string {
	f := strings.Fields(s)
	return f[:n%(len(f)+1)]
}

func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		ca, cb := a[i], b[i]
		if 'A' <= ca && ca <= 'Z' {
			ca += 'a' - 'A'
		}
		if 'A' <= cb && cb <= 'Z' {
			cb += 'a' - 'A'
		}
		if ca != cb {
			return false
		}
	}
	return true
}
