package graph

// Graph's throttling signals (microsoft-graph-docs-contrib concepts/throttling.md and
// throttling-limits.md, identity and access service limits) surfaced to the caller as typed data:
// a 429's x-ms-throttle-scope / x-ms-throttle-information become a *consent.ThrottleError inside
// the *consent.DriverError, and the x-ms-resource-unit / x-ms-throttle-limit-percentage of other
// answers go to the consent.ThrottleObserver on the call's context. Requests carry the caller's
// x-ms-throttle-priority (consent.WithPriority).

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/tenantapps/tenantapps/consent"
)

// withThrottle puts the throttle details of a 429's headers (get: case-insensitive lookup) into
// out's Err, keeping it errors.Is-equal to consent.ErrThrottled (and retryable).
func withThrottle(out error, status int, get func(string) string) error {
	de, ok := out.(*consent.DriverError)
	if !ok || status != http.StatusTooManyRequests || get == nil {
		return out
	}
	t, found := consent.ParseThrottleHeaders(get)
	if !found {
		return out
	}
	t.RetryAfter = de.RetryAfter
	de.Err = fmt.Errorf("%w%w", &consent.ThrottleError{Throttle: t}, errRetryable)
	return de
}

// mapGetter is a case-insensitive lookup in a $batch item's headers.
func mapGetter(h map[string]string) func(string) string {
	return func(name string) string {
		for k, v := range h {
			if strings.EqualFold(k, name) {
				return v
			}
		}
		return ""
	}
}

// observeItem reports a successful $batch item's RU and limit percentage to ctx's observer.
func observeItem(ctx context.Context, tenant string, headers map[string]string) {
	if t, ok := consent.ParseThrottleHeaders(mapGetter(headers)); ok {
		consent.ObserveThrottle(ctx, tenant, t)
	}
}

// priorityTransport adds the caller's x-ms-throttle-priority (consent.WithPriority on the
// request's context) to every Graph request; normal priority sends no header, as Graph's default.
type priorityTransport struct{ next http.RoundTripper }

func (t priorityTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if p := consent.PriorityFrom(req.Context()); p != consent.PriorityNormal && req.Header.Get(consent.HeaderThrottlePriority) == "" {
		req = req.Clone(req.Context())
		req.Header.Set(consent.HeaderThrottlePriority, string(p))
	}
	return t.next.RoundTrip(req)
}

// AppStatesCost is what AppStates of apps applications of tenantID costs in Graph resource units,
// per throttling-limits.md (identity and access): per app, GET appRoleAssignments (2 RU) and
// oauth2PermissionGrants (2 RU) and memberOf (unlisted: 1 RU), each with $select (−1 RU, never
// below 1): 3 RU; plus the service principal lookup ($filter, $select: 1 RU) of each $batch of
// appsPerBatch apps, and on the driver's first read in the tenant the lookup of the known
// resources (1 RU). Each $batch item is charged on its own (throttling.md).
func (d *Driver) AppStatesCost(tenantID string, apps int) int {
	if apps <= 0 {
		return 0
	}
	c := 3*apps + (apps+appsPerBatch-1)/appsPerBatch
	if d.knownResourcesFilter(tenantID) != "" {
		c++
	}
	return c
}

var _ consent.ResourceUnitCoster = (*Driver)(nil)
