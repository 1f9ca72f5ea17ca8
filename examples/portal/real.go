package main

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"regexp"
	"strings"

	"github.com/tenantapps/tenantapps/appprofile"
	"github.com/tenantapps/tenantapps/consent"
	"github.com/tenantapps/tenantapps/examples/internal/envconfig"
	"github.com/tenantapps/tenantapps/permissions"
	"github.com/tenantapps/tenantapps/store"
)

var keyIDRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,32}$`)

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
	envCSRFKey      = "TENANTAPPS_CSRF_KEY"       // base64 of at least 32 bytes: signs CSRF tokens and operator sessions
	// Key rotation: several keys, "ID=<base64>,ID=<base64>", newest first. The newest seals
	// (signs); all open (verify). The single-key variables above are the key IDs "portal-1"
	// (seal) and "appprofile" (state), kept after the listed keys.
	envSealKeys  = "TENANTAPPS_SEAL_KEYS"
	envStateKeys = "TENANTAPPS_STATE_KEYS"
	// Operator sign-in (required against a real tenant): the MSP's own Entra tenant, who may
	// operate the portal (object IDs, or UPNs), and optionally the portal's own sign-in app
	// registration and its .pfx (default: the reading app and its .pfx). Register
	// <TENANTAPPS_PUBLIC_URL>/auth/callback as a Web redirect URI on that app.
	envOperatorTenant      = "TENANTAPPS_OPERATOR_TENANT_ID"
	envOperators           = "TENANTAPPS_OPERATORS"
	envOperatorClientID    = "TENANTAPPS_OPERATOR_CLIENT_ID"
	envOperatorPFX         = "TENANTAPPS_OPERATOR_PFX"
	envOperatorPFXPassword = "TENANTAPPS_OPERATOR_PFX_PASSWORD"
)

const (
	legacySealKeyID  = "portal-1"
	legacyStateKeyID = "appprofile" // appprofile.WithStateKey's key ID
)

// realConfig is the portal's configuration against a real tenant.
type realConfig struct {
	publicURL    *url.URL
	customers    []Customer
	vendorAppIDs map[string]string
	// stateKeys and sealKeys are newest first.
	stateKeys []consent.StateKey
	sealKeys  []namedKey
	csrfKey   []byte
	storeDSN  string
	// operatorTenant, operators and operatorClientID configure operator sign-in.
	operatorTenant, operatorClientID string
	operators                        []string
}

// namedKey is a key with its ID.
type namedKey struct {
	id  string
	key []byte
}

// GoString is String, so that %#v does not print the keys.
func (c realConfig) GoString() string { return c.String() }

// String names the configuration without any key.
func (c realConfig) String() string {
	return fmt.Sprintf("portal configuration for %v (%d customers, %d state keys, %d seal keys, operators of tenant %s)", c.publicURL, len(c.customers), len(c.stateKeys), len(c.sealKeys), c.operatorTenant)
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
	// keyList reads "ID=<base64>,..." (newest first) and then the legacy single key, if set.
	keyList := func(listName, singleName, singleID string, min, max int) []namedKey {
		var out []namedKey
		seen := map[string]bool{}
		for _, part := range strings.Split(getenv(listName), ",") {
			if strings.TrimSpace(part) == "" {
				continue
			}
			id, v, ok := strings.Cut(strings.TrimSpace(part), "=")
			b, err := base64.StdEncoding.DecodeString(v)
			if err != nil {
				b, err = base64.RawURLEncoding.DecodeString(v)
			}
			switch {
			case !ok || !keyIDRE.MatchString(id):
				add("$%s: every entry must be ID=<base64 key> with an ID of 1-32 characters A-Z a-z 0-9 _ -", listName)
			case seen[id]:
				add("$%s: key ID %q appears twice", listName, id)
			case err != nil || len(b) < min || (max > 0 && len(b) > max):
				add("$%s: key %q must be the base64 of %d random bytes", listName, id, min)
			default:
				seen[id] = true
				out = append(out, namedKey{id, b})
			}
		}
		if getenv(singleName) != "" || len(out) == 0 {
			if b := key(singleName, min, max); b != nil {
				if seen[singleID] {
					add("$%s names key ID %q, which $%s uses", listName, singleID, singleName)
				}
				out = append(out, namedKey{singleID, b})
			}
		}
		return out
	}
	for _, k := range keyList(envStateKeys, envStateKey, legacyStateKeyID, 32, 0) {
		c.stateKeys = append(c.stateKeys, consent.StateKey{ID: k.id, Secret: k.key})
	}
	c.sealKeys = keyList(envSealKeys, envSealKey, legacySealKeyID, 32, 32)
	c.csrfKey = key(envCSRFKey, 32, 0)
	c.operatorTenant = strings.TrimSpace(getenv(envOperatorTenant))
	if !guidRE.MatchString(c.operatorTenant) {
		add("$%s must be the MSP's own tenant ID (GUID): the portal refuses to start against a real tenant without operator sign-in", envOperatorTenant)
	}
	for _, o := range strings.Split(getenv(envOperators), ",") {
		if o = strings.TrimSpace(o); o != "" {
			c.operators = append(c.operators, o)
		}
	}
	if len(c.operators) == 0 {
		add("$%s must list the operators who may sign in: object IDs (recommended) or UPNs, comma-separated", envOperators)
	}
	c.operatorClientID = strings.TrimSpace(getenv(envOperatorClientID))
	if c.operatorClientID == "" {
		c.operatorClientID = strings.TrimSpace(getenv(envconfig.ReaderAppID))
	}
	if !guidRE.MatchString(c.operatorClientID) {
		add("$%s must be the portal's sign-in app's application ID (GUID)", envOperatorClientID)
	}
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
	stopDispatch, err := startDispatcher(st, logger)
	if err != nil {
		a.Close()
		return nil, err
	}
	a.closers = append(a.closers, stopDispatch)
	mgr, catalog, err := c.manager(st, drv, getenv, logger)
	if err != nil {
		a.Close()
		return nil, err
	}
	operators, err := c.operatorConfig(getenv, logger)
	if err != nil {
		a.Close()
		return nil, err
	}
	a.Portal, err = NewPortal(PortalConfig{Manager: mgr, Catalog: catalog, Customers: c.customers, CSRFKey: c.csrfKey,
		Secure: c.publicURL.Scheme == "https", Logger: logger, Operators: operators})
	if err != nil {
		a.Close()
		return nil, err
	}
	return a, nil
}

// manager builds the Manager of the configuration: sealed with the newest seal key (all open),
// consent state signed with the newest state key (all verify).
func (c realConfig) manager(st store.Store, drv consent.Driver, getenv func(string) string, logger *slog.Logger) (*appprofile.Manager, appprofile.Catalog, error) {
	keys := map[string][]byte{}
	for _, k := range c.sealKeys {
		keys[k.id] = k.key
	}
	sealer, err := appprofile.NewAESGCMSealer(c.sealKeys[0].id, keys)
	if err != nil {
		return nil, nil, err
	}
	authority := getenv(envconfig.Authority)
	if authority == "" {
		authority = consent.PublicCloudAuthority
	}
	catalog := appprofile.FromPermissions(permissions.Default())
	mgr, err := appprofile.New(st, drv, appprofile.WithCatalog(catalog), appprofile.WithSealer(sealer), appprofile.WithStateKeys(c.stateKeys...),
		appprofile.WithRedirectURI(c.publicURL.JoinPath("/consent/callback").String()), appprofile.WithAuthority(authority),
		appprofile.WithVendorAppIDs(c.vendorAppIDs), appprofile.WithLogger(logger))
	return mgr, catalog, err
}

// operatorConfig is the operator sign-in of the configuration: the portal's sign-in app (by
// default the reading app) authenticates with its .pfx.
func (c realConfig) operatorConfig(getenv func(string) string, logger *slog.Logger) (*OperatorConfig, error) {
	pfxEnv, pwEnv := envOperatorPFX, envOperatorPFXPassword
	if getenv(envOperatorPFX) == "" {
		pfxEnv, pwEnv = envconfig.ReaderPFX, envconfig.ReaderPFXPassword
	}
	cc, err := envconfig.LoadCredential("the portal's sign-in app's", pfxEnv, getenv(pfxEnv), getenv(pwEnv))
	if err != nil {
		return nil, err
	}
	cred, err := msalCredential(cc)
	if err != nil {
		return nil, err
	}
	client, err := envconfig.HTTPClient(getenv)
	if err != nil {
		return nil, err
	}
	authority := getenv(envconfig.Authority)
	if authority == "" {
		authority = consent.PublicCloudAuthority
	}
	return &OperatorConfig{AuthorityHost: authority, TenantID: c.operatorTenant, ClientID: c.operatorClientID, Credential: cred,
		RedirectURI: c.publicURL.JoinPath("/auth/callback").String(), Operators: c.operators, Key: c.csrfKey,
		Secure: c.publicURL.Scheme == "https", HTTPClient: client, Logger: logger}, nil
}

// resealStore re-seals every stored secret under the newest seal key ($TENANTAPPS_SEAL_KEYS),
// reporting progress: the last step of a seal-key rotation, before the old key is dropped.
func resealStore(ctx context.Context, getenv func(string) string, dbFlag string, out io.Writer) error {
	c, err := readRealConfig(getenv, dbFlag)
	if err != nil {
		return err
	}
	drv, err := envconfig.GraphDriver(getenv)
	if err != nil {
		return err
	}
	st, err := envconfig.OpenStore(ctx, c.storeDSN, false, nil)
	if err != nil {
		return err
	}
	defer st.Close()
	mgr, _, err := c.manager(st, drv, getenv, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	res, err := mgr.ResealAll(ctx, appprofile.ResealOptions{Progress: func(p appprofile.ResealProgress) {
		fmt.Fprintf(out, "reseal: %d profiles read, %d re-sealed (%d secrets), %d failed\n", p.Scanned, p.Resealed, p.Secrets, p.Failed)
	}})
	for _, e := range res.Errors {
		fmt.Fprintf(out, "reseal: %v\n", e)
	}
	if err != nil {
		return fmt.Errorf("reseal stopped (run it again to continue): %w", err)
	}
	if res.Failed > 0 {
		return fmt.Errorf("reseal: %d profiles could not be re-sealed; keep their keys configured", res.Failed)
	}
	fmt.Fprintf(out, "reseal: done; every secret is sealed under key %q\n", c.sealKeys[0].id)
	return nil
}
