package appprofile

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tenantapps/tenantapps/consent"
	"github.com/tenantapps/tenantapps/roles"
	"github.com/tenantapps/tenantapps/store"
)

// CustomAppInput is the customer's own app of a custom profile: application ID, .pfx and password.
// The Manager seals the .pfx and password; they never appear in errors or logs.
type CustomAppInput struct {
	ApplicationID string
	PFX           []byte
	Password      string
}

// String hides the secrets.
func (c CustomAppInput) String() string {
	return fmt.Sprintf("custom app %s (.pfx %d bytes, password hidden)", c.ApplicationID, len(c.PFX))
}

// GoString hides the secrets.
func (c CustomAppInput) GoString() string { return c.String() }

// CreateRequest follows seed 000's "Create app profile" steps.
type CreateRequest struct {
	// Customer and Tenant select the organisation. Required. Tenant is the tenant ID, a GUID in
	// any case (NormalizeTenantID); a domain name or anything else fails with a *TenantIDError.
	Customer string
	Tenant   string
	// Name is the app profile name (custom app profiles); defaults to the app type.
	Name string
	// Services are the services to create profiles for, all of one family (Elements premium or
	// AOS). Required.
	Services []string
	// CustomerServices are the services the customer has; when non-nil, every requested service
	// must be among them ("only services that have been added for the customer").
	CustomerServices []string
	// Mode is the setup method: modern (the default) or, for Baseline management, custom. AOS
	// services can only be created in modern mode.
	Mode Mode
	// AppType, when set, creates only that app type (one of the services' app types); otherwise one
	// profile is created per app type the services need.
	AppType string
	// Custom is the customer's own app, required for custom mode.
	Custom *CustomAppInput
	// BackupFunctions are the Cloud Backup for Microsoft 365 functions of a Delegated App profile.
	BackupFunctions []string
	// Uses says how the profiles are used where requirements depend on it, e.g.
	// roles.ManagesExchange for AOS apps that manage Exchange.
	Uses []roles.Condition
}

// Create creates the profiles a customer's services need, in status Pending, following seed 000:
// services of one family that the customer has; setup method modern (AOS) or modern / custom
// (Baseline management); then the app types from the catalog. A tenant has one profile per app
// type unless the Manager was built WithDuplicates(true): a duplicate fails with *DuplicateError
// and nothing is created. A custom profile's .pfx is validated (every problem reported in a
// *CertificateError), its certificate must be one of the app's keyCredentials in the tenant and,
// when the driver implements consent.CertificateProver, must sign in as the app there (a
// certificate Entra refuses is a *CertificateError wrapping consent.ErrInvalidCredential; a missing
// or disabled service principal is a *RequestError that says how to fix it), and the roles to
// assign before authorization must be assigned; its secrets are sealed (ErrNoSealer without a sealer). Nothing is created when any
// of this fails.
func (m *Manager) Create(ctx context.Context, req CreateRequest) ([]Profile, error) {
	tenant, err := NormalizeTenantID(req.Tenant)
	if err != nil {
		return nil, err
	}
	req.Tenant = tenant
	req.Services = canonicalServices(m.o.catalog, req.Services)
	apps, err := m.planCreate(req)
	if err != nil {
		return nil, err
	}
	now := m.now()
	var profiles []Profile
	for _, app := range apps {
		id, err := m.newID(req.Tenant)
		if err != nil {
			return nil, err
		}
		services := servicesFor(app, req.Services)
		p := Profile{ID: id, Name: req.Name, Customer: req.Customer, Tenant: req.Tenant, Services: services, AppType: app.Name,
			AppID: app.AppID, Mode: app.Mode, Shape: app.Shape, Status: Pending, CreatedAt: now, UpdatedAt: now}
		if p.Name == "" {
			p.Name = app.Name
		}
		for _, u := range req.Uses {
			p.Uses = append(p.Uses, string(u))
		}
		if len(app.BackupFunctions) > 0 && len(req.BackupFunctions) > 0 {
			if err := checkFunctions(app, req.BackupFunctions); err != nil {
				return nil, &RequestError{Op: "create", Problems: []string{err.Error()}}
			}
			p.BackupFunctions = slices.Clone(req.BackupFunctions)
		}
		if app.Mode == Custom {
			custom, err := m.prepareCustom(ctx, "create", p, app, *req.Custom)
			if err != nil {
				return nil, err
			}
			p.Custom, p.AppID = custom, custom.ApplicationID
		}
		a := Assess(p, Requirements{App: app}, Observation{}, now, m.o.policy)
		p.Status, p.Reasons = a.Status, a.Reasons
		profiles = append(profiles, p)
	}
	var created []Profile
	for _, p := range profiles {
		rec, err := m.toRecord(p)
		if err != nil {
			return nil, err
		}
		saved, err := m.store.Create(ctx, rec)
		if err != nil {
			m.rollback(ctx, created)
			if errors.Is(err, store.ErrDuplicate) {
				return nil, &DuplicateError{Tenant: p.Tenant, AppType: p.AppType}
			}
			return nil, fmt.Errorf("appprofile: create %s: %w", p.AppType, err)
		}
		np, err := fromRecord(saved)
		if err != nil {
			return nil, err
		}
		created = append(created, np)
		m.o.logger.Info("app profile created", "profile", np.ID, "tenant", np.Tenant, "appType", np.AppType, "mode", np.Mode)
	}
	return created, nil
}

func (m *Manager) rollback(ctx context.Context, created []Profile) {
	for _, p := range created {
		if err := m.store.Delete(context.WithoutCancel(ctx), p.ID, p.Version); err != nil {
			m.o.logger.Error("app profile rollback failed; delete it by hand", "profile", p.ID, "err", err)
		}
	}
}

// canonicalServices spells each service the catalog's way (names match ignoring case and
// repeated spaces); names the catalog does not know are kept as given, for the error.
func canonicalServices(c Catalog, services []string) []string {
	out := slices.Clone(services)
	for i, s := range out {
	search:
		for _, a := range c.AppTypes() {
			for _, name := range a.Services {
				if sameName(name, s) {
					out[i] = name
					break search
				}
			}
		}
	}
	return out
}

func servicesFor(app AppSpec, requested []string) []string {
	var out []string
	for _, s := range requested {
		if slices.Contains(app.Services, s) {
			out = append(out, s)
		}
	}
	return out
}

