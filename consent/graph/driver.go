package graph

import (
	"cmp"
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/cache"
	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"
	"github.com/google/uuid"
	absauth "github.com/microsoft/kiota-abstractions-go/authentication"
	khttp "github.com/microsoft/kiota-http-go"
	jsonser "github.com/microsoft/kiota-serialization-json-go"
	msgraphgocore "github.com/microsoftgraph/msgraph-sdk-go-core"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/tenantapps/tenantapps/consent"
	"github.com/tenantapps/tenantapps/consent/internal/tokenscope"
	"github.com/tenantapps/tenantapps/permissions"
)

// Defaults of Config.
const (
	DefaultAuthorityHost = "https://login.microsoftonline.com"
	DefaultGraphURL      = "https://graph.microsoft.com/v1.0"
	DefaultGraphScope    = "https://graph.microsoft.com/.default"
)

// Config configures a Driver. ReaderAppID and ReaderCredential are required.
type Config struct {
	// ReaderAppID is the client ID of the driver's reading identity: the MSP's multi-tenant app
	// that every customer tenant has consented to with the Microsoft Graph application
	// permissions ReaderPermissions lists (Directory.Read.All, AuditLog.Read.All,
	// Policy.Read.All; RoleManagement.ReadWrite.Directory to assign roles); ReaderReads maps
	// each Graph request to the permission Microsoft documents for it. Every Graph read runs as
	// this app with an app-only token for the customer's tenant; a missing permission is
	// consent.ErrForbidden (could not check).
	ReaderAppID string
	// ReaderCredential authenticates ReaderAppID: its certificate chain (leaf first) and the
	// leaf's RSA private key.
	ReaderCredential consent.CertificateCredential
	// AppCredentials returns the credential of an app whose authorization codes the driver
	// redeems (RedeemCode without CodeRedemption.Credential). Nil: such calls fail with
	// consent.ErrInvalidArgument.
	AppCredentials func(appID string) (consent.CertificateCredential, bool)

	// AuthorityHost is the Entra ID host: DefaultAuthorityHost, a national cloud
	// ("https://login.microsoftonline.us"), or graphtest.Server.URL. Must be https.
	AuthorityHost string
	// GraphURL is the Graph base URL including the version: DefaultGraphURL, a national cloud,
	// or graphtest.Server.GraphURL(). Empty: the Graph endpoint of AuthorityHost's cloud
	// (consent.GraphEndpointFor), DefaultGraphURL for any other authority.
	GraphURL string
	// GraphScope is the scope of app-only Graph tokens; DefaultGraphScope. National clouds use
	// their Graph host, e.g. "https://graph.microsoft.us/.default"; empty: that of AuthorityHost's
	// cloud, as for GraphURL.
	GraphScope string
	// ARMURL is the Azure Resource Manager endpoint (AzureRoleAssignments): DefaultARMURL, a
	// national cloud, or graphtest.Server.ARMURL(). ARMScope is its token scope,
	// DefaultARMScope by default.
	ARMURL   string
	ARMScope string
	// HTTPClient carries every request (MSAL and Graph). Its Transport is wrapped with the Graph
	// middleware (retry, compression, telemetry) for Graph, and for MSAL with a layer that lets
	// delegated "<resource>/.default" token responses through MSAL's declined-scope check (see
	// the package documentation). Default: a client with a 60 s timeout.
	HTTPClient *http.Client

	// MaxConcurrentPerTenant bounds the driver's concurrent operations per tenant, to stay in
	// Graph's per-app-per-tenant throttling budget. Default 4.
	MaxConcurrentPerTenant int
	// MaxRetries is how many times a request (or a $batch item) answered 429, 503 or 504 is
	// retried. Default 2; negative disables retries.
	MaxRetries int
	// MaxRetryWait is the longest Retry-After the driver waits for before a retry; a longer one
	// is returned at once as consent.ErrThrottled with RetryAfter set. Default 10 s.
	MaxRetryWait time.Duration
	// KnownResourceAppIDs are the resource APIs (appIds) whose service principals the driver looks
	// up, in the same $batch, the first time it reads an app in a tenant, so that mapping grants to
	// resource appIds needs no second round trip. Default: every resource of
	// permissions.Default(). Grants on other resources are still resolved, with one more
	// $batch. An empty non-nil slice turns the lookup off. At most 15 values are used (the rest
	// of the 20-item $batch is the app's own reads).
	KnownResourceAppIDs []string
	// ReaderIdle is how long a tenant's reading client — its MSAL client with the tenant's tokens,
	// and the tenant's resource lookups — is kept unused (2 hours by default: about a token's
	// lifetime). With SharedTokenCache a few minutes keep a fleet replica's memory flat: a client
	// made again reloads its token from the shared cache instead of asking Entra. Sweeps do not
	// wait for it: they release each tenant when done (ReleaseTenant, consent.TenantReleaser).
	ReaderIdle time.Duration
	// MaxReaders bounds the tenants' reading clients kept at once (1,024 by default, a few KB
	// each with the tenant's tokens and resource lookups): past it the least recently used are
	// dropped, so a driver that reads a large fleet faster than ReaderIdle lets clients go still
	// holds at most this many. A dropped client is made again on the tenant's next call (its
	// token then comes from SharedTokenCache when set, else from Entra).
	MaxReaders int
	// TenantSizing makes TenantUserCount read each tenant's user count (one request per tenant,
	// cached by the Manager), so that the Manager sizes the tenant's RU bucket as Graph does; off,
	// every tenant gets the smallest bucket (3,500 RU per 10 s), ample for verification reads.
	TenantSizing bool
	// SharedTokenCache, when set, backs each tenant's reading client's MSAL cache (one
	// partition per tenant), so that every replica sharing it uses one token per tenant for its
	// lifetime. Use appprofile.NewSharedTokenCache over the store (sealed with the Sealer).
	SharedTokenCache consent.SharedTokenCache
	// TracerProvider and MeterProvider receive the driver's OpenTelemetry spans ($batch, token)
	// and metrics; the global providers (otel.GetTracerProvider, otel.GetMeterProvider) when nil.
	TracerProvider trace.TracerProvider
	MeterProvider  metric.MeterProvider
	// Logger receives debug records of retries; nil discards them. Tokens, certificates and
	// codes are never logged.
	Logger *slog.Logger
}

