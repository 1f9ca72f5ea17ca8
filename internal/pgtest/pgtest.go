// Package pgtest gives a test a PostgreSQL schema of its own on the database named by
// TENANTAPPS_POSTGRES_DSN, so that concurrent and repeated runs never see each other's rows. It is
// for this module's tests only.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
)

// EnvDSN names the environment variable that holds the test database's DSN.
const EnvDSN = "TENANTAPPS_POSTGRES_DSN"

// DSN returns the test database, skipping tb (with a message that says what to set) when
// TENANTAPPS_POSTGRES_DSN is unset.
func DSN(tb testing.TB) string {
	tb.Helper()
	d := os.Getenv(EnvDSN)
	if d == "" {
		tb.Skip("set " + EnvDSN + " to run the PostgreSQL tests, e.g. " + EnvDSN + "='postgres://postgres@127.0.0.1:5432/test?sslmode=disable' (a database where the tests may create and drop schemas; .ci/run sets it)")
	}
	return d
}

// Schema returns the test database and a schema name starting with prefix that is unique to this
// run; the schema, if anything created it, is dropped when tb ends. It skips tb like DSN.
func Schema(tb testing.TB, prefix string) (dsn, schema string) {
	tb.Helper()
	dsn = DSN(tb)
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema = prefix + hex.EncodeToString(b[:])
	tb.Cleanup(func() {
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return dsn, schema
}
