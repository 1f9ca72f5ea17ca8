package permissions

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/tenantapps/tenantapps/roles"
)

//go:embed catalog.json
var defaultCatalogJSON []byte

// defaultCatalog parses the embedded catalog once; the result is never modified.
var defaultCatalog = sync.OnceValues(func() (*Catalog, error) { return Load(defaultCatalogJSON) })

// Default returns the catalog embedded in this package (catalog.json), parsed on first use.
// The same *Catalog is returned every time; it is immutable and safe for concurrent use.
// Default panics only if the embedded data is invalid, which the package's tests rule out.
func Default() *Catalog {
	c, err := defaultCatalog()
	if err != nil {
		panic("permissions: embedded catalog.json is invalid: " + err.Error())
	}
	return c
}

// DefaultJSON returns a copy of the embedded catalog file exactly as shipped.
func DefaultJSON() []byte { return slices.Clone(defaultCatalogJSON) }

// Catalog is one version of the permission catalog: services, app types, their permissions and
// role requirements, and the sources of every ID. A Catalog is immutable after Load; all of its
// methods are safe for concurrent use and return copies.
type Catalog struct {
	version  string
	sources  []Source
	services []Service
	appTypes []AppType
	// consentRules are the rules app types reference in Consent.
	consentRules []ConsentRule
	// index: normalized name or alias → position.
	serviceIndex map[string]int
	appTypeIndex map[string]int
	// byKey and byID index every distinct permission the app types request.
	byKey map[Key]Permission
	byID  map[idKey]Permission
}

type idKey struct {
	resourceAppID string
	kind          Kind
	id            string
}

// Source cites where a resource's appId and permission IDs were taken from.
type Source struct {
	Resource      string `json:"resource"`
	ResourceAppID string `json:"resourceAppId"`
	// ServicePrincipalDisplayName is the resource service principal's displayName in Entra,
	// which can differ from the API picker's name (e.g. "Azure Resource Manager" for
	// "Azure Service Management").
	ServicePrincipalDisplayName string      `json:"servicePrincipalDisplayName,omitempty"`
	References                  []Reference `json:"references"`
}

// Reference is one published document: repository + commit + path, or a URL.
type Reference struct {
	Repository string `json:"repository,omitempty"`
	Commit     string `json:"commit,omitempty"`
	Path       string `json:"path,omitempty"`
	URL        string `json:"url,omitempty"`
	Note       string `json:"note,omitempty"`
}

// Version returns the catalog's version string (opaque; compare for equality).
func (c *Catalog) Version() string { return c.version }

// Sources returns the citations for every resource in the catalog.
func (c *Catalog) Sources() []Source {
	out := slices.Clone(c.sources)
	for i := range out {
		out[i].References = slices.Clone(out[i].References)
	}
	return out
}

// Services returns every service, Elements premium first, in catalog order.
func (c *Catalog) Services() []Service {
	out := make([]Service, len(c.services))
	for i, s := range c.services {
		out[i] = s.clone()
	}
	return out
}

// AppTypes returns every app type in catalog order.
func (c *Catalog) AppTypes() []AppType {
	out := make([]AppType, len(c.appTypes))
	for i, a := range c.appTypes {
		out[i] = a.clone()
	}
	return out
}

// Service looks a service up by name or alias, ignoring case and repeated spaces. The error
// wraps ErrUnknownService and lists the valid names.
func (c *Catalog) Service(name string) (Service, error) {
	if i, ok := c.serviceIndex[normalize(name)]; ok {
		return c.services[i].clone(), nil
	}
	var names, members []string
	for _, s := range c.services {
		names = append(names, s.Name)
		if s.Group != "" && normalize(s.Group) == normalize(name) {
			members = append(members, s.Name)
		}
	}
	if len(members) > 0 {
		// A group such as "Other premium services" is not a service; name its members.
		return Service{}, &NotFoundError{Kind: "service", Name: name, Valid: members, Group: true, err: ErrUnknownService}
	}
	return Service{}, &NotFoundError{Kind: "service", Name: name, Valid: names, err: ErrUnknownService}
}

// AppType looks an app type up by name or alias (e.g. "Custom app with delegated
// permissions"), ignoring case and repeated spaces. The error wraps ErrUnknownAppType and lists
// the valid names.
func (c *Catalog) AppType(name string) (AppType, error) {
	if i, ok := c.appTypeIndex[normalize(name)]; ok {
		return c.appTypes[i].clone(), nil
	}
	return AppType{}, &NotFoundError{Kind: "app type", Name: name, Valid: c.appTypeNames(), err: ErrUnknownAppType}
}

func (c *Catalog) appTypeNames() []string {
	names := make([]string, len(c.appTypes))
	for i, a := range c.appTypes {
		names[i] = a.Name
	}
	return names
}

