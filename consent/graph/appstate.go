package graph

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/google/uuid"
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
	if _, err := uuid.Parse(appID); err != nil {
		return consent.AppState{}, &consent.DriverError{Op: op, TenantID: tenantID, AppID: appID, Err: fmt.Errorf("app ID %q is not a GUID: %w", appID, consent.ErrInvalidArgument)}
	}
	res, err := d.appStates(ctx, op, tenantID, []string{appID})
	if err != nil {
		return consent.AppState{}, withOp(err, op, appID)
	}
	return res[0].State, res[0].Err
}

// appsPerBatch is how many apps one $batch reads: 3 items each, one shared service principal
// lookup and the tenant's first known-resource lookup fit Graph's 20-item limit.
const appsPerBatch = 6

// AppStates reads several apps of one tenant: one $batch per six apps (their service principals
// with one `appId in (...)` filter, then each app's app role assignments, delegated grants and
// directory roles), plus the resource lookup AppState describes. Several batches run at once on
// the tenant's free concurrency slots (MaxConcurrentPerTenant; it never waits for one). A batch
// that fails as a whole fails its apps' results; the call fails only when every batch did.
func (d *Driver) AppStates(ctx context.Context, tenantID string, appIDs []string) ([]consent.AppStateResult, error) {
	return d.appStates(ctx, "AppStates", tenantID, appIDs)
}

func (d *Driver) appStates(ctx context.Context, op, tenantID string, appIDs []string) ([]consent.AppStateResult, error) {
	if _, err := uuid.Parse(tenantID); err != nil {
		return nil, &consent.DriverError{Op: op, TenantID: tenantID, Err: fmt.Errorf("tenant ID %q is not a GUID: %w", tenantID, consent.ErrInvalidArgument)}
	}
	out := make([]consent.AppStateResult, len(appIDs))
	var apps []string // valid, lower-case, unique
	for i, id := range appIDs {
		if _, err := uuid.Parse(id); err != nil {
			out[i].Err = &consent.DriverError{Op: op, TenantID: tenantID, AppID: id, Err: fmt.Errorf("app ID %q is not a GUID: %w", id, consent.ErrInvalidArgument)}
		} else if l := strings.ToLower(id); !slices.Contains(apps, l) {
			apps = append(apps, l)
		}
	}
	if len(apps) == 0 {
		return out, nil
	}
	ctx, release, err := d.begin(ctx, op, tenantID, "")
	if err != nil {
		return nil, err
	}
	defer release()
	chunks := slices.Collect(slices.Chunk(apps, appsPerBatch))
	// A tenant with more apps than one $batch holds reads them on as many of its free
	// concurrency slots as it can get without waiting (the one taken by begin included).
	extra, releaseExtra := d.tryAcquire(tenantID, len(chunks)-1)
	defer releaseExtra()
	got := make(map[string]consent.AppStateResult, len(apps))
	var mu sync.Mutex // guards got, firstErr and failed
	var firstErr error
	failed := 0
	work := make(chan []string)
	var wg sync.WaitGroup
	for range 1 + extra {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for chunk := range work {
				res := make(map[string]consent.AppStateResult, len(chunk))
				err := d.retryUnauthorized(ctx, op, tenantID, "", func() error {
					return d.readApps(ctx, op, tenantID, chunk, res)
				})
				mu.Lock()
				if err != nil {
					if firstErr == nil {
						firstErr = err
					}
					failed++
					for _, a := range chunk {
						res[a] = consent.AppStateResult{Err: withOp(err, op, a)}
					}
				}
				maps.Copy(got, res)
				mu.Unlock()
			}
		}()
	}
	for _, chunk := range chunks {
		work <- chunk
	}
	close(work)
	wg.Wait()
	if failed == len(chunks) {
		return nil, firstErr
	}
	for i, id := range appIDs {
		if out[i].Err == nil {
			r := got[strings.ToLower(id)]
			if r.Err == nil {
				r.State.AppID = id // echo the request's spelling
			}
			out[i] = r
		}
	}
	return out, nil
}

