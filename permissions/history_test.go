package permissions

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// datedAcme is acme.json with its rows dated like AvePoint's "Last update" column: the first
// undated, the second August 2023, the third October 2023.
func datedAcme(t *testing.T) *Catalog {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(readAcme(t).Data, &m); err != nil {
		t.Fatal(err)
	}
	rows := m["appTypes"].([]any)[0].(map[string]any)["permissions"].([]any)
	rows[1].(map[string]any)["since"] = "2023-08"
	rows[2].(map[string]any)["since"] = "2023-10"
	data, _ := json.Marshal(m)
	c, err := Overlay(nil, OverlayFile{Name: "acme.json", Data: data})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestHistoryFromRowDates(t *testing.T) {
	c, err := datedAcme(t).Subset("Acme MSP Automation")
	if err != nil {
		t.Fatal(err)
	}
	hist, err := c.History()
	if err != nil {
		t.Fatal(err)
	}
	var versions []string
	for _, h := range hist {
		versions = append(versions, h.Version())
	}
	v := c.Version()
	if diff := cmp.Diff([]string{v + "@2023-07", v + "@2023-09"}, versions); diff != "" {
		t.Fatalf("history versions (-want +got):\n%s", diff)
	}
	var got []string
	for _, ch := range ChangesFor(Diff(hist[0], c), "Acme MSP Automation") {
		got = append(got, ch.String())
	}
	want := []string{
		"Acme MSP Automation gained Files.Read.All (Microsoft Graph, Application) (August 2023)",
		"Acme MSP Automation gained Files.Read.All (Microsoft Graph, Delegated) (October 2023)",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Diff(July 2023, now) (-want +got):\n%s", diff)
	}
	got = nil
	for _, ch := range ChangesFor(Diff(hist[1], c), "Acme MSP Automation") {
		got = append(got, ch.String())
	}
	if diff := cmp.Diff(want[1:], got); diff != "" {
		t.Errorf("Diff(September 2023, now) (-want +got):\n%s", diff)
	}
	// Before any dated row the app type keeps its undated row; a month before every row of an
	// app type makes it unpublished then.
	a, _ := hist[0].AppType("Acme MSP Automation")
	if len(a.Permissions) != 1 || a.Permissions[0].Value != "User.Read.All" {
		t.Errorf("as of July 2023: %v", a.Permissions)
	}
	if _, err := c.AsOf("October 2023"); err == nil || !strings.Contains(err.Error(), "YYYY-MM") {
		t.Errorf("AsOf with a bad month: %v", err)
	}
	if _, err := Overlay(nil, OverlayFile{Name: "x.json", Data: []byte(strings.Replace(string(readAcme(t).Data), `"type": "Application",`, `"type": "Application", "since": "Oct 2023",`, 1))}); err == nil || !strings.Contains(err.Error(), "is not a month") {
		t.Errorf("a bad since: %v", err)
	}
}
