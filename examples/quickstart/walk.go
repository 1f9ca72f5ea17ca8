package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/tenantapps/tenantapps/appprofile"
	"github.com/tenantapps/tenantapps/examples/internal/demo"
	"github.com/tenantapps/tenantapps/store"
	"github.com/tenantapps/tenantapps/store/sqlite"
)

// redirectURI is the portal's consent callback. The emulator redirects to it; the quickstart reads
// the redirect instead of following it.
const redirectURI = "https://portal.msp.example/consent/callback"

type config struct {
	dbPath   string
	progress *progress
	// onStep, when set, is called with each step as soon as it is complete.
	onStep func(Step)
	// now is the real clock (time.Now by default).
	now func() time.Time
	// fake runs against consenttest.Fake instead of the emulator and the Graph driver.
	fake bool
}

// clock is the Manager's clock: real time plus an offset the walk-through advances to show what
// time does to profiles.
type clock struct {
	mu     sync.Mutex
	base   func() time.Time
	offset time.Duration
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.base().Add(c.offset)
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

// walker holds what the steps share.
type walker struct {
	cfg    config
	env    *demo.Env
	mgr    *appprofile.Manager
	clock  *clock
	ids    []string // profiles in creation order
	report Report
}

func walk(ctx context.Context, cfg config) (Report, error) {
	if cfg.now == nil {
		cfg.now = time.Now
	}
	w := &walker{cfg: cfg, clock: &clock{base: cfg.now}}
	cfg.progress.say("starting the local Entra ID + Microsoft Graph emulator")
	be, env, err := demo.Start(ctx, redirectURI, demo.StartOptions{Fake: cfg.fake, Now: cfg.now})
	if err != nil {
		return Report{}, fmt.Errorf("starting the emulator: %w", err)
	}
	defer be.Close()
	w.env = env
	path := cfg.dbPath
	if path == "" {
		dir, err := os.MkdirTemp("", "tenantapps-quickstart-")
		if err != nil {
			return Report{}, err
		}
		defer os.RemoveAll(dir)
		path = filepath.Join(dir, "profiles.db")
	}
	cfg.progress.say("opening the embedded SQLite store %s", path)
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		return Report{}, fmt.Errorf("opening the store: %w", err)
	}
	defer st.Close()
	stateKey, sealKey := make([]byte, 32), make([]byte, 32)
	if _, err := io.ReadFull(rand.Reader, stateKey); err != nil {
		return Report{}, err
	}
	if _, err := io.ReadFull(rand.Reader, sealKey); err != nil {
		return Report{}, err
	}
	sealer, err := appprofile.NewAESGCMSealer("quickstart-1", map[string][]byte{"quickstart-1": sealKey})
	if err != nil {
		return Report{}, err
	}
	w.mgr, err = appprofile.New(st, be.Driver,
		appprofile.WithCatalog(env.Catalog),
		appprofile.WithClock(w.clock.now),
		appprofile.WithSealer(sealer),
		appprofile.WithStateKey(stateKey),
		appprofile.WithRedirectURI(redirectURI),
		appprofile.WithAuthority(be.Authority),
		appprofile.WithVendorAppIDs(w.env.VendorAppIDs),
		appprofile.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))),
	)
	if err != nil {
		return Report{}, err
	}
	w.report = Report{Emulator: be.URL, Driver: be.DriverName, Store: path, Customer: demo.CustomerName, TenantID: demo.CustomerTenantID}
	for _, step := range []func(context.Context) (Step, error){w.create, w.consent, w.checklists, w.changeTenant, w.timePasses, w.reauthorize} {
		s, err := step(ctx)
		if err != nil {
			return Report{}, err
		}
		s.Number = len(w.report.Steps) + 1
		w.report.Steps = append(w.report.Steps, s)
		if cfg.onStep != nil {
			cfg.onStep(s)
		}
	}
	return w.report, nil
}

func (w *walker) rows(ctx context.Context) ([]ProfileRow, error) {
	var out []ProfileRow
	for _, id := range w.ids {
		p, err := w.mgr.Get(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, rowOf(p))
	}
	return out, nil
}

