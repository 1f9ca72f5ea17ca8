package integration_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"log/slog"
	"math/big"
	rand2 "math/rand/v2"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/tenantapps/tenantapps/appprofile"
	"github.com/tenantapps/tenantapps/consent"
	"github.com/tenantapps/tenantapps/consent/consenttest"
	"github.com/tenantapps/tenantapps/consent/graph"
	"github.com/tenantapps/tenantapps/consent/graphtest"
	"github.com/tenantapps/tenantapps/internal/benchheap"
	"github.com/tenantapps/tenantapps/permissions"
	"github.com/tenantapps/tenantapps/roles"
	"github.com/tenantapps/tenantapps/store"
	"github.com/tenantapps/tenantapps/store/memstore"
)

const (
	mspTenant = "33333333-3333-4333-8333-333333333333"
	readerApp = "aaaaaaaa-0000-4000-8000-0000000000ff"
	nitroApp  = "aaaaaaaa-0000-4000-8000-0000000017a0"
	redirect  = "https://portal.example/consent/callback"
)

func must(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}

func credential(tb testing.TB) consent.CertificateCredential {
	tb.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	must(tb, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "msp-reader"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	must(tb, err)
	cert, err := x509.ParseCertificate(der)
	must(tb, err)
	return consent.CertificateCredential{Chain: []*x509.Certificate{cert}, Key: key}
}

type world struct {
	srv   *graphtest.Server
	cfg   graph.Config // of drv
	drv   *graph.Driver
	store *memstore.Store
	nitro permissions.AppType
}

func tenantN(i int) string { return fmt.Sprintf("10000000-0000-4000-8000-%012d", i) }

// newWorld starts the emulator with the MSP's reading app consented everywhere and the Nitro app
// registered in the MSP tenant, and a Graph driver reading through it over TLS.
func newWorld(tb testing.TB, opts graphtest.Options, tweak func(*graph.Config)) *world {
	tb.Helper()
	w := &world{srv: graphtest.NewServer(opts), store: memstore.New()}
	tb.Cleanup(w.srv.Close)
	var err error
	w.nitro, err = permissions.Default().AppType("APElements Automation")
	must(tb, err)
	reader := credential(tb)
	must(tb, w.srv.AddTenant(consenttest.Tenant{ID: mspTenant, DisplayName: "MSP"}))
	must(tb, w.srv.RegisterApp(consenttest.App{AppID: readerApp, HomeTenantID: mspTenant, DisplayName: "MSP reader", Certificates: reader.Chain}))
	must(tb, w.srv.ProvisionEverywhere(readerApp,
		graphtest.Permission{ResourceAppID: graphtest.MicrosoftGraphAppID, Value: "Application.Read.All"},
		graphtest.Permission{ResourceAppID: graphtest.MicrosoftGraphAppID, Value: "Directory.Read.All"},
		graphtest.Permission{ResourceAppID: graphtest.MicrosoftGraphAppID, Value: "RoleManagement.ReadWrite.Directory"},
		graphtest.Permission{ResourceAppID: graphtest.MicrosoftGraphAppID, Value: "AuditLog.Read.All"},
	))
	must(tb, w.srv.RegisterApp(consenttest.App{AppID: nitroApp, HomeTenantID: mspTenant, DisplayName: "APElements Automation", RedirectURIs: []string{redirect}}))
	cfg := graph.Config{ReaderAppID: readerApp, ReaderCredential: reader, AuthorityHost: w.srv.URL, GraphURL: w.srv.GraphURL(), HTTPClient: w.srv.Client(), MaxRetryWait: 2 * time.Second}
	if tweak != nil {
		tweak(&cfg)
	}
	w.cfg = cfg
	w.drv, err = graph.New(cfg)
	must(tb, err)
	return w
}

// addTenants adds tenants and consents Nitro in each (every permission granted unless broken(i)),
// storing one consented profile per tenant with the status that matches the tenant.
func (w *world) addTenants(tb testing.TB, n int, broken func(i int) bool) []string {
	tb.Helper()
	ctx := context.Background()
	var ids []string
	for i := range n {
		tid := tenantN(i)
		must(tb, w.srv.AddTenant(consenttest.Tenant{ID: tid}))
		_, err := w.srv.CreateServicePrincipal(tid, nitroApp)
		must(tb, err)
		isBroken := broken != nil && broken(i)
		for k, p := range w.nitro.Permissions {
			if isBroken && k == 0 {
				continue
			}
			must(tb, w.srv.GrantAppRole(tid, nitroApp, p.ResourceAppID, p.ID))
		}
		status := appprofile.Valid
		if isBroken {
			status = appprofile.Invalid
		}
		p := appprofile.Profile{ID: fmt.Sprintf("p-%05d", i), Customer: "c", Tenant: tid, Services: []string{"Nitro"}, AppType: w.nitro.Name, AppID: nitroApp,
			Mode: appprofile.Modern, Shape: appprofile.ShapeApplicationOnly, Status: status,
			Consent: &appprofile.ConsentRecord{Method: appprofile.AdminConsent, At: time.Now().Add(-48 * time.Hour), CatalogVersion: permissions.Default().Version()}}
		b, err := appprofile.MarshalPayload(p)
		must(tb, err)
		_, err = w.store.Create(ctx, store.Record{ID: p.ID, Tenant: tid, AppType: p.AppType, Status: string(status), Payload: b})
		must(tb, err)
		ids = append(ids, p.ID)
	}
	return ids
}

func (w *world) manager(tb testing.TB, opts ...appprofile.Option) *appprofile.Manager {
	tb.Helper()
	base := []appprofile.Option{appprofile.WithLogger(slog.New(slog.DiscardHandler)),
		appprofile.WithStateKey(bytes.Repeat([]byte{3}, 32)), appprofile.WithRedirectURI(redirect), appprofile.WithAuthority(w.srv.URL),
		appprofile.WithVendorAppIDs(map[string]string{"APElements Automation": nitroApp})}
	m, err := appprofile.New(w.store, w.drv, append(base, opts...)...)
	must(tb, err)
	return m
}

// TestLifecycleOverGraph creates a profile, consents through the emulator's admin consent, and
// verifies reasons after tenant changes, all through MSAL and msgraph-sdk-go over TLS.
func TestLifecycleOverGraph(t *testing.T) {
	w := newWorld(t, graphtest.Options{}, nil)
	ctx := context.Background()
	tid := tenantN(1)
	must(t, w.srv.AddTenant(consenttest.Tenant{ID: tid, DisplayName: "Contoso"}))
	m := w.manager(t)
	ps, err := m.Create(ctx, appprofile.CreateRequest{Customer: "contoso", Tenant: tid, Services: []string{"Nitro"}})
	must(t, err)
	start, err := m.BeginConsent(ctx, ps[0].ID, appprofile.BeginConsentRequest{Consenter: appprofile.Consenter{UserID: "admin"}})
	if err == nil {
		t.Fatal("a consenter without roles got a consent URL")
	}
	ga := appprofile.Consenter{UserID: "ga", Consenter: consent.Consenter{Roles: []roles.TemplateID{roles.GlobalAdministrator}}}
	start, err = m.BeginConsent(ctx, ps[0].ID, appprofile.BeginConsentRequest{Consenter: ga})
	must(t, err)
	// The callback alone proves nothing.
	if _, err := m.CompleteConsent(ctx, appprofile.Callback{State: start.State, Tenant: tid, AdminConsent: "True"}); err == nil {
		t.Fatal("consent accepted without grants in the tenant")
	}
	start, err = m.BeginConsent(ctx, ps[0].ID, appprofile.BeginConsentRequest{Consenter: ga})
	must(t, err)
	_, err = w.srv.CreateServicePrincipal(tid, nitroApp)
	must(t, err)
	for _, p := range w.nitro.Permissions {
		must(t, w.srv.GrantAppRole(tid, nitroApp, p.ResourceAppID, p.ID))
	}
	p, err := m.CompleteConsent(ctx, appprofile.Callback{State: start.State, Tenant: tid, AdminConsent: "True"})
	must(t, err)
	if p.Status != appprofile.Valid {
		t.Fatalf("after consent: %s %+v", p.Status, p.Reasons)
	}
	steps := []struct {
		name   string
		change func() error
		want   appprofile.Status
		code   appprofile.ReasonCode
	}{
		{"grant revoked", func() error {
			return w.srv.RevokeAppRole(tid, nitroApp, w.nitro.Permissions[3].ResourceAppID, w.nitro.Permissions[3].ID)
		}, appprofile.Invalid, appprofile.ReasonGrantMissing},
		{"service principal disabled", func() error { return w.srv.SetServicePrincipalEnabled(tid, nitroApp, false) }, appprofile.Invalid, appprofile.ReasonServicePrincipalOff},
		{"service principal deleted", func() error { return w.srv.DeleteServicePrincipal(tid, nitroApp) }, appprofile.Invalid, appprofile.ReasonServicePrincipalDeleted},
	}
	for _, s := range steps {
		must(t, s.change())
		res, err := m.Verify(ctx, p.ID)
		must(t, err)
		if res.Profile.Status != s.want || len(res.Profile.Reasons) == 0 || res.Profile.Reasons[0].Code != s.code {
			t.Errorf("%s: %s %+v, want %s %s", s.name, res.Profile.Status, res.Profile.Reasons, s.want, s.code)
		}
	}
}

// TestFaultInjectionOverGraph fails 10 % of Graph requests (429, 503, 504, truncated and malformed
// JSON, hung connections) with the driver's own retries off: no profile may change status, and
// the affected ones say could-not-check.
func TestFaultInjectionOverGraph(t *testing.T) {
	rng := rand2.New(rand2.NewPCG(7, 8))
	w := newWorld(t, graphtest.Options{Float64: rng.Float64}, func(c *graph.Config) { c.MaxRetries = -1; c.HTTPClient.Timeout = 2 * time.Second })
	const n = 60
	ids := w.addTenants(t, n, func(i int) bool { return i%4 == 0 })
	for _, k := range []graphtest.FaultKind{graphtest.FaultThrottle, graphtest.FaultUnavailable, graphtest.FaultGatewayTimeout, graphtest.FaultTruncatedJSON, graphtest.FaultMalformedJSON} {
		w.srv.AddFault(graphtest.Fault{Route: "graph.*", Kind: k, Probability: 0.02, RetryAfter: 200 * time.Millisecond})
	}
	w.srv.AddFault(graphtest.Fault{Route: "graph.*", Kind: graphtest.FaultHang, Probability: 0.005, Latency: 300 * time.Millisecond})
	m := w.manager(t, appprofile.WithMaxAttempts(1))
	res, err := m.VerifyAll(context.Background(), store.Filter{}, appprofile.VerifyAllOptions{PageSize: 25})
	must(t, err)
	if res.Done != n || res.Changed != 0 || res.Failed != 0 {
		t.Fatalf("VerifyAll = %+v %v", res.Progress, res.Errors)
	}
	if res.CouldNotCheck == 0 {
		t.Errorf("no profile was affected by the faults: %+v (faults fired: %v)", res.Progress, w.srv.Stats().Faults)
	}
	cnc := 0
	for i, id := range ids {
		p, err := m.Get(context.Background(), id)
		must(t, err)
		want := appprofile.Valid
		if i%4 == 0 {
			want = appprofile.Invalid
		}
		if p.Status != want {
			t.Errorf("%s: status %s, want %s (check %+v)", id, p.Status, want, p.LastCheck)
		}
		if p.LastCheck.Outcome == appprofile.CouldNotCheck {
			cnc++
		}
	}
	if cnc != res.CouldNotCheck {
		t.Errorf("%d profiles say could-not-check, VerifyAll counted %d", cnc, res.CouldNotCheck)
	}
	t.Logf("%+v, faults fired %v", res.Progress, w.srv.Stats().Faults)
}

// BenchmarkVerifyAll verifies 10,000 profiles in 2,000 tenants (5 app profiles per tenant) on
// graphtest with 20 ms latency on every request, through MSAL and msgraph-sdk-go over TLS, with
// the emulator in the same process. Every iteration starts cold: a new driver, so every tenant
// costs its token again.
//
// Sub-benchmarks set the Manager's rate budget: rate=1000 is the configured budget the targets
// are checked at (1,000 profile reads per second — about 3,400 Graph requests a second counting
// $batch items, a quarter of Graph's per-app global limit — what this benchmark's 2-core machine
// sustains with the emulator sharing its CPU); rate=unlimited shows the machine's ceiling.
//
// Metrics: graphreq/profile (Graph round trips + token requests per profile), tokenreq/tenant,
// x-ideal (wall time ÷ the ideal: max(profiles ÷ rate, round trips × latency ÷ workers)),
// retryafter-violations (requests the emulator saw inside a Retry-After it announced),
// peak-heap-MB (whole process, emulator and store included), heap-growth-MB (the peak over the
// heap in use before the run) and profiles/s.
func BenchmarkVerifyAll(b *testing.B) {
	tenants := 2000
	if n, err := strconv.Atoi(os.Getenv("TENANTAPPS_BENCH_TENANTS")); err == nil && n > 0 {
		tenants = n // for quick local runs; BENCHMARKS.md numbers use 2,000
	}
	const (
		perTenant = 5
		latency   = 20 * time.Millisecond
		workers   = 128
	)
	w := newWorld(b, graphtest.Options{}, func(c *graph.Config) {
		c.MaxConcurrentPerTenant = 2
		// Keep a connection per worker: Go's default of 2 idle connections per host turns every
		// other request into a new TLS handshake at this concurrency.
		tr := c.HTTPClient.Transport.(*http.Transport).Clone()
		tr.MaxIdleConns, tr.MaxIdleConnsPerHost = 2*workers, 2*workers
		c.HTTPClient = &http.Client{Transport: tr, Timeout: c.HTTPClient.Timeout}
	})
	apps := make([]string, perTenant)
	for j := range perTenant {
		apps[j] = fmt.Sprintf("aaaaaaaa-0000-4000-8000-%012d", 100+j)
		must(b, w.srv.RegisterApp(consenttest.App{AppID: apps[j], HomeTenantID: mspTenant, DisplayName: "app"}))
	}
	ctx := context.Background()
	for i := range tenants {
		tid := tenantN(i)
		must(b, w.srv.AddTenant(consenttest.Tenant{ID: tid}))
		for j, app := range apps {
			_, err := w.srv.CreateServicePrincipal(tid, app)
			must(b, err)
			for _, p := range w.nitro.Permissions {
				must(b, w.srv.GrantAppRole(tid, app, p.ResourceAppID, p.ID))
			}
			p := appprofile.Profile{ID: fmt.Sprintf("p-%05d-%d", i, j), Tenant: tid, AppType: w.nitro.Name, AppID: app, Mode: appprofile.Modern,
				Shape: appprofile.ShapeApplicationOnly, Status: appprofile.Valid,
				Consent: &appprofile.ConsentRecord{Method: appprofile.AdminConsent, At: time.Now().Add(-48 * time.Hour), CatalogVersion: permissions.Default().Version()}}
			pb, err := appprofile.MarshalPayload(p)
			must(b, err)
			_, err = w.store.Create(ctx, store.Record{ID: p.ID, Tenant: tid, AppType: p.AppType, Status: string(p.Status), Payload: pb})
			must(b, err)
		}
	}
	w.srv.AddFault(graphtest.Fault{Kind: graphtest.FaultLatency, Latency: latency})
	for _, rate := range []float64{1000, 0} {
		name := fmt.Sprintf("rate=%g", rate)
		if rate == 0 {
			name = "rate=unlimited"
		}
		b.Run(name, func(b *testing.B) {
			var wall time.Duration
			var peak, base float64
			var st graphtest.Stats
			for range b.N {
				b.StopTimer()
				var err error
				w.drv, err = graph.New(w.cfg) // cold: no tokens, no resource cache
				must(b, err)
				m := w.manager(b, appprofile.WithWorkers(workers), appprofile.WithTenantConcurrency(2),
					appprofile.WithRateLimit(appprofile.RateLimit{PerSecond: rate, Burst: workers}))
				w.srv.ResetStats()
				runtime.GC()
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				base = float64(ms.HeapInuse) / (1 << 20)
				b.StartTimer()
				stop := make(chan struct{})
				peakc := benchheap.Peak(stop, 20*time.Millisecond)
				start := time.Now()
				res, err := m.VerifyAll(ctx, store.Filter{}, appprofile.VerifyAllOptions{PageSize: 1000})
				wall += time.Since(start)
				close(stop)
				peak = max(peak, <-peakc)
				if err != nil || res.Checked != tenants*perTenant {
					b.Fatalf("VerifyAll = %+v %v %v", res.Progress, err, res.Errors)
				}
				st = w.srv.Stats()
			}
			graphReqs := float64(st.GraphRoundTrips("*"))
			tokens := float64(st.Total(graphtest.RouteToken, "*"))
			violations := 0
			for _, v := range st.InsideRetryAfter {
				violations += v
			}
			profiles := float64(tenants * perTenant)
			perRun := wall.Seconds() / float64(b.N)
			// The ideal: the rate budget counts profile reads (a batched read of n profiles costs
			// n); the concurrency bound runs workers round trips of latency each at once.
			ideal := (graphReqs + tokens) * latency.Seconds() / workers
			if rate > 0 {
				ideal = max(ideal, profiles/rate)
			}
			b.ReportMetric((graphReqs+tokens)/profiles, "graphreq/profile")
			b.ReportMetric(tokens/float64(tenants), "tokenreq/tenant")
			b.ReportMetric(perRun/ideal, "x-ideal")
			b.ReportMetric(float64(violations), "retryafter-violations")
			b.ReportMetric(peak, "peak-heap-MB")
			b.ReportMetric(peak-base, "heap-growth-MB")
			b.ReportMetric(profiles/perRun, "profiles/s")
			for _, r := range st.Routes() {
				b.Logf("route %s: %d requests", r, st.Total(r, "*"))
			}
		})
	}
}