// AppTypesFor returns the app types that serve the service in mode, in catalog order. An empty
// mode matches every mode. It returns an error wrapping ErrUnknownService for an unknown
// service and ErrUnknownMode for an invalid mode; a known service with no app type in that mode
// yields an empty slice and no error (e.g. Nitro has no custom mode).
func (c *Catalog) AppTypesFor(service string, mode Mode) ([]AppType, error) {
	s, err := c.Service(service)
	if err != nil {
		return nil, err
	}
	if mode != "" && !mode.Valid() {
		return nil, fmt.Errorf("%w %q: use one of modern, classic, custom, delegated", ErrUnknownMode, string(mode))
	}
	var out []AppType
	for _, a := range c.appTypes {
		if a.UsedBy(s.Name) && (mode == "" || a.HasMode(mode)) {
			out = append(out, a.clone())
		}
	}
	return out, nil
}

// CreatableFor returns the app types a new profile for the service can be created with on the
// Elements customer app profile page (Creatable), in catalog order: for Elements premium
// services their modern and custom apps, for the AOS services seed 000 lists only vendor apps
// in modern setup (modern or delegated mode), and none for AOS services that page does not
// offer. The error wraps ErrUnknownService.
func (c *Catalog) CreatableFor(service string) ([]AppType, error) {
	all, err := c.AppTypesFor(service, "")
	if err != nil {
		return nil, err
	}
	var out []AppType
	for _, a := range all {
		if a.Creatable {
			out = append(out, a)
		}
	}
	return out, nil
}

// Resources returns every resource API the catalog references with the distinct permissions
// requested on it (each Key once, in first-use order): what a tenant's resource service
// principals must expose. Emulators use it to publish appRoles and oauth2PermissionScopes.
func (c *Catalog) Resources() []Resource {
	var out []Resource
	pos := map[string]int{}
	seen := map[Key]bool{}
	for _, a := range c.appTypes {
		for _, p := range a.Permissions {
			i, ok := pos[p.ResourceAppID]
			if !ok {
				i = len(out)
				pos[p.ResourceAppID] = i
				out = append(out, Resource{Name: p.Resource, AppID: p.ResourceAppID})
			}
			if !seen[p.Key()] {
				seen[p.Key()] = true
				out[i].Permissions = append(out[i].Permissions, stripSeed(p))
			}
		}
	}
	return out
}

// Lookup returns the permission with key k if any app type in the catalog requests it. The
// returned Permission carries Microsoft's ID and description, without seed fields.
func (c *Catalog) Lookup(k Key) (Permission, bool) {
	p, ok := c.byKey[k]
	return p, ok
}

// LookupID returns the permission that a grant names by GUID: an appRoleAssignment's appRoleId
// (kind Application) or an oauth2PermissionScope id (kind Delegated) on the resource with appId
// resourceAppID. IDs compare case-insensitively. ok is false when no app type in the catalog
// requests such a permission.
func (c *Catalog) LookupID(resourceAppID string, kind Kind, id string) (Permission, bool) {
	p, ok := c.byID[idKey{strings.ToLower(resourceAppID), kind, strings.ToLower(id)}]
	return p, ok
}

// Resource is one resource API (its service principal in every tenant) and the permissions the
// catalog requests on it.
type Resource struct {
	// Name is the API's name as the seeds and the Entra API picker show it, e.g. "SharePoint".
	Name string
	// AppID is the resource application's appId, e.g. 00000003-0000-0ff1-ce00-000000000000.
	AppID string
	// Permissions are the distinct permissions requested on it, without seed fields.
	Permissions []Permission
}

// Errors returned by lookups and Load. Check them with errors.Is.
var (
	// ErrUnknownAppType: no app type has that name or alias.
	ErrUnknownAppType = errors.New("permissions: unknown app type")
	// ErrUnknownService: no service has that name or alias.
	ErrUnknownService = errors.New("permissions: unknown service")
	// ErrUnknownMode: the mode is not modern, classic, custom or delegated.
	ErrUnknownMode = errors.New("permissions: unknown mode")
	// ErrInvalidCatalog: Load rejected the data; errors.As to *ValidationError for every problem.
	ErrInvalidCatalog = errors.New("permissions: invalid catalog")
)

// NotFoundError is returned by Catalog.Service and Catalog.AppType. It wraps ErrUnknownService
// or ErrUnknownAppType.
type NotFoundError struct {
	Kind  string   // "service" or "app type"
	Name  string   // the name asked for
	Valid []string // the canonical names that exist (for a group: its member services)
	// Group is true when Name is a group of services (e.g. "Other premium services") rather than
	// a service; Valid then lists the group's services.
	Group bool
	err   error
}

