package appprofile_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/tenantapps/tenantapps/appprofile"
	"github.com/tenantapps/tenantapps/consent"
	"github.com/tenantapps/tenantapps/consent/consenttest"
	"github.com/tenantapps/tenantapps/store"
	"software.sslmate.com/src/go-pkcs12"
)

const customID = "c0ffee00-0000-4000-8000-00000000c057"

var testKey = func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
}()

// selfSigned returns a certificate for testKey valid from notBefore for d, and its .pfx.
func selfSigned(t *testing.T, cn string, notBefore time.Time, d time.Duration, password string) (*x509.Certificate, []byte) {
	t.Helper()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn}, NotBefore: notBefore, NotAfter: notBefore.Add(d)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &testKey.PublicKey, testKey)
	must(t, err)
	cert, err := x509.ParseCertificate(der)
	must(t, err)
	pfx, err := pkcs12.Modern.Encode(testKey, cert, nil, password)
	must(t, err)
	return cert, pfx
}

func TestLifecycleCustomBaseline(t *testing.T) {
	e := newEnv(t)
	now := e.clock.Now()
	cert, pfx := selfSigned(t, "contoso-baseline", now.Add(-time.Hour), 60*24*time.Hour, "s3cret-pw")
	must(t, e.fake.RegisterApp(consenttest.App{AppID: customID, HomeTenantID: tenantID, DisplayName: "Contoso Baseline", Certificates: []*x509.Certificate{cert}}))
	e.grantAll(customID, "Custom app for Baseline management") // the customer granted admin consent to its own app
	req := appprofile.CreateRequest{Customer: "contoso", Tenant: tenantID, Services: []string{"Baseline management"}, Mode: appprofile.Custom, Name: "Contoso custom",
		Custom: &appprofile.CustomAppInput{ApplicationID: customID, PFX: pfx, Password: "s3cret-pw"}}

	// Roles must be assigned before authorization.
	_, err := e.mgr.Create(e.ctx, req)
	if !errors.Is(err, appprofile.ErrInvalidRequest) || !strings.Contains(err.Error(), "Attribute Definition Reader") {
		t.Fatalf("Create without roles: %v", err)
	}
	e.assignRoles(customID, "Custom app for Baseline management")

	// Wrong password, and a .pfx that is not paired with the app's certificate.
	bad := req
	bad.Custom = &appprofile.CustomAppInput{ApplicationID: customID, PFX: pfx, Password: "nope"}
	if _, err := e.mgr.Create(e.ctx, bad); !errors.Is(err, appprofile.ErrCertificate) || strings.Contains(err.Error(), "nope") {
		t.Errorf("wrong password: %v", err)
	}
	_, otherPFX := selfSigned(t, "other", now.Add(-time.Hour), 24*time.Hour, "pw")
	bad.Custom = &appprofile.CustomAppInput{ApplicationID: customID, PFX: otherPFX, Password: "pw"}
	if _, err := e.mgr.Create(e.ctx, bad); !errors.Is(err, appprofile.ErrCertificate) || !strings.Contains(err.Error(), "not among") {
		t.Errorf("unpaired certificate: %v", err)
	}
	// No sealer, no secrets.
	noSeal, err := appprofile.New(e.store, e.fake, appprofile.WithClock(e.clock.Now), appprofile.WithLogger(slog.New(slog.DiscardHandler)))
	must(t, err)
	if _, err := noSeal.Create(e.ctx, req); !errors.Is(err, appprofile.ErrNoSealer) {
		t.Errorf("Create without sealer: %v", err)
	}

	ps, err := e.mgr.Create(e.ctx, req)
	must(t, err)
	p := ps[0]
	if p.AppType != "Custom app for Baseline management" || p.AppID != customID || p.Custom == nil || p.Custom.NotAfter.IsZero() {
		t.Fatalf("custom profile = %+v", p)
	}
	rec, err := e.store.Get(e.ctx, p.ID)
	must(t, err)
	if bytes.Contains(rec.Payload, []byte("s3cret-pw")) || bytes.Contains(rec.Payload, pfx[:64]) {
		t.Fatal("the store payload holds the plaintext password or .pfx")
	}
	gotPFX, gotPW, err := e.mgr.OpenCustomSecrets(e.ctx, p.ID)
	must(t, err)
	if !bytes.Equal(gotPFX, pfx) || gotPW != "s3cret-pw" {
		t.Error("OpenCustomSecrets does not return the sealed secrets")
	}

	start, err := e.mgr.BeginConsent(e.ctx, p.ID, appprofile.BeginConsentRequest{Consenter: e.globalAdmin()})
	must(t, err)
	p, err = e.mgr.CompleteConsent(e.ctx, appprofile.Callback{State: start.State, Tenant: tenantID, AdminConsent: "True"})
	must(t, err)
	if p.Status != appprofile.Valid || len(p.Reasons) != 0 {
		t.Fatalf("after consent: %s %v", p.Status, codes(p))
	}

	// The customer replaces the app's certificate: ours is no longer on the app.
	newCert, newPFX := selfSigned(t, "contoso-baseline-2", now.Add(-time.Hour), 90*24*time.Hour, "pw2")
	must(t, e.fake.RotateAppCertificates(customID, newCert))
	res := e.verify(p.ID)
	if res.Profile.Status != appprofile.Invalid || !slices.Equal(codes(res.Profile), []appprofile.ReasonCode{appprofile.ReasonCertificateNotOnApp, appprofile.ReasonCertificateChanged}) {
		t.Fatalf("after rotation: %s %v", res.Profile.Status, codes(res.Profile))
	}
	// Re-authorize with the new certificate: on the Elements page it is refused (AOS does it).
	in := appprofile.ReauthorizeInput{ReauthorizeRequest: appprofile.ReauthorizeRequest{Change: appprofile.ChangeCertificate}, Consenter: e.globalAdmin(),
		Custom: &appprofile.CustomAppInput{ApplicationID: customID, PFX: newPFX, Password: "pw2"}}
	var na *appprofile.NotAllowedError
	if _, err := e.mgr.Reauthorize(e.ctx, p.ID, in); !errors.As(err, &na) || na.Where != appprofile.SurfaceAOS {
		t.Fatalf("re-authorize custom on Elements: %v", err)
	}
	in.Surface = appprofile.SurfaceAOS
	start, err = e.mgr.Reauthorize(e.ctx, p.ID, in)
	must(t, err)
	p, err = e.mgr.CompleteConsent(e.ctx, appprofile.Callback{State: start.State, Tenant: tenantID, AdminConsent: "True"})
	must(t, err)
	if p.Status != appprofile.Valid || len(p.Reasons) != 0 || !p.Custom.NotAfter.Equal(newCert.NotAfter) {
		t.Fatalf("after re-authorization: %s %v", p.Status, codes(p))
	}

	// Time runs out: 80 days later the certificate is expiring, after 91 it expired.
	e.clock.Advance(80 * 24 * time.Hour)
	if res := e.verify(p.ID); res.Profile.Status != appprofile.Valid || !slices.Equal(codes(res.Profile), []appprofile.ReasonCode{appprofile.ReasonCertificateExpiring}) {
		t.Errorf("day 80: %s %v", res.Profile.Status, codes(res.Profile))
	}
	// The delegated consent is in use (a recent non-interactive sign-in), so only the certificate
	// ran out.
	_, err = e.fake.SimulateSignIn(tenantID, customID, e.admin, adminIP)
	must(t, err)
	e.clock.Advance(11 * 24 * time.Hour)
	if res := e.verify(p.ID); res.Profile.Status != appprofile.Expired || !slices.Equal(codes(res.Profile), []appprofile.ReasonCode{appprofile.ReasonCertificateExpired}) {
		t.Errorf("day 91: %s %v", res.Profile.Status, codes(res.Profile))
	}

	// The custom app's registration is deleted and recreated with the same certificate: the app
	// changed. (The fake cannot delete registrations; rotating to no certificate shows removal.)
	must(t, e.fake.RotateAppCertificates(customID))
	if res := e.verify(p.ID); !slices.Contains(codes(res.Profile), appprofile.ReasonCertificateNotOnApp) {
		t.Errorf("no certificates left: %v", codes(res.Profile))
	}

	must(t, e.mgr.Delete(e.ctx, p.ID))
	if _, err := e.store.Get(e.ctx, p.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("record survives Delete: %v", err)
	}
}