// Driver is the Microsoft Graph implementation of consent.Driver and its optional interfaces.
// It is safe for concurrent use. Create it with New.
//
// Token handling: the reading app has one MSAL confidential client per tenant, each with MSAL's
// in-memory cache, so a tenant costs one token request per token lifetime (about an hour) however
// many checks run at once. Graph calls go through msgraph-sdk-go's request
// adapter with the Graph middleware on Config.HTTPClient; reads that need several resources use
// one $batch round trip.
type Driver struct {
	cfg        Config
	msalHTTP   *http.Client // Config.HTTPClient with tokenscope.Transport, for MSAL
	readerCred confidential.Credential
	adapter    *msgraphgocore.GraphRequestAdapterBase
	graphHost  string
	log        *slog.Logger
	tel        telemetry

	semMu sync.Mutex
	sems  map[string]*tenantSem // only tenants with a call in flight or waiting (see acquire)

	readersMu sync.Mutex
	readers   map[string]*tenantReader // lower-case tenant ID -> its reading client
	created   int                      // readers created, for the idle sweep
	swept     time.Time                // last idle sweep

	resMu     sync.Mutex
	resources map[string]map[string]string // tenant -> resource SP object id -> appId
}

var (
	_ consent.Driver              = (*Driver)(nil)
	_ consent.AppStatesReader     = (*Driver)(nil)
	_ consent.RoleAssigner        = (*Driver)(nil)
	_ consent.KeyCredentialReader = (*Driver)(nil)
	_ consent.CertificateProver   = (*Driver)(nil)
	_ consent.CodeRedeemer        = (*Driver)(nil)
	_ consent.UserStateReader     = (*Driver)(nil)
	_ consent.SignInReader        = (*Driver)(nil)
)

// UnsupportedKeyError reports a certificate credential whose private key MSAL Go cannot sign
// client assertions with: Entra accepts RSA certificates for client assertions and MSAL Go
// signs with RSA only. It wraps consent.ErrInvalidArgument.
type UnsupportedKeyError struct {
	// KeyType is the Go type of the key, e.g. "*ecdsa.PrivateKey".
	KeyType string
}

func (e *UnsupportedKeyError) Error() string {
	return fmt.Sprintf("graph: the certificate's private key is %s; Entra client assertions need an RSA key: create the certificate with an RSA 2048+ key and upload it again", e.KeyType)
}

