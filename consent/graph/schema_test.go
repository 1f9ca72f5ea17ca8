package graph_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tenantapps/tenantapps/consent/consenttest"
	"github.com/tenantapps/tenantapps/consent/graph"
	"github.com/tenantapps/tenantapps/consent/graphtest"
	"github.com/tenantapps/tenantapps/roles"
)

// TestDriverRequestsMatchGraphSchema holds the driver and the emulator to Microsoft's Graph v1.0
// schema rather than to each other: a recording transport around the real driver (MSAL +
// msgraph-sdk-go over TLS) captures every Graph request of the conformance suite and of the
// reads it does not cover, $batch items included, and checks that every path segment, key
// (alternate keys included), OData cast, $select and $filter property exists in the CSDL
// (testdata/graphschema, cut from microsoftgraph/msgraph-metadata), and that every emulator
// response body for those entities uses schema properties with the right JSON types.
func TestDriverRequestsMatchGraphSchema(t *testing.T) {
	schema := loadSchema(t, "testdata/graphschema/graph_v1.0_subset.xml")
	rec := &recorder{}
	wrap := func(c *graph.Config) {
		c.HTTPClient = &http.Client{Transport: &recordingTransport{rec: rec, next: c.HTTPClient.Transport}, Timeout: c.HTTPClient.Timeout}
	}
	t.Run("conformance", func(t *testing.T) {
		consenttest.RunDriverConformance(t, func(t *testing.T) consenttest.Env { return conformanceEnv(t, wrap) })
	})
	// Reads the suite may not reach: a UPN, paging, a role assignment and its re-check.
	e := newEnv(t, graphtest.Options{PageSize: 2}, wrap)
	e.withCustomer(t)
	ctx := ctxT(t)
	must(t, e.srv.AssignAppDirectoryRole(tenantA, appX, roles.ExchangeAdministrator))
	uid, err := e.srv.AddUser(tenantA, consenttest.User{UserPrincipalName: "anna@contoso.example", MFARegistered: true, Licenses: []string{"c7df2760-2c81-4ef7-b578-5b5392b571df"},
		DirectoryRoles: []roles.TemplateID{roles.GlobalReader, roles.ExchangeAdministrator, roles.UserAdministrator}})
	must(t, err)
	for range 3 {
		_, err := e.srv.SimulateSignIn(tenantA, appX, uid, "203.0.113.7")
		must(t, err)
	}
	if _, err := e.drv.AppState(ctx, tenantA, appX); err != nil {
		t.Fatal(err)
	}
	if _, err := e.drv.UserState(ctx, tenantA, "anna@contoso.example"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.drv.SignIns(ctx, tenantA, appX, time.Time{}, 5); err != nil {
		t.Fatal(err)
	}
	if _, err := e.drv.AssignDirectoryRole(ctx, tenantA, appX, roles.GlobalReader); err != nil {
		t.Fatal(err)
	}
	if _, err := e.drv.KeyCredentials(ctx, mspTenant, appX); err != nil {
		t.Fatal(err)
	}
	_, _ = e.drv.AssignDirectoryRole(ctx, tenantA, appX, "0b1e5c7a-0000-4000-8000-00000000dead") // the 400 path re-reads roleAssignments

	calls := rec.graphCalls(t)
	covered := map[string]bool{}
	for _, c := range calls {
		where := c.method + " " + c.url
		if _, rawQuery, _ := strings.Cut(c.url, "?"); strings.Contains(rawQuery, "+") {
			// Spaces go out as %20 (microsoft-graph-docs-contrib concepts/query-parameters.md,
			// "Encoding query parameters"); OData reads "+" as a plus sign.
			t.Errorf("%s: the query encodes a space as '+'", where)
		}
		target, err := schema.resolve(c.path, c.query)
		if err != nil {
			t.Errorf("%s: %v", where, err)
			continue
		}
		covered[target.label] = true
		if c.method == http.MethodPost && len(c.reqBody) > 0 {
			// A created entity's body uses the target type's properties.
			var body any
			if err := json.Unmarshal(c.reqBody, &body); err != nil {
				t.Errorf("%s: request body is not JSON: %v", where, err)
			}
			for _, problem := range schema.checkObject(target.typ, body, "") {
				t.Errorf("%s: request body: %s", where, problem)
			}
			covered["POST "+target.label] = true
		}
		if c.status >= 200 && c.status < 300 && len(c.body) > 0 && c.method == http.MethodGet {
			var body any
			if err := json.Unmarshal(c.body, &body); err != nil {
				if bytes.Contains(c.body, []byte("<html>")) {
					continue // the suite's injected malformed-JSON fault (graphtest.FaultMalformedJSON)
				}
				t.Errorf("%s: response is not JSON: %v", where, err)
				continue
			}
			for _, problem := range schema.checkBody(target, body) {
				t.Errorf("%s: response: %s", where, problem)
			}
		}
	}
	// The reads the driver depends on were all exercised.
	for _, want := range []string{
		"servicePrincipals", "servicePrincipals/appRoleAssignments", "servicePrincipals/oauth2PermissionGrants",
		"servicePrincipals/memberOf/directoryRole", "users", "users/memberOf/directoryRole",
		"reports/authenticationMethods/userRegistrationDetails", "auditLogs/signIns",
		"roleManagement/directory/roleAssignments", "applications", "POST roleManagement/directory/roleAssignments",
	} {
		if !covered[want] {
			t.Errorf("no recorded request reached %s (covered: %v)", want, sortedKeys(covered))
		}
	}
	t.Logf("checked %d Graph v1.0 requests against the schema (%d distinct targets)", len(calls), len(covered))
}

// TestSchemaCheckerRejects: the schema check is not vacuous — it rejects what Graph v1.0 does
// not have.
func TestSchemaCheckerRejects(t *testing.T) {
	schema := loadSchema(t, "testdata/graphschema/graph_v1.0_subset.xml")
	for _, tc := range []struct{ path, query string }{
		{"/servicePrincipalz", ""},
		{"/servicePrincipals(displayName='x')", ""},                            // not an alternate key
		{"/servicePrincipals(appId='x')/memberOf/microsoft.graph.signIn", ""},  // not a directoryObject
		{"/servicePrincipals(appId='x')/appRoles", ""},                         // a property, not a navigation
		{"/servicePrincipals", "$select=id,appId,bogus"},                       // no such property
		{"/auditLogs/signIns", "$filter=" + url.QueryEscape("appName eq 'x'")}, // no such property
		{"/auditLogs/signIns", "$orderby=createdDateTime"},                     // an option the driver does not send
		{"/reports/authenticationMethods/userRegistration", ""},                // no such navigation
	} {
		q, _ := url.ParseQuery(tc.query)
		if _, err := schema.resolve(tc.path, q); err == nil {
			t.Errorf("resolve(%s?%s) accepted it", tc.path, tc.query)
		}
	}
	tg, err := schema.resolve("/servicePrincipals(appId='x')", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, body := range []string{
		`{"id": "x", "accountEnabled": "yes"}`, // a string for Edm.Boolean
		`{"id": "x", "appRoles": {}}`,          // an object for a collection
		`{"id": "x", "notAProperty": 1}`,       // no such property
		`{"id": "x", "keyCredentials": [{"keyId": 3}]}`,
	} {
		var v any
		must(t, json.Unmarshal([]byte(body), &v))
		if problems := schema.checkBody(tg, v); len(problems) == 0 {
			t.Errorf("checkBody(%s) found nothing", body)
		}
	}
}

// ---- the schema ----

type edmSchema struct {
	types     map[string]*edmType
	container map[string]containerEntry
}

type containerEntry struct {
	typ string
	set bool // entity set (collection) rather than singleton
}

type edmType struct {
	name, base, kind string // kind: entity, complex, enum
	props            map[string]string
	navs             map[string]string
	altKeys          []string
}

type xmlType struct {
	Name     string    `xml:"Name,attr"`
	BaseType string    `xml:"BaseType,attr"`
	Props    []xmlProp `xml:"Property"`
	Navs     []xmlProp `xml:"NavigationProperty"`
	Annots   []struct {
		Term  string `xml:"Term,attr"`
		Inner string `xml:",innerxml"`
	} `xml:"Annotation"`
}

type xmlProp struct {
	Name string `xml:"Name,attr"`
	Type string `xml:"Type,attr"`
}

var propertyPathRE = regexp.MustCompile(`PropertyPath="(\w+)"`)

func loadSchema(t *testing.T, path string) *edmSchema {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Schema struct {
			Entities  []xmlType `xml:"EntityType"`
			Complexes []xmlType `xml:"ComplexType"`
			Enums     []xmlType `xml:"EnumType"`
			Container struct {
				Sets []struct {
					Name string `xml:"Name,attr"`
					Type string `xml:"EntityType,attr"`
				} `xml:"EntitySet"`
				Singletons []struct {
					Name string `xml:"Name,attr"`
					Type string `xml:"Type,attr"`
				} `xml:"Singleton"`
			} `xml:"EntityContainer"`
		} `xml:"DataServices>Schema"`
	}
	if err := xml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("parsing %s: %v", path, err)
	}
	s := &edmSchema{types: map[string]*edmType{}, container: map[string]containerEntry{}}
	add := func(kind string, xs []xmlType) {
		for _, x := range xs {
			et := &edmType{name: x.Name, base: typeName(x.BaseType), kind: kind, props: map[string]string{}, navs: map[string]string{}}
			for _, p := range x.Props {
				et.props[p.Name] = p.Type
			}
			for _, n := range x.Navs {
				et.navs[n.Name] = n.Type
			}
			for _, a := range x.Annots {
				if a.Term == "Org.OData.Core.V1.AlternateKeys" {
					for _, m := range propertyPathRE.FindAllStringSubmatch(a.Inner, -1) {
						et.altKeys = append(et.altKeys, m[1])
					}
				}
			}
			s.types[x.Name] = et
		}
	}
	add("entity", doc.Schema.Entities)
	add("complex", doc.Schema.Complexes)
	add("enum", doc.Schema.Enums)
	for _, e := range doc.Schema.Container.Sets {
		s.container[e.Name] = containerEntry{typ: typeName(e.Type), set: true}
	}
	for _, e := range doc.Schema.Container.Singletons {
		s.container[e.Name] = containerEntry{typ: typeName(e.Type)}
	}
	if len(s.types) < 20 || len(s.container) < 5 {
		t.Fatalf("%s: only %d types and %d container entries: not the expected CSDL", path, len(s.types), len(s.container))
	}
	return s
}

