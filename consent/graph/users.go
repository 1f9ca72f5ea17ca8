package graph

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
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
	_, guidErr := uuid.Parse(userID)
	byObjectID := guidErr == nil
	user := &step{ctor: models.CreateUserFromDiscriminatorValue}
	dirRoles := &step{ctor: models.CreateDirectoryRoleCollectionResponseFromDiscriminatorValue}
	user.build = func() (*abstractions.RequestInformation, error) {
		return users.NewUserItemRequestBuilder(d.cfg.GraphURL+"/users/"+esc+"?$select=id,userPrincipalName,accountEnabled,lastPasswordChangeDateTime,signInSessionsValidFromDateTime,assignedLicenses", d.adapter).ToGetRequestInformation(ctx, nil)
	}
	dirRoles.build = func() (*abstractions.RequestInformation, error) {
		// users/{id | userPrincipalName}/memberOf (api-reference/v1.0/api/user-list-memberof.md).
		return advancedQuery(users.NewItemMemberOfGraphDirectoryRoleRequestBuilder(d.cfg.GraphURL+"/users/"+esc+"/memberOf/microsoft.graph.directoryRole?"+castMemberOf+"&$select="+roleFields, d.adapter).ToGetRequestInformation(ctx, nil))
	}
	steps := []*step{user, dirRoles}
	// userRegistrationDetails is keyed by the user's object ID
	// (api-reference/v1.0/api/userregistrationdetails-get.md): with a UPN it is read after the
	// user resolved it.
	var reg *step
	if byObjectID {
		reg = d.registrationStep(ctx, userID)
		steps = append(steps, reg)
	}
	if err := d.runBatch(ctx, op, tenantID, "", steps); err != nil {
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
	if reg == nil {
		if _, err := uuid.Parse(st.ObjectID); err != nil {
			return consent.UserState{}, &consent.DriverError{Op: op, TenantID: tenantID, Err: fmt.Errorf("%w: the user's id %q is not an object ID", consent.ErrTransient, st.ObjectID)}
		}
		reg = d.registrationStep(ctx, st.ObjectID)
		if err := d.runBatch(ctx, op, tenantID, "", []*step{reg}); err != nil {
			return consent.UserState{}, err
		}
	}
	st.MFA = d.mfaState(ctx, op, tenantID, st.ObjectID, reg)
	return st, nil
}

// registrationStep reads the user's authentication-method registration by object ID.
func (d *Driver) registrationStep(ctx context.Context, objectID string) *step {
	reg := &step{ctor: models.CreateUserRegistrationDetailsFromDiscriminatorValue}
	reg.build = func() (*abstractions.RequestInformation, error) {
		return reports.NewAuthenticationMethodsUserRegistrationDetailsUserRegistrationDetailsItemRequestBuilder(d.cfg.GraphURL+"/reports/authenticationMethods/userRegistrationDetails/"+url.PathEscape(objectID), d.adapter).ToGetRequestInformation(ctx, nil)
	}
	return reg
}

// mfaState combines the registration read and the per-user MFA requirement. A part that could
// not be read leaves Known false with Err saying why: a 403 is "could not check", never
// "MFA not required".
func (d *Driver) mfaState(ctx context.Context, op, tenantID, objectID string, reg *step) consent.MFAState {
	var out consent.MFAState
	r, ok := reg.value.(models.UserRegistrationDetailsable)
	switch {
	case reg.notFound():
		return out // no registration record: nothing known, nothing refused
	case reg.err != nil:
		out.Err = withOp(reg.err, op, "")
		return out
	case !ok:
		out.Err = &consent.DriverError{Op: op, TenantID: tenantID, Err: fmt.Errorf("%w: unreadable userRegistrationDetails", consent.ErrTransient)}
		return out
	}
	out.Registered = r.GetIsMfaRegistered() != nil && *r.GetIsMfaRegistered()
	required, err := d.perUserMFA(ctx, tenantID, objectID)
	if err != nil {
		out.Err = withOp(err, op, "")
		return out
	}
	out.Known, out.Required = true, required
	return out
}

// perUserMFA reads perUserMfaState from Graph beta (GET /beta/users/{id}/authentication/requirements,
// api-reference/beta/api/authentication-get.md; application permission Policy.Read.All or
// Policy.ReadWrite.AuthenticationMethod). It is a plain HTTP call on Config.HTTPClient (the v1.0
// SDK has no model for it) with the reading app's token. Every error answer, 403 included, is a
// could-not-check error: the requirement was not read.
func (d *Driver) perUserMFA(ctx context.Context, tenantID, userID string) (bool, error) {
	beta := d.betaURL() + "/users/" + url.PathEscape(userID) + "/authentication/requirements"
	var v struct {
		PerUserMfaState string `json:"perUserMfaState"`
	}
	if err := d.getBeta(ctx, tenantID, beta, &v); err != nil {
		// A 404 for a user just read says nothing about the user: could not check.
		return false, endpointNotFound(err)
	}
	return v.PerUserMfaState == "enforced" || v.PerUserMfaState == "enabled", nil
}

// betaURL is the Graph beta base URL next to the configured v1.0 one.
func (d *Driver) betaURL() string { return strings.TrimSuffix(d.cfg.GraphURL, "/v1.0") + "/beta" }

