package main

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"

	"github.com/tenantapps/tenantapps/appprofile"
	"github.com/tenantapps/tenantapps/consent"
	"github.com/tenantapps/tenantapps/examples/internal/envconfig"
	"github.com/tenantapps/tenantapps/permissions"
)

// Environment variables of the portal against a real tenant (set TENANTAPPS_READER_APP_ID to
// select this mode). The Graph driver reads TENANTAPPS_READER_APP_ID, TENANTAPPS_READER_PFX,
// TENANTAPPS_READER_PFX_PASSWORD and optionally TENANTAPPS_AUTHORITY, TENANTAPPS_GRAPH_URL,
// TENANTAPPS_GRAPH_SCOPE and TENANTAPPS_CA_FILE (see examples/internal/envconfig). Keys are secrets
// and come only from the environment.
const (
	envPublicURL    = "TENANTAPPS_PUBLIC_URL"     // where browsers reach the portal, e.g. https://portal.msp.example
	envCustomers    = "TENANTAPPS_CUSTOMERS"      // "Contoso=<tenant GUID>,Fabrikam=<tenant GUID>"
	envVendorAppIDs = "TENANTAPPS_VENDOR_APP_IDS" // optional: "APElements Automation=<app ID>;..."
	envStateKey     = "TENANTAPPS_STATE_KEY"      // base64 of at least 32 bytes: signs consent state
	envSealKey      = "TENANTAPPS_SEAL_KEY"       // base64 of 32 bytes: AES-256-GCM for .pfx and passwords
	envCSRFKey      = "TENANTAPPS_CSRF_KEY"       // base64 of at least 32 bytes: signs CSRF tokens
)

// realConfig is the portal's configuration against a real tenant.
type realConfig struct {
	publicURL    *url.URL
	customers    []Customer
	vendorAppIDs map[string]string
	stateKey     []byte
	sealKey      []byte
	csrfKey      []byte
	storeDSN     string
}

// readRealConfig reads the configuration and reports every problem at once.
func readRealConfig(getenv func(string) string, dbFlag string) (realConfig, error) {
	var c realConfig
	var problems []string
	add := func(format string, a ...any) { problems = append(problems, fmt.Sprintf(format, a...)) }
	if u, err := url.Parse(getenv(envPublicURL)); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		add("$%s must be the portal's public URL, e.g. https://portal.msp.example", envPublicURL)
	} else {
		c.publicURL = u
	}
	for _, part := range strings.Split(getenv(envCustomers), ",") {
		if strings.TrimSpace(part) == "" {
			continue
		}
		name, tenant, ok := strings.Cut(part, "=")
		tid, terr := appprofile.NormalizeTenantID(tenant)
		if !ok || strings.TrimSpace(name) == "" || terr != nil {
			add("$%s: %q is not Name=<tenant ID>, the tenant ID a GUID from the Microsoft Entra admin center (Entra ID > Overview > Properties > Tenant ID)", envCustomers, part)
			continue
		}
		c.customers = append(c.customers, Customer{Name: strings.TrimSpace(name), TenantID: tid})
	}
	if len(c.customers) == 0 {
		add("$%s must list the customers, e.g. Contoso=6f1c3a52-8d4e-4b7a-a1c9-2e5f7b9d0c13", envCustomers)
	}
	c.vendorAppIDs = map[string]string{}
	for _, part := range strings.Split(getenv(envVendorAppIDs), ";") {
		if strings.TrimSpace(part) == "" {
			continue
		}
		name, id, ok := strings.Cut(part, "=")
		if !ok || !guidRE.MatchString(strings.TrimSpace(id)) {
			add("$%s: %q is not <app type>=<application ID>", envVendorAppIDs, part)
			continue
		}
		c.vendorAppIDs[strings.TrimSpace(name)] = strings.TrimSpace(id)
	}
	key := func(name string, min, max int) []byte {
		v := getenv(name)
		b, err := base64.StdEncoding.DecodeString(v)
		if err != nil {
			b, err = base64.RawURLEncoding.DecodeString(v)
		}
		if err != nil || len(b) < min || (max > 0 && len(b) > max) {
			if max == min {
				add("$%s must be the base64 of %d random bytes", name, min)
			} else {
				add("$%s must be the base64 of at least %d random bytes", name, min)
			}
			return nil
		}
		return b
	}
	c.stateKey, c.sealKey, c.csrfKey = key(envStateKey, 32, 0), key(envSealKey, 32, 32), key(envCSRFKey, 32, 0)
	c.storeDSN = dbFlag
	if c.storeDSN == "" {
		c.storeDSN = getenv(envconfig.StoreDSN)
	}
	if c.storeDSN == "" {
		add("pass -db PATH or set $%s (a SQLite path or a postgres:// DSN)", envconfig.StoreDSN)
	}
	if len(problems) > 0 {
		return realConfig{}, errors.New("portal: the real-tenant configuration is incomplete:\n  - " + strings.Join(problems, "\n  - "))
	}
	return c, nil
}

// realApp is the portal against a real tenant.
type realApp struct {
	*Portal
	closers []func()
}

func (a *realApp) Close() {
	for i := len(a.closers) - 1; i >= 0; i-- {
		a.closers[i]()
	}
}

func startReal(ctx context.Context, getenv func(string) string, dbFlag string, logger *slog.Logger) (*realApp, error) {
	c, err := readRealConfig(getenv, dbFlag)
	if err != nil {
		return nil, err
	}
	drv, err := envconfig.GraphDriver(getenv)
	if err != nil {
		return nil, err
	}
	st, err := envconfig.OpenStore(ctx, c.storeDSN, true, nil)
	if err != nil {
		return nil, err
	}
	a := &realApp{closers: []func(){func() { st.Close() }}}
	sealer, err := appprofile.NewAESGCMSealer("portal-1", map[string][]byte{"portal-1": c.sealKey})
	if err != nil {
		a.Close()
		return nil, err
	}
	authority := getenv(envconfig.Authority)
	if authority == "" {
		authority = consent.PublicCloudAuthority
	}
	catalog := appprofile.FromPermissions(permissions.Default())
	mgr, err := appprofile.New(st, drv, appprofile.WithCatalog(catalog), appprofile.WithSealer(sealer), appprofile.WithStateKey(c.stateKey),
		appprofile.WithRedirectURI(c.publicURL.JoinPath("/consent/callback").String()), appprofile.WithAuthority(authority),
		appprofile.WithVendorAppIDs(c.vendorAppIDs), appprofile.WithLogger(logger))
	if err != nil {
		a.Close()
		return nil, err
	}
	a.Portal, err = NewPortal(PortalConfig{Manager: mgr, Catalog: catalog, Customers: c.customers, CSRFKey: c.csrfKey,
		Secure: c.publicURL.Scheme == "https", Logger: logger})
	if err != nil {
		a.Close()
		return nil, err
	}
	return a, nil
}