// planCreate applies seed 000's rules to a request and returns the app types to create.
func (m *Manager) planCreate(req CreateRequest) ([]AppSpec, error) {
	var problems []string
	var noAppID bool
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if strings.TrimSpace(req.Customer) == "" {
		add("select a customer")
	}
	if len(req.Services) == 0 {
		add("select at least one service")
	}
	mode := req.Mode
	if mode == "" {
		mode = Modern
	}
	families := map[string]bool{}
	var apps []AppSpec
	seen := map[string]bool{}
	for _, svc := range req.Services {
		if req.CustomerServices != nil && !slices.ContainsFunc(req.CustomerServices, func(s string) bool { return sameName(s, svc) }) {
			add("service %q has not been added for customer %s", svc, req.Customer)
			continue
		}
		var all []AppSpec
		for _, a := range m.o.catalog.AppTypes() {
			if slices.Contains(a.Services, svc) {
				all = append(all, a)
			}
		}
		if len(all) == 0 {
			add("unknown service %q; use one of: %s", svc, serviceNames(m.o.catalog))
			continue
		}
		families[all[0].Family] = true
		var matching []AppSpec
		for _, a := range all {
			if !a.Creatable || (req.AppType != "" && !sameName(a.Name, req.AppType)) {
				continue
			}
			switch {
			case a.Family == FamilyAOS && mode != Modern:
				// AOS: only modern mode is supported when creating.
			case a.Family == FamilyAOS && (a.Mode == Modern || a.Mode == Delegated):
				matching = append(matching, a)
			case a.Mode == mode:
				matching = append(matching, a)
			}
		}
		if len(matching) == 0 {
			if all[0].Family == FamilyAOS && mode != Modern {
				add("AOS service %q can only be created in modern mode", svc)
			} else if req.AppType != "" {
				add("app type %q cannot be created for service %q in %s mode", req.AppType, svc, mode)
			} else {
				add("service %q has no app type that can be created in %s mode", svc, mode)
			}
			continue
		}
		for _, a := range matching {
			if !seen[a.Name] {
				seen[a.Name] = true
				if a.AppID == "" && a.Mode != Custom && m.o.vendorAppIDs != nil {
					a.AppID = m.o.vendorAppIDs[a.Name]
				}
				apps = append(apps, a)
			}
		}
	}
	if len(families) > 1 {
		fams := make([]string, 0, len(families))
		for f := range families {
			fams = append(fams, f)
		}
		slices.Sort(fams)
		add("select services of one family (Elements premium, AOS or one of the catalog's own), not several: %s", strings.Join(fams, ", "))
	}
	for _, a := range apps {
		switch {
		case a.Mode == Custom && req.Custom == nil:
			add("%s needs the custom app: application ID, .pfx and password", a.Name)
		case a.Mode != Custom && a.AppID == "":
			problems = append(problems, fmt.Sprintf("the application ID of app type %s is unknown (configure WithVendorAppIDs)", a.Name))
			noAppID = true
		}
	}
	if req.Custom != nil && mode != Custom {
		add("a custom app was given but the setup method is %s", mode)
	}
	if len(problems) > 0 {
		e := &RequestError{Op: "create", Problems: problems}
		if noAppID {
			e.also = []error{ErrNoAppID}
		}
		return nil, e
	}
	return apps, nil
}

// prepareCustom validates a custom app and seals its secrets; op names the operation in errors
// ("create", "re-authorize"). In order: the application ID and the .pfx (*CertificateError with
// every problem); the certificate is among the app registration's keyCredentials (the driver must
// implement consent.KeyCredentialReader); the certificate signs in as the app in the tenant when
// the driver implements consent.CertificateProver (see proveCertificate; a driver without it
// skips this step, so a certificate Entra would refuse, or a service principal that is missing
// or disabled, surfaces only at consent or at the next Verify); the roles to assign before
// authorization are assigned.
func (m *Manager) prepareCustom(ctx context.Context, op string, p Profile, app AppSpec, in CustomAppInput) (*CustomApp, error) {
	if m.o.sealer == nil {
		return nil, ErrNoSealer
	}
	var problems []string
	if _, err := parseGUID(in.ApplicationID); err != nil {
		problems = append(problems, "the application ID must be the custom app's application (client) ID, a GUID")
	}
	info, certProblems, err := m.o.inspect(ctx, in.PFX, in.Password, m.now())
	if err != nil {
		return nil, fmt.Errorf("appprofile: inspecting the certificate: %w", err)
	}
	if len(problems)+len(certProblems) > 0 {
		return nil, &CertificateError{Problems: append(problems, certProblems...)}
	}
	c := &CustomApp{ApplicationID: in.ApplicationID, Thumbprint: info.Thumbprint, ThumbprintSHA256: info.ThumbprintSHA256, NotAfter: info.NotAfter}
	// The certificate must be one of the app's keyCredentials ("paired with the .cer/.crt uploaded
	// to Entra").
	kr, ok := m.driver.(consent.KeyCredentialReader)
	if !ok {
		return nil, &RequestError{Op: op, Problems: []string{"the driver cannot read the custom app's keyCredentials (consent.KeyCredentialReader), so the certificate cannot be checked"}}
	}
	var kcs []consent.KeyCredential
	err = m.call(ctx, p.Tenant, func(ctx context.Context) error {
		var err error
		kcs, err = kr.KeyCredentials(ctx, p.Tenant, in.ApplicationID)
		return err
	})
	switch {
	case errors.Is(err, consent.ErrNotFound):
		return nil, &RequestError{Op: op, Problems: []string{fmt.Sprintf("tenant %s has no app registration with application ID %s; create the custom app first", p.Tenant, in.ApplicationID)}}
	case consent.CouldNotCheck(err):
		return nil, fmt.Errorf("%w: reading the custom app's certificates: %w", ErrCouldNotCheck, err)
	case err != nil:
		return nil, fmt.Errorf("appprofile: reading the custom app's certificates: %w", err)
	}
	paired := false
	for _, k := range kcs {
		c.AppThumbprints = append(c.AppThumbprints, k.ThumbprintSHA1)
		if strings.EqualFold(k.ThumbprintSHA1, info.Thumbprint) {
			paired = true
		}
	}
	if !paired {
		return nil, &CertificateError{Problems: []string{fmt.Sprintf("the .pfx certificate (thumbprint %s) is not among the certificates uploaded to app %s in Entra ID; upload its .cer/.crt or choose the paired .pfx", info.Thumbprint, in.ApplicationID)}}
	}
	// Being listed is not being accepted: sign in as the app with the certificate.
	if err := m.proveCertificate(ctx, op, p.Tenant, in.ApplicationID, info); err != nil {
		return nil, err
	}
	// Roles assigned manually before authorization must already be there.
	if err := m.checkRolesBeforeAuthorization(ctx, op, p, app, in.ApplicationID); err != nil {
		return nil, err
	}
	c.PFX, err = m.o.sealer.Seal(in.PFX, aad(p.ID, "pfx"))
	if err != nil {
		return nil, fmt.Errorf("appprofile: sealing the .pfx: %w", err)
	}
	c.Password, err = m.o.sealer.Seal([]byte(in.Password), aad(p.ID, "password"))
	if err != nil {
		return nil, fmt.Errorf("appprofile: sealing the password: %w", err)
	}
	return c, nil
}

