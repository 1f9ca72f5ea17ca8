package graphtest

import (
	"compress/gzip"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Options configures a Server. The zero value is usable.
type Options struct {
	// Now is the emulator's clock (token lifetimes, assertion nbf/exp, timestamps).
	// Default time.Now.
	Now func() time.Time
	// Rand is the source of object IDs, codes and tokens. Default crypto/rand.Reader.
	Rand io.Reader
	// Float64 draws the random numbers that decide fractional faults (Fault.Probability); it
	// must return values in [0, 1). Inject math/rand/v2's (*rand.Rand).Float64 for
	// deterministic runs. Default: math/rand/v2.Float64.
	Float64 func() float64
	// PageSize is the number of items in one Graph collection page before @odata.nextLink
	// (a request's $top wins when smaller). Default 100.
	PageSize int
	// TokenLifetime is the access token lifetime. Default 3599 s (MSAL caches tokens with
	// more than 5 min left only).
	TokenLifetime time.Duration
	// SkipPermissionChecks turns off what Graph always does: answer 403
	// Authorization_RequestDenied when the caller's token lacks the permission Microsoft
	// documents for the call (see the package documentation's rule list). Only a test that is
	// not about permissions and cannot grant them should set it, and say why.
	SkipPermissionChecks bool
	// EnforcePermissions is kept for source compatibility and has no effect: permissions are
	// always enforced unless SkipPermissionChecks is set.
	//
	// Deprecated: enforcement is the default.
	EnforcePermissions bool
	// SigningKey signs the emulator's tokens (and is published as JWKS). Nil: a fresh RSA-2048
	// key per server. Tests that start many servers may share one key to save key generation.
	SigningKey *rsa.PrivateKey
}

// Server is a local TLS emulator of Microsoft Entra ID (login.microsoftonline.com) and Microsoft
// Graph v1.0 (graph.microsoft.com), in the style of httptest.Server. Entra endpoints live under
// /{tenant}/..., Graph under /v1.0/...; both on URL.
//
// All methods are safe for concurrent use, also while requests are served.
type Server struct {
	// URL is the base URL of the server, "https://127.0.0.1:PORT". Use it as the MSAL authority
	// host (URL + "/" + tenant) and GraphURL as the Graph base URL.
	URL string

	opts   Options
	ts     *httptest.Server
	closed chan struct{}
	once   sync.Once

	signer *rsa.PrivateKey
	kid    string

	idMu  sync.Mutex
	idSeq int

	mu      sync.Mutex
	tenants map[string]*tenantState
	apps    map[string]*application
	jtis    map[string]time.Time
	codes   map[string]*authCode
	refresh map[string]*refreshGrant
	// everywhere are apps consented in every tenant (ProvisionEverywhere).
	everywhere []provision

	stats    statsState
	faults   faultState
	throttle throttleState // EnableThrottling
}

// NewServer starts a TLS emulator. The caller must Close it. Tests typically do:
//
//	srv := graphtest.NewServer(graphtest.Options{})
//	t.Cleanup(srv.Close)
func NewServer(opts Options) *Server {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Rand == nil {
		opts.Rand = rand.Reader
	}
	if opts.Float64 == nil {
		opts.Float64 = defaultFloat64
	}
	if opts.PageSize <= 0 {
		opts.PageSize = 100
	}
	if opts.TokenLifetime <= 0 {
		opts.TokenLifetime = 3599 * time.Second
	}
	key := opts.SigningKey
	if key == nil {
		var err error
		if key, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic("graphtest: generating the token signing key: " + err.Error())
		}
	}
	s := &Server{
		opts:    opts,
		closed:  make(chan struct{}),
		signer:  key,
		tenants: map[string]*tenantState{},
		apps:    map[string]*application{},
		jtis:    map[string]time.Time{},
		codes:   map[string]*authCode{},
		refresh: map[string]*refreshGrant{},
	}
	s.kid = s.newID()
	s.stats.init()
	s.ts = httptest.NewTLSServer(http.HandlerFunc(s.serveHTTP))
	s.URL = s.ts.URL
	return s
}

// GraphURL returns the Graph base URL to configure in clients: URL + "/v1.0".
func (s *Server) GraphURL() string { return s.URL + "/v1.0" }

