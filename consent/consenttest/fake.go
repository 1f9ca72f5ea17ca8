package consenttest

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/tenantapps/tenantapps/consent"
	"github.com/tenantapps/tenantapps/roles"
)

// Driver method names, as recorded in Action.Method and accepted by OnCall.
const (
	MethodAppState             = "AppState"
	MethodAppStates            = "AppStates"
	MethodAssignDirectoryRole  = "AssignDirectoryRole"
	MethodKeyCredentials       = "KeyCredentials"
	MethodProveCertificate     = "ProveCertificate"
	MethodRedeemCode           = "RedeemCode"
	MethodProveDelegated       = "ProveDelegated"
	MethodUserState            = "UserState"
	MethodSignIns              = "SignIns"
	MethodAzureRoleAssignments = "AzureRoleAssignments"
	// AnyMethod registers a hook for every driver method.
	AnyMethod = "*"
)

// MethodAppStatesItem registers, with OnCall, a hook that runs once for each app ID of an
// AppStates call (in request order, after the call's own hooks): a non-nil error fails that
// app's result only, as one throttled item of a Graph $batch does, and the other apps are read
// normally. The hook sees an Action with Method MethodAppStates, the call's TenantID and AppID
// set to the item's app ID. Item hooks are not driver calls: AnyMethod hooks do not run per
// item, and nothing is recorded per item.
const MethodAppStatesItem = "AppStates/item"

// Action is one recorded driver call.
type Action struct {
	// Method is the driver method, e.g. MethodAppState.
	Method string
	// TenantID and AppID are the call's tenant and app (empty where the method has none).
	TenantID string
	AppID    string
	// Arg is the method's other argument in text form: the role for AssignDirectoryRole, the
	// user for UserState, the scope for AzureRoleAssignments, the certificate's SHA-1
	// thumbprint for ProveCertificate, the redirect URI for RedeemCode, the since time
	// (RFC 3339) for SignIns, and for AppStates the app IDs in request order, joined with ","
	// (AppID is then empty: one AppStates call is one Action, however many apps it reads).
	// Secrets (codes, verifiers, keys) are never recorded.
	Arg string
}

// Hook runs before a driver call, outside the Fake's lock. A non-nil error is returned by the
// call (wrapped in a *consent.DriverError unless it already is one) and the call does nothing
// else. Hooks may block, but should honour ctx (see Delay).
type Hook func(ctx context.Context, a Action) error

// Fail returns a hook that always fails with err.
func Fail(err error) Hook {
	return func(context.Context, Action) error { return err }
}

// Throttle returns a hook that fails like a throttled service: an error wrapping
// consent.ErrThrottled with RetryAfter set.
func Throttle(retryAfter time.Duration) Hook {
	return func(_ context.Context, a Action) error {
		return &consent.DriverError{Op: a.Method, TenantID: a.TenantID, AppID: a.AppID, Code: "TooManyRequests", RetryAfter: retryAfter, Err: consent.ErrThrottled}
	}
}

// Delay returns a hook that waits d (or until ctx ends, returning its error) and then lets the
// call proceed.
func Delay(d time.Duration) Hook {
	return func(ctx context.Context, _ Action) error {
		timer := time.NewTimer(d)
		defer timer.Stop()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-timer.C:
			return nil
		}
	}
}

// ForTenant returns a hook that runs h only for calls about tenantID.
func ForTenant(tenantID string, h Hook) Hook {
	return func(ctx context.Context, a Action) error {
		if !strings.EqualFold(a.TenantID, tenantID) {
			return nil
		}
		return h(ctx, a)
	}
}

// Times returns a hook that runs h for the first n calls that reach it and then does nothing.
func Times(n int, h Hook) Hook {
	var mu sync.Mutex
	return func(ctx context.Context, a Action) error {
		mu.Lock()
		run := n > 0
		if run {
			n--
		}
		mu.Unlock()
		if !run {
			return nil
		}
		return h(ctx, a)
	}
}

// Option configures a Fake.
type Option func(*Fake)

// WithClock sets the Fake's clock (default time.Now; nil keeps it).
func WithClock(now func() time.Time) Option {
	return func(f *Fake) {
		if now != nil {
			f.now = now
		}
	}
}

// WithRandom sets the source of randomness for object IDs, codes and token caches (default
// crypto/rand.Reader; nil keeps it). Use a seeded reader for reproducible IDs; it is only read
// with the Fake's lock held, so it need not be safe for concurrent use.
func WithRandom(r io.Reader) Option {
	return func(f *Fake) {
		if r != nil {
			f.rand = r
		}
	}
}

// FakeClientIP is the address the Fake sees the driver's requests come from (ProveDelegated's
// non-interactive sign-ins) unless WithClientIP changes it; block it with BlockIP to simulate
// Conditional Access refusing the app.
const FakeClientIP = "192.0.2.10"

// WithClientIP sets the address the Fake sees the driver's requests come from (default
// FakeClientIP).
func WithClientIP(ip string) Option {
	return func(f *Fake) { f.ip = ip }
}

