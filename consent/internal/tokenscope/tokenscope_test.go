package tokenscope

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

type stubRT struct {
	status int
	header http.Header
	body   []byte
	err    error
	got    *http.Request
}

func (s *stubRT) RoundTrip(req *http.Request) (*http.Response, error) {
	s.got = req
	if s.err != nil {
		return nil, s.err
	}
	h := s.header.Clone()
	if h == nil {
		h = http.Header{"Content-Type": {"application/json; charset=utf-8"}}
	}
	return &http.Response{StatusCode: s.status, Header: h, Body: io.NopCloser(bytes.NewReader(s.body)), ContentLength: int64(len(s.body)), Request: req}, nil
}

// tokenRequest builds a token request the way MSAL's comm.URLFormCall does.
func tokenRequest(t *testing.T, method, path, scope string) *http.Request {
	t.Helper()
	enc := url.Values{"grant_type": {"authorization_code"}, "scope": {scope}, "code": {"c"}}.Encode()
	u, err := url.Parse("https://login.example" + path)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Request{Method: method, URL: u, Header: http.Header{"Content-Type": {"application/x-www-form-urlencoded; charset=utf-8"}},
		ContentLength: int64(len(enc)), Body: io.NopCloser(strings.NewReader(enc)),
		GetBody: func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(enc)), nil }}
}

func gzipped(s string) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	_, _ = w.Write([]byte(s))
	_ = w.Close()
	return b.Bytes()
}

func TestDefaultScopeTransport(t *testing.T) {
	const (
		graphDefault = "https://graph.microsoft.com/.default openid offline_access profile"
		tokenPath    = "/11111111-1111-4111-8111-111111111111/oauth2/v2.0/token"
		rest         = `"token_type":"Bearer","expires_in":3599,"access_token":"a.b.c","x":"\u00e9<&>"`
	)
	jsonHdr := http.Header{"Content-Type": {"application/json; charset=utf-8"}}
	tests := []struct {
		name         string
		method, path string
		reqScope     string
		status       int
		header       http.Header
		body         []byte
		want         string // "" = body unchanged
	}{
		{name: "graph default, prefixed grants", reqScope: graphDefault,
			body: []byte(`{` + rest + `,"scope":"https://graph.microsoft.com/User.Read https://graph.microsoft.com/Mail.Read openid profile offline_access"}`),
			want: `{` + rest + `,"scope":"https://graph.microsoft.com/User.Read https://graph.microsoft.com/Mail.Read openid profile offline_access https://graph.microsoft.com/.default"}`},
		{name: "graph default, unprefixed Graph grants", reqScope: graphDefault,
			body: []byte(`{"scope" : "User.Read openid profile", ` + rest + `}`),
			want: `{"scope" : "User.Read openid profile https://graph.microsoft.com/.default", ` + rest + `}`},
		{name: "resource matched case-insensitively", reqScope: graphDefault,
			body: []byte(`{"scope":"HTTPS://Graph.Microsoft.com/User.Read"}`),
			want: `{"scope":"HTTPS://Graph.Microsoft.com/User.Read https://graph.microsoft.com/.default"}`},
		{name: "custom API default", reqScope: "api://aaaaaaaa-0000-4000-8000-000000000001/.default openid",
			body: []byte(`{"scope":"api://aaaaaaaa-0000-4000-8000-000000000001/Files.Read"}`),
			want: `{"scope":"api://aaaaaaaa-0000-4000-8000-000000000001/Files.Read api://aaaaaaaa-0000-4000-8000-000000000001/.default"}`},
		{name: "already has .default", reqScope: graphDefault, body: []byte(`{"scope":"https://graph.microsoft.com/User.Read https://graph.microsoft.com/.default"}`)},
		{name: "grants another resource only", reqScope: graphDefault, body: []byte(`{"scope":"https://outlook.office.com/Mail.Read openid"}`)},
		{name: "unprefixed grant for a non-Graph resource", reqScope: "https://outlook.office.com/.default", body: []byte(`{"scope":"Mail.Read"}`)},
		{name: "look-alike host", reqScope: graphDefault, body: []byte(`{"scope":"https://graph.microsoft.com.evil.example/User.Read"}`)},
		{name: "nested path is not a scope of the resource", reqScope: graphDefault, body: []byte(`{"scope":"https://graph.microsoft.com/x/User.Read"}`)},
		{name: "OIDC scopes only", reqScope: graphDefault, body: []byte(`{"scope":"openid profile offline_access email"}`)},
		{name: "empty scope", reqScope: graphDefault, body: []byte(`{"scope":""}`)},
		{name: "no scope field", reqScope: graphDefault, body: []byte(`{` + rest + `}`)},
		{name: "concrete scopes requested", reqScope: "https://graph.microsoft.com/User.Read openid", body: []byte(`{"scope":"https://graph.microsoft.com/Mail.Read"}`)},
		{name: "error response", reqScope: graphDefault, status: 400, body: []byte(`{"error":"invalid_grant","scope":"https://graph.microsoft.com/User.Read"}`)},
		{name: "server error", reqScope: graphDefault, status: 500, body: []byte(`oops`)},
		{name: "malformed JSON", reqScope: graphDefault, body: []byte(`{"scope":"https://graph.microsoft.com/User.Read"`)},
		{name: "trailing garbage", reqScope: graphDefault, body: []byte(`{"scope":"https://graph.microsoft.com/User.Read"} x`)},
		{name: "JSON array", reqScope: graphDefault, body: []byte(`[{"scope":"https://graph.microsoft.com/User.Read"}]`)},
		{name: "non-string scope", reqScope: graphDefault, body: []byte(`{"scope":["https://graph.microsoft.com/User.Read"]}`)},
		{name: "duplicate scope", reqScope: graphDefault, body: []byte(`{"scope":"https://graph.microsoft.com/User.Read","scope":"x"}`)},
		{name: "nested scope only", reqScope: graphDefault, body: []byte(`{"a":{"scope":"https://graph.microsoft.com/User.Read"}}`)},
		{name: "empty body", reqScope: graphDefault, body: []byte(``)},
		{name: "not JSON", reqScope: graphDefault, header: http.Header{"Content-Type": {"text/html"}}, body: []byte(`{"scope":"https://graph.microsoft.com/User.Read"}`)},
		{name: "no content type", reqScope: graphDefault, header: http.Header{}, body: []byte(`{"scope":"https://graph.microsoft.com/User.Read"}`)},
		{name: "gzip", reqScope: graphDefault, header: http.Header{"Content-Type": {"application/json"}, "Content-Encoding": {"gzip"}},
			body: gzipped(`{"scope":"https://graph.microsoft.com/User.Read"}`)},
		{name: "binary", reqScope: graphDefault, header: jsonHdr, body: []byte{0xff, 0x00, '{', 0x80}},
		{name: "GET", method: http.MethodGet, reqScope: graphDefault, body: []byte(`{"scope":"https://graph.microsoft.com/User.Read"}`)},
		{name: "not a token endpoint", path: "/v1.0/me", reqScope: graphDefault, body: []byte(`{"scope":"https://graph.microsoft.com/User.Read"}`)},
		{name: "oversized", reqScope: graphDefault,
			body: []byte(`{"pad":"` + strings.Repeat("a", maxTokenResponse) + `","scope":"https://graph.microsoft.com/User.Read"}`)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.method == "" {
				tc.method = http.MethodPost
			}
			if tc.path == "" {
				tc.path = tokenPath
			}
			if tc.status == 0 {
				tc.status = http.StatusOK
			}
			stub := &stubRT{status: tc.status, header: tc.header, body: tc.body}
			rt := &Transport{Next: stub}
			req := tokenRequest(t, tc.method, tc.path, tc.reqScope)
			resp, err := rt.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			if stub.got != req {
				t.Error("the request sent is not the caller's")
			}
			if sent, _ := io.ReadAll(req.Body); !strings.Contains(string(sent), "scope=") {
				t.Errorf("the request body was consumed: %q", sent)
			}
			got, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			_ = resp.Body.Close()
			want := tc.want
			if want == "" {
				want = string(tc.body)
			}
			if string(got) != want {
				t.Errorf("body:\n got %.300q\nwant %.300q", got, want)
			}
			if resp.StatusCode != tc.status {
				t.Errorf("status %d, want %d", resp.StatusCode, tc.status)
			}
			if tc.want != "" {
				if resp.ContentLength != int64(len(got)) || resp.Header.Get("Content-Length") != strconv.Itoa(len(got)) {
					t.Errorf("Content-Length %d / %q, body %d bytes", resp.ContentLength, resp.Header.Get("Content-Length"), len(got))
				}
			} else if resp.ContentLength != int64(len(tc.body)) {
				t.Errorf("ContentLength changed to %d", resp.ContentLength)
			}
		})
	}
}

