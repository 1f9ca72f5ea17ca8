package main

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
)

// Environment variables of the Graph driver 'profiles verify' reads tenants with. The reading
// app is the MSP's multi-tenant app consented in every customer tenant (see consent/graph.Config).
// Its .pfx password is a secret, so it is only ever read from the environment.
const (
	envReaderAppID     = "TENANTAPPS_READER_APP_ID"       // the reading app's application (client) ID
	envReaderPFX       = "TENANTAPPS_READER_PFX"          // path of its .pfx (certificate + RSA key)
	envReaderPassword  = "TENANTAPPS_READER_PFX_PASSWORD" // the .pfx password (may be empty)
	envAuthorityHost   = "TENANTAPPS_AUTHORITY"           // optional: Entra host (national cloud, emulator)
	envGraphURL        = "TENANTAPPS_GRAPH_URL"           // optional: Graph base URL with version
	envGraphScope      = "TENANTAPPS_GRAPH_SCOPE"         // optional: app-only Graph scope
	envExtraRootCAFile = "TENANTAPPS_CA_FILE"             // optional: PEM roots to trust (an emulator's)
)

// graphDriverFromEnv builds the real Graph driver from the environment.
func graphDriverFromEnv(_ context.Context, env *cliEnv) (consent.Driver, func(), error) {
	appID, pfxPath := strings.TrimSpace(env.getenv(envReaderAppID)), strings.TrimSpace(env.getenv(envReaderPFX))
	var missing []string
	if appID == "" {
		missing = append(missing, "$"+envReaderAppID)
	}
	if pfxPath == "" {
		missing = append(missing, "$"+envReaderPFX)
	}
	if len(missing) > 0 {
		return nil, nil, fmt.Errorf("set %s to the reading app's application ID and .pfx path ($%s holds its password) to verify against Microsoft Graph", strings.Join(missing, " and "), envReaderPassword)
	}
	pfx, err := os.ReadFile(pfxPath)
	if err != nil {
		return nil, nil, fmt.Errorf("reading $%s: %w", envReaderPFX, err)
	}
	b, err := certs.Inspect(pfx, env.getenv(envReaderPassword))
	if err != nil {
		return nil, nil, fmt.Errorf("opening the reading app's .pfx (%s): %w", pfxPath, err)
	}
	if b.PrivateKey == nil || !b.KeyMatchesLeaf {
		return nil, nil, fmt.Errorf("the reading app's .pfx (%s) holds no private key for its certificate", pfxPath)
	}
	cfg := graph.Config{
		ReaderAppID:      appID,
		ReaderCredential: consent.CertificateCredential{Chain: b.Chain, Key: b.PrivateKey},
		AuthorityHost:    env.getenv(envAuthorityHost),
		GraphURL:         env.getenv(envGraphURL),
		GraphScope:       env.getenv(envGraphScope),
	}
	if caFile := env.getenv(envExtraRootCAFile); caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, nil, fmt.Errorf("reading $%s: %w", envExtraRootCAFile, err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, nil, errors.New("$" + envExtraRootCAFile + " holds no PEM certificate")
		}
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
		cfg.HTTPClient = &http.Client{Transport: tr, Timeout: 60 * time.Second}
	}
	drv, err := graph.New(cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("configuring the Graph driver: %w", err)
	}
	return drv, func() {}, nil
}
