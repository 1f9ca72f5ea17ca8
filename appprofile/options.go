package appprofile

import (
	"context"
	"crypto/rand"
	"io"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/tenantapps/tenantapps/consent"
)

// Option configures a Manager built by New.
type Option func(*options)

type options struct {
	catalog         Catalog
	now             func() time.Time
	logger          *slog.Logger
	sealer          Sealer
	stateKey        []byte
	stateKeys       []consent.StateKey // WithStateKeys, signing key first
	stateTTL        time.Duration
	rand            io.Reader
	rate            RateLimit
	tenantConc      int
	workers         int
	hook            func(Event)
	policy          Policy
	vendorAppIDs    map[string]string
	allowDuplicates bool
	redirectURI     string
	authority       string
	inspect         InspectContextFunc
	eligibility     EligibilityFunc
	maxAttempts     int
	replication     time.Duration
	noOutbox        bool                 // WithOutbox(false)
	retention       time.Duration        // WithHistoryRetention
	tracerProvider  trace.TracerProvider // telemetry.go
	meterProvider   metric.MeterProvider
}

// RateLimit is the request budget of the driver's app registration. Graph throttles per app across
// all tenants, so the Manager keeps one budget for every call it makes through the driver, shared by
// Verify and every VerifyAll.
type RateLimit struct {
	// PerSecond is the sustained rate of driver calls; 0 means unlimited. A call that reads n
	// profiles at once (consent.AppStatesReader) counts as n: Graph evaluates each request of a
	// $batch against its throttling limits, so batching saves round trips, not budget.
	PerSecond float64
	// Burst is how many calls may start at once; 0 means 1 (when PerSecond is set).
	Burst int
}

// WithCatalog sets the permission catalog (FromPermissions(permissions.Default()) by default).
func WithCatalog(c Catalog) Option { return func(o *options) { o.catalog = c } }

// WithClock sets the clock used for statuses, consent records and state expiry (time.Now by
// default). Rate limiting and Retry-After waits use real time.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithLogger turns on the Manager's log: profile lifecycle events at Info, lost background work
// (a failed rollback, a token cache that cannot be opened) at Warn and Error. Without it, or with
// nil, the Manager writes no log at all (a library is quiet unless given a logger); pass
// slog.Default() to log where the program logs. Secrets are never logged.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithSealer sets the sealer for secrets. Without one, the Manager refuses to create custom app
// profiles or keep any other secret (ErrNoSealer).
func WithSealer(s Sealer) Option { return func(o *options) { o.sealer = s } }

// WithStateKey sets the HMAC-SHA256 key (at least 32 bytes) that signs consent state, with a
// consent.StateCodec (key ID "appprofile"). Without one (or WithStateKeys), BeginConsent fails
// with ErrNoStateKey. To rotate the key, see WithStateKeys.
func WithStateKey(key []byte) Option {
	return func(o *options) { o.stateKey = append([]byte(nil), key...) }
}

// WithStateTTL sets how long a consent state stays valid: 1 minute to 24 hours (15 minutes by
// default; New rejects other values when a state key is set).
func WithStateTTL(d time.Duration) Option { return func(o *options) { o.stateTTL = d } }

// WithRand sets the randomness source for IDs and nonces (crypto/rand by default).
func WithRand(r io.Reader) Option { return func(o *options) { o.rand = r } }

// WithRateLimit sets the driver's request budget (unlimited by default).
func WithRateLimit(r RateLimit) Option { return func(o *options) { o.rate = r } }

// WithTenantConcurrency caps concurrent driver calls per tenant in VerifyAll (2 by default).
func WithTenantConcurrency(n int) Option { return func(o *options) { o.tenantConc = n } }

// WithWorkers sets how many tenants VerifyAll works on at once (32 by default); each has at most
// WithTenantConcurrency driver calls in flight.
func WithWorkers(n int) Option { return func(o *options) { o.workers = n } }