// WithTokenLifetime sets the lifetime of the tokens ProveCertificate and RedeemCode report
// (default one hour; a non-positive d keeps it).
func WithTokenLifetime(d time.Duration) Option {
	return func(f *Fake) {
		if d > 0 {
			f.tokenLifetime = d
		}
	}
}

// WithAppRoleValue teaches the Fake the value of an app role, which ProveCertificate reports in
// TokenProof.Roles (as a real token's roles claim does). A few Microsoft Graph roles are known
// already; unknown roles are reported by their GUID.
func WithAppRoleValue(resourceAppID, appRoleID, value string) Option {
	return func(f *Fake) { f.roleValues[key(resourceAppID, appRoleID)] = value }
}

// Fake is an in-memory directory of tenants that implements consent.Driver, every optional
// driver interface, Directory and FaultInjector. It records every driver call (not the
// Directory calls that set it up) in Actions, runs hooks registered with OnCall before each
// driver call, and is safe for concurrent use.
//
// Differences from Entra ID worth knowing: an app may be registered with an empty
// HomeTenantID (a vendor app whose home tenant the test does not model); RedeemCode with a nil
// Credential trusts the caller; object IDs are random UUIDs drawn from WithRandom.
type Fake struct {
	now           func() time.Time
	rand          io.Reader
	tokenLifetime time.Duration
	roleValues    map[string]string

	mu      sync.Mutex
	tenants map[string]*fakeTenant
	apps    map[string]*fakeApp
	codes   map[string]*fakeCode
	caches  map[string]*fakeSession // by token cache contents
	ip      string
	actions []Action
	hooks   map[string][]Hook
	faults  map[string]FaultKind
}

var (
	_ consent.Driver              = (*Fake)(nil)
	_ consent.AppStatesReader     = (*Fake)(nil)
	_ consent.RoleAssigner        = (*Fake)(nil)
	_ consent.KeyCredentialReader = (*Fake)(nil)
	_ consent.CertificateProver   = (*Fake)(nil)
	_ consent.CodeRedeemer        = (*Fake)(nil)
	_ consent.DelegatedProver     = (*Fake)(nil)
	_ consent.UserStateReader     = (*Fake)(nil)
	_ consent.SignInReader        = (*Fake)(nil)
	_ consent.AzureRoleReader     = (*Fake)(nil)
	_ Directory                   = (*Fake)(nil)
	_ FaultInjector               = (*Fake)(nil)
	_ TenantDeleter               = (*Fake)(nil)
)

// OnlyDriver returns d with only the consent.Driver method visible, hiding every optional
// interface d implements: use it to test how code behaves with a driver that cannot assign
// roles, read users, prove certificates, and so on.
func OnlyDriver(d consent.Driver) consent.Driver { return onlyDriver{d} }

type onlyDriver struct{ d consent.Driver }

func (o onlyDriver) AppState(ctx context.Context, tenantID, appID string) (consent.AppState, error) {
	return o.d.AppState(ctx, tenantID, appID)
}

type fakeTenant struct {
	info       Tenant
	sps        map[string]*fakeSP // by lower-case appID
	users      map[string]*fakeUser
	deleted    map[string]string // deleted user object ID -> UPN
	blockedIPs map[string]bool
	signIns    []consent.SignIn
}

type fakeSP struct {
	objectID    string
	appID       string
	displayName string
	enabled     bool
	ownerTenant string
	appRoles    map[string]consent.AppRoleGrant    // key(resource, role)
	delegated   map[string]*consent.DelegatedGrant // key(resource, principal)
	dirRoles    map[roles.TemplateID]bool
	azure       map[string]consent.AzureRoleAssignment // key(scope, role)
}

type fakeApp struct {
	App
	keys []consent.KeyCredential
}

type fakeUser struct {
	objectID      string
	upn           string
	enabled       bool
	lastPwd       time.Time
	sessionsFrom  time.Time
	licenses      map[string]bool
	dirRoles      map[roles.TemplateID]bool
	mfaRegistered bool
	mfaRequired   bool
}

// fakeSession is what a token cache issued by the Fake stands for: a refresh token of userID
// for appID, issued at issued, with MFA satisfied or not.
type fakeSession struct {
	tenantID, appID, userID string
	scopes                  []string
	issued                  time.Time
	mfa                     bool
}

type fakeCode struct {
	tenantID, appID, userID, redirectURI, challenge string
	scopes                                          []string
	issued                                          time.Time
	used                                            bool
}

