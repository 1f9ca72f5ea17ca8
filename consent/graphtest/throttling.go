package graphtest

// Graph's throttling, as Microsoft documents it, for tests and benchmarks that must stay inside
// Graph's real budget. Every rule cites its source in microsoftgraph/microsoft-graph-docs-contrib:
//
//   - concepts/throttling-limits.md, "Identity and access service limits": identity reads are
//     token buckets in resource units (RU): per application across all tenants 150,000 RU per
//     20 s; per application + tenant 3,500 / 5,000 / 8,000 RU per 10 s for tenants with fewer
//     than 50 / 50–500 / more than 500 users. Costs: GET appRoleAssignments, oauth2PermissionGrants,
//     applications and users 2 RU, groups/{id}/members 3, getByIds 5, any other GET 1; $select
//     −1, $expand +1, $top below 20 −1; never below 1. Writes cost 1 RU.
//   - the same page, "Regular responses": x-ms-resource-unit on every answer and
//     x-ms-throttle-limit-percentage once more than 0.8 of a limit is used (0.8–1.8);
//     "Throttled responses": x-ms-throttle-scope "<Scope>/<Limit>/<ApplicationId>/<TenantId>"
//     (Scope Tenant_Application, Tenant or Application) and x-ms-throttle-information.
//   - throttling-limits.md, "Global limits": 130,000 requests per 10 s per app across all tenants.
//   - concepts/throttling.md: a throttled request answers 429 with Retry-After; "Microsoft Graph
//     continues to log resource usage while a client is being throttled" (throttled requests are
//     charged too).
//   - concepts/json-batching.md and throttling.md, "Throttling and batching": each request of a
//     $batch is evaluated on its own; the batch answers 200 while a throttled item answers 429
//     with its own Retry-After.
//   - Entra token endpoint (learn.microsoft.com/entra/msal/dotnet/advanced/client-and-server-throttling):
//     for client credentials, Entra "will reply with 429 Too Many Requests, with a Retry-After: 60
//     header". No numeric limit is published; Throttling.TokensPerTenant sets the emulator's.

import (
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tenantapps/tenantapps/consent"
)

// Throttling turns on the emulator's model of Graph's identity throttling (EnableThrottling).
// Zero fields take Graph's documented values.
type Throttling struct {
	// AppRUPer20s is the per-application read budget across all tenants (150,000).
	AppRUPer20s int
	// TenantRUPer10s returns the per-application + tenant read budget for a tenant of users
	// users (3,500 / 5,000 / 8,000 by size). The emulator counts a tenant's users as the users
	// added to it (AddUser); UserCount, when set, overrides that.
	TenantRUPer10s func(users int) int
	UserCount      func(tenant string) int
	// GlobalRequestsPer10s is the per-application request limit across all tenants (130,000).
	GlobalRequestsPer10s int
	// TokensPerTenant, when positive, is how many client-credentials token requests per app and
	// tenant Entra answers per TokenWindow (default 1 minute) before it answers 429 with
	// Retry-After: 60.
	TokensPerTenant int
	TokenWindow     time.Duration
	// Now is the buckets' clock (time.Now by default); the server's Options.Now is often frozen.
	Now func() time.Time
}

type bucket struct {
	capacity, perSec float64
	tokens           float64
	last             time.Time
}

// take charges cost at now (also when throttled: Graph keeps logging usage) and returns how long
// until the bucket is positive again (0 when the request fits) and the share of the capacity
// used after it.
func (b *bucket) take(now time.Time, cost float64) (wait time.Duration, used float64) {
	b.tokens = math.Min(b.capacity, b.tokens+now.Sub(b.last).Seconds()*b.perSec)
	b.last = now
	if b.tokens < cost {
		// Charged while throttled, at most one capacity into debt.
		b.tokens = math.Max(b.tokens-cost, -b.capacity)
		return time.Duration(math.Ceil((cost-b.tokens)/b.perSec)) * time.Second, 1 + (-b.tokens / b.capacity)
	}
	b.tokens -= cost
	return 0, 1 - b.tokens/b.capacity
}