func (w *walker) byAppType(ctx context.Context, appType string) (appprofile.Profile, error) {
	for _, id := range w.ids {
		p, err := w.mgr.Get(ctx, id)
		if err != nil {
			return appprofile.Profile{}, err
		}
		if p.AppType == appType {
			return p, nil
		}
	}
	return appprofile.Profile{}, fmt.Errorf("no %s profile", appType)
}

const (
	appSecurity = "APElements Security and Analysis"
	appNitro    = "APElements Automation"
	appBaseline = "APElements Baseline Management"
	appCustom   = "Custom app for Baseline management"
	appInsights = "Insights for Microsoft 365"
)

func (w *walker) create(ctx context.Context) (Step, error) {
	s := Step{Title: "Create app profiles for Contoso's services"}
	// A -db file from an earlier run holds profiles of the demo tenant; the emulator starts
	// afresh on every run, so they describe a tenant that no longer exists.
	old, _, err := w.mgr.List(ctx, store.Filter{Tenant: demo.CustomerTenantID}, store.Page{Limit: store.MaxLimit})
	if err != nil {
		return s, fmt.Errorf("reading the store: %w", err)
	}
	for _, p := range old {
		if err := w.mgr.Delete(ctx, p.ID); err != nil {
			return s, fmt.Errorf("deleting profile %s of an earlier run: %w", p.ID, err)
		}
	}
	if len(old) > 0 {
		s.Notes = append(s.Notes, fmt.Sprintf("Deleted %d profiles of the demo tenant left in the store by an earlier run (the emulator starts empty on every run)", len(old)))
	}
	w.cfg.progress.say("creating profiles")
	base := appprofile.CreateRequest{Customer: demo.CustomerName, Tenant: demo.CustomerTenantID}
	req := base
	req.Services = []string{"Workspace management", "Nitro", "Baseline management"}
	ps, err := w.mgr.Create(ctx, req)
	if err != nil {
		return s, fmt.Errorf("creating the Elements premium profiles: %w", err)
	}
	s.Notes = append(s.Notes, "Elements premium, modern setup: Workspace management, Nitro and Baseline management need "+fmt.Sprint(len(ps))+" vendor apps")
	for _, p := range ps {
		w.ids = append(w.ids, p.ID)
	}

	w.cfg.progress.say("registering Contoso's own app with a freshly generated certificate")
	app, err := w.env.NewCustomApp(appCustom, "Contoso baseline app", 7*24*time.Hour)
	if err != nil {
		return s, err
	}
	req = base
	req.Name, req.Services, req.Mode = "Contoso baseline app", []string{"Baseline management"}, appprofile.Custom
	req.Custom = &appprofile.CustomAppInput{ApplicationID: app.AppID, PFX: app.PFX, Password: app.Password}
	ps, err = w.mgr.Create(ctx, req)
	if err != nil {
		return s, fmt.Errorf("creating the custom Baseline management profile: %w", err)
	}
	s.Notes = append(s.Notes, fmt.Sprintf("Baseline management, custom setup: Contoso's app %s with a new self-signed certificate valid until %s (.pfx and password sealed with AES-GCM in the store)",
		app.AppID, app.NotAfter.UTC().Format("2006-01-02")))
	w.ids = append(w.ids, ps[0].ID)

	req = base
	req.Services, req.AppType = []string{"Insights"}, appInsights
	ps, err = w.mgr.Create(ctx, req)
	if err != nil {
		return s, fmt.Errorf("creating the Insights profile: %w", err)
	}
	s.Notes = append(s.Notes, "AOS, modern setup: Insights for Microsoft 365")
	w.ids = append(w.ids, ps[0].ID)
	s.Profiles, err = w.rows(ctx)
	return s, err
}

// consentAs runs one consent: begin (or re-authorize), the account accepts, the callback completes.
func (w *walker) consentAs(ctx context.Context, start appprofile.ConsentStart, upn string) (appprofile.Profile, error) {
	cb, err := w.env.PlayConsent(ctx, start.URL, upn)
	if err != nil {
		return appprofile.Profile{}, err
	}
	return w.mgr.CompleteConsent(ctx, cb)
}