func (e *UnsupportedKeyError) Unwrap() error { return consent.ErrInvalidArgument }

// New validates cfg and builds a Driver. It does no I/O. Errors wrap consent.ErrInvalidArgument
// (an *UnsupportedKeyError for a non-RSA key).
func New(cfg Config) (*Driver, error) {
	if _, err := uuid.Parse(cfg.ReaderAppID); err != nil {
		return nil, fmt.Errorf("graph: Config.ReaderAppID %q is not a GUID: %w", cfg.ReaderAppID, consent.ErrInvalidArgument)
	}
	if cfg.AuthorityHost == "" {
		cfg.AuthorityHost = DefaultAuthorityHost
	}
	cfg.AuthorityHost = strings.TrimSuffix(cfg.AuthorityHost, "/")
	if u, err := url.Parse(cfg.AuthorityHost); err != nil || u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("graph: Config.AuthorityHost %q must be an https URL (MSAL refuses others): %w", cfg.AuthorityHost, consent.ErrInvalidArgument)
	}
	// A national cloud's authority implies its Graph endpoint ("Microsoft Graph national cloud
	// deployments", https://learn.microsoft.com/graph/deployments); GraphURL and GraphScope,
	// when set, win. Any other authority (an emulator) keeps the global service's defaults.
	cloudGraph, knownCloud := consent.GraphEndpointFor(cfg.AuthorityHost)
	if cfg.GraphURL == "" {
		cfg.GraphURL = DefaultGraphURL
		if knownCloud {
			cfg.GraphURL = cloudGraph + "/v1.0"
		}
	}
	cfg.GraphURL = strings.TrimSuffix(cfg.GraphURL, "/")
	gu, err := url.Parse(cfg.GraphURL)
	if err != nil || gu.Scheme != "https" || gu.Host == "" {
		return nil, fmt.Errorf("graph: Config.GraphURL %q must be an https URL: %w", cfg.GraphURL, consent.ErrInvalidArgument)
	}
	if cfg.GraphScope == "" {
		cfg.GraphScope = DefaultGraphScope
		if knownCloud {
			cfg.GraphScope = cloudGraph + "/.default"
		}
	}
	if cfg.ARMURL == "" {
		cfg.ARMURL = DefaultARMURL
	}
	cfg.ARMURL = strings.TrimSuffix(cfg.ARMURL, "/")
	if u, err := url.Parse(cfg.ARMURL); err != nil || u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("graph: Config.ARMURL %q must be an https URL: %w", cfg.ARMURL, consent.ErrInvalidArgument)
	}
	if cfg.ARMScope == "" {
		cfg.ARMScope = DefaultARMScope
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 60 * time.Second}
	}
	if cfg.KnownResourceAppIDs == nil {
		for _, r := range permissions.Default().Resources() {
			cfg.KnownResourceAppIDs = append(cfg.KnownResourceAppIDs, r.AppID)
		}
	}
	cfg.KnownResourceAppIDs = cfg.KnownResourceAppIDs[:min(len(cfg.KnownResourceAppIDs), 15):min(len(cfg.KnownResourceAppIDs), 15)]
	for _, id := range cfg.KnownResourceAppIDs {
		if _, err := uuid.Parse(id); err != nil {
			return nil, fmt.Errorf("graph: Config.KnownResourceAppIDs: %q is not an appId (GUID): %w", id, consent.ErrInvalidArgument)
		}
	}
	if cfg.ReaderIdle <= 0 {
		cfg.ReaderIdle = readerIdle
	}
	if cfg.MaxReaders <= 0 {
		cfg.MaxReaders = maxReaders
	}
	if cfg.MaxConcurrentPerTenant <= 0 {
		cfg.MaxConcurrentPerTenant = 4
	}
	if cfg.MaxRetries == 0 {
		cfg.MaxRetries = 2
	}
	if cfg.MaxRetries < 0 {
		cfg.MaxRetries = 0
	}
	if cfg.MaxRetryWait <= 0 {
		cfg.MaxRetryWait = 10 * time.Second
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	d := &Driver{cfg: cfg, graphHost: gu.Host, log: log, tel: newTelemetry(cfg.TracerProvider, cfg.MeterProvider), sems: map[string]*tenantSem{}, resources: map[string]map[string]string{},
		readers: map[string]*tenantReader{}}

	// MSAL: our http.Client with the ".default" layer (see tokenscope.Transport).
	msalParent := cfg.HTTPClient.Transport
	if msalParent == nil {
		msalParent = http.DefaultTransport
	}
	d.msalHTTP = &http.Client{Transport: &tokenscope.Transport{Next: msalParent}, Timeout: cfg.HTTPClient.Timeout,
		CheckRedirect: cfg.HTTPClient.CheckRedirect, Jar: cfg.HTTPClient.Jar}

	d.readerCred, err = msalCredential(cfg.ReaderCredential)
	if err != nil {
		return nil, fmt.Errorf("graph: Config.ReaderCredential: %w (%w)", err, consent.ErrInvalidArgument)
	}
	// The authority is checked here, once; each tenant's reading client is made on first use.
	if _, err := d.newClient(cfg.ReaderAppID, "organizations", d.readerCred, nil); err != nil {
		return nil, err
	}

	// Graph: our http.Client with the Graph middleware; retries bounded by MaxRetries and
	// MaxRetryWait.
	// Request bodies are not gzip-compressed (Kiota's default): our only bodies are $batch and
	// role-assignment POSTs of a few KB, and each compression allocated a fresh ~1 MB deflate
	// state — at fleet scale that was most of the driver's allocations and a tenth of its CPU.
	retry := &khttp.RetryHandlerOptions{MaxRetries: max(cfg.MaxRetries, 1), ShouldRetry: d.shouldRetry}
	kiotaMW, err := khttp.GetDefaultMiddlewaresWithOptions(retry, khttp.NewCompressionOptionsReference(false))
	if err != nil {
		return nil, fmt.Errorf("graph: building the Graph middleware: %w", err)
	}
	opts := msgraphgocore.GraphClientOptions{GraphServiceVersion: "v1.0", GraphServiceLibraryVersion: "tenantapps"}
	mw := append([]khttp.Middleware{msgraphgocore.NewGraphTelemetryHandler(&opts)}, kiotaMW...)
	parent := cfg.HTTPClient.Transport
	if parent == nil {
		parent = http.DefaultTransport
	}
	graphClient := &http.Client{
		Transport:     khttp.NewCustomTransportWithParentTransport(priorityTransport{next: parent}, mw...),
		Timeout:       cfg.HTTPClient.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Jar:           cfg.HTTPClient.Jar,
	}
	hosts, err := absauth.NewAllowedHostsValidatorErrorCheck([]string{gu.Hostname()})
	if err != nil {
		return nil, fmt.Errorf("graph: Config.GraphURL %q: %v: %w", cfg.GraphURL, err, consent.ErrInvalidArgument)
	}
	auth := absauth.NewBaseBearerTokenAuthenticationProvider(&tokenProvider{d: d, hosts: *hosts})
	d.adapter, err = msgraphgocore.NewGraphRequestAdapterBaseWithParseNodeFactoryAndSerializationWriterFactoryAndHttpClient(
		auth, opts, jsonser.NewJsonParseNodeFactory(), jsonser.NewJsonSerializationWriterFactory(), graphClient)
	if err != nil {
		return nil, fmt.Errorf("graph: building the Graph request adapter: %w", err)
	}
	d.adapter.SetBaseUrl(cfg.GraphURL)
	return d, nil
}

