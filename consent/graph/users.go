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
	"time"

	abstractions "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/auditlogs"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/reports"
	"github.com/microsoftgraph/msgraph-sdk-go/users"

	"github.com/tenantapps/tenantapps/consent"
)

// UserState reads a user's account state, directory roles and MFA registration in one $batch,
// plus the per-user MFA requirement from Graph beta (authentication/requirements), which v1.0
// does not expose. A user Graph does not find is reported with Exists == false.
func (d *Driver) UserState(ctx context.Context, tenantID, userID string) (consent.UserState, error) {
	const op = opUserState
	if strings.TrimSpace(userID) == "" || strings.ContainsAny(userID, "/?#") {
		return consent.UserState{}, &consent.DriverError{Op: op, TenantID: tenantID, Err: fmt.Errorf("user %q is not an object ID or UPN: %w", userID, consent.ErrInvalidArgument)}
	}
	ctx, release, err := d.begin(ctx, op, tenantID, "")
	if err != nil {
		return consent.UserState{}, err
	}
	defer release()
	var out consent.UserState
	err = d.retryUnauthorized(ctx, op, tenantID, "", func() (err error) {
		out, err = d.userState(ctx, op, tenantID, userID)
		return err
	})
	if err != nil {
		return consent.UserState{}, err
	}
	return out, nil
}

func (d *Driver) userState(ctx context.Context, op string, tenantID, userID string) (consent.UserState, error) {
	esc := url.PathEscape(userID)
	user := &step{ctor: models.CreateUserFromDiscriminatorValue}
	dirRoles := &step{ctor: models.CreateDirectoryRoleCollectionResponseFromDiscriminatorValue}
	reg := &step{ctor: models.CreateUserRegistrationDetailsFromDiscriminatorValue}
	user.build = func() (*abstractions.RequestInformation, error) {
		return users.NewUserItemRequestBuilder(d.cfg.GraphURL+"/users/"+esc+"?$select=id,userPrincipalName,accountEnabled,lastPasswordChangeDateTime,signInSessionsValidFromDateTime,assignedLicenses", d.adapter).ToGetRequestInformation(ctx, nil)
	}
	dirRoles.build = func() (*abstractions.RequestInformation, error) {
		return users.NewItemMemberOfGraphDirectoryRoleRequestBuilder(d.cfg.GraphURL+"/users/"+esc+"/memberOf/microsoft.graph.directoryRole", d.adapter).ToGetRequestInformation(ctx, nil)
	}
	reg.build = func() (*abstractions.RequestInformation, error) {
		return reports.NewAuthenticationMethodsUserRegistrationDetailsUserRegistrationDetailsItemRequestBuilder(d.cfg.GraphURL+"/reports/authenticationMethods/userRegistrationDetails/"+esc, d.adapter).ToGetRequestInformation(ctx, nil)
	}
	if err := d.runBatch(ctx, op, tenantID, "", []*step{user, dirRoles, reg}); err != nil {
		return consent.UserState{}, err
	}
	if user.notFound() {
		return consent.UserState{ObjectID: userID}, nil
	}
	if err := firstError(user); err != nil {
		return consent.UserState{}, err
	}
	if dirRoles.err != nil && !dirRoles.notFound() {
		return consent.UserState{}, dirRoles.err
	}
	u, _ := user.value.(models.Userable)
	if u == nil || u.GetId() == nil {
		return consent.UserState{}, &consent.DriverError{Op: op, TenantID: tenantID, Err: fmt.Errorf("%w: the user came back without an id", consent.ErrTransient)}
	}
	st := consent.UserState{ObjectID: *u.GetId(), UserPrincipalName: str(u.GetUserPrincipalName()), Exists: true,
		AccountEnabled: u.GetAccountEnabled() != nil && *u.GetAccountEnabled()}
	if t := u.GetLastPasswordChangeDateTime(); t != nil {
		st.LastPasswordChange = t.UTC()
	}
	if t := u.GetSignInSessionsValidFromDateTime(); t != nil {
		st.SignInSessionsValidFrom = t.UTC()
	}
	for _, l := range u.GetAssignedLicenses() {
		if l != nil && l.GetSkuId() != nil {
			st.AssignedLicenses = append(st.AssignedLicenses, l.GetSkuId().String())
		}
	}
	slices.Sort(st.AssignedLicenses)
	if dirRoles.err == nil {
		items, err := collect(ctx, d, op, tenantID, "", dirRoles.value, models.CreateDirectoryRoleCollectionResponseFromDiscriminatorValue,
			func(v models.DirectoryRoleable) models.DirectoryRoleable { return v })
		if err != nil {
			return consent.UserState{}, err
		}
		st.DirectoryRoles = roleTemplates(items)
	}
	if r, ok := reg.value.(models.UserRegistrationDetailsable); ok && reg.err == nil {
		st.MFA.Known = true
		st.MFA.Registered = r.GetIsMfaRegistered() != nil && *r.GetIsMfaRegistered()
		required, err := d.perUserMFA(ctx, tenantID, st.ObjectID)
		if err != nil {
			return consent.UserState{}, withOp(err, op, "")
		}
		st.MFA.Required = required
	}
	return st, nil
}

