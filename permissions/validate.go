package permissions

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tenantapps/tenantapps/roles"
)

// isGUID reports whether s is a canonical lower-case GUID (8-4-4-4-12 hex digits), the form
// Entra returns for appIds, app role ids and scope ids.
func isGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
				return false
			}
		}
	}
	return true
}

type validator struct{ problems []Problem }

func (v *validator) addf(path, format string, args ...any) {
	v.problems = append(v.problems, Problem{Path: path, Message: fmt.Sprintf(format, args...)})
}

// permDef is what every use of one permission Key must agree on.
type permDef struct {
	id, resource, description, path string
}

// build validates f and turns it into a Catalog. It reports every problem it finds.
func build(f *catalogFile) (*Catalog, error) {
	v := &validator{}
	c := &Catalog{version: f.Version, serviceIndex: map[string]int{}, appTypeIndex: map[string]int{}}
	if strings.TrimSpace(f.Version) == "" {
		v.addf("version", "missing: give the catalog a version so changes can be diffed and reported")
	}

	// Sources.
	sourceFor := map[string]string{}
	for i, s := range f.Sources {
		p := fmt.Sprintf("sources[%d]", i)
		if !isGUID(s.ResourceAppID) {
			v.addf(p+".resourceAppId", "%q is not a lower-case GUID", s.ResourceAppID)
		}
		if strings.TrimSpace(s.Resource) == "" {
			v.addf(p+".resource", "missing resource name")
		}
		if _, dup := sourceFor[s.ResourceAppID]; dup {
			v.addf(p, "second source entry for resource %s; merge the references into one entry", s.ResourceAppID)
		}
		sourceFor[s.ResourceAppID] = s.Resource
		if len(s.References) == 0 {
			v.addf(p+".references", "no reference: cite where the IDs were taken from")
		}
		s.References = slices.Clone(s.References)
		c.sources = append(c.sources, s)
	}

	// Services.
	for i, s := range f.Services {
		p := fmt.Sprintf("services[%d]", i)
		if strings.TrimSpace(s.Name) == "" {
			v.addf(p+".name", "missing service name")
		}
		if !s.Family.Valid() {
			v.addf(p+".family", "family %q is not a family name: name one, e.g. elements-premium, aos or your own", string(s.Family))
		}
		for _, n := range append([]string{s.Name}, s.Aliases...) {
			k := normalize(n)
			if k == "" {
				continue
			}
			if j, dup := c.serviceIndex[k]; dup {
				v.addf(p, "name or alias %q already used by services[%d]", n, j)
				continue
			}
			c.serviceIndex[k] = i
		}
		c.services = append(c.services, s.clone())
	}

	// App types, first pass: names, so permissionsFrom can refer forward.
	for i, a := range f.AppTypes {
		p := fmt.Sprintf("appTypes[%d]", i)
		if strings.TrimSpace(a.Name) == "" {
			v.addf(p+".name", "missing app type name")
		}
		for _, n := range append([]string{a.Name}, a.Aliases...) {
			k := normalize(n)
			if k == "" {
				continue
			}
			if j, dup := c.appTypeIndex[k]; dup {
				v.addf(p, "name or alias %q already used by appTypes[%d]", n, j)
				continue
			}
			c.appTypeIndex[k] = i
		}
	}

	rules := v.consentRules(f.ConsentRules)
	c.consentRules = make([]ConsentRule, 0, len(f.ConsentRules))
	for _, r := range f.ConsentRules {
		c.consentRules = append(c.consentRules, r.clone())
	}
	defs := map[Key]permDef{}
	idUse := map[[3]string]string{} // (resourceAppId, type, id) → value
	resourceName := map[string]string{}
	for i, a := range f.AppTypes {
		c.appTypes = append(c.appTypes, v.appType(c, f, i, a, rules, defs, idUse, resourceName))
	}
	for appID, name := range resourceName {
		if len(f.Sources) > 0 {
			if src, ok := sourceFor[appID]; !ok {
				v.addf("sources", "no source cited for resource %s (%s)", name, appID)
			} else if src != name {
				v.addf("sources", "source names resource %s %q but permissions call it %q", appID, src, name)
			}
		}
	}
	for i, s := range c.services {
		used := false
		for _, a := range c.appTypes {
			if a.UsedBy(s.Name) {
				used = true
				break
			}
		}
		if !used && s.Name != "" {
			v.addf(fmt.Sprintf("services[%d]", i), "no app type serves %q; list it in an app type's services or remove it", s.Name)
		}
	}
	if len(v.problems) > 0 {
		return nil, &ValidationError{Problems: v.problems}
	}
	c.byKey = map[Key]Permission{}
	c.byID = map[idKey]Permission{}
	for _, a := range c.appTypes {
		for _, p := range a.Permissions {
			p = stripSeed(p)
			c.byKey[p.Key()] = p
			c.byID[idKey{p.ResourceAppID, p.Type, p.ID}] = p
		}
	}
	return c, nil
}

