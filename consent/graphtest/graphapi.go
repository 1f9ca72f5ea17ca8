package graphtest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/tenantapps/tenantapps/roles"
)

// caller is the identity of a validated Graph bearer token.
type caller struct {
	tenant, appID, oid string
	app                bool // app-only token (idtyp app)
	perms              []string
}

// hasAll reports whether the caller holds one of rule's alternatives completely.
func (c *caller) hasAll(rule permRule) bool {
	for _, alt := range rule {
		ok := true
		for _, p := range alt {
			ok = ok && slices.Contains(c.perms, p)
		}
		if ok {
			return true
		}
	}
	return false
}

// graphResult is one Graph response, for a plain request or a $batch item.
type graphResult struct {
	status  int
	body    any
	headers map[string]string
}

func odataErr(status int, code, msg string) graphResult {
	return graphResult{status: status, body: map[string]any{"error": map[string]any{
		"code": code, "message": msg,
		"innerError": map[string]any{"date": time.Now().UTC().Format("2006-01-02T15:04:05"), "request-id": uuid.NewString()},
	}}}
}

func notFound(what string) graphResult {
	return odataErr(http.StatusNotFound, "Request_ResourceNotFound", fmt.Sprintf("Resource '%s' does not exist or one of its queried reference-property objects are not present.", what))
}

func forbidden() graphResult {
	return odataErr(http.StatusForbidden, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
}

// authenticate validates a Graph bearer token (signature, expiry, audience, tenant).
func (s *Server) authenticate(r *http.Request) (*caller, string) {
	return s.authenticateAudience(r, "https://graph.microsoft.com")
}

// authenticateAudience validates a bearer token for the resource with identifier URI aud.
func (s *Server) authenticateAudience(r *http.Request, wantAud string) (*caller, string) {
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || tok == "" {
		return nil, "Access token is empty."
	}
	p, err := parseJWT(tok)
	if err != nil {
		return nil, "Invalid JWT token. Token format not valid."
	}
	if p.hdr("alg") != "RS256" || p.verify(&s.signer.PublicKey) != nil {
		return nil, "Access token validation failure. Invalid signature."
	}
	if exp, ok := p.num("exp"); !ok || s.now().Unix() >= exp {
		return nil, "Lifetime validation failed, the token is expired."
	}
	if aud := p.str("aud"); aud != wantAud && !(wantAud == "https://graph.microsoft.com" && aud == MicrosoftGraphAppID) {
		return nil, "Invalid audience."
	}
	c := &caller{tenant: p.str("tid"), appID: p.str("appid"), oid: p.str("oid"), app: p.str("idtyp") == "app"}
	if rs, ok := p.Claims["roles"].([]any); ok {
		for _, r := range rs {
			if v, ok := r.(string); ok {
				c.perms = append(c.perms, v)
			}
		}
	}
	c.perms = append(c.perms, strings.Fields(p.str("scp"))...)
	s.mu.Lock()
	_, known := s.tenants[c.tenant]
	s.mu.Unlock()
	if !known {
		return nil, "The tenant of the token does not exist."
	}
	return c, ""
}

func (s *Server) serveGraph(w http.ResponseWriter, r *http.Request, rest string) {
	c, authErr := s.authenticate(r)
	tenant, client := unauthenticatedTenantLabel, ""
	if c != nil {
		tenant, client = c.tenant, c.appID
	}
	route := graphRoute(rest)
	s.count(route, tenant, client, false)
	defer s.enter(tenant)()
	if c == nil {
		w.Header().Set("WWW-Authenticate", `Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"`)
		writeODataError(w, r, http.StatusUnauthorized, "InvalidAuthenticationToken", authErr)
		return
	}
	done, truncate := s.applyFault(w, r, route, tenant, client, true)
	if done {
		return
	}
	if truncate {
		tw := &truncatingWriter{ResponseWriter: w}
		defer tw.flush()
		w = tw
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 8<<20))
	if err != nil {
		writeODataError(w, r, http.StatusBadRequest, "BadRequest", "The request body could not be read.")
		return
	}
	var res graphResult
	if route == RouteBatch {
		res = s.batch(r, c, body)
	} else if hdr, throttled := s.throttleGraph(c, r.Method, rest, r.URL.Query()); throttled != nil {
		res = *throttled
	} else {
		res = s.dispatch(c, r.Method, rest, r.URL.Query(), r.Header, body)
		res.headers = mergeHeaders(res.headers, hdr)
	}
	for k, v := range res.headers {
		w.Header().Set(k, v)
	}
	if res.status == http.StatusNoContent {
		w.WriteHeader(res.status)
		return
	}
	writeJSON(w, res.status, res.body)
}

