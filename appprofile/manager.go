package appprofile

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/tenantapps/tenantapps/consent"
	"github.com/tenantapps/tenantapps/permissions"
	"github.com/tenantapps/tenantapps/store"
)

// Manager manages customer app profiles: it is the type embedders call. Build it with New. A
// Manager is safe for concurrent use; every I/O method takes a context first and never keeps it.
type Manager struct {
	store   store.Store
	nonces  store.NonceStore // nil: in-process fallback
	driver  consent.Driver
	o       options
	limiter *limiter
	codec   *consent.StateCodec // nil without WithStateKey
	urls    consent.URLBuilder

	mu          sync.Mutex
	usedLocal   map[string]time.Time // nonces consumed when the store has no NonceStore
	tenantPause map[string]time.Time // Retry-After per tenant (real time)
	randMu      sync.Mutex
}

// New returns a Manager over a store and a tenant driver. WithCatalog is required. Without
// WithSealer the Manager refuses secrets; without WithStateKey and WithRedirectURI it cannot start
// consent. The store's NonceStore capability, when present, makes consent callbacks single-use
// across processes; otherwise single use is enforced within this process only.
func New(st store.Store, drv consent.Driver, opts ...Option) (*Manager, error) {
	o := defaultOptions()
	for _, opt := range opts {
		opt(&o)
	}
	var problems []string
	if st == nil {
		problems = append(problems, "a store is required")
	}
	if drv == nil {
		problems = append(problems, "a consent.Driver is required")
	}
	if o.catalog == nil {
		o.catalog = FromPermissions(permissions.Default())
	}
	if o.stateKey != nil && len(o.stateKey) < 32 {
		problems = append(problems, fmt.Sprintf("the consent state key is %d bytes; use at least 32 random bytes", len(o.stateKey)))
	}
	if o.rate.PerSecond < 0 || o.rate.Burst < 0 || o.tenantConc < 0 || o.workers < 0 {
		problems = append(problems, "rate limits, concurrency and burst must not be negative")
	}
	m := &Manager{store: st, driver: drv, o: o, limiter: newLimiter(o.rate), usedLocal: map[string]time.Time{}, tenantPause: map[string]time.Time{}}
	if len(o.stateKey) >= 32 {
		c, err := newStateCodec(o, &m.randMu)
		if err != nil {
			problems = append(problems, fmt.Sprintf("consent state: %v", err))
		}
		m.codec = c
	}
	if o.redirectURI != "" {
		m.urls = consent.URLBuilder{AuthorityHost: o.authority, RedirectURIs: []string{o.redirectURI}}
		if err := m.urls.Validate(); err != nil {
			problems = append(problems, err.Error())
		}
	}
	if len(problems) > 0 {
		return nil, &RequestError{Op: "New", Problems: problems}
	}
	if o.tenantConc == 0 {
		o.tenantConc = 2
	}
	if o.workers == 0 {
		o.workers = 32
	}
	if o.maxAttempts <= 0 {
		o.maxAttempts = 3
	}
	if o.logger == nil {
		o.logger = slog.New(slog.DiscardHandler)
	}
	m.o = o
	m.nonces, _ = st.(store.NonceStore)
	return m, nil
}

func (m *Manager) now() time.Time { return m.o.now() }

// newID returns a profile ID for tenant: see Profile.ID.
func (m *Manager) newID(tenant string) (string, error) {
	m.randMu.Lock()
	id, err := uuid.NewRandomFromReader(m.o.rand)
	m.randMu.Unlock()
	if err != nil {
		return "", fmt.Errorf("appprofile: generating an ID: %w", err)
	}
	h := fnv.New32a()
	h.Write([]byte(strings.ToLower(tenant)))
	binary.BigEndian.PutUint32(id[:4], h.Sum32())
	id[6] = id[6]&0x0f | 0x80 // version 8
	return id.String(), nil
}

// --- store mapping ---

func (m *Manager) uniqueKey(p Profile) string {
	if m.o.allowDuplicates {
		return ""
	}
	return p.Tenant + "|" + p.AppType
}