// proveCertificate acquires an app-only token for appID in tenant with the certificate of info
// through the driver's consent.CertificateProver, within the rate budget: the ground truth that
// Microsoft Entra ID accepts the .pfx as the app's credential. It returns nil when the driver
// cannot prove certificates. Failures say what to do next:
//
//   - Entra rejects the certificate (consent.ErrInvalidCredential: not registered, outside its
//     validity, bad signature): a *CertificateError whose Err is the driver's error;
//   - the app has no service principal in the tenant (consent.ErrNotConsented): a *RequestError
//     asking for admin consent to the custom app first (seed 000: it is granted before the
//     profile is created);
//   - its service principal is disabled (consent.ErrAppDisabled): a *RequestError asking to
//     enable the enterprise application;
//   - the tenant could not be asked (throttled, transient, forbidden): an error wrapping
//     ErrCouldNotCheck.
//
// The token's claims are not kept: the grants are proven from the directory at consent
// (CompleteConsent), and the token's expiry says nothing about the profile.
func (m *Manager) proveCertificate(ctx context.Context, op, tenant, appID string, info CertificateInfo) error {
	cp, ok := m.driver.(consent.CertificateProver)
	if !ok {
		return nil
	}
	if info.Credential.Leaf() == nil || info.Credential.Key == nil {
		// Only a replaced InspectFunc can leave the credential out of a file without problems.
		return &CertificateError{Problems: []string{fmt.Sprintf("the .pfx (thumbprint %s) gives no private key for its certificate, so it cannot sign in as app %s; export the certificate with its private key", info.Thumbprint, appID)}}
	}
	err := m.call(ctx, tenant, func(ctx context.Context) error {
		_, err := cp.ProveCertificate(ctx, tenant, appID, info.Credential)
		return err
	})
	var de *consent.DriverError
	code := ""
	if errors.As(err, &de) && de.Code != "" {
		code = " (" + de.Code + ")"
	}
	switch {
	case err == nil:
		return nil
	case consent.CouldNotCheck(err):
		return fmt.Errorf("%w: signing in as the custom app with its certificate: %w", ErrCouldNotCheck, err)
	case errors.Is(err, consent.ErrInvalidCredential):
		return &CertificateError{Err: err, Problems: []string{fmt.Sprintf("Microsoft Entra ID rejected the certificate (thumbprint %s) as the credential of app %s in tenant %s%s; upload its .cer/.crt to the app registration, or choose the .pfx paired with a current certificate uploaded there", info.Thumbprint, appID, tenant, code)}}
	case errors.Is(err, consent.ErrNotConsented):
		return &RequestError{Op: op, Problems: []string{fmt.Sprintf("app %s has no service principal in tenant %s%s, so nothing can sign in as it: grant admin consent to the custom app first (Microsoft Entra admin center > App registrations > the app > API permissions > Grant admin consent), then try again", appID, tenant, code)}}
	case errors.Is(err, consent.ErrAppDisabled):
		return &RequestError{Op: op, Problems: []string{fmt.Sprintf("the enterprise application of app %s is disabled in tenant %s%s, so nothing can sign in as it: enable it (Microsoft Entra admin center > Enterprise applications > the app > Properties > Enabled for users to sign in), then try again", appID, tenant, code)}}
	}
	return fmt.Errorf("appprofile: signing in as the custom app with its certificate: %w", err)
}

// checkRolesBeforeAuthorization checks that the roles a custom app needs before authorization are
// assigned; op names the operation in errors.
func (m *Manager) checkRolesBeforeAuthorization(ctx context.Context, op string, p Profile, app AppSpec, appID string) error {
	var before []roles.DirectoryRequirement
	for _, r := range app.DirectoryRoles {
		if r.Assignment == roles.ManualBeforeAuthorization {
			before = append(before, r)
		}
	}
	if len(before) == 0 {
		return nil
	}
	var st consent.AppState
	err := m.call(ctx, p.Tenant, func(ctx context.Context) error {
		var err error
		st, err = m.driver.AppState(ctx, p.Tenant, appID)
		return err
	})
	if consent.CouldNotCheck(err) {
		return fmt.Errorf("%w: reading the custom app's roles: %w", ErrCouldNotCheck, err)
	}
	var missing []string
	for _, r := range before {
		if err != nil || !st.Exists || !st.HasDirectoryRole(r.Role) {
			missing = append(missing, r.Role.Name())
		}
	}
	if len(missing) > 0 {
		return &RequestError{Op: op, Problems: []string{fmt.Sprintf("assign these roles to app %s in the Microsoft Entra admin center before authorization: %s", appID, strings.Join(missing, ", "))}}
	}
	return nil
}

func aad(profileID, field string) []byte {
	return []byte("tenantapps/appprofile/" + profileID + "/" + field)
}

func parseGUID(s string) (string, error) {
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return "", errors.New("not a GUID")
	}
	for i, c := range s {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			continue
		}
		if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
			return "", errors.New("not a GUID")
		}
	}
	return s, nil
}

// BeginConsentRequest starts consent for a profile.
type BeginConsentRequest struct {
	// Method is admin (the default) or user consent.
	Method ConsentMethod
	// Consenter is who the portal says will consent; eligibility is checked before the consent URL
	// is issued, and every unmet requirement is reported at once.
	Consenter Consenter
	// BackupFunctions: required for the Cloud Backup for Microsoft 365 Delegated App.
	BackupFunctions []string
	// Scopes overrides the scopes a user consent asks for (resource-qualified, e.g.
	// "https://graph.microsoft.com/User.Read"); by default they are the app type's delegated
	// permissions, or the resource's .default when the catalog does not publish them.
	Scopes []string
	// Facts describe the intended use (Power Platform / Power BI scans, groups whose settings
	// change); AdminConsentGranted is read from the tenant by the Manager.
	Facts consent.TenantFacts
}

// adminConsentGranted asks the tenant whether the app's service principal exists with grants, the
// precondition of user consent.
func (m *Manager) adminConsentGranted(ctx context.Context, p Profile) (bool, error) {
	var st consent.AppState
	err := m.call(ctx, p.Tenant, func(ctx context.Context) error {
		var err error
		st, err = m.driver.AppState(ctx, p.Tenant, p.AppID)
		return err
	})
	if consent.CouldNotCheck(err) {
		return false, fmt.Errorf("%w: checking admin consent: %w", ErrCouldNotCheck, err)
	}
	return err == nil && st.Exists && (len(st.AppRoleGrants) > 0 || slices.ContainsFunc(st.DelegatedGrants, func(g consent.DelegatedGrant) bool { return g.ConsentType == consent.ConsentAllPrincipals })), nil
}

