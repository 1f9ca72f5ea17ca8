// Package newuser holds only tests: a new user's first embedding of tenantapps, written against the
// public API alone as an outside module would (a SQLite-backed Manager with the fake driver, a
// portal-style test of a revoked grant), so that what the README and doc.go promise a newcomer
// stays true: junk tenant IDs are refused, the spellings of one tenant are one tenant, the library
// is quiet without WithLogger, and the test kits make a harness a few lines.
package newuser