func (m *Manager) toRecord(p Profile) (store.Record, error) {
	b, err := MarshalPayload(p)
	if err != nil {
		return store.Record{}, err
	}
	key := p.UniqueKey
	if p.Version == 0 {
		key = m.uniqueKey(p)
	}
	return store.Record{ID: p.ID, Version: p.Version, Customer: p.Customer, Tenant: p.Tenant, Services: slices.Clone(p.Services),
		AppType: p.AppType, Mode: string(p.Mode), Status: string(p.Status), UniqueKey: key, Payload: b}, nil
}

func fromRecord(r store.Record) (Profile, error) {
	p, err := UnmarshalPayload(r.Payload)
	if err != nil {
		return Profile{}, fmt.Errorf("profile %s: %w", r.ID, err)
	}
	p.ID, p.Version, p.CreatedAt, p.UpdatedAt, p.UniqueKey = r.ID, r.Version, r.CreatedAt, r.UpdatedAt, r.UniqueKey
	return p, nil
}

// storeErr is a store error as the Manager reports it: not found and conflict say so once, in
// the Manager's words, and still match ErrNotFound / ErrConflict and the store's sentinels with
// errors.Is; other errors keep the store's text after the operation.
func storeErr(op, id string, err error) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return &wrapped{msg: fmt.Sprintf("appprofile: no profile with ID %q; list the profiles to find it", id), errs: []error{ErrNotFound, err}}
	case errors.Is(err, store.ErrConflict):
		return &wrapped{msg: fmt.Sprintf("appprofile: profile %s was changed concurrently; re-read it and retry", id), errs: []error{ErrConflict, err}}
	}
	return fmt.Errorf("appprofile: %s %s: %w", op, id, err)
}

// wrapped is an error with its own message that matches several errors with errors.Is / As,
// without repeating their messages.
type wrapped struct {
	msg  string
	errs []error
}

func (e *wrapped) Error() string   { return e.msg }
func (e *wrapped) Unwrap() []error { return e.errs }

// Get returns the profile with the given ID (ErrNotFound if there is none).
func (m *Manager) Get(ctx context.Context, id string) (Profile, error) {
	r, err := m.store.Get(ctx, id)
	if err != nil {
		return Profile{}, storeErr("get", id, err)
	}
	return fromRecord(r)
}

// List returns one page of the profiles matching f (see store.Store.List for paging). A tenant in
// f is normalised with NormalizeTenantID (a *TenantIDError when it is not a tenant ID); a service
// or app type matches the catalog's name ignoring case.
func (m *Manager) List(ctx context.Context, f store.Filter, page store.Page) ([]Profile, string, error) {
	f, err := m.normalizeFilter(f)
	if err != nil {
		return nil, "", err
	}
	recs, next, err := m.store.List(ctx, f, page)
	if err != nil {
		return nil, "", fmt.Errorf("appprofile: list: %w", err)
	}
	out := make([]Profile, 0, len(recs))
	for _, r := range recs {
		p, err := fromRecord(r)
		if err != nil {
			return nil, "", err
		}
		out = append(out, p)
	}
	return out, next, nil
}

// save writes p with optimistic concurrency and emits an event when the status changed from old.
func (m *Manager) save(ctx context.Context, p Profile, old Status) (Profile, error) {
	p.UpdatedAt = m.now()
	rec, err := m.toRecord(p)
	if err != nil {
		return Profile{}, err
	}
	saved, err := m.store.Update(ctx, rec)
	if err != nil {
		return Profile{}, storeErr("update", p.ID, err)
	}
	np, err := fromRecord(saved)
	if err != nil {
		return Profile{}, err
	}
	m.emit(np, old)
	return np, nil
}

func (m *Manager) emit(p Profile, old Status) {
	if p.Status == old {
		return
	}
	m.o.logger.Info("app profile status changed", "profile", p.ID, "tenant", p.Tenant, "appType", p.AppType, "old", old, "new", p.Status)
	if m.o.hook != nil {
		m.o.hook(Event{ProfileID: p.ID, Tenant: p.Tenant, AppType: p.AppType, Old: old, New: p.Status, Reasons: cloneReasons(p.Reasons), At: m.now()})
	}
}

func (m *Manager) appSpec(name string) (AppSpec, error) {
	a, ok := lookupAppType(m.o.catalog, name)
	if !ok {
		return AppSpec{}, &RequestError{Op: "app type", Problems: []string{fmt.Sprintf("app type %q is not in catalog %s; use one of: %s", name, m.o.catalog.Version(), appTypeNames(m.o.catalog))}}
	}
	if a.AppID == "" && m.o.vendorAppIDs != nil {
		a.AppID = m.o.vendorAppIDs[name]
	}
	return a, nil
}