// typeName strips the namespace or alias: "graph.user", "microsoft.graph.user" → "user".
func typeName(t string) string {
	if i := strings.LastIndex(t, "."); i >= 0 {
		return t[i+1:]
	}
	return t
}

// elementType splits "Collection(X)".
func elementType(t string) (string, bool) {
	if inner, ok := strings.CutPrefix(t, "Collection("); ok {
		return strings.TrimSuffix(inner, ")"), true
	}
	return t, false
}

// lookup finds a structural property (props) or navigation property (navs) along the base chain.
func (s *edmSchema) lookup(typ, name string, nav bool) (string, bool) {
	for cur := s.types[typ]; cur != nil; cur = s.types[cur.base] {
		m := cur.props
		if nav {
			m = cur.navs
		}
		if v, ok := m[name]; ok {
			return v, true
		}
	}
	return "", false
}

func (s *edmSchema) derives(typ, from string) bool {
	for cur := s.types[typ]; cur != nil; cur = s.types[cur.base] {
		if cur.name == from {
			return true
		}
	}
	return false
}

func (s *edmSchema) altKey(typ, prop string) bool {
	for cur := s.types[typ]; cur != nil; cur = s.types[cur.base] {
		if slices.Contains(cur.altKeys, prop) {
			return true
		}
	}
	return false
}

