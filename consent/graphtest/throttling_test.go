package graphtest_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/tenantapps/tenantapps/consent/graphtest"
)

// TestResourceUnitCost checks the cost table of throttling-limits.md (identity and access).
func TestResourceUnitCost(t *testing.T) {
	for _, tc := range []struct {
		method, path, query string
		want                int
	}{
		{http.MethodGet, "servicePrincipals/abc/appRoleAssignments", "", 2},
		{http.MethodGet, "servicePrincipals/abc/appRoleAssignments", "$select=id,appRoleId", 1},
		{http.MethodGet, "servicePrincipals/abc/oauth2PermissionGrants", "$select=id", 1},
		{http.MethodGet, "servicePrincipals/abc/memberOf/microsoft.graph.directoryRole", "$select=id", 1}, // unlisted 1, never below 1
		{http.MethodGet, "servicePrincipals", "$filter=appId eq 'x'&$select=id", 1},
		{http.MethodGet, "applications", "", 2},
		{http.MethodGet, "users", "$select=id", 1},
		{http.MethodGet, "users", "$top=10", 1},
		{http.MethodGet, "groups/g/members", "", 3},
		{http.MethodGet, "groups/g/members", "$expand=manager", 4},
		{http.MethodPost, "directoryObjects/getByIds", "", 5},
		{http.MethodPost, "roleManagement/directory/roleAssignments", "", 1},
	} {
		q, err := url.ParseQuery(tc.query)
		if err != nil {
			t.Fatal(err)
		}
		if got := graphtest.ResourceUnitCost(tc.method, tc.path, q); got != tc.want {
			t.Errorf("ResourceUnitCost(%s %s?%s) = %d, want %d", tc.method, tc.path, tc.query, got, tc.want)
		}
	}
}
