package appprofile_test

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"log/slog"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tenantapps/tenantapps/appprofile"
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
