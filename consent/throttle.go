package consent

// This file carries Microsoft Graph's throttling signals from a driver to its caller as typed
// data, so that the profile manager can react per scope without matching error strings.
//
// Sources (Microsoft Graph documentation, microsoft-graph-docs-contrib):
//   - concepts/throttling.md: 429 + Retry-After; "x-ms-throttle-priority: low | normal | high"
//     on requests; each $batch item is evaluated against the limits on its own.
//   - concepts/throttling-limits.md, identity and access service limits: responses carry
//     x-ms-resource-unit (the resource units the request cost) and, above 80 % of a limit,
//     x-ms-throttle-limit-percentage; a 429 carries x-ms-throttle-scope
//     "<Scope>/<Limit>/<ApplicationId>/<TenantId>" with Scope Tenant_Application, Tenant or
//     Application and Limit Read, Write or ReadWrite, and x-ms-throttle-information.

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"
)

// ThrottleScope is the first segment of Graph's x-ms-throttle-scope header: whose budget ran out.
type ThrottleScope string

const (
	// ScopeApplication: the app's budget across all tenants ran out; every call of the app,
	// about any tenant, should pause.
	ScopeApplication ThrottleScope = "Application"
	// ScopeTenant: the tenant's budget across all apps ran out; pause calls about that tenant.
	ScopeTenant ThrottleScope = "Tenant"
	// ScopeTenantApplication: the app's budget in that tenant ran out; pause calls about that
	// tenant.
	ScopeTenantApplication ThrottleScope = "Tenant_Application"
)

// PausesApp reports whether a throttle of this scope concerns every tenant of the app.
func (s ThrottleScope) PausesApp() bool { return s == ScopeApplication }

// Throttle is what Graph said about its budget in one answer.
type Throttle struct {
	// Scope and Limit come from x-ms-throttle-scope (429 answers only); empty when absent.
	Scope ThrottleScope
	Limit string // Read, Write or ReadWrite
	// Information is x-ms-throttle-information (e.g. ResourceUnitLimitExceeded); empty if absent.
	Information string
	// ResourceUnits is x-ms-resource-unit, the RU the request cost; 0 when absent.
	ResourceUnits int
	// LimitPercentage is x-ms-throttle-limit-percentage (sent only above 0.8 of a limit; 1.0 is
	// where throttling starts); 0 when absent.
	LimitPercentage float64
	// RetryAfter is the wait Graph asked for (429 answers); 0 when absent.
	RetryAfter time.Duration
}

// Graph's throttling header names (throttling-limits.md, identity and access service limits).
const (
	HeaderThrottlePriority        = "x-ms-throttle-priority"
	HeaderResourceUnit            = "x-ms-resource-unit"
	HeaderThrottleLimitPercentage = "x-ms-throttle-limit-percentage"
	HeaderThrottleScope           = "x-ms-throttle-scope"
	HeaderThrottleInformation     = "x-ms-throttle-information"
)

// ParseThrottleHeaders reads the throttling headers from get (a case-insensitive header lookup).
// Unparsable values are ignored. ok is false when none of the headers is present.
func ParseThrottleHeaders(get func(name string) string) (t Throttle, ok bool) {
	if v := strings.TrimSpace(get(HeaderResourceUnit)); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n > 0 {
			t.ResourceUnits, ok = n, true
		}
	}
	if v := strings.TrimSpace(get(HeaderThrottleLimitPercentage)); v != "" {
		if f, err := strconv.ParseFloat(v, 64); err == nil && f > 0 && f < 100 {
			t.LimitPercentage, ok = f, true
		}
	}
	if v := strings.TrimSpace(get(HeaderThrottleScope)); v != "" {
		parts := strings.Split(v, "/")
		switch s := ThrottleScope(parts[0]); s {
		case ScopeApplication, ScopeTenant, ScopeTenantApplication:
			t.Scope, ok = s, true
			if len(parts) > 1 {
				t.Limit = parts[1]
			}
		}
	}
	if v := strings.TrimSpace(get(HeaderThrottleInformation)); v != "" {
		t.Information, ok = v, true
	}
	return t, ok
}

// ThrottleError is the Err of a *DriverError for a 429 that carried Graph's throttle headers. It
// wraps ErrThrottled, so errors.Is(err, ErrThrottled) holds; read it with ThrottleOf.
type ThrottleError struct {
	Throttle Throttle
}

func (e *ThrottleError) Error() string {
	if e.Throttle.Scope == "" {
		return ErrThrottled.Error()
	}
	return ErrThrottled.Error() + " (scope " + string(e.Throttle.Scope) + ")"
}

