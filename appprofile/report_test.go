package appprofile_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantapps/tenantapps/appprofile"
)

var updateReport = flag.Bool("update-report", false, "rewrite testdata/evidence_v1.golden.json")

// TestReportGolden pins the evidence report's JSON schema (appprofile.ReportSchema): a profile
// with an accepted deviation that later broke, and a profile deleted within the range.
func TestReportGolden(t *testing.T) {
	e := newEnv(t, appprofile.WithRand(rand.NewChaCha8([32]byte{18})))
	t0 := e.clock.Now()
	p := validBaseline(e)
	must(t, e.fake.GrantAppRole(tenantID, baselineID, graphResource, extraRole1))
	e.clock.Advance(time.Hour)
	e.verify(p.ID)
	e.accept(p.ID, appprofile.ReasonGrantExtra, 30*24*time.Hour)
	e.clock.Advance(time.Hour)
	must(t, e.fake.DeleteServicePrincipal(tenantID, baselineID))
	e.verify(p.ID)
	n := e.createAndConsent("Nitro", "APElements Automation", nitroID)
	must(t, e.fake.DeleteServicePrincipal(tenantID, nitroID))
	e.clock.Advance(time.Hour)
	e.verify(n.ID)
	must(t, e.mgr.Delete(e.ctx, n.ID))
	e.clock.Advance(time.Hour)

	rep, err := e.mgr.Report(e.ctx, tenantID, t0, e.clock.Now())
	must(t, err)
	var buf bytes.Buffer
	must(t, rep.WriteJSON(&buf))
	// The fake directory's user IDs are random: pin the consent admin's.
	got := bytes.ReplaceAll(buf.Bytes(), []byte(e.admin), []byte("00000000-0000-4000-8000-0000000ad417"))
	buf.Reset()
	buf.Write(got)
	golden := filepath.Join("testdata", "evidence_v1.golden.json")
	if *updateReport {
		must(t, os.WriteFile(golden, buf.Bytes(), 0o644))
	}
	want, err := os.ReadFile(golden)
	must(t, err)
	if diff := cmp.Diff(string(want), buf.String()); diff != "" {
		t.Errorf("report differs from %s (-want +got; run with -update-report if the change is intended and compatible with %s):\n%s", golden, appprofile.ReportSchema, diff)
	}
	var back appprofile.EvidenceReport
	must(t, json.Unmarshal(buf.Bytes(), &back))
	if back.Schema != appprofile.ReportSchema || len(back.Profiles) != 2 || !back.Profiles[0].Deleted && !back.Profiles[1].Deleted {
		t.Errorf("report: schema %q, %d profiles; want %s, the live and the deleted profile", back.Schema, len(back.Profiles), appprofile.ReportSchema)
	}
	for _, rp := range back.Profiles {
		if last := rp.History[len(rp.History)-1]; rp.Deleted != last.Deleted {
			t.Errorf("profile %s: deleted %v, but its last history entry says deleted %v", rp.ID, rp.Deleted, last.Deleted)
		}
	}
	if bytes.Contains(buf.Bytes(), []byte("kid")) || bytes.Contains(buf.Bytes(), []byte("callbackNonce")) {
		t.Error("the report holds sealed secrets or consent nonces")
	}

	if _, err := e.mgr.Report(e.ctx, "", t0, t0); !errors.Is(err, appprofile.ErrInvalidRequest) {
		t.Errorf("Report without tenant: err = %v, want ErrInvalidRequest", err)
	}
	if _, err := e.mgr.Report(e.ctx, tenantID, t0, t0.Add(-time.Hour)); !errors.Is(err, appprofile.ErrInvalidRequest) {
		t.Errorf("Report(to before from): err = %v, want ErrInvalidRequest", err)
	}
}
