package sqlq_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantapps/tenantapps/store"
	"github.com/tenantapps/tenantapps/store/internal/sqlq"
)

var dialects = map[string]sqlq.Dialect{
	"sqlite": {
		Records:     `"records"`,
		Placeholder: sqlq.QuestionMark,
		Time:        func(t time.Time) any { return t.UnixMicro() },
		HasService:  func(ph string) string { return "EXISTS (SELECT 1 FROM s WHERE s.id = r.id AND s.service = " + ph + ")" },
	},
	"postgres": {
		Records:     `"x"."records"`,
		Placeholder: sqlq.Dollar,
		Time:        func(t time.Time) any { return t },
		HasService:  func(ph string) string { return "r.services @> ARRAY[" + ph + "]::text[]" },
	},
}

// TestListGolden pins the generated SQL: a change to it changes the plans the benchmarks
// measured, so it must be deliberate (go test -update).
func TestListGolden(t *testing.T) {
	at := time.Date(2026, 4, 5, 6, 7, 8, 9999, time.UTC)
	cases := []struct {
		name  string
		f     store.Filter
		after string
	}{
		{"all", store.Filter{}, ""},
		{"tenant_status_after", store.Filter{Tenant: "t", Status: "Valid"}, "rec-9"},
		{"everything", store.Filter{Customer: "c", Tenant: "t", Service: "mail", AppType: "a", Mode: "m", Status: "s", UpdatedBefore: at, UpdatedAfter: at.Add(-time.Hour)}, "k"},
	}
	var out strings.Builder
	for _, name := range []string{"sqlite", "postgres"} {
		for _, c := range cases {
			q, args := sqlq.List(dialects[name], c.f, c.after, 10)
			out.WriteString("-- " + name + " " + c.name + "\n" + q + "\n")
			for _, a := range args {
				out.WriteString("   arg: ")
				switch v := a.(type) {
				case time.Time:
					out.WriteString(v.Format(time.RFC3339Nano))
				default:
					fmt.Fprintf(&out, "%T(%#v)", v, v)
				}
				out.WriteString("\n")
			}
		}
	}
	golden := filepath.Join("testdata", "list.golden")
	if os.Getenv("UPDATE_GOLDEN") != "" {
		if err := os.WriteFile(golden, []byte(out.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with UPDATE_GOLDEN=1 to create it)", err)
	}
	if diff := cmp.Diff(string(want), out.String()); diff != "" {
		t.Errorf("List SQL mismatch (-want +got):\n%s", diff)
	}
}

func TestPage(t *testing.T) {
	f := store.Filter{Tenant: "t"}
	recs := []store.Record{{ID: "a"}, {ID: "b"}, {ID: "c"}}
	got, next := sqlq.Page(f, recs, 3)
	if len(got) != 3 || next != "" {
		t.Errorf("Page(3 rows, limit 3) = %d rows, next %q; want 3 and none", len(got), next)
	}
	got, next = sqlq.Page(f, recs, 2)
	if len(got) != 2 || next == "" {
		t.Fatalf("Page(3 rows, limit 2) = %d rows, next %q; want 2 and a cursor", len(got), next)
	}
	if after, err := store.DecodeCursor(f, next); err != nil || after != "b" {
		t.Errorf("next cursor decodes to %q, %v; want b", after, err)
	}
}
