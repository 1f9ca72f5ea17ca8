package graph

import (
	"context"
	"errors"
	"fmt"

	abstractions "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/users"

	"github.com/tenantapps/tenantapps/consent"
)

// errSizingOff: Config.TenantSizing is off, so the caller assumes the smallest tenant.
var errSizingOff = errors.New("graph: tenant sizing is off (Config.TenantSizing)")

var _ consent.TenantSizer = (*Driver)(nil)

// SizesTenants implements consent.TenantSizer: Config.TenantSizing.
func (d *Driver) SizesTenants() bool { return d.cfg.TenantSizing }

// TenantUserCount implements consent.TenantSizer when Config.TenantSizing is set: it counts the
// tenant's users with GET /users?$count=true&$top=1&$select=id and ConsistencyLevel: eventual
// (Graph's advanced query for a count, aad-advanced-queries.md), one request of 1 RU per tenant
// that the Manager caches. Graph sizes an app's identity read budget in a tenant by this count
// (throttling-limits.md). With TenantSizing off it returns an error without any request, and the
// Manager assumes the smallest budget.
func (d *Driver) TenantUserCount(ctx context.Context, tenantID string) (int, error) {
	const op = "TenantUserCount"
	if !d.cfg.TenantSizing {
		return 0, errSizingOff
	}
	ctx, release, err := d.begin(ctx, op, tenantID, "")
	if err != nil {
		return 0, err
	}
	defer release()
	count := &step{ctor: models.CreateUserCollectionResponseFromDiscriminatorValue, build: func() (*abstractions.RequestInformation, error) {
		info, err := users.NewUsersRequestBuilder(d.cfg.GraphURL+"/users?$count=true&$top=1&$select=id", d.adapter).ToGetRequestInformation(ctx, nil)
		if err == nil {
			info.Headers.TryAdd("ConsistencyLevel", "eventual")
		}
		return info, err
	}}
	if err := d.runBatch(ctx, op, tenantID, "", []*step{count}); err != nil {
		return 0, err
	}
	if err := firstError(count); err != nil {
		return 0, err
	}
	page, ok := count.value.(models.UserCollectionResponseable)
	if !ok || page.GetOdataCount() == nil {
		return 0, &consent.DriverError{Op: op, TenantID: tenantID, Err: fmt.Errorf("%w: Graph sent no @odata.count", consent.ErrTransient)}
	}
	return int(*page.GetOdataCount()), nil
}