// getBeta GETs a Graph beta URL with the reading app's token and decodes the JSON answer into
// out. Error answers become *consent.DriverError (403 → ErrForbidden, 404 → ErrNotFound, …).
func (d *Driver) getBeta(ctx context.Context, tenantID, u string, out any) error {
	tok, err := d.readerToken(ctx, tenantID)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return &consent.DriverError{TenantID: tenantID, Err: err}
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Accept", "application/json")
	resp, err := d.cfg.HTTPClient.Do(req)
	if err != nil {
		return graphError(ctx, "", tenantID, "", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return graphError(ctx, "", tenantID, "", err)
	}
	if resp.StatusCode >= 400 {
		var e struct {
			Error *struct {
				Code    string `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		code, msg := "", ""
		if json.Unmarshal(body, &e) == nil && e.Error != nil {
			code, msg = e.Error.Code, e.Error.Message
		}
		de := &consent.DriverError{TenantID: tenantID, Code: code, RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"))}
		return classifyStatus(de, resp.StatusCode, code, msg)
	}
	if err := json.Unmarshal(body, out); err != nil {
		return &consent.DriverError{TenantID: tenantID, Err: fmt.Errorf("%w: unreadable Graph beta answer: %v", consent.ErrTransient, err)}
	}
	return nil
}

// SignIns reads the app's sign-ins since the given time, newest first, at most limit of them:
// interactive sign-ins from v1.0 (GET /auditLogs/signIns, which serves only those —
// api-reference/v1.0/api/signin-list.md) and non-interactive (refresh-token) sign-ins from beta
// with the documented event-type filter (api-reference/beta/api/signin-list.md,
// signInEventTypes/any(t: t eq 'nonInteractiveUser'); entra-docs
// docs/identity/monitoring-health/howto-analyze-activity-logs-with-microsoft-graph.md). Each
// read asks for $top=limit and stops at limit: Graph returns newest first
// (signin-list.md: "listed in descending order based on createdDateTime"), so a busy app costs
// two requests, not a walk of its whole log.
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

// maxSignInPage is the sign-in log's largest page (signin-list.md: "The maximum and default page
// size is 1,000 objects").
const maxSignInPage = 1000

func (d *Driver) signIns(ctx context.Context, op string, tenantID, appID string, since time.Time, limit int) ([]consent.SignIn, error) {
	filter := "appId eq '" + appID + "'"
	if !since.IsZero() {
		filter += " and createdDateTime ge " + since.UTC().Format("2006-01-02T15:04:05Z")
	}
	top := int32(min(limit, maxSignInPage))
	res, err := auditlogs.NewSignInsRequestBuilderInternal(map[string]string{}, d.adapter).Get(ctx, &auditlogs.SignInsRequestBuilderGetRequestConfiguration{
		QueryParameters: &auditlogs.SignInsRequestBuilderGetQueryParameters{Filter: &filter, Top: &top}})
	if err != nil {
		return nil, endpointNotFound(graphError(ctx, op, tenantID, appID, err))
	}
	items, err := collectN(ctx, d, op, tenantID, appID, res, models.CreateSignInCollectionResponseFromDiscriminatorValue,
		func(v models.SignInable) models.SignInable { return v }, limit)
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
	bg, err := d.nonInteractiveSignIns(ctx, op, tenantID, appID, filter, limit)
	if err != nil {
		return nil, err
	}
	out = append(out, bg...)
	slices.SortStableFunc(out, func(a, b consent.SignIn) int { return b.Time.Compare(a.Time) })
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// betaSignIn is the part of a beta signIn the driver reads (plain JSON: the v1.0 SDK has no beta
// models).
type betaSignIn struct {
	ID                      string    `json:"id"`
	CreatedDateTime         time.Time `json:"createdDateTime"`
	AppID                   string    `json:"appId"`
	UserID                  string    `json:"userId"`
	UserPrincipalName       string    `json:"userPrincipalName"`
	IPAddress               string    `json:"ipAddress"`
	ConditionalAccessStatus string    `json:"conditionalAccessStatus"`
	Status                  *struct {
		ErrorCode     int    `json:"errorCode"`
		FailureReason string `json:"failureReason"`
	} `json:"status"`
}

// nonInteractiveSignIns reads at most limit non-interactive sign-ins from beta, newest first.
func (d *Driver) nonInteractiveSignIns(ctx context.Context, op, tenantID, appID, filter string, limit int) ([]consent.SignIn, error) {
	filter += " and signInEventTypes/any(t: t eq 'nonInteractiveUser')"
	next := d.betaURL() + "/auditLogs/signIns?$filter=" + odataEscape(filter) + "&$top=" + strconv.Itoa(min(limit, maxSignInPage))
	var out []consent.SignIn
	for pages := 0; next != "" && len(out) < limit; pages++ {
		if pages > 100 {
			return nil, &consent.DriverError{Op: op, TenantID: tenantID, AppID: appID, Err: fmt.Errorf("%w: more than 100 pages of sign-ins", consent.ErrTransient)}
		}
		var page struct {
			Value    []betaSignIn `json:"value"`
			NextLink string       `json:"@odata.nextLink"`
		}
		if err := d.getBeta(ctx, tenantID, next, &page); err != nil {
			return nil, endpointNotFound(withOp(err, op, appID))
		}
		for _, s := range page.Value {
			si := consent.SignIn{ID: s.ID, Time: s.CreatedDateTime.UTC(), AppID: s.AppID, UserObjectID: s.UserID,
				UserPrincipalName: s.UserPrincipalName, IPAddress: s.IPAddress, ConditionalAccess: consent.ConditionalAccessStatus(s.ConditionalAccessStatus)}
			if s.Status != nil {
				si.ErrorCode, si.FailureReason = s.Status.ErrorCode, s.Status.FailureReason
			}
			out = append(out, si)
		}
		next = page.NextLink
		if next != "" && !strings.HasPrefix(next, d.betaURL()+"/") {
			return nil, &consent.DriverError{Op: op, TenantID: tenantID, AppID: appID, Err: fmt.Errorf("%w: a sign-in nextLink leaves %s", consent.ErrTransient, d.betaURL())}
		}
	}
	return out[:min(len(out), limit)], nil
}
