// Package tokenscope holds the HTTP layer that lets MSAL Go accept Entra's answer to a delegated
// token request for a "<resource>/.default" scope. It is separate from consent/graph so that it
// can be unit-tested and fuzzed without compiling msgraph-sdk-go.
package tokenscope

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Transport lets MSAL Go accept Entra's answer to a delegated token request for a
// "<resource>/.default" scope (RedeemCode, ProveDelegated).
//
// Entra answers such a request with the concrete scopes it granted in the token response's
// "scope" field ("https://graph.microsoft.com/User.Read ..."), never with ".default" itself. MSAL
// Go v1.10.1 compares the requested scopes with that field literally:
// apps/internal/oauth/ops/accesstokens/tokens.go:252-258 (TokenResponse.ComputeScope) calls
// findDeclinedScopes (tokens.go:308-321), which reports "<resource>/.default" as declined, and
// apps/internal/base/base.go:163-165 (NewAuthResult) then fails the whole acquisition with
// "token response failed because declined scopes are present". The granted scopes also become
// the cached access token's target (apps/internal/base/storage/storage.go:178), which
// AcquireTokenSilent matches against the requested scopes (storage.go:71-83, 337), so a token
// cached without ".default" would never be found again for ".default".
//
// For a token-endpoint response to a request whose "scope" form field holds "<resource>/.default",
// this layer appends that exact ".default" value to the response's "scope" string when the
// response grants at least one concrete scope of the same resource — which is what ".default"
// means. Then MSAL's declined-scope check passes and the cache entry carries ".default" next to
// the concrete scopes. Everything else passes through byte for byte: other requests, error
// responses, non-JSON or encoded (gzip) bodies, malformed JSON, and responses granting nothing of
// that resource (a ".default" Entra really declined still fails in MSAL). Only the "scope" value
// is rewritten in place; the rest of the body keeps its bytes.
type Transport struct {
	// Next carries the requests; nil means http.DefaultTransport.
	Next http.RoundTripper
}

// maxTokenResponse bounds the token responses the layer rewrites; larger ones pass through.
const maxTokenResponse = 1 << 20

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	defaults := requestedDefaultScopes(req)
	next := t.Next
	if next == nil {
		next = http.DefaultTransport
	}
	resp, err := next.RoundTrip(req)
	if err != nil || len(defaults) == 0 || resp == nil {
		return resp, err
	}
	if resp.StatusCode != http.StatusOK || resp.Body == nil || resp.Body == http.NoBody {
		return resp, nil
	}
	if ce := resp.Header.Get("Content-Encoding"); ce != "" && !strings.EqualFold(ce, "identity") {
		return resp, nil
	}
	if mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type")); err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		return resp, nil
	}
	body, rerr := io.ReadAll(io.LimitReader(resp.Body, maxTokenResponse+1))
	if rerr != nil || len(body) > maxTokenResponse {
		// Hand MSAL what was read followed by the rest (and the read error, if any).
		resp.Body = &replayBody{Reader: io.MultiReader(bytes.NewReader(body), &errReader{resp.Body, rerr}), Closer: resp.Body}
		return resp, nil
	}
	_ = resp.Body.Close()
	if out, ok := addDefaultScopes(body, defaults); ok {
		body = out
		resp.ContentLength = int64(len(body))
		resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}

// replayBody replays a partly read response body.
type replayBody struct {
	io.Reader
	io.Closer
}

// errReader reads r, or returns err first when set.
type errReader struct {
	r   io.Reader
	err error
}

func (e *errReader) Read(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	return e.r.Read(p)
}

// requestedDefaultScopes returns the "<resource>/.default" scopes of a token request (a POST of
// a form with a "scope" field to a ".../token" endpoint), read from a copy of its body.
func requestedDefaultScopes(req *http.Request) []string {
	if req.Method != http.MethodPost || req.GetBody == nil || !strings.HasSuffix(req.URL.Path, "/token") {
		return nil
	}
	if mt, _, err := mime.ParseMediaType(req.Header.Get("Content-Type")); err != nil || mt != "application/x-www-form-urlencoded" {
		return nil
	}
	rc, err := req.GetBody()
	if err != nil {
		return nil
	}
	defer rc.Close()
	raw, err := io.ReadAll(io.LimitReader(rc, maxTokenResponse))
	if err != nil {
		return nil
	}
	form, err := url.ParseQuery(string(raw))
	if err != nil {
		return nil
	}
	var out []string
	for _, s := range strings.Fields(form.Get("scope")) {
		if res, ok := strings.CutSuffix(s, "/.default"); ok && res != "" {
			out = append(out, s)
		}
	}
	return out
}

// graphResources are the identifiers of Microsoft Graph, whose scopes Entra may return without
// the resource prefix ("User.Read").
var graphResources = []string{
	"https://graph.microsoft.com", "https://graph.microsoft.us", "https://dod-graph.microsoft.us",
	"https://microsoftgraph.chinacloudapi.cn", "00000003-0000-0000-c000-000000000000",
}

// grantsResource reports whether the granted scope g is a concrete scope of resource res.
func grantsResource(g, res string) bool {
	switch strings.ToLower(g) {
	case "openid", "profile", "offline_access", "email":
		return false
	}
	if !strings.Contains(g, "/") {
		for _, r := range graphResources {
			if strings.EqualFold(strings.TrimSuffix(res, "/"), r) {
				return true
			}
		}
		return false
	}
	v, ok := cutPrefixFold(g, res+"/")
	return ok && v != "" && !strings.Contains(v, "/") && !strings.EqualFold(v, ".default")
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) < len(prefix) || !strings.EqualFold(s[:len(prefix)], prefix) {
		return "", false
	}
	return s[len(prefix):], true
}

// addDefaultScopes returns body with each requested ".default" scope appended to the top-level
// "scope" string when that string grants a scope of the same resource and lacks the ".default"
// itself. It reports false (and body must be used unchanged) when nothing is to be added or the
// body is not a JSON object with exactly one string "scope" member.
func addDefaultScopes(body []byte, defaults []string) ([]byte, bool) {
	if !json.Valid(body) {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, false
	}
	start, end := -1, -1
	var scope string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, false
		}
		key, _ := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, false
		}
		if key != "scope" {
			continue
		}
		if start >= 0 || json.Unmarshal(raw, &scope) != nil {
			return nil, false // duplicate or non-string "scope": leave it to MSAL
		}
		end = int(dec.InputOffset())
		start = end - len(raw)
	}
	if stringLiteral(body, start, end) == nil {
		return nil, false
	}
	granted := strings.Fields(scope)
	var add []string
	for _, d := range defaults {
		res := strings.TrimSuffix(d, "/.default")
		has, grants := false, false
		for _, g := range granted {
			has = has || strings.EqualFold(g, d)
			grants = grants || grantsResource(g, res)
		}
		for _, a := range add {
			has = has || strings.EqualFold(a, d)
		}
		if !has && grants {
			add = append(add, d)
		}
	}
	if len(add) == 0 {
		return nil, false
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(scope + " " + strings.Join(add, " ")); err != nil {
		return nil, false
	}
	val := bytes.TrimRight(buf.Bytes(), "\n")
	out := make([]byte, 0, len(body)+len(val))
	out = append(out, body[:start]...)
	out = append(out, val...)
	out = append(out, body[end:]...)
	return out, true
}

// stringLiteral returns body[start:end] when it is a JSON string literal, else nil.
func stringLiteral(body []byte, start, end int) []byte {
	if start < 0 || end > len(body) || start >= end || body[start] != '"' || body[end-1] != '"' {
		return nil
	}
	return body[start:end]
}
