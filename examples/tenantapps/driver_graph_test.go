package main

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"encoding/pem"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tenantapps/tenantapps/appprofile"
	"github.com/tenantapps/tenantapps/examples/internal/demo"
	"github.com/tenantapps/tenantapps/store/sqlite"
	"software.sslmate.com/src/go-pkcs12"
)

// TestProfilesVerifyAgainstEmulator runs 'profiles verify' as a user would, with the real Graph
// driver configured from the environment, against the graphtest emulator: a consented profile
// verifies Valid (exit 0); after a grant is revoked in the tenant it verifies Invalid (exit 1).
func TestProfilesVerifyAgainstEmulator(t *testing.T) {
	ctx := context.Background()
	const redirect = "https://portal.example/consent/callback"
	be, env, err := demo.Start(ctx, redirect, demo.StartOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(be.Close)
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "profiles.db")
	st, err := sqlite.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	mgr, err := appprofile.New(st, be.Driver, appprofile.WithCatalog(env.Catalog), appprofile.WithStateKey(make([]byte, 32)),
		appprofile.WithRedirectURI(redirect), appprofile.WithAuthority(be.Authority), appprofile.WithVendorAppIDs(env.VendorAppIDs),
		appprofile.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		t.Fatal(err)
	}
	ps, err := mgr.Create(ctx, appprofile.CreateRequest{Customer: demo.CustomerName, Tenant: demo.CustomerTenantID, Services: []string{"Nitro"}})
	if err != nil {
		t.Fatal(err)
	}
	start, err := mgr.BeginConsent(ctx, ps[0].ID, appprofile.BeginConsentRequest{Consenter: env.Consenter(demo.AdminUPN)})
	if err != nil {
		t.Fatal(err)
	}
	cb, err := env.PlayConsent(ctx, start.URL, demo.AdminUPN)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mgr.CompleteConsent(ctx, cb); err != nil {
		t.Fatal(err)
	}
	st.Close()

	// The reading app's .pfx and the emulator's TLS root, as files, like an operator has them.
	pfx, err := pkcs12.Modern.Encode(be.ReaderCredential.Key.(*rsa.PrivateKey), be.ReaderCredential.Chain[0], nil, "reader-pw")
	if err != nil {
		t.Fatal(err)
	}
	pfxPath, caPath := filepath.Join(dir, "reader.pfx"), filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(pfxPath, pfx, 0o600); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewTLSServer(nil) // every httptest TLS server, the emulator's too, uses this certificate
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ts.Certificate().Raw})
	ts.Close()
	if err := os.WriteFile(caPath, caPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{envReaderAppID: demo.ReaderAppID, envReaderPFX: pfxPath, envReaderPassword: "reader-pw",
		envAuthorityHost: be.URL, envGraphURL: be.Server.GraphURL(), envExtraRootCAFile: caPath}

	verify := func() (int, verifyJSON, string) {
		t.Helper()
		code, stdout, stderr := runCLIOpts(t, cliOpts{vars: vars, newDriver: graphDriverFromEnv}, "profiles", "verify", "--db", dbPath, "--format", "json")
		var out verifyJSON
		if code != exitUsage {
			if err := json.Unmarshal([]byte(stdout), &out); err != nil {
				t.Fatalf("output: %v\n%s\nstderr: %s", err, stdout, stderr)
			}
		}
		if strings.Contains(stderr, "reader-pw") {
			t.Error("stderr shows the .pfx password")
		}
		return code, out, stderr
	}
	code, out, errOut := verify()
	if code != exitOK || out.Valid != 1 || out.Results[0].Profile.Status != "valid" {
		t.Fatalf("healthy tenant: exit %d, %+v, stderr %s", code, out, errOut)
	}
	if _, err := env.RevokeOneGrant(ps[0]); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = verify()
	var codes []string
	for _, r := range out.Results[0].Profile.Reasons {
		codes = append(codes, string(r.Code))
	}
	if code != exitNegative || out.NotValid != 1 || !out.Results[0].Changed {
		t.Fatalf("after the revocation: exit %d, %+v, stderr %s", code, out, errOut)
	}
	if diff := cmp.Diff([]string{"grant-missing"}, codes); diff != "" {
		t.Errorf("reasons (-want +got):\n%s", diff)
	}

	// Configuration problems are usage errors that name the variable to set.
	for _, tc := range []struct {
		unset, want string
	}{{envReaderAppID, "$" + envReaderAppID}, {envReaderPFX, "$" + envReaderPFX}} {
		saved := vars[tc.unset]
		delete(vars, tc.unset)
		if code, _, errOut := verify(); code != exitUsage || !strings.Contains(errOut, tc.want) {
			t.Errorf("without %s: exit %d, %q", tc.unset, code, errOut)
		}
		vars[tc.unset] = saved
	}
	vars[envReaderPassword] = "wrong"
	if code, _, errOut := verify(); code != exitUsage || !strings.Contains(errOut, "password") {
		t.Errorf("wrong .pfx password: exit %d, %q", code, errOut)
	}
}