// ConsentStart is where to send the consenting account.
type ConsentStart struct {
	// URL is the Microsoft Entra admin consent (or authorize, for user consent) URL.
	URL string
	// State is the signed, single-use state carried by URL.
	State     string
	ExpiresAt time.Time
}

// BeginConsent checks that the consenter is eligible (every missing requirement at once, in an
// *EligibilityError) and returns the consent URL with a signed single-use state. For the Cloud
// Backup for Microsoft 365 Delegated App the chosen functions are required.
func (m *Manager) BeginConsent(ctx context.Context, id string, req BeginConsentRequest) (ConsentStart, error) {
	if m.codec == nil || m.o.redirectURI == "" {
		return ConsentStart{}, ErrNoStateKey
	}
	p, app, err := m.profileAndApp(ctx, id)
	if err != nil {
		return ConsentStart{}, err
	}
	method := req.Method
	if method == "" {
		method = AdminConsent
	}
	var missing []string
	saveFunctions := false
	if len(app.BackupFunctions) > 0 && slices.Contains(p.Services, "Cloud Backup for Microsoft 365") {
		fns := req.BackupFunctions
		if len(fns) == 0 {
			fns = p.BackupFunctions
		}
		if err := checkFunctions(app, fns); err != nil {
			missing = append(missing, err.Error())
		} else if !slices.Equal(fns, p.BackupFunctions) {
			p = p.clone()
			p.BackupFunctions = slices.Clone(fns)
			saveFunctions = true
		}
	}
	facts := req.Facts
	if method == UserConsent {
		granted, err := m.adminConsentGranted(ctx, p)
		if err != nil {
			return ConsentStart{}, err
		}
		facts.AdminConsentGranted = granted
	}
	more, err := m.o.eligibility(p, app, method, req.Consenter, facts)
	if err != nil {
		return ConsentStart{}, &RequestError{Op: "begin consent", Problems: []string{err.Error()}}
	}
	missing = append(missing, more...)
	if len(missing) > 0 {
		return ConsentStart{}, &EligibilityError{AppType: p.AppType, Method: method, Missing: missing}
	}
	if p.Mode == Custom {
		if err := m.checkRolesBeforeAuthorization(ctx, "begin consent", p, app, p.AppID); err != nil {
			return ConsentStart{}, err
		}
	}
	if saveFunctions {
		// The chosen functions are kept only once the consenter is known to be eligible.
		if p, err = m.save(ctx, p, p); err != nil {
			return ConsentStart{}, err
		}
	}
	state, st, err := m.codec.Issue(consent.State{ProfileID: p.ID, Tenant: p.Tenant, Method: method,
		ConsenterID: req.Consenter.UserID, ConsenterUPN: req.Consenter.UserPrincipalName, Scopes: slices.Clone(req.Scopes)})
	if err != nil {
		return ConsentStart{}, fmt.Errorf("appprofile: issuing consent state: %w", err)
	}
	u, err := m.consentURL(p, app, st, state)
	if err != nil {
		return ConsentStart{}, err
	}
	return ConsentStart{URL: u, State: state, ExpiresAt: st.ExpiresAt}, nil
}

// Callback is what Microsoft Entra sent to the redirect URI.
type Callback struct {
	State string
	// Tenant is the tenant parameter (admin consent); empty for user consent.
	Tenant string
	// AdminConsent is the admin_consent parameter ("True").
	AdminConsent string
	// Code is the authorization code (user consent).
	Code string
	// Error and ErrorDescription are set when consent failed or was declined.
	Error, ErrorDescription string
	// RemoteIP is the consenting browser's address, recorded as the original IP that Conditional
	// Access must allow for delegated apps.
	RemoteIP string
}

// ParseCallback reads a Callback from the redirect URI's query with consent.ParseCallback. A
// callback that cannot be genuine (a repeated or oversized parameter, a tenant that is not a GUID,
// a success without state, ...) fails with an error wrapping ErrBadState and
// consent.ErrMalformedCallback. A callback that reports an error (the administrator declined,
// AADSTS...) is returned without error: CompleteConsent verifies its state and then fails with a
// *ConsentDeniedError carrying the *consent.AADSTSError.
func ParseCallback(rawQuery string) (Callback, error) {
	q, err := parseQuery(rawQuery)
	if err != nil {
		return Callback{}, fmt.Errorf("%w: %w: %v", ErrBadState, consent.ErrMalformedCallback, err)
	}
	cc, err := consent.ParseCallback(q)
	var aadsts *consent.AADSTSError
	if err != nil && !errors.As(err, &aadsts) {
		return Callback{}, fmt.Errorf("%w: %w", ErrBadState, err)
	}
	cb := Callback{State: cc.State, Tenant: cc.Tenant, Code: cc.Code, Error: cc.Error, ErrorDescription: cc.ErrorDescription}
	if cc.Flow == consent.AdminConsentFlow {
		cb.AdminConsent = "False"
		if cc.AdminConsent {
			cb.AdminConsent = "True"
		}
	}
	if aadsts != nil && cb.Error == "" && cb.ErrorDescription == "" {
		// admin_consent=False without an error parameter.
		cb.Error, cb.ErrorDescription = aadsts.OAuthError, aadsts.Description
	}
	return cb, nil
}

// consentCallback is cb as the consent package's Callback, for StateCodec.VerifyCallback.
func (cb Callback) consentCallback() consent.Callback {
	cc := consent.Callback{State: cb.State, Tenant: cb.Tenant, Code: cb.Code, Error: cb.Error, ErrorDescription: cb.ErrorDescription}
	switch {
	case cb.Code != "":
		cc.Flow = consent.AuthorizationCodeFlow
	case cb.AdminConsent != "":
		cc.Flow, cc.AdminConsent = consent.AdminConsentFlow, strings.EqualFold(cb.AdminConsent, "true")
	}
	return cc
}

