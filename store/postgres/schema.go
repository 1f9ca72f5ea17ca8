package postgres

import "strings"

// SchemaVersion is the schema version this code creates and understands: the number of
// migrations. Open refuses a database schema with a higher recorded version
// (store.ErrSchemaTooNew).
const SchemaVersion = 1

// migrations are applied in order, each in the migration transaction; "{{s}}" is replaced by
// the quoted schema name. Never edit a released migration: append a new one.
var migrations = []string{
	// 1: records and single-use nonces.
	`
CREATE TABLE {{s}}.records (
	id         text COLLATE "C" NOT NULL PRIMARY KEY, -- byte-wise order for stable paging
	version    bigint      NOT NULL,
	customer   text        NOT NULL,
	tenant     text        NOT NULL,
	services   text[]      NOT NULL,
	app_type   text        NOT NULL,
	mode       text        NOT NULL,
	status     text        NOT NULL,
	unique_key text        UNIQUE, -- NULL when the record has none
	created_at timestamptz NOT NULL,
	updated_at timestamptz NOT NULL,
	payload    bytea       NOT NULL
);
CREATE INDEX records_tenant_status ON {{s}}.records (tenant, status, id);
CREATE INDEX records_customer      ON {{s}}.records (customer, id);
CREATE INDEX records_status        ON {{s}}.records (status, id);
CREATE INDEX records_app_type      ON {{s}}.records (app_type, id);
CREATE INDEX records_mode          ON {{s}}.records (mode, id);
CREATE INDEX records_updated_at    ON {{s}}.records (updated_at);
CREATE INDEX records_services      ON {{s}}.records USING gin (services);
CREATE TABLE {{s}}.nonces (
	nonce      text        NOT NULL PRIMARY KEY,
	expires_at timestamptz NOT NULL
);
CREATE INDEX nonces_expires_at ON {{s}}.nonces (expires_at);
`,
}

func migration(i int, quotedSchema string) string {
	return strings.ReplaceAll(migrations[i], "{{s}}", quotedSchema)
}
