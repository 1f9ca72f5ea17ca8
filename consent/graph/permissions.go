package graph

import (
	"slices"
	"strings"
)

// ReaderRead is one Graph read (or write) the driver makes as its reading app, with the
// Microsoft Graph application permission that Microsoft documents for it and that the reading
// app is expected to hold.
type ReaderRead struct {
	// Operation is the driver method that makes the request, e.g. "AppState".
	Operation string
	// Request is the request, e.g. "GET /servicePrincipals(appId='{appId}')/oauth2PermissionGrants".
	Request string
	// Permissions are the application permissions the request needs, all of them (the sign-in
	// log needs two).
	Permissions []string
	// Doc is the page of microsoftgraph/microsoft-graph-docs-contrib that documents them.
	Doc string
	// Optional: the driver works without it; the operation then fails with consent.ErrForbidden
	// (could not check), e.g. assigning directory roles.
	Optional bool
}

// Permissions of the reading app. Directory.Read.All is documented as sufficient for every
// directory read below (each page lists it among the permissions that grant the call) and the
// sign-in log requires it anyway, so the reading app needs it rather than the narrower
// Application.Read.All, DelegatedPermissionGrant.Read.All, RoleManagement.Read.Directory and
// User.Read.All.
const (
	PermDirectoryReadAll              = "Directory.Read.All"
	PermAuditLogReadAll               = "AuditLog.Read.All"
	PermPolicyReadAll                 = "Policy.Read.All"
	PermRoleManagementReadWriteDirect = "RoleManagement.ReadWrite.Directory"
)

// readerReads is the reading app's contract with Microsoft Graph: each request the driver sends
// → the application permission Microsoft documents for it.
var readerReads = []ReaderRead{
	{"AppState", "GET /servicePrincipals?$filter=appId in (…)", []string{PermDirectoryReadAll}, "api-reference/v1.0/api/serviceprincipal-list.md", false},
	{"AppState", "GET /servicePrincipals(appId='{appId}')/appRoleAssignments", []string{PermDirectoryReadAll}, "api-reference/v1.0/api/serviceprincipal-list-approleassignments.md", false},
	{"AppState", "GET /servicePrincipals(appId='{appId}')/oauth2PermissionGrants", []string{PermDirectoryReadAll}, "api-reference/v1.0/api/serviceprincipal-list-oauth2permissiongrants.md", false},
	{"AppState", "GET /servicePrincipals(appId='{appId}')/memberOf/microsoft.graph.directoryRole", []string{PermDirectoryReadAll}, "api-reference/v1.0/api/serviceprincipal-list-memberof.md", false},
	{"AppState", "GET /servicePrincipals/{id}?$select=id,appId", []string{PermDirectoryReadAll}, "api-reference/v1.0/api/serviceprincipal-get.md", false},
	{"KeyCredentials", "GET /applications(appId='{appId}')?$select=keyCredentials", []string{PermDirectoryReadAll}, "api-reference/v1.0/api/application-get.md", false},
	{"UserState", "GET /users/{id | userPrincipalName}", []string{PermDirectoryReadAll}, "api-reference/v1.0/api/user-get.md", false},
	{"UserState", "GET /users/{id | userPrincipalName}/memberOf/microsoft.graph.directoryRole", []string{PermDirectoryReadAll}, "api-reference/v1.0/api/user-list-memberof.md", false},
	{"UserState", "GET /reports/authenticationMethods/userRegistrationDetails/{id}", []string{PermAuditLogReadAll}, "api-reference/v1.0/api/userregistrationdetails-get.md", false},
	{"UserState", "GET /beta/users/{id}/authentication/requirements", []string{PermPolicyReadAll}, "api-reference/beta/api/authentication-get.md", false},
	{"SignIns", "GET /auditLogs/signIns (v1.0 interactive, beta nonInteractiveUser)", []string{PermAuditLogReadAll, PermDirectoryReadAll}, "api-reference/v1.0/api/signin-list.md", false},
	{"AssignDirectoryRole", "GET /roleManagement/directory/roleAssignments?$filter=principalId eq '{id}'", []string{PermDirectoryReadAll}, "api-reference/v1.0/api/rbacapplication-list-roleassignments.md", true},
	{"AssignDirectoryRole", "POST /roleManagement/directory/roleAssignments", []string{PermRoleManagementReadWriteDirect}, "api-reference/v1.0/api/rbacapplication-post-roleassignments.md", true},
}

// ReaderReads returns the reading app's Graph requests with the permission each needs, in a
// stable order. The slice is a fresh copy.
func ReaderReads() []ReaderRead {
	out := slices.Clone(readerReads)
	for i := range out {
		out[i].Permissions = slices.Clone(out[i].Permissions)
	}
	return out
}

// ReaderPermissions returns the Microsoft Graph application permissions the reading app needs
// (Config.ReaderAppID), sorted: the union of ReaderReads. With optional false the permissions
// only optional operations need (assigning directory roles) are left out.
func ReaderPermissions(optional bool) []string {
	var out []string
	for _, r := range readerReads {
		if r.Optional && !optional {
			continue
		}
		for _, p := range r.Permissions {
			if !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
	}
	slices.SortFunc(out, strings.Compare)
	return out
}
