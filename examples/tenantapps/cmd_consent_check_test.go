package main

import (
	"strings"
	"testing"
)

func TestConsentCheckGolden(t *testing.T) {
	testGoldens(t, []goldenCase{
		{"consent_check_viva_engage_ga.txt", exitNegative, []string{"consent-check", "--app-type", "Viva Engage", "--service", "Cloud Backup for Microsoft 365", "--role", "Global Administrator"}},
		{"consent_check_viva_engage_ok.json", exitOK, []string{"consent-check", "--format", "json", "--app-type", "Viva Engage", "--service", "Cloud Backup for Microsoft 365",
			"--role", "Engage Administrator", "--verified-admin", "--license", "viva-engage"}},
		{"consent_check_cloud_governance_user.json", exitNegative, []string{"consent-check", "--format", "json", "--app-type", "Cloud Governance Delegated App", "--method", "user",
			"--owned-group", "g1", "--changed-group", "g1", "--changed-group", "g2", "--scan", "Environments"}},
		{"consent_check_fly_pra.txt", exitOK, []string{"consent-check", "--app-type", "Fly Delegated App", "--role", "e8611ab8-c189-46e8-94e1-60213ab1f814"}},
		{"consent_check_backup_delegated.txt", exitNegative, []string{"consent-check", "--app-type", "Delegated App", "--service", "Cloud Backup for Microsoft 365",
			"--role", "Privileged Role Administrator", "--function", "Protect Power BI"}},
	})
}

func TestConsentCheckUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		wantErr string
	}{
		{[]string{"consent-check"}, "--app-type is required"},
		{[]string{"consent-check", "--app-type", "MyHub", "--role", "Chief Everything Officer"}, "unknown directory role"},
		{[]string{"consent-check", "--app-type", "MyHub", "--license", "e5"}, "unknown licence"},
		{[]string{"consent-check", "--app-type", "MyHub", "--method", "user", "--scan", "mailboxes"}, "unknown scan object"},
		{[]string{"consent-check", "--app-type", "Delegated App", "--service", "Cloud Backup for Microsoft 365", "--function", "everything"}, "unknown backup function"},
		{[]string{"consent-check", "--app-type", "Fly App", "--method", "user"}, "not supported"},
		{[]string{"consent-check", "--app-type", "MyHub", "--format", "yaml"}, "unknown --format"},
	} {
		code, out, errOut := runCLI(t, tc.args...)
		if code != exitUsage || !strings.Contains(errOut, tc.wantErr) || out != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 2 and %q", tc.args, code, out, errOut, tc.wantErr)
		}
	}
}