// wellKnownRoleValues are Microsoft Graph app roles the Fake can name without WithAppRoleValue.
var wellKnownRoleValues = map[string]string{
	key(consent.MicrosoftGraphAppID, "df021288-bdef-4463-88db-98f22de89214"): "User.Read.All",
	key(consent.MicrosoftGraphAppID, "7ab1d382-f21e-4acd-a863-ba3e13f7da61"): "Directory.Read.All",
	key(consent.MicrosoftGraphAppID, "9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30"): "Application.Read.All",
	key(consent.MicrosoftGraphAppID, "1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9"): "Application.ReadWrite.All",
	key(consent.MicrosoftGraphAppID, "9e3f62cf-ca93-4989-b6ce-bf83c28f9fe8"): "RoleManagement.ReadWrite.Directory",
	key(consent.MicrosoftGraphAppID, "483bed4a-2ad3-4361-a73b-c83ccdbdc53c"): "RoleManagement.Read.Directory",
	key(consent.MicrosoftGraphAppID, "498476ce-e0fe-48b0-b801-37ba7e2685c6"): "Organization.Read.All",
	key(consent.MicrosoftGraphAppID, "b0afded3-3588-46d8-8b3d-9842eff778da"): "AuditLog.Read.All",
	key(consent.MicrosoftGraphAppID, "62a82d76-70ea-41e2-9197-370581804d09"): "Group.ReadWrite.All",
	key(consent.MicrosoftGraphAppID, "810c84a8-4a9e-49e6-bf7d-12d183f40d01"): "Mail.Read",
	key(consent.MicrosoftGraphAppID, "01d4889c-1287-42c6-ac1f-5d1e02578ef6"): "Files.Read.All",
	key(consent.MicrosoftGraphAppID, "332a536c-c7ef-4017-ab91-336970924f0d"): "Sites.Read.All",
}

// NewFake returns an empty Fake.
func NewFake(opts ...Option) *Fake {
	f := &Fake{
		now:           time.Now,
		rand:          rand.Reader,
		tokenLifetime: time.Hour,
		roleValues:    make(map[string]string),
		tenants:       make(map[string]*fakeTenant),
		apps:          make(map[string]*fakeApp),
		codes:         make(map[string]*fakeCode),
		caches:        make(map[string]*fakeSession),
		ip:            FakeClientIP,
		hooks:         make(map[string][]Hook),
		faults:        make(map[string]FaultKind),
	}
	for k, v := range wellKnownRoleValues {
		f.roleValues[k] = v
	}
	for _, o := range opts {
		if o != nil {
			o(f)
		}
	}
	return f
}

func key(parts ...string) string {
	for i, p := range parts {
		parts[i] = strings.ToLower(p)
	}
	return strings.Join(parts, "\x00")
}

// ---- recording and hooks ----

// Actions returns a copy of the driver calls recorded so far, oldest first.
func (f *Fake) Actions() []Action {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.actions)
}

// ClearActions forgets the recorded calls.
func (f *Fake) ClearActions() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.actions = nil
}

// CountActions returns how many recorded calls were of method (AnyMethod: all).
func (f *Fake) CountActions(method string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, a := range f.actions {
		if method == AnyMethod || a.Method == method {
			n++
		}
	}
	return n
}

// OnCall registers hook to run before every call of method (a Method* constant, or AnyMethod;
// MethodAppStatesItem: before each app of an AppStates call). Hooks run in registration order,
// method-specific ones after AnyMethod ones; the first error ends the call.
func (f *Fake) OnCall(method string, hook Hook) {
	if hook == nil {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hooks[method] = append(f.hooks[method], hook)
}

// ClearHooks removes every hook registered with OnCall.
func (f *Fake) ClearHooks() {
	f.mu.Lock()
	defer f.mu.Unlock()
	clear(f.hooks)
}

// InjectFault makes every driver call about tenantID fail as kind until clear is called.
func (f *Fake) InjectFault(tenantID string, kind FaultKind) (func(), error) {
	switch kind {
	case FaultThrottled, FaultUnavailable, FaultForbidden, FaultMalformed:
	default:
		return nil, fmt.Errorf("consenttest: fault %d: %w", kind, errors.ErrUnsupported)
	}
	k := strings.ToLower(tenantID)
	f.mu.Lock()
	f.faults[k] = kind
	f.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			f.mu.Lock()
			defer f.mu.Unlock()
			if f.faults[k] == kind {
				delete(f.faults, k)
			}
		})
	}, nil
}

func faultError(kind FaultKind, a Action) error {
	de := &consent.DriverError{Op: a.Method, TenantID: a.TenantID, AppID: a.AppID}
	switch kind {
	case FaultThrottled:
		de.Code, de.RetryAfter, de.Err = "TooManyRequests", time.Second, consent.ErrThrottled
	case FaultUnavailable:
		de.Code, de.Err = "serviceNotAvailable", consent.ErrTransient
	case FaultForbidden:
		de.Code, de.Err = "Authorization_RequestDenied", consent.ErrForbidden
	case FaultMalformed:
		de.Err = fmt.Errorf("%w: malformed response body", consent.ErrTransient)
	}
	return de
}

// begin records the call, checks ctx, and runs faults and hooks. A non-nil error ends the call.
func (f *Fake) begin(ctx context.Context, a Action) error {
	f.mu.Lock()
	f.actions = append(f.actions, a)
	hooks := append(slices.Clone(f.hooks[AnyMethod]), f.hooks[a.Method]...)
	fault := f.faults[strings.ToLower(a.TenantID)]
	f.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return opErr(a, "", err)
	}
	if fault != 0 {
		return faultError(fault, a)
	}
	return runHooks(ctx, a, hooks)
}

// beginTenant is begin for a call about one tenant: after the hooks it refuses an empty tenant
// ID (consent.ErrInvalidArgument).
func (f *Fake) beginTenant(ctx context.Context, a Action) error {
	if err := f.begin(ctx, a); err != nil {
		return err
	}
	if a.TenantID == "" {
		return invalidArg(a, "tenant ID")
	}
	return nil
}

