package graphtest

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/google/uuid"
)

// This file holds the request rules the emulator enforces because Microsoft documents them.
// Each rule names its source: a path in microsoftgraph/microsoft-graph-docs-contrib (Graph) or
// MicrosoftDocs/entra-docs (identity platform). The package documentation lists them all.

// permRule is the permission a Graph call needs: any one alternative, each of which must be held
// completely (the sign-in log needs AuditLog.Read.All and Directory.Read.All together).
type permRule [][]string

// anyOf is a rule satisfied by any single permission of perms.
func anyOf(perms ...string) permRule {
	out := make(permRule, len(perms))
	for i, p := range perms {
		out[i] = []string{p}
	}
	return out
}

var (
	// api-reference/v1.0/api/serviceprincipal-get.md, serviceprincipal-list.md,
	// serviceprincipal-list-approleassignments.md, serviceprincipal-list-memberof.md,
	// application-get.md: Application.Read.All least privileged; Directory.Read.All and the
	// ReadWrite permissions also grant it.
	readApps = anyOf("Application.Read.All", "Application.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All")
	// api-reference/v1.0/api/serviceprincipal-list-oauth2permissiongrants.md,
	// oauth2permissiongrant-list.md: DelegatedPermissionGrant.Read.All or Directory.Read.All.
	readGrants = anyOf("DelegatedPermissionGrant.Read.All", "DelegatedPermissionGrant.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All")
	// api-reference/v1.0/api/rbacapplication-list-roleassignments.md: RoleManagement.Read.Directory
	// least privileged; Directory.Read.All also reads.
	readRoles = anyOf("RoleManagement.Read.Directory", "RoleManagement.Read.All", "RoleManagement.ReadWrite.Directory", "Directory.Read.All", "Directory.ReadWrite.All")
	// api-reference/v1.0/api/rbacapplication-post-roleassignments.md: RoleManagement.ReadWrite.Directory.
	writeRoles = anyOf("RoleManagement.ReadWrite.Directory")
	// api-reference/v1.0/api/user-get.md, user-list-memberof.md: User.Read.All or Directory.Read.All.
	readUsers = anyOf("User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All")
	// api-reference/v1.0/api/userregistrationdetails-get.md: AuditLog.Read.All.
	readRegistration = anyOf("AuditLog.Read.All")
	// api-reference/v1.0/api/signin-list.md and api-reference/beta/api/signin-list.md:
	// "AuditLog.Read.All and Directory.Read.All" (a documented known issue requires both).
	readSignIns = permRule{{"AuditLog.Read.All", "Directory.Read.All"}, {"AuditLog.Read.All", "Directory.ReadWrite.All"}}
	// api-reference/beta/api/authentication-get.md ("Permissions to read per-user MFA state",
	// includes/permissions/authentication-get-3-permissions.md): Policy.Read.All least
	// privileged, Policy.ReadWrite.AuthenticationMethod higher.
	readMFARequirements = anyOf("Policy.Read.All", "Policy.ReadWrite.AuthenticationMethod")
	// api-reference/v1.0/api/organization-get.md.
	readOrg = anyOf("Organization.Read.All", "Directory.Read.All", "User.Read")
)

// requestRules applies the documented request-shape rules that do not depend on tenant data.
// refused is true when res is the error Graph answers.
func (s *Server) requestRules(method, rest string, segs []string, q url.Values, hdr http.Header) (res graphResult, refused bool) {
	if method != http.MethodGet || strings.HasPrefix(rest, "beta:") {
		return graphResult{}, false
	}
	// Rule: an OData cast on memberOf needs "ConsistencyLevel: eventual" and $count=true.
	// api-reference/v1.0/api/serviceprincipal-list-memberof.md and user-list-memberof.md
	// (Request headers: "This header and $count are required when using the $search, $filter,
	// $orderby, or OData cast query parameters"); concepts/aad-advanced-queries.md gives the
	// 400 Request_UnsupportedQuery answer. One example on the user page omits both: the docs
	// contradict themselves, so the emulator enforces the stricter reading and the driver sends
	// both, which satisfies either.
	for i, sg := range segs {
		if (sg == "memberOf" || sg == "transitiveMemberOf") && i+1 < len(segs) && strings.HasPrefix(segs[i+1], "microsoft.graph.") {
			if !strings.EqualFold(hdr.Get("ConsistencyLevel"), "eventual") || !strings.EqualFold(q.Get("$count"), "true") {
				return odataErr(http.StatusBadRequest, "Request_UnsupportedQuery",
					"An OData cast on "+sg+" is an advanced query: send the header 'ConsistencyLevel: eventual' and $count=true."), true
			}
		}
	}
	// Rule: userRegistrationDetails is keyed by the user's object ID.
	// api-reference/v1.0/api/userregistrationdetails-get.md: GET
	// /reports/authenticationMethods/userRegistrationDetails/{userId}, example with an object ID.
	if len(segs) == 4 && segs[0] == "reports" && segs[1] == "authenticationMethods" && segs[2] == "userRegistrationDetails" {
		if _, err := uuid.Parse(segs[3]); err != nil {
			return odataErr(http.StatusBadRequest, "BadRequest",
				"userRegistrationDetails is keyed by the user's object ID, not '"+segs[3]+"': resolve a userPrincipalName with GET /users/{userPrincipalName} first."), true
		}
	}
	return graphResult{}, false
}

// Sign-in event types of the beta signIn resource (api-reference/beta/resources/signin.md,
// signInEventTypes; entra-docs docs/identity/monitoring-health/concept-sign-ins.md).
const (
	eventInteractive    = "interactiveUser"
	eventNonInteractive = "nonInteractiveUser"
)

// eventTypeClause matches `signInEventTypes/any(t: t eq 'x')`, optionally parenthesized, the
// documented beta filter for sign-in event types.
var eventTypeClause = regexp.MustCompile(`(?i)\s*(?:and\s+)?\(?\s*signInEventTypes/any\(\s*(\w+)\s*:\s*(\w+)\s+eq\s+'(\w+)'\s*\)\s*\)?`)

// splitEventTypes removes the signInEventTypes clauses from a beta sign-in $filter and returns
// the event types they ask for. Without such a clause beta, like v1.0, returns interactive
// sign-ins only (api-reference/beta/api/signin-list.md; v1.0/api/signin-list.md: "Sign-ins that
// are interactive in nature ... are currently included").
func splitEventTypes(filter string) (rest string, types []string) {
	for _, m := range eventTypeClause.FindAllStringSubmatch(filter, -1) {
		if m[1] == m[2] {
			types = append(types, m[3])
		}
	}
	rest = strings.TrimSpace(eventTypeClause.ReplaceAllString(filter, ""))
	rest = strings.TrimSpace(strings.TrimPrefix(rest, "and "))
	if len(types) == 0 {
		types = []string{eventInteractive}
	}
	return rest, types
}

// entityContext is the @odata.context of a single-entity response
// (concepts/json-batching.md and every GET example of a single entity).
func entityContext(version, set string) string {
	return "https://graph.microsoft.com/" + version + "/$metadata#" + set + "/$entity"
}
