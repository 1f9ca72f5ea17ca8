package graph

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	abstractions "github.com/microsoft/kiota-abstractions-go"
	absser "github.com/microsoft/kiota-abstractions-go/serialization"
	"github.com/microsoftgraph/msgraph-sdk-go/applicationswithappid"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
	"github.com/microsoftgraph/msgraph-sdk-go/rolemanagement"
	"github.com/microsoftgraph/msgraph-sdk-go/serviceprincipals"

	"github.com/tenantapps/tenantapps/consent"
	"github.com/tenantapps/tenantapps/roles"
)

func (d *Driver) spURL(appID string) string {
	return d.cfg.GraphURL + "/servicePrincipals(appId='" + url.PathEscape(appID) + "')"
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// AppState reads the app's service principal, application permissions, delegated grants and
// directory roles in one Graph $batch (plus, the first time a tenant shows a resource the
// driver has not seen, one more to resolve resource appIds, which are then cached).
func (d *Driver) AppState(ctx context.Context, tenantID, appID string) (consent.AppState, error) {
	const op = "AppState"
	ctx, release, err := d.begin(ctx, op, tenantID, appID)
	if err != nil {
		return consent.AppState{}, err
	}
	defer release()
	var out consent.AppState
	err = d.retryUnauthorized(ctx, op, tenantID, appID, func() (err error) {
		out, err = d.appState(ctx, op, tenantID, appID)
		return err
	})
	if err != nil {
		return consent.AppState{}, err
	}
	return out, nil
}

func (d *Driver) appState(ctx context.Context, op string, tenantID, appID string) (consent.AppState, error) {
	var err error
	base := d.spURL(appID)
	sp := &step{ctor: models.CreateServicePrincipalFromDiscriminatorValue}
	ara := &step{ctor: models.CreateAppRoleAssignmentCollectionResponseFromDiscriminatorValue}
	grants := &step{ctor: models.CreateOAuth2PermissionGrantCollectionResponseFromDiscriminatorValue}
	dirRoles := &step{ctor: models.CreateDirectoryRoleCollectionResponseFromDiscriminatorValue}
	infos := []func() (*abstractions.RequestInformation, error){
		func() (*abstractions.RequestInformation, error) {
			return serviceprincipals.NewServicePrincipalItemRequestBuilder(base+"?$select=id,appId,displayName,accountEnabled,appOwnerOrganizationId", d.adapter).ToGetRequestInformation(ctx, nil)
		},
		func() (*abstractions.RequestInformation, error) {
			return serviceprincipals.NewItemAppRoleAssignmentsRequestBuilder(base+"/appRoleAssignments", d.adapter).ToGetRequestInformation(ctx, nil)
		},
		func() (*abstractions.RequestInformation, error) {
			return serviceprincipals.NewItemOauth2PermissionGrantsRequestBuilder(base+"/oauth2PermissionGrants", d.adapter).ToGetRequestInformation(ctx, nil)
		},
		func() (*abstractions.RequestInformation, error) {
			return serviceprincipals.NewItemMemberOfGraphDirectoryRoleRequestBuilder(base+"/memberOf/microsoft.graph.directoryRole", d.adapter).ToGetRequestInformation(ctx, nil)
		},
	}
	steps := []*step{sp, ara, grants, dirRoles}
	for i, mk := range infos {
		steps[i].build = mk
	}
	// The first read in a tenant also looks up the well-known resource service principals, so
	// grants map to resource appIds without a second round trip (resolveResources).
	var known *step
	if f := d.knownResourcesFilter(tenantID); f != "" {
		u := d.cfg.GraphURL + "/servicePrincipals?$filter=" + url.QueryEscape(f) + "&$select=id,appId"
		known = &step{ctor: models.CreateServicePrincipalCollectionResponseFromDiscriminatorValue, build: func() (*abstractions.RequestInformation, error) {
			return serviceprincipals.NewServicePrincipalsRequestBuilder(u, d.adapter).ToGetRequestInformation(ctx, nil)
		}}
		steps = append(steps, known)
	}
	if err := d.runBatch(ctx, op, tenantID, appID, steps); err != nil {
		return consent.AppState{}, err
	}
	if known != nil && known.err == nil {
		// Best effort: a failed or odd lookup only costs the fallback round trip later.
		if page, ok := known.value.(models.ServicePrincipalCollectionResponseable); ok {
			d.rememberResources(tenantID, page.GetValue())
		}
	}
	if sp.notFound() && sp.err != nil && errors.Is(sp.err, consent.ErrNotFound) {
		return consent.AppState{TenantID: tenantID, AppID: appID}, nil
	}
	if err := firstError(sp, ara, grants, dirRoles); err != nil {
		return consent.AppState{}, err
	}
	spv, ok := sp.value.(models.ServicePrincipalable)
	if !ok || spv.GetId() == nil {
		return consent.AppState{}, &consent.DriverError{Op: op, TenantID: tenantID, AppID: appID, Err: fmt.Errorf("%w: the service principal came back without an id", consent.ErrTransient)}
	}
	st := consent.AppState{TenantID: tenantID, AppID: appID, Exists: true}
	st.ServicePrincipal = consent.ServicePrincipal{ObjectID: *spv.GetId(), AppID: str(spv.GetAppId()), DisplayName: str(spv.GetDisplayName()),
		Enabled: spv.GetAccountEnabled() == nil || *spv.GetAccountEnabled()}
	if o := spv.GetAppOwnerOrganizationId(); o != nil {
		st.ServicePrincipal.AppOwnerTenantID = o.String()
	}

	araItems, err := collect(ctx, d, op, tenantID, appID, ara.value, models.CreateAppRoleAssignmentCollectionResponseFromDiscriminatorValue,
		func(v models.AppRoleAssignmentable) models.AppRoleAssignmentable { return v })
	if err != nil {
		return consent.AppState{}, err
	}
	grantItems, err := collect(ctx, d, op, tenantID, appID, grants.value, models.CreateOAuth2PermissionGrantCollectionResponseFromDiscriminatorValue,
		func(v models.OAuth2PermissionGrantable) models.OAuth2PermissionGrantable { return v })
	if err != nil {
		return consent.AppState{}, err
	}
	roleItems, err := collect(ctx, d, op, tenantID, appID, dirRoles.value, models.CreateDirectoryRoleCollectionResponseFromDiscriminatorValue,
		func(v models.DirectoryRoleable) models.DirectoryRoleable { return v })
	if err != nil {
		return consent.AppState{}, err
	}

	// Resolve resource service principal object IDs to appIds.
	var resIDs []string
	for _, a := range araItems {
		if r := a.GetResourceId(); r != nil {
			resIDs = append(resIDs, r.String())
		}
	}
	for _, g := range grantItems {
		if r := g.GetResourceId(); r != nil {
			resIDs = append(resIDs, strings.ToLower(*r))
		}
	}
	resApp, err := d.resolveResources(ctx, op, tenantID, appID, resIDs)
	if err != nil {
		return consent.AppState{}, err
	}
	for _, a := range araItems {
		if a.GetAppRoleId() == nil || a.GetResourceId() == nil {
			continue
		}
		g := consent.AppRoleGrant{ResourceAppID: resApp[a.GetResourceId().String()], AppRoleID: a.GetAppRoleId().String(), AssignmentID: str(a.GetId())}
		if t := a.GetCreatedDateTime(); t != nil {
			g.CreatedAt = t.UTC()
		}
		st.AppRoleGrants = append(st.AppRoleGrants, g)
	}
	slices.SortFunc(st.AppRoleGrants, func(a, b consent.AppRoleGrant) int {
		if c := strings.Compare(a.ResourceAppID, b.ResourceAppID); c != 0 {
			return c
		}
		return strings.Compare(a.AppRoleID, b.AppRoleID)
	})
	for _, g := range grantItems {
		dg := consent.DelegatedGrant{GrantID: str(g.GetId()), ResourceAppID: resApp[strings.ToLower(str(g.GetResourceId()))],
			ConsentType: consent.DelegatedConsentType(str(g.GetConsentType())), PrincipalID: str(g.GetPrincipalId())}
		dg.Scopes = strings.Fields(str(g.GetScope()))
		slices.Sort(dg.Scopes)
		dg.Scopes = slices.Compact(dg.Scopes)
		st.DelegatedGrants = append(st.DelegatedGrants, dg)
	}
	slices.SortFunc(st.DelegatedGrants, func(a, b consent.DelegatedGrant) int {
		if c := strings.Compare(a.ResourceAppID, b.ResourceAppID); c != 0 {
			return c
		}
		if c := strings.Compare(string(a.ConsentType), string(b.ConsentType)); c != 0 {
			return c
		}
		return strings.Compare(a.PrincipalID, b.PrincipalID)
	})
	st.DirectoryRoles = roleTemplates(roleItems)
	return st, nil
}

func roleTemplates(items []models.DirectoryRoleable) []roles.TemplateID {
	var out []roles.TemplateID
	for _, r := range items {
		if t := r.GetRoleTemplateId(); t != nil && *t != "" {
			out = append(out, roles.TemplateID(strings.ToLower(*t)))
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// pageable is a Graph collection page.
type pageable[T any] interface {
	GetValue() []T
	GetOdataNextLink() *string
}

// collect returns the items of a collection response and of its following pages
// (@odata.nextLink, fetched with plain GETs through the adapter).
func collect[T any](ctx context.Context, d *Driver, op, tenant, appID string, first any, ctor absser.ParsableFactory, conv func(T) T) ([]T, error) {
	page, ok := first.(pageable[T])
	if !ok {
		return nil, &consent.DriverError{Op: op, TenantID: tenant, AppID: appID, Err: fmt.Errorf("%w: unexpected collection type %T", consent.ErrTransient, first)}
	}
	var out []T
	for pages := 0; ; pages++ {
		for _, v := range page.GetValue() {
			out = append(out, conv(v))
		}
		next := page.GetOdataNextLink()
		if next == nil || *next == "" {
			return out, nil
		}
		if pages > 100 {
			return nil, &consent.DriverError{Op: op, TenantID: tenant, AppID: appID, Err: fmt.Errorf("%w: more than 100 pages", consent.ErrTransient)}
		}
		info := abstractions.NewRequestInformation()
		info.Method = abstractions.GET
		info.UrlTemplate = "{+request-raw-url}"
		info.PathParameters["request-raw-url"] = *next
		info.Headers.TryAdd("Accept", "application/json")
		res, err := d.adapter.Send(ctx, info, ctor, odataErrorMapping)
		if err != nil {
			return nil, graphError(ctx, op, tenant, appID, err)
		}
		if page, ok = res.(pageable[T]); !ok {
			return nil, &consent.DriverError{Op: op, TenantID: tenant, AppID: appID, Err: fmt.Errorf("%w: unexpected page type %T", consent.ErrTransient, res)}
		}
	}
}

// knownResourcesFilter returns the $filter that looks up the configured well-known resource
// service principals, or "" when the tenant's resource cache is already filled.
func (d *Driver) knownResourcesFilter(tenant string) string {
	if len(d.cfg.KnownResourceAppIDs) == 0 {
		return ""
	}
	d.resMu.Lock()
	filled := d.resources[tenant] != nil
	d.resMu.Unlock()
	if filled {
		return ""
	}
	quoted := make([]string, len(d.cfg.KnownResourceAppIDs))
	for i, id := range d.cfg.KnownResourceAppIDs {
		quoted[i] = "'" + id + "'"
	}
	return "appId in (" + strings.Join(quoted, ",") + ")"
}

// rememberResources caches resource service principal object IDs → appIds for a tenant.
func (d *Driver) rememberResources(tenant string, sps []models.ServicePrincipalable) {
	d.resMu.Lock()
	defer d.resMu.Unlock()
	if d.resources[tenant] == nil {
		d.resources[tenant] = map[string]string{}
	}
	for _, sp := range sps {
		if sp == nil || sp.GetId() == nil || sp.GetAppId() == nil {
			continue
		}
		d.resources[tenant][strings.ToLower(*sp.GetId())] = strings.ToLower(*sp.GetAppId())
	}
}

// resolveResources maps resource service principal object IDs to their appIds, from the
// driver's per-tenant cache or with one $batch for the unknown ones.
func (d *Driver) resolveResources(ctx context.Context, op, tenant, appID string, ids []string) (map[string]string, error) {
	out := map[string]string{}
	var unknown []string
	d.resMu.Lock()
	known := d.resources[tenant]
	for _, id := range ids {
		if a, ok := known[id]; ok {
			out[id] = a
		} else if !slices.Contains(unknown, id) {
			unknown = append(unknown, id)
		}
	}
	d.resMu.Unlock()
	for len(unknown) > 0 {
		chunk := unknown[:min(20, len(unknown))]
		unknown = unknown[len(chunk):]
		steps := make([]*step, len(chunk))
		for i, id := range chunk {
			u := d.cfg.GraphURL + "/servicePrincipals/" + url.PathEscape(id) + "?$select=id,appId"
			steps[i] = &step{ctor: models.CreateServicePrincipalFromDiscriminatorValue, build: func() (*abstractions.RequestInformation, error) {
				return serviceprincipals.NewServicePrincipalItemRequestBuilder(u, d.adapter).ToGetRequestInformation(ctx, nil)
			}}
		}
		if err := d.runBatch(ctx, op, tenant, appID, steps); err != nil {
			return nil, err
		}
		for i, s := range steps {
			if s.err != nil {
				if s.notFound() {
					continue // a resource deleted since: its grants name no appId
				}
				return nil, s.err
			}
			if v, ok := s.value.(models.ServicePrincipalable); ok && v.GetAppId() != nil {
				out[chunk[i]] = strings.ToLower(*v.GetAppId())
			}
		}
		d.resMu.Lock()
		if d.resources[tenant] == nil {
			d.resources[tenant] = map[string]string{}
		}
		for _, id := range chunk {
			if a, ok := out[id]; ok {
				d.resources[tenant][id] = a
			}
		}
		d.resMu.Unlock()
	}
	return out, nil
}

// AssignDirectoryRole assigns role to the app's service principal at directory scope, unless
// it already holds it. Two round trips: a $batch reading the SP and its roles, then the POST.
func (d *Driver) AssignDirectoryRole(ctx context.Context, tenantID, appID string, role roles.TemplateID) (bool, error) {
	const op = "AssignDirectoryRole"
	ctx, release, err := d.begin(ctx, op, tenantID, appID)
	if err != nil {
		return false, err
	}
	defer release()
	var out bool
	err = d.retryUnauthorized(ctx, op, tenantID, appID, func() (err error) {
		out, err = d.assignDirectoryRole(ctx, op, tenantID, appID, role)
		return err
	})
	if err != nil {
		return false, err
	}
	return out, nil
}

func (d *Driver) assignDirectoryRole(ctx context.Context, op string, tenantID, appID string, role roles.TemplateID) (bool, error) {
	var err error
	base := d.spURL(appID)
	sp := &step{ctor: models.CreateServicePrincipalFromDiscriminatorValue}
	dirRoles := &step{ctor: models.CreateDirectoryRoleCollectionResponseFromDiscriminatorValue}
	sp.build = func() (*abstractions.RequestInformation, error) {
		return serviceprincipals.NewServicePrincipalItemRequestBuilder(base+"?$select=id", d.adapter).ToGetRequestInformation(ctx, nil)
	}
	dirRoles.build = func() (*abstractions.RequestInformation, error) {
		return serviceprincipals.NewItemMemberOfGraphDirectoryRoleRequestBuilder(base+"/memberOf/microsoft.graph.directoryRole", d.adapter).ToGetRequestInformation(ctx, nil)
	}
	if err := d.runBatch(ctx, op, tenantID, appID, []*step{sp, dirRoles}); err != nil {
		return false, err
	}
	if sp.notFound() {
		return false, &consent.DriverError{Op: op, TenantID: tenantID, AppID: appID, Code: "Request_ResourceNotFound", Err: consent.ErrNotConsented}
	}
	if err := firstError(sp, dirRoles); err != nil {
		return false, err
	}
	roleItems, err := collect(ctx, d, op, tenantID, appID, dirRoles.value, models.CreateDirectoryRoleCollectionResponseFromDiscriminatorValue,
		func(v models.DirectoryRoleable) models.DirectoryRoleable { return v })
	if err != nil {
		return false, err
	}
	if slices.Contains(roleTemplates(roleItems), roles.TemplateID(strings.ToLower(string(role)))) {
		return false, nil
	}
	spv, _ := sp.value.(models.ServicePrincipalable)
	if spv == nil || spv.GetId() == nil {
		return false, &consent.DriverError{Op: op, TenantID: tenantID, AppID: appID, Err: fmt.Errorf("%w: the service principal came back without an id", consent.ErrTransient)}
	}
	body := models.NewUnifiedRoleAssignment()
	roleID, scope := string(role), "/"
	body.SetRoleDefinitionId(&roleID)
	body.SetPrincipalId(spv.GetId())
	body.SetDirectoryScopeId(&scope)
	_, err = rolemanagement.NewDirectoryRoleAssignmentsRequestBuilder(d.cfg.GraphURL+"/roleManagement/directory/roleAssignments", d.adapter).Post(ctx, body, nil)
	if err != nil {
		mapped := graphError(ctx, op, tenantID, appID, err)
		var de *consent.DriverError
		if errors.As(mapped, &de) && de.Code == "Request_BadRequest" || (de != nil && de.Code == "Conflict") {
			return false, nil // assigned concurrently: Graph reports the conflicting object
		}
		return false, mapped
	}
	return true, nil
}

// KeyCredentials reads the certificate credentials of the application registration appID in its
// home tenant tenantID (GET /applications(appId='...')?$select=keyCredentials).
func (d *Driver) KeyCredentials(ctx context.Context, tenantID, appID string) ([]consent.KeyCredential, error) {
	const op = "KeyCredentials"
	ctx, release, err := d.begin(ctx, op, tenantID, appID)
	if err != nil {
		return nil, err
	}
	defer release()
	var out []consent.KeyCredential
	err = d.retryUnauthorized(ctx, op, tenantID, appID, func() (err error) {
		out, err = d.keyCredentials(ctx, op, tenantID, appID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (d *Driver) keyCredentials(ctx context.Context, op string, tenantID, appID string) ([]consent.KeyCredential, error) {
	var err error
	app, err := applicationswithappid.NewApplicationsWithAppIdRequestBuilderInternal(map[string]string{}, d.adapter, &appID).Get(ctx,
		&applicationswithappid.ApplicationsWithAppIdRequestBuilderGetRequestConfiguration{
			QueryParameters: &applicationswithappid.ApplicationsWithAppIdRequestBuilderGetQueryParameters{Select: []string{"keyCredentials"}}})
	if err != nil {
		return nil, graphError(ctx, op, tenantID, appID, err)
	}
	if app == nil {
		return nil, &consent.DriverError{Op: op, TenantID: tenantID, AppID: appID, Err: fmt.Errorf("%w: empty response", consent.ErrTransient)}
	}
	var out []consent.KeyCredential
	for _, k := range app.GetKeyCredentials() {
		kc := consent.KeyCredential{DisplayName: str(k.GetDisplayName()), Type: str(k.GetTypeEscaped()), Usage: str(k.GetUsage())}
		if id := k.GetKeyId(); id != nil {
			kc.KeyID = id.String()
		}
		if t := k.GetStartDateTime(); t != nil {
			kc.Start = t.UTC()
		}
		if t := k.GetEndDateTime(); t != nil {
			kc.End = t.UTC()
		}
		if der := k.GetKey(); len(der) > 0 {
			kc.Certificate = slices.Clone(der)
			kc.ThumbprintSHA1, kc.ThumbprintSHA256 = consent.Thumbprints(der)
		} else if ck := k.GetCustomKeyIdentifier(); len(ck) > 0 {
			kc.ThumbprintSHA1 = strings.ToUpper(fmt.Sprintf("%x", ck))
		}
		out = append(out, kc)
	}
	slices.SortFunc(out, func(a, b consent.KeyCredential) int {
		if c := a.Start.Compare(b.Start); c != 0 {
			return c
		}
		return strings.Compare(a.KeyID, b.KeyID)
	})
	return out, nil
}

// odataErrorMapping parses every error status as Graph's OData error.
var odataErrorMapping = abstractions.ErrorMappings{"XXX": odataerrors.CreateODataErrorFromDiscriminatorValue}