// Unwrap returns ErrThrottled.
func (e *ThrottleError) Unwrap() error { return ErrThrottled }

// ThrottleOf returns the throttle details err carries (a ThrottleError anywhere in its chain), with
// RetryAfter filled from RetryAfter(err) when the details lack it.
func ThrottleOf(err error) (Throttle, bool) {
	var te *ThrottleError
	if !errors.As(err, &te) {
		return Throttle{}, false
	}
	t := te.Throttle
	if t.RetryAfter == 0 {
		t.RetryAfter, _ = RetryAfter(err)
	}
	return t, true
}

// Priority is the x-ms-throttle-priority a caller asks a driver to send. Graph throttles low
// priority requests first; it does not change the limits (throttling.md).
type Priority string

const (
	// PriorityLow is for background work such as fleet sweeps.
	PriorityLow Priority = "low"
	// PriorityNormal is Graph's default; drivers send no header for it.
	PriorityNormal Priority = "normal"
	// PriorityHigh is for checks a user is waiting for.
	PriorityHigh Priority = "high"
)

type priorityKey struct{}

// WithPriority returns a context that asks drivers to send priority p with the requests they make
// for it.
func WithPriority(ctx context.Context, p Priority) context.Context {
	return context.WithValue(ctx, priorityKey{}, p)
}

// PriorityFrom returns the priority WithPriority set on ctx, or PriorityNormal.
func PriorityFrom(ctx context.Context) Priority {
	if p, ok := ctx.Value(priorityKey{}).(Priority); ok && p != "" {
		return p
	}
	return PriorityNormal
}

type throttleObserverKey struct{}

// ThrottleObserver receives the throttling signals of the answers a driver got for a tenant
// (tenantID empty when the answer concerned no tenant) that were not throttled: resource units
// charged and the limit percentage. Throttled answers (429) are reported as errors instead (a
// *ThrottleError inside the *DriverError). It must be fast and safe for concurrent use.
type ThrottleObserver func(tenantID string, t Throttle)

// WithThrottleObserver returns a context whose driver calls report their answers' throttling
// signals to obs. Drivers that read no such signals ignore it.
func WithThrottleObserver(ctx context.Context, obs ThrottleObserver) context.Context {
	return context.WithValue(ctx, throttleObserverKey{}, obs)
}

// ObserveThrottle is for driver authors: it passes t to the observer installed on ctx, if any.
func ObserveThrottle(ctx context.Context, tenantID string, t Throttle) {
	if obs, ok := ctx.Value(throttleObserverKey{}).(ThrottleObserver); ok && obs != nil {
		obs(tenantID, t)
	}
}

// ResourceUnitCoster is implemented by drivers that know what their reads cost in Graph's
// resource units (throttling-limits.md, identity and access: a GET of appRoleAssignments or
// oauth2PermissionGrants 2 RU, an unlisted GET 1, $select −1 but never below 1, each $batch item
// charged on its own). The profile manager charges its rate budget in these units.
type ResourceUnitCoster interface {
	// AppStatesCost is the RU that reading the state of apps applications of tenant tenantID
	// costs now (AppState for apps == 1, AppStatesReader.AppStates otherwise), assuming no
	// retries; it may depend on what the driver already knows about the tenant.
	AppStatesCost(tenantID string, apps int) int
}

// TenantSizer is implemented by drivers that can tell how many users a tenant has. Graph sizes
// an app's identity read budget in a tenant by it (throttling-limits.md: < 50, 50–500, > 500
// users).
type TenantSizer interface {
	// SizesTenants reports whether TenantUserCount is available (a driver may have it turned
	// off); when false the caller assumes the smallest size and makes no call.
	SizesTenants() bool
	// TenantUserCount returns the number of users in tenantID, or an error when it cannot be
	// read (the caller then assumes the smallest size).
	TenantUserCount(ctx context.Context, tenantID string) (int, error)
}

// TenantReadBudget is Graph's identity and access read budget of one app in one tenant of users
// users, in resource units per 10 seconds: 3,500 below 50 users, 5,000 up to 500, 8,000 above
// (microsoft-graph-docs-contrib, concepts/throttling-limits.md, "Identity and access service
// limits"). A negative users (unknown) gets the smallest budget. The Manager sizes its per-tenant
// buckets with it and graphtest's throttling model enforces it.
func TenantReadBudget(users int) int {
	switch {
	case users > 500:
		return 8000
	case users >= 50:
		return 5000
	default:
		return 3500
	}
}