// WithEventHook sets a function called after every status change (and every re-raised accepted
// deviation) was stored. It is called synchronously from the goroutine that made the change
// (possibly several at once during VerifyAll) and must be fast and safe for concurrent use; hand
// events to a channel for slow work.
//
// The hook is in-process and best effort: if the process dies between the store write and the
// call, the event is lost, and other replicas never see it. With a store that implements
// store.OutboxStore (memstore, sqlite and postgres do) the same events are also written to the
// store's outbox in the change's transaction; deliver them with a Dispatcher for at-least-once,
// crash-safe, per-profile ordered delivery shared by replicas. Without such a store (or with
// WithOutbox(false)) the hook is the only delivery.
func WithEventHook(h func(Event)) Option { return func(o *options) { o.hook = h } }

// WithPolicy tunes the status engine (role grace, certificate warning, refresh token lifetime).
func WithPolicy(p Policy) Option { return func(o *options) { o.policy = p } }

// WithVendorAppIDs maps app type names to the vendor's application (client) IDs, for app types
// whose catalog entry carries none. Creating a non-custom profile of an app type without a known
// application ID fails with ErrNoAppID.
func WithVendorAppIDs(m map[string]string) Option {
	return func(o *options) {
		o.vendorAppIDs = map[string]string{}
		for k, v := range m {
			o.vendorAppIDs[k] = v
		}
	}
}

// WithDuplicates allows more than one profile per (tenant, app type).
func WithDuplicates(allow bool) Option { return func(o *options) { o.allowDuplicates = allow } }

// WithRedirectURI sets the redirect URI consent URLs send the administrator back to (required for
// BeginConsent).
func WithRedirectURI(uri string) Option { return func(o *options) { o.redirectURI = uri } }

// WithAuthority sets the Microsoft Entra authority host for consent URLs
// ("https://login.microsoftonline.com" by default; an emulator's loopback http URL in tests). New
// checks it, and the redirect URI, with consent.URLBuilder.Validate.
func WithAuthority(url string) Option { return func(o *options) { o.authority = url } }

// WithCertificateInspector replaces the default .pfx inspection (InspectPFXContext) with one
// that takes no context; prefer WithCertificateInspectorContext.
func WithCertificateInspector(f InspectFunc) Option {
	return func(o *options) {
		o.inspect = func(_ context.Context, pfx []byte, password string, now time.Time) (CertificateInfo, []string, error) {
			return f(pfx, password, now)
		}
	}
}

// WithCertificateInspectorContext replaces the default .pfx inspection (InspectPFXContext); f
// receives the context of the Create or Reauthorize call.
func WithCertificateInspectorContext(f InspectContextFunc) Option {
	return func(o *options) { o.inspect = f }
}

// WithEligibility replaces the consent eligibility rules used by BeginConsent. Without it, the
// rules of the catalog are used (RulebookProvider, which FromPermissions implements), else
// DefaultEligibility.
func WithEligibility(f EligibilityFunc) Option { return func(o *options) { o.eligibility = f } }

// WithMaxAttempts sets how often VerifyAll tries a profile whose check failed with a retryable
// error before recording CouldNotCheck, and how often CompleteConsent reads the tenant before it
// concludes that a consent is not there (3 by default; see WithReplicationWait).
func WithMaxAttempts(n int) Option { return func(o *options) { o.maxAttempts = n } }

// WithReplicationWait sets how long CompleteConsent first waits for Microsoft Entra ID to
// replicate a fresh consent when the tenant does not show all of its grants yet, before it reads
// the tenant again: the wait doubles after each read, up to WithMaxAttempts reads, and never
// outlasts the context (1 second by default: 1 + 2 seconds for 3 reads). Tests set it to a
// millisecond; a non-positive d keeps the default.
func WithReplicationWait(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.replication = d
		}
	}
}

func defaultOptions() options {
	return options{
		now:         time.Now,
		stateTTL:    15 * time.Minute,
		rand:        rand.Reader,
		tenantConc:  2,
		workers:     32,
		authority:   "https://login.microsoftonline.com",
		inspect:     InspectPFXContext,
		maxAttempts: 3,
		replication: time.Second,
	}
}