func (e *NotFoundError) Error() string {
	if e.Group {
		return fmt.Sprintf("permissions: %q is a group of services, not a service; use one of: %s", e.Name, strings.Join(e.Valid, ", "))
	}
	return fmt.Sprintf("permissions: unknown %s %q; use one of: %s", e.Kind, e.Name, strings.Join(e.Valid, ", "))
}

func (e *NotFoundError) Unwrap() error { return e.err }

// ValidationError lists every problem Load found. It wraps ErrInvalidCatalog.
type ValidationError struct {
	Problems []Problem
}

// Problem is one defect in catalog data: where (a JSON-path-like location) and what.
type Problem struct {
	Path    string `json:"path"`
	Message string `json:"message"`
}

func (p Problem) String() string { return p.Path + ": " + p.Message }

const maxProblemsInMessage = 20

func (e *ValidationError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "permissions: invalid catalog, %d problem(s); fix them and load again:", len(e.Problems))
	for i, p := range e.Problems {
		if i == maxProblemsInMessage {
			fmt.Fprintf(&b, "\n  … and %d more", len(e.Problems)-i)
			break
		}
		b.WriteString("\n  ")
		b.WriteString(p.String())
	}
	return b.String()
}

func (e *ValidationError) Unwrap() error { return ErrInvalidCatalog }

// Parse reads a catalog in the JSON format of MarshalJSON from r and validates it like Load.
func Parse(r io.Reader) (*Catalog, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("permissions: reading catalog: %w", err)
	}
	return Load(data)
}

// Load parses and validates a catalog in the JSON format that MarshalJSON writes (see the
// package documentation). Unknown fields are rejected (they are usually typos). Every problem
// is reported at once in a *ValidationError wrapping ErrInvalidCatalog: GUID shape, unknown
// services, modes, role template IDs and Azure roles, duplicate names, duplicate permissions
// per (resourceAppId, type, value), one permission with two IDs, unpublished app types with
// permission rows, services no app type serves, and so on. "sources" may be empty; when it is
// not, every resource the permissions use must be cited there. The returned Catalog shares no
// memory with data.
func Load(data []byte) (*Catalog, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f catalogFile
	if err := dec.Decode(&f); err != nil {
		return nil, &ValidationError{Problems: []Problem{{Path: "$", Message: "not a catalog JSON document: " + err.Error()}}}
	}
	if dec.More() {
		return nil, &ValidationError{Problems: []Problem{{Path: "$", Message: "trailing data after the catalog JSON object"}}}
	}
	return build(&f)
}

// MarshalJSON writes the catalog in its stable, documented export format (see the package
// documentation). Load(MarshalJSON()) yields an equal catalog.
func (c *Catalog) MarshalJSON() ([]byte, error) {
	return json.Marshal(c.file())
}

// catalogFile is the JSON document, both the embedded data and the export.
type catalogFile struct {
	Version  string    `json:"version"`
	Sources  []Source  `json:"sources"`
	Services []Service `json:"services"`
	// ConsentRules may be omitted by an overlay that only references the default catalog's.
	ConsentRules []ConsentRule `json:"consentRules,omitempty"`
	AppTypes     []appTypeJSON `json:"appTypes"`
}

type appTypeJSON struct {
	Name             string              `json:"name"`
	EntraAppName     string              `json:"entraAppName,omitempty"`
	Aliases          []string            `json:"aliases,omitempty"`
	Family           Family              `json:"family"`
	Services         []string            `json:"services"`
	Modes            []Mode              `json:"modes"`
	Creatable        bool                `json:"creatable"`
	UserConsent      bool                `json:"userConsent"`
	AppID            string              `json:"appId,omitempty"`
	Consent          *AppConsent         `json:"consent"`
	UnsupportedNew   bool                `json:"unsupportedToCreateNew,omitempty"`
	Functions        []string            `json:"functions,omitempty"`
	PermissionsState PermissionsState    `json:"permissionsState"`
	Shape            Shape               `json:"shape,omitempty"`
	PermissionsFrom  string              `json:"permissionsFrom,omitempty"`
	Permissions      []Permission        `json:"permissions"`
	DirectoryRoles   []directoryRoleJSON `json:"directoryRoles"`
	AzureRoles       []azureRoleJSON     `json:"azureRoles"`
	Notes            []string            `json:"notes,omitempty"`
	Sources          []PermissionSource  `json:"permissionSources,omitempty"`
	PagesSearched    []string            `json:"pagesSearched,omitempty"`
}

type directoryRoleJSON struct {
	Name       string           `json:"name,omitempty"`
	TemplateID roles.TemplateID `json:"templateId"`
	Assignment roles.Assignment `json:"assignment"`
	Condition  roles.Condition  `json:"condition,omitempty"`
}

