package postgres_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tenantapps/tenantapps/store"
	"github.com/tenantapps/tenantapps/store/postgres"
)

// TestMigrateV1ToOutbox opens a schema written by schema version 1 (before the outbox): the
// record survives, the schema is migrated and the outbox works on it.
func TestMigrateV1ToOutbox(t *testing.T) {
	ctx := context.Background()
	schema := freshSchema(t)
	conn, err := pgx.Connect(ctx, dsn(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	qs := pgx.Identifier{schema}.Sanitize()
	v1 := strings.ReplaceAll(postgres.MigrationV1ForTest, "{{s}}", qs)
	for _, q := range []string{
		"CREATE SCHEMA " + qs,
		"CREATE TABLE " + qs + ".schema_version (version integer NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())",
		v1,
		"INSERT INTO " + qs + ".schema_version (version) VALUES (1)",
		"INSERT INTO " + qs + ".records (id, version, customer, tenant, services, app_type, mode, status, created_at, updated_at, payload) VALUES ('old', 1, 'c', 't', '{}', 'a', 'm', 'Valid', now(), now(), '\\x7b7d')",
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	st := open(t, schema)
	rec, err := st.Get(ctx, "old")
	if err != nil || rec.Status != "Valid" {
		t.Fatalf("Get(old) after migration = %+v, %v; want the v1 record", rec, err)
	}
	var version int
	if err := conn.QueryRow(ctx, "SELECT max(version) FROM "+qs+".schema_version").Scan(&version); err != nil || version != postgres.SchemaVersion {
		t.Errorf("schema version = %d, %v; want %d", version, err, postgres.SchemaVersion)
	}
	rec.Status = "Invalid"
	if _, err := st.UpdateWithEvents(ctx, rec, []store.OutboxEvent{{Key: "old", ID: "old@2"}},
		[]store.HistoryEntry{{RecordID: "old", Tenant: "t", At: time.Now()}}); err != nil {
		t.Fatalf("UpdateWithEvents on a migrated schema: %v", err)
	}
	if evs, err := st.ClaimEvents(ctx, "d", time.Minute, 10); err != nil || len(evs) != 1 {
		t.Errorf("ClaimEvents on a migrated schema = %d events, %v; want 1", len(evs), err)
	}
}
