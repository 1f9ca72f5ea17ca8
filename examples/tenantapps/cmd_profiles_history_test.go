package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/tenantapps/tenantapps/appprofile"
)

// TestProfilesHistoryAndReport verifies the seeded store (tenant B's profile loses a grant), then
// reads the profile's history and the tenant's evidence report.
func TestProfilesHistoryAndReport(t *testing.T) {
	path, f := seedStore(t)
	if code, _, errOut := runProfilesCLI(t, nil, f, "profiles", "verify", "--db", path); code != exitNegative {
		t.Fatalf("verify: exit %d, want %d; stderr %q", code, exitNegative, errOut)
	}
	for _, tc := range []struct {
		golden string
		args   []string
	}{
		{"profiles_history.txt", []string{"profiles", "history", "--db", path, "p-2-nitro"}},
		{"profiles_history.json", []string{"profiles", "history", "--db", path, "--format", "json", "p-2-nitro"}},
		{"profiles_report.json", []string{"profiles", "report", "--db", path, "--tenant", tenantB, "--from", "2026-11-20"}},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			code, out, errOut := runProfilesCLI(t, nil, f, tc.args...)
			if code != exitOK {
				t.Fatalf("exit %d; stderr %q", code, errOut)
			}
			checkGolden(t, tc.golden, out)
		})
	}
	_, out, _ := runProfilesCLI(t, nil, f, "profiles", "report", "--db", path, "--tenant", tenantB)
	var rep appprofile.EvidenceReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil || rep.Schema != appprofile.ReportSchema || len(rep.Profiles) != 1 || len(rep.Profiles[0].History) != 1 {
		t.Errorf("report = %+v, %v; want tenant B's one profile with its one history entry", rep, err)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"history without ID", []string{"profiles", "history", "--db", path}, "give exactly one profile ID"},
		{"history bad time", []string{"profiles", "history", "--db", path, "--from", "yesterday", "p-1-nitro"}, "is not a time"},
		{"report without tenant", []string{"profiles", "report", "--db", path}, "pass --tenant ID"},
		{"report as table", []string{"profiles", "report", "--db", path, "--tenant", tenantB, "--format", "table"}, "JSON only"},
	} {
		code, _, errOut := runProfilesCLI(t, nil, f, tc.args...)
		if code != exitUsage || !strings.Contains(errOut, tc.want) {
			t.Errorf("%s: exit %d, stderr %q; want usage error %q", tc.name, code, errOut, tc.want)
		}
	}
}
