package main

import (
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/pem"
	"fmt"
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
	"time"

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
	for _, want := range []string{envPublicURL, `"Contoso=not-a-guid" is not Name=<tenant ID>`, envStateKey, envSealKey, envCSRFKey, envconfig.StoreDSN,
		envOperatorTenant + " must be the MSP's own tenant ID (GUID): the portal refuses to start against a real tenant without operator sign-in", envOperators} {
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
	ops, err := be.AddOperators(publicURL+"/auth/callback", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	opPFX, err := pkcs12.Modern.Encode(ops.Credential.Key.(*rsa.PrivateKey), ops.Credential.Chain[0], nil, "operator-pw")
	if err != nil {
		t.Fatal(err)
	}
	opPFXPath := filepath.Join(dir, "signin.pfx")
	os.WriteFile(opPFXPath, opPFX, 0o600)
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
		envOperatorTenant: ops.TenantID, envOperators: ops.OperatorID, envOperatorClientID: ops.ClientID,
		envOperatorPFX: opPFXPath, envOperatorPFXPassword: "operator-pw",
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
	tp := &testPortal{t: t, srv: srv, client: &http.Client{Jar: jar, Transport: be.Server.Client().Transport, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	if r := tp.get("/profiles"); r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, "/auth/signin") {
		t.Fatalf("against a real tenant, anonymous GET /profiles: %d %s, want a redirect to sign-in", r.status, r.location)
	}
	if r := tp.signInAs(demo.OperatorUPN, "/profiles"); r.status != http.StatusSeeOther {
		t.Fatalf("operator sign-in: %d\n%s", r.status, r.body)
	}

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

	// Rotating the seal key: with a newer key listed, -reseal walks the store (one profile, no
	// secrets to re-seal) and reports that every secret is under the newest key.
	env[envSealKeys] = "2027-01=" + key('n')
	var out strings.Builder
	if err := run(ctx, []string{"-reseal"}, func(k string) string { return env[k] }, &out); err != nil || !strings.Contains(out.String(), `every secret is sealed under key "2027-01"`) {
		t.Errorf("-reseal: %v\n%s", err, out.String())
	}
	delete(env, envSealKeys)

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

// TestRealConfigKeyLists: several seal and state keys, newest first, with the single-key
// variables kept as the oldest (their fixed key IDs); malformed lists are refused without
// showing a key.
func TestRealConfigKeyLists(t *testing.T) {
	b64 := func(c byte) string {
		return base64.StdEncoding.EncodeToString([]byte(strings.Repeat(string(rune(c)), 32)))
	}
	base := map[string]string{envPublicURL: "https://portal.msp.example", envCustomers: "Contoso=6f1c3a52-8d4e-4b7a-a1c9-2e5f7b9d0c13",
		envCSRFKey: b64('c'), envconfig.StoreDSN: "/tmp/x.db", envconfig.ReaderAppID: demo.ReaderAppID,
		envOperatorTenant: demo.MSPTenantID, envOperators: "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"}
	env := func(extra map[string]string) func(string) string {
		return func(k string) string {
			if v, ok := extra[k]; ok {
				return v
			}
			return base[k]
		}
	}
	c, err := readRealConfig(env(map[string]string{envSealKeys: "2027-01=" + b64('n'), envSealKey: b64('o'),
		envStateKeys: "s2027=" + b64('S') + ",s2026=" + b64('T')}), "")
	if err != nil {
		t.Fatal(err)
	}
	var seal, state []string
	for _, k := range c.sealKeys {
		seal = append(seal, k.id)
	}
	for _, k := range c.stateKeys {
		state = append(state, k.ID)
	}
	if diff := cmp.Diff([]string{"2027-01", legacySealKeyID}, seal); diff != "" {
		t.Errorf("seal keys (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"s2027", "s2026"}, state); diff != "" {
		t.Errorf("state keys (-want +got):\n%s", diff)
	}
	if c.operatorClientID != demo.ReaderAppID {
		t.Errorf("sign-in client %q, want the reading app by default", c.operatorClientID)
	}
	if s := fmt.Sprintf("%v %+v %#v", c, c, c); strings.Contains(s, b64('n')) || strings.Contains(s, "110 110 110") {
		t.Errorf("the configuration prints a key: %s", s)
	}
	for name, extra := range map[string]map[string]string{
		"no ID":        {envSealKeys: b64('n'), envStateKey: b64('s')},
		"short key":    {envSealKeys: "k=" + base64.StdEncoding.EncodeToString([]byte("short")), envStateKey: b64('s')},
		"duplicate ID": {envStateKeys: "a=" + b64('a') + ",a=" + b64('b'), envSealKey: b64('k')},
		"bad ID":       {envStateKeys: "a b=" + b64('a'), envSealKey: b64('k')},
	} {
		_, err := readRealConfig(env(extra), "")
		if err == nil {
			t.Errorf("%s: accepted", name)
		} else if strings.Contains(err.Error(), b64('n')) || strings.Contains(err.Error(), b64('a')) {
			t.Errorf("%s: the error shows a key: %v", name, err)
		}
	}
}