type throttleState struct {
	mu      sync.Mutex
	cfg     *Throttling
	app     map[string]*bucket // appId -> RU bucket
	tenant  map[string]*bucket // appId|tenant -> RU bucket
	global  map[string]*bucket // appId -> request bucket
	tokens  map[string]*bucket // appId|tenant -> token requests
	ru      map[string]int     // tenant -> RU charged
	byScope map[string]int     // scope -> 429s
}

// EnableThrottling turns Graph's throttling model on (see Throttling); a second call replaces the
// configuration and empties the buckets.
func (s *Server) EnableThrottling(t Throttling) {
	if t.AppRUPer20s <= 0 {
		t.AppRUPer20s = 150000
	}
	if t.TenantRUPer10s == nil {
		t.TenantRUPer10s = consent.TenantReadBudget
	}
	if t.GlobalRequestsPer10s <= 0 {
		t.GlobalRequestsPer10s = 130000
	}
	if t.TokenWindow <= 0 {
		t.TokenWindow = time.Minute
	}
	if t.Now == nil {
		t.Now = time.Now
	}
	s.throttle.mu.Lock()
	defer s.throttle.mu.Unlock()
	s.throttle.cfg = &t
	s.throttle.app, s.throttle.tenant, s.throttle.global, s.throttle.tokens = map[string]*bucket{}, map[string]*bucket{}, map[string]*bucket{}, map[string]*bucket{}
	if s.throttle.ru == nil {
		s.throttle.ru, s.throttle.byScope = map[string]int{}, map[string]int{}
	}
}

// ResourceUnitCost is the RU a request costs per throttling-limits.md (identity and access):
// method, path relative to /v1.0/ and query.
func ResourceUnitCost(method, rest string, q url.Values) int {
	segs := strings.Split(strings.Trim(rest, "/"), "/")
	last := segs[len(segs)-1]
	if method != http.MethodGet && last != "getByIds" { // getByIds is a read sent as POST
		return 1
	}
	base := 1
	switch {
	case last == "appRoleAssignments" || last == "oauth2PermissionGrants":
		base = 2
	case len(segs) == 1 && (last == "applications" || last == "users"):
		base = 2
	case len(segs) == 3 && segs[0] == "groups" && last == "members":
		base = 3
	case last == "getByIds":
		base = 5
	}
	if q.Get("$select") != "" {
		base--
	}
	if q.Get("$expand") != "" {
		base++
	}
	if top, err := strconv.Atoi(q.Get("$top")); err == nil && top < 20 {
		base--
	}
	return max(base, 1)
}

func newBucket(capacity, seconds float64, now time.Time) *bucket {
	return &bucket{capacity: capacity, perSec: capacity / seconds, tokens: capacity, last: now}
}

