package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/tenantapps/tenantapps/store"
)

// TestMigrateV1ToOutbox opens a file written by schema version 1 (before the outbox): the record
// survives, the file is migrated to SchemaVersion and the outbox works on it.
func TestMigrateV1ToOutbox(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "v1.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(migrations[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(fmt.Sprintf(`PRAGMA application_id = %d; PRAGMA user_version = 1;
		INSERT INTO records (id, version, customer, tenant, services, app_type, mode, status, unique_key, created_at, updated_at, payload)
		VALUES ('old', 1, 'c', 't', '[]', 'a', 'm', 'Valid', NULL, 1, 1, x'7b7d')`, applicationID)); err != nil {
		t.Fatal(err)
	}
	db.Close()

	st, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("Open(v1 file): %v", err)
	}
	defer st.Close()
	rec, err := st.Get(ctx, "old")
	if err != nil || rec.Status != "Valid" || string(rec.Payload) != "{}" {
		t.Fatalf("Get(old) after migration = %+v, %v; want the v1 record unchanged", rec, err)
	}
	var version int
	if err := st.r.QueryRow("PRAGMA user_version").Scan(&version); err != nil || version != SchemaVersion {
		t.Errorf("user_version = %d, %v; want %d", version, err, SchemaVersion)
	}
	rec.Status = "Invalid"
	if _, err := st.UpdateWithEvents(ctx, rec, []store.OutboxEvent{{Key: "old", ID: "old@2"}},
		[]store.HistoryEntry{{RecordID: "old", Tenant: "t", At: time.Now()}}); err != nil {
		t.Fatalf("UpdateWithEvents on a migrated file: %v", err)
	}
	if evs, err := st.ClaimEvents(ctx, "d", time.Minute, 10); err != nil || len(evs) != 1 {
		t.Errorf("ClaimEvents on a migrated file = %d events, %v; want 1", len(evs), err)
	}
}