// --- driver calls ---

// call runs one driver call about tenant within the rate budget, honouring Retry-After: a
// throttled answer pauses every call about that tenant for the time the service asked (Graph
// throttles per app and tenant), and a throttled answer about no tenant pauses every call.
func (m *Manager) call(ctx context.Context, tenant string, fn func(context.Context) error) error {
	return m.callN(ctx, tenant, 1, fn)
}

// callN is call for a driver call that reads n profiles at once (AppStates): it costs n units
// of the rate budget, as the n calls it replaces would.
func (m *Manager) callN(ctx context.Context, tenant string, n int, fn func(context.Context) error) error {
	if err := m.waitTenant(ctx, tenant); err != nil {
		return err
	}
	if err := m.limiter.wait(ctx, n); err != nil {
		return err
	}
	// A Retry-After may have arrived while waiting for the budget: check again right before the
	// call starts.
	if err := m.waitTenant(ctx, tenant); err != nil {
		return err
	}
	err := fn(ctx)
	if d, ok := consent.RetryAfter(err); ok && d > 0 {
		if tenant == "" {
			m.limiter.pause(d)
		} else {
			m.pauseTenant(tenant, d)
		}
	}
	return err
}

func (m *Manager) waitTenant(ctx context.Context, tenant string) error {
	for {
		m.mu.Lock()
		until, ok := m.tenantPause[tenant]
		now := time.Now()
		if ok && !now.Before(until) {
			delete(m.tenantPause, tenant)
			ok = false
		}
		m.mu.Unlock()
		if !ok {
			return ctx.Err()
		}
		t := time.NewTimer(until.Sub(now))
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

func (m *Manager) pauseTenant(tenant string, d time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if u := time.Now().Add(d); u.After(m.tenantPause[tenant]) {
		m.tenantPause[tenant] = u
	}
}

// observeWithCache reads the ground truth for p. Failures that say nothing about the tenant
// become Observation.Failures; ground-truth errors (not consented, not found) become facts. It
// also returns the rotated, sealed delegated token cache when the driver refreshed it (nil
// otherwise). A non-nil pre is the app's state already read (by a
// fleet's AppStates) and takes the place of the AppState call.
func (m *Manager) observeWithCache(ctx context.Context, p Profile, pre *consent.AppStateResult) (Observation, *SealedSecret) {
	var o Observation
	var newCache *SealedSecret
	fail := func(part string, err error) { o.Failures = append(o.Failures, Failure{Part: part, Err: err}) }
	var st consent.AppState
	var err error
	if pre != nil {
		st, err = pre.State, pre.Err
	} else {
		err = m.call(ctx, p.Tenant, func(ctx context.Context) error {
			var err error
			st, err = m.driver.AppState(ctx, p.Tenant, p.AppID)
			return err
		})
	}
	switch {
	case err == nil:
		o.ServicePrincipal = ServicePrincipalState{Exists: st.Exists, Enabled: st.Exists && st.ServicePrincipal.Enabled}
		o.Grants = grantsOf(st, consentUserID(p))
		o.DirectoryRoles = slices.Clone(st.DirectoryRoles)
	case consent.CouldNotCheck(err):
		fail("app state", err)
		return o, nil
	default: // ground truth: not consented, tenant not found
		o.ServicePrincipal = ServicePrincipalState{}
	}
	if p.Mode == Custom && p.Custom != nil {
		if kr, ok := m.driver.(consent.KeyCredentialReader); ok {
			var kcs []consent.KeyCredential
			err := m.call(ctx, p.Tenant, func(ctx context.Context) error {
				var err error
				kcs, err = kr.KeyCredentials(ctx, p.Tenant, p.Custom.ApplicationID)
				return err
			})
			switch {
			case err == nil:
				reg := &AppRegistrationState{Exists: true}
				for _, k := range kcs {
					reg.Thumbprints = append(reg.Thumbprints, k.ThumbprintSHA1)
				}
				o.App = reg
			case errors.Is(err, consent.ErrNotFound):
				o.App = &AppRegistrationState{}
			case consent.CouldNotCheck(err):
				fail("key credentials", err)
			}
		}
	}
	if dependsOnConsentUser(p) && p.Consent != nil && p.Consent.UserID != "" {
		if ur, ok := m.driver.(consent.UserStateReader); ok {
			var us consent.UserState
			err := m.call(ctx, p.Tenant, func(ctx context.Context) error {
				var err error
				us, err = ur.UserState(ctx, p.Tenant, p.Consent.UserID)
				return err
			})
			switch {
			case err == nil:
				o.ConsentUser = userStateOf(us, m.now())
			case errors.Is(err, consent.ErrNotFound):
				o.ConsentUser = &UserState{}
			case consent.CouldNotCheck(err):
				fail("consent user", err)
			}
		}
		if sr, ok := m.driver.(consent.SignInReader); ok {
			var sis []consent.SignIn
			err := m.call(ctx, p.Tenant, func(ctx context.Context) error {
				var err error
				sis, err = sr.SignIns(ctx, p.Tenant, p.AppID, p.Consent.At, 50)
				return err
			})
			switch {
			case err == nil:
				o.Delegated = delegatedStateOf(sis, p.Consent.UserID)
			case consent.CouldNotCheck(err):
				fail("sign-ins", err)
			}
		}
		if dp, ok := m.driver.(consent.DelegatedProver); ok && !p.DelegatedTokenCache.IsZero() && m.o.sealer != nil {
			newCache = m.proveDelegated(ctx, p, dp, &o, fail)
		}
	}
	return o, newCache
}

// proveDelegated refreshes the consent user's token: the ground truth for delegated consents.
func (m *Manager) proveDelegated(ctx context.Context, p Profile, dp consent.DelegatedProver, o *Observation, fail func(string, error)) *SealedSecret {
	cache, err := m.o.sealer.Open(p.DelegatedTokenCache, aad(p.ID, "token-cache"))
	if err != nil {
		m.o.logger.Warn("cannot open the delegated token cache; re-authorize the profile", "profile", p.ID, "err", err)
		return nil
	}
	defer clear(cache)
	var proof consent.DelegatedProof
	err = m.call(ctx, p.Tenant, func(ctx context.Context) error {
		var err error
		proof, err = dp.ProveDelegated(ctx, consent.DelegatedRefresh{TenantID: p.Tenant, AppID: p.AppID, UserObjectID: p.Consent.UserID, TokenCache: cache})
		return err
	})
	if o.Delegated == nil {
		o.Delegated = &DelegatedState{}
	}
	switch {
	case err == nil:
		o.Delegated.LastUsed = m.now()
		defer clear(proof.TokenCache)
		if len(proof.TokenCache) == 0 {
			return nil
		}
		sealed, err := m.o.sealer.Seal(proof.TokenCache, aad(p.ID, "token-cache"))
		if err != nil {
			m.o.logger.Warn("cannot seal the rotated delegated token cache", "profile", p.ID, "err", err)
			return nil
		}
		return &sealed
	case consent.CouldNotCheck(err):
		fail("delegated token refresh", err)
	case errors.Is(err, consent.ErrInvalidGrant):
		var de *consent.DriverError
		code := "invalid_grant"
		if errors.As(err, &de) && de.Code != "" {
			code = de.Code
		}
		o.Delegated.RefreshRejected = code
	}
	return nil
}

func consentUserID(p Profile) string {
	if p.Consent == nil {
		return ""
	}
	return p.Consent.UserID
}

// grantsOf flattens an AppState into granted permissions: every app-role grant, and delegated
// scopes granted tenant-wide or to the consent user.
func grantsOf(st consent.AppState, principal string) []Permission {
	var out []Permission
	for _, g := range st.AppRoleGrants {
		out = append(out, Permission{ResourceAppID: g.ResourceAppID, ResourceName: resourceName(g.ResourceAppID), ID: g.AppRoleID, Kind: Application})
	}
	for _, g := range st.DelegatedGrants {
		if g.ConsentType == consent.ConsentPrincipal && !strings.EqualFold(g.PrincipalID, principal) {
			continue
		}
		for _, sc := range g.Scopes {
			out = append(out, Permission{ResourceAppID: g.ResourceAppID, ResourceName: resourceName(g.ResourceAppID), Value: sc, Kind: DelegatedPermission})
		}
	}
	return out
}

func resourceName(appID string) string {
	switch strings.ToLower(appID) {
	case consent.MicrosoftGraphAppID:
		return "Microsoft Graph"
	case consent.ExchangeOnlineAppID:
		return "Office 365 Exchange Online"
	case consent.SharePointOnlineAppID:
		return "SharePoint"
	}
	return ""
}

func userStateOf(us consent.UserState, now time.Time) *UserState {
	u := &UserState{Exists: us.Exists, AccountEnabled: us.AccountEnabled, LastPasswordChange: us.LastPasswordChange,
		SessionsValidFrom: us.SignInSessionsValidFrom, Licensed: len(us.AssignedLicenses) > 0}
	if us.MFA.Known && (us.MFA.Registered || us.MFA.Required) {
		// The directory does not date MFA registration; the consent record says whether the user
		// had MFA at consent, so "now" is enough to tell "enabled after consent".
		u.MFAEnabledAt = now
	}
	return u
}

// AADSTS codes read from sign-in logs.
const (
	aadstsBlockedByCA          = 53003
	aadstsMFARequired          = 50076
	aadstsMFARequiredInterrupt = 50079
	aadstsRefreshTokenExpired  = 700082
)

func delegatedStateOf(sis []consent.SignIn, userID string) *DelegatedState {
	d := &DelegatedState{}
	var latestFailure *consent.SignIn
	for i, s := range sis {
		if userID != "" && s.UserObjectID != "" && !strings.EqualFold(s.UserObjectID, userID) {
			continue
		}
		if s.ErrorCode == 0 {
			if s.Time.After(d.LastUsed) {
				d.LastUsed = s.Time
			}
			continue
		}
		if latestFailure == nil || s.Time.After(latestFailure.Time) {
			latestFailure = &sis[i]
		}
	}
	if f := latestFailure; f != nil && !f.Time.Before(d.LastUsed) {
		switch f.ErrorCode {
		case aadstsBlockedByCA:
			d.BlockedByConditionalAccess, d.BlockedIP = true, f.IPAddress
		case aadstsRefreshTokenExpired:
			d.RefreshTokenExpired = true
		case aadstsMFARequired, aadstsMFARequiredInterrupt:
			d.MFARequired = true
		}
	}
	return d
}

// requirements resolves what p needs from the catalog.
func (m *Manager) requirements(p Profile) (Requirements, error) {
	app, err := m.appSpec(p.AppType)
	if err != nil {
		return Requirements{}, err
	}
	req := Requirements{App: app}
	if p.Consent != nil && p.Consent.CatalogVersion != "" && p.Consent.CatalogVersion != m.o.catalog.Version() {
		added, err := m.o.catalog.AddedSince(p.AppType, p.Consent.CatalogVersion)
		if err != nil {
			// Grants are still compared one by one; only the "added since consent" naming is lost.
			m.o.logger.Warn("cannot tell which permissions were added since consent", "profile", p.ID, "consentedCatalog", p.Consent.CatalogVersion, "err", err)
		}
		req.AddedSinceConsent = added
	}
	return req, nil
}

// --- Verify ---

// VerifyResult is the outcome of verifying one profile.
type VerifyResult struct {
	Profile Profile
	Outcome Outcome
	// Changed reports whether the status changed.
	Changed bool
	// Superseded reports that the profile was edited concurrently; the concurrent edit won and
	// this check's result was not written.
	Superseded bool
	// Err is why the check could not be made (Outcome CouldNotCheck).
	Err error
}

// Verify reads the tenant's ground truth for a profile, derives its status and reasons, and stores
// them. When the tenant could not be read, the outcome is CouldNotCheck: the status is kept, the
// failed attempt is recorded in LastCheck, and the returned error wraps ErrCouldNotCheck. When the
// profile was changed concurrently, the concurrent edit wins and the result says Superseded. A
// consent that CompleteConsent recorded unproven (ConsentRecord.Unproven) is proven by the first
// check that reads the tenant, Verify's or VerifyAll's.
func (m *Manager) Verify(ctx context.Context, id string) (VerifyResult, error) {
	p, err := m.Get(ctx, id)
	if err != nil {
		return VerifyResult{}, err
	}
	res, err := m.verifyProfile(ctx, p, 1, nil)
	if err == nil && res.Outcome == CouldNotCheck {
		err = fmt.Errorf("%w: %w", ErrCouldNotCheck, res.Err)
	}
	return res, err
}

func (m *Manager) verifyProfile(ctx context.Context, p Profile, attempts int, pre *consent.AppStateResult) (VerifyResult, error) {
	req, err := m.requirements(p)
	if err != nil {
		return VerifyResult{}, err
	}
	var obs Observation
	var newCache *SealedSecret
	if p.Consent != nil {
		for i := 0; i < attempts; i++ {
			obs, newCache = m.observeWithCache(ctx, p, pre)
			pre = nil // a retry reads afresh
			if len(obs.Failures) == 0 || ctx.Err() != nil || !retryable(obs.Failures) || i == attempts-1 {
				break
			}
			// Throttled calls already waited out their Retry-After in call; back off a little
			// for the others.
			if err := sleepCtx(ctx, time.Duration(i+1)*50*time.Millisecond); err != nil {
				break
			}
		}
	}
	np := p.clone()
	if len(obs.Failures) == 0 && np.Consent != nil && np.Consent.Unproven {
		// A consent recorded while the tenant could not be read: this read proves it (or shows
		// what is missing), and its consent-time facts are taken from it before assessing, so
		// that, say, MFA the user had all along is not reported as enabled since consent.
		settleConsent(&np, obs)
	}
	a := Assess(np, req, obs, m.now(), m.o.policy)
	old := p.Status
	np.Status, np.Reasons = a.Status, a.Reasons
	np.LastCheck = &Check{At: m.now(), Outcome: a.Outcome}
	if newCache != nil {
		np.DelegatedTokenCache = *newCache
	}
	if a.Err != nil {
		np.LastCheck.Error = a.Err.Error()
	}
	saved, err := m.save(ctx, np, old)
	if errors.Is(err, ErrConflict) {
		cur, gerr := m.Get(ctx, p.ID)
		if gerr != nil {
			return VerifyResult{}, gerr
		}
		return VerifyResult{Profile: cur, Outcome: a.Outcome, Superseded: true, Err: a.Err}, nil
	}
	if err != nil {
		return VerifyResult{}, err
	}
	return VerifyResult{Profile: saved, Outcome: a.Outcome, Changed: saved.Status != old, Err: a.Err}, nil
}

func retryable(fs []Failure) bool {
	for _, f := range fs {
		if errors.Is(f.Err, consent.ErrThrottled) || errors.Is(f.Err, consent.ErrTransient) {
			return true
		}
	}
	return false
}

// --- consent URLs ---

// consentURL builds the admin-consent URL, or for user consent the authorize URL with the PKCE
// challenge of the verifier derived from the state's nonce (see pkceVerifier).
func (m *Manager) consentURL(p Profile, app AppSpec, st consent.State, state string) (string, error) {
	var u *url.URL
	var err error
	if st.Method == consent.UserConsent {
		u, _, err = m.urls.UserConsentURL(consent.UserConsentRequest{Tenant: p.Tenant, ClientID: p.AppID, RedirectURI: m.o.redirectURI,
			State: state, Scopes: scopesOr(st.Scopes, app), PKCEVerifier: m.pkceVerifier(st.Nonce)})
	} else {
		u, err = m.urls.AdminConsentURL(consent.AdminConsentRequest{Tenant: p.Tenant, ClientID: p.AppID, RedirectURI: m.o.redirectURI, State: state})
	}
	if err != nil {
		return "", fmt.Errorf("appprofile: consent URL: %w", err)
	}
	return u.String(), nil
}

func scopesOr(chosen []string, app AppSpec) []string {
	if len(chosen) > 0 {
		return append(slices.Clone(chosen), "offline_access", "openid", "profile")
	}
	return userScopes(app)
}

func userScopes(app AppSpec) []string {
	var out []string
	for _, perm := range app.Permissions {
		if perm.Kind != DelegatedPermission {
			continue
		}
		switch strings.ToLower(perm.ResourceAppID) {
		case consent.MicrosoftGraphAppID:
			out = append(out, "https://graph.microsoft.com/"+perm.Value)
		case consent.SharePointOnlineAppID:
			out = append(out, "https://microsoft.sharepoint-df.com/"+perm.Value)
		case consent.ExchangeOnlineAppID:
			out = append(out, "https://outlook.office365.com/"+perm.Value)
		}
	}
	if len(out) == 0 {
		out = append(out, "https://graph.microsoft.com/.default")
	}
	return append(out, "offline_access", "openid", "profile")
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
