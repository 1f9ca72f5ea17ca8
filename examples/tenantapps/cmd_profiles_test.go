package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tenantapps/tenantapps/appprofile"
	"github.com/tenantapps/tenantapps/store"
	"github.com/tenantapps/tenantapps/store/sqlite"
)

func TestProfilesCommand(t *testing.T) {
	db := filepath.Join(t.TempDir(), "p.db")
	st, err := sqlite.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []appprofile.Profile{
		{ID: "a", Customer: "contoso", Tenant: "t1", AppType: "APElements Automation", Mode: appprofile.Modern, Status: appprofile.Valid},
		{ID: "b", Customer: "contoso", Tenant: "t2", AppType: "APElements Automation", Mode: appprofile.Modern, Status: appprofile.Invalid,
			Reasons: []appprofile.Reason{{Code: appprofile.ReasonServicePrincipalOff, Effect: appprofile.EffectInvalid, Message: "disabled", Remediation: "enable it"}}},
	} {
		b, _ := appprofile.MarshalPayload(p)
		if _, err := st.Create(context.Background(), store.Record{ID: p.ID, Customer: p.Customer, Tenant: p.Tenant, AppType: p.AppType, Status: string(p.Status), Payload: b}); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()
	runCmd := func(args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		code := run(&cliEnv{stdin: strings.NewReader(""), stdout: &out, stderr: &errOut, getenv: func(string) string { return "" }}, args)
		return code, out.String(), errOut.String()
	}
	code, out, _ := runCmd("profiles", "--db", db)
	if code != exitNegative || !strings.Contains(out, "service-principal-disabled") {
		t.Errorf("table: exit %d\n%s", code, out)
	}
	code, out, _ = runCmd("profiles", "--db", db, "--status", "valid", "--format", "json")
	var got []profileJSON
	if err := json.Unmarshal([]byte(out), &got); err != nil || code != exitOK || len(got) != 1 || got[0].ID != "a" {
		t.Errorf("json valid only: exit %d, %v, %s", code, err, out)
	}
	if code, _, _ := runCmd("profiles"); code != exitUsage {
		t.Errorf("missing --db: exit %d", code)
	}
	if code, _, _ := runCmd("profiles", "--db", db, "--status", "bogus"); code != exitUsage {
		t.Errorf("bad status: exit %d", code)
	}
}
