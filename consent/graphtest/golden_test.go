package graphtest

import (
	"bytes"
	"encoding/json"
	"flag"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/tenantapps/tenantapps/consent/consenttest"
	"github.com/tenantapps/tenantapps/roles"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// seededReader is a deterministic io.Reader for Options.Rand.
type seededReader struct{ r *rand.ChaCha8 }

func (s seededReader) Read(p []byte) (int, error) { return s.r.Read(p) }

// TestGraphShapesGolden pins the JSON the emulator answers for the objects the driver reads,
// against Graph's documented shapes (see the research note, section C.4/C.5).
func TestGraphShapesGolden(t *testing.T) {
	f := newFixture(t, Options{Rand: seededReader{rand.NewChaCha8([32]byte{1})}})
	must(t, f.srv.GrantDelegated(tenantA, appX, MicrosoftGraphAppID, "", "User.Read"))
	must(t, f.srv.AssignAppDirectoryRole(tenantA, appX, roles.ExchangeAdministrator))
	uid, err := f.srv.AddUser(tenantA, consenttest.User{UserPrincipalName: "anna@contoso.example", Licenses: []string{"c7df2760-2c81-4ef7-b578-5b5392b571df"}})
	must(t, err)
	tok := f.accessToken(t, tenantA, reader)
	sp := "/servicePrincipals(appId='" + appX + "')"
	got := map[string]any{}
	for name, path := range map[string]string{
		"servicePrincipal":       sp + "?$select=id,appId,displayName,accountEnabled,appOwnerOrganizationId",
		"appRoleAssignments":     sp + "/appRoleAssignments",
		"oauth2PermissionGrants": sp + "/oauth2PermissionGrants",
		"memberOf":               sp + "/memberOf/microsoft.graph.directoryRole?$count=true",
		"user":                   "/users/" + uid,
		"notFound":               "/servicePrincipals(appId='bbbbbbbb-0000-4000-8000-000000000009')",
		"unsupportedFilter":      "/servicePrincipals?$filter=" + url.QueryEscape("startswith(displayName,'a')"),
	} {
		st, _, body := f.graph(t, "GET", path, tok, nil, map[string]string{"client-request-id": "00000000-0000-0000-0000-0000000000aa", "ConsistencyLevel": "eventual"})
		if e, ok := body["error"].(map[string]any); ok {
			delete(e, "innerError") // dates and request IDs
		}
		scrubTimes(body)
		got[name] = map[string]any{"status": st, "body": body}
	}
	out, err := json.MarshalIndent(got, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "graph_shapes.golden.json")
	if *update {
		must(t, os.WriteFile(path, append(out, '\n'), 0o644))
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run TestGraphShapesGolden ./consent/graphtest -args -update to create it)", err)
	}
	if diff := cmp.Diff(string(bytes.TrimSpace(want)), string(out)); diff != "" {
		t.Errorf("Graph shapes mismatch (-want +got):\n%s", diff)
	}
}

// scrubTimes replaces the values of *DateTime properties (real clock) with their layout check.
func scrubTimes(v any) {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			if str, ok := val.(string); ok && strings.HasSuffix(k, "DateTime") {
				if _, err := time.Parse("2006-01-02T15:04:05Z", str); err == nil {
					x[k] = "<RFC 3339 UTC, seconds>"
				}
				continue
			}
			scrubTimes(val)
		}
	case []any:
		for _, e := range x {
			scrubTimes(e)
		}
	}
}
