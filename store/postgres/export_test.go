package postgres

// MigrationV1ForTest is the first migration, for tests that build a version 1 schema.
var MigrationV1ForTest = migrations[0]