// CompleteConsent finishes consent: it verifies the state (signature, expiry), rejects a callback
// that carries an error, matches the tenant, consumes the state's nonce (a replay fails with
// ErrStateReplayed), redeems the authorization code of a user consent, then asks the driver for
// the ground truth — it never trusts the callback alone — and records who consented and when.
//
// Entra replicates new grants with a delay, so while the tenant does not show every grant yet
// CompleteConsent waits and reads again (WithReplicationWait, WithMaxAttempts; never longer than
// ctx allows). When the grants are still not there, the error is a *ConsentNotProvenError and
// the profile is unchanged: consent again.
//
// When the tenant cannot be read (throttled, Graph unavailable, ctx ended while waiting), the
// consent is not lost although the state is spent: the profile is saved with the consent record
// (method, who, when, callback nonce, catalog version, the redeemed token cache if any) marked
// ConsentRecord.Unproven, its status and reasons unchanged and LastCheck CouldNotCheck, and
// CompleteConsent returns that profile with a *ConsentRecordedError, which wraps
// ErrCouldNotCheck. The consent is recorded; Verify or VerifyAll will prove it and settle the
// status — do not send the administrator to consent again. Errors before the tenant is read
// record nothing; redeeming the code is retried first when it fails transiently
// (WithMaxAttempts), as the spent state cannot be used again.
//
// When saving the consent fails after the state was spent (the store is down), the same callback
// may be retried while its state is valid: a spent state is refused with ErrStateReplayed only
// when the profile's consent record carries its nonce (or a newer consent was recorded), so a
// retry completes a consent whose earlier attempt recorded nothing. A retry of a user-consent
// callback whose code was already redeemed fails with a *ConsentDeniedError (invalid_grant).
func (m *Manager) CompleteConsent(ctx context.Context, cb Callback) (Profile, error) {
	if m.codec == nil {
		return Profile{}, ErrNoStateKey
	}
	if cb.State == "" && (cb.Error != "" || cb.ErrorDescription != "") {
		// Entra also sends error callbacks without state (entra-docs
		// docs/identity-platform/v2-admin-consent.md): nothing to verify or consume, and no
		// profile changes; the error is what happened.
		return Profile{}, deniedError(cb.Error, cb.ErrorDescription)
	}
	st, err := openState(m.codec, cb.State)
	if err != nil {
		return Profile{}, err
	}
	if cb.Error != "" || cb.ErrorDescription != "" {
		return Profile{}, deniedError(cb.Error, cb.ErrorDescription)
	}
	if _, err := m.codec.VerifyCallback(cb.consentCallback()); err != nil {
		if errors.Is(err, consent.ErrStateTenantMismatch) {
			return Profile{}, fmt.Errorf("%w: %w", ErrTenantMismatch, err)
		}
		return Profile{}, fmt.Errorf("%w: %w", ErrBadState, err) // flow mismatch
	}
	if st.Method == consent.AdminConsent && cb.AdminConsent != "" && !strings.EqualFold(cb.AdminConsent, "true") {
		d := deniedError("access_denied", "admin_consent="+cb.AdminConsent)
		d.Code = "admin_consent"
		return Profile{}, d
	}
	if err := m.spendNonce(ctx, st); err != nil { // see consentretry.go
		return Profile{}, err
	}
	p, err := m.Get(ctx, st.ProfileID)
	if err != nil {
		return Profile{}, err
	}
	if !strings.EqualFold(p.Tenant, st.Tenant) {
		return Profile{}, fmt.Errorf("%w: profile %s belongs to tenant %s", ErrTenantMismatch, p.ID, p.Tenant)
	}
	app, err := m.appSpec(p.AppType)
	if err != nil {
		return Profile{}, err
	}
	rec := &ConsentRecord{Method: st.Method, UserID: st.ConsenterID, UserPrincipalName: st.ConsenterUPN, At: m.now(), CallbackNonce: st.Nonce,
		OriginalIP: cb.RemoteIP, CatalogVersion: m.o.catalog.Version()}
	np := p.clone()
	if cb.Code != "" {
		if err := m.redeem(ctx, &np, app, st, cb, rec); err != nil {
			return Profile{}, err
		}
	}
	np.Consent = rec
	np.ReauthorizationRequested = ""
	m.invalidateTokens(ctx, p.Tenant) // tokens minted before the consent keep the old permissions
	// Ground truth: the service principal and the grants must be visible in the tenant.
	obs, missing := m.proveConsent(ctx, &np, app)
	if len(obs.Failures) > 0 {
		return m.keepUnproven(ctx, p, np, app, obs)
	}
	if len(missing) > 0 {
		return Profile{}, &ConsentNotProvenError{ProfileID: p.ID, Missing: missing}
	}
	// The consent user's fresh sign-in supersedes earlier password changes and revocations:
	// rec.At is now.
	settleConsent(&np, obs)
	a := Assess(np, Requirements{App: app}, obs, m.now(), m.o.policy)
	np.Status, np.Reasons, np.Accepted = a.Status, a.Reasons, a.Accepted
	np.Observed = m.observed(obs, app)
	np.LastCheck = &Check{At: m.now(), Outcome: Checked}
	saved, err := m.save(ctx, np, p)
	if err != nil {
		return Profile{}, m.consentSaveError(ctx, np, err)
	}
	m.o.logger.Info("app profile consented", "profile", saved.ID, "tenant", saved.Tenant, "method", rec.Method, "status", saved.Status)
	return saved, nil
}

// proveConsent reads the ground truth of the consent np records. Entra replicates new grants
// with a delay, so while the tenant does not show everything the consent should have granted, it
// waits (WithReplicationWait, doubling each time) and reads again, up to WithMaxAttempts reads. It
// returns the last observation and what that observation misses. The observation has Failures
// when the tenant could not be read, and when ctx ended while waiting: the answer was not final.
// A delegated token cache rotated by a read is kept in np for the next one.
func (m *Manager) proveConsent(ctx context.Context, np *Profile, app AppSpec) (Observation, []string) {
	wait := m.o.replication
	for attempt := 1; ; attempt++ {
		obs, newCache := m.observeWithCache(ctx, *np, nil)
		if newCache != nil {
			np.DelegatedTokenCache = *newCache
		}
		if len(obs.Failures) > 0 {
			return obs, nil
		}
		missing := consentMissing(*np, app, obs)
		if len(missing) == 0 || attempt >= m.o.maxAttempts {
			return obs, missing
		}
		if err := sleepCtx(ctx, wait); err != nil {
			obs.Failures = append(obs.Failures, Failure{Part: "waiting for the consent to replicate", Err: err})
			return obs, nil
		}
		wait *= 2
	}
}

// keepUnproven saves np, whose consent could not be proven because the tenant could not be read
// (obs has Failures), as CompleteConsent documents: consent marked Unproven, status and reasons
// those of the profile before (old), LastCheck CouldNotCheck. It returns the saved profile with a
// *ConsentRecordedError. The save does not end with ctx: the callback's state is spent, so losing
// the record would send the administrator to consent again.
func (m *Manager) keepUnproven(ctx context.Context, old Profile, np Profile, app AppSpec, obs Observation) (Profile, error) {
	np.Consent.Unproven = true
	a := Assess(np, Requirements{App: app}, obs, m.now(), m.o.policy)
	np.Status, np.Reasons = a.Status, a.Reasons
	np.LastCheck = &Check{At: m.now(), Outcome: a.Outcome, Error: a.Err.Error()}
	saved, err := m.save(context.WithoutCancel(ctx), np, old)
	if err != nil {
		if rerr := m.consentSaveError(ctx, np, err); errors.Is(rerr, ErrStateReplayed) {
			return Profile{}, rerr
		}
		return Profile{}, fmt.Errorf("appprofile: the tenant could not be read to prove the consent (%v), and recording the consent failed: %w", a.Err, err)
	}
	m.o.logger.Warn("app profile consent recorded, not proven yet: the tenant could not be read; Verify will prove it", "profile", saved.ID, "tenant", saved.Tenant, "method", saved.Consent.Method, "err", a.Err)
	return saved, &ConsentRecordedError{ProfileID: saved.ID, Err: a.Err}
}

