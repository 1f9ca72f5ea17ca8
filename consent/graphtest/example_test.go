package graphtest_test

import (
	"fmt"
	"net/http"
	"net/url"

	"github.com/tenantapps/tenantapps/consent/consenttest"
	"github.com/tenantapps/tenantapps/consent/graphtest"
	"github.com/tenantapps/tenantapps/roles"
)

// A test drives admin consent with a plain HTTP client: the tenant auto-accepts as its
// administrator and redirects with Entra's callback parameters; the grant is then real.
func ExampleNewServer() {
	srv := graphtest.NewServer(graphtest.Options{})
	defer srv.Close()

	const (
		vendor   = "33333333-3333-4333-8333-333333333333"
		customer = "11111111-1111-4111-8111-111111111111"
		app      = "aaaaaaaa-0000-4000-8000-000000000001"
		callback = "https://portal.example/consent/callback"
	)
	_ = srv.AddTenant(consenttest.Tenant{ID: vendor, DisplayName: "Vendor"})
	_ = srv.AddTenant(consenttest.Tenant{ID: customer, DisplayName: "Contoso"})
	_ = srv.RegisterApp(consenttest.App{AppID: app, HomeTenantID: vendor, DisplayName: "Backup", RedirectURIs: []string{callback}})
	_ = srv.SetRequiredPermissions(app, graphtest.Permission{ResourceAppID: graphtest.MicrosoftGraphAppID, Kind: graphtest.Application, Value: "User.Read.All"})
	_, _ = srv.AddUser(customer, consenttest.User{UserPrincipalName: "admin@contoso.example", DirectoryRoles: []roles.TemplateID{roles.GlobalAdministrator}})
	_ = srv.SetAutoConsent(customer, "admin@contoso.example")

	client := srv.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	q := url.Values{"client_id": {app}, "redirect_uri": {callback}, "state": {"xyz"}, "scope": {"https://graph.microsoft.com/.default"}}
	resp, err := client.Get(srv.URL + "/" + customer + "/v2.0/adminconsent?" + q.Encode())
	if err != nil {
		fmt.Println(err)
		return
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	fmt.Println(resp.StatusCode, loc.Query().Get("admin_consent"), loc.Query().Get("tenant"), loc.Query().Get("state"))
	_, err = srv.ServicePrincipalID(customer, app)
	fmt.Println("service principal created:", err == nil)
	fmt.Println("consent page requests:", srv.Stats().Total(graphtest.RouteAdminConsent, customer))
	// Output:
	// 302 True 11111111-1111-4111-8111-111111111111 xyz
	// service principal created: true
	// consent page requests: 1
}