// The fields AppStates reads ($select): Graph sends, and Kiota parses, only these.
const (
	araFields   = "id,appRoleId,resourceId,createdDateTime"
	grantFields = "id,clientId,consentType,principalId,resourceId,scope"
	roleFields  = "id,roleTemplateId"
)

// appReads are the batch items of one app.
type appReads struct {
	ara, grants, dirRoles *step
}

// readApps reads apps (at most appsPerBatch) in one $batch and stores each app's result in got.
// It returns an error only when the batch as a whole failed.
func (d *Driver) readApps(ctx context.Context, op, tenantID string, apps []string, got map[string]consent.AppStateResult) error {
	quoted := make([]string, len(apps))
	for i, a := range apps {
		quoted[i] = "'" + a + "'"
	}
	spsURL := d.cfg.GraphURL + "/servicePrincipals?$filter=" + odataEscape("appId in ("+strings.Join(quoted, ",")+")") +
		"&$select=id,appId,displayName,accountEnabled,appOwnerOrganizationId"
	sps := &step{ctor: models.CreateServicePrincipalCollectionResponseFromDiscriminatorValue, build: func() (*abstractions.RequestInformation, error) {
		return serviceprincipals.NewServicePrincipalsRequestBuilder(spsURL, d.adapter).ToGetRequestInformation(ctx, nil)
	}}
	steps := []*step{sps}
	reads := make([]appReads, len(apps))
	for i, a := range apps {
		base := d.spURL(a)
		reads[i] = appReads{
			ara: &step{ctor: models.CreateAppRoleAssignmentCollectionResponseFromDiscriminatorValue, build: func() (*abstractions.RequestInformation, error) {
				return serviceprincipals.NewItemAppRoleAssignmentsRequestBuilder(base+"/appRoleAssignments?$select="+araFields, d.adapter).ToGetRequestInformation(ctx, nil)
			}},
			grants: &step{ctor: models.CreateOAuth2PermissionGrantCollectionResponseFromDiscriminatorValue, build: func() (*abstractions.RequestInformation, error) {
				return serviceprincipals.NewItemOauth2PermissionGrantsRequestBuilder(base+"/oauth2PermissionGrants?$select="+grantFields, d.adapter).ToGetRequestInformation(ctx, nil)
			}},
			dirRoles: &step{ctor: models.CreateDirectoryRoleCollectionResponseFromDiscriminatorValue, build: func() (*abstractions.RequestInformation, error) {
				return advancedQuery(serviceprincipals.NewItemMemberOfGraphDirectoryRoleRequestBuilder(base+"/memberOf/microsoft.graph.directoryRole?"+castMemberOf+"&$select="+roleFields, d.adapter).ToGetRequestInformation(ctx, nil))
			}},
		}
		steps = append(steps, reads[i].ara, reads[i].grants, reads[i].dirRoles)
	}
	// The first read in a tenant also looks up the well-known resource service principals, so
	// grants map to resource appIds without a second round trip (resolveResources).
	var known *step
	if f := d.knownResourcesFilter(tenantID); f != "" {
		u := d.cfg.GraphURL + "/servicePrincipals?$filter=" + odataEscape(f) + "&$select=id,appId"
		known = &step{ctor: models.CreateServicePrincipalCollectionResponseFromDiscriminatorValue, build: func() (*abstractions.RequestInformation, error) {
			return serviceprincipals.NewServicePrincipalsRequestBuilder(u, d.adapter).ToGetRequestInformation(ctx, nil)
		}}
		steps = append(steps, known)
	}
	if err := d.runBatch(ctx, op, tenantID, "", steps); err != nil {
		return err
	}
	if known != nil && known.err == nil {
		// Best effort: a failed or odd lookup only costs the fallback round trip later.
		if page, ok := known.value.(models.ServicePrincipalCollectionResponseable); ok {
			d.rememberResources(tenantID, page.GetValue())
		}
	}
	fail := func(a string, err error) { got[a] = consent.AppStateResult{Err: withOp(err, op, a)} }
	if sps.err != nil {
		for _, a := range apps {
			fail(a, sps.err)
		}
		return nil
	}
	spItems, err := collect(ctx, d, op, tenantID, "", sps.value, models.CreateServicePrincipalCollectionResponseFromDiscriminatorValue,
		func(v models.ServicePrincipalable) models.ServicePrincipalable { return v })
	if err != nil {
		for _, a := range apps {
			fail(a, err)
		}
		return nil
	}
	spByApp := make(map[string]models.ServicePrincipalable, len(spItems))
	for _, sp := range spItems {
		if sp != nil && sp.GetAppId() != nil {
			spByApp[strings.ToLower(*sp.GetAppId())] = sp
		}
	}

	type parsed struct {
		sp     models.ServicePrincipalable
		ara    []models.AppRoleAssignmentable
		grants []models.OAuth2PermissionGrantable
		roles  []models.DirectoryRoleable
	}
	var ok []int
	ps := make([]parsed, len(apps))
	var resIDs []string
	for i, a := range apps {
		sp := spByApp[a]
		if sp == nil {
			// No service principal: the per-app reads answered 404; nothing else to say.
			got[a] = consent.AppStateResult{State: consent.AppState{TenantID: tenantID, AppID: a}}
			continue
		}
		if sp.GetId() == nil {
			fail(a, &consent.DriverError{Op: op, TenantID: tenantID, AppID: a, Err: fmt.Errorf("%w: the service principal came back without an id", consent.ErrTransient)})
			continue
		}
		r := reads[i]
		if err := firstError(r.ara, r.grants, r.dirRoles); err != nil {
			fail(a, err)
			continue
		}
		p := parsed{sp: sp}
		if p.ara, err = collect(ctx, d, op, tenantID, a, r.ara.value, models.CreateAppRoleAssignmentCollectionResponseFromDiscriminatorValue,
			func(v models.AppRoleAssignmentable) models.AppRoleAssignmentable { return v }); err == nil {
			if p.grants, err = collect(ctx, d, op, tenantID, a, r.grants.value, models.CreateOAuth2PermissionGrantCollectionResponseFromDiscriminatorValue,
				func(v models.OAuth2PermissionGrantable) models.OAuth2PermissionGrantable { return v }); err == nil {
				p.roles, err = collect(ctx, d, op, tenantID, a, r.dirRoles.value, models.CreateDirectoryRoleCollectionResponseFromDiscriminatorValue,
					func(v models.DirectoryRoleable) models.DirectoryRoleable { return v })
			}
		}
		if err != nil {
			fail(a, err)
			continue
		}
		for _, x := range p.ara {
			if r := x.GetResourceId(); r != nil {
				resIDs = append(resIDs, r.String())
			}
		}
		for _, g := range p.grants {
			if r := g.GetResourceId(); r != nil {
				resIDs = append(resIDs, strings.ToLower(*r))
			}
		}
		ps[i] = p
		ok = append(ok, i)
	}
	if len(ok) == 0 {
		return nil
	}
	// Resolve resource service principal object IDs to appIds, once for the batch's apps.
	resApp, err := d.resolveResources(ctx, op, tenantID, "", resIDs)
	if err != nil {
		for _, i := range ok {
			fail(apps[i], err)
		}
		return nil
	}
	for _, i := range ok {
		got[apps[i]] = consent.AppStateResult{State: appStateOf(tenantID, apps[i], ps[i].sp, ps[i].ara, ps[i].grants, ps[i].roles, resApp)}
	}
	return nil
}