// beginApp is begin for a call about one app in one tenant: after the hooks it refuses an empty
// tenant ID, then an empty app ID (consent.ErrInvalidArgument).
func (f *Fake) beginApp(ctx context.Context, a Action) error {
	err := f.beginTenant(ctx, a)
	if err == nil && a.AppID == "" {
		err = invalidArg(a, "app ID")
	}
	return err
}

// runHooks runs hooks in order and returns the first error, wrapped in a *consent.DriverError
// naming a unless it already is one.
func runHooks(ctx context.Context, a Action, hooks []Hook) error {
	for _, h := range hooks {
		if err := h(ctx, a); err != nil {
			var de *consent.DriverError
			if errors.As(err, &de) {
				return err
			}
			return opErr(a, "", err)
		}
	}
	return nil
}

func opErr(a Action, code string, err error) error {
	return &consent.DriverError{Op: a.Method, TenantID: a.TenantID, AppID: a.AppID, Code: code, Err: err}
}

func invalidArg(a Action, what string) error {
	return opErr(a, "", fmt.Errorf("%w: %s is empty", consent.ErrInvalidArgument, what))
}

// tenantLocked returns the tenant or a tenant-not-found error; f.mu must be held.
func (f *Fake) tenantLocked(a Action) (*fakeTenant, error) {
	t, ok := f.tenants[strings.ToLower(a.TenantID)]
	if !ok {
		return nil, opErr(a, "AADSTS90002", consent.ErrTenantNotFound)
	}
	return t, nil
}

// spLocked returns a.AppID's service principal in a's tenant: an error wrapping
// consent.ErrTenantNotFound if there is no such tenant, or one wrapping consent.ErrNotConsented
// with code if the app has no service principal there. f.mu must be held.
func (f *Fake) spLocked(a Action, code string) (*fakeSP, error) {
	t, err := f.tenantLocked(a)
	if err != nil {
		return nil, err
	}
	sp, ok := t.sps[strings.ToLower(a.AppID)]
	if !ok {
		return nil, opErr(a, code, consent.ErrNotConsented)
	}
	return sp, nil
}

// tokenSPLocked returns a.AppID's service principal in t as the token endpoint checks it: none is
// consent.ErrNotConsented (AADSTS700016), a disabled one consent.ErrAppDisabled (AADSTS7000112).
// f.mu must be held.
func (t *fakeTenant) tokenSPLocked(a Action) (*fakeSP, error) {
	sp, ok := t.sps[strings.ToLower(a.AppID)]
	if !ok {
		return nil, opErr(a, "AADSTS700016", consent.ErrNotConsented)
	}
	if !sp.enabled {
		return nil, opErr(a, "AADSTS7000112", consent.ErrAppDisabled)
	}
	return sp, nil
}

func (f *Fake) newID() string {
	id, err := uuid.NewRandomFromReader(f.rand)
	if err != nil {
		// A broken random source is a test bug; fall back to the system source.
		return uuid.NewString()
	}
	return id.String()
}

// ---- consent.Driver ----

