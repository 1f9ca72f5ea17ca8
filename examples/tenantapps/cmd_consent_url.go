package main

import (
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"github.com/tenantapps/tenantapps/appprofile"
	"github.com/tenantapps/tenantapps/consent"
)

// Environment variables of consent-url. The state key is a secret, so it is never a flag.
const (
	envStateKey   = "TENANTAPPS_STATE_KEY"    // base64 (standard or URL alphabet) of at least 32 bytes
	envStateKeyID = "TENANTAPPS_STATE_KEY_ID" // optional; "cli" when unset
)

// consentURLCommand prints an admin- or user-consent URL with a signed state.
//
//	tenantapps consent-url --tenant TENANT_ID --client-id APP_ID --redirect-uri URI
//	    [--method admin|user] [--app-type NAME [--service NAME]] [--profile-id ID]
//	    [--authority URL] [--ttl 15m] [--print-verifier] [--format table|json]
//
// The state is signed with the key in $TENANTAPPS_STATE_KEY (key ID $TENANTAPPS_STATE_KEY_ID).
// With --app-type the method is checked against the app type's consent methods first. --format
// json prints {"method", "url", "state": {"profileId", "tenant", "method", "nonce", "expiresAt"},
// "pkceVerifier"?}; the PKCE verifier of a user-consent URL is a secret needed to redeem the code
// and is printed only with --print-verifier. The redirect URI is used exactly as given: register it
// on the app.
func consentURLCommand() command {
	return command{summary: "print an admin- or user-consent URL with a signed state", run: runConsentURL}
}

type consentURLJSON struct {
	Method       consent.Method   `json:"method"`
	URL          string           `json:"url"`
	State        consentStateJSON `json:"state"`
	PKCEVerifier string           `json:"pkceVerifier,omitempty"`
}

type consentStateJSON struct {
	ProfileID string         `json:"profileId"`
	Tenant    string         `json:"tenant"`
	Method    consent.Method `json:"method"`
	Nonce     string         `json:"nonce"`
	ExpiresAt time.Time      `json:"expiresAt"`
}