// shouldRetry bounds Kiota's retry handler: GETs only (a retried POST loses its compressed
// body in kiota-http-go v1.5.4, so runBatch retries $batch itself), at most MaxRetries, never a
// wait above MaxRetryWait.
func (d *Driver) shouldRetry(delay time.Duration, n int, req *http.Request, resp *http.Response) bool {
	ok := req.Method == http.MethodGet && n <= d.cfg.MaxRetries && delay <= d.cfg.MaxRetryWait
	if ok && resp != nil {
		d.log.Debug("graph: retrying", "status", resp.StatusCode, "attempt", n, "delay", delay, "path", req.URL.Path)
	}
	return ok
}

// newClient builds an MSAL confidential client for appID against tenant ("organizations" for a
// client used with WithTenantID per call).
func (d *Driver) newClient(appID, tenant string, cred confidential.Credential, c cache.ExportReplace) (confidential.Client, error) {
	opts := []confidential.Option{
		confidential.WithHTTPClient(d.msalHTTP),
		confidential.WithInstanceDiscovery(false),
	}
	if c != nil {
		opts = append(opts, confidential.WithCache(c))
	}
	client, err := confidential.New(d.cfg.AuthorityHost+"/"+tenant, appID, cred, opts...)
	if err != nil {
		return confidential.Client{}, fmt.Errorf("graph: creating the MSAL client for app %s: %v: %w", appID, err, consent.ErrInvalidArgument)
	}
	return client, nil
}

