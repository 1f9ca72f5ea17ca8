package sqlq_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantapps/tenantapps/store"
	"github.com/tenantapps/tenantapps/store/internal/sqlq"
)

// TestGuardErrors pins the texts the SQL stores returned before they shared Guard: callers log
// them, so they must not drift.
func TestGuardErrors(t *testing.T) {
	var g sqlq.Guard
	g.Name = "sqlite"
	ctx := context.Background()
	driverErr := errors.New("disk I/O error")
	if err := g.Begin(ctx, "get"); err != nil {
		t.Errorf("Begin on an open store: %v", err)
	}
	check := func(what string, err, wantIs error, wantText string) {
		t.Helper()
		if !errors.Is(err, wantIs) || err.Error() != wantText {
			t.Errorf("%s = %v, want %q wrapping %v", what, err, wantText, wantIs)
		}
	}
	check("Fail", g.Fail(ctx, `get "x"`, driverErr), driverErr, `sqlite: get "x": disk I/O error`)
	check("FailRead(no rows)", g.FailRead(ctx, `get "x"`, sql.ErrNoRows, sql.ErrNoRows), store.ErrNotFound, `sqlite: get "x": store: record not found`)
	check("FailRead(other)", g.FailRead(ctx, `get "x"`, driverErr, sql.ErrNoRows), driverErr, `sqlite: get "x": disk I/O error`)

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	check("Begin(cancelled)", g.Begin(cctx, "list"), context.Canceled, "sqlite: list: context canceled")
	check("Fail(cancelled)", g.Fail(cctx, "list", driverErr), context.Canceled, "sqlite: list: context canceled")

	g.Close()
	check("Begin(closed)", g.Begin(cctx, "list"), store.ErrClosed, "sqlite: list: store: store is closed")
	check("Fail(closed)", g.Fail(ctx, "list", driverErr), store.ErrClosed, "sqlite: list: store: store is closed")
	check("FailRead(closed, no rows)", g.FailRead(ctx, `get "x"`, sql.ErrNoRows, sql.ErrNoRows), store.ErrNotFound, `sqlite: get "x": store: record not found`)
}

type fakeRows struct {
	ids []string
	i   int
	err error
}

func (r *fakeRows) Next() bool { r.i++; return r.i <= len(r.ids) }
func (r *fakeRows) Err() error { return r.err }
func (r *fakeRows) Scan(dest ...any) error {
	*dest[0].(*string) = r.ids[r.i-1]
	return nil
}

func scanID(sc sqlq.Scanner) (store.Record, error) {
	var r store.Record
	err := sc.Scan(&r.ID)
	return r, err
}

func TestCollect(t *testing.T) {
	f := store.Filter{Status: "Valid"}
	recs, next, err := sqlq.Collect(&fakeRows{ids: []string{"a", "b", "c"}}, scanID, f, 2)
	if err != nil || len(recs) != 2 || recs[1].ID != "b" {
		t.Fatalf("Collect(3 rows, limit 2) = %v, %q, %v; want a and b", recs, next, err)
	}
	if after, err := store.DecodeCursor(f, next); err != nil || after != "b" {
		t.Errorf("next cursor decodes to %q, %v; want b", after, err)
	}
	if recs, next, err := sqlq.Collect(&fakeRows{ids: []string{"a"}}, scanID, f, 2); err != nil || len(recs) != 1 || next != "" {
		t.Errorf("Collect(1 row, limit 2) = %v, %q, %v; want one record and no cursor", recs, next, err)
	}
	boom := errors.New("boom")
	if _, _, err := sqlq.Collect(&fakeRows{ids: []string{"a"}, err: boom}, scanID, f, 2); err != boom {
		t.Errorf("Collect with a failing result set: err = %v, want it unchanged", err)
	}
	failScan := func(sqlq.Scanner) (store.Record, error) { return store.Record{}, boom }
	if _, _, err := sqlq.Collect(&fakeRows{ids: []string{"a"}}, failScan, f, 2); err != boom {
		t.Errorf("Collect with a failing scan: err = %v, want it unchanged", err)
	}
}

func TestCreatedUpdated(t *testing.T) {
	now := store.Timestamp(time.Now())
	in := store.Record{ID: "x", Version: 7, Services: []string{}, Payload: []byte{}, CreatedAt: time.Unix(1, 0)}
	want := store.Record{ID: "x", Version: 1, CreatedAt: now, UpdatedAt: now}
	if diff := cmp.Diff(want, sqlq.Created(in, now)); diff != "" {
		t.Errorf("Created mismatch (-want +got):\n%s", diff)
	}
	created := time.UnixMicro(1_700_000_000_000_000)
	want = store.Record{ID: "x", Version: 8, CreatedAt: created.UTC(), UpdatedAt: now}
	got := sqlq.Updated(in, created, now)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Updated mismatch (-want +got):\n%s", diff)
	}
	if got.CreatedAt.Location() != time.UTC {
		t.Errorf("Updated: CreatedAt location = %v, want UTC", got.CreatedAt.Location())
	}
}

func TestPruneTimer(t *testing.T) {
	var p sqlq.PruneTimer
	t0 := time.Now()
	if !p.Due(t0) {
		t.Error("first call: not due; the first call prunes")
	}
	if p.Due(t0.Add(59 * time.Second)) {
		t.Error("59s later: due; want at most one prune a minute")
	}
	if !p.Due(t0.Add(time.Minute)) {
		t.Error("a minute later: not due")
	}
}
