package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/tenantapps/tenantapps/examples/internal/envconfig"
)

// portalEnv lists every environment variable the portal reads, for its --help.
var portalEnv = []struct{ name, help string }{
	{envconfig.ReaderAppID, "the MSP's reading app's application (client) ID; when set, the portal serves a real tenant instead of the demo"},
	{envconfig.ReaderPFX, "the path of the reading app's .pfx (certificate and RSA key)"},
	{envconfig.ReaderPFXPassword, "the .pfx password (may be empty)"},
	{envPublicURL, "where browsers reach the portal, e.g. https://portal.msp.example (the consent redirect URI is derived from it)"},
	{envCustomers, "the customers and their tenant IDs: Contoso=<tenant ID>,Fabrikam=<tenant ID>"},
	{envVendorAppIDs, "optional: the vendor apps' application IDs: APElements Automation=<app ID>;..."},
	{envStateKey, "base64 of at least 32 random bytes that sign consent state"},
	{envSealKey, "base64 of 32 random bytes: AES-256-GCM key for .pfx files and passwords"},
	{envStateKeys, "optional, for key rotation: ID=<base64>,... newest first; the newest signs consent state, all verify ($TENANTAPPS_STATE_KEY becomes the oldest)"},
	{envSealKeys, "optional, for key rotation: ID=<base64 of 32 bytes>,... newest first; the newest seals, all open (-reseal moves stored secrets to it)"},
	{envCSRFKey, "base64 of at least 32 random bytes that sign CSRF tokens"},
	{envOperatorTenant, "the MSP's own tenant ID, where its operators sign in (OpenID Connect); required for real tenants"},
	{envOperators, "the operators who may sign in: object IDs (recommended) or UPNs, comma-separated; required for real tenants"},
	{envOperatorClientID, "optional: the sign-in app's application ID (default: the reading app)"},
	{envOperatorPFX, "optional: the sign-in app's .pfx (default: the reading app's)"},
	{envOperatorPFXPassword, "optional: the sign-in app's .pfx password"},
	{envconfig.StoreDSN, "the store: a SQLite file path or a postgres:// DSN (or -db)"},
	{envconfig.Authority, "optional: the Entra authority of a national cloud, e.g. https://login.microsoftonline.us"},
	{envconfig.GraphURL, "optional: the Graph base URL with version (default: the authority's cloud)"},
	{envconfig.GraphScope, "optional: the app-only Graph scope (default: the authority's cloud)"},
	{envconfig.CAFile, "optional: extra PEM roots to trust (an emulator's)"},
}

// setUsage makes the portal's --help say what it does, its flags and every environment variable.
func setUsage(fs *flag.FlagSet, w io.Writer) {
	fs.Usage = func() {
		fmt.Fprintln(w, "usage: go run ./examples/portal [flags]\n\n"+
			"Serves the Customer app profile pages. Without $"+envconfig.ReaderAppID+" it runs the demo: a local Entra ID +\n"+
			"Microsoft Graph emulator with a demo tenant. With it, it serves real tenants, configured by the environment.\n\n"+
			"flags:")
		fs.PrintDefaults()
		fmt.Fprintln(w, "\nEnvironment (real tenants):")
		for _, e := range portalEnv {
			fmt.Fprintf(w, "  $%-33s %s\n", e.name, e.help)
		}
	}
}
