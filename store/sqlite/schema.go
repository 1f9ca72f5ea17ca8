package sqlite

// applicationID marks a SQLite file as a tenantapps store ("TAPP"), so Open refuses files that
// belong to another application instead of adding tables to them.
const applicationID = 0x54415050

// migrations are applied in order on Open; the file's PRAGMA user_version is the number applied.
// Never edit a released migration: append a new one.
var migrations = []string{
	// 1: records, their services (for the Service filter), single-use nonces.
	`
CREATE TABLE records (
	id         TEXT    NOT NULL PRIMARY KEY,
	version    INTEGER NOT NULL,
	customer   TEXT    NOT NULL,
	tenant     TEXT    NOT NULL,
	services   TEXT    NOT NULL, -- JSON array, in the caller's order
	app_type   TEXT    NOT NULL,
	mode       TEXT    NOT NULL,
	status     TEXT    NOT NULL,
	unique_key TEXT    UNIQUE,   -- NULL when the record has none
	created_at INTEGER NOT NULL, -- Unix microseconds, UTC
	updated_at INTEGER NOT NULL,
	payload    BLOB    NOT NULL
);
CREATE INDEX records_tenant_status ON records (tenant, status, id);
CREATE INDEX records_customer      ON records (customer, id);
CREATE INDEX records_status        ON records (status, id);
CREATE INDEX records_app_type      ON records (app_type, id);
CREATE INDEX records_mode          ON records (mode, id);
CREATE INDEX records_updated_at    ON records (updated_at);
CREATE TABLE record_services (
	record_id TEXT NOT NULL REFERENCES records (id) ON DELETE CASCADE,
	service   TEXT NOT NULL,
	PRIMARY KEY (record_id, service)
) WITHOUT ROWID;
CREATE INDEX record_services_service ON record_services (service, record_id);
CREATE TABLE nonces (
	nonce      TEXT    NOT NULL PRIMARY KEY,
	expires_at INTEGER NOT NULL -- Unix microseconds
) WITHOUT ROWID;
CREATE INDEX nonces_expires_at ON nonces (expires_at);
`,
	// 2: the transactional outbox of status events and the append-only history (OutboxStore).
	// AUTOINCREMENT: a Seq is never reused, even after the newest event was acknowledged.
	`
CREATE TABLE outbox (
	seq          INTEGER PRIMARY KEY AUTOINCREMENT,
	key          TEXT    NOT NULL, -- events of one key are delivered one at a time, in seq order
	event_id     TEXT    NOT NULL, -- the caller's idempotency key
	payload      BLOB    NOT NULL,
	created_at   INTEGER NOT NULL, -- Unix microseconds
	available_at INTEGER NOT NULL, -- not claimable before (retry backoff)
	lease_owner  TEXT,             -- NULL when not leased
	lease_until  INTEGER,
	attempts     INTEGER NOT NULL DEFAULT 0,
	last_error   TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX outbox_key_seq ON outbox (key, seq);
CREATE TABLE history (
	seq       INTEGER PRIMARY KEY AUTOINCREMENT,
	record_id TEXT    NOT NULL, -- no foreign key: history outlives its record
	tenant    TEXT    NOT NULL,
	at        INTEGER NOT NULL, -- Unix microseconds
	payload   BLOB    NOT NULL
);
CREATE INDEX history_record_seq ON history (record_id, seq);
CREATE INDEX history_tenant_at  ON history (tenant, at);
CREATE INDEX history_at         ON history (at);
`,
}

// SchemaVersion is the schema version this code creates and understands: the number of
// migrations. Open refuses a file with a higher PRAGMA user_version (store.ErrSchemaTooNew).
const SchemaVersion = 2
