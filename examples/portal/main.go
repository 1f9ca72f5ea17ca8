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
// Operators — the MSP's own staff — sign in with OpenID Connect against the MSP's Microsoft Entra
// tenant (authorization code flow with PKCE through MSAL Go's confidential client; the ID token's
// signature, issuer, audience, tenant, nonce and expiry are checked; see operator.go), and only
// accounts on the operator list get in. Every page and every change needs a signed-in operator,
// except the sign-in itself and the consent callback, which the customer's administrator returns
// to and which its signed single-use state protects. Profiles are created only for the configured
// customers and their tenants.
//
// Every POST carries a CSRF token bound to an HttpOnly, SameSite=Lax session cookie (Secure when
// the portal is served over HTTPS); responses carry a strict Content-Security-Policy; no secret
// (.pfx, password) is ever rendered back. The server bounds how long a request may take to arrive
// (headers 10 s, whole request 1 min), to be answered (2 min) and to idle (2 min), and a handler's
// work stops when its client goes.
//
// By default (go run ./examples/portal) the portal runs against a local Entra ID + Graph emulator
// with the demo tenant Contoso and the embedded SQLite store, and adds a "Change the demo tenant"
// page (reset a password, revoke a grant, publish a catalog version). The demo without operator
// sign-in is open to whoever reaches it, so it listens on loopback only; -signin makes operators
// sign in against the emulator's MSP tenant (as operator@msp.example).
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
//	TENANTAPPS_STATE_KEY            base64, >= 32 bytes: signs consent state (key ID "appprofile")
//	TENANTAPPS_SEAL_KEY             base64, 32 bytes: seals .pfx files and passwords (AES-256-GCM,
//	                                key ID "portal-1")
//	TENANTAPPS_STATE_KEYS, TENANTAPPS_SEAL_KEYS
//	                                key rotation: ID=<base64>,ID=<base64>, newest first; the newest
//	                                signs / seals, every key (and the single keys above) verifies /
//	                                opens. After adding a seal key run the portal once with -reseal
//	                                to re-seal every stored secret, then drop the old key.
//	TENANTAPPS_CSRF_KEY             base64, >= 32 bytes: signs CSRF tokens and operator sessions
//	TENANTAPPS_OPERATOR_TENANT_ID   required: the MSP's own tenant, where operators sign in
//	TENANTAPPS_OPERATORS            required: who may operate the portal, object IDs (recommended;
//	                                preferred_username is mutable) or UPNs, comma-separated
//	TENANTAPPS_OPERATOR_CLIENT_ID   optional: the portal's sign-in app (default: the reading app);
//	                                register <URL>/auth/callback on it as a Web redirect URI
//	TENANTAPPS_OPERATOR_PFX, TENANTAPPS_OPERATOR_PFX_PASSWORD
//	                                optional: the sign-in app's .pfx (default: the reading app's)
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
//	-signin                demo: operators sign in against the emulator's MSP tenant
//	-reseal                real tenant: re-seal every stored secret under the newest seal key, exit
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
	signIn := fs.Bool("signin", false, "demo: operators sign in (OpenID Connect against the emulator's MSP tenant, as "+demo.OperatorUPN+")")
	reseal := fs.Bool("reseal", false, "real tenant: re-seal every stored secret under the newest key of $"+envSealKeys+", then exit")
	if err := fs.Parse(args); err != nil {
		return err
	}
	real := getenv(envconfig.ReaderAppID) != ""
	if *reseal {
		if !real {
			return errors.New("-reseal re-seals a real store: configure the real-tenant environment (see the package documentation)")
		}
		return resealStore(ctx, getenv, *db, stderr)
	}
	if !real && !*signIn && !isLoopback(*addr) {
		return fmt.Errorf("the demo portal without operator sign-in is open to anyone who reaches it, so it listens on loopback only: use -addr 127.0.0.1:PORT, or -signin")
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	var handler http.Handler
	var banner string
	if real {
		app, err := startReal(ctx, getenv, *db, logger)
		if err != nil {
			ln.Close()
			return err
		}
		defer app.Close()
		handler, banner = app.Handler(), fmt.Sprintf("portal: serving %s on http://%s", getenv(envPublicURL), ln.Addr())
	} else {
		app, err := startDemo(ctx, ln.Addr().String(), *db, false, *signIn, logger)
		if err != nil {
			ln.Close()
			return err
		}
		defer app.Close()
		handler, banner = app.Handler(), fmt.Sprintf("portal: open http://%s/profiles (demo tenant %s, emulator %s)", ln.Addr(), demo.CustomerName, app.backend.URL)
	}
	srv := newHTTPServer(handler, logger)
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
	// operators is the emulator's MSP tenant when operators sign in (-signin).
	operators *demo.Operators
	closers   []func()
}

func (a *demoApp) Close() {
	for i := len(a.closers) - 1; i >= 0; i-- {
		a.closers[i]()
	}
}

// startDemo builds the portal on the demo backend; hostport is where the portal is reachable
// (the consent redirect URI is http://hostport/consent/callback).
func startDemo(ctx context.Context, hostport, dbPath string, fake, signIn bool, logger *slog.Logger) (*demoApp, error) {
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
	stopDispatch, err := startDispatcher(st, logger)
	if err != nil {
		a.Close()
		return nil, err
	}
	a.closers = append(a.closers, stopDispatch)
	keys := make([]byte, 128)
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
	var operators *OperatorConfig
	if signIn {
		ops, err := be.AddOperators("http://"+hostport+"/auth/callback", time.Now())
		if err != nil {
			a.Close()
			return nil, err
		}
		cred, err := msalCredential(ops.Credential)
		if err != nil {
			a.Close()
			return nil, err
		}
		a.operators = &ops
		operators = &OperatorConfig{AuthorityHost: be.Authority, TenantID: ops.TenantID, ClientID: ops.ClientID, Credential: cred,
			RedirectURI: "http://" + hostport + "/auth/callback", Operators: []string{ops.OperatorID}, Key: keys[96:], HTTPClient: be.Server.Client(), Logger: logger}
	}
	a.Portal, err = NewPortal(PortalConfig{Manager: mgr, Catalog: env.Catalog, Customers: []Customer{{Name: demo.CustomerName, TenantID: demo.CustomerTenantID}},
		Accounts: accounts, Demo: env, CSRFKey: keys[64:96], Logger: logger, Operators: operators})
	if err != nil {
		a.Close()
		return nil, err
	}
	return a, nil
}