func (v *validator) appType(c *Catalog, f *catalogFile, i int, a appTypeJSON, rules map[string]ConsentRule, defs map[Key]permDef, idUse map[[3]string]string, resourceName map[string]string) AppType {
	p := fmt.Sprintf("appTypes[%d]", i)
	if a.Name != "" {
		p = fmt.Sprintf("appTypes[%d] (%s)", i, a.Name)
	}
	if !a.Family.Valid() {
		v.addf(p+".family", "family %q is not a family name: name one, e.g. elements-premium, aos or your own", string(a.Family))
	}
	if len(a.Services) == 0 {
		v.addf(p+".services", "no service uses this app type")
	}
	services := make([]string, 0, len(a.Services))
	for j, s := range a.Services {
		k, ok := c.serviceIndex[normalize(s)]
		if !ok {
			v.addf(fmt.Sprintf("%s.services[%d]", p, j), "unknown service %q: add it to services first", s)
			continue
		}
		svc := f.Services[k]
		if svc.Name != s {
			v.addf(fmt.Sprintf("%s.services[%d]", p, j), "%q is not the canonical service name; use %q", s, svc.Name)
		}
		if svc.Family != a.Family && svc.Family.Valid() && a.Family.Valid() {
			v.addf(fmt.Sprintf("%s.services[%d]", p, j), "service %q is %s but the app type is %s", s, svc.Family, a.Family)
		}
		if slices.Contains(services, svc.Name) {
			v.addf(fmt.Sprintf("%s.services[%d]", p, j), "service %q listed twice", s)
		}
		services = append(services, svc.Name)
	}
	if len(a.Modes) == 0 {
		v.addf(p+".modes", "no mode: use modern, classic, custom or delegated")
	}
	for j, m := range a.Modes {
		if !m.Valid() {
			v.addf(fmt.Sprintf("%s.modes[%d]", p, j), "unknown mode %q: use modern, classic, custom or delegated", string(m))
		} else if slices.Index(a.Modes, m) != j {
			v.addf(fmt.Sprintf("%s.modes[%d]", p, j), "mode %q listed twice", string(m))
		}
	}
	at := AppType{
		Name: a.Name, EntraAppName: a.EntraAppName, Aliases: slices.Clone(a.Aliases), Family: a.Family,
		Services: services, Modes: slices.Clone(a.Modes), Creatable: a.Creatable, UserConsent: a.UserConsent,
		Functions: slices.Clone(a.Functions), PermissionsState: a.PermissionsState, PermissionsFrom: a.PermissionsFrom,
		Notes: slices.Clone(a.Notes), AppID: a.AppID, UnsupportedToCreateNew: a.UnsupportedNew,
		PermissionSources: slices.Clone(a.Sources), PagesSearched: slices.Clone(a.PagesSearched),
	}
	for j, src := range a.Sources {
		if strings.TrimSpace(src.Title) == "" && strings.TrimSpace(src.URL) == "" {
			v.addf(fmt.Sprintf("%s.permissionSources[%d]", p, j), "name the page: a title or a URL")
		}
		if src.Stored != "" && src.Stored != "whole" && src.Stored != "cut" {
			v.addf(fmt.Sprintf("%s.permissionSources[%d].stored", p, j), "unknown %q: use whole or cut", src.Stored)
		}
	}
	if a.UnsupportedNew && a.Creatable {
		v.addf(p+".creatable", "an app type that is unsupported to create new cannot be creatable")
	}
	if a.PermissionsState == Partial && len(a.Sources) == 0 {
		v.addf(p+".permissionSources", "a partial permission list must cite the page(s) its rows come from")
	}
	if len(a.PagesSearched) > 0 && a.PermissionsState != Unpublished {
		v.addf(p+".pagesSearched", "only an unpublished list records the pages searched in vain; cite the pages in permissionSources")
	}
	if a.AppID != "" && !isGUID(a.AppID) {
		v.addf(p+".appId", "%q is not a lower-case GUID: give the vendor app's application (client) ID", a.AppID)
	}
	at.Consent = v.appConsent(p, a, services, rules)

	// Permissions.
	perms := a.Permissions
	switch a.PermissionsState {
	case Unpublished:
		if len(a.Permissions) > 0 {
			v.addf(p+".permissions", "permissionsState is unpublished but permissions are listed; set permissionsState to published or remove the rows")
		}
		if a.PermissionsFrom != "" {
			v.addf(p+".permissionsFrom", "permissionsState is unpublished but permissionsFrom names %q; set permissionsState to published or drop permissionsFrom", a.PermissionsFrom)
		}
	case Published, Partial:
		if a.PermissionsFrom != "" {
			k, ok := c.appTypeIndex[normalize(a.PermissionsFrom)]
			switch {
			case !ok:
				v.addf(p+".permissionsFrom", "unknown app type %q", a.PermissionsFrom)
			case k == i:
				v.addf(p+".permissionsFrom", "an app type cannot take its permissions from itself")
			case f.AppTypes[k].PermissionsFrom != "" || f.AppTypes[k].PermissionsState != a.PermissionsState:
				v.addf(p+".permissionsFrom", "%q must list its own %s permissions", a.PermissionsFrom, a.PermissionsState)
			default:
				src := f.AppTypes[k].Permissions
				at.PermissionsFrom = f.AppTypes[k].Name
				if len(a.Permissions) > 0 && !equalPermissions(a.Permissions, src) {
					v.addf(p+".permissions", "differs from the permissions of %q although permissionsFrom names it; remove the rows or make them identical", a.PermissionsFrom)
				}
				perms = src
			}
		} else if len(a.Permissions) == 0 {
			v.addf(p+".permissions", "permissionsState is %s but no permission is listed; use unpublished when the list is not known", a.PermissionsState)
		}
	default:
		v.addf(p+".permissionsState", "unknown state %q: use published, partial or unpublished", string(a.PermissionsState))
	}
	seen := map[Key]int{}
	for j, perm := range perms {
		pp := fmt.Sprintf("%s.permissions[%d]", p, j)
		if a.PermissionsFrom != "" && len(a.Permissions) == 0 {
			at.Permissions = append(at.Permissions, perm)
			continue // validated where it is defined
		}
		v.permission(pp, perm, defs, idUse, resourceName)
		if k, dup := seen[perm.Key()]; dup {
			v.addf(pp, "%s is listed twice (also permissions[%d])", perm, k)
		}
		seen[perm.Key()] = j
		at.Permissions = append(at.Permissions, perm)
	}
	if a.Shape != "" && a.Shape != at.Shape() {
		v.addf(p+".shape", "says %q but the permissions make it %q; shape is derived, drop the field or fix it", string(a.Shape), string(at.Shape()))
	}

	// Directory roles.
	for j, r := range a.DirectoryRoles {
		rp := fmt.Sprintf("%s.directoryRoles[%d]", p, j)
		role, ok := roles.LookupDirectoryRole(string(r.TemplateID))
		if !ok || role.TemplateID != r.TemplateID {
			v.addf(rp+".templateId", "%q is not a known Entra role template ID (see package roles)", string(r.TemplateID))
		} else if r.Name != "" && normalize(r.Name) != normalize(role.Name) {
			v.addf(rp+".name", "%q does not match template %s, which is %q", r.Name, r.TemplateID, role.Name)
		}
		if !r.Assignment.Valid() {
			v.addf(rp+".assignment", "unknown assignment %q: use %s, %s or %s", string(r.Assignment), roles.AutomaticWithin24h, roles.ManualBeforeAuthorization, roles.ManualAfterAuthorization)
		}
		if r.Condition != "" && r.Condition != roles.ManagesExchange {
			v.addf(rp+".condition", "unknown condition %q: use %s or none", string(r.Condition), roles.ManagesExchange)
		}
		req := roles.DirectoryRequirement{Role: r.TemplateID, Assignment: r.Assignment, Condition: r.Condition}
		if slices.Contains(at.DirectoryRoles, req) {
			v.addf(rp, "%s listed twice", req)
		}
		at.DirectoryRoles = append(at.DirectoryRoles, req)
	}

	// Azure roles.
	for j, r := range a.AzureRoles {
		rp := fmt.Sprintf("%s.azureRoles[%d]", p, j)
		switch r.Resource {
		case roles.Subscription, roles.AKSCluster, roles.KeyVault:
		default:
			v.addf(rp+".resource", "unknown Azure resource %q: use subscription, aks-cluster or key-vault", string(r.Resource))
		}
		switch r.Grant {
		case roles.RoleAssignment:
			if r.Role.Name() == string(r.Role) {
				v.addf(rp+".roleDefinitionId", "%q is not a known Azure role definition ID (see package roles)", string(r.Role))
			} else if r.RoleName != "" && r.RoleName != r.Role.Name() {
				v.addf(rp+".roleName", "%q does not match role definition %s, which is %q", r.RoleName, r.Role, r.Role.Name())
			}
		case roles.ClusterAdminGroup, roles.AccessPolicy:
			if r.Role != "" {
				v.addf(rp+".roleDefinitionId", "grant %s takes no role definition", r.Grant)
			}
		default:
			v.addf(rp+".grant", "unknown grant %q: use role-assignment, cluster-admin-group-membership or access-policy", string(r.Grant))
		}
		if r.Grant == roles.AccessPolicy && len(r.Permissions) == 0 {
			v.addf(rp+".permissions", "an access-policy grant must list its permissions, e.g. keys/get")
		}
		if r.Timing != roles.AfterConsentBeforeSave {
			v.addf(rp+".timing", "unknown timing %q: use %s", string(r.Timing), roles.AfterConsentBeforeSave)
		}
		at.AzureRoles = append(at.AzureRoles, roles.AzureRequirement{Resource: r.Resource, Condition: r.Condition, Grant: r.Grant, Role: r.Role, Permissions: slices.Clone(r.Permissions), Timing: r.Timing})
	}
	return at
}