func (w *walker) consent(ctx context.Context) (Step, error) {
	s := Step{Title: "Consent (the emulator plays Contoso's administrators)"}
	for _, id := range w.ids {
		p, err := w.mgr.Get(ctx, id)
		if err != nil {
			return s, err
		}
		upn := demo.AdminUPN
		if p.AppType == appSecurity {
			upn = demo.AlexUPN
		}
		w.cfg.progress.say("admin consent to %s as %s", p.AppType, upn)
		start, err := w.mgr.BeginConsent(ctx, id, appprofile.BeginConsentRequest{Method: appprofile.AdminConsent, Consenter: w.env.Consenter(upn)})
		if err != nil {
			return s, fmt.Errorf("beginning consent to %s: %w", p.AppType, err)
		}
		if p, err = w.consentAs(ctx, start, upn); err != nil {
			return s, fmt.Errorf("admin consent to %s: %w", p.AppType, err)
		}
		if err := w.env.AssignRoles(p); err != nil {
			return s, err
		}
		if p.AppType == appInsights {
			w.cfg.progress.say("user consent to %s as %s", p.AppType, demo.InsightsUPN)
			start, err := w.mgr.Reauthorize(ctx, id, appprofile.ReauthorizeInput{
				ReauthorizeRequest: appprofile.ReauthorizeRequest{Surface: appprofile.SurfaceAOS, Method: appprofile.UserConsent},
				Consenter:          w.env.Consenter(demo.InsightsUPN)})
			if err != nil {
				return s, fmt.Errorf("re-authorizing %s with user consent: %w", p.AppType, err)
			}
			if _, err := w.consentAs(ctx, start, demo.InsightsUPN); err != nil {
				return s, fmt.Errorf("user consent to %s: %w", p.AppType, err)
			}
			s.Notes = append(s.Notes, fmt.Sprintf("%s: admin consent by %s, then re-authorized with user consent by %s (no admin role: user consent is allowed once admin consent was granted)", appInsights, demo.AdminUPN, demo.InsightsUPN))
		}
	}
	s.Notes = append(s.Notes, "Each consent was proven by reading the tenant (service principal, grants), never by trusting the callback; roles the vendor assigns within 24 hours are still pending")
	var err error
	s.Profiles, err = w.rows(ctx)
	return s, err
}

func (w *walker) checklists(ctx context.Context) (Step, error) {
	s := Step{Title: "Role checklists (after the vendor assigned the roles), verified"}
	for _, id := range w.ids {
		if _, err := w.mgr.Verify(ctx, id); err != nil {
			return s, fmt.Errorf("verify: %w", err)
		}
		c, err := w.mgr.RoleChecklist(ctx, id)
		if err != nil {
			return s, fmt.Errorf("role checklist: %w", err)
		}
		s.Checklists = append(s.Checklists, c)
	}
	var err error
	s.Profiles, err = w.rows(ctx)
	return s, err
}

func (w *walker) verifyAll(ctx context.Context, s *Step) error {
	w.cfg.progress.say("verifying every profile of the tenant against the tenant's ground truth")
	res, err := w.mgr.VerifyAll(ctx, store.Filter{Tenant: demo.CustomerTenantID}, appprofile.VerifyAllOptions{})
	if err != nil {
		return fmt.Errorf("verifying the fleet: %w", err)
	}
	s.Notes = append(s.Notes, fmt.Sprintf("VerifyAll: %d checked, %d changed status, %d could not be checked", res.Checked, res.Changed, res.CouldNotCheck))
	s.Profiles, err = w.rows(ctx)
	return err
}

func (w *walker) changeTenant(ctx context.Context) (Step, error) {
	s := Step{Title: "Change the tenant and the catalog, then verify"}
	// Graph reports lastPasswordChangeDateTime to the second; let the second of the last consent
	// pass so the reset is visibly later than it, as it would be in real life.
	now := w.cfg.now()
	time.Sleep(now.Truncate(time.Second).Add(time.Second + 10*time.Millisecond).Sub(now))
	if err := w.env.ResetPassword(demo.AlexUPN); err != nil {
		return s, err
	}
	s.Notes = append(s.Notes, fmt.Sprintf("Contoso reset the password of %s, who consented to %s (a hybrid app: it acts as that user)", demo.AlexUPN, appSecurity))

	baseline, err := w.byAppType(ctx, appBaseline)
	if err != nil {
		return s, err
	}
	revoked, err := w.env.RevokeOneGrant(baseline)
	if err != nil {
		return s, err
	}
	s.Notes = append(s.Notes, fmt.Sprintf("An administrator revoked %s from %s in Entra ID", revoked, appBaseline))

	added, err := w.env.PublishExtraPermission(appNitro)
	if err != nil {
		return s, err
	}
	s.Notes = append(s.Notes, "The vendor published catalog version "+strings.TrimPrefix(added, "catalog "))
	err = w.verifyAll(ctx, &s)
	return s, err
}

