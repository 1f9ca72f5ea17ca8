package sqlite_test

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/tenantapps/tenantapps/store"
)

// TestOpenCreatesOwnerOnlyFiles: the database file and its -wal and -shm companions hold sealed
// secrets and consent records; Open creates them readable by their owner only.
func TestOpenCreatesOwnerOnlyFiles(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Unix file modes")
	}
	path := filepath.Join(t.TempDir(), "profiles.db")
	st := open(t, path)
	if _, err := st.Create(t.Context(), store.Record{ID: "p1", Customer: "c", Tenant: "t", AppType: "a"}); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(f)
		if err != nil {
			t.Fatalf("%s: %v", filepath.Base(f), err)
		}
		if got := fi.Mode().Perm(); got != 0o600 {
			t.Errorf("%s has mode %v, want -rw------- (0600)", filepath.Base(f), got)
		}
	}
}
