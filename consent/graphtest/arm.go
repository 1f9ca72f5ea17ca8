package graphtest

import (
	"net/http"
	"slices"
	"strings"

	"github.com/google/uuid"
)

// serveARM serves GET {scope}/providers/Microsoft.Authorization/roleAssignments with
// $filter=principalId eq '…': the principal's role assignments at, above and below the scope, in
// Azure Resource Manager's JSON shape. Tokens must have the ARM audience.
func (s *Server) serveARM(w http.ResponseWriter, r *http.Request, rest string) {
	c, authErr := s.authenticateAudience(r, "https://management.azure.com")
	tenant, client := unauthenticatedTenantLabel, ""
	if c != nil {
		tenant, client = c.tenant, c.appID
	}
	s.count(RouteARMRoleAssignments, tenant, client, false)
	if c == nil {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"error": map[string]any{"code": "InvalidAuthenticationToken", "message": authErr}})
		return
	}
	if done, _ := s.applyFault(w, r, RouteARMRoleAssignments, tenant, client, true); done {
		return
	}
	if strings.Trim(rest, "/") == "subscriptions" && r.Method == http.MethodGet {
		s.serveSubscriptions(w, c.tenant)
		return
	}
	scope, ok := strings.CutSuffix("/"+strings.Trim(rest, "/"), "/providers/Microsoft.Authorization/roleAssignments")
	if !ok || r.Method != http.MethodGet {
		writeJSON(w, http.StatusNotFound, map[string]any{"error": map[string]any{"code": "InvalidResourceType", "message": "The emulator serves GET {scope}/providers/Microsoft.Authorization/roleAssignments only."}})
		return
	}
	if r.URL.Query().Get("api-version") == "" {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": map[string]any{"code": "MissingApiVersionParameter", "message": "The api-version query parameter (?api-version=) is required for all requests."}})
		return
	}
	filter, err := parseFilter(r.URL.Query().Get("$filter"))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": map[string]any{"code": "InvalidFilter", "message": err.Error()}})
		return
	}
	s.mu.Lock()
	t, ok := s.tenants[c.tenant]
	var items []map[string]any
	if ok {
		ls := strings.ToLower(scope)
		for k := range t.azure {
			ks := strings.ToLower(k.scope)
			related := ks == ls || strings.HasPrefix(ks, ls+"/") || strings.HasPrefix(ls, ks+"/")
			if !related {
				continue
			}
			sub := ks
			if parts := strings.SplitN(strings.TrimPrefix(ks, "/"), "/", 3); len(parts) >= 2 {
				sub = "/" + parts[0] + "/" + parts[1]
			}
			name := uuid.NewSHA1(uuid.NameSpaceURL, []byte(k.principalID+k.scope+string(k.role))).String()
			item := map[string]any{
				"id": k.scope + "/providers/Microsoft.Authorization/roleAssignments/" + name, "type": "Microsoft.Authorization/roleAssignments", "name": name,
				"properties": map[string]any{
					"roleDefinitionId": sub + "/providers/Microsoft.Authorization/roleDefinitions/" + string(k.role),
					"principalId":      k.principalID, "principalType": "ServicePrincipal", "scope": k.scope,
				},
				"principalId": k.principalID, // flattened for $filter matching; ARM filters server-side
			}
			if matchFilter(item, filter) {
				delete(item, "principalId")
				items = append(items, item)
			}
		}
	}
	s.mu.Unlock()
	slices.SortFunc(items, func(a, b map[string]any) int { return strings.Compare(a["id"].(string), b["id"].(string)) })
	if items == nil {
		items = []map[string]any{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"value": items})
}

// serveSubscriptions lists the subscriptions of the tenant: those named by any Azure role
// assignment recorded in it (AssignAzureRole).
func (s *Server) serveSubscriptions(w http.ResponseWriter, tenant string) {
	s.mu.Lock()
	seen := map[string]bool{}
	if t, ok := s.tenants[tenant]; ok {
		for k := range t.azure {
			parts := strings.SplitN(strings.TrimPrefix(k.scope, "/"), "/", 3)
			if len(parts) >= 2 && strings.EqualFold(parts[0], "subscriptions") {
				seen[strings.ToLower(parts[1])] = true
			}
		}
	}
	s.mu.Unlock()
	ids := make([]string, 0, len(seen))
	for id := range seen {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	value := []map[string]any{}
	for _, id := range ids {
		value = append(value, map[string]any{"id": "/subscriptions/" + id, "subscriptionId": id, "tenantId": tenant,
			"displayName": "Subscription " + id[:min(8, len(id))], "state": "Enabled"})
	}
	writeJSON(w, http.StatusOK, map[string]any{"value": value})
}