func (w *walker) timePasses(ctx context.Context) (Step, error) {
	s := Step{Title: "Eight days later"}
	w.clock.advance(8 * 24 * time.Hour)
	s.Notes = append(s.Notes, "The Manager's clock moved eight days ahead; the custom app's certificate was made for seven")
	err := w.verifyAll(ctx, &s)
	return s, err
}

func (w *walker) reauthorize(ctx context.Context) (Step, error) {
	s := Step{Title: "Re-authorize what re-authorization fixes"}
	for _, id := range w.ids {
		p, err := w.mgr.Get(ctx, id)
		if err != nil {
			return s, err
		}
		if p.Status == appprofile.Valid || p.Status == appprofile.Pending {
			continue
		}
		if p.Mode == appprofile.Custom {
			if err := w.renewCertificate(ctx, p, &s); err != nil {
				return s, err
			}
			continue
		}
		fixable := true
		for _, r := range p.Reasons {
			if r.Effect != appprofile.EffectWarning && !r.FixedByReauthorization {
				fixable = false
			}
		}
		if !fixable {
			s.Notes = append(s.Notes, fmt.Sprintf("%s: re-authorization alone does not fix it; see the reasons", p.AppType))
			continue
		}
		upn := demo.AdminUPN
		w.cfg.progress.say("re-authorizing %s as %s", p.AppType, upn)
		start, err := w.mgr.Reauthorize(ctx, id, appprofile.ReauthorizeInput{Consenter: w.env.Consenter(upn)})
		if err != nil {
			return s, fmt.Errorf("re-authorizing %s: %w", p.AppType, err)
		}
		p, err = w.consentAs(ctx, start, upn)
		if err != nil {
			return s, fmt.Errorf("re-authorizing %s: %w", p.AppType, err)
		}
		s.Notes = append(s.Notes, fmt.Sprintf("%s re-authorized by %s: %s", p.AppType, upn, p.Status))
	}
	err := w.verifyAll(ctx, &s)
	return s, err
}

// renewCertificate replaces an expired custom app certificate: a new one is uploaded to the app,
// then the profile is re-authorized (in AOS, where custom profiles are re-authorized) with the new
// .pfx.
func (w *walker) renewCertificate(ctx context.Context, p appprofile.Profile, s *Step) error {
	w.cfg.progress.say("uploading a new certificate to %s and re-authorizing %s", p.AppID, p.AppType)
	ahead := w.clock.now().Sub(w.cfg.now())
	app, err := w.env.RenewCertificate(p.AppID, p.Name, ahead, 365*24*time.Hour)
	if err != nil {
		return err
	}
	start, err := w.mgr.Reauthorize(ctx, p.ID, appprofile.ReauthorizeInput{
		ReauthorizeRequest: appprofile.ReauthorizeRequest{Surface: appprofile.SurfaceAOS, Change: appprofile.ChangeCertificate},
		Consenter:          w.env.Consenter(demo.AdminUPN),
		Custom:             &appprofile.CustomAppInput{ApplicationID: app.AppID, PFX: app.PFX, Password: app.Password}})
	if err != nil {
		return fmt.Errorf("re-authorizing %s with a new certificate: %w", p.AppType, err)
	}
	np, err := w.consentAs(ctx, start, demo.AdminUPN)
	if err != nil {
		return fmt.Errorf("re-authorizing %s: %w", p.AppType, err)
	}
	s.Notes = append(s.Notes, fmt.Sprintf("%s: a new certificate (valid until %s) was uploaded to app %s; re-authorized with the new .pfx in AvePoint Online Services, where custom app profiles are re-authorized (the Elements Customer app profile page re-authorizes modern profiles only): %s",
		p.AppType, app.NotAfter.UTC().Format("2006-01-02"), p.AppID, np.Status))
	return nil
}
