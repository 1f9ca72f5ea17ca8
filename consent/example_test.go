package consent_test

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/tenantapps/tenantapps/consent"
	"github.com/tenantapps/tenantapps/permissions"
	"github.com/tenantapps/tenantapps/roles"
)

func ExampleMethods() {
	for _, appType := range []string{"APElements Baseline Management", "Cloud Backup Express", "Custom app with delegated permissions"} {
		methods, err := consent.Methods(appType)
		fmt.Println(appType, methods, err)
	}
	// Output:
	// APElements Baseline Management [admin] <nil>
	// Cloud Backup Express [admin user] <nil>
	// Custom app with delegated permissions [admin user] <nil>
}

func ExampleEvaluate() {
	// A Global Administrator wants to consent to the Viva Engage app used by Cloud Backup.
	d, err := consent.Evaluate(
		consent.Target{AppType: "Viva Engage", Service: "Cloud Backup for Microsoft 365"},
		consent.AdminConsent,
		consent.Consenter{Roles: []roles.TemplateID{roles.GlobalAdministrator}, VivaEngageVerifiedAdmin: true},
		consent.TenantFacts{},
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("allowed:", d.Allowed)
	for _, m := range d.Missing {
		fmt.Println("-", m)
	}
	// Output:
	// allowed: false
	// - the consenting account needs the Yammer Administrator role
	// - the consenting account needs a Viva Engage licence
}

func ExampleEvaluate_userConsent() {
	d, _ := consent.Evaluate(
		consent.Target{AppType: "Insights for Power Platform"},
		consent.UserConsent,
		consent.Consenter{Licenses: []consent.License{consent.LicensePowerBI}},
		consent.TenantFacts{AdminConsentGranted: true, Scans: []consent.ScanObject{consent.ScanPowerBI, consent.ScanEnvironments}},
	)
	fmt.Println(d.Err())
	// Output:
	// consent: account not eligible to consent: User consent to "Insights for Power Platform" (Insights) is not possible yet: when the profile scans Environments, Connections, Power Apps, Solutions, Power Automate or Copilot Studio objects, the consenting account needs the Power Platform Administrator role — assign the role in the Microsoft Entra admin center (Identity > Roles & admins) to the consenting account, or consent with an account that has it; when the profile scans Power BI objects, the consenting account needs the Fabric Administrator role — assign the role in the Microsoft Entra admin center (Identity > Roles & admins) to the consenting account, or consent with an account that has it
}

func ExamplePolicyFor() {
	p, _ := consent.PolicyFor(consent.Target{AppType: "AvePoint Portal Manager"}, consent.AdminConsent)
	for _, r := range p.Requirements {
		fmt.Println(r.Rule, "→", r)
	}
	// Output:
	// admin/portal-manager → the consenting account needs one of: Global Administrator; Privileged Role Administrator + Teams Administrator
}

// nonceLedger stands in for the store's ConsumeNonce: it remembers consumed nonces until they
// expire and refuses a second use.
type nonceLedger struct {
	mu   sync.Mutex
	used map[string]time.Time
}

var errReplayed = errors.New("nonce already used")

func (l *nonceLedger) ConsumeNonce(nonce string, expiresAt time.Time) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.used[nonce]; ok {
		return errReplayed
	}
	l.used[nonce] = expiresAt
	return nil
}