const customPassword = "pr00f-S3cret!"

// customSetup registers customID in the tenant with a fresh certificate and returns the env, the
// certificate and a Create request for a custom Baseline management profile with its .pfx. The
// service principal, grants and roles are left to the caller.
func customSetup(t *testing.T, opts ...appprofile.Option) (*env, *x509.Certificate, appprofile.CreateRequest) {
	t.Helper()
	e := newEnv(t, opts...)
	cert, pfx := selfSigned(t, "contoso-baseline", e.clock.Now().Add(-time.Hour), 60*24*time.Hour, customPassword)
	must(t, e.fake.RegisterApp(consenttest.App{AppID: customID, HomeTenantID: tenantID, DisplayName: "Contoso Baseline", Certificates: []*x509.Certificate{cert}}))
	req := appprofile.CreateRequest{Customer: "contoso", Tenant: tenantID, Services: []string{"Baseline management"}, Mode: appprofile.Custom,
		Custom: &appprofile.CustomAppInput{ApplicationID: customID, PFX: pfx, Password: customPassword}}
	return e, cert, req
}

// consented does what the customer does before creating a custom profile: admin consent to its own
// app and the roles assigned before authorization.
func (e *env) consented(appID string) {
	e.t.Helper()
	e.grantAll(appID, "Custom app for Baseline management")
	e.assignRoles(appID, "Custom app for Baseline management")
}

