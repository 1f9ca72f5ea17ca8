package graphtest

import (
	"math/rand/v2"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

func defaultFloat64() float64 { return rand.Float64() }

// FaultKind is what an injected fault does to a matching request.
type FaultKind int

const (
	// FaultLatency delays the request by Fault.Latency, then serves it normally.
	FaultLatency FaultKind = iota + 1
	// FaultThrottle answers 429 TooManyRequests with Retry-After (Graph's shape; the token
	// endpoint answers 429 with an AADSTS-free temporarily_unavailable body).
	FaultThrottle
	// FaultUnavailable answers 503 ServiceUnavailable with Retry-After.
	FaultUnavailable
	// FaultGatewayTimeout answers 504 GatewayTimeout.
	FaultGatewayTimeout
	// FaultHang holds the request until the client gives up (its context or timeout), the
	// server closes, or Fault.Latency passes, then drops the connection without a response.
	FaultHang
	// FaultTruncatedJSON serves the request but cuts the response body in half.
	FaultTruncatedJSON
	// FaultMalformedJSON answers 200 with a body that is not JSON.
	FaultMalformedJSON
	// FaultForbidden answers 403 Authorization_RequestDenied, as Graph does when the caller lacks
	// a permission.
	FaultForbidden
	// FaultErrorWithoutMessage answers 400 with an OData error body that has a code but no
	// message: msgraph-sdk-go's ODataError.Error() panics on it, so clients must not call it.
	FaultErrorWithoutMessage
)

func (k FaultKind) String() string {
	switch k {
	case FaultLatency:
		return "latency"
	case FaultThrottle:
		return "throttle"
	case FaultUnavailable:
		return "unavailable"
	case FaultGatewayTimeout:
		return "gateway-timeout"
	case FaultHang:
		return "hang"
	case FaultTruncatedJSON:
		return "truncated-json"
	case FaultMalformedJSON:
		return "malformed-json"
	case FaultForbidden:
		return "forbidden"
	case FaultErrorWithoutMessage:
		return "error-without-message"
	}
	return "FaultKind(" + strconv.Itoa(int(k)) + ")"
}

// Fault describes an injected failure. A request matches when Route (a route name, a family
// such as "graph.*", or empty for any) and Tenant (empty = any) match. Of the matching requests the first Skip pass untouched; after that each is hit with
// probability Probability (0 means 1: always), at most Times times (0 = unlimited). Skip + Times
// express schedules such as "fail the 2nd and 3rd request".
//
// Inside $batch, faults whose Route names the item's route apply to that item (429/503/504/403
// become the item's status, with its own Retry-After header); truncated or malformed JSON and
// hangs apply only to whole HTTP requests.
type Fault struct {
	Route       string
	Tenant      string
	Kind        FaultKind
	Latency     time.Duration
	RetryAfter  time.Duration // for FaultThrottle / FaultUnavailable; default 1 s
	Probability float64
	Skip        int
	Times       int
}

type faultEntry struct {
	Fault
	seen, hits int
}

type faultState struct {
	mu     sync.Mutex
	faults []*faultEntry
}

// AddFault adds a fault and returns a function that removes it. Faults are tried in the order
// added and the first that fires wins.
func (s *Server) AddFault(f Fault) (remove func()) {
	if f.RetryAfter <= 0 {
		f.RetryAfter = time.Second
	}
	f.Tenant = strings.ToLower(f.Tenant)
	e := &faultEntry{Fault: f}
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.faults = append(s.faults.faults, e)
	return func() {
		s.faults.mu.Lock()
		defer s.faults.mu.Unlock()
		s.faults.faults = slices.DeleteFunc(s.faults.faults, func(x *faultEntry) bool { return x == e })
	}
}

// routeMatches reports whether a fault's route pattern matches: "" any route, "graph.*" or
// "entra.*" a family, otherwise an exact route name.
func routeMatches(pattern, route string) bool {
	if pattern == "" || pattern == route {
		return true
	}
	if prefix, ok := strings.CutSuffix(pattern, "*"); ok {
		return strings.HasPrefix(route, prefix)
	}
	return false
}

// ClearFaults removes every injected fault.
func (s *Server) ClearFaults() {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.faults = nil
}

// pickFault returns the fault to apply to a request on route for tenant, if any.
func (s *Server) pickFault(route, tenant string) *Fault {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	for _, f := range s.faults.faults {
		if !routeMatches(f.Route, route) || (f.Tenant != "" && f.Tenant != tenant) {
			continue
		}
		f.seen++
		if f.seen <= f.Skip || (f.Times > 0 && f.hits >= f.Times) {
			continue
		}
		if p := f.Probability; p > 0 && p < 1 && s.opts.Float64() >= p {
			continue
		}
		f.hits++
		out := f.Fault
		return &out
	}
	return nil
}

// RouteTenant keys the counters.
type RouteTenant struct {
	Route  string
	Tenant string
}

// Stats is a snapshot of the server's accounting.
type Stats struct {
	// Requests counts HTTP requests (round trips) by route and tenant; a $batch is one request
	// on RouteBatch.
	Requests map[RouteTenant]int
	// BatchItems counts the items inside $batch requests by their own route and tenant.
	BatchItems map[RouteTenant]int
	// Faults counts injected faults that fired, by route and kind.
	Faults map[string]int
	// InsideRetryAfter counts requests that arrived while a Retry-After the server announced to
	// the same client (app) in the same tenant was still running: a well-behaved client keeps
	// this at zero.
	InsideRetryAfter map[RouteTenant]int
	// MaxConcurrentGraph is the largest number of Graph requests in flight at once, by tenant
	// (of the bearer token).
	MaxConcurrentGraph map[string]int
}

// Total returns the number of HTTP requests on route (all tenants when tenant is "*").
func (st Stats) Total(route, tenant string) int {
	n := 0
	for k, v := range st.Requests {
		if k.Route == route && (tenant == "*" || k.Tenant == tenant) {
			n += v
		}
	}
	return n
}

// GraphRoundTrips returns the number of HTTP requests to Graph (/v1.0) for tenant ("*" = all).
func (st Stats) GraphRoundTrips(tenant string) int {
	n := 0
	for k, v := range st.Requests {
		if len(k.Route) > 6 && k.Route[:6] == "graph." && (tenant == "*" || k.Tenant == tenant) {
			n += v
		}
	}
	return n
}

// Routes lists the routes with at least one request, sorted.
func (st Stats) Routes() []string {
	seen := map[string]bool{}
	for k := range st.Requests {
		seen[k.Route] = true
	}
	out := make([]string, 0, len(seen))
	for r := range seen {
		out = append(out, r)
	}
	sort.Strings(out)
	return out
}

type statsState struct {
	mu         sync.Mutex
	requests   map[RouteTenant]int
	batchItems map[RouteTenant]int
	faults     map[string]int
	inside     map[RouteTenant]int
	retryUntil map[string]time.Time // tenant|client -> end of announced Retry-After
	inFlight   map[string]int
	maxFlight  map[string]int
}

func (st *statsState) init() {
	st.requests = map[RouteTenant]int{}
	st.batchItems = map[RouteTenant]int{}
	st.faults = map[string]int{}
	st.inside = map[RouteTenant]int{}
	st.retryUntil = map[string]time.Time{}
	st.inFlight = map[string]int{}
	st.maxFlight = map[string]int{}
}

// enter records a Graph request in flight for tenant; the returned func records its end.
func (s *Server) enter(tenant string) (leave func()) {
	s.stats.mu.Lock()
	s.stats.inFlight[tenant]++
	if n := s.stats.inFlight[tenant]; n > s.stats.maxFlight[tenant] {
		s.stats.maxFlight[tenant] = n
	}
	s.stats.mu.Unlock()
	return func() {
		s.stats.mu.Lock()
		s.stats.inFlight[tenant]--
		s.stats.mu.Unlock()
	}
}

// Stats returns a copy of the counters.
func (s *Server) Stats() Stats {
	s.stats.mu.Lock()
	defer s.stats.mu.Unlock()
	cp := func(m map[RouteTenant]int) map[RouteTenant]int {
		out := make(map[RouteTenant]int, len(m))
		for k, v := range m {
			out[k] = v
		}
		return out
	}
	f := make(map[string]int, len(s.stats.faults))
	for k, v := range s.stats.faults {
		f[k] = v
	}
	mf := make(map[string]int, len(s.stats.maxFlight))
	for k, v := range s.stats.maxFlight {
		mf[k] = v
	}
	return Stats{Requests: cp(s.stats.requests), BatchItems: cp(s.stats.batchItems), Faults: f, InsideRetryAfter: cp(s.stats.inside), MaxConcurrentGraph: mf}
}

// ResetStats zeroes every counter (announced Retry-After windows are kept).
func (s *Server) ResetStats() {
	s.stats.mu.Lock()
	defer s.stats.mu.Unlock()
	until, flight := s.stats.retryUntil, s.stats.inFlight
	s.stats.init()
	s.stats.retryUntil, s.stats.inFlight = until, flight
}

// count records one request (or batch item) and whether it came inside a Retry-After window.
func (s *Server) count(route, tenant, client string, batchItem bool) {
	s.stats.mu.Lock()
	defer s.stats.mu.Unlock()
	k := RouteTenant{route, tenant}
	if batchItem {
		// An item travels in a $batch request that was itself checked on arrival.
		s.stats.batchItems[k]++
		return
	}
	s.stats.requests[k]++
	if until, ok := s.stats.retryUntil[tenant+"|"+client]; ok && s.now().Before(until) {
		s.stats.inside[k]++
	}
}

func (s *Server) countFault(route string, k FaultKind) {
	s.stats.mu.Lock()
	defer s.stats.mu.Unlock()
	s.stats.faults[route+" "+k.String()]++
}

// announceRetryAfter remembers that the client was told to wait d.
func (s *Server) announceRetryAfter(tenant, client string, d time.Duration) {
	s.stats.mu.Lock()
	defer s.stats.mu.Unlock()
	until := s.now().Add(d)
	if until.After(s.stats.retryUntil[tenant+"|"+client]) {
		s.stats.retryUntil[tenant+"|"+client] = until
	}
}

func retryAfterHeader(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64)
}

// truncatingWriter passes the first half of the body through and drops the rest.
type truncatingWriter struct {
	http.ResponseWriter
	buf    []byte
	status int
}

func (t *truncatingWriter) WriteHeader(code int) { t.status = code }
func (t *truncatingWriter) Write(p []byte) (int, error) {
	t.buf = append(t.buf, p...)
	return len(p), nil
}

func (t *truncatingWriter) flush() {
	if t.status == 0 {
		t.status = http.StatusOK
	}
	t.ResponseWriter.Header().Del("Content-Length")
	t.ResponseWriter.WriteHeader(t.status)
	_, _ = t.ResponseWriter.Write(t.buf[:len(t.buf)/2])
}