// msalCredential turns a certificate credential into an MSAL credential: MSAL signs the
// assertion itself (PS256, x5t#S256) for *rsa.PrivateKey; other RSA crypto.Signers (HSM, KMS)
// sign through an assertion callback; non-RSA keys give *UnsupportedKeyError.
func msalCredential(c consent.CertificateCredential) (confidential.Credential, error) {
	leaf := c.Leaf()
	if leaf == nil || c.Key == nil {
		return confidential.Credential{}, fmt.Errorf("a certificate chain and a private key are required: %w", consent.ErrInvalidArgument)
	}
	pub, ok := c.Key.Public().(*rsa.PublicKey)
	if !ok {
		return confidential.Credential{}, &UnsupportedKeyError{KeyType: fmt.Sprintf("%T", c.Key)}
	}
	if lp, ok := leaf.PublicKey.(*rsa.PublicKey); !ok || !lp.Equal(pub) {
		return confidential.Credential{}, fmt.Errorf("the private key does not belong to the certificate %q (the tenant was not contacted); supply the .pfx that holds both: %w", leaf.Subject.String(), consent.ErrInvalidCredential)
	}
	if k, ok := c.Key.(*rsa.PrivateKey); ok {
		cred, err := confidential.NewCredFromCert(c.Chain, k)
		if err != nil {
			return confidential.Credential{}, fmt.Errorf("%v: %w", err, consent.ErrInvalidArgument)
		}
		return cred, nil
	}
	return confidential.NewCredFromAssertionCallback(func(_ context.Context, o confidential.AssertionRequestOptions) (string, error) {
		return signAssertion(c, o.ClientID, o.TokenEndpoint)
	}), nil
}

// tenantSem is one tenant's concurrency slots (Config.MaxConcurrentPerTenant) and the number of
// calls holding or waiting for them; the driver keeps it only while that number is above zero, so
// its memory follows the tenants being read now, not every tenant it has read.
type tenantSem struct {
	slots chan struct{}
	refs  int // guarded by Driver.semMu
}

// semRef returns tenant's slots with one more reference, creating them when create is set (nil
// otherwise, when no call holds them).
func (d *Driver) semRef(tenantID string, create bool) *tenantSem {
	d.semMu.Lock()
	defer d.semMu.Unlock()
	s, ok := d.sems[tenantID]
	if !ok {
		if !create {
			return nil
		}
		s = &tenantSem{slots: make(chan struct{}, d.cfg.MaxConcurrentPerTenant)}
		d.sems[tenantID] = s
	}
	s.refs++
	return s
}

// semUnref drops one reference; the last one removes the tenant's entry. No slot is held then,
// so a later call that makes a new entry cannot exceed the limit.
func (d *Driver) semUnref(tenantID string, s *tenantSem) {
	d.semMu.Lock()
	defer d.semMu.Unlock()
	if s.refs--; s.refs == 0 && d.sems[tenantID] == s {
		delete(d.sems, tenantID)
	}
}

// acquire takes one of the tenant's concurrency slots; release returns it.
func (d *Driver) acquire(ctx context.Context, tenantID string) (release func(), err error) {
	s := d.semRef(tenantID, true)
	select {
	case s.slots <- struct{}{}:
		return func() { <-s.slots; d.semUnref(tenantID, s) }, nil
	case <-ctx.Done():
		d.semUnref(tenantID, s)
		return nil, ctx.Err()
	}
}

// tryAcquire takes up to n more of the tenant's concurrency slots without waiting and returns how
// many it got; release returns them. The caller already holds one (acquire).
func (d *Driver) tryAcquire(tenantID string, n int) (got int, release func()) {
	s := d.semRef(tenantID, false)
	if s == nil {
		return 0, func() {}
	}
	for got < n {
		select {
		case s.slots <- struct{}{}:
			got++
			continue
		default:
		}
		break
	}
	return got, func() {
		for range got {
			<-s.slots
		}
		d.semUnref(tenantID, s)
	}
}