// perUserMFA reads perUserMfaState from Graph beta (GET /beta/users/{id}/authentication/requirements).
// It is a plain HTTP call (the v1.0 SDK has no model for it) through the Graph middleware client,
// with the reading app's token. A 403/404 answer means "not readable": false, nil.
func (d *Driver) perUserMFA(ctx context.Context, tenantID, userID string) (bool, error) {
	beta := strings.TrimSuffix(d.cfg.GraphURL, "/v1.0") + "/beta/users/" + url.PathEscape(userID) + "/authentication/requirements"
	tok, err := d.readerToken(ctx, tenantID)
	if err != nil {
		return false, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, beta, nil)
	if err != nil {
		return false, &consent.DriverError{TenantID: tenantID, Err: err}
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Accept", "application/json")
	resp, err := d.cfg.HTTPClient.Do(req)
	if err != nil {
		return false, graphError(ctx, "", tenantID, "", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return false, graphError(ctx, "", tenantID, "", err)
	}
	if resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusNotFound {
		return false, nil
	}
	var v struct {
		PerUserMfaState string `json:"perUserMfaState"`
		Error           *struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		if resp.StatusCode >= 400 {
			return false, classifyStatus(&consent.DriverError{TenantID: tenantID, RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"))}, resp.StatusCode, "", "")
		}
		return false, &consent.DriverError{TenantID: tenantID, Err: fmt.Errorf("%w: unreadable MFA requirements: %v", consent.ErrTransient, err)}
	}
	if resp.StatusCode >= 400 {
		code, msg := "", ""
		if v.Error != nil {
			code, msg = v.Error.Code, v.Error.Message
		}
		out := &consent.DriverError{TenantID: tenantID, Code: code, RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"))}
		return false, classifyStatus(out, resp.StatusCode, code, msg)
	}
	return v.PerUserMfaState == "enforced" || v.PerUserMfaState == "enabled", nil
}

// SignIns reads the app's sign-ins since the given time, newest first
// (GET /auditLogs/signIns?$filter=appId eq '…' and createdDateTime ge …).
func (d *Driver) SignIns(ctx context.Context, tenantID, appID string, since time.Time, limit int) ([]consent.SignIn, error) {
	const op = "SignIns"
	if limit <= 0 {
		limit = 50
	}
	ctx, release, err := d.begin(ctx, op, tenantID, appID)
	if err != nil {
		return nil, err
	}
	defer release()
	var out []consent.SignIn
	err = d.retryUnauthorized(ctx, op, tenantID, appID, func() (err error) {
		out, err = d.signIns(ctx, op, tenantID, appID, since, limit)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (d *Driver) signIns(ctx context.Context, op string, tenantID, appID string, since time.Time, limit int) ([]consent.SignIn, error) {
	var err error
	filter := "appId eq '" + appID + "'"
	if !since.IsZero() {
		filter += " and createdDateTime ge " + since.UTC().Format("2006-01-02T15:04:05Z")
	}
	top := int32(min(limit, 999))
	res, err := auditlogs.NewSignInsRequestBuilderInternal(map[string]string{}, d.adapter).Get(ctx, &auditlogs.SignInsRequestBuilderGetRequestConfiguration{
		QueryParameters: &auditlogs.SignInsRequestBuilderGetQueryParameters{Filter: &filter, Top: &top}})
	if err != nil {
		return nil, endpointNotFound(graphError(ctx, op, tenantID, appID, err))
	}
	items, err := collect(ctx, d, op, tenantID, appID, res, models.CreateSignInCollectionResponseFromDiscriminatorValue,
		func(v models.SignInable) models.SignInable { return v })
	if err != nil {
		return nil, err
	}
	var out []consent.SignIn
	for _, s := range items {
		si := consent.SignIn{ID: str(s.GetId()), AppID: str(s.GetAppId()), UserObjectID: str(s.GetUserId()),
			UserPrincipalName: str(s.GetUserPrincipalName()), IPAddress: str(s.GetIpAddress())}
		if t := s.GetCreatedDateTime(); t != nil {
			si.Time = t.UTC()
		}
		if c := s.GetConditionalAccessStatus(); c != nil {
			si.ConditionalAccess = consent.ConditionalAccessStatus(c.String())
		}
		if st := s.GetStatus(); st != nil {
			if c := st.GetErrorCode(); c != nil {
				si.ErrorCode = int(*c)
			}
			si.FailureReason = str(st.GetFailureReason())
		}
		out = append(out, si)
	}
	slices.SortStableFunc(out, func(a, b consent.SignIn) int { return b.Time.Compare(a.Time) })
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}