// graphRoute names the route of a path relative to /v1.0/ ("beta:" prefixed for /beta/).
func graphRoute(rest string) string {
	if b, ok := strings.CutPrefix(rest, "beta:"); ok {
		if strings.HasPrefix(b, "users/") && strings.HasSuffix(b, "/authentication/requirements") {
			return RouteMFARequirements
		}
		if strings.HasPrefix(b, "auditLogs/signIns") {
			return RouteSignIns
		}
		return RouteUnknown
	}
	p, _, _ := strings.Cut(rest, "?")
	segs := strings.Split(strings.Trim(p, "/"), "/")
	head, _, _ := strings.Cut(segs[0], "(")
	switch head {
	case "$batch":
		return RouteBatch
	case "servicePrincipals":
		if len(segs) >= 2 {
			switch segs[1] {
			case "appRoleAssignments":
				return RouteAppRoleAssignments
			case "oauth2PermissionGrants":
				return RouteOAuth2Grants
			case "memberOf", "transitiveMemberOf":
				return RouteMemberOf
			}
			if len(segs) >= 3 {
				switch segs[2] {
				case "appRoleAssignments":
					return RouteAppRoleAssignments
				case "oauth2PermissionGrants":
					return RouteOAuth2Grants
				case "memberOf", "transitiveMemberOf":
					return RouteMemberOf
				}
			}
		}
		return RouteServicePrincipals
	case "oauth2PermissionGrants":
		return RouteOAuth2Grants
	case "roleManagement":
		return RouteRoleAssignments
	case "applications":
		return RouteApplications
	case "users", "me":
		if len(segs) >= 3 && (segs[2] == "memberOf" || segs[2] == "transitiveMemberOf") {
			return RouteMemberOf
		}
		if len(segs) >= 2 && (segs[1] == "memberOf" || segs[1] == "transitiveMemberOf") {
			return RouteMemberOf
		}
		return RouteUsers
	case "reports":
		return RouteRegistrationDetails
	case "auditLogs":
		return RouteSignIns
	case "organization":
		return RouteOrganization
	}
	return RouteUnknown
}

// keyed splits "servicePrincipals(appId='x')" into ("servicePrincipals", "appId", "x").
func keyed(seg string) (name, keyProp, keyVal string) {
	name, rest, ok := strings.Cut(seg, "(")
	if !ok || !strings.HasSuffix(rest, ")") {
		return seg, "", ""
	}
	rest = strings.TrimSuffix(rest, ")")
	prop, val, ok := strings.Cut(rest, "=")
	if !ok {
		return name, "id", strings.Trim(rest, "'")
	}
	return name, prop, strings.Trim(val, "'")
}

