package main

import (
	"bytes"
	"cmp"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/tenantapps/tenantapps/appprofile"
	"github.com/tenantapps/tenantapps/consent"
	"github.com/tenantapps/tenantapps/examples/internal/demo"
	"github.com/tenantapps/tenantapps/roles"
	"github.com/tenantapps/tenantapps/store"
)

//go:embed templates/*.html
var templateFS embed.FS

// maxUpload bounds a create or re-authorize form (a .pfx is a few kilobytes).
const maxUpload = 1 << 20

// Customer is an MSP customer with its tenant, as the portal knows it.
type Customer struct {
	Name     string
	TenantID string
}

// Portal is the web portal: the Customer app profile page of seed 000 on an appprofile.Manager.
// Its handler is safe for concurrent use; all state lives in the Manager's store and in the
// signed consent state, so several portal processes can share one store.
type Portal struct {
	mgr       *appprofile.Manager
	catalog   appprofile.Catalog
	customers []Customer
	// accounts are the accounts offered as consenters; nil: the form asks for a UPN and roles.
	accounts []appprofile.Consenter
	// env, when set, is the demo tenant: the portal shows its "change the tenant" page.
	env      *demo.Env
	sessions *sessions
	tmpl     *template.Template
	logger   *slog.Logger
	// auth signs operators in; nil leaves the portal open (the demo on loopback only).
	auth *operatorAuth
}

// PortalConfig configures NewPortal.
type PortalConfig struct {
	Manager   *appprofile.Manager
	Catalog   appprofile.Catalog
	Customers []Customer
	Accounts  []appprofile.Consenter
	Demo      *demo.Env
	// CSRFKey signs the CSRF tokens (at least 32 bytes).
	CSRFKey []byte
	// Secure sets the Secure attribute on cookies: the portal is served over HTTPS.
	Secure bool
	Logger *slog.Logger
	// Operators, when set, requires operator sign-in (operator.go) on every route but sign-in
	// and the consent callback. Nil leaves the portal open: only the demo on loopback may.
	Operators *OperatorConfig
}

