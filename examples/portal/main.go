// Command portal is a small web portal built on tenantapps: the Customer app profile page of the
// product documents, in net/http and html/template with no front-end build step.
//
//   - /profiles lists the profiles with status and typed reasons (what is wrong and what to do),
//     filtered by customer, tenant and status; each can be verified against the tenant,
//     re-authorized, deleted (when the app type may be deleted there) and its role checklist shown.
//   - /profiles/new is the create wizard: customer and tenant, services, setup method (modern, or
//     custom with application ID, .pfx upload and password — every problem shown next to its
//     field), then consent.
//   - Consent redirects to Microsoft Entra ID and comes back to /consent/callback, where the
//     Manager verifies the state and proves the grants in the tenant.
//   - Re-authorization offers administrator or user consent and shows the chosen account's missing
//     requirements before redirecting.
//
// Every POST carries a CSRF token bound to an HttpOnly, SameSite=Lax session cookie (Secure when
// the portal is served over HTTPS); responses carry a strict Content-Security-Policy; no secret
// (.pfx, password) is ever rendered back.
//
// By default (go run ./examples/portal) the portal runs against a local Entra ID + Graph emulator
// with the demo tenant Contoso and the embedded SQLite store, and adds a "Change the demo tenant"
// page (reset a password, revoke a grant, publish a catalog version).
//
// Against a real tenant (selected by setting TENANTAPPS_READER_APP_ID), the portal is configured
// from the environment, never from flags, because most of it is secret:
//
//	TENANTAPPS_READER_APP_ID        the MSP's reading app (consented in every customer tenant)
//	TENANTAPPS_READER_PFX           path of the reading app's .pfx
//	TENANTAPPS_READER_PFX_PASSWORD  its password
//	TENANTAPPS_PUBLIC_URL           the portal's public URL; the redirect URI is <URL>/consent/callback
//	                                (register it on the vendor apps); https makes cookies Secure
//	TENANTAPPS_CUSTOMERS            Contoso=<tenant GUID>,Fabrikam=<tenant GUID>
//	TENANTAPPS_VENDOR_APP_IDS       optional: <app type>=<application ID>;...
//	TENANTAPPS_STATE_KEY            base64, >= 32 bytes: signs consent state
//	TENANTAPPS_SEAL_KEY             base64, 32 bytes: seals .pfx files and passwords (AES-256-GCM)
//	TENANTAPPS_CSRF_KEY             base64, >= 32 bytes: signs CSRF tokens
//	TENANTAPPS_STORE_DSN            SQLite path or postgres:// DSN (or -db PATH)
//	TENANTAPPS_AUTHORITY, TENANTAPPS_GRAPH_URL, TENANTAPPS_GRAPH_SCOPE, TENANTAPPS_CA_FILE
//	                                optional: national clouds, or an emulator and its TLS root
//
// Serve it behind a TLS-terminating proxy at TENANTAPPS_PUBLIC_URL.
//
// Flags:
//
//	-addr 127.0.0.1:8080   listen address (plain HTTP on loopback for the demo)
//	-db PATH               SQLite file (default: a temporary file in the demo)
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"time"

	"github.com/tenantapps/tenantapps/appprofile"
	"github.com/tenantapps/tenantapps/examples/internal/demo"
	"github.com/tenantapps/tenantapps/examples/internal/envconfig"
	"github.com/tenantapps/tenantapps/store/sqlite"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "portal: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	fs := flag.NewFlagSet("portal", flag.ContinueOnError)
	fs.SetOutput(stderr)
	setUsage(fs, stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "listen address")
	db := fs.String("db", "", "SQLite file (default: a temporary file)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	var handler http.Handler
	var banner string
	if getenv(envconfig.ReaderAppID) != "" {
		app, err := startReal(ctx, getenv, *db, logger)
		if err != nil {
			ln.Close()
			return err
		}
		defer app.Close()
		handler, banner = app.Handler(), fmt.Sprintf("portal: serving %s on http://%s", getenv(envPublicURL), ln.Addr())
	} else {
		app, err := startDemo(ctx, ln.Addr().String(), *db, false, logger)
		if err != nil {
			ln.Close()
			return err
		}
		defer app.Close()
		handler, banner = app.Handler(), fmt.Sprintf("portal: open http://%s/profiles (demo tenant %s, emulator %s)", ln.Addr(), demo.CustomerName, app.backend.URL)
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shut)
	}()
	fmt.Fprintln(stderr, banner)
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// demoApp is the portal running against the demo backend.
type demoApp struct {
	*Portal
	backend *demo.Backend
	env     *demo.Env
	closers []func()
}

func (a *demoApp) Close() {
	for i := len(a.closers) - 1; i >= 0; i-- {
		a.closers[i]()
	}
}

// startDemo builds the portal on the demo backend; hostport is where the portal is reachable
// (the consent redirect URI is http://hostport/consent/callback).
func startDemo(ctx context.Context, hostport, dbPath string, fake bool, logger *slog.Logger) (*demoApp, error) {
	a := &demoApp{}
	redirect := "http://" + hostport + "/consent/callback"
	be, env, err := demo.Start(ctx, redirect, demo.StartOptions{Fake: fake})
	if err != nil {
		return nil, err
	}
	a.closers = append(a.closers, be.Close)
	a.backend, a.env = be, env
	if dbPath == "" {
		dir, err := os.MkdirTemp("", "tenantapps-portal-")
		if err != nil {
			a.Close()
			return nil, err
		}
		a.closers = append(a.closers, func() { os.RemoveAll(dir) })
		dbPath = filepath.Join(dir, "profiles.db")
	}
	st, err := sqlite.Open(ctx, dbPath)
	if err != nil {
		a.Close()
		return nil, err
	}
	a.closers = append(a.closers, func() { st.Close() })
	keys := make([]byte, 96)
	if _, err := io.ReadFull(rand.Reader, keys); err != nil {
		a.Close()
		return nil, err
	}
	sealer, err := appprofile.NewAESGCMSealer("portal-1", map[string][]byte{"portal-1": keys[:32]})
	if err != nil {
		a.Close()
		return nil, err
	}
	mgr, err := appprofile.New(st, be.Driver,
		appprofile.WithCatalog(env.Catalog),
		appprofile.WithSealer(sealer),
		appprofile.WithStateKey(keys[32:64]),
		appprofile.WithRedirectURI(redirect),
		appprofile.WithAuthority(be.Authority),
		appprofile.WithVendorAppIDs(env.VendorAppIDs),
		appprofile.WithLogger(logger),
	)
	if err != nil {
		a.Close()
		return nil, err
	}
	var accounts []appprofile.Consenter
	for _, upn := range []string{demo.AdminUPN, demo.AlexUPN, demo.InsightsUPN} {
		accounts = append(accounts, env.Consenter(upn))
	}
	a.Portal, err = NewPortal(PortalConfig{Manager: mgr, Catalog: env.Catalog, Customers: []Customer{{Name: demo.CustomerName, TenantID: demo.CustomerTenantID}},
		Accounts: accounts, Demo: env, CSRFKey: keys[64:], Logger: logger})
	if err != nil {
		a.Close()
		return nil, err
	}
	return a, nil
}