// dispatch serves one Graph request for the caller's tenant.
func (s *Server) dispatch(c *caller, method, rest string, q url.Values, hdr http.Header, body []byte) graphResult {
	p, _, _ := strings.Cut(rest, "?")
	segs := strings.Split(strings.Trim(p, "/"), "/")
	for i, sg := range segs {
		if u, err := url.PathUnescape(sg); err == nil {
			segs[i] = u
		}
	}
	if res, refused := s.requestRules(method, rest, segs, q, hdr); refused {
		return res
	}
	need := func(rule permRule) bool { return s.opts.SkipPermissionChecks || c.hasAll(rule) }
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tenants[c.tenant]
	if !ok {
		return odataErr(http.StatusUnauthorized, "InvalidAuthenticationToken", "The tenant of the token does not exist.")
	}
	if b, ok := strings.CutPrefix(rest, "beta:"); ok {
		bsegs := strings.Split(strings.Trim(b, "/"), "/")
		if len(bsegs) == 4 && bsegs[0] == "users" && bsegs[2] == "authentication" && bsegs[3] == "requirements" {
			if !need(readMFARequirements) {
				return forbidden()
			}
			key, _ := url.PathUnescape(bsegs[1])
			u := t.userLocked(key)
			if u == nil {
				return notFound(key)
			}
			state := "disabled"
			if u.MFARequired {
				state = "enforced"
			}
			return graphResult{status: http.StatusOK, body: map[string]any{
				"@odata.context":  "https://graph.microsoft.com/beta/$metadata#users('" + u.ID + "')/authentication/requirements/$entity",
				"perUserMfaState": state}}
		}
		if len(bsegs) == 2 && bsegs[0] == "auditLogs" && bsegs[1] == "signIns" {
			return s.betaSignInsLocked(t, c, q, b)
		}
		return odataErr(http.StatusBadRequest, "BadRequest", "The emulator serves only users/{id}/authentication/requirements and auditLogs/signIns on beta.")
	}
	filter, err := parseFilter(q.Get("$filter"))
	if err != nil {
		return odataErr(http.StatusBadRequest, "Request_UnsupportedQuery", "Unsupported or invalid query filter clause specified: "+err.Error())
	}
	head, prop, key := keyed(segs[0])
	get := method == http.MethodGet
	switch head {
	case "servicePrincipals":
		if !need(readApps) {
			return forbidden()
		}
		if key == "" && len(segs) > 1 {
			prop, key, segs = "id", segs[1], append(segs[:1:1], segs[2:]...)
		}
		if key == "" {
			if !get {
				return odataErr(http.StatusMethodNotAllowed, "Request_BadRequest", "Only GET is emulated on servicePrincipals.")
			}
			var items []map[string]any
			for _, sp := range sortedSPs(t) {
				items = append(items, spJSON(sp))
			}
			return s.collection(items, filter, q, "servicePrincipals", rest)
		}
		sp := findSP(t, prop, key)
		if sp == nil {
			return notFound(key)
		}
		if len(segs) == 1 {
			return graphResult{status: http.StatusOK, body: selectFields(withContext(spJSON(sp), entityContext("v1.0", "servicePrincipals")), q)}
		}
		switch segs[1] {
		case "appRoleAssignments":
			var items []map[string]any
			for _, a := range t.araList {
				if a.principalID == sp.id {
					items = append(items, araJSON(t, sp, a))
				}
			}
			return s.collection(items, filter, q, "servicePrincipals('"+sp.id+"')/appRoleAssignments", rest)
		case "oauth2PermissionGrants":
			if !need(readGrants) {
				return forbidden()
			}
			var items []map[string]any
			for _, g := range t.grants {
				if g.clientID == sp.id {
					items = append(items, grantJSON(g))
				}
			}
			return s.collection(items, filter, q, "oauth2PermissionGrants", rest)
		case "memberOf", "transitiveMemberOf":
			return s.collection(directoryRolesOf(t, sp.id, len(segs) > 2 && segs[2] != "microsoft.graph.directoryRole"), filter, q, "directoryObjects", rest)
		}
	case "oauth2PermissionGrants":
		if !need(readGrants) {
			return forbidden()
		}
		var items []map[string]any
		for _, g := range t.grants {
			items = append(items, grantJSON(g))
		}
		return s.collection(items, filter, q, "oauth2PermissionGrants", rest)
	case "roleManagement":
		if len(segs) < 3 || segs[1] != "directory" || segs[2] != "roleAssignments" {
			break
		}
		switch {
		case method == http.MethodPost && len(segs) == 3:
			if !need(writeRoles) {
				return forbidden()
			}
			return s.createRoleAssignmentLocked(t, body)
		case method == http.MethodDelete && len(segs) == 4:
			if !need(writeRoles) {
				return forbidden()
			}
			n := len(t.roleAsg)
			t.roleAsg = slices.DeleteFunc(t.roleAsg, func(r *roleAssignment) bool { return r.id == segs[3] })
			if n == len(t.roleAsg) {
				return notFound(segs[3])
			}
			return graphResult{status: http.StatusNoContent}
		case get && len(segs) == 3:
			if !need(readRoles) {
				return forbidden()
			}
			var items []map[string]any
			for _, r := range t.roleAsg {
				items = append(items, roleAssignmentJSON(r))
			}
			return s.collection(items, filter, q, "roleManagement/directory/roleAssignments", rest)
		}
	case "applications":
		if !need(readApps) {
			return forbidden()
		}
		if key == "" && len(segs) > 1 {
			prop, key = "id", segs[1]
		}
		var items []map[string]any
		for _, app := range s.sortedApps() {
			if app.HomeTenantID != t.ID {
				continue
			}
			if key != "" && !(prop == "appId" && strings.EqualFold(app.AppID, key)) && !(prop == "id" && strings.EqualFold(app.id, key)) {
				continue
			}
			items = append(items, appJSON(app, key != ""))
		}
		if key == "" {
			return s.collection(items, filter, q, "applications", rest)
		}
		if len(items) == 0 {
			return notFound(key)
		}
		return graphResult{status: http.StatusOK, body: selectFields(withContext(items[0], entityContext("v1.0", "applications")), q)}
	case "users", "me":
		userKey := ""
		if head == "me" {
			userKey = c.oid
			segs = append([]string{"users", c.oid}, segs[1:]...)
		} else if len(segs) > 1 {
			userKey = segs[1]
		}
		if userKey == "" {
			if !need(readUsers) {
				return forbidden()
			}
			var items []map[string]any
			for _, u := range sortedUsers(t) {
				items = append(items, userJSON(u))
			}
			return s.collection(items, filter, q, "users", rest)
		}
		if !(need(readUsers) || (!c.app && userKey == c.oid)) {
			return forbidden()
		}
		u := t.userLocked(userKey)
		if u == nil {
			return notFound(userKey)
		}
		if len(segs) == 2 {
			return graphResult{status: http.StatusOK, body: selectFields(withContext(userJSON(u), entityContext("v1.0", "users")), q)}
		}
		if segs[2] == "memberOf" || segs[2] == "transitiveMemberOf" {
			return s.collection(directoryRolesOf(t, u.ID, len(segs) > 3 && segs[3] != "microsoft.graph.directoryRole"), filter, q, "directoryObjects", rest)
		}
	case "reports":
		if len(segs) == 4 && segs[1] == "authenticationMethods" && segs[2] == "userRegistrationDetails" {
			if !need(readRegistration) {
				return forbidden()
			}
			u := t.userLocked(segs[3])
			if u == nil {
				return notFound(segs[3])
			}
			methods := []string{}
			if u.MFARegistered {
				methods = append(methods, "microsoftAuthenticatorPush")
			}
			return graphResult{status: http.StatusOK, body: map[string]any{
				"@odata.context": entityContext("v1.0", "reports/authenticationMethods/userRegistrationDetails"),
				"id":             u.ID, "userPrincipalName": u.UserPrincipalName, "userDisplayName": u.DisplayName,
				"isMfaRegistered": u.MFARegistered, "isMfaCapable": u.MFARegistered, "methodsRegistered": methods,
				"isAdmin": s.isConsentAdminLocked(t, u.ID),
			}}
		}
	case "auditLogs":
		if len(segs) == 2 && segs[1] == "signIns" {
			if !need(readSignIns) {
				return forbidden()
			}
			// v1.0 serves interactive sign-ins only (api-reference/v1.0/api/signin-list.md);
			// non-interactive ones are on beta with a signInEventTypes filter.
			var items []map[string]any
			for i := len(t.signIns) - 1; i >= 0; i-- {
				if !t.signIns[i].nonInteractive {
					items = append(items, signInJSON(t.signIns[i], false))
				}
			}
			return s.collection(items, filter, q, "auditLogs/signIns", rest)
		}
	case "organization":
		if !need(readOrg) {
			return forbidden()
		}
		return s.collection([]map[string]any{{
			"id": t.ID, "displayName": t.DisplayName,
			"verifiedDomains": []map[string]any{{"name": t.Domain, "isDefault": true, "isInitial": true, "type": "Managed", "capabilities": "Email, OfficeCommunicationsOnline"}},
		}}, filter, q, "organization", rest)
	}
	return odataErr(http.StatusBadRequest, "BadRequest", fmt.Sprintf("Resource not found for the segment '%s'.", segs[0]))
}

