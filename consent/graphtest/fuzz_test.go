package graphtest

import (
	"strings"
	"testing"
)

func FuzzParseFilter(f *testing.F) {
	for _, s := range []string{
		"appId eq 'aaaaaaaa-0000-4000-8000-000000000001'",
		"clientId eq 'x' and consentType eq 'AllPrincipals'",
		"createdDateTime ge 2024-01-01T00:00:00Z and appId eq 'a'",
		"displayName eq 'O''Brien'",
		"accountEnabled eq true",
		"appId in ('x')", "eq", "'", "a eq", "a eq 'x' and", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		clauses, err := parseFilter(s)
		if err != nil {
			return
		}
		for _, c := range clauses {
			if c.Prop == "" || !validProp(c.Prop) {
				t.Fatalf("parseFilter(%q) accepted property %q", s, c.Prop)
			}
		}
		// Matching never panics on any object shape.
		matchFilter(map[string]any{"appId": "x", "status": map[string]any{"errorCode": 0}}, clauses)
	})
}

func FuzzParseJWT(f *testing.F) {
	f.Add("eyJhbGciOiJQUzI1NiJ9.eyJhdWQiOiJ4In0.c2ln")
	f.Add("a.b.c")
	f.Add("..")
	f.Add(strings.Repeat("A", 100))
	f.Fuzz(func(t *testing.T, s string) {
		p, err := parseJWT(s)
		if err != nil {
			return
		}
		if p.Header == nil || p.Claims == nil {
			t.Fatalf("parseJWT(%q) returned nil maps without error", s)
		}
		_ = p.str("iss")
		_, _ = p.num("exp")
		_ = p.hdr("alg")
		_ = p.verify(&rsaKey(t).PublicKey)
	})
}

func FuzzParseBatch(f *testing.F) {
	f.Add(`{"requests":[{"id":"1","method":"GET","url":"/organization"}]}`)
	f.Add(`{"requests":[{"id":"1","method":"GET","url":"/x","dependsOn":["2"]},{"id":"2","method":"GET","url":"/y"}]}`)
	f.Add(`{"requests":[]}`)
	f.Add(`[]`)
	f.Fuzz(func(t *testing.T, s string) {
		reqs, err := parseBatch([]byte(s))
		if err != nil {
			return
		}
		if len(reqs) == 0 || len(reqs) > maxBatchRequests {
			t.Fatalf("parseBatch accepted %d requests", len(reqs))
		}
		seen := map[string]bool{}
		for _, r := range reqs {
			k := strings.ToLower(r.ID)
			if k == "" || seen[k] || r.Method == "" || r.URL == "" {
				t.Fatalf("parseBatch accepted an invalid request %+v", r)
			}
			seen[k] = true
		}
	})
}