// target is what a request path addresses.
type target struct {
	typ        string
	collection bool
	label      string // path shape without keys, e.g. "servicePrincipals/memberOf/directoryRole"
}

var keySegRE = regexp.MustCompile(`^(\w+)\((?:(\w+)=)?'?([^')]*)'?\)$`)

// resolve walks a v1.0 path through the schema and checks its query options.
func (s *edmSchema) resolve(path string, q url.Values) (target, error) {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	var tg target
	var labels []string
	for i, seg := range segs {
		seg, _ = url.PathUnescape(seg)
		switch {
		case i == 0:
			name, keyProp := seg, ""
			if m := keySegRE.FindStringSubmatch(seg); m != nil {
				name, keyProp = m[1], m[2]
				if keyProp == "" {
					keyProp = "id"
				}
			}
			ce, ok := s.container[name]
			if !ok {
				return tg, fmt.Errorf("%q is not an entity set or singleton of Graph v1.0", name)
			}
			tg = target{typ: ce.typ, collection: ce.set}
			labels = append(labels, name)
			if keyProp != "" {
				if !ce.set {
					return tg, fmt.Errorf("%q is a singleton and takes no key", name)
				}
				if keyProp != "id" && !s.altKey(ce.typ, keyProp) {
					return tg, fmt.Errorf("%s(%s=…): %s is not an alternate key of %s", name, keyProp, keyProp, ce.typ)
				}
				tg.collection = false
			}
		case strings.HasPrefix(seg, "microsoft.graph."):
			cast := typeName(seg)
			if _, ok := s.types[cast]; !ok {
				return tg, fmt.Errorf("cast %s: no such type", seg)
			}
			if !s.derives(cast, tg.typ) {
				return tg, fmt.Errorf("cast %s: not derived from %s", seg, tg.typ)
			}
			tg.typ = cast
			labels = append(labels, cast)
		default:
			if nt, ok := s.lookup(tg.typ, seg, true); ok {
				et, coll := elementType(nt)
				tg = target{typ: typeName(et), collection: coll}
				labels = append(labels, seg)
				continue
			}
			if tg.collection {
				tg.collection = false // a key segment: /users/{id | userPrincipalName}
				continue
			}
			return tg, fmt.Errorf("segment %q: %s has no navigation property of that name", seg, tg.typ)
		}
	}
	tg.label = strings.Join(labels, "/")
	for k, vs := range q {
		switch k {
		case "$select":
			for _, p := range strings.Split(vs[0], ",") {
				if _, ok := s.lookup(tg.typ, p, false); !ok {
					if _, nav := s.lookup(tg.typ, p, true); !nav {
						return tg, fmt.Errorf("$select=%s: %s has no property %q", vs[0], tg.typ, p)
					}
				}
			}
		case "$filter":
			for _, m := range filterPropRE.FindAllStringSubmatch(vs[0], -1) {
				if _, ok := s.lookup(tg.typ, m[1], false); !ok {
					return tg, fmt.Errorf("$filter=%s: %s has no property %q", vs[0], tg.typ, m[1])
				}
			}
		case "$top", "$count", "$skiptoken":
		default:
			return tg, fmt.Errorf("query option %s is not one the driver is expected to send", k)
		}
	}
	return tg, nil
}