func (s *Server) createRoleAssignmentLocked(t *tenantState, body []byte) graphResult {
	var req struct {
		RoleDefinitionID string `json:"roleDefinitionId"`
		PrincipalID      string `json:"principalId"`
		DirectoryScopeID string `json:"directoryScopeId"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return odataErr(http.StatusBadRequest, "BadRequest", "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.")
	}
	// A roleDefinitionId that names no role definition is a 400 Request_BadRequest, the same
	// code as a conflicting assignment: Graph uses it generically, so a client must not read it
	// as "already assigned" (api-reference/v1.0/api/rbacapplication-post-roleassignments.md;
	// concepts/errors.md: 400 Bad Request "cannot process the request because it is malformed
	// or incorrect").
	if _, known := roles.LookupDirectoryRole(req.RoleDefinitionID); !known {
		return odataErr(http.StatusBadRequest, "Request_BadRequest", "Invalid value specified for property 'roleDefinitionId' of resource 'UnifiedRoleAssignment'.")
	}
	if req.DirectoryScopeID == "" {
		return odataErr(http.StatusBadRequest, "Request_BadRequest", "Either directoryScopeId or appScopeId must be specified.")
	}
	pid := strings.ToLower(req.PrincipalID)
	if _, isSP := t.sps[pid]; !isSP && t.userLocked(pid) == nil {
		return odataErr(http.StatusNotFound, "Request_ResourceNotFound", fmt.Sprintf("Resource '%s' does not exist or one of its queried reference-property objects are not present.", req.PrincipalID))
	}
	role := roles.TemplateID(strings.ToLower(req.RoleDefinitionID))
	for _, r := range t.roleAsg {
		if r.principalID == pid && r.role == role {
			return odataErr(http.StatusBadRequest, "Request_BadRequest", "A conflicting object with one or more of the specified property values is present in the directory.")
		}
	}
	r := s.assignRoleLocked(t, pid, role)
	out := roleAssignmentJSON(r)
	out["@odata.context"] = "https://graph.microsoft.com/v1.0/$metadata#roleManagement/directory/roleAssignments/$entity"
	return graphResult{status: http.StatusCreated, body: out}
}

// collection filters, projects and pages items. rest is the request path (for nextLink).
func (s *Server) collection(items []map[string]any, filter []filterClause, q url.Values, context, rest string) graphResult {
	var kept []map[string]any
	for _, it := range items {
		if matchFilter(it, filter) {
			kept = append(kept, it)
		}
	}
	size := s.opts.PageSize
	if top, err := strconv.Atoi(q.Get("$top")); err == nil && top > 0 && top < size {
		size = top
	}
	skip, _ := strconv.Atoi(q.Get("$skiptoken"))
	if skip < 0 || skip > len(kept) {
		skip = len(kept)
	}
	end := min(skip+size, len(kept))
	page := make([]map[string]any, 0, end-skip)
	for _, it := range kept[skip:end] {
		page = append(page, selectFields(it, q))
	}
	out := map[string]any{"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#" + context, "value": page}
	if strings.EqualFold(q.Get("$count"), "true") {
		// $count=true adds the collection's size (concepts/query-parameters.md, "count
		// parameter"; the memberOf examples show @odata.count).
		out["@odata.count"] = len(kept)
	}
	if end < len(kept) {
		nq := url.Values{}
		for k, v := range q {
			nq[k] = v
		}
		nq.Set("$skiptoken", strconv.Itoa(end))
		p, _, _ := strings.Cut(rest, "?")
		out["@odata.nextLink"] = s.URL + "/v1.0/" + strings.TrimPrefix(p, "/") + "?" + nq.Encode()
	}
	return graphResult{status: http.StatusOK, body: out}
}

func selectFields(obj map[string]any, q url.Values) map[string]any {
	sel := q.Get("$select")
	if sel == "" {
		return obj
	}
	out := map[string]any{}
	for k, v := range obj {
		if strings.HasPrefix(k, "@odata.") || k == "id" {
			out[k] = v
		}
	}
	for _, f := range strings.Split(sel, ",") {
		f = strings.TrimSpace(f)
		if v, ok := obj[f]; ok {
			out[f] = v
		}
	}
	return out
}

func sortedSPs(t *tenantState) []*servicePrincipal {
	out := make([]*servicePrincipal, 0, len(t.sps))
	for _, sp := range t.sps {
		out = append(out, sp)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

func sortedUsers(t *tenantState) []*userState {
	var out []*userState
	for _, u := range t.users {
		if !u.Deleted {
			out = append(out, u)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func (s *Server) sortedApps() []*application {
	out := make([]*application, 0, len(s.apps))
	for _, a := range s.apps {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].AppID < out[j].AppID })
	return out
}

func findSP(t *tenantState, prop, key string) *servicePrincipal {
	switch prop {
	case "appId":
		if id, ok := t.spByApp[strings.ToLower(key)]; ok {
			return t.sps[id]
		}
	case "id":
		return t.sps[strings.ToLower(key)]
	}
	return nil
}

func ts(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

func spJSON(sp *servicePrincipal) map[string]any {
	ars := []map[string]any{}
	for _, r := range sp.appRoles {
		ars = append(ars, map[string]any{"allowedMemberTypes": []string{"Application"}, "description": r.Value, "displayName": r.Value, "id": r.ID, "isEnabled": true, "origin": "Application", "value": r.Value})
	}
	scs := []map[string]any{}
	for _, sc := range sp.scopes {
		scs = append(scs, map[string]any{"adminConsentDescription": sc.Value, "adminConsentDisplayName": sc.Value, "id": sc.ID, "isEnabled": true, "type": sc.Type, "userConsentDescription": sc.Value, "userConsentDisplayName": sc.Value, "value": sc.Value})
	}
	return map[string]any{
		"id": sp.id, "appId": sp.appID, "displayName": sp.displayName, "appOwnerOrganizationId": sp.ownerTenant,
		"servicePrincipalType": "Application", "accountEnabled": sp.enabled, "createdDateTime": ts(sp.created),
		"appRoles": ars, "oauth2PermissionScopes": scs, "keyCredentials": []any{}, "passwordCredentials": []any{},
	}
}

func araJSON(t *tenantState, sp *servicePrincipal, a *appRoleAssignment) map[string]any {
	resName := ""
	if res, ok := t.sps[a.resourceID]; ok {
		resName = res.displayName
	}
	return map[string]any{
		"id": a.id, "createdDateTime": ts(a.created), "deletedDateTime": nil, "appRoleId": a.appRoleID,
		"principalId": a.principalID, "principalType": "ServicePrincipal", "principalDisplayName": sp.displayName,
		"resourceId": a.resourceID, "resourceDisplayName": resName,
	}
}

func grantJSON(g *oauth2Grant) map[string]any {
	var principal any
	if g.principalID != "" {
		principal = g.principalID
	}
	return map[string]any{"id": g.id, "clientId": g.clientID, "consentType": g.consentType, "principalId": principal,
		"resourceId": g.resourceID, "scope": " " + strings.Join(g.scopes, " ") + " "}
}

func roleAssignmentJSON(r *roleAssignment) map[string]any {
	return map[string]any{"id": r.id, "roleDefinitionId": string(r.role), "principalId": r.principalID, "directoryScopeId": "/"}
}

// directoryRolesOf lists the activated directoryRole objects the principal is a member of.
func directoryRolesOf(t *tenantState, principalID string, _ bool) []map[string]any {
	var out []map[string]any
	for _, r := range t.roleAsg {
		if r.principalID != principalID {
			continue
		}
		out = append(out, map[string]any{
			"@odata.type": "#microsoft.graph.directoryRole", "id": roleObjectID(t, r.role),
			"displayName": r.role.Name(), "roleTemplateId": string(r.role),
		})
	}
	return out
}

// roleObjectID derives a stable per-tenant object ID for an activated directory role.
func roleObjectID(t *tenantState, role roles.TemplateID) string {
	return uuid.NewSHA1(uuid.MustParse(t.ID), []byte(role)).String()
}

func appJSON(app *application, withKey bool) map[string]any {
	keys := []map[string]any{}
	for _, k := range app.keys {
		var keyB any
		if withKey {
			keyB = k.cert.Raw
		}
		keys = append(keys, map[string]any{
			"customKeyIdentifier": k.sha1[:20], "displayName": "CN=" + k.cert.Subject.CommonName,
			"endDateTime": ts(k.cert.NotAfter), "startDateTime": ts(k.cert.NotBefore), "key": keyB,
			"keyId": k.keyID, "type": "AsymmetricX509Cert", "usage": "Verify",
		})
	}
	return map[string]any{"id": app.id, "appId": app.AppID, "displayName": app.DisplayName,
		"signInAudience": "AzureADMultipleOrgs", "keyCredentials": keys, "web": map[string]any{"redirectUris": app.RedirectURIs}}
}

func userJSON(u *userState) map[string]any {
	lic := []map[string]any{}
	for _, l := range u.Licenses {
		lic = append(lic, map[string]any{"disabledPlans": []string{}, "skuId": l})
	}
	return map[string]any{
		"id": u.ID, "userPrincipalName": u.UserPrincipalName, "displayName": u.DisplayName,
		"accountEnabled": u.AccountEnabled, "lastPasswordChangeDateTime": ts(u.LastPasswordChange),
		"signInSessionsValidFromDateTime": ts(u.SessionsValidFrom), "assignedLicenses": lic,
	}
}

// signInJSON is a signIn as v1.0 (beta false) or beta serves it: beta adds signInEventTypes
// (api-reference/beta/resources/signin.md); isInteractive is in both schemas.
func signInJSON(si signIn, beta bool) map[string]any {
	reason := "Other."
	if si.errorCode == 0 {
		reason = ""
	}
	out := map[string]any{"id": si.id, "createdDateTime": ts(si.at), "userPrincipalName": si.upn, "userId": si.userID,
		"appId": si.appID, "ipAddress": si.ip, "conditionalAccessStatus": si.caStatus, "isInteractive": !si.nonInteractive,
		"status": map[string]any{"errorCode": si.errorCode, "failureReason": reason}}
	if beta {
		out["signInEventTypes"] = []string{si.eventType()}
	}
	return out
}

func (si signIn) eventType() string {
	if si.nonInteractive {
		return eventNonInteractive
	}
	return eventInteractive
}

func withContext(obj map[string]any, ctx string) map[string]any {
	obj["@odata.context"] = ctx
	return obj
}

// betaSignInsLocked serves GET /beta/auditLogs/signIns: the sign-ins of the event types the
// $filter's signInEventTypes clauses ask for (interactive only without one), newest first
// (api-reference/beta/api/signin-list.md).
func (s *Server) betaSignInsLocked(t *tenantState, c *caller, q url.Values, rest string) graphResult {
	if !s.opts.SkipPermissionChecks && !c.hasAll(readSignIns) {
		return forbidden()
	}
	f, types := splitEventTypes(q.Get("$filter"))
	filter, err := parseFilter(f)
	if err != nil {
		return odataErr(http.StatusBadRequest, "Request_UnsupportedQuery", "Unsupported or invalid query filter clause specified: "+err.Error())
	}
	var items []map[string]any
	for i := len(t.signIns) - 1; i >= 0; i-- {
		if slices.Contains(types, t.signIns[i].eventType()) {
			items = append(items, signInJSON(t.signIns[i], true))
		}
	}
	res := s.collection(items, filter, q, "auditLogs/signIns", rest)
	if m, ok := res.body.(map[string]any); ok {
		m["@odata.context"] = "https://graph.microsoft.com/beta/$metadata#auditLogs/signIns"
		if n, ok := m["@odata.nextLink"].(string); ok {
			m["@odata.nextLink"] = strings.Replace(n, "/v1.0/", "/beta/", 1)
		}
	}
	return res
}

// ---- $batch ----

type batchRequest struct {
	ID        string            `json:"id"`
	Method    string            `json:"method"`
	URL       string            `json:"url"`
	Headers   map[string]string `json:"headers"`
	Body      json.RawMessage   `json:"body"`
	DependsOn []string          `json:"dependsOn"`
}

const maxBatchRequests = 20

var errBatch = errors.New("invalid batch")

// parseBatch validates a JSON batch body: 1..20 requests, unique non-empty ids (case-insensitive),
// a method and a relative url, and dependsOn naming ids of the same batch.
func parseBatch(body []byte) ([]batchRequest, error) {
	var req struct {
		Requests []batchRequest `json:"requests"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, fmt.Errorf("%w: body is not JSON: %v", errBatch, err)
	}
	if len(req.Requests) == 0 {
		return nil, fmt.Errorf("%w: no requests", errBatch)
	}
	if len(req.Requests) > maxBatchRequests {
		return nil, fmt.Errorf("%w: %d requests; the maximum is %d", errBatch, len(req.Requests), maxBatchRequests)
	}
	ids := map[string]bool{}
	for _, it := range req.Requests {
		k := strings.ToLower(it.ID)
		if k == "" || ids[k] {
			return nil, fmt.Errorf("%w: request id %q is empty or not unique", errBatch, it.ID)
		}
		ids[k] = true
		if it.Method == "" || it.URL == "" {
			return nil, fmt.Errorf("%w: request %q needs a method and a url", errBatch, it.ID)
		}
	}
	for _, it := range req.Requests {
		for _, d := range it.DependsOn {
			if !ids[strings.ToLower(d)] || strings.EqualFold(d, it.ID) {
				return nil, fmt.Errorf("%w: request %q depends on unknown request %q", errBatch, it.ID, d)
			}
		}
	}
	return req.Requests, nil
}