func thumbprint(cert *x509.Certificate) string {
	s1, _ := consent.Thumbprints(cert.Raw)
	return s1
}

// assertNoSecrets fails when err's text, in any format, shows the custom app's password or .pfx.
func assertNoSecrets(t *testing.T, err error, in appprofile.CustomAppInput) {
	t.Helper()
	for _, s := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
		if strings.Contains(s, in.Password) || strings.Contains(s, string(in.PFX[:32])) || strings.Contains(s, base64.StdEncoding.EncodeToString(in.PFX)[:32]) {
			t.Errorf("error shows the custom app's secrets: %s", s)
		}
	}
}

// TestCreateCustomProvesCertificate: with a consent.CertificateProver driver, Create signs in as
// the custom app with the .pfx; every refusal says what to do, and nothing is created.
func TestCreateCustomProvesCertificate(t *testing.T) {
	rejected := &consent.DriverError{Op: consenttest.MethodProveCertificate, TenantID: tenantID, AppID: customID, Code: "AADSTS700027",
		Err: fmt.Errorf("%w: the certificate is not registered on the application", consent.ErrInvalidCredential)}
	tests := []struct {
		name  string
		setup func(e *env)
		// wantIs are sentinels the error must wrap; wantText must appear in it.
		wantIs   []error
		wantText []string
		notText  string
	}{
		{name: "proven", setup: func(e *env) { e.consented(customID) }},
		{name: "Entra rejects the certificate", setup: func(e *env) {
			e.consented(customID)
			e.fake.OnCall(consenttest.MethodProveCertificate, consenttest.Fail(rejected))
		}, wantIs: []error{appprofile.ErrCertificate, consent.ErrInvalidCredential}, wantText: []string{"rejected the certificate", "AADSTS700027", "upload its .cer/.crt", "choose the .pfx paired"}},
		{name: "no service principal: not consented", setup: func(e *env) {
			// The app is registered, but the customer has not granted admin consent to it.
		}, wantIs: []error{appprofile.ErrInvalidRequest}, wantText: []string{"no service principal", "grant admin consent to the custom app first"},
			notText: "assign these roles"},
		{name: "service principal disabled", setup: func(e *env) {
			e.consented(customID)
			must(e.t, e.fake.SetServicePrincipalEnabled(tenantID, customID, false))
		}, wantIs: []error{appprofile.ErrInvalidRequest}, wantText: []string{"disabled", "enable it"}},
		{name: "could not check", setup: func(e *env) {
			e.consented(customID)
			e.fake.OnCall(consenttest.MethodProveCertificate, consenttest.Fail(consent.ErrTransient))
		}, wantIs: []error{appprofile.ErrCouldNotCheck, consent.ErrTransient}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, cert, req := customSetup(t)
			tt.setup(e)
			ps, err := e.mgr.Create(e.ctx, req)
			// The proof was attempted exactly once, with the .pfx's certificate.
			var proofs []string
			for _, a := range e.fake.Actions() {
				if a.Method == consenttest.MethodProveCertificate {
					proofs = append(proofs, a.TenantID+" "+a.AppID+" "+a.Arg)
				}
			}
			if diff := cmp.Diff([]string{tenantID + " " + customID + " " + thumbprint(cert)}, proofs); diff != "" {
				t.Errorf("ProveCertificate calls (-want +got):\n%s", diff)
			}
			if tt.wantIs == nil {
				must(t, err)
				if len(ps) != 1 || ps[0].Custom == nil || ps[0].Custom.Thumbprint != thumbprint(cert) {
					t.Fatalf("Create = %+v", ps)
				}
				return
			}
			if err == nil {
				t.Fatalf("Create = %+v, want an error", ps)
			}
			for _, want := range tt.wantIs {
				if !errors.Is(err, want) {
					t.Errorf("err = %v, want it to wrap %v", err, want)
				}
			}
			for _, want := range tt.wantText {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("err = %v, want it to say %q", err, want)
				}
			}
			if tt.notText != "" && strings.Contains(err.Error(), tt.notText) {
				t.Errorf("err = %v, should not say %q", err, tt.notText)
			}
			assertNoSecrets(t, err, *req.Custom)
			if got, _, lerr := e.mgr.List(e.ctx, store.Filter{Tenant: tenantID}, store.Page{}); lerr != nil || len(got) != 0 {
				t.Errorf("after a failed Create the store holds %d profile(s) (err %v), want none", len(got), lerr)
			}
		})
	}
}

