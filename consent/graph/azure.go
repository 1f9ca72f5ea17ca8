package graph

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/microsoftgraph/msgraph-sdk-go/serviceprincipals"

	"github.com/tenantapps/tenantapps/consent"
	"github.com/tenantapps/tenantapps/roles"
)

var _ consent.AzureRoleReader = (*Driver)(nil)

// Azure Resource Manager defaults of Config.
const (
	DefaultARMURL   = "https://management.azure.com"
	DefaultARMScope = "https://management.azure.com/.default"
	armAPIVersion   = "2022-04-01"
)

// AzureRoleAssignments lists the Azure RBAC role assignments of appID's service principal at
// scope and below (an empty scope: in every subscription the reading app can list): the SP's
// object ID from Graph, then Azure Resource Manager
// ({scope}/providers/Microsoft.Authorization/roleAssignments?$filter=principalId eq '…') with the
// reading app's ARM token. The reading app needs Reader (or
// Microsoft.Authorization/roleAssignments/read) on the scope; ARM 403 is consent.ErrForbidden.
func (d *Driver) AzureRoleAssignments(ctx context.Context, tenantID, appID, scope string) ([]consent.AzureRoleAssignment, error) {
	const op = "AzureRoleAssignments"
	if scope != "" {
		scope = "/" + strings.Trim(scope, "/")
	}
	if scope == "/" || strings.ContainsAny(scope, "?#") {
		return nil, &consent.DriverError{Op: op, TenantID: tenantID, AppID: appID, Err: fmt.Errorf("scope %q is not an Azure resource ID such as /subscriptions/{id}: %w", scope, consent.ErrInvalidArgument)}
	}
	ctx, release, err := d.begin(ctx, op, tenantID, appID)
	if err != nil {
		return nil, err
	}
	defer release()
	var out []consent.AzureRoleAssignment
	err = d.retryUnauthorized(ctx, op, tenantID, appID, func() (err error) {
		out, err = d.azureRoleAssignments(ctx, op, tenantID, appID, scope)
		return err
	})
	return out, err
}

func (d *Driver) azureRoleAssignments(ctx context.Context, op, tenantID, appID, scope string) ([]consent.AzureRoleAssignment, error) {
	sp, err := serviceprincipals.NewServicePrincipalItemRequestBuilder(d.spURL(appID)+"?$select=id", d.adapter).Get(ctx, nil)
	if err != nil {
		mapped := graphError(ctx, op, tenantID, appID, err)
		var de *consent.DriverError
		if asDriverError(mapped, &de) && de.Code == "Request_ResourceNotFound" {
			return nil, &consent.DriverError{Op: op, TenantID: tenantID, AppID: appID, Code: de.Code, Err: consent.ErrNotConsented}
		}
		return nil, mapped
	}
	if sp == nil || sp.GetId() == nil {
		return nil, &consent.DriverError{Op: op, TenantID: tenantID, AppID: appID, Err: fmt.Errorf("%w: the service principal came back without an id", consent.ErrTransient)}
	}
	armToken, err := d.readerTokenFor(ctx, tenantID, d.cfg.ARMScope)
	if err != nil {
		return nil, withOp(err, op, appID)
	}
	scopes := []string{scope}
	if scope == "" {
		// Every assignment the reading app can see: one listing per visible subscription.
		if scopes, err = d.armSubscriptions(ctx, op, tenantID, appID, armToken); err != nil {
			return nil, err
		}
	}
	var out []consent.AzureRoleAssignment
	for _, sc := range scopes {
		got, err := d.armAssignments(ctx, op, tenantID, appID, sc, *sp.GetId(), armToken)
		if err != nil {
			return nil, err
		}
		out = append(out, got...)
	}
	slices.SortFunc(out, func(a, b consent.AzureRoleAssignment) int {
		if c := strings.Compare(strings.ToLower(a.Scope), strings.ToLower(b.Scope)); c != 0 {
			return c
		}
		return strings.Compare(string(a.RoleID), string(b.RoleID))
	})
	return out, nil
}