func (s *Server) batch(r *http.Request, c *caller, body []byte) graphResult {
	if r.Method != http.MethodPost {
		return odataErr(http.StatusMethodNotAllowed, "BadRequest", "$batch accepts POST only.")
	}
	items, err := parseBatch(body)
	if err != nil {
		return odataErr(http.StatusBadRequest, "BadRequest", err.Error())
	}
	// Like Graph, items run concurrently unless dependsOn orders them: each wave runs every item
	// whose dependencies are answered, so a batch's latency is that of its slowest wave, not the
	// sum of its items'.
	status := map[string]int{}
	results := make([]graphResult, len(items))
	answered := make([]bool, len(items))
	for len(status) < len(items) {
		var wave []int
		for i, it := range items {
			if answered[i] {
				continue
			}
			ready := true
			for _, d := range it.DependsOn {
				if _, done := status[strings.ToLower(d)]; !done {
					ready = false
				}
			}
			if ready {
				wave = append(wave, i)
			}
		}
		if len(wave) == 0 {
			return odataErr(http.StatusBadRequest, "BadRequest", "The dependsOn graph of the batch has a cycle.")
		}
		var wg sync.WaitGroup
		for _, i := range wave {
			it := items[i]
			failedDep := false
			for _, d := range it.DependsOn {
				if status[strings.ToLower(d)] >= 400 {
					failedDep = true
				}
			}
			if failedDep {
				results[i] = odataErr(http.StatusFailedDependency, "FailedDependency", "The dependent request failed.")
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i] = s.batchItem(c, it)
			}()
		}
		wg.Wait()
		for _, i := range wave {
			answered[i] = true
			status[strings.ToLower(items[i].ID)] = results[i].status
		}
	}
	responses := make([]map[string]any, 0, len(items))
	for i, it := range items {
		res := results[i]
		hdr := map[string]string{"Content-Type": "application/json; odata.metadata=minimal; odata.streaming=true; IEEE754Compatible=false; charset=utf-8"}
		for hk, hv := range res.headers {
			hdr[hk] = hv
		}
		item := map[string]any{"id": it.ID, "status": res.status, "headers": hdr}
		if res.body != nil {
			item["body"] = res.body
		}
		responses = append(responses, item)
	}
	return graphResult{status: http.StatusOK, body: map[string]any{"responses": responses}}
}