// TestReauthorizeProvesNewCertificate: a certificate change is proven like at creation; when Entra
// refuses the new .pfx the profile keeps its old certificate.
func TestReauthorizeProvesNewCertificate(t *testing.T) {
	e, cert, req := customSetup(t)
	e.consented(customID)
	ps, err := e.mgr.Create(e.ctx, req)
	must(t, err)
	p := ps[0]

	newCert, newPFX := selfSigned(t, "contoso-baseline-2", e.clock.Now().Add(-time.Hour), 90*24*time.Hour, "n3w-"+customPassword)
	must(t, e.fake.RotateAppCertificates(customID, cert, newCert))
	e.fake.OnCall(consenttest.MethodProveCertificate, consenttest.Times(1, consenttest.Fail(&consent.DriverError{Code: "AADSTS700027", Err: consent.ErrInvalidCredential})))
	in := appprofile.ReauthorizeInput{ReauthorizeRequest: appprofile.ReauthorizeRequest{Surface: appprofile.SurfaceAOS, Change: appprofile.ChangeCertificate}, Consenter: e.globalAdmin(),
		Custom: &appprofile.CustomAppInput{ApplicationID: customID, PFX: newPFX, Password: "n3w-" + customPassword}}
	e.fake.ClearActions()
	_, err = e.mgr.Reauthorize(e.ctx, p.ID, in)
	var ce *appprofile.CertificateError
	if !errors.As(err, &ce) || !errors.Is(err, consent.ErrInvalidCredential) {
		t.Fatalf("Reauthorize with a refused certificate: err = %v, want *CertificateError wrapping consent.ErrInvalidCredential", err)
	}
	assertNoSecrets(t, err, *in.Custom)
	got, err := e.mgr.Get(e.ctx, p.ID)
	must(t, err)
	if got.Version != p.Version || got.Custom.Thumbprint != thumbprint(cert) {
		t.Errorf("after a refused certificate: version %d (was %d), thumbprint %s, want the profile unchanged", got.Version, p.Version, got.Custom.Thumbprint)
	}

	_, err = e.mgr.Reauthorize(e.ctx, p.ID, in)
	must(t, err)
	got, err = e.mgr.Get(e.ctx, p.ID)
	must(t, err)
	if got.Custom.Thumbprint != thumbprint(newCert) {
		t.Errorf("thumbprint after re-authorization = %s, want %s", got.Custom.Thumbprint, thumbprint(newCert))
	}
	var proofs []string
	for _, a := range e.fake.Actions() {
		if a.Method == consenttest.MethodProveCertificate {
			proofs = append(proofs, a.Arg)
		}
	}
	if diff := cmp.Diff([]string{thumbprint(newCert), thumbprint(newCert)}, proofs); diff != "" {
		t.Errorf("certificates proven (-want +got):\n%s", diff)
	}
}

