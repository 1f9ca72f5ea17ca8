package sqlq

import (
	"strings"
	"time"

	"github.com/tenantapps/tenantapps/store"
)

// History returns the query and arguments of OutboxStore.History over table (qualified and
// quoted): the entries matching q, in ascending Seq, at most limit. The at column holds what
// d.Time makes of a time.
func History(d Dialect, table string, q store.HistoryQuery, limit int) (string, []any) {
	var b strings.Builder
	args := []any{q.AfterSeq}
	b.WriteString("SELECT seq, record_id, tenant, at, payload FROM " + table + " WHERE seq > " + d.Placeholder(1))
	add := func(cond string, arg any) {
		args = append(args, arg)
		b.WriteString(" AND " + cond + " " + d.Placeholder(len(args)))
	}
	if q.RecordID != "" {
		add("record_id =", q.RecordID)
	}
	if q.Tenant != "" {
		add("tenant =", q.Tenant)
	}
	if !q.From.IsZero() {
		add("at >=", d.Time(store.Timestamp(q.From)))
	}
	if !q.To.IsZero() {
		add("at <", d.Time(store.Timestamp(q.To)))
	}
	args = append(args, limit)
	b.WriteString(" ORDER BY seq LIMIT " + d.Placeholder(len(args)))
	return b.String(), args
}

// CollectHistory reads the rows of a History query. at is where Scan puts the at column (an
// *int64 of Unix microseconds for SQLite, a *time.Time for PostgreSQL) and toTime reads it back.
// It returns the first error of rows as it is, for the store to map; the caller closes rows.
func CollectHistory[T any](rows Rows, toTime func(T) time.Time) ([]store.HistoryEntry, error) {
	var out []store.HistoryEntry
	for rows.Next() {
		var (
			h  store.HistoryEntry
			at T
		)
		if err := rows.Scan(&h.Seq, &h.RecordID, &h.Tenant, &at, &h.Payload); err != nil {
			return nil, err
		}
		h.At = toTime(at).UTC()
		if len(h.Payload) == 0 {
			h.Payload = nil
		}
		out = append(out, h)
	}
	return out, rows.Err()
}