func (s *Server) batchItem(c *caller, it batchRequest) graphResult {
	u, err := url.Parse(it.URL)
	if err != nil || u.IsAbs() {
		return odataErr(http.StatusBadRequest, "BadRequest", "Invalid batch request URL: use a URL relative to the version, e.g. /users.")
	}
	rest := strings.TrimPrefix(u.Path, "/")
	rest = strings.TrimPrefix(rest, "v1.0/")
	route := graphRoute(rest)
	s.count(route, c.tenant, c.appID, true)
	if f := s.pickFault(route, c.tenant); f != nil {
		s.countFault(route, f.Kind)
		switch f.Kind {
		case FaultThrottle:
			s.announceRetryAfter(c.tenant, c.appID, f.RetryAfter)
			res := odataErr(http.StatusTooManyRequests, "TooManyRequests", "Too many requests. Please retry again later.")
			res.headers = map[string]string{"Retry-After": retryAfterHeader(f.RetryAfter)}
			return res
		case FaultUnavailable:
			s.announceRetryAfter(c.tenant, c.appID, f.RetryAfter)
			res := odataErr(http.StatusServiceUnavailable, "ServiceUnavailable", "The service is temporarily unavailable.")
			res.headers = map[string]string{"Retry-After": retryAfterHeader(f.RetryAfter)}
			return res
		case FaultGatewayTimeout:
			return odataErr(http.StatusGatewayTimeout, "GatewayTimeout", "The gateway timed out.")
		case FaultForbidden:
			return forbidden()
		case FaultErrorWithoutMessage:
			return graphResult{status: http.StatusBadRequest, body: map[string]any{"error": map[string]any{"code": "Request_BadRequest"}}}
		case FaultLatency:
			time.Sleep(f.Latency)
		}
	}
	var body []byte
	if len(it.Body) > 0 && string(it.Body) != "null" {
		body = it.Body
	}
	// Each item is throttled on its own (throttling.go).
	extra, throttled := s.throttleGraph(c, strings.ToUpper(it.Method), rest, u.Query())
	if throttled != nil {
		return *throttled
	}
	hdr := http.Header{}
	for k, v := range it.Headers {
		hdr.Set(k, v)
	}
	res := s.dispatch(c, strings.ToUpper(it.Method), rest, u.Query(), hdr, body)
	res.headers = mergeHeaders(res.headers, extra)
	return res
}
