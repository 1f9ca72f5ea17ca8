package main

import (
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/pem"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tenantapps/tenantapps/examples/internal/demo"
	"github.com/tenantapps/tenantapps/examples/internal/envconfig"
	"software.sslmate.com/src/go-pkcs12"
)

func TestRealConfigProblems(t *testing.T) {
	const secret = "c2VjcmV0LXNob3J0" // base64 of "secret-short": too short to be a key
	env := map[string]string{envStateKey: secret, envCustomers: "Contoso=not-a-guid", envPublicURL: "ftp://x"}
	_, err := readRealConfig(func(k string) string { return env[k] }, "")
	if err == nil {
		t.Fatal("incomplete configuration accepted")
	}
	for _, want := range []string{envPublicURL, `"Contoso=not-a-guid" is not Name=<tenant ID>`, envStateKey, envSealKey, envCSRFKey, envconfig.StoreDSN} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), secret) {
		t.Error("the error shows a key")
	}
}

// TestRealTenantPortal runs the portal in its real-tenant mode, configured only from environment
// variables, against the emulator reached like a national cloud (authority, Graph URL, TLS root).
func TestRealTenantPortal(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	srv := httptest.NewUnstartedServer(nil)
	publicURL := "http://" + srv.Listener.Addr().String()
	be, denv, err := demo.Start(ctx, publicURL+"/consent/callback", demo.StartOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(be.Close)
	pfx, err := pkcs12.Modern.Encode(be.ReaderCredential.Key.(*rsa.PrivateKey), be.ReaderCredential.Chain[0], nil, "reader-pw")
	if err != nil {
		t.Fatal(err)
	}
	pfxPath, caPath := filepath.Join(dir, "reader.pfx"), filepath.Join(dir, "ca.pem")
	os.WriteFile(pfxPath, pfx, 0o600)
	ts := httptest.NewTLSServer(nil) // every httptest TLS server, the emulator's too, uses this certificate
	os.WriteFile(caPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ts.Certificate().Raw}), 0o644)
	ts.Close()
	key := func(b byte) string {
		return base64.StdEncoding.EncodeToString([]byte(strings.Repeat(string(rune(b)), 32)))
	}
	var vendor []string
	for name, id := range denv.VendorAppIDs {
		vendor = append(vendor, name+"="+id)
	}
	env := map[string]string{
		envconfig.ReaderAppID: demo.ReaderAppID, envconfig.ReaderPFX: pfxPath, envconfig.ReaderPFXPassword: "reader-pw",
		envconfig.Authority: be.URL, envconfig.GraphURL: be.Server.GraphURL(), envconfig.CAFile: caPath,
		envconfig.StoreDSN: filepath.Join(dir, "portal.db"),
		envPublicURL:       publicURL, envCustomers: demo.CustomerName + "=" + demo.CustomerTenantID, envVendorAppIDs: strings.Join(vendor, ";"),
		envStateKey: key('s'), envSealKey: key('k'), envCSRFKey: key('c'),
	}
	app, err := startReal(ctx, func(k string) string { return env[k] }, "", slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(app.Close)
	srv.Config.Handler = app.Handler()
	srv.Start()
	t.Cleanup(srv.Close)
	jar, _ := cookiejar.New(nil)
	tp := &testPortal{t: t, srv: srv, client: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}

	ids := tp.create("Nitro")
	if len(ids) != 1 {
		t.Fatalf("created %v", ids)
	}
	// Without a list of accounts the consent form takes a UPN and roles.
	r := tp.post("/profiles/"+ids[0]+"/consent", url.Values{"csrf": {tp.csrf()}, "account": {demo.AdminUPN}, "role": {"global-administrator"}})
	if r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, be.URL+"/"+demo.CustomerTenantID+"/v2.0/adminconsent") {
		t.Fatalf("consent: %d %s\n%s", r.status, r.location, r.body)
	}
	cb, err := denv.PlayConsent(ctx, r.location, demo.AdminUPN)
	if err != nil {
		t.Fatal(err)
	}
	if r := tp.get("/consent/callback?" + url.Values{"state": {cb.State}, "tenant": {cb.Tenant}, "admin_consent": {"True"}}.Encode()); r.status != http.StatusSeeOther {
		t.Fatalf("callback: %d\n%s", r.status, r.body)
	}
	if diff := cmp.Diff(map[string]string{"APElements Automation": "valid"}, tp.statuses("")); diff != "" {
		t.Errorf("after consent (-want +got):\n%s", diff)
	}
	if r := tp.get("/demo"); r.status != http.StatusNotFound {
		t.Errorf("the demo page exists against a real tenant: %d", r.status)
	}

	// Served at an https public URL, the session cookie is Secure.
	env[envPublicURL] = "https://portal.msp.example"
	env[envconfig.StoreDSN] = filepath.Join(dir, "portal2.db")
	app2, err := startReal(ctx, func(k string) string { return env[k] }, "", slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer app2.Close()
	rec := httptest.NewRecorder()
	app2.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/profiles", nil))
	cookies := rec.Result().Cookies()
	if len(cookies) != 1 || !cookies[0].Secure || !cookies[0].HttpOnly {
		t.Errorf("cookies over https: %+v", cookies)
	}
}