// settleConsent records on np's consent what the observation proving it shows about the time of
// consent — the consent user's licences and MFA, the custom app's certificates — and clears
// Unproven. obs must have no Failures.
func settleConsent(np *Profile, obs Observation) {
	if obs.ConsentUser != nil {
		np.Consent.UserHadLicenses = obs.ConsentUser.Licensed
		np.Consent.UserHadMFA = !obs.ConsentUser.MFAEnabledAt.IsZero()
	}
	if np.Mode == Custom && np.Custom != nil && obs.App != nil {
		np.Custom.AppThumbprints = normalizeThumbprints(obs.App.Thumbprints)
	}
	np.Consent.Unproven = false
}

// consentMissing lists what a just-completed consent should show in the tenant but does not.
func consentMissing(p Profile, app AppSpec, obs Observation) []string {
	if !obs.ServicePrincipal.Exists {
		return []string{fmt.Sprintf("no service principal for app %s in tenant %s", p.AppID, p.Tenant)}
	}
	var missing []string
	if app.PermissionsPublished {
		granted := map[permKey]bool{}
		for _, g := range obs.Grants {
			granted[g.key()] = true
		}
		for _, perm := range app.Permissions {
			if !granted[perm.key()] {
				missing = append(missing, "permission "+perm.String()+" not granted")
			}
		}
	}
	return missing
}

func (m *Manager) redeem(ctx context.Context, p *Profile, app AppSpec, st consent.State, cb Callback, rec *ConsentRecord) error {
	cr, ok := m.driver.(consent.CodeRedeemer)
	if !ok {
		return &RequestError{Op: "complete consent", Problems: []string{"the callback carries an authorization code but the driver cannot redeem it (consent.CodeRedeemer)"}}
	}
	var red consent.Redeemed
	var err error
	// The state is already spent, so a transient failure is retried (WithMaxAttempts): the code
	// stays redeemable for minutes when Entra never processed the request. A code Entra did
	// redeem before the answer was lost fails the retry with invalid_grant.
	for attempt := 1; ; attempt++ {
		err = m.call(ctx, p.Tenant, func(ctx context.Context) error {
			var err error
			red, err = cr.RedeemCode(ctx, consent.CodeRedemption{TenantID: p.Tenant, AppID: p.AppID, Code: cb.Code, RedirectURI: m.o.redirectURI,
				PKCEVerifier: string(m.pkceVerifier(cb.State, st.Nonce)), Scopes: scopesOr(st.Scopes, app)})
			return err
		})
		if !consent.CouldNotCheck(err) || ctx.Err() != nil || attempt >= m.o.maxAttempts {
			break
		}
		if sleepCtx(ctx, time.Duration(attempt)*50*time.Millisecond) != nil {
			break
		}
	}
	switch {
	case consent.CouldNotCheck(err):
		return fmt.Errorf("%w: redeeming the authorization code (the consent state is spent: start again with BeginConsent): %w", ErrCouldNotCheck, err)
	case err != nil:
		d := &ConsentDeniedError{Code: "invalid_grant", Description: err.Error()}
		errors.As(err, &d.AADSTS)
		return d
	}
	if err := st.CheckTenant(red.TenantID); err != nil {
		return fmt.Errorf("%w: the consenting user's token: %w", ErrTenantMismatch, err)
	}
	rec.UserID, rec.UserPrincipalName = red.UserObjectID, red.UserPrincipalName
	defer clear(red.TokenCache)
	switch {
	case len(red.TokenCache) == 0:
	case m.o.sealer == nil:
		m.o.logger.Warn("delegated token cache not kept: no sealer configured (WithSealer); delegated consents are checked from directory state only", "profile", p.ID)
	default:
		sealed, err := m.o.sealer.Seal(red.TokenCache, aad(p.ID, "token-cache"))
		if err != nil {
			return fmt.Errorf("appprofile: sealing the delegated token cache: %w", err)
		}
		p.DelegatedTokenCache = sealed
	}
	return nil
}