var filterPropRE = regexp.MustCompile(`(?:^|\(|\s)(\w+)\s+(?:eq|ne|ge|gt|le|lt|in)\s`)

// checkBody checks a response body (a collection page or an entity) against the target type.
func (s *edmSchema) checkBody(tg target, body any) []string {
	obj, ok := body.(map[string]any)
	if !ok {
		return []string{"not a JSON object"}
	}
	if tg.collection {
		vals, ok := obj["value"].([]any)
		if !ok {
			return []string{"a collection without a value array"}
		}
		var out []string
		for i, v := range vals {
			for _, p := range s.checkObject(tg.typ, v, fmt.Sprintf("value[%d]", i)) {
				out = append(out, p)
			}
		}
		return out
	}
	return s.checkObject(tg.typ, obj, "")
}

func (s *edmSchema) checkObject(typ string, v any, where string) []string {
	obj, ok := v.(map[string]any)
	if !ok {
		return []string{fmt.Sprintf("%s: %s is %T, want an object", where, typ, v)}
	}
	if ot, ok := obj["@odata.type"].(string); ok {
		derived := typeName(strings.TrimPrefix(ot, "#"))
		if !s.derives(derived, typ) {
			return []string{fmt.Sprintf("%s: @odata.type %s does not derive from %s", where, ot, typ)}
		}
		typ = derived
	}
	var out []string
	for k, val := range obj {
		if strings.HasPrefix(k, "@") || strings.Contains(k, "@odata.") {
			continue
		}
		pt, ok := s.lookup(typ, k, false)
		if !ok {
			out = append(out, fmt.Sprintf("%s.%s: %s has no property %q", where, k, typ, k))
			continue
		}
		out = append(out, s.checkValue(pt, val, where+"."+k)...)
	}
	return out
}