func TestDefaultScopeTransportPassesErrors(t *testing.T) {
	boom := errors.New("connection reset")
	rt := &Transport{Next: &stubRT{err: boom}}
	if _, err := rt.RoundTrip(tokenRequest(t, http.MethodPost, "/t/oauth2/v2.0/token", "https://graph.microsoft.com/.default")); !errors.Is(err, boom) {
		t.Fatalf("err = %v, want %v", err, boom)
	}
	// A request whose body cannot be copied (no GetBody) is sent untouched and not inspected.
	stub := &stubRT{status: 200, body: []byte(`{"scope":"https://graph.microsoft.com/User.Read"}`)}
	req := tokenRequest(t, http.MethodPost, "/t/oauth2/v2.0/token", "https://graph.microsoft.com/.default")
	req.GetBody = nil
	resp, err := (&Transport{Next: stub}).RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := io.ReadAll(resp.Body); string(got) != string(stub.body) {
		t.Errorf("body = %q", got)
	}
}

// FuzzAddDefaultScopes: never panics; a rewrite only appends the requested ".default" to the
// top-level "scope" string and keeps every other member.
func FuzzAddDefaultScopes(f *testing.F) {
	for _, s := range []string{`{"scope":"https://graph.microsoft.com/User.Read"}`, `{"scope":"User.Read","a":1}`, `{"scope":1}`, `[]`, `{`, `"x"`, `{"scope":"\ud800"}`, ``} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		out, ok := addDefaultScopes(body, []string{"https://graph.microsoft.com/.default"})
		if !ok {
			return
		}
		var before, after map[string]any
		if err := json.Unmarshal(body, &before); err != nil {
			t.Fatalf("rewrote invalid input %q", body)
		}
		if err := json.Unmarshal(out, &after); err != nil {
			t.Fatalf("rewrite %q is not JSON: %v", out, err)
		}
		if after["scope"] != before["scope"].(string)+" https://graph.microsoft.com/.default" {
			t.Fatalf("scope %q -> %q", before["scope"], after["scope"])
		}
		delete(before, "scope")
		delete(after, "scope")
		b1, _ := json.Marshal(before)
		b2, _ := json.Marshal(after)
		if !bytes.Equal(b1, b2) {
			t.Fatalf("other members changed: %s -> %s", b1, b2)
		}
	})
}