// NewPortal checks the configuration and parses the templates. It does no I/O.
func NewPortal(c PortalConfig) (*Portal, error) {
	if c.Manager == nil || c.Catalog == nil {
		return nil, errors.New("portal: a Manager and its Catalog are required")
	}
	if len(c.CSRFKey) < 32 {
		return nil, errors.New("portal: the CSRF key must be at least 32 bytes")
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	rules := rulebook(c.Catalog)
	t, err := template.New("").Funcs(template.FuncMap{
		"join":  strings.Join,
		"who":   func(p appprofile.Profile, method string) string { return whoMayConsent(rules, p, method) },
		"lower": strings.ToLower,
		"date":  func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
	}).ParseFS(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	p := &Portal{mgr: c.Manager, catalog: c.Catalog, customers: c.Customers, accounts: c.Accounts, env: c.Demo,
		sessions: &sessions{key: c.CSRFKey, secure: c.Secure}, tmpl: t, logger: c.Logger}
	if c.Operators != nil {
		oc := *c.Operators
		if oc.Logger == nil {
			oc.Logger = c.Logger
		}
		if p.auth, err = newOperatorAuth(oc); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// Handler returns the portal's routes wrapped in the security headers and the CSRF check.
func (p *Portal) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/profiles", http.StatusSeeOther) })
	mux.HandleFunc("GET /profiles", p.list)
	mux.HandleFunc("GET /profiles/new", p.newForm)
	mux.HandleFunc("POST /profiles", p.create)
	mux.HandleFunc("POST /profiles/{id}/consent", p.beginConsent)
	mux.HandleFunc("GET /consent/callback", p.callback)
	mux.HandleFunc("POST /profiles/{id}/verify", p.verify)
	mux.HandleFunc("GET /profiles/{id}/reauthorize", p.reauthForm)
	mux.HandleFunc("POST /profiles/{id}/reauthorize", p.reauthorize)
	mux.HandleFunc("POST /profiles/{id}/delete", p.delete)
	mux.HandleFunc("GET /profiles/{id}/roles", p.roles)
	mux.HandleFunc("GET /profiles/{id}", p.profile)
	mux.HandleFunc("POST /profiles/{id}/accept", p.accept)
	mux.HandleFunc("POST /profiles/{id}/withdraw", p.withdraw)
	if p.auth != nil {
		p.operatorRoutes(mux)
	}
	if p.env != nil {
		mux.HandleFunc("GET /demo", p.demoPage)
		mux.HandleFunc("POST /demo", p.demoChange)
	}
	return p.protect(mux)
}

func (p *Portal) protect(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self'; form-action 'self' https:; frame-ancestors 'none'; base-uri 'none'")
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-store")
		p.sessions.session(w, r)
		op, ok := p.requireOperator(w, r)
		if !ok {
			return
		}
		r = r.WithContext(context.WithValue(r.Context(), operatorKey{}, op))
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, maxUpload)
			if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/") {
				if err := r.ParseMultipartForm(maxUpload); err != nil {
					p.fail(w, r, http.StatusRequestEntityTooLarge, "The form is too large or malformed: a .pfx file must be under 1 MB.")
					return
				}
			}
			if !p.sessions.check(r) {
				p.fail(w, r, http.StatusForbidden, "The form expired or did not come from this portal. Reload the page and try again.")
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// page is what every template gets.
type page struct {
	Title string
	CSRF  string
	Demo  bool
	Flash string
	Error string
	// Operator is the signed-in operator's UPN (empty without operator sign-in).
	Operator string
	Data     any
}

// operatorKey carries the signed-in operator in a request's context.
type operatorKey struct{}

func (p *Portal) render(w http.ResponseWriter, r *http.Request, status int, name, title string, data any) {
	pg := page{Title: title, CSRF: p.sessions.token(p.sessions.session(w, r)), Demo: p.env != nil, Flash: flashes[r.URL.Query().Get("flash")], Data: data}
	if op, ok := r.Context().Value(operatorKey{}).(operator); ok {
		pg.Operator = cmp.Or(op.UPN, op.ID)
	}
	if e, ok := data.(interface{ pageError() string }); ok {
		pg.Error = e.pageError()
	}
	// Rendered into a buffer first, so that a template that fails half-way is a plain error
	// page, never half a page with a success status.
	var buf bytes.Buffer
	if err := p.tmpl.ExecuteTemplate(&buf, name, pg); err != nil {
		p.logger.Error("portal: rendering", "template", name, "err", err)
		http.Error(w, "The page could not be shown; the error was logged. Go back and try again.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

type errorData struct {
	Message string
	// Back, when set, is the page where the user can try again (BackText names it); the page
	// always links back to the profile list as well.
	Back, BackText string
}

func (e errorData) pageError() string { return e.Message }

func (p *Portal) fail(w http.ResponseWriter, r *http.Request, status int, msg string) {
	p.render(w, r, status, "error.html", "Something went wrong", errorData{Message: msg})
}

// failBack is fail with a link to the page where the user can try again.
func (p *Portal) failBack(w http.ResponseWriter, r *http.Request, status int, msg, back, backText string) {
	p.render(w, r, status, "error.html", "Something went wrong", errorData{Message: msg, Back: back, BackText: backText})
}

// notAllowedText says, for people, why an operation is not allowed here and where it can be done.
func notAllowedText(na *appprofile.NotAllowedError) string {
	s := "Not possible here: " + na.Reason + "."
	switch na.Where {
	case appprofile.SurfaceAOS:
		s += " Do it in AvePoint Online Services."
	case appprofile.SurfaceElements:
		s += " Do it on the Elements Customer app profile page."
	}
	return s
}

// whoMayConsent says who may consent to a profile with a method ("admin" or "user"), generated
// from the consent rules that BeginConsent checks, so the page cannot disagree with the check.
// It is empty when the rules do not know the profile's app type or method.
func whoMayConsent(rules *consent.Rulebook, p appprofile.Profile, method string) string {
	m, err := consent.ParseMethod(method)
	if err != nil {
		return ""
	}
	t := consent.Target{AppType: p.AppType}
	if len(p.Services) == 1 {
		t.Service = p.Services[0]
	}
	pol, err := rules.PolicyFor(t, m)
	if err != nil {
		return ""
	}
	return pol.Summary()
}

// rulebook is the consent rulebook of the portal's catalog (an embedder's overlay has its own
// app types and rules), or the default catalog's.
func rulebook(c appprofile.Catalog) *consent.Rulebook {
	if rp, ok := c.(appprofile.RulebookProvider); ok {
		if rb := rp.ConsentRulebook(); rb != nil {
			return rb
		}
	}
	return consent.DefaultRulebook()
}

// flashes are the fixed messages a redirect can ask for (never text from the query).
var flashes = map[string]string{
	"consented":     "Consent completed and verified in the tenant.",
	"verified":      "Profile verified against the tenant.",
	"deleted":       "Profile deleted.",
	"accepted":      "Deviation accepted: it no longer drives the status while it stays exactly as it is.",
	"withdrawn":     "Acceptance withdrawn: the deviation drives the status again.",
	"changed":       "The tenant was changed.",
	"couldnotcheck": "The tenant could not be read right now; the status was kept. Try again later.",
	"consentrecorded": "Consent recorded. The tenant could not be read to confirm it yet; the next verification will. " +
		"There is no need to consent again.",
}

// ---- list ----

type listData struct {
	// Problem says why the filter was refused.
	Problem   string
	Customers []Customer
	Filter    store.Filter
	Statuses  []string
	Profiles  []profileView
	Next      string
}

func (d listData) pageError() string { return d.Problem }

type profileView struct {
	appprofile.Profile
	UserConsent bool
	Deletable   bool
}

func (p *Portal) spec(appType string) (appprofile.AppSpec, bool) {
	for _, a := range p.catalog.AppTypes() {
		if a.Name == appType {
			return a, true
		}
	}
	return appprofile.AppSpec{}, false
}

func (p *Portal) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := store.Filter{Customer: q.Get("customer"), Tenant: strings.TrimSpace(q.Get("tenant")), Status: q.Get("status")}
	d := listData{Customers: p.customers, Filter: f, Statuses: []string{"pending", "valid", "expired", "invalid"}}
	if f.Tenant != "" {
		t, err := appprofile.NormalizeTenantID(f.Tenant)
		if err != nil {
			d.Problem = "The tenant filter is not a tenant ID. " + tenantIDHelp
			p.render(w, r, http.StatusBadRequest, "list.html", "Customer app profiles", d)
			return
		}
		f.Tenant, d.Filter.Tenant = t, t
	}
	if err := f.Validate(); err != nil {
		d.Problem = "The filter is not valid: " + err.Error()
		p.render(w, r, http.StatusBadRequest, "list.html", "Customer app profiles", d)
		return
	}
	profiles, next, err := p.mgr.List(r.Context(), f, store.Page{Limit: 100, Cursor: q.Get("cursor")})
	if errors.Is(err, store.ErrInvalid) {
		d.Problem = "The page link is not valid for this filter; start from the first page."
		p.render(w, r, http.StatusBadRequest, "list.html", "Customer app profiles", d)
		return
	}
	if err != nil {
		p.fail(w, r, http.StatusInternalServerError, "The profiles could not be listed: "+err.Error())
		return
	}
	for _, pr := range profiles {
		v := profileView{Profile: pr}
		if spec, ok := p.spec(pr.AppType); ok {
			v.UserConsent = spec.UserConsent
			v.Deletable = appprofile.CheckDelete(pr, spec) == nil
		}
		d.Profiles = append(d.Profiles, v)
	}
	d.Next = next
	p.render(w, r, http.StatusOK, "list.html", "Customer app profiles", d)
}

// ---- create wizard ----

type serviceChoice struct {
	Name    string
	Family  string
	Checked bool
}

type createData struct {
	Customers []Customer
	Services  []serviceChoice
	// Values re-rendered after a failed submit. The .pfx password never is.
	Customer, Tenant, Mode, AppID string
	FieldErrors                   map[string][]string
	Problems                      []string
	Created                       []appprofile.Profile
	Accounts                      []appprofile.Consenter
}

func (d createData) pageError() string {
	if len(d.Problems) > 0 || len(d.FieldErrors) > 0 {
		return "The profile was not created. Fix the problems shown below."
	}
	return ""
}

func (p *Portal) serviceChoices(checked []string) []serviceChoice {
	seen := map[string]bool{}
	var out []serviceChoice
	for _, fam := range []string{appprofile.FamilyElementsPremium, appprofile.FamilyAOS} {
		for _, a := range p.catalog.AppTypes() {
			if !a.Creatable || a.Family != fam {
				continue
			}
			for _, s := range a.Services {
				if !seen[s] {
					seen[s] = true
					out = append(out, serviceChoice{Name: s, Family: fam, Checked: slices.Contains(checked, s)})
				}
			}
		}
	}
	return out
}

func (p *Portal) newForm(w http.ResponseWriter, r *http.Request) {
	d := createData{Customers: p.customers, Services: p.serviceChoices(nil), Mode: "modern"}
	if len(p.customers) > 0 {
		d.Customer, d.Tenant = p.customers[0].Name, p.customers[0].TenantID
	}
	p.render(w, r, http.StatusOK, "new.html", "Create app profile", d)
}

// knownCustomer reports whether name is a configured customer whose tenant is tenant. A portal
// configured without customers accepts none.
func (p *Portal) knownCustomer(name, tenant string) bool {
	for _, c := range p.customers {
		if c.Name == name && strings.EqualFold(c.TenantID, tenant) {
			return true
		}
	}
	return false
}

// tenantIDHelp tells an operator where to find a customer's tenant ID ("How to find your
// Microsoft Entra tenant ID", https://learn.microsoft.com/entra/fundamentals/how-to-find-tenant).
const tenantIDHelp = "Enter the customer's tenant ID: the customer's administrator finds it in the Microsoft Entra admin center under Entra ID > Overview > Properties > Tenant ID, a GUID such as 6f1c3a52-8d4e-4b7a-a1c9-2e5f7b9d0c13."

var guidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

func (p *Portal) create(w http.ResponseWriter, r *http.Request) {
	if r.MultipartForm == nil {
		_ = r.ParseForm()
	}
	services := r.Form["service"]
	if r.MultipartForm != nil {
		services = r.MultipartForm.Value["service"]
	}
	d := createData{Customers: p.customers, Services: p.serviceChoices(services), FieldErrors: map[string][]string{},
		Customer: formValue(r, "customer"), Tenant: strings.TrimSpace(formValue(r, "tenant")), Mode: formValue(r, "mode"), AppID: strings.TrimSpace(formValue(r, "appid"))}
	add := func(field, msg string) { d.FieldErrors[field] = append(d.FieldErrors[field], msg) }
	if d.Customer == "" {
		add("customer", "Select a customer.")
	}
	if t, err := appprofile.NormalizeTenantID(d.Tenant); err != nil {
		add("tenant", tenantIDHelp)
	} else {
		d.Tenant = t
	}
	if len(services) == 0 {
		add("services", "Select at least one service.")
	}
	if d.Customer != "" && guidRE.MatchString(d.Tenant) && !p.knownCustomer(d.Customer, d.Tenant) {
		add("customer", "This customer and tenant are not among the portal's customers ($TENANTAPPS_CUSTOMERS).")
	}
	req := appprofile.CreateRequest{Customer: d.Customer, Tenant: d.Tenant, Services: services, Mode: appprofile.Mode(d.Mode)}
	switch d.Mode {
	case "modern", "":
		req.Mode = appprofile.Modern
	case "custom":
		req.Name = strings.TrimSpace(formValue(r, "name"))
		if !guidRE.MatchString(d.AppID) {
			add("appid", "Enter the custom app's application (client) ID, a GUID from its Overview page in Entra ID.")
		}
		pfx, err := uploaded(r, "pfx")
		switch {
		case err != nil:
			add("pfx", err.Error())
		case len(pfx) == 0:
			add("pfx", "Select the app's .pfx certificate file.")
		}
		password := formValue(r, "password")
		if password == "" {
			add("password", "Enter the .pfx file's password.")
		}
		req.Custom = &appprofile.CustomAppInput{ApplicationID: d.AppID, PFX: pfx, Password: password}
	default:
		add("mode", "Choose the modern or the custom setup method.")
	}
	if len(d.FieldErrors) > 0 {
		p.render(w, r, http.StatusUnprocessableEntity, "new.html", "Create app profile", d)
		return
	}
	created, err := p.mgr.Create(r.Context(), req)
	if err != nil {
		p.placeProblems(&d, err)
		p.render(w, r, http.StatusUnprocessableEntity, "new.html", "Create app profile", d)
		return
	}
	d.Created, d.Accounts = created, p.accounts
	p.render(w, r, http.StatusOK, "created.html", "Consent", d)
}

// placeProblems puts each problem the Manager reported next to the field it concerns.
func (p *Portal) placeProblems(d *createData, err error) {
	var reqErr *appprofile.RequestError
	var certErr *appprofile.CertificateError
	var dup *appprofile.DuplicateError
	switch {
	case errors.As(err, &certErr):
		for _, pr := range certErr.Problems {
			switch {
			case strings.Contains(pr, "password"):
				d.FieldErrors["password"] = append(d.FieldErrors["password"], pr)
			case strings.Contains(pr, "application ID"):
				d.FieldErrors["appid"] = append(d.FieldErrors["appid"], pr)
			default:
				d.FieldErrors["pfx"] = append(d.FieldErrors["pfx"], pr)
			}
		}
	case errors.As(err, &reqErr):
		for _, pr := range reqErr.Problems {
			l := strings.ToLower(pr)
			switch {
			case errors.Is(err, appprofile.ErrNoAppID) && strings.Contains(pr, "WithVendorAppIDs"):
				// A deployment gap, not the operator's input: the vendor's application ID of an
				// app type is not configured.
				d.Problems = append(d.Problems, strings.TrimSuffix(strings.Replace(pr, "the application ID of", "This portal does not know the application ID of", 1), " is unknown (configure WithVendorAppIDs)")+"; ask the portal's administrator to configure it.")
			case strings.Contains(l, "service"):
				d.FieldErrors["services"] = append(d.FieldErrors["services"], pr)
			case strings.Contains(l, "app registration") || strings.Contains(l, "application id"):
				d.FieldErrors["appid"] = append(d.FieldErrors["appid"], pr)
			case strings.Contains(l, "roles"):
				d.FieldErrors["appid"] = append(d.FieldErrors["appid"], pr)
			case strings.Contains(l, "tenant"):
				d.FieldErrors["tenant"] = append(d.FieldErrors["tenant"], pr)
			case strings.Contains(l, "customer"):
				d.FieldErrors["customer"] = append(d.FieldErrors["customer"], pr)
			case strings.Contains(l, "mode") || strings.Contains(l, "setup"):
				d.FieldErrors["mode"] = append(d.FieldErrors["mode"], pr)
			default:
				d.Problems = append(d.Problems, pr)
			}
		}
	case errors.As(err, &dup):
		d.FieldErrors["services"] = append(d.FieldErrors["services"], fmt.Sprintf("This tenant already has a %s profile. Re-authorize or delete that profile instead.", dup.AppType))
	case errors.Is(err, appprofile.ErrInvalidTenantID):
		d.FieldErrors["tenant"] = append(d.FieldErrors["tenant"], tenantIDHelp)
	case errors.Is(err, appprofile.ErrCouldNotCheck):
		d.Problems = append(d.Problems, "The tenant could not be read right now; nothing was created. Try again in a minute.")
	default:
		d.Problems = append(d.Problems, err.Error())
	}
}

func formValue(r *http.Request, name string) string {
	if r.MultipartForm != nil {
		if v := r.MultipartForm.Value[name]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	return r.PostFormValue(name)
}

func uploaded(r *http.Request, name string) ([]byte, error) {
	if r.MultipartForm == nil {
		return nil, nil
	}
	fhs := r.MultipartForm.File[name]
	if len(fhs) == 0 {
		return nil, nil
	}
	f, err := fhs[0].Open()
	if err != nil {
		return nil, errors.New("the uploaded file could not be read; select it again")
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxUpload))
	if err != nil {
		return nil, errors.New("the uploaded file could not be read; select it again")
	}
	return b, nil
}

// ---- consent ----

// consenter is the account the form names: a known account, or (without a list) the UPN and
// roles typed in.
func (p *Portal) consenter(r *http.Request) (appprofile.Consenter, error) {
	upn := strings.TrimSpace(formValue(r, "account"))
	if upn == "" {
		return appprofile.Consenter{}, errors.New("choose the account that will consent")
	}
	for _, a := range p.accounts {
		if strings.EqualFold(a.UserPrincipalName, upn) {
			return a, nil
		}
	}
	if p.accounts != nil {
		return appprofile.Consenter{}, fmt.Errorf("unknown account %q", upn)
	}
	c := appprofile.Consenter{UserPrincipalName: upn}
	for _, name := range r.Form["role"] {
		if id, ok := roleIDs[name]; ok {
			c.Roles = append(c.Roles, id)
		}
	}
	return c, nil
}

var roleIDs = map[string]roles.TemplateID{
	"global-administrator":          roles.GlobalAdministrator,
	"privileged-role-administrator": roles.PrivilegedRoleAdministrator,
}

func (p *Portal) beginConsent(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	who, err := p.consenter(r)
	if err != nil {
		p.fail(w, r, http.StatusBadRequest, "Consent was not started: "+err.Error()+".")
		return
	}
	start, err := p.mgr.BeginConsent(r.Context(), id, appprofile.BeginConsentRequest{Method: appprofile.AdminConsent, Consenter: who})
	if err != nil {
		p.consentError(w, r, err)
		return
	}
	http.Redirect(w, r, start.URL, http.StatusSeeOther)
}

func (p *Portal) consentError(w http.ResponseWriter, r *http.Request, err error) {
	var elig *appprofile.EligibilityError
	var na *appprofile.NotAllowedError
	switch {
	case errors.As(err, &elig):
		p.failBack(w, r, http.StatusUnprocessableEntity, "This account cannot consent: "+strings.Join(elig.Missing, "; ")+".",
			"/profiles/"+url.PathEscape(r.PathValue("id"))+"/reauthorize", "Choose another account")
	case errors.As(err, &na):
		p.fail(w, r, http.StatusConflict, notAllowedText(na))
	case errors.Is(err, appprofile.ErrNotFound):
		p.fail(w, r, http.StatusNotFound, "No such profile; it may have been deleted.")
	default:
		p.fail(w, r, http.StatusInternalServerError, err.Error())
	}
}

func (p *Portal) callback(w http.ResponseWriter, r *http.Request) {
	cb, err := appprofile.ParseCallback(r.URL.RawQuery)
	if err != nil {
		p.fail(w, r, http.StatusBadRequest, "The consent answer from Microsoft Entra ID could not be read. Start consent again.")
		return
	}
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		cb.RemoteIP = host
	}
	prof, err := p.mgr.CompleteConsent(r.Context(), cb)
	if err != nil {
		var recorded *appprofile.ConsentRecordedError
		if errors.As(err, &recorded) {
			// The consent is kept (unproven); Verify proves it. Sending the administrator back
			// to Microsoft would only repeat what Microsoft already recorded.
			http.Redirect(w, r, "/profiles?flash=consentrecorded&tenant="+prof.Tenant, http.StatusSeeOther)
			return
		}
		// The page shows a fixed explanation per case — never the error's text, which names
		// tenants and internals, nor the callback's error_description, which anyone can put in
		// a link — and the detail goes to the log.
		status, msg := callbackProblem(err)
		p.logger.Warn("portal: consent callback not completed", "status", status, "err", err)
		p.fail(w, r, status, msg)
		return
	}
	http.Redirect(w, r, "/profiles?flash=consented&tenant="+prof.Tenant, http.StatusSeeOther)
}

// callbackProblem is the status and the fixed explanation the consent callback page shows for
// err (see callback).
func callbackProblem(err error) (int, string) {
	var denied *appprofile.ConsentDeniedError
	var notProven *appprofile.ConsentNotProvenError
	switch {
	case errors.As(err, &denied):
		switch denied.Code {
		case "access_denied":
			return http.StatusOK, "Consent was not given: the account declined, or Microsoft Entra ID refused the request (for example, the account may not grant these permissions). Start consent again from the profile list, with an account that may consent."
		case "invalid_grant":
			return http.StatusOK, "Consent was not given: the authorization from Microsoft Entra ID expired or was already used. Start consent again from the profile list."
		}
		return http.StatusOK, "Consent was not given: Microsoft Entra ID reported an error. Start consent again from the profile list; the portal's log has the details."
	case errors.As(err, &notProven):
		return http.StatusOK, "Microsoft Entra ID reported consent, but the tenant does not show all the permissions yet. Nothing was recorded: consent again, accepting every permission."
	case errors.Is(err, appprofile.ErrTenantMismatch):
		return http.StatusBadRequest, "Consent was given in another tenant than the customer's. Start consent again from the profile list and sign in with an account of the customer's tenant."
	case errors.Is(err, appprofile.ErrBadState), errors.Is(err, appprofile.ErrStateReplayed):
		return http.StatusBadRequest, "This consent link was already used or has expired. Start consent again from the profile list."
	case errors.Is(err, appprofile.ErrCouldNotCheck):
		return http.StatusServiceUnavailable, "The tenant could not be read to confirm consent. Nothing was changed; consent again in a minute."
	case errors.Is(err, appprofile.ErrNotFound):
		return http.StatusNotFound, "The profile of this consent no longer exists; it may have been deleted."
	}
	return http.StatusInternalServerError, "The consent could not be completed because of an error in the portal. Try again from the profile list; the portal's log has the details."
}

// ---- verify, re-authorize, delete, roles ----

func (p *Portal) verify(w http.ResponseWriter, r *http.Request) {
	_, err := p.mgr.Verify(r.Context(), r.PathValue("id"))
	switch {
	case errors.Is(err, appprofile.ErrCouldNotCheck):
		http.Redirect(w, r, "/profiles?flash=couldnotcheck", http.StatusSeeOther)
	case errors.Is(err, appprofile.ErrNotFound):
		p.fail(w, r, http.StatusNotFound, "No such profile; it may have been deleted.")
	case err != nil:
		p.fail(w, r, http.StatusInternalServerError, err.Error())
	default:
		http.Redirect(w, r, "/profiles?flash=verified", http.StatusSeeOther)
	}
}

type reauthData struct {
	Profile     appprofile.Profile
	UserConsent bool
	Accounts    []appprofile.Consenter
	Method      string
	Account     string
	// Missing lists what the chosen account lacks; NotAllowed says why re-authorization is not
	// possible here.
	Missing    []string
	NotAllowed string
	Problems   []string
}

func (d reauthData) pageError() string {
	switch {
	case d.NotAllowed != "":
		return d.NotAllowed
	case len(d.Missing) > 0:
		return "This account cannot consent that way. Choose another account or method."
	case len(d.Problems) > 0:
		return "The profile was not re-authorized. Fix the problems shown below."
	}
	return ""
}

func (p *Portal) reauthData(r *http.Request) (reauthData, error) {
	prof, err := p.mgr.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		return reauthData{}, err
	}
	d := reauthData{Profile: prof, Accounts: p.accounts, Method: "admin"}
	if spec, ok := p.spec(prof.AppType); ok {
		d.UserConsent = spec.UserConsent
	}
	return d, nil
}

func (p *Portal) reauthForm(w http.ResponseWriter, r *http.Request) {
	d, err := p.reauthData(r)
	if err != nil {
		p.consentError(w, r, err)
		return
	}
	p.render(w, r, http.StatusOK, "reauth.html", "Re-authorize", d)
}

func (p *Portal) reauthorize(w http.ResponseWriter, r *http.Request) {
	d, err := p.reauthData(r)
	if err != nil {
		p.consentError(w, r, err)
		return
	}
	d.Method, d.Account = formValue(r, "method"), formValue(r, "account")
	in := appprofile.ReauthorizeInput{}
	switch d.Method {
	case "admin":
		in.Method = appprofile.AdminConsent
	case "user":
		in.Method = appprofile.UserConsent
	default:
		d.Problems = append(d.Problems, "Choose Administrator consent or User consent.")
	}
	if d.Profile.Mode != appprofile.Modern {
		in.Surface = appprofile.SurfaceAOS
	}
	who, err := p.consenter(r)
	if err != nil {
		d.Problems = append(d.Problems, err.Error())
	}
	in.Consenter = who
	if d.Profile.Mode == appprofile.Custom {
		pfx, err := uploaded(r, "pfx")
		if err != nil {
			d.Problems = append(d.Problems, err.Error())
		}
		if len(pfx) > 0 {
			in.Change = appprofile.ChangeCertificate
			in.Custom = &appprofile.CustomAppInput{ApplicationID: d.Profile.AppID, PFX: pfx, Password: formValue(r, "password")}
		}
	}
	if len(d.Problems) > 0 {
		p.render(w, r, http.StatusUnprocessableEntity, "reauth.html", "Re-authorize", d)
		return
	}
	start, err := p.mgr.Reauthorize(r.Context(), d.Profile.ID, in)
	if err != nil {
		var elig *appprofile.EligibilityError
		var na *appprofile.NotAllowedError
		var certErr *appprofile.CertificateError
		switch {
		case errors.As(err, &elig):
			d.Missing = elig.Missing
		case errors.As(err, &na):
			d.NotAllowed = notAllowedText(na)
		case errors.As(err, &certErr):
			d.Problems = certErr.Problems
		default:
			d.Problems = []string{err.Error()}
		}
		p.render(w, r, http.StatusUnprocessableEntity, "reauth.html", "Re-authorize", d)
		return
	}
	http.Redirect(w, r, start.URL, http.StatusSeeOther)
}

func (p *Portal) delete(w http.ResponseWriter, r *http.Request) {
	err := p.mgr.Delete(r.Context(), r.PathValue("id"))
	var na *appprofile.NotAllowedError
	switch {
	case errors.As(err, &na):
		p.fail(w, r, http.StatusConflict, notAllowedText(na))
	case errors.Is(err, appprofile.ErrNotFound):
		p.fail(w, r, http.StatusNotFound, "No such profile; it may have been deleted already.")
	case err != nil:
		p.fail(w, r, http.StatusInternalServerError, err.Error())
	default:
		http.Redirect(w, r, "/profiles?flash=deleted", http.StatusSeeOther)
	}
}

type rolesData struct {
	Profile   appprofile.Profile
	Checklist appprofile.Checklist
	Warning   string
}

func (p *Portal) roles(w http.ResponseWriter, r *http.Request) {
	prof, err := p.mgr.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		p.consentError(w, r, err)
		return
	}
	c, err := p.mgr.RoleChecklist(r.Context(), prof.ID)
	d := rolesData{Profile: prof, Checklist: c}
	if err != nil {
		if !errors.Is(err, appprofile.ErrCouldNotCheck) {
			p.fail(w, r, http.StatusInternalServerError, err.Error())
			return
		}
		d.Warning = "The tenant could not be read; assignments are not verified."
	}
	p.render(w, r, http.StatusOK, "roles.html", "Role checklist", d)
}

// ---- demo: change the tenant ----

type demoData struct {
	Accounts []appprofile.Consenter
	Profiles []appprofile.Profile
	AppTypes []string
	Done     []string
}

func (p *Portal) demoData(ctx context.Context) (demoData, error) {
	profiles, _, err := p.mgr.List(ctx, store.Filter{}, store.Page{Limit: 100})
	if err != nil {
		return demoData{}, err
	}
	d := demoData{Accounts: p.accounts, Profiles: profiles}
	for _, a := range p.catalog.AppTypes() {
		if a.PermissionsPublished && a.Creatable && a.Mode == appprofile.Modern {
			d.AppTypes = append(d.AppTypes, a.Name)
		}
	}
	return d, nil
}

func (p *Portal) demoPage(w http.ResponseWriter, r *http.Request) {
	d, err := p.demoData(r.Context())
	if err != nil {
		p.fail(w, r, http.StatusInternalServerError, err.Error())
		return
	}
	p.render(w, r, http.StatusOK, "demo.html", "Change the demo tenant", d)
}

func (p *Portal) demoChange(w http.ResponseWriter, r *http.Request) {
	var err error
	switch formValue(r, "action") {
	case "reset-password":
		err = p.env.ResetPassword(formValue(r, "account"))
	case "revoke-grant":
		var prof appprofile.Profile
		if prof, err = p.mgr.Get(r.Context(), formValue(r, "profile")); err == nil {
			_, err = p.env.RevokeOneGrant(prof)
		}
	case "publish":
		_, err = p.env.PublishExtraPermission(formValue(r, "apptype"))
	default:
		err = errors.New("unknown change")
	}
	if err != nil {
		p.fail(w, r, http.StatusBadRequest, "The tenant was not changed: "+err.Error())
		return
	}
	http.Redirect(w, r, "/profiles?flash=changed", http.StatusSeeOther)
}