const opUserState = "UserState"

type tenantKey struct{}

// tokenProvider gives Kiota the reading app's token for the tenant the request's context names.
type tokenProvider struct {
	d     *Driver
	hosts absauth.AllowedHostsValidator
}

func (p *tokenProvider) GetAuthorizationToken(ctx context.Context, u *url.URL, _ map[string]any) (string, error) {
	if !p.hosts.IsUrlHostValid(u) {
		return "", fmt.Errorf("graph: refusing to send a token to host %q (only %s)", u.Host, p.d.graphHost)
	}
	tenant, _ := ctx.Value(tenantKey{}).(string)
	if tenant == "" {
		return "", errors.New("graph: internal error: no tenant in the request context")
	}
	return p.d.readerToken(ctx, tenant)
}

func (p *tokenProvider) GetAllowedHostsValidator() *absauth.AllowedHostsValidator { return &p.hosts }

// readerToken returns an app-only Graph token of the reading app for tenant, from MSAL's cache
// when it has one with more than 5 minutes left. Errors are *consent.DriverError.
func (d *Driver) readerToken(ctx context.Context, tenant string) (string, error) {
	return d.readerTokenFor(ctx, tenant, d.cfg.GraphScope)
}

// readerTokenFor is readerToken for any resource scope (Graph, ARM).
//
// Concurrent calls for one tenant take turns, so that when the cache is empty only the first asks
// Entra and the others find its token in the cache: without this, a fleet check that starts
// several profiles of a new tenant at once paid one token request per concurrent call.
func (d *Driver) readerTokenFor(ctx context.Context, tenant, scope string) (string, error) {
	r, err := d.readerFor(tenant)
	if err != nil {
		return "", &consent.DriverError{Op: "token", TenantID: tenant, AppID: d.cfg.ReaderAppID, Err: err}
	}
	select {
	case r.turn <- struct{}{}:
	case <-ctx.Done():
		return "", tokenError(ctx, "token", tenant, d.cfg.ReaderAppID, ctx.Err(), true)
	}
	defer func() { <-r.turn }()
	r.lastUsed.Store(time.Now().UnixNano())
	ctx, span := d.tel.tracer.Start(ctx, "entra.token", trace.WithAttributes(attribute.String("tenantapps.tenant.id", tenant)))
	ar, err := r.client.AcquireTokenByCredential(ctx, []string{scope})
	if err != nil {
		err = tokenError(ctx, "token", tenant, d.cfg.ReaderAppID, err, true)
		d.recordToken(ctx, span, false, err)
		return "", err
	}
	d.recordToken(ctx, span, ar.Metadata.TokenSource == confidential.TokenSourceCache, nil)
	return ar.AccessToken, nil
}

// tenantReader is the reading app's MSAL client for one tenant, with MSAL's own in-memory token
// cache.
//
// One client per tenant, rather than one client with WithTenantID and a cache partitioned by
// tenant: MSAL replaces its whole in-memory cache with the requested partition on every lookup
// and reads it after releasing its lock, so a lookup that raced another tenant's found nothing
// and asked Entra for a token it already had (3–6 % of tenants in the fleet benchmark). Separate
// clients share nothing, a tenant's lookup scans only its own tokens, and dropping a tenant's
// tokens (evictReader) is dropping its client.
type tenantReader struct {
	client   confidential.Client
	turn     chan struct{} // one slot: token requests for the tenant take turns
	lastUsed atomic.Int64  // unix nanoseconds
}

// readerIdle is how long an unused tenant's reading client (and its tokens, which live about
// an hour) is kept by default (Config.ReaderIdle).
const readerIdle = 2 * time.Hour

// maxReaders is the default Config.MaxReaders.
const maxReaders = 1024