type azureRoleJSON struct {
	Resource    roles.AzureResource  `json:"resource"`
	Condition   roles.AzureCondition `json:"condition,omitempty"`
	Grant       roles.AzureGrant     `json:"grant"`
	Role        roles.AzureRoleID    `json:"roleDefinitionId,omitempty"`
	RoleName    string               `json:"roleName,omitempty"`
	Permissions []string             `json:"permissions,omitempty"`
	Timing      roles.AzureTiming    `json:"timing"`
}

func (c *Catalog) file() *catalogFile {
	f := &catalogFile{Version: c.version, Sources: c.Sources(), Services: c.Services(), ConsentRules: c.ConsentRules()}
	if f.Sources == nil {
		f.Sources = []Source{}
	}
	f.AppTypes = make([]appTypeJSON, 0, len(c.appTypes))
	for _, a := range c.appTypes {
		f.AppTypes = append(f.AppTypes, appTypeToJSON(a.clone()))
	}
	return f
}

func appTypeToJSON(a AppType) appTypeJSON {
	j := appTypeJSON{
		Name: a.Name, EntraAppName: a.EntraAppName, Aliases: a.Aliases, Family: a.Family,
		Services: a.Services, Modes: a.Modes, Creatable: a.Creatable, UserConsent: a.UserConsent,
		AppID: a.AppID, Consent: &a.Consent, UnsupportedNew: a.UnsupportedToCreateNew, Functions: a.Functions, PermissionsState: a.PermissionsState, Shape: a.Shape(),
		PermissionsFrom: a.PermissionsFrom, Permissions: a.Permissions, Notes: a.Notes,
		Sources: a.PermissionSources, PagesSearched: a.PagesSearched,
		DirectoryRoles: make([]directoryRoleJSON, 0, len(a.DirectoryRoles)),
		AzureRoles:     make([]azureRoleJSON, 0, len(a.AzureRoles)),
	}
	if j.Permissions == nil {
		j.Permissions = []Permission{}
	}
	for _, r := range a.DirectoryRoles {
		j.DirectoryRoles = append(j.DirectoryRoles, directoryRoleJSON{Name: r.Role.Name(), TemplateID: r.Role, Assignment: r.Assignment, Condition: r.Condition})
	}
	for _, r := range a.AzureRoles {
		ar := azureRoleJSON{Resource: r.Resource, Condition: r.Condition, Grant: r.Grant, Role: r.Role, Permissions: r.Permissions, Timing: r.Timing}
		if r.Role != "" {
			ar.RoleName = r.Role.Name()
		}
		j.AzureRoles = append(j.AzureRoles, ar)
	}
	return j
}

func normalize(s string) string { return strings.ToLower(strings.Join(strings.Fields(s), " ")) }

// Subset returns a catalog of the same version holding only the named app types (names or
// aliases), the services they serve and the sources of the resources they use, in catalog
// order. An app type whose PermissionsFrom names an app type left out keeps its (identical)
// permission rows but loses the PermissionsFrom link, so the subset is a valid catalog on its
// own; it keeps the consent rules the kept app types reference. An unknown name returns an error
// wrapping ErrUnknownAppType.
func (c *Catalog) Subset(names ...string) (*Catalog, error) {
	keep := map[int]bool{}
	for _, n := range names {
		i, ok := c.appTypeIndex[normalize(n)]
		if !ok {
			return nil, &NotFoundError{Kind: "app type", Name: n, Valid: c.appTypeNames(), err: ErrUnknownAppType}
		}
		keep[i] = true
	}
	f := &catalogFile{Version: c.version, Sources: []Source{}, Services: []Service{}, AppTypes: []appTypeJSON{}}
	usedRules := map[string]bool{}
	services := map[string]bool{}
	resources := map[string]bool{}
	kept := map[string]bool{}
	for i, a := range c.appTypes {
		if keep[i] {
			kept[a.Name] = true
		}
	}
	for i, a := range c.appTypes {
		if !keep[i] {
			continue
		}
		j := appTypeToJSON(a.clone())
		j.Shape = ""
		if j.PermissionsFrom != "" && !kept[j.PermissionsFrom] {
			j.PermissionsFrom = ""
		}
		f.AppTypes = append(f.AppTypes, j)
		for _, s := range a.Services {
			services[s] = true
		}
		for _, p := range a.Permissions {
			resources[p.ResourceAppID] = true
		}
		for _, r := range append(slices.Clone(a.Consent.Admin), a.Consent.User...) {
			usedRules[r.Rule] = true
		}
	}
	for _, r := range c.ConsentRules() {
		if usedRules[r.ID] {
			f.ConsentRules = append(f.ConsentRules, r)
		}
	}
	for _, s := range c.Services() {
		if services[s.Name] {
			f.Services = append(f.Services, s)
		}
	}
	for _, s := range c.Sources() {
		if resources[s.ResourceAppID] {
			f.Sources = append(f.Sources, s)
		}
	}
	return build(f)
}