func runConsentURL(env *cliEnv, args []string) int {
	fs := newFlagSet(env, "consent-url", fmt.Sprintf("usage: tenantapps consent-url --tenant TENANT_ID --client-id APP_ID --redirect-uri URI [flags]\n\n"+
		"Prints a consent URL with a state signed by the key in $%s.\n\n"+
		"Environment:\n"+
		"  $%-24s the base64 of at least 32 random bytes that sign the state (required)\n"+
		"  $%-24s the key's ID carried in the state (default \"cli\")", envStateKey, envStateKey, envStateKeyID))
	format := formatFlag(fs)
	tenant := fs.String("tenant", "", "the customer's tenant `ID` (GUID, required)")
	clientID := fs.String("client-id", "", "the app's application (client) `ID` (required)")
	redirectURI := fs.String("redirect-uri", "", "the redirect `URI` registered on the app (required)")
	methodFlag := fs.String("method", "admin", "consent `method`: admin or user")
	appType := fs.String("app-type", "", "check the method against this app type `name`")
	service := fs.String("service", "", "the service `name`, with --app-type when it serves several")
	profileID := fs.String("profile-id", "cli", "the app profile `ID` carried in the state")
	authority := fs.String("authority", consent.PublicCloudAuthority, "the Entra ID authority `URL` (national cloud or emulator)")
	graph := fs.String("graph", "", "the Microsoft Graph endpoint `URL` for the default scope (default: the Graph endpoint of --authority's cloud, e.g. https://graph.microsoft.us for https://login.microsoftonline.us)")
	ttl := fs.Duration("ttl", consent.DefaultStateTTL, "how long the state is accepted (1m to 24h)")
	printVerifier := fs.Bool("print-verifier", false, "print the PKCE verifier of a user-consent URL (a secret)")
	catalogs := catalogFlag(fs)
	if code, ok := parseCommon(env, fs, args, format, commonOpts{noArgs: true}); !ok {
		return code
	}
	usageErr := func(msg string, a ...any) int { return usageError(env, fs, msg, a...) }
	for _, f := range []struct{ name, value string }{{"--tenant", *tenant}, {"--client-id", *clientID}, {"--redirect-uri", *redirectURI}} {
		if strings.TrimSpace(f.value) == "" {
			return usageErr("%s is required", f.name)
		}
	}
	tenantID, err := appprofile.NormalizeTenantID(*tenant)
	if err != nil {
		return usageErr("--tenant: %v", err)
	}
	*tenant = tenantID
	method, err := consent.ParseMethod(*methodFlag)
	if err != nil {
		return usageErr("--method: %v", err)
	}
	if *appType != "" {
		cat, err := loadCatalog(*catalogs)
		if err != nil {
			return usageErr("%v", err)
		}
		if _, err := consent.NewRulebook(cat).PolicyFor(consent.Target{AppType: *appType, Service: *service}, method); err != nil {
			return usageErr("--app-type: %v", err)
		}
	}
	key, err := stateKeyFromEnv(env)
	if err != nil {
		return usageErr("%v", err)
	}
	codec, err := consent.NewStateCodec(key, consent.WithStateTTL(*ttl))
	if err != nil {
		return usageErr("%v", err)
	}
	encoded, st, err := codec.Issue(consent.State{ProfileID: *profileID, Tenant: *tenant, Method: method})
	if err != nil {
		return usageErr("%v", err)
	}
	b := consent.URLBuilder{AuthorityHost: *authority, GraphEndpoint: *graph, RedirectURIs: []string{*redirectURI}}
	out := consentURLJSON{Method: method, State: consentStateJSON{ProfileID: st.ProfileID, Tenant: st.Tenant, Method: st.Method, Nonce: st.Nonce, ExpiresAt: st.ExpiresAt}}
	switch method {
	case consent.AdminConsent:
		u, err := b.AdminConsentURL(consent.AdminConsentRequest{Tenant: st.Tenant, ClientID: *clientID, RedirectURI: *redirectURI, State: encoded})
		if err != nil {
			return usageErr("%v", err)
		}
		out.URL = u.String()
	case consent.UserConsent:
		u, verifier, err := b.UserConsentURL(consent.UserConsentRequest{Tenant: st.Tenant, ClientID: *clientID, RedirectURI: *redirectURI, State: encoded})
		if err != nil {
			return usageErr("%v", err)
		}
		out.URL = u.String()
		if *printVerifier {
			out.PKCEVerifier = string(verifier)
		}
	}
	if *format == "json" {
		err = writeJSON(env.stdout, out)
	} else {
		_, err = fmt.Fprintf(env.stdout, "%s URL (state for profile %s, tenant %s, expires %s):\n%s\n",
			method.Describe(), st.ProfileID, st.Tenant, st.ExpiresAt.UTC().Format(time.RFC3339), out.URL)
		if err == nil && method == consent.UserConsent {
			if out.PKCEVerifier != "" {
				_, err = fmt.Fprintf(env.stdout, "PKCE verifier (secret; needed to redeem the code): %s\n", out.PKCEVerifier)
			} else {
				_, err = fmt.Fprintln(env.stdout, "PKCE verifier withheld; pass --print-verifier to print it.")
			}
		}
	}
	if err != nil {
		fmt.Fprintf(env.stderr, "tenantapps consent-url: %v\n", err)
		return exitNegative
	}
	return exitOK
}

func stateKeyFromEnv(env *cliEnv) (consent.StateKey, error) {
	raw := strings.TrimSpace(env.getenv(envStateKey))
	if raw == "" {
		return consent.StateKey{}, fmt.Errorf("$%s is not set; set it to the base64 of at least 32 random bytes (e.g. openssl rand -base64 32)", envStateKey)
	}
	var secret []byte
	var err error
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if secret, err = enc.DecodeString(raw); err == nil {
			break
		}
	}
	if err != nil {
		return consent.StateKey{}, fmt.Errorf("$%s is not base64; set it to the base64 of at least 32 random bytes", envStateKey)
	}
	id := strings.TrimSpace(env.getenv(envStateKeyID))
	if id == "" {
		id = "cli"
	}
	return consent.StateKey{ID: id, Secret: secret}, nil
}