func ExampleStateCodec_VerifyCallback() {
	now := time.Date(2026, 11, 25, 4, 0, 0, 0, time.UTC)
	codec, err := consent.NewStateCodec(
		consent.StateKey{ID: "2026-11", Secret: []byte("0123456789abcdef0123456789abcdef")}, // from a secret store
		consent.WithStateClock(func() time.Time { return now }),
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	const tenant = "0b1f6c2e-8f0a-4a4e-9d2b-6c1d2e3f4a5b"
	state, _, _ := codec.Issue(consent.State{ProfileID: "profile-42", Tenant: tenant, Method: consent.AdminConsent})

	b := consent.URLBuilder{RedirectURIs: []string{"https://portal.example/consent/callback"}}
	u, _ := b.AdminConsentURL(consent.AdminConsentRequest{
		Tenant: tenant, ClientID: "6f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b",
		RedirectURI: "https://portal.example/consent/callback", State: state,
	})
	fmt.Println(u.Path)

	// Microsoft redirects back; the browser may deliver the same callback twice.
	callback := "https://portal.example/consent/callback?admin_consent=True&tenant=" + tenant + "&state=" + url.QueryEscape(state)
	ledger := &nonceLedger{used: map[string]time.Time{}}
	for i := 0; i < 2; i++ {
		cu, _ := url.Parse(callback)
		cb, err := consent.ParseCallbackURL(cu)
		if err != nil {
			fmt.Println(err)
			continue
		}
		st, err := codec.VerifyCallback(cb)
		if err != nil {
			fmt.Println(err)
			continue
		}
		if err := ledger.ConsumeNonce(st.Nonce, st.ExpiresAt); err != nil {
			fmt.Println("rejected:", err)
			continue
		}
		fmt.Println("consent completed for", st.ProfileID, "in", st.Tenant)
	}
	// Output:
	// /0b1f6c2e-8f0a-4a4e-9d2b-6c1d2e3f4a5b/v2.0/adminconsent
	// consent completed for profile-42 in 0b1f6c2e-8f0a-4a4e-9d2b-6c1d2e3f4a5b
	// rejected: nonce already used
}

func ExampleParseCallback() {
	q, _ := url.ParseQuery("admin_consent=True&error=consent_required&error_description=AADSTS65004%3a+The+resource+owner+or+authorization+server+denied+the+request.%0d%0aTrace+ID%3a+0d5f&state=abc")
	cb, err := consent.ParseCallback(q)
	fmt.Println(cb.State, errors.Is(err, consent.ErrConsentDeclined))
	var ae *consent.AADSTSError
	if errors.As(err, &ae) {
		fmt.Println(ae.Code, ae.Remediation())
	}
	// Output:
	// abc true
	// 65004 the account declined the consent prompt; start consent again and accept the requested permissions
}

func ExampleErrorFromAADSTS() {
	// A token-endpoint error body, as the Graph driver receives it.
	err := consent.ErrorFromAADSTS("unauthorized_client", "AADSTS700016: Application with identifier '6f1e2d3c' was not found in the directory 'Contoso'.\r\nTrace ID: 1")
	fmt.Println(errors.Is(err, consent.ErrAppNotInTenant))
	fmt.Println(strings.SplitN(err.Error(), "; ", 2)[0])
	// Output:
	// true
	// consent: Microsoft Entra ID AADSTS700016 (unauthorized_client): Application with identifier '6f1e2d3c' was not found in the directory 'Contoso'
}

func ExampleURLBuilder_UserConsentURL() {
	b := consent.URLBuilder{
		AuthorityHost: consent.USGovernmentAuthority,
		GraphEndpoint: consent.USGovernmentGraph,
		RedirectURIs:  []string{"https://portal.example/consent/callback"},
	}
	u, verifier, err := b.UserConsentURL(consent.UserConsentRequest{
		Tenant: "0b1f6c2e-8f0a-4a4e-9d2b-6c1d2e3f4a5b", ClientID: "6f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b",
		RedirectURI: "https://portal.example/consent/callback", State: "signed-state",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	q := u.Query()
	fmt.Println(u.Host, q.Get("prompt"), q.Get("response_type"), q.Get("code_challenge_method"), q.Get("scope"))
	fmt.Println(verifier) // redacted; keep string(verifier) server-side for the code redemption
	// Output:
	// login.microsoftonline.us consent code S256 openid profile offline_access https://graph.microsoft.us/.default
	// [redacted PKCE verifier]
}

func ExampleUserConsentTable() {
	rows := consent.UserConsentTable()
	fmt.Println(len(rows), "rows")
	last := rows[len(rows)-1]
	fmt.Println(last.AppType, "—", len(last.Services), "services")
	// Output:
	// 22 rows
	// Custom Azure app with delegated permissions — 9 services
}

// An MSP's own app type, declared in its catalog file with its own consent rule, is checked by
// that rule: here only a Global Administrator may consent, although a Privileged Role
// Administrator may consent to AvePoint's apps.
func ExampleNewRulebook() {
	data, err := os.ReadFile("../permissions/testdata/overlay/acme.json")
	if err != nil {
		fmt.Println(err)
		return
	}
	cat, err := permissions.Overlay(permissions.Default(), permissions.OverlayFile{Name: "acme.json", Data: data})
	if err != nil {
		fmt.Println(err)
		return
	}
	rules := consent.NewRulebook(cat)
	pra := consent.Consenter{Roles: []roles.TemplateID{roles.PrivilegedRoleAdministrator}}
	for _, app := range []string{"Acme MSP Automation", "MyHub"} {
		d, err := rules.Evaluate(consent.Target{AppType: app}, consent.AdminConsent, pra, consent.TenantFacts{})
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%s: allowed=%t %v\n", app, d.Allowed, d.Missing)
	}
	methods, _ := rules.Methods("Acme MSP Automation")
	fmt.Println(methods)
	// Output:
	// Acme MSP Automation: allowed=false [the consenting account needs the Global Administrator role]
	// MyHub: allowed=true []
	// [admin user]
}

// ExampleWhoMayConsent: pages and commands say who may consent in the words of the rules that
// Evaluate checks.
func ExampleWhoMayConsent() {
	who, _ := consent.WhoMayConsent(consent.Target{AppType: "APElements Automation"}, consent.AdminConsent)
	fmt.Println(who)
	who, _ = consent.WhoMayConsent(consent.Target{AppType: "Fly App"}, consent.AdminConsent)
	fmt.Println(who)
	// Output:
	// the consenting account needs the Global Administrator role
	// the consenting account needs one of: Global Administrator; Privileged Role Administrator
}