// appStateOf assembles an app's state from its Graph objects; resApp maps resource service
// principal object IDs to appIds.
func appStateOf(tenantID, appID string, spv models.ServicePrincipalable, araItems []models.AppRoleAssignmentable,
	grantItems []models.OAuth2PermissionGrantable, roleItems []models.DirectoryRoleable, resApp map[string]string) consent.AppState {
	st := consent.AppState{TenantID: tenantID, AppID: appID, Exists: true}
	st.ServicePrincipal = consent.ServicePrincipal{ObjectID: *spv.GetId(), AppID: str(spv.GetAppId()), DisplayName: str(spv.GetDisplayName()),
		Enabled: spv.GetAccountEnabled() == nil || *spv.GetAccountEnabled()}
	if o := spv.GetAppOwnerOrganizationId(); o != nil {
		st.ServicePrincipal.AppOwnerTenantID = o.String()
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
	return st
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
	return collectN(ctx, d, op, tenant, appID, first, ctor, conv, 0)
}

// collectN is collect that stops once it has limit items (limit <= 0: all pages), so a
// bounded read never walks a long collection to its end.
func collectN[T any](ctx context.Context, d *Driver, op, tenant, appID string, first any, ctor absser.ParsableFactory, conv func(T) T, limit int) ([]T, error) {
	page, ok := first.(pageable[T])
	if !ok {
		return nil, &consent.DriverError{Op: op, TenantID: tenant, AppID: appID, Err: fmt.Errorf("%w: unexpected collection type %T", consent.ErrTransient, first)}
	}
	var out []T
	for pages := 0; ; pages++ {
		for _, v := range page.GetValue() {
			out = append(out, conv(v))
		}
		if limit > 0 && len(out) >= limit {
			return out[:limit], nil
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
		if strings.Contains(*next, "$count=true") || strings.Contains(*next, "%24count=true") {
			// The next page of an advanced query is an advanced query too.
			info.Headers.TryAdd("ConsistencyLevel", "eventual")
		}
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

// forgetResources drops the resource lookups of idle tenants (lower-case IDs, as readers are
// keyed; lookups kept under another spelling are dropped when the tenant's reader is).
func (d *Driver) forgetResources(tenants []string) {
	if len(tenants) == 0 {
		return
	}
	d.resMu.Lock()
	defer d.resMu.Unlock()
	for _, t := range tenants {
		delete(d.resources, t)
	}
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
		return advancedQuery(serviceprincipals.NewItemMemberOfGraphDirectoryRoleRequestBuilder(base+"/memberOf/microsoft.graph.directoryRole?"+castMemberOf+"&$select="+roleFields, d.adapter).ToGetRequestInformation(ctx, nil))
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
		if !errors.As(mapped, &de) || (de.Code != "Request_BadRequest" && de.Code != "Conflict") {
			return false, mapped
		}
		// Graph answers 400 Request_BadRequest both for a conflicting assignment and for a
		// wrong request (an unknown roleDefinitionId, for one): decide "already assigned"
		// positively, by reading the principal's assignments
		// (api-reference/v1.0/api/rbacapplication-list-roleassignments.md, $filter on
		// principalId, which also sees assignments made at a narrower scope or concurrently).
		held, rerr := d.holdsRoleAssignment(ctx, op, tenantID, appID, *spv.GetId(), roleID)
		if rerr != nil {
			return false, rerr
		}
		if held {
			return false, nil // assigned concurrently
		}
		cp := *de
		cp.Err = fmt.Errorf("Graph refused to assign directory role %s to the app's service principal and the principal does not hold it: %w", roleID, de.Err)
		return false, &cp
	}
	return true, nil
}

// holdsRoleAssignment reports whether principalID holds roleID at directory scope "/"
// (GET /roleManagement/directory/roleAssignments?$filter=principalId eq '…').
func (d *Driver) holdsRoleAssignment(ctx context.Context, op, tenantID, appID, principalID, roleID string) (bool, error) {
	u := d.cfg.GraphURL + "/roleManagement/directory/roleAssignments?$filter=" + odataEscape("principalId eq '"+principalID+"'") +
		"&$select=id,roleDefinitionId,principalId,directoryScopeId"
	res, err := rolemanagement.NewDirectoryRoleAssignmentsRequestBuilder(u, d.adapter).Get(ctx, nil)
	if err != nil {
		return false, graphError(ctx, op, tenantID, appID, err)
	}
	items, err := collect(ctx, d, op, tenantID, appID, res, models.CreateUnifiedRoleAssignmentCollectionResponseFromDiscriminatorValue,
		func(v models.UnifiedRoleAssignmentable) models.UnifiedRoleAssignmentable { return v })
	if err != nil {
		return false, err
	}
	for _, a := range items {
		if strings.EqualFold(str(a.GetRoleDefinitionId()), roleID) && strings.EqualFold(str(a.GetPrincipalId()), principalID) &&
			(a.GetDirectoryScopeId() == nil || str(a.GetDirectoryScopeId()) == "/") {
			return true, nil
		}
	}
	return false, nil
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