func (v *validator) permission(pp string, perm Permission, defs map[Key]permDef, idUse map[[3]string]string, resourceName map[string]string) {
	if strings.TrimSpace(perm.Resource) == "" {
		v.addf(pp+".resource", "missing resource name")
	}
	if !isGUID(perm.ResourceAppID) {
		v.addf(pp+".resourceAppId", "%q is not a lower-case GUID", perm.ResourceAppID)
	}
	if perm.Value == "" || strings.ContainsFunc(perm.Value, func(r rune) bool { return r <= ' ' || r > '~' }) {
		v.addf(pp+".value", "%q is not a permission value (non-empty, printable ASCII, no spaces)", perm.Value)
	}
	if !isGUID(perm.ID) {
		v.addf(pp+".id", "%q is not a lower-case GUID; take the id from the resource's service principal, never invent one", perm.ID)
	}
	if !perm.Type.Valid() {
		v.addf(pp+".type", "unknown type %q: use Application or Delegated", string(perm.Type))
	}
	if strings.TrimSpace(perm.Description) == "" {
		v.addf(pp+".description", "missing Microsoft's description")
	}
	if perm.Since != "" {
		if _, err := time.Parse("2006-01", perm.Since); err != nil {
			v.addf(pp+".since", "%q is not a month: write it as YYYY-MM, e.g. 2023-10 for \"Last update: October 2023\"", perm.Since)
		}
	}
	if prev, ok := resourceName[perm.ResourceAppID]; ok && prev != perm.Resource {
		v.addf(pp+".resource", "resource %s is called %q here and %q elsewhere", perm.ResourceAppID, perm.Resource, prev)
	} else if !ok {
		resourceName[perm.ResourceAppID] = perm.Resource
	}
	k := perm.Key()
	if d, ok := defs[k]; ok {
		if d.id != perm.ID {
			v.addf(pp+".id", "%s has id %s here and %s at %s", perm, perm.ID, d.id, d.path)
		}
		if d.description != perm.Description {
			v.addf(pp+".description", "%s is described %q here and %q at %s", perm, perm.Description, d.description, d.path)
		}
	} else {
		defs[k] = permDef{id: perm.ID, resource: perm.Resource, description: perm.Description, path: pp}
	}
	idk := [3]string{perm.ResourceAppID, string(perm.Type), perm.ID}
	if prev, ok := idUse[idk]; ok && prev != perm.Value {
		v.addf(pp+".id", "id %s is %s here but %q elsewhere on the same resource", perm.ID, perm, prev)
	} else if !ok {
		idUse[idk] = perm.Value
	}
}

func equalPermissions(a, b []Permission) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		x, y = stripSeed(x), stripSeed(y)
		if x != y {
			return false
		}
	}
	return true
}
