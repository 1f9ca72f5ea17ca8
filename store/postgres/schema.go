package postgres

import "strings"

// SchemaVersion is the schema version this code creates and understands: the number of
// migrations. Open refuses a database schema with a higher recorded version
// (store.ErrSchemaTooNew).
const SchemaVersion = 2

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
	// 2: the transactional outbox of status events and the append-only history (OutboxStore).
	`
CREATE TABLE {{s}}.outbox (
	seq          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	key          text COLLATE "C" NOT NULL, -- one key's events are delivered one at a time, in seq order
	event_id     text        NOT NULL,     -- the caller's idempotency key
	payload      bytea       NOT NULL,
	created_at   timestamptz NOT NULL,
	available_at timestamptz NOT NULL,     -- not claimable before (retry backoff)
	lease_owner  text,                     -- NULL when not leased
	lease_until  timestamptz,
	attempts     integer     NOT NULL DEFAULT 0,
	last_error   text        NOT NULL DEFAULT ''
);
CREATE INDEX outbox_key_seq ON {{s}}.outbox (key, seq);
CREATE TABLE {{s}}.history (
	seq       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	record_id text COLLATE "C" NOT NULL, -- no foreign key: history outlives its record
	tenant    text        NOT NULL,
	at        timestamptz NOT NULL,
	payload   bytea       NOT NULL
);
CREATE INDEX history_record_seq ON {{s}}.history (record_id, seq);
CREATE INDEX history_tenant_at  ON {{s}}.history (tenant, at);
CREATE INDEX history_at         ON {{s}}.history (at);
`,
}

func migration(i int, quotedSchema string) string {
	return strings.ReplaceAll(migrations[i], "{{s}}", quotedSchema)
}