// keyReaderOnly is a driver that reads keyCredentials but cannot prove certificates.
type keyReaderOnly struct {
	consent.Driver
	kr consent.KeyCredentialReader
}

func (d keyReaderOnly) KeyCredentials(ctx context.Context, tenantID, appID string) ([]consent.KeyCredential, error) {
	return d.kr.KeyCredentials(ctx, tenantID, appID)
}

// TestCreateCustomWithoutCertificateProver: a driver without consent.CertificateProver keeps the
// keyCredentials check only, so a disabled service principal is not noticed at creation.
func TestCreateCustomWithoutCertificateProver(t *testing.T) {
	e, cert, req := customSetup(t)
	e.consented(customID)
	must(t, e.fake.SetServicePrincipalEnabled(tenantID, customID, false))
	mgr, err := appprofile.New(e.store, keyReaderOnly{Driver: consenttest.OnlyDriver(e.fake), kr: e.fake}, appprofile.WithClock(e.clock.Now),
		appprofile.WithLogger(slog.New(slog.DiscardHandler)), appprofile.WithSealer(mustSealer(t)))
	must(t, err)
	ps, err := mgr.Create(e.ctx, req)
	must(t, err)
	if ps[0].Custom.Thumbprint != thumbprint(cert) {
		t.Errorf("thumbprint = %s, want %s", ps[0].Custom.Thumbprint, thumbprint(cert))
	}
	if n := e.fake.CountActions(consenttest.MethodProveCertificate); n != 0 {
		t.Errorf("%d ProveCertificate calls through a driver without consent.CertificateProver", n)
	}
	// The same request through the proving driver is refused.
	must(t, e.mgr.Delete(e.ctx, ps[0].ID))
	if _, err := e.mgr.Create(e.ctx, req); !errors.Is(err, appprofile.ErrInvalidRequest) || !strings.Contains(err.Error(), "disabled") {
		t.Errorf("Create through the proving driver: err = %v, want the disabled service principal reported", err)
	}
}

func mustSealer(t *testing.T) appprofile.Sealer {
	t.Helper()
	s, err := appprofile.NewAESGCMSealer("k1", map[string][]byte{"k1": bytes.Repeat([]byte{7}, 32)})
	must(t, err)
	return s
}