// ARMURL returns the Azure Resource Manager base URL of the emulator: URL + "/arm". It serves
// role assignments only ({scope}/providers/Microsoft.Authorization/roleAssignments).
func (s *Server) ARMURL() string { return s.URL + "/arm" }

// Authority returns the MSAL authority for a tenant: URL + "/" + tenant.
func (s *Server) Authority(tenant string) string { return s.URL + "/" + tenant }

// Certificate returns the server's TLS certificate, for clients in another process (trust it as
// a root, as Client does).
func (s *Server) Certificate() *x509.Certificate { return s.ts.Certificate() }

// Client returns an *http.Client that trusts the server's certificate. Each call returns a new
// client sharing the server's transport settings.
func (s *Server) Client() *http.Client {
	c := s.ts.Client()
	return &http.Client{Transport: c.Transport}
}

// Close shuts the server down, releasing requests held by FaultHang.
func (s *Server) Close() {
	s.once.Do(func() { close(s.closed) })
	s.ts.CloseClientConnections()
	s.ts.Close()
}

func (s *Server) now() time.Time { return s.opts.Now() }

// Route names used by counters and faults. Entra routes are counted by the tenant in the path,
// Graph routes by the tenant of the bearer token.
const (
	RouteOpenIDConfiguration   = "entra.openid-configuration"
	RouteJWKS                  = "entra.jwks"
	RouteToken                 = "entra.token"
	RouteAdminConsent          = "entra.adminconsent"
	RouteAuthorize             = "entra.authorize"
	RouteServicePrincipals     = "graph.servicePrincipals"
	RouteAppRoleAssignments    = "graph.appRoleAssignments"
	RouteOAuth2Grants          = "graph.oauth2PermissionGrants"
	RouteMemberOf              = "graph.memberOf"
	RouteRoleAssignments       = "graph.roleAssignments"
	RouteApplications          = "graph.applications"
	RouteUsers                 = "graph.users"
	RouteRegistrationDetails   = "graph.userRegistrationDetails"
	RouteSignIns               = "graph.signIns"
	RouteMFARequirements       = "graph.beta.authenticationRequirements"
	RouteOrganization          = "graph.organization"
	RouteBatch                 = "graph.$batch"
	RouteARMRoleAssignments    = "arm.roleAssignments"
	RouteUnknown               = "unknown"
	unauthenticatedTenantLabel = ""
)

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			writeODataError(w, r, http.StatusBadRequest, "BadRequest", "The request body is not valid gzip.")
			return
		}
		r.Body = io.NopCloser(io.LimitReader(zr, 8<<20))
		r.Header.Del("Content-Encoding")
	}
	path := r.URL.Path
	if rest, ok := strings.CutPrefix(path, "/v1.0/"); ok {
		s.serveGraph(w, r, rest)
		return
	}
	if rest, ok := strings.CutPrefix(path, "/arm/"); ok {
		s.serveARM(w, r, rest)
		return
	}
	if rest, ok := strings.CutPrefix(path, "/beta/"); ok {
		s.serveGraph(w, r, "beta:"+rest)
		return
	}
	s.serveEntra(w, r)
}

// clientIP is the address the emulator attributes a sign-in to.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "graphtest: encoding response: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// odataError is Graph's error shape. message is always set: msgraph-sdk-go's ODataError.Error()
// panics without it.
func odataErrorBody(r *http.Request, code, message string) map[string]any {
	inner := map[string]any{
		"date":       time.Now().UTC().Format("2006-01-02T15:04:05"),
		"request-id": requestID(r),
	}
	if c := r.Header.Get("client-request-id"); c != "" {
		inner["client-request-id"] = c
	}
	return map[string]any{"error": map[string]any{"code": code, "message": message, "innerError": inner}}
}

func writeODataError(w http.ResponseWriter, r *http.Request, status int, code, message string) {
	writeJSON(w, status, odataErrorBody(r, code, message))
}

func requestID(r *http.Request) string {
	if id := r.Header.Get("client-request-id"); id != "" {
		return id
	}
	return fmt.Sprintf("%016x", time.Now().UnixNano())
}
