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
	nonces  store.NonceStore  // nil: in-process fallback
	outbox  store.OutboxStore // nil: events go to the hook only, no history
	driver  consent.Driver
	o       options
	limiter *limiter
	budget  *budget
	tel     *telemetry
	codec   *consent.StateCodec // nil without WithStateKey
	urls    consent.URLBuilder

	mu          sync.Mutex
	usedLocal   map[string]time.Time // nonces consumed when the store has no NonceStore
	tenantPause map[string]time.Time // Retry-After per tenant (real time)
	randMu      sync.Mutex
	required    sync.Map // app type name -> *required (history.go)
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
	if o.eligibility == nil {
		o.eligibility = DefaultEligibility
		if rp, ok := o.catalog.(RulebookProvider); ok && rp.ConsentRulebook() != nil {
			o.eligibility = EligibilityFrom(rp.ConsentRulebook())
		}
	}
	if o.stateKey != nil && len(o.stateKey) < 32 {
		problems = append(problems, fmt.Sprintf("the consent state key is %d bytes; use at least 32 random bytes", len(o.stateKey)))
	}
	if o.rate.PerSecond < 0 || o.rate.Burst < 0 || o.tenantConc < 0 || o.workers < 0 {
		problems = append(problems, "rate limits, concurrency and burst must not be negative")
	}
	m := &Manager{store: st, driver: drv, o: o, limiter: newLimiter(o.rate), budget: newBudget(), tel: newTelemetry(o), usedLocal: map[string]time.Time{}, tenantPause: map[string]time.Time{}}
	if len(o.allStateKeys()) > 0 && (o.stateKey == nil || len(o.stateKey) >= 32) {
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
	if !o.noOutbox {
		m.outbox, _ = st.(store.OutboxStore)
	}
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

// save writes p, read as prev, with optimistic concurrency. When the status changed or an
// accepted deviation came back it also records an Event, and when anything a history keeps
// changed a HistoryEntry: with a store.OutboxStore both are written in the same transaction as
// the profile (see Dispatcher); either way the WithEventHook hook is called after the write.
func (m *Manager) save(ctx context.Context, p Profile, prev Profile) (Profile, error) {
	return m.saveChange(ctx, p, prev, nil)
}

// saveChange is save with annotate, when set, completing the change's event and history entry
// before they are written (what only the caller knows, such as who withdrew an acceptance).
func (m *Manager) saveChange(ctx context.Context, p Profile, prev Profile, annotate func(*change)) (Profile, error) {
	p.UpdatedAt = m.now()
	rec, err := m.toRecord(p)
	if err != nil {
		return Profile{}, err
	}
	ch := m.changeOf(prev, p, rec.Version+1)
	if annotate != nil {
		annotate(&ch)
	}
	var saved store.Record
	if m.outbox != nil && (ch.event != nil || ch.entry != nil) {
		events, entries, werr := ch.outboxWrites()
		if werr != nil {
			return Profile{}, werr
		}
		saved, err = m.outbox.UpdateWithEvents(ctx, rec, events, entries)
	} else {
		saved, err = m.store.Update(ctx, rec)
	}
	if err != nil {
		return Profile{}, storeErr("update", p.ID, err)
	}
	np, err := fromRecord(saved)
	if err != nil {
		return Profile{}, err
	}
	m.emit(ch.event)
	return np, nil
}

// emit logs an event and hands it to the WithEventHook hook.
func (m *Manager) emit(ev *Event) {
	if ev == nil {
		return
	}
	m.o.logger.Info("app profile status changed", "profile", ev.ProfileID, "tenant", ev.Tenant, "appType", ev.AppType, "old", ev.Old, "new", ev.New, "kind", ev.Kind)
	if m.o.hook != nil {
		m.o.hook(*ev)
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

// callN is call for a driver call that reads n profiles at once (AppStates): it costs what
// reading n apps costs — the driver's resource units when it is a consent.ResourceUnitCoster,
// else n units — from the Manager's budget and from the tenant's RU bucket (budget.go). A throttle
// of Application scope pauses every call instead of the tenant's.
func (m *Manager) callN(ctx context.Context, tenant string, n int, fn func(context.Context) error) error {
	if err := m.waitTenant(ctx, tenant); err != nil {
		return err
	}
	cost := m.cost(tenant, n)
	waitStart := time.Now()
	if err := m.limiter.wait(ctx, cost); err != nil {
		return err
	}
	if err := m.waitTenantBudget(ctx, tenant, cost); err != nil {
		return err
	}
	m.recordBudgetWait(ctx, time.Since(waitStart))
	// A Retry-After may have arrived while waiting for the budget: check again right before the
	// call starts.
	if err := m.waitTenant(ctx, tenant); err != nil {
		return err
	}
	err := fn(consent.WithThrottleObserver(ctx, m.observe(ctx)))
	m.throttled(ctx, tenant, err)
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

// pauseTenant stops calls about tenant for d (clamped to consent.MaxRetryAfter) from now.
func (m *Manager) pauseTenant(tenant string, d time.Duration) {
	d = consent.ClampRetryAfter(d)
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
				if us.MFA.Err != nil {
					// The MFA part could not be read (e.g. the reading app lacks
					// Policy.Read.All): could not check, never "MFA not enabled".
					fail("consent user MFA", us.MFA.Err)
				}
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
		o.Delegated.RefreshSucceeded = true
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
// check that reads the tenant, Verify's or VerifyAll's. Verify's reads ask Graph for high priority
// (consent.PriorityHigh); VerifyAll's and VerifyTenant's for low.
func (m *Manager) Verify(ctx context.Context, id string) (VerifyResult, error) {
	ctx = consent.WithPriority(ctx, consent.PriorityHigh) // a user waits for it (x-ms-throttle-priority)
	p, err := m.Get(ctx, id)
	if err != nil {
		return VerifyResult{}, err
	}
	res, err := m.verifyProfile(ctx, p, 1, nil)
	m.recordVerification(ctx, res, err, p.LastCheck)
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
	// apply derives the checked profile from base and this check's observation; a write-back
	// that loses a race is applied again to the profile that won (see sameSubject).
	apply := func(base Profile) (Profile, Assessment, error) {
		req := req
		if base.Version != p.Version {
			var err error
			if req, err = m.requirements(base); err != nil {
				return Profile{}, Assessment{}, err
			}
		}
		np := base.clone()
		if len(obs.Failures) == 0 && np.Consent != nil && np.Consent.Unproven {
			// A consent recorded while the tenant could not be read: this read proves it (or
			// shows what is missing), and its consent-time facts are taken from it before
			// assessing, so that, say, MFA the user had all along is not reported as enabled
			// since consent.
			settleConsent(&np, obs)
		}
		a := Assess(np, req, obs, m.now(), m.o.policy)
		np.Status, np.Reasons, np.Accepted = a.Status, a.Reasons, a.Accepted
		if a.Outcome == Checked && np.Consent != nil {
			np.Observed = m.observed(obs, req.App)
		}
		np.LastCheck = &Check{At: m.now(), Outcome: a.Outcome}
		if newCache != nil {
			np.DelegatedTokenCache = *newCache
		}
		if a.Err != nil {
			np.LastCheck.Error = a.Err.Error()
		}
		return np, a, nil
	}
	old := p.Status
	np, a, err := apply(p)
	if err != nil {
		return VerifyResult{}, err
	}
	if a.Outcome == CouldNotCheck && deferThrottled(ctx) && throttledFailure(obs.Failures) {
		return VerifyResult{Profile: p, Outcome: CouldNotCheck, Err: a.Err}, errDeferred // VerifyTenant comes back later
	}
	saved, err := m.save(ctx, np, p)
	// The write-back is idempotent: on a conflict it is applied again to the current profile,
	// as long as that profile is about the same app, tenant and consent (the observation still
	// describes it); a concurrent edit that changed those wins (Superseded).
	for try := 1; errors.Is(err, ErrConflict); try++ {
		cur, gerr := m.Get(ctx, p.ID)
		if gerr != nil {
			return VerifyResult{}, gerr
		}
		if try > conflictRetries || !sameSubject(p, cur, newCache != nil) {
			return VerifyResult{Profile: cur, Outcome: a.Outcome, Superseded: true, Err: a.Err}, nil
		}
		if np, a, err = apply(cur); err != nil {
			return VerifyResult{}, err
		}
		old = cur.Status
		saved, err = m.save(ctx, np, cur)
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
			State: state, Scopes: scopesOr(st.Scopes, app), PKCEVerifier: m.pkceVerifier(state, st.Nonce)})
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
