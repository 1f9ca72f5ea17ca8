// Package envconfig configures the examples against a real Microsoft Entra ID / Graph from
// environment variables: the Graph driver's reading app and the store. Secrets (the .pfx password,
// a postgres DSN's password) are only ever read from the environment.
package envconfig

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/tenantapps/tenantapps/certs"
	"github.com/tenantapps/tenantapps/consent"
	"github.com/tenantapps/tenantapps/consent/graph"
	"github.com/tenantapps/tenantapps/store"
	"github.com/tenantapps/tenantapps/store/postgres"
	"github.com/tenantapps/tenantapps/store/sqlite"
)

// Environment variables of the Graph driver. The reading app is the MSP's multi-tenant app
// consented in every customer tenant (see consent/graph.Config).
const (
	ReaderAppID       = "TENANTAPPS_READER_APP_ID"       // the reading app's application (client) ID
	ReaderPFX         = "TENANTAPPS_READER_PFX"          // path of its .pfx (certificate + RSA key)
	ReaderPFXPassword = "TENANTAPPS_READER_PFX_PASSWORD" // the .pfx password (may be empty)
	Authority         = "TENANTAPPS_AUTHORITY"           // optional: Entra host (national cloud, emulator)
	GraphURL          = "TENANTAPPS_GRAPH_URL"           // optional: Graph base URL with version (default: $TENANTAPPS_AUTHORITY's cloud)
	GraphScope        = "TENANTAPPS_GRAPH_SCOPE"         // optional: app-only Graph scope (default: $TENANTAPPS_AUTHORITY's cloud)
	CAFile            = "TENANTAPPS_CA_FILE"             // optional: extra PEM roots to trust (an emulator's)
	StoreDSN          = "TENANTAPPS_STORE_DSN"           // a SQLite file path or a postgres:// DSN
)

// GraphDriver builds the real Graph driver from the environment. It does no network I/O.
func GraphDriver(getenv func(string) string) (*graph.Driver, error) {
	appID, pfxPath := strings.TrimSpace(getenv(ReaderAppID)), strings.TrimSpace(getenv(ReaderPFX))
	var missing []string
	if appID == "" {
		missing = append(missing, "$"+ReaderAppID)
	}
	if pfxPath == "" {
		missing = append(missing, "$"+ReaderPFX)
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("set %s to the reading app's application ID and .pfx path ($%s holds its password) to verify against Microsoft Graph", strings.Join(missing, " and "), ReaderPFXPassword)
	}
	cred, err := LoadCredential("the reading app's", ReaderPFX, pfxPath, getenv(ReaderPFXPassword))
	if err != nil {
		return nil, err
	}
	cfg := graph.Config{
		ReaderAppID:      appID,
		ReaderCredential: cred,
		AuthorityHost:    getenv(Authority),
		GraphURL:         getenv(GraphURL),
		GraphScope:       getenv(GraphScope),
	}
	cloudDefaults(&cfg)
	if getenv(CAFile) != "" {
		if cfg.HTTPClient, err = HTTPClient(getenv); err != nil {
			return nil, err
		}
	}
	drv, err := graph.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("configuring the Graph driver: %w", err)
	}
	return drv, nil
}

// HTTPClient is the client for Entra ID and Graph: one that also trusts the PEM roots of
// $TENANTAPPS_CA_FILE when it is set (an emulator's), with a 60 s timeout.
func HTTPClient(getenv func(string) string) (*http.Client, error) {
	caFile := getenv(CAFile)
	if caFile == "" {
		return &http.Client{Timeout: 60 * time.Second}, nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("reading $%s: %w", CAFile, err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, errors.New("$" + CAFile + " holds no PEM certificate")
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return &http.Client{Transport: tr, Timeout: 60 * time.Second}, nil
}

// LoadCredential reads an app's certificate credential from the .pfx at path (named by the
// environment variable envName) with password; whose names the app in errors ("the reading
// app's"). The password never appears in an error.
func LoadCredential(whose, envName, path, password string) (consent.CertificateCredential, error) {
	pfx, err := os.ReadFile(path)
	if err != nil {
		return consent.CertificateCredential{}, fmt.Errorf("reading $%s: %w", envName, err)
	}
	b, err := certs.Inspect(pfx, password)
	if err != nil {
		return consent.CertificateCredential{}, fmt.Errorf("opening %s .pfx (%s): %w", whose, path, err)
	}
	if b.PrivateKey == nil || !b.KeyMatchesLeaf {
		return consent.CertificateCredential{}, fmt.Errorf("%s .pfx (%s) holds no private key for its certificate", whose, path)
	}
	return consent.CertificateCredential{Chain: b.Chain, Key: b.PrivateKey}, nil
}

// cloudDefaults fills the Graph URL and scope a national cloud's authority implies (Microsoft
// Graph national cloud deployments, https://learn.microsoft.com/graph/deployments), unless
// $TENANTAPPS_GRAPH_URL / $TENANTAPPS_GRAPH_SCOPE set them (a DoD tenant sets
// https://dod-graph.microsoft.us). An authority of no known cloud (an emulator) changes nothing.
func cloudDefaults(cfg *graph.Config) {
	if strings.TrimSpace(cfg.AuthorityHost) == "" {
		return
	}
	g, ok := consent.GraphEndpointFor(cfg.AuthorityHost)
	if !ok {
		return
	}
	if cfg.GraphURL == "" {
		cfg.GraphURL = g + "/v1.0"
	}
	if cfg.GraphScope == "" {
		cfg.GraphScope = g + "/.default"
	}
}

// OpenStore opens the store named by dsn: a postgres:// (or postgresql://) DSN, or the path of an
// existing SQLite file (create=false) or of one to create (create=true). now, when not nil, is the
// store's clock.
func OpenStore(ctx context.Context, dsn string, create bool, now func() time.Time) (store.Store, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		var opts []postgres.Option
		if now != nil {
			opts = append(opts, postgres.WithClock(now))
		}
		st, err := postgres.Open(ctx, dsn, opts...)
		if err != nil {
			return nil, fmt.Errorf("opening the postgres store: %w", err)
		}
		return st, nil
	}
	if !create {
		if _, err := os.Stat(dsn); err != nil {
			return nil, fmt.Errorf("no store at %s: %w", dsn, err)
		}
	}
	var opts []sqlite.Option
	if now != nil {
		opts = append(opts, sqlite.WithClock(now))
	}
	st, err := sqlite.Open(ctx, dsn, opts...)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", dsn, err)
	}
	return st, nil
}
