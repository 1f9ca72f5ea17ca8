package main

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantapps/tenantapps/consent/graph"
)

func TestReaderPermissionsGolden(t *testing.T) {
	testGoldens(t, []goldenCase{
		{"reader_permissions.json", exitOK, []string{"reader-permissions", "--format", "json"}},
		{"reader_permissions.txt", exitOK, []string{"reader-permissions"}},
	})
}

// TestReaderPermissionsAgreeWithTheDriver: the CLI prints the driver's typed contract, not a copy.
func TestReaderPermissionsAgreeWithTheDriver(t *testing.T) {
	code, out, errOut := runCLI(t, "reader-permissions", "--format", "json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got readerPermissionsJSON
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(graph.ReaderPermissions(true), got.Permissions); diff != "" {
		t.Errorf("permissions mismatch (-want +got):\n%s", diff)
	}
	if len(got.Reads) != len(graph.ReaderReads()) {
		t.Errorf("%d reads, want %d", len(got.Reads), len(graph.ReaderReads()))
	}
	if code, _, _ := runCLI(t, "reader-permissions", "extra"); code != exitUsage {
		t.Errorf("extra argument: exit %d, want %d", code, exitUsage)
	}
}