// armSubscriptions lists the subscription scopes the reading app can see.
func (d *Driver) armSubscriptions(ctx context.Context, op, tenantID, appID, token string) ([]string, error) {
	body, err := d.armGet(ctx, op, tenantID, appID, d.cfg.ARMURL+"/subscriptions?api-version=2022-12-01", token)
	if err != nil {
		return nil, err
	}
	var v struct {
		Value []struct {
			SubscriptionID string `json:"subscriptionId"`
		} `json:"value"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		return nil, &consent.DriverError{Op: op, TenantID: tenantID, AppID: appID, Err: fmt.Errorf("%w: unreadable subscription list: %v", consent.ErrTransient, err)}
	}
	var out []string
	for _, s := range v.Value {
		if s.SubscriptionID != "" && !strings.ContainsAny(s.SubscriptionID, "/?#") {
			out = append(out, "/subscriptions/"+s.SubscriptionID)
		}
	}
	return out, nil
}

// armAssignments lists principalID's role assignments at scope and below.
func (d *Driver) armAssignments(ctx context.Context, op, tenantID, appID, scope, principalID, token string) ([]consent.AzureRoleAssignment, error) {
	q := url.Values{"api-version": {armAPIVersion}, "$filter": {"principalId eq '" + principalID + "'"}}
	next := d.cfg.ARMURL + scope + "/providers/Microsoft.Authorization/roleAssignments?" + q.Encode()
	lscope := strings.ToLower(scope)
	var out []consent.AzureRoleAssignment
	for pages := 0; next != ""; pages++ {
		if pages > 100 {
			return nil, &consent.DriverError{Op: op, TenantID: tenantID, AppID: appID, Err: fmt.Errorf("%w: more than 100 pages", consent.ErrTransient)}
		}
		if !strings.HasPrefix(next, d.cfg.ARMURL+"/") {
			return nil, &consent.DriverError{Op: op, TenantID: tenantID, AppID: appID, Err: fmt.Errorf("%w: nextLink leaves %s", consent.ErrTransient, d.cfg.ARMURL)}
		}
		page, link, err := d.armPage(ctx, op, tenantID, appID, next, token)
		if err != nil {
			return nil, err
		}
		for _, a := range page {
			s := strings.ToLower(a.Properties.Scope)
			if s != lscope && !strings.HasPrefix(s, lscope+"/") {
				continue // ARM also returns assignments above the scope
			}
			role := a.Properties.RoleDefinitionID
			if i := strings.LastIndex(role, "/"); i >= 0 {
				role = role[i+1:]
			}
			out = append(out, consent.AzureRoleAssignment{ID: a.ID, Scope: a.Properties.Scope, RoleID: roles.AzureRoleID(strings.ToLower(role))})
		}
		next = link
	}
	return out, nil
}

type armAssignment struct {
	ID         string `json:"id"`
	Properties struct {
		RoleDefinitionID string `json:"roleDefinitionId"`
		PrincipalID      string `json:"principalId"`
		Scope            string `json:"scope"`
	} `json:"properties"`
}

// armPage GETs one page of role assignments.
func (d *Driver) armPage(ctx context.Context, op, tenantID, appID, u, token string) ([]armAssignment, string, error) {
	body, err := d.armGet(ctx, op, tenantID, appID, u, token)
	if err != nil {
		return nil, "", err
	}
	var v struct {
		Value    []armAssignment `json:"value"`
		NextLink string          `json:"nextLink"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		return nil, "", &consent.DriverError{Op: op, TenantID: tenantID, AppID: appID, Err: fmt.Errorf("%w: unreadable Azure Resource Manager answer: %v", consent.ErrTransient, err)}
	}
	return v.Value, v.NextLink, nil
}

// armGet sends one Azure Resource Manager GET through Config.HTTPClient and maps error answers
// (ARM's {"error":{"code","message"}} shape) like Graph's.
func (d *Driver) armGet(ctx context.Context, op, tenantID, appID, u, token string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, &consent.DriverError{Op: op, TenantID: tenantID, AppID: appID, Err: err}
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	resp, err := d.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, graphError(ctx, op, tenantID, appID, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, graphError(ctx, op, tenantID, appID, err)
	}
	if resp.StatusCode >= 400 {
		var v struct {
			Error *struct {
				Code    string `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		code, msg := "", ""
		if json.Unmarshal(body, &v) == nil && v.Error != nil {
			code, msg = v.Error.Code, v.Error.Message
		}
		out := &consent.DriverError{Op: op, TenantID: tenantID, AppID: appID, Code: code, RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"))}
		return nil, classifyStatus(out, resp.StatusCode, code, msg)
	}
	return body, nil
}