// throttleGraph charges one Graph request (or $batch item) of caller c and returns the headers
// of its answer and, when throttled, the 429 to send instead.
func (s *Server) throttleGraph(c *caller, method, rest string, q url.Values) (headers map[string]string, throttled *graphResult) {
	s.throttle.mu.Lock()
	cfg := s.throttle.cfg
	s.throttle.mu.Unlock()
	if cfg == nil || c == nil {
		return nil, nil
	}
	users := -1
	if cfg.UserCount != nil {
		users = cfg.UserCount(c.tenant)
	} else {
		s.mu.Lock()
		if t, ok := s.tenants[c.tenant]; ok {
			users = len(t.users)
		}
		s.mu.Unlock()
	}
	cost := ResourceUnitCost(method, rest, q)
	now := cfg.Now()
	st := &s.throttle
	st.mu.Lock()
	defer st.mu.Unlock()
	key := c.appID + "|" + c.tenant
	g := st.global[c.appID]
	if g == nil {
		g = newBucket(float64(cfg.GlobalRequestsPer10s), 10, now)
		st.global[c.appID] = g
	}
	a := st.app[c.appID]
	if a == nil {
		a = newBucket(float64(cfg.AppRUPer20s), 20, now)
		st.app[c.appID] = a
	}
	t := st.tenant[key]
	if t == nil {
		t = newBucket(float64(cfg.TenantRUPer10s(users)), 10, now)
		st.tenant[key] = t
	}
	st.ru[c.tenant] += cost
	gWait, _ := g.take(now, 1)
	aWait, aUsed := a.take(now, float64(cost))
	tWait, tUsed := t.take(now, float64(cost))
	limit := "Read"
	if method != http.MethodGet {
		limit = "Write"
	}
	var scope, info string
	var wait time.Duration
	switch {
	case gWait > 0:
		scope, info, wait = "Application", "RequestLimitExceeded", gWait
		limit = "ReadWrite"
	case aWait > 0:
		scope, info, wait = "Application", "ResourceUnitLimitExceeded", aWait
	case tWait > 0:
		scope, info, wait = "Tenant_Application", "ResourceUnitLimitExceeded", tWait
	}
	if scope != "" {
		st.byScope[scope]++
		res := odataErr(http.StatusTooManyRequests, "TooManyRequests", "Too many requests. Please retry again later.")
		res.headers = map[string]string{
			"Retry-After":                    strconv.Itoa(int(math.Ceil(wait.Seconds()))),
			"x-ms-throttle-scope":            fmt.Sprintf("%s/%s/%s/%s", scope, limit, c.appID, c.tenant),
			"x-ms-throttle-information":      info,
			"x-ms-resource-unit":             strconv.Itoa(cost),
			"x-ms-throttle-limit-percentage": formatPercentage(max(aUsed, tUsed)),
		}
		s.announceRetryAfter(c.tenant, c.appID, wait)
		return nil, &res
	}
	headers = map[string]string{"x-ms-resource-unit": strconv.Itoa(cost)}
	if used := max(aUsed, tUsed); used > 0.8 {
		headers["x-ms-throttle-limit-percentage"] = formatPercentage(used)
	}
	return headers, nil
}

func formatPercentage(used float64) string {
	return strconv.FormatFloat(math.Min(used, 1.8), 'f', 2, 64)
}

// throttleToken charges a client-credentials token request of client in tenant; it reports
// whether Entra's 429 (Retry-After: 60) applies.
func (s *Server) throttleToken(tenant, client string) bool {
	st := &s.throttle
	st.mu.Lock()
	defer st.mu.Unlock()
	cfg := st.cfg
	if cfg == nil || cfg.TokensPerTenant <= 0 {
		return false
	}
	now := cfg.Now()
	key := client + "|" + tenant
	b := st.tokens[key]
	if b == nil {
		b = newBucket(float64(cfg.TokensPerTenant), cfg.TokenWindow.Seconds(), now)
		st.tokens[key] = b
	}
	if wait, _ := b.take(now, 1); wait > 0 {
		st.byScope["Token"]++
		return true
	}
	return false
}

// ThrottleStats is the throttling model's accounting.
type ThrottleStats struct {
	// ResourceUnits is the RU charged per tenant (throttled requests included, as Graph does).
	ResourceUnits map[string]int
	// Throttled counts 429s by scope: "Application", "Tenant_Application", and "Token" for the
	// token endpoint.
	Throttled map[string]int
}

// TotalResourceUnits sums ResourceUnits.
func (st ThrottleStats) TotalResourceUnits() int {
	n := 0
	for _, v := range st.ResourceUnits {
		n += v
	}
	return n
}

// ThrottleStats returns a copy of the throttling counters (empty when throttling is off).
func (s *Server) ThrottleStats() ThrottleStats {
	st := &s.throttle
	st.mu.Lock()
	defer st.mu.Unlock()
	out := ThrottleStats{ResourceUnits: map[string]int{}, Throttled: map[string]int{}}
	for k, v := range st.ru {
		out.ResourceUnits[k] = v
	}
	for k, v := range st.byScope {
		out.Throttled[k] = v
	}
	return out
}

// ResetThrottleStats zeroes the throttling counters (the buckets keep their levels).
func (s *Server) ResetThrottleStats() {
	st := &s.throttle
	st.mu.Lock()
	defer st.mu.Unlock()
	st.ru, st.byScope = map[string]int{}, map[string]int{}
}

// mergeHeaders adds extra to h (allocating when h is nil).
func mergeHeaders(h, extra map[string]string) map[string]string {
	if len(extra) == 0 {
		return h
	}
	if h == nil {
		h = make(map[string]string, len(extra))
	}
	for k, v := range extra {
		h[k] = v
	}
	return h
}
