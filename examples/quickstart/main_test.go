package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

type statusLine struct {
	AppType string
	Status  string
	Reasons string
}

func summarize(s Step) []statusLine {
	var out []statusLine
	for _, p := range s.Profiles {
		var codes []string
		for _, r := range p.Reasons {
			codes = append(codes, string(r.Code))
		}
		out = append(out, statusLine{p.AppType, p.Status, strings.Join(codes, ",")})
	}
	return out
}

// TestQuickstartJSON runs the whole walk-through in-process and checks every step's statuses and
// typed reasons: the ground truth the tenant changes produce.
func TestQuickstartJSON(t *testing.T) {
	var stdout, stderr bytes.Buffer
	db := filepath.Join(t.TempDir(), "q.db")
	if code := run(context.Background(), []string{"-json", "-db", db}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr.String())
	}
	var rep Report
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("output is not a JSON report: %v\n%s", err, stdout.String())
	}
	if rep.Store != db || rep.TenantID == "" || rep.Driver == "" {
		t.Errorf("report header = %+v", rep)
	}
	const (
		sec, nitro, base, custom, ins = appSecurity, appNitro, appBaseline, appCustom, appInsights
	)
	pending := []statusLine{{sec, "pending", "not-consented"}, {nitro, "pending", "not-consented"}, {base, "pending", "not-consented"}, {custom, "pending", "not-consented"}, {ins, "pending", "not-consented"}}
	// Insights for Microsoft 365's published permission list is partial: a fully granted profile
	// says so (permissions-partial, which leaves it valid).
	consented := []statusLine{{sec, "valid", ""}, {nitro, "valid", ""}, {base, "valid", ""}, {custom, "valid", "certificate-expiring"}, {ins, "valid", "permissions-partial"}}
	want := [][]statusLine{
		pending,
		{{sec, "valid", "role-pending"}, {nitro, "valid", ""}, {base, "valid", "role-pending"}, {custom, "valid", "certificate-expiring"}, {ins, "valid", "permissions-partial"}},
		consented,
		{{sec, "invalid", "consent-user-password-reset"}, {nitro, "invalid", "permissions-added"}, {base, "invalid", "grant-missing"}, {custom, "valid", "certificate-expiring"}, {ins, "valid", "permissions-partial"}},
		{{sec, "invalid", "consent-user-password-reset"}, {nitro, "invalid", "permissions-added"}, {base, "invalid", "grant-missing"}, {custom, "expired", "certificate-expired"}, {ins, "valid", "permissions-partial"}},
		{{sec, "valid", ""}, {nitro, "valid", ""}, {base, "valid", ""}, {custom, "valid", ""}, {ins, "valid", "permissions-partial"}},
	}
	if len(rep.Steps) != len(want) {
		t.Fatalf("got %d steps, want %d", len(rep.Steps), len(want))
	}
	for i, s := range rep.Steps {
		if diff := cmp.Diff(want[i], summarize(s)); diff != "" {
			t.Errorf("step %d (%s) mismatch (-want +got):\n%s", s.Number, s.Title, diff)
		}
	}
	// Consent methods: Insights ends up user-consented by the non-administrator.
	last := rep.Steps[len(rep.Steps)-1].Profiles
	if got := last[4]; got.ConsentMethod != "user" || got.ConsentedBy != "insights@contoso.example" {
		t.Errorf("Insights consent = %s by %s, want user by insights@contoso.example", got.ConsentMethod, got.ConsentedBy)
	}
	if got := rep.Steps[2].Checklists; len(got) != 5 || !got[2].Verified || !got[2].Complete() {
		t.Errorf("Baseline checklist = %+v, want verified and complete", got)
	}
	for _, r := range rep.Steps[3].Profiles[0].Reasons {
		if r.Remediation == "" || !r.FixedByReauthorization {
			t.Errorf("reason %+v: want a remediation, fixed by re-authorization", r)
		}
	}
	if strings.Contains(stdout.String(), "PRIVATE KEY") || strings.Contains(stderr.String(), "password\":") {
		t.Error("a secret leaked into the output")
	}
	// The in-memory Fake, which the examples' fast tests use, tells the same story as the emulator
	// read through the real Graph driver.
	fake, err := walk(context.Background(), config{fake: true})
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range fake.Steps {
		if diff := cmp.Diff(summarize(rep.Steps[i]), summarize(s)); diff != "" {
			t.Errorf("step %d: the Fake differs from the emulator (-emulator +fake):\n%s", s.Number, diff)
		}
	}
}

// BenchmarkQuickstart measures the whole walk-through against the emulator and the Graph driver
// (the goal: well under a minute; it takes about a second).
func BenchmarkQuickstart(b *testing.B) {
	for b.Loop() {
		if _, err := walk(context.Background(), config{}); err != nil {
			b.Fatal(err)
		}
	}
}

func TestQuickstartTable(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), nil, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{"== Step 1: Create app profiles", "== Step 6: Re-authorize", "APP TYPE", "INVALID", "EXPIRED", "consent-user-password-reset",
		"Why, and what to do:", "Roles for APElements Baseline Management (verified against the tenant: true)"} {
		if !strings.Contains(out, want) {
			t.Errorf("table output lacks %q", want)
		}
	}
	if !strings.Contains(stderr.String(), "done") {
		t.Errorf("progress on stderr lacks the final line:\n%s", stderr.String())
	}
}

// TestQuickstartRerunWithDB: a second run on the same -db file starts over and completes.
func TestQuickstartRerunWithDB(t *testing.T) {
	db := filepath.Join(t.TempDir(), "q.db")
	for run := 1; run <= 2; run++ {
		rep, err := walk(context.Background(), config{dbPath: db, fake: true})
		if err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		notes := strings.Join(rep.Steps[0].Notes, "\n")
		if got := strings.Contains(notes, "Deleted 5 profiles"); got != (run == 2) {
			t.Errorf("run %d: notes %q", run, notes)
		}
	}
}

func TestQuickstartUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
	}{{[]string{"-h"}, 0}, {[]string{"-nope"}, 2}, {[]string{"extra"}, 2}} {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), tc.args, &stdout, &stderr); code != tc.code {
			t.Errorf("run(%q) = %d, want %d", tc.args, code, tc.code)
		}
		if !strings.Contains(stderr.String(), "usage: quickstart") {
			t.Errorf("run(%q): no usage on stderr", tc.args)
		}
	}
}