// readerFor returns tenant's reading client, creating it on first use. At a creation more than
// an eighth of Config.ReaderIdle after the last sweep, clients idle for longer than
// Config.ReaderIdle are dropped with the tenants' resource lookups; past Config.MaxReaders the
// least recently used quarter goes too. So a long-running driver keeps the clients of the tenants
// it read within about ReaderIdle, and never more than MaxReaders of them, however many tenants
// it has read before.
func (d *Driver) readerFor(tenant string) (*tenantReader, error) {
	key := strings.ToLower(tenant)
	d.readersMu.Lock()
	defer d.readersMu.Unlock()
	if r, ok := d.readers[key]; ok {
		return r, nil
	}
	var shared cache.ExportReplace
	if d.cfg.SharedTokenCache != nil {
		shared = &sharedCache{backend: d.cfg.SharedTokenCache, tenant: key, d: d}
	}
	client, err := d.newClient(d.cfg.ReaderAppID, key, d.readerCred, shared)
	if err != nil {
		return nil, err
	}
	r := &tenantReader{client: client, turn: make(chan struct{}, 1)}
	now := time.Now()
	r.lastUsed.Store(now.UnixNano())
	d.readers[key] = r
	var idle []string
	if now.Sub(d.swept) > d.cfg.ReaderIdle/8 {
		d.swept = now
		cutoff := now.Add(-d.cfg.ReaderIdle).UnixNano()
		for k, v := range d.readers {
			if v.lastUsed.Load() < cutoff {
				delete(d.readers, k)
				idle = append(idle, k)
			}
		}
	}
	if len(d.readers) > d.cfg.MaxReaders {
		type used struct {
			key string
			at  int64
		}
		all := make([]used, 0, len(d.readers))
		for k, v := range d.readers {
			if k != key {
				all = append(all, used{k, v.lastUsed.Load()})
			}
		}
		slices.SortFunc(all, func(a, b used) int { return cmp.Compare(a.at, b.at) })
		for _, u := range all[:len(d.readers)-max(d.cfg.MaxReaders*3/4, 1)] {
			delete(d.readers, u.key)
			idle = append(idle, u.key)
		}
	}
	d.forgetResources(idle)
	return r, nil
}

// evictReader drops tenant's reading client and so its cached tokens.
func (d *Driver) evictReader(tenant string) {
	d.readersMu.Lock()
	defer d.readersMu.Unlock()
	delete(d.readers, strings.ToLower(tenant))
}

// begin validates IDs (appID when given, unless op reads a user), takes a concurrency slot and makes sure a
// token can be had (so token failures map precisely), returning the context to use for Graph
// calls.
func (d *Driver) begin(ctx context.Context, op, tenantID, appID string) (context.Context, func(), error) {
	if _, err := uuid.Parse(tenantID); err != nil {
		return nil, nil, &consent.DriverError{Op: op, TenantID: tenantID, AppID: appID, Err: fmt.Errorf("tenant ID %q is not a GUID: %w", tenantID, consent.ErrInvalidArgument)}
	}
	if op != opUserState && appID != "" {
		if _, err := uuid.Parse(appID); err != nil {
			return nil, nil, &consent.DriverError{Op: op, TenantID: tenantID, AppID: appID, Err: fmt.Errorf("app ID %q is not a GUID: %w", appID, consent.ErrInvalidArgument)}
		}
	}
	release, err := d.acquire(ctx, tenantID)
	if err != nil {
		return nil, nil, &consent.DriverError{Op: op, TenantID: tenantID, AppID: appID, Err: err}
	}
	ctx = context.WithValue(ctx, tenantKey{}, tenantID)
	if _, err := d.readerToken(ctx, tenantID); err != nil {
		release()
		return nil, nil, withOp(err, op, appID)
	}
	return ctx, release, nil
}

// withOp sets Op (and AppID when empty) on a *consent.DriverError.
func withOp(err error, op, appID string) error {
	var de *consent.DriverError
	if errors.As(err, &de) {
		cp := *de
		cp.Op = op
		if appID != "" {
			cp.AppID = appID
		}
		return &cp
	}
	return err
}

// retryUnauthorized runs fn; when Graph refused the cached token (401) it drops the tenant's
// tokens, acquires a fresh one (which surfaces a deleted tenant as ErrTenantNotFound) and runs
// fn once more.
func (d *Driver) retryUnauthorized(ctx context.Context, op, tenantID, appID string, fn func() error) error {
	err := fn()
	if !errors.Is(err, errUnauthorized) {
		return err
	}
	d.evictReader(tenantID)
	if _, terr := d.readerToken(ctx, tenantID); terr != nil {
		return withOp(terr, op, appID)
	}
	return fn()
}