func (m *Manager) consumeNonce(ctx context.Context, st consent.State) error {
	exp := st.ExpiresAt
	if m.nonces != nil {
		err := m.nonces.ConsumeNonce(ctx, st.Nonce, exp)
		switch {
		case errors.Is(err, store.ErrNonceReused):
			return fmt.Errorf("%w: %w", ErrStateReplayed, err)
		case errors.Is(err, store.ErrNonceExpired):
			return fmt.Errorf("%w: expired; start again with BeginConsent", ErrBadState)
		case err != nil:
			return fmt.Errorf("appprofile: consuming consent state: %w", err)
		}
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	for n, e := range m.usedLocal {
		if !now.Before(e) {
			delete(m.usedLocal, n)
		}
	}
	if _, used := m.usedLocal[st.Nonce]; used {
		return ErrStateReplayed
	}
	m.usedLocal[st.Nonce] = exp
	return nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return strings.TrimSpace(strings.TrimSuffix(s, "\r"))
}

// ReauthorizeInput describes a re-authorization (seed 000 and 003).
type ReauthorizeInput struct {
	ReauthorizeRequest
	// Consenter is the account that will consent.
	Consenter Consenter
	// Custom is the new custom app or certificate (ChangeCustomApp, ChangeCertificate).
	Custom *CustomAppInput
}

// Reauthorize applies the re-authorization rules (a *NotAllowedError says where it can be done
// instead), applies a custom app or certificate change (validated, proven through a
// consent.CertificateProver driver, and sealed like at creation; the profile is unchanged when
// that fails), and begins consent.
func (m *Manager) Reauthorize(ctx context.Context, id string, in ReauthorizeInput) (ConsentStart, error) {
	p, app, err := m.profileAndApp(ctx, id)
	if err != nil {
		return ConsentStart{}, err
	}
	if err := CheckReauthorize(p, app, in.ReauthorizeRequest); err != nil {
		return ConsentStart{}, err
	}
	switch in.Change {
	case ChangeCustomApp, ChangeCertificate:
		if in.Custom == nil {
			return ConsentStart{}, &RequestError{Op: "re-authorize", Problems: []string{"give the custom app's application ID, .pfx and password"}}
		}
		c, err := m.prepareCustom(ctx, "re-authorize", p, app, *in.Custom)
		if err != nil {
			return ConsentStart{}, err
		}
		np := p.clone()
		np.Custom, np.AppID = c, c.ApplicationID
		if p, err = m.save(ctx, np, p); err != nil {
			return ConsentStart{}, err
		}
	case ChangeConsentAccount:
		if p.ReauthorizationRequested == "" {
			np := p.clone()
			np.ReauthorizationRequested = "change the consent account"
			if p, err = m.save(ctx, np, p); err != nil {
				return ConsentStart{}, err
			}
		}
	}
	return m.BeginConsent(ctx, id, BeginConsentRequest{Method: in.Method, Consenter: in.Consenter, BackupFunctions: in.BackupFunctions})
}

// RequestReauthorization records that someone asked to re-authorize the profile (for example to
// change the consent account); the profile gets a consent-account-change-requested reason until
// consent completes again.
//
// It is idempotent: when a concurrent writer changed the profile first, the request is applied
// again to the current profile; callers need not retry ErrConflict.
func (m *Manager) RequestReauthorization(ctx context.Context, id, why string) (Profile, error) {
	if why == "" {
		why = "change the consent account"
	}
	return m.updateProfile(ctx, id, func(p Profile) (Profile, error) {
		np := p.clone()
		np.ReauthorizationRequested = why
		if np.Consent != nil {
			np.Reasons = slices.DeleteFunc(np.Reasons, func(r Reason) bool { return r.Code == ReasonConsentAccountChange })
			np.Reasons = append(np.Reasons, newReason(ReasonConsentAccountChange, "re-authorization requested: %s", why))
		}
		return np, nil
	})
}

// Delete deletes a profile, wiping its sealed secrets with it. Profiles whose app type is not
// supported for creation cannot be deleted (*NotAllowedError). It is idempotent: when a
// concurrent writer changed the profile first, Delete reads it again and deletes it then; callers
// need not retry ErrConflict.
func (m *Manager) Delete(ctx context.Context, id string) error {
	for try := 0; ; try++ {
		err := m.deleteOnce(ctx, id)
		if errors.Is(err, ErrConflict) && try < conflictRetries {
			continue
		}
		return err
	}
}

func (m *Manager) deleteOnce(ctx context.Context, id string) error {
	p, app, err := m.profileAndApp(ctx, id)
	if err != nil {
		return err
	}
	if err := CheckDelete(p, app); err != nil {
		return err
	}
	if p.Custom != nil || !p.DelegatedTokenCache.IsZero() {
		// Overwrite the sealed secrets first, so that no copy outlives the profile in stores that
		// keep old row versions until compaction.
		np := p.clone()
		if np.Custom != nil {
			np.Custom.PFX, np.Custom.Password = SealedSecret{}, SealedSecret{}
		}
		np.DelegatedTokenCache = SealedSecret{}
		if p, err = m.save(ctx, np, p); err != nil {
			return err
		}
	}
	if err := m.deleteRecord(ctx, p); err != nil {
		return storeErr("delete", id, err)
	}
	m.o.logger.Info("app profile deleted", "profile", p.ID, "tenant", p.Tenant, "appType", p.AppType)
	return nil
}

// RoleChecklist returns the profile's role checklist, verified against the tenant when it can be
// read (Verified false otherwise, with the error wrapping ErrCouldNotCheck).
func (m *Manager) RoleChecklist(ctx context.Context, id string) (Checklist, error) {
	p, app, err := m.profileAndApp(ctx, id)
	if err != nil {
		return Checklist{}, err
	}
	st, err := m.appState(ctx, p.Tenant, p.AppID)
	if consent.CouldNotCheck(err) {
		return BuildChecklist(p, app, nil, false, m.now(), m.o.policy), fmt.Errorf("%w: %w", ErrCouldNotCheck, err)
	}
	return BuildChecklist(p, app, st.DirectoryRoles, true, m.now(), m.o.policy), nil
}

// appState reads one app's state through the driver within the rate budget.
func (m *Manager) appState(ctx context.Context, tenant, appID string) (consent.AppState, error) {
	var st consent.AppState
	err := m.call(ctx, tenant, func(ctx context.Context) error {
		var err error
		st, err = m.driver.AppState(ctx, tenant, appID)
		return err
	})
	return st, err
}

// AssignRoles assigns, through the driver's consent.RoleAssigner, every directory role of the
// profile's role checklist (RoleChecklist) that the tenant does not show on the app's service
// principal, and returns the checklist read again afterwards. That covers the roles a custom app
// needs before authorization, the Exchange Administrator role of AOS apps that manage Exchange
// (Uses roles.ManagesExchange), and the roles the vendor would otherwise assign within 24 hours
// of consent. Roles already assigned are left alone (no driver call), so calling AssignRoles
// again is safe. A role the driver just assigned counts as assigned in the returned checklist
// even when the read-back does not show it yet: Entra replicates new assignments with a delay.
//
// Who may call it: an MSP whose reading app (the driver's identity) holds the Microsoft Graph
// application permission RoleManagement.ReadWrite.Directory in the customer's tenant, granted
// with admin consent there; assigning directory roles is a privileged change the customer agrees
// to by granting it. The app's service principal must exist: for a custom app the customer's
// admin consent to it, otherwise CompleteConsent. Azure RBAC roles are out of scope:
// AzureChecklist only reads them, and the returned checklist lists them unverified.
//
// AssignRoles does not change the profile, so no event is emitted; the next Verify or VerifyAll
// settles its status and reasons. Errors, each returned with the checklist as far as it is known:
//
//   - the driver does not implement consent.RoleAssigner: a *RequestError (ErrInvalidRequest);
//     assign the roles in the Microsoft Entra admin center as the (unverified) checklist lists
//     them;
//   - the app has no service principal in the tenant (consent.ErrNotConsented): a *RequestError
//     saying to consent first;
//   - the driver's app may not assign roles (consent.ErrForbidden): an error wrapping it that
//     names the missing permission, RoleManagement.ReadWrite.Directory;
//   - the tenant could not be read or changed (throttled, transient, a failed read-back): an error
//     wrapping ErrCouldNotCheck. Roles assigned before the failure stay assigned and the
//     checklist shows them; call AssignRoles again later.
func (m *Manager) AssignRoles(ctx context.Context, id string) (Checklist, error) {
	p, app, err := m.profileAndApp(ctx, id)
	if err != nil {
		return Checklist{}, err
	}
	checklist := func(assigned []roles.TemplateID, verified bool) Checklist {
		return BuildChecklist(p, app, assigned, verified, m.now(), m.o.policy)
	}
	ra, ok := m.driver.(consent.RoleAssigner)
	if !ok {
		return checklist(nil, false), &RequestError{Op: "assign roles", Problems: []string{"the driver cannot assign directory roles (it does not implement consent.RoleAssigner); assign them in the Microsoft Entra admin center as the role checklist lists them"}}
	}
	notConsented := &RequestError{Op: "assign roles", Problems: []string{fmt.Sprintf("app %s has no service principal in tenant %s to assign roles to; consent first (for a custom app: the customer's admin consent to it; otherwise BeginConsent and CompleteConsent)", p.AppID, p.Tenant)}}
	st, err := m.appState(ctx, p.Tenant, p.AppID)
	switch {
	case consent.CouldNotCheck(err):
		return checklist(nil, false), fmt.Errorf("%w: reading the app's directory roles: %w", ErrCouldNotCheck, err)
	case err != nil:
		return checklist(nil, false), fmt.Errorf("appprofile: assign roles: %w", err)
	case !st.Exists:
		return checklist(nil, true), notConsented
	}
	var missing, done []roles.TemplateID
	for _, rc := range checklist(st.DirectoryRoles, true).Directory {
		if !rc.Assigned {
			missing = append(missing, rc.Role)
		}
	}
	if len(missing) == 0 {
		return checklist(st.DirectoryRoles, true), nil
	}
	for i, role := range missing {
		var assigned bool
		err := m.call(ctx, p.Tenant, func(ctx context.Context) error {
			var err error
			assigned, err = ra.AssignDirectoryRole(ctx, p.Tenant, p.AppID, role)
			return err
		})
		switch {
		case err == nil:
			done = append(done, role)
			if assigned {
				m.o.logger.Info("directory role assigned", "profile", p.ID, "tenant", p.Tenant, "app", p.AppID, "role", role.Name())
			}
			continue
		case errors.Is(err, consent.ErrForbidden):
			names := make([]string, 0, len(missing)-i)
			for _, r := range missing[i:] {
				names = append(names, r.Name())
			}
			err = fmt.Errorf("appprofile: assign roles: the driver's app may not assign directory roles in tenant %s: grant it the Microsoft Graph application permission RoleManagement.ReadWrite.Directory there (with admin consent), or assign %s to app %s in the Microsoft Entra admin center: %w",
				p.Tenant, joinNames(names), p.AppID, err)
		case consent.CouldNotCheck(err):
			sofar := ""
			if len(done) > 0 {
				names := make([]string, len(done))
				for j, r := range done {
					names[j] = r.Name()
				}
				sofar = " (assigned before the failure: " + joinNames(names) + ")"
			}
			err = fmt.Errorf("%w: assigning %s%s; call AssignRoles again for the rest: %w", ErrCouldNotCheck, role.Name(), sofar, err)
		case errors.Is(err, consent.ErrNotConsented):
			err = notConsented
		default:
			err = fmt.Errorf("appprofile: assigning %s to app %s: %w", role.Name(), p.AppID, err)
		}
		return checklist(append(st.DirectoryRoles, done...), true), err
	}
	again, err := m.appState(ctx, p.Tenant, p.AppID)
	switch {
	case consent.CouldNotCheck(err):
		return checklist(append(st.DirectoryRoles, done...), true), fmt.Errorf("%w: the roles were assigned, but reading them back failed: %w", ErrCouldNotCheck, err)
	case err != nil:
		return checklist(append(st.DirectoryRoles, done...), true), fmt.Errorf("appprofile: the roles were assigned, but reading them back failed: %w", err)
	}
	return checklist(append(again.DirectoryRoles, done...), true), nil
}

// OpenCustomSecrets returns a custom profile's .pfx and password, unsealed, for handing to the
// product that uses the app. The caller must not log them and should clear them after use.
func (m *Manager) OpenCustomSecrets(ctx context.Context, id string) (pfx []byte, password string, err error) {
	if m.o.sealer == nil {
		return nil, "", ErrNoSealer
	}
	p, err := m.Get(ctx, id)
	if err != nil {
		return nil, "", err
	}
	if p.Custom == nil || p.Custom.PFX.IsZero() {
		return nil, "", &RequestError{Op: "open secrets", Problems: []string{fmt.Sprintf("profile %s has no custom app secrets", id)}}
	}
	pfx, err = m.o.sealer.Open(p.Custom.PFX, aad(p.ID, "pfx"))
	if err != nil {
		return nil, "", err
	}
	pw, err := m.o.sealer.Open(p.Custom.Password, aad(p.ID, "password"))
	if err != nil {
		return nil, "", err
	}
	return pfx, string(pw), nil
}

// AzureChecklist checks the Azure RBAC requirements of an Azure Security Management profile for
// each given resource (every subscription to manage, each AKS cluster and key vault with its
// configuration). Role assignments are read through consent.AzureRoleReader when the driver has it;
// other grants are listed unverified. A condition that does not apply to a resource is an
// ErrInvalidRequest naming the valid ones; an unreadable tenant wraps ErrCouldNotCheck.
func (m *Manager) AzureChecklist(ctx context.Context, id string, scopes []AzureScope) ([]AzureCheck, error) {
	p, app, err := m.profileAndApp(ctx, id)
	if err != nil {
		return nil, err
	}
	if len(app.AzureRoles) == 0 {
		return nil, &RequestError{Op: "Azure checklist", Problems: []string{fmt.Sprintf("%s has no Azure RBAC requirements", p.AppType)}}
	}
	reader, canRead := m.driver.(consent.AzureRoleReader)
	var out []AzureCheck
	for _, sc := range scopes {
		reqs, err := roles.AzureRequirementFor(app.AzureRoles, sc.Resource, sc.Condition)
		if err != nil {
			return nil, &RequestError{Op: "Azure checklist", Problems: []string{err.Error()}}
		}
		for _, r := range reqs {
			c := AzureCheck{Requirement: r, Instruction: r.Describe(), Scope: sc.ID}
			if r.Grant == roles.RoleAssignment && canRead {
				var as []consent.AzureRoleAssignment
				err := m.call(ctx, p.Tenant, func(ctx context.Context) error {
					var err error
					as, err = reader.AzureRoleAssignments(ctx, p.Tenant, p.AppID, sc.ID)
					return err
				})
				if consent.CouldNotCheck(err) {
					return out, fmt.Errorf("%w: reading Azure role assignments at %s: %w", ErrCouldNotCheck, sc.ID, err)
				}
				c.Verified = true
				c.Assigned = err == nil && slices.ContainsFunc(as, func(a consent.AzureRoleAssignment) bool {
					return a.RoleID == r.Role && strings.EqualFold(a.Scope, sc.ID)
				})
			}
			out = append(out, c)
		}
	}
	return out, nil
}

// profileAndApp reads profile id and its app type's catalog entry.
func (m *Manager) profileAndApp(ctx context.Context, id string) (Profile, AppSpec, error) {
	p, err := m.Get(ctx, id)
	if err != nil {
		return Profile{}, AppSpec{}, err
	}
	app, err := m.appSpec(p.AppType)
	return p, app, err
}
