// Package sqlq holds what store/sqlite and store/postgres share apart from their database APIs:
// the SQL text and argument building, so both stores filter, order and page exactly alike, and
// the logic around each call (closed and context checks, error mapping, building the returned
// record), so both answer alike. Each store still calls its own driver (pgx or database/sql)
// itself.
package sqlq

import (
	"strconv"
	"strings"
	"time"

	"github.com/tenantapps/tenantapps/store"
)

// Columns is the column list every SELECT of a record uses, in the order Scan expects.
const Columns = "r.id, r.version, r.customer, r.tenant, r.services, r.app_type, r.mode, r.status, r.unique_key, r.created_at, r.updated_at, r.payload"

// Dialect is what differs between the SQL stores.
type Dialect struct {
	// Records is the (qualified, quoted) name of the records table.
	Records string
	// Placeholder returns the n-th (1-based) parameter marker: "?" or "$n".
	Placeholder func(n int) string
	// Time converts a filter time to a query argument comparable with updated_at.
	Time func(time.Time) any
	// HasService returns the condition "record r has the service in parameter ph".
	HasService func(ph string) string
}

// QuestionMark is a Placeholder for drivers that use "?".
func QuestionMark(int) string { return "?" }

// Dollar is a Placeholder for drivers that use "$n".
func Dollar(n int) string { return "$" + strconv.Itoa(n) }

// List returns the query and arguments of one List page: the records matching f with an ID
// after afterID ("" for the first page), in ascending ID order, at most limit+1 rows (the extra
// row tells whether another page follows).
func List(d Dialect, f store.Filter, afterID string, limit int) (string, []any) {
	var b strings.Builder
	args := make([]any, 0, 10)
	b.WriteString("SELECT ")
	b.WriteString(Columns)
	b.WriteString(" FROM ")
	b.WriteString(d.Records)
	b.WriteString(" r")
	sep := " WHERE "
	add := func(cond func(ph string) string, arg any) {
		args = append(args, arg)
		b.WriteString(sep)
		b.WriteString(cond(d.Placeholder(len(args))))
		sep = " AND "
	}
	eq := func(col string) func(string) string {
		return func(ph string) string { return "r." + col + " = " + ph }
	}
	if afterID != "" {
		add(func(ph string) string { return "r.id > " + ph }, afterID)
	}
	for _, c := range []struct{ col, val string }{
		{"customer", f.Customer}, {"tenant", f.Tenant}, {"app_type", f.AppType},
		{"mode", f.Mode}, {"status", f.Status},
	} {
		if c.val != "" {
			add(eq(c.col), c.val)
		}
	}
	if f.Service != "" {
		add(d.HasService, f.Service)
	}
	if !f.UpdatedBefore.IsZero() {
		add(func(ph string) string { return "r.updated_at < " + ph }, d.Time(store.Timestamp(f.UpdatedBefore)))
	}
	if !f.UpdatedAfter.IsZero() {
		add(func(ph string) string { return "r.updated_at > " + ph }, d.Time(store.Timestamp(f.UpdatedAfter)))
	}
	args = append(args, limit+1)
	b.WriteString(" ORDER BY r.id LIMIT ")
	b.WriteString(d.Placeholder(len(args)))
	return b.String(), args
}

// NullableKey maps an empty unique key to NULL (many records may have none).
func NullableKey(k string) any {
	if k == "" {
		return nil
	}
	return k
}

// PayloadArg maps a nil payload to an empty one: the payload column is NOT NULL, and a nil
// []byte would be written as NULL.
func PayloadArg(p []byte) []byte {
	if p == nil {
		return []byte{}
	}
	return p
}

// Page turns the rows of a List query (at most limit+1) into the page and its next cursor.
func Page(f store.Filter, recs []store.Record, limit int) ([]store.Record, string) {
	if len(recs) <= limit {
		return recs, ""
	}
	recs = recs[:limit]
	return recs, store.EncodeCursor(f, recs[len(recs)-1].ID)
}