// AppState implements consent.Driver.
func (f *Fake) AppState(ctx context.Context, tenantID, appID string) (consent.AppState, error) {
	a := Action{Method: MethodAppState, TenantID: tenantID, AppID: appID}
	if err := f.beginApp(ctx, a); err != nil {
		return consent.AppState{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	t, err := f.tenantLocked(a)
	if err != nil {
		return consent.AppState{}, err
	}
	return t.appState(tenantID, appID), nil
}

// AppStates implements consent.AppStatesReader: one call reads every app, as one Graph $batch
// would. It is recorded as one Action (MethodAppStates, Arg the app IDs joined with ","), and
// the AnyMethod and MethodAppStates hooks and an injected fault run once for the whole call,
// so they fail it whole (nil results), as do an empty or unknown tenant ID and an ended ctx.
// Hooks registered for MethodAppStatesItem then run once per app and fail only that app's
// result. Each remaining result is what AppState returns for the app at that moment; an
// empty app ID fails only its own result (consent.ErrInvalidArgument).
func (f *Fake) AppStates(ctx context.Context, tenantID string, appIDs []string) ([]consent.AppStateResult, error) {
	a := Action{Method: MethodAppStates, TenantID: tenantID, Arg: strings.Join(appIDs, ",")}
	if err := f.beginTenant(ctx, a); err != nil {
		return nil, err
	}
	out := make([]consent.AppStateResult, len(appIDs))
	f.mu.Lock()
	itemHooks := slices.Clone(f.hooks[MethodAppStatesItem])
	f.mu.Unlock()
	item := func(appID string) Action { return Action{Method: MethodAppStates, TenantID: tenantID, AppID: appID} }
	if len(itemHooks) > 0 {
		for i, appID := range appIDs {
			out[i].Err = runHooks(ctx, item(appID), itemHooks)
		}
		// An item hook may block until ctx ends: that ends the whole call, not one item.
		if err := ctx.Err(); err != nil {
			return nil, opErr(a, "", err)
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	t, err := f.tenantLocked(a)
	if err != nil {
		return nil, err
	}
	for i, appID := range appIDs {
		switch {
		case out[i].Err != nil:
		case appID == "":
			out[i].Err = invalidArg(item(appID), "app ID")
		default:
			out[i].State = t.appState(tenantID, appID)
		}
	}
	return out, nil
}

// appState reads appID's state in t; the Fake's lock must be held. TenantID and AppID echo the
// request.
func (t *fakeTenant) appState(tenantID, appID string) consent.AppState {
	st := consent.AppState{TenantID: tenantID, AppID: appID}
	sp, ok := t.sps[strings.ToLower(appID)]
	if !ok {
		return st
	}
	st.Exists = true
	st.ServicePrincipal = consent.ServicePrincipal{
		ObjectID: sp.objectID, AppID: sp.appID, DisplayName: sp.displayName,
		Enabled: sp.enabled, AppOwnerTenantID: sp.ownerTenant,
	}
	if len(sp.appRoles) > 0 {
		st.AppRoleGrants = make([]consent.AppRoleGrant, 0, len(sp.appRoles))
	}
	for _, g := range sp.appRoles {
		st.AppRoleGrants = append(st.AppRoleGrants, g)
	}
	for _, g := range sp.delegated {
		c := *g
		c.Scopes = slices.Clone(g.Scopes)
		st.DelegatedGrants = append(st.DelegatedGrants, c)
	}
	for r := range sp.dirRoles {
		st.DirectoryRoles = append(st.DirectoryRoles, r)
	}
	st.Normalize()
	return st
}

func sortedRoles(m map[roles.TemplateID]bool) []roles.TemplateID {
	var out []roles.TemplateID
	for r := range m {
		out = append(out, r)
	}
	slices.Sort(out)
	return out
}

// ---- optional driver interfaces ----

// AssignDirectoryRole implements consent.RoleAssigner.
func (f *Fake) AssignDirectoryRole(ctx context.Context, tenantID, appID string, role roles.TemplateID) (bool, error) {
	a := Action{Method: MethodAssignDirectoryRole, TenantID: tenantID, AppID: appID, Arg: string(role)}
	if err := f.beginApp(ctx, a); err != nil {
		return false, err
	}
	if role == "" {
		return false, invalidArg(a, "role")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	sp, err := f.spLocked(a, "Request_ResourceNotFound")
	if err != nil {
		return false, err
	}
	role = roles.TemplateID(strings.ToLower(string(role)))
	if sp.dirRoles[role] {
		return false, nil
	}
	sp.dirRoles[role] = true
	return true, nil
}

// KeyCredentials implements consent.KeyCredentialReader.
func (f *Fake) KeyCredentials(ctx context.Context, tenantID, appID string) ([]consent.KeyCredential, error) {
	a := Action{Method: MethodKeyCredentials, TenantID: tenantID, AppID: appID}
	if err := f.beginApp(ctx, a); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, err := f.tenantLocked(a); err != nil {
		return nil, err
	}
	app, ok := f.apps[strings.ToLower(appID)]
	if !ok || !strings.EqualFold(app.HomeTenantID, tenantID) {
		return nil, opErr(a, "Request_ResourceNotFound", fmt.Errorf("%w: no application registration %s in the tenant", consent.ErrNotFound, appID))
	}
	out := make([]consent.KeyCredential, len(app.keys))
	for i, k := range app.keys {
		k.Certificate = slices.Clone(k.Certificate)
		out[i] = k
	}
	return out, nil
}

// ProveCertificate implements consent.CertificateProver: it checks the tenant, the app's service
// principal, that the certificate is registered on the app and valid now, and that the key
// really signs for the certificate.
func (f *Fake) ProveCertificate(ctx context.Context, tenantID, appID string, cred consent.CertificateCredential) (consent.TokenProof, error) {
	a := Action{Method: MethodProveCertificate, TenantID: tenantID, AppID: appID}
	if leaf := cred.Leaf(); leaf != nil {
		a.Arg, _ = consent.Thumbprints(leaf.Raw)
	}
	if err := f.beginApp(ctx, a); err != nil {
		return consent.TokenProof{}, err
	}
	switch {
	case cred.Leaf() == nil:
		return consent.TokenProof{}, invalidArg(a, "certificate")
	case cred.Key == nil:
		return consent.TokenProof{}, invalidArg(a, "private key")
	}
	keyErr := proveKey(cred)
	f.mu.Lock()
	defer f.mu.Unlock()
	// Entra's order: the tenant, the app's service principal there, then the assertion.
	t, err := f.tenantLocked(a)
	if err != nil {
		return consent.TokenProof{}, err
	}
	sp, err := t.tokenSPLocked(a)
	if err != nil {
		return consent.TokenProof{}, err
	}
	if keyErr != nil {
		return consent.TokenProof{}, opErr(a, "AADSTS700027", fmt.Errorf("%w: %v", consent.ErrInvalidCredential, keyErr))
	}
	if err := f.checkCredentialLocked(a, cred); err != nil {
		return consent.TokenProof{}, err
	}
	proof := consent.TokenProof{TenantID: t.info.ID, AppID: sp.appID, ServicePrincipalID: sp.objectID, ExpiresAt: f.now().Add(f.tokenLifetime)}
	for _, g := range sp.appRoles {
		v, ok := f.roleValues[key(g.ResourceAppID, g.AppRoleID)]
		if !ok {
			v = g.AppRoleID
		}
		proof.Roles = append(proof.Roles, v)
	}
	slices.Sort(proof.Roles)
	return proof, nil
}

// checkCredentialLocked checks that cred's leaf is a current key credential of the app.
func (f *Fake) checkCredentialLocked(a Action, cred consent.CertificateCredential) error {
	app, ok := f.apps[strings.ToLower(a.AppID)]
	if !ok {
		return opErr(a, "AADSTS700016", consent.ErrNotConsented)
	}
	leaf := cred.Leaf()
	now := f.now()
	for _, k := range app.keys {
		if k.Matches(leaf) {
			if !k.ActiveAt(now) || now.Before(leaf.NotBefore) || now.After(leaf.NotAfter) {
				return opErr(a, "AADSTS700027", fmt.Errorf("%w: the certificate is outside its validity period", consent.ErrInvalidCredential))
			}
			return nil
		}
	}
	return opErr(a, "AADSTS700027", fmt.Errorf("%w: the certificate is not registered on the application", consent.ErrInvalidCredential))
}

// proveKey signs a random digest with cred.Key and verifies it with the leaf's public key.
func proveKey(cred consent.CertificateCredential) error {
	nonce := make([]byte, 32)
	if _, err := rand.Read(nonce); err != nil {
		return fmt.Errorf("random source: %v", err)
	}
	digest := sha256.Sum256(nonce)
	sig, err := cred.Key.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		return fmt.Errorf("the key cannot sign: %v", err)
	}
	switch pub := cred.Leaf().PublicKey.(type) {
	case *rsa.PublicKey:
		if rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig) != nil {
			return errors.New("the private key does not belong to the certificate")
		}
	case *ecdsa.PublicKey:
		if !ecdsa.VerifyASN1(pub, digest[:], sig) {
			return errors.New("the private key does not belong to the certificate")
		}
	default:
		return fmt.Errorf("unsupported certificate key type %T", pub)
	}
	return nil
}

// RedeemCode implements consent.CodeRedeemer for codes issued by AuthorizeUser. A nil
// req.Credential is trusted (the Fake has no configured credentials); a non-nil one must be a
// current key credential of the app.
func (f *Fake) RedeemCode(ctx context.Context, req consent.CodeRedemption) (consent.Redeemed, error) {
	a := Action{Method: MethodRedeemCode, TenantID: req.TenantID, AppID: req.AppID, Arg: req.RedirectURI}
	if err := f.beginApp(ctx, a); err != nil {
		return consent.Redeemed{}, err
	}
	switch {
	case req.Code == "":
		return consent.Redeemed{}, invalidArg(a, "code")
	case req.RedirectURI == "":
		return consent.Redeemed{}, invalidArg(a, "redirect URI")
	}
	if req.Credential != nil {
		if req.Credential.Leaf() == nil || req.Credential.Key == nil {
			return consent.Redeemed{}, invalidArg(a, "credential certificate or key")
		}
		if err := proveKey(*req.Credential); err != nil {
			return consent.Redeemed{}, opErr(a, "AADSTS700027", fmt.Errorf("%w: %v", consent.ErrInvalidCredential, err))
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	multi := strings.EqualFold(req.TenantID, "organizations") || strings.EqualFold(req.TenantID, "common")
	if !multi {
		if _, err := f.tenantLocked(a); err != nil {
			return consent.Redeemed{}, err
		}
	}
	if _, ok := f.apps[strings.ToLower(req.AppID)]; !ok {
		return consent.Redeemed{}, opErr(a, "AADSTS700016", consent.ErrNotConsented)
	}
	if req.Credential != nil {
		if err := f.checkCredentialLocked(a, *req.Credential); err != nil {
			return consent.Redeemed{}, err
		}
	}
	c, ok := f.codes[req.Code]
	grantErr := func(code, why string) (consent.Redeemed, error) {
		return consent.Redeemed{}, opErr(a, code, fmt.Errorf("%w: %s", consent.ErrInvalidGrant, why))
	}
	switch {
	case !ok:
		return grantErr("AADSTS9002313", "the code is not one the tenant issued")
	case c.used:
		return grantErr("AADSTS54005", "the code was already redeemed")
	case f.now().Sub(c.issued) > 10*time.Minute:
		return grantErr("AADSTS70008", "the code expired")
	case !strings.EqualFold(c.appID, req.AppID):
		return grantErr("AADSTS70000", "the code was issued to another app")
	case !multi && !strings.EqualFold(c.tenantID, req.TenantID):
		return grantErr("AADSTS700005", "the code was issued by another tenant")
	case c.redirectURI != req.RedirectURI:
		return grantErr("AADSTS50011", "the redirect URI does not match the authorization request")
	case c.challenge != "" && pkceChallenge(req.PKCEVerifier) != c.challenge:
		return grantErr("AADSTS501481", "the PKCE code verifier does not match the challenge")
	}
	c.used = true
	t := f.tenants[strings.ToLower(c.tenantID)]
	u, ok := t.users[strings.ToLower(c.userID)]
	if !ok || !u.enabled {
		return grantErr("AADSTS50057", "the consenting user no longer exists or is disabled")
	}
	cache := make([]byte, 48)
	if _, err := io.ReadFull(f.rand, cache); err != nil {
		return consent.Redeemed{}, opErr(a, "", fmt.Errorf("%w: random source: %v", consent.ErrTransient, err))
	}
	tokenCache := "consenttest-token-cache:" + base64.RawURLEncoding.EncodeToString(cache)
	f.caches[tokenCache] = &fakeSession{tenantID: t.info.ID, appID: c.appID, userID: u.objectID, scopes: slices.Clone(c.scopes), issued: f.now(), mfa: u.mfaRequired}
	return consent.Redeemed{
		TenantID: t.info.ID, UserObjectID: u.objectID, UserPrincipalName: u.upn,
		Scopes: scpClaim(c.scopes), ExpiresAt: f.now().Add(f.tokenLifetime),
		TokenCache: []byte(tokenCache),
	}, nil
}

// scpClaim returns the scope values of requested scopes as an access token's scp claim lists
// them: sorted, without offline_access.
func scpClaim(requested []string) []string {
	var scp []string
	for _, s := range requested {
		if _, v, ok := ParseScope(s); ok && !strings.EqualFold(v, "offline_access") {
			scp = append(scp, v)
		}
	}
	slices.Sort(scp)
	return slices.Compact(scp)
}

// oidcScopes are granted implicitly with any delegated consent; the Fake does not require them
// in the delegated grant when refreshing.
var oidcScopes = map[string]bool{"openid": true, "profile": true, "email": true, "offline_access": true}

// ProveDelegated implements consent.DelegatedProver for token caches returned by RedeemCode (or
// a previous ProveDelegated). Every attempt is recorded as a non-interactive sign-in from the
// client IP (see WithClientIP), successful or not, as Entra's sign-in logs do.
func (f *Fake) ProveDelegated(ctx context.Context, req consent.DelegatedRefresh) (consent.DelegatedProof, error) {
	a := Action{Method: MethodProveDelegated, TenantID: req.TenantID, AppID: req.AppID, Arg: req.UserObjectID}
	if err := f.beginApp(ctx, a); err != nil {
		return consent.DelegatedProof{}, err
	}
	if len(req.TokenCache) == 0 {
		return consent.DelegatedProof{}, invalidArg(a, "token cache")
	}
	var keyErr error
	if req.Credential != nil {
		if req.Credential.Leaf() == nil || req.Credential.Key == nil {
			return consent.DelegatedProof{}, invalidArg(a, "credential certificate or key")
		}
		keyErr = proveKey(*req.Credential)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	t, err := f.tenantLocked(a)
	if err != nil {
		return consent.DelegatedProof{}, err
	}
	refused := func(code int, why string) (consent.DelegatedProof, error) {
		return consent.DelegatedProof{}, opErr(a, fmt.Sprintf("AADSTS%d", code), fmt.Errorf("%w: %s", consent.ErrInvalidGrant, why))
	}
	sess, ok := f.caches[string(req.TokenCache)]
	if !ok || !strings.EqualFold(sess.appID, req.AppID) || !strings.EqualFold(sess.tenantID, req.TenantID) ||
		(req.UserObjectID != "" && !strings.EqualFold(sess.userID, req.UserObjectID)) {
		return refused(9002313, "the token cache holds no refresh token for this user, app and tenant")
	}
	sp, err := t.tokenSPLocked(a)
	if err != nil {
		return consent.DelegatedProof{}, err
	}
	if req.Credential != nil {
		if keyErr != nil {
			return consent.DelegatedProof{}, opErr(a, "AADSTS700027", fmt.Errorf("%w: %v", consent.ErrInvalidCredential, keyErr))
		}
		if err := f.checkCredentialLocked(a, *req.Credential); err != nil {
			return consent.DelegatedProof{}, err
		}
	}
	signIn := f.evaluateSignInLocked(t, sp.appID, sess.userID, f.ip)
	code, why := signIn.ErrorCode, signIn.FailureReason
	u := t.users[sess.userID]
	switch {
	case code == 50034 || code == 50057 || code == 53003:
		// Deleted, disabled, blocked by Conditional Access.
	case u.sessionsFrom.After(sess.issued):
		code, why = 50173, "The provided grant has expired due to it being revoked (password changed or sessions revoked)."
	case code == 50076 && sess.mfa:
		code, why = 0, "" // MFA was performed at consent; the refresh token carries it.
	}
	if code == 0 {
		for _, s := range sess.scopes {
			res, v, ok := ParseScope(s)
			if !ok || oidcScopes[strings.ToLower(v)] {
				continue
			}
			g := sp.delegated[key(res, sess.userID)]
			all := sp.delegated[key(res, "")]
			if !grantHas(g, v) && !grantHas(all, v) {
				code, why = 65001, "The user or administrator has not consented to use the application."
				break
			}
		}
	}
	signIn.ErrorCode, signIn.FailureReason = code, why
	t.signIns = append(t.signIns, signIn)
	if code != 0 {
		return refused(code, why)
	}
	b := make([]byte, 48)
	if _, err := io.ReadFull(f.rand, b); err != nil {
		return consent.DelegatedProof{}, opErr(a, "", fmt.Errorf("%w: random source: %v", consent.ErrTransient, err))
	}
	next := "consenttest-token-cache:" + base64.RawURLEncoding.EncodeToString(b)
	ns := *sess
	ns.issued = f.now()
	f.caches[next] = &ns
	return consent.DelegatedProof{
		TenantID: t.info.ID, UserObjectID: u.objectID, UserPrincipalName: u.upn,
		Scopes: scpClaim(sess.scopes), ExpiresAt: f.now().Add(f.tokenLifetime), TokenCache: []byte(next),
	}, nil
}

func grantHas(g *consent.DelegatedGrant, scope string) bool {
	if g == nil {
		return false
	}
	return slices.ContainsFunc(g.Scopes, func(s string) bool { return strings.EqualFold(s, scope) })
}

func pkceChallenge(verifier string) string {
	s := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(s[:])
}

// PKCEChallenge returns the S256 code challenge of a PKCE verifier
// (BASE64URL(SHA256(verifier)), no padding).
func PKCEChallenge(verifier string) string { return pkceChallenge(verifier) }

// UserState implements consent.UserStateReader.
func (f *Fake) UserState(ctx context.Context, tenantID, userID string) (consent.UserState, error) {
	a := Action{Method: MethodUserState, TenantID: tenantID, Arg: userID}
	if err := f.beginTenant(ctx, a); err != nil {
		return consent.UserState{}, err
	}
	if userID == "" {
		return consent.UserState{}, invalidArg(a, "user ID")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	t, err := f.tenantLocked(a)
	if err != nil {
		return consent.UserState{}, err
	}
	u := t.findUser(userID)
	if u == nil {
		st := consent.UserState{}
		if strings.Contains(userID, "@") {
			st.UserPrincipalName = userID
		} else {
			st.ObjectID = userID
		}
		return st, nil
	}
	st := consent.UserState{
		ObjectID: u.objectID, UserPrincipalName: u.upn, Exists: true, AccountEnabled: u.enabled,
		LastPasswordChange: u.lastPwd, SignInSessionsValidFrom: u.sessionsFrom,
		DirectoryRoles: sortedRoles(u.dirRoles),
		MFA:            consent.MFAState{Known: true, Registered: u.mfaRegistered, Required: u.mfaRequired},
	}
	for l := range u.licenses {
		st.AssignedLicenses = append(st.AssignedLicenses, l)
	}
	slices.Sort(st.AssignedLicenses)
	return st, nil
}

func (t *fakeTenant) findUser(userID string) *fakeUser {
	if u, ok := t.users[strings.ToLower(userID)]; ok {
		return u
	}
	for _, u := range t.users {
		if strings.EqualFold(u.upn, userID) {
			return u
		}
	}
	return nil
}

// SignIns implements consent.SignInReader; sign-ins come from SimulateSignIn.
func (f *Fake) SignIns(ctx context.Context, tenantID, appID string, since time.Time, limit int) ([]consent.SignIn, error) {
	a := Action{Method: MethodSignIns, TenantID: tenantID, AppID: appID, Arg: since.UTC().Format(time.RFC3339)}
	if err := f.beginApp(ctx, a); err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = 100
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	t, err := f.tenantLocked(a)
	if err != nil {
		return nil, err
	}
	var out []consent.SignIn
	for i := len(t.signIns) - 1; i >= 0 && len(out) < limit; i-- {
		s := t.signIns[i]
		if strings.EqualFold(s.AppID, appID) && !s.Time.Before(since) {
			out = append(out, s)
		}
	}
	return out, nil
}

// AzureRoleAssignments implements consent.AzureRoleReader.
func (f *Fake) AzureRoleAssignments(ctx context.Context, tenantID, appID, scope string) ([]consent.AzureRoleAssignment, error) {
	a := Action{Method: MethodAzureRoleAssignments, TenantID: tenantID, AppID: appID, Arg: scope}
	if err := f.beginApp(ctx, a); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	sp, err := f.spLocked(a, "")
	if err != nil {
		return nil, err
	}
	var out []consent.AzureRoleAssignment
	for _, ra := range sp.azure {
		if ScopeWithin(ra.Scope, scope) {
			out = append(out, ra)
		}
	}
	slices.SortFunc(out, func(x, y consent.AzureRoleAssignment) int {
		return strings.Compare(key(x.Scope, string(x.RoleID)), key(y.Scope, string(y.RoleID)))
	})
	return out, nil
}

// ScopeWithin reports whether Azure resource ID scope is parent or below it (segment-wise,
// case-insensitive; trailing slashes ignored). Every scope is within the empty parent.
func ScopeWithin(scope, parent string) bool {
	parent = strings.ToLower(strings.TrimRight(parent, "/"))
	scope = strings.ToLower(strings.TrimRight(scope, "/"))
	if parent == "" {
		return true
	}
	return scope == parent || strings.HasPrefix(scope, parent+"/")
}