func (s *edmSchema) checkValue(edm string, v any, where string) []string {
	if v == nil {
		return nil
	}
	if et, coll := elementType(edm); coll {
		arr, ok := v.([]any)
		if !ok {
			return []string{fmt.Sprintf("%s: %s is %T, want an array", where, edm, v)}
		}
		var out []string
		for i, e := range arr {
			out = append(out, s.checkValue(et, e, fmt.Sprintf("%s[%d]", where, i))...)
		}
		return out
	}
	want := ""
	switch edm {
	case "Edm.String", "Edm.Guid", "Edm.DateTimeOffset", "Edm.Date", "Edm.Duration", "Edm.TimeOfDay", "Edm.Binary":
		want = "string"
	case "Edm.Boolean":
		want = "bool"
	case "Edm.Int16", "Edm.Int32", "Edm.Int64", "Edm.Byte", "Edm.Double", "Edm.Single", "Edm.Decimal":
		want = "number"
	default:
		t := s.types[typeName(edm)]
		switch {
		case t == nil:
			return []string{fmt.Sprintf("%s: type %s is not in the schema subset", where, edm)}
		case t.kind == "enum":
			want = "string"
		default:
			return s.checkObject(t.name, v, where)
		}
	}
	got := ""
	switch v.(type) {
	case string:
		got = "string"
	case bool:
		got = "bool"
	case float64:
		got = "number"
	default:
		got = fmt.Sprintf("%T", v)
	}
	if got != want {
		return []string{fmt.Sprintf("%s: JSON %s for %s, want %s", where, got, edm, want)}
	}
	return nil
}

// ---- the recording transport ----

type recordedCall struct {
	method, url string
	path        string // after /v1.0
	query       url.Values
	reqBody     []byte
	status      int
	body        []byte
}

// recorder keeps every request and response (bodies included) of its recordingTransports.
type recorder struct {
	mu    sync.Mutex
	calls []rawCall
}

// recordingTransport records into rec what it sends through next (one per emulator: each has
// its own TLS client).
type recordingTransport struct {
	rec  *recorder
	next http.RoundTripper
}

type rawCall struct {
	method   string
	u        *url.URL
	reqBody  []byte
	status   int
	respBody []byte
}

func (rt *recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	var reqBody []byte
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		req.Body.Close()
		reqBody = b
		req.Body = io.NopCloser(bytes.NewReader(b))
	}
	resp, err := rt.next.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	b, rerr := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(b))
	if rerr != nil {
		return resp, nil // the driver sees the same truncated body; nothing to record
	}
	rt.rec.mu.Lock()
	rt.rec.calls = append(rt.rec.calls, rawCall{method: req.Method, u: req.URL, reqBody: reqBody, status: resp.StatusCode, respBody: b})
	rt.rec.mu.Unlock()
	return resp, nil
}

// graphCalls returns the recorded Graph v1.0 requests, $batch items unpacked (their URLs are
// relative to /v1.0) with their responses.
func (r *recorder) graphCalls(t *testing.T) []recordedCall {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []recordedCall
	add := func(method, raw string, reqBody []byte, status int, body []byte) {
		u, err := url.Parse(raw)
		if err != nil {
			t.Errorf("unparsable request URL %q", raw)
			return
		}
		p := strings.TrimPrefix(u.EscapedPath(), "/v1.0")
		out = append(out, recordedCall{method: method, url: raw, path: p, query: u.Query(), reqBody: reqBody, status: status, body: body})
	}
	for _, c := range r.calls {
		if !strings.HasPrefix(c.u.Path, "/v1.0/") {
			continue // Entra, ARM, beta
		}
		if c.u.Path != "/v1.0/$batch" {
			add(c.method, c.u.RequestURI(), c.reqBody, c.status, c.respBody)
			continue
		}
		var req struct {
			Requests []struct {
				ID, Method, URL string
				Body            json.RawMessage
			} `json:"requests"`
		}
		var resp struct {
			Responses []struct {
				ID     string          `json:"id"`
				Status int             `json:"status"`
				Body   json.RawMessage `json:"body"`
			} `json:"responses"`
		}
		if json.Unmarshal(c.reqBody, &req) != nil {
			t.Errorf("unreadable $batch request body")
			continue
		}
		_ = json.Unmarshal(c.respBody, &resp) // a faulted batch has no items to check
		for _, it := range req.Requests {
			status, body := 0, []byte(nil)
			for _, rs := range resp.Responses {
				if rs.ID == it.ID {
					status, body = rs.Status, rs.Body
				}
			}
			var reqBody []byte
			if len(it.Body) > 0 && string(it.Body) != "null" {
				reqBody = it.Body
			}
			add(it.Method, "/v1.0"+it.URL, reqBody, status, body)
		}
	}
	return out
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
