package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/tenantapps/tenantapps/store"
)

// outboxTests are the subtests of the [store.OutboxStore] capability; Run adds them.
var outboxTests = []struct {
	name string
	fn   func(t *testing.T, st store.Store)
}{
	{"OutboxAtomicWrite", testOutboxAtomicWrite},
	{"OutboxDelete", testOutboxDelete},
	{"OutboxOrderPerKey", testOutboxOrderPerKey},
	{"OutboxLease", testOutboxLease},
	{"OutboxConcurrentClaim", testOutboxConcurrentClaim},
	{"OutboxHistory", testOutboxHistory},
	{"OutboxInvalidArguments", testOutboxInvalidArguments},
	{"OutboxCancelledAndClosed", testOutboxCancelledAndClosed},
}

func outboxStore(t *testing.T, st store.Store) store.OutboxStore {
	t.Helper()
	os, ok := st.(store.OutboxStore)
	if !ok {
		t.Skipf("%T does not implement store.OutboxStore", st)
	}
	return os
}

// updateWith writes one status change of rec with one event keyed by rec.ID and one history
// entry, and returns the stored record.
func updateWith(t *testing.T, os store.OutboxStore, rec store.Record, status string) store.Record {
	t.Helper()
	rec.Status = status
	ev := store.OutboxEvent{Key: rec.ID, ID: fmt.Sprintf("%s@%d", rec.ID, rec.Version+1), Payload: []byte(status)}
	h := store.HistoryEntry{RecordID: rec.ID, Tenant: rec.Tenant, At: time.Now(), Payload: []byte(status)}
	got, err := os.UpdateWithEvents(t.Context(), rec, []store.OutboxEvent{ev}, []store.HistoryEntry{h})
	if err != nil {
		t.Fatalf("UpdateWithEvents(%s, %s): %v", rec.ID, status, err)
	}
	return got
}

func claim(t *testing.T, os store.OutboxStore, owner string, lease time.Duration) []store.OutboxEvent {
	t.Helper()
	evs, err := os.ClaimEvents(t.Context(), owner, lease, 100)
	if err != nil {
		t.Fatalf("ClaimEvents(%s): %v", owner, err)
	}
	return evs
}

func eventIDs(evs []store.OutboxEvent) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.ID
	}
	return out
}

func testOutboxAtomicWrite(t *testing.T, st store.Store) {
	os := outboxStore(t, st)
	ctx := t.Context()
	before := store.Timestamp(time.Now())
	rec := mustCreate(t, st, sample("a"))
	rec2 := updateWith(t, os, rec, "Invalid")
	if rec2.Version != 2 || rec2.Status != "Invalid" {
		t.Errorf("UpdateWithEvents returned version %d status %q, want 2 Invalid", rec2.Version, rec2.Status)
	}
	if got, err := st.Get(ctx, "a"); err != nil || got.Version != 2 || got.Status != "Invalid" {
		t.Errorf("Get after UpdateWithEvents = v%d %q, %v; want v2 Invalid", got.Version, got.Status, err)
	}
	evs := claim(t, os, "d1", time.Minute)
	if len(evs) != 1 {
		t.Fatalf("ClaimEvents after one write returned %d events, want 1", len(evs))
	}
	e := evs[0]
	if e.Seq < 1 || e.Key != "a" || e.ID != "a@2" || string(e.Payload) != "Invalid" || e.Attempts != 1 || e.LastError != "" {
		t.Errorf("claimed event = %+v, want Seq>0 Key a ID a@2 Payload Invalid Attempts 1", e)
	}
	if e.CreatedAt.Before(before) || e.CreatedAt.Location() != time.UTC || !e.CreatedAt.Equal(store.Timestamp(e.CreatedAt)) {
		t.Errorf("event CreatedAt = %v, want a UTC microsecond time not before %v", e.CreatedAt, before)
	}

	// A conflicting write stores neither the record nor its event nor its entry.
	stale := rec // version 1
	stale.Status = "Expired"
	_, err := os.UpdateWithEvents(ctx, stale, []store.OutboxEvent{{Key: "a", ID: "stale", Payload: []byte("x")}},
		[]store.HistoryEntry{{RecordID: "a", At: time.Now(), Payload: []byte("stale")}})
	if !errors.Is(err, store.ErrConflict) {
		t.Errorf("UpdateWithEvents(stale version): err = %v, want ErrConflict", err)
	}
	// Nor does a write of a missing record or an invalid event.
	if _, err := os.UpdateWithEvents(ctx, store.Record{ID: "missing", Version: 1},
		[]store.OutboxEvent{{Key: "missing", ID: "m"}}, nil); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UpdateWithEvents(missing record): err = %v, want ErrNotFound", err)
	}
	bad := rec2
	bad.Status = "Expired"
	if _, err := os.UpdateWithEvents(ctx, bad, []store.OutboxEvent{{Key: "", ID: "x"}}, nil); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("UpdateWithEvents(event without key): err = %v, want ErrInvalid", err)
	}
	if got, _ := st.Get(ctx, "a"); got.Version != 2 || got.Status != "Invalid" {
		t.Errorf("after failed writes the record is v%d %q, want v2 Invalid unchanged", got.Version, got.Status)
	}
	if err := os.AckEvent(ctx, e.Seq, "d1"); err != nil {
		t.Errorf("AckEvent: %v", err)
	}
	if evs := claim(t, os, "d1", time.Minute); len(evs) != 0 {
		t.Errorf("after failed writes ClaimEvents returned %v, want nothing", eventIDs(evs))
	}
	hs, err := os.History(ctx, store.HistoryQuery{RecordID: "a"})
	if err != nil || len(hs) != 1 || string(hs[0].Payload) != "Invalid" {
		t.Errorf("History(a) = %d entries, %v; want only the committed one", len(hs), err)
	}

	// Without events and entries it is a plain Update.
	rec3, err := os.UpdateWithEvents(ctx, rec2, nil, nil)
	if err != nil || rec3.Version != 3 {
		t.Errorf("UpdateWithEvents(no events) = v%d, %v; want v3", rec3.Version, err)
	}
}

func testOutboxOrderPerKey(t *testing.T, st store.Store) {
	os := outboxStore(t, st)
	ctx := t.Context()
	a := mustCreate(t, st, sample("a"))
	b := mustCreate(t, st, sample("b"))
	for _, s := range []string{"s1", "s2", "s3"} {
		a = updateWith(t, os, a, s)
	}
	for _, s := range []string{"s1", "s2"} {
		b = updateWith(t, os, b, s)
	}
	// Only each key's oldest event is claimable.
	evs := claim(t, os, "d1", time.Minute)
	if diff := cmp.Diff([]string{"a@2", "b@2"}, eventIDs(evs)); diff != "" {
		t.Fatalf("first claim (-want +got):\n%s", diff)
	}
	if more := claim(t, os, "d2", time.Minute); len(more) != 0 {
		t.Errorf("a second claimer got %v while the heads are leased, want nothing", eventIDs(more))
	}
	// Ack a's head: a's next event follows.
	if err := os.AckEvent(ctx, evs[0].Seq, "d1"); err != nil {
		t.Fatalf("AckEvent(a@2): %v", err)
	}
	if err := os.AckEvent(ctx, evs[0].Seq, "d1"); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("AckEvent twice: err = %v, want ErrLeaseLost", err)
	}
	if err := os.AckEvent(ctx, evs[1].Seq, "d2"); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("AckEvent by a dispatcher that does not hold the lease: err = %v, want ErrLeaseLost", err)
	}
	if got := claim(t, os, "d2", time.Minute); !slices.Equal(eventIDs(got), []string{"a@3"}) {
		t.Errorf("claim after acking a@2 = %v, want [a@3]", eventIDs(got))
	} else {
		// A failed delivery goes back to the queue ahead of b's later events.
		if err := os.RetryEvent(ctx, evs[1].Seq, "d1", 0, "handler said no"); err != nil {
			t.Fatalf("RetryEvent(b@2): %v", err)
		}
		again := claim(t, os, "d3", time.Minute)
		if len(again) != 1 || again[0].ID != "b@2" || again[0].Attempts != 2 || again[0].LastError != "handler said no" {
			t.Errorf("claim after RetryEvent = %+v, want b@2 with Attempts 2 and LastError", again)
		}
		if err := os.RetryEvent(ctx, got[0].Seq, "d2", time.Hour, "later"); err != nil {
			t.Errorf("RetryEvent(a@3, 1h): %v", err)
		}
		if later := claim(t, os, "d4", time.Minute); len(later) != 0 {
			t.Errorf("claim with a@3 backing off and b@2 leased = %v, want nothing", eventIDs(later))
		}
	}
}

func testOutboxLease(t *testing.T, st store.Store) {
	os := outboxStore(t, st)
	ctx := t.Context()
	a := mustCreate(t, st, sample("a"))
	updateWith(t, os, a, "Invalid")
	first := claim(t, os, "d1", time.Millisecond)
	if len(first) != 1 {
		t.Fatalf("claim = %d events, want 1", len(first))
	}
	time.Sleep(20 * time.Millisecond) // let the 1 ms lease run out
	second := claim(t, os, "d2", time.Minute)
	if len(second) != 1 || second[0].Seq != first[0].Seq || second[0].Attempts != 2 {
		t.Fatalf("claim after the lease ran out = %+v, want the same event with Attempts 2", second)
	}
	if err := os.AckEvent(ctx, first[0].Seq, "d1"); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("AckEvent by the dispatcher whose lease ran out: err = %v, want ErrLeaseLost", err)
	}
	if err := os.RetryEvent(ctx, first[0].Seq, "d1", 0, ""); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("RetryEvent by the dispatcher whose lease ran out: err = %v, want ErrLeaseLost", err)
	}
	if err := os.AckEvent(ctx, second[0].Seq, "d2"); err != nil {
		t.Errorf("AckEvent by the new holder: %v", err)
	}
}

func testOutboxConcurrentClaim(t *testing.T, st store.Store) {
	os := outboxStore(t, st)
	const keys, perKey, dispatchers = 6, 5, 4
	for k := range keys {
		rec := mustCreate(t, st, sample(fmt.Sprintf("k%d", k)))
		for i := range perKey {
			rec = updateWith(t, os, rec, fmt.Sprintf("s%d", i))
		}
	}
	var (
		mu        sync.Mutex
		delivered = map[string][]int64{} // key -> versions in delivery order
		count     = map[string]int{}     // event ID -> deliveries
		wg        sync.WaitGroup
	)
	for d := range dispatchers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			owner := fmt.Sprintf("d%d", d)
			for idle := 0; idle < 50; {
				evs, err := os.ClaimEvents(t.Context(), owner, time.Minute, 3)
				if err != nil {
					t.Errorf("%s: ClaimEvents: %v", owner, err)
					return
				}
				if len(evs) == 0 {
					idle++
					time.Sleep(time.Millisecond)
					continue
				}
				idle = 0
				for _, e := range evs {
					var v int64
					fmt.Sscanf(e.ID[len(e.Key)+1:], "%d", &v)
					mu.Lock()
					delivered[e.Key] = append(delivered[e.Key], v)
					count[e.ID]++
					mu.Unlock()
					if err := os.AckEvent(t.Context(), e.Seq, owner); err != nil {
						t.Errorf("%s: AckEvent(%s): %v", owner, e.ID, err)
					}
				}
			}
		}()
	}
	wg.Wait()
	for k := range keys {
		key := fmt.Sprintf("k%d", k)
		want := []int64{2, 3, 4, 5, 6}
		if diff := cmp.Diff(want, delivered[key]); diff != "" {
			t.Errorf("versions of %s in delivery order (-want +got):\n%s", key, diff)
		}
	}
	for id, n := range count {
		if n != 1 {
			t.Errorf("event %s delivered %d times, want once", id, n)
		}
	}
}

func testOutboxHistory(t *testing.T, st store.Store) {
	os := outboxStore(t, st)
	ctx := t.Context()
	t0 := store.Timestamp(time.Now().Add(-time.Hour))
	a := mustCreate(t, st, sample("a"))
	bRec := sample("b")
	bRec.Tenant = "other-tenant"
	b := mustCreate(t, st, bRec)
	write := func(rec store.Record, at time.Time, payload string) store.Record {
		rec.Status = payload
		got, err := os.UpdateWithEvents(ctx, rec, nil, []store.HistoryEntry{{RecordID: rec.ID, Tenant: rec.Tenant, At: at, Payload: []byte(payload)}})
		if err != nil {
			t.Fatalf("UpdateWithEvents(history %s): %v", payload, err)
		}
		return got
	}
	a = write(a, t0, "a0")
	b = write(b, t0.Add(time.Minute), "b1")
	a = write(a, t0.Add(2*time.Minute), "a2")
	write(a, t0.Add(3*time.Minute), "a3")
	payloads := func(hs []store.HistoryEntry) []string {
		var out []string
		for _, h := range hs {
			out = append(out, string(h.Payload))
		}
		return out
	}
	for _, tc := range []struct {
		name string
		q    store.HistoryQuery
		want []string
	}{
		{"all", store.HistoryQuery{}, []string{"a0", "b1", "a2", "a3"}},
		{"by record", store.HistoryQuery{RecordID: "a"}, []string{"a0", "a2", "a3"}},
		{"by tenant", store.HistoryQuery{Tenant: "other-tenant"}, []string{"b1"}},
		{"time range", store.HistoryQuery{From: t0.Add(time.Minute), To: t0.Add(3 * time.Minute)}, []string{"b1", "a2"}},
		{"limit", store.HistoryQuery{RecordID: "a", Limit: 2}, []string{"a0", "a2"}},
	} {
		hs, err := os.History(ctx, tc.q)
		if err != nil {
			t.Errorf("History(%s): %v", tc.name, err)
			continue
		}
		if diff := cmp.Diff(tc.want, payloads(hs), cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("History(%s) (-want +got):\n%s", tc.name, diff)
		}
	}
	all, _ := os.History(ctx, store.HistoryQuery{})
	if len(all) == 4 {
		if !slices.IsSortedFunc(all, func(x, y store.HistoryEntry) int { return int(min(max(x.Seq-y.Seq, -1), 1)) }) || all[0].Seq < 1 {
			t.Errorf("History Seqs = %d %d %d %d, want ascending from 1 up", all[0].Seq, all[1].Seq, all[2].Seq, all[3].Seq)
		}
		if !all[0].At.Equal(t0) || all[0].At.Location() != time.UTC || all[0].RecordID != "a" || all[1].Tenant != "other-tenant" {
			t.Errorf("History[0] = %+v, want record a at %v UTC", all[0], t0)
		}
		page, err := os.History(ctx, store.HistoryQuery{AfterSeq: all[1].Seq})
		if err != nil || !slices.Equal(payloads(page), []string{"a2", "a3"}) {
			t.Errorf("History(AfterSeq) = %v, %v; want a2 a3", payloads(page), err)
		}
	}
	// Deleting the record keeps its history.
	if err := st.Delete(ctx, "b", b.Version); err != nil {
		t.Errorf("Delete(b): %v", err)
	}
	if hs, err := os.History(ctx, store.HistoryQuery{RecordID: "b"}); err != nil || len(hs) != 1 {
		t.Errorf("History of a deleted record = %d entries, %v; want 1", len(hs), err)
	}
	n, err := os.PruneHistory(ctx, t0.Add(2*time.Minute))
	if err != nil || n != 2 {
		t.Errorf("PruneHistory = %d, %v; want 2 entries deleted", n, err)
	}
	if hs, _ := os.History(ctx, store.HistoryQuery{}); !slices.Equal(payloads(hs), []string{"a2", "a3"}) {
		t.Errorf("History after prune = %v, want a2 a3", payloads(hs))
	}
}

func testOutboxInvalidArguments(t *testing.T, st store.Store) {
	os := outboxStore(t, st)
	ctx := t.Context()
	check := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, store.ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", what, err)
		}
	}
	_, err := os.ClaimEvents(ctx, "", time.Minute, 1)
	check("ClaimEvents(empty owner)", err)
	_, err = os.ClaimEvents(ctx, "d", 0, 1)
	check("ClaimEvents(zero lease)", err)
	_, err = os.ClaimEvents(ctx, "d", time.Minute, -1)
	check("ClaimEvents(negative limit)", err)
	check("AckEvent(seq 0)", os.AckEvent(ctx, 0, "d"))
	check("AckEvent(empty owner)", os.AckEvent(ctx, 1, ""))
	check("RetryEvent(negative delay)", os.RetryEvent(ctx, 1, "d", -time.Second, ""))
	_, err = os.History(ctx, store.HistoryQuery{Limit: -1})
	check("History(negative limit)", err)
	_, err = os.History(ctx, store.HistoryQuery{Tenant: "\xff"})
	check("History(invalid tenant)", err)
	a := mustCreate(t, st, sample("a"))
	_, err = os.UpdateWithEvents(ctx, a, nil, []store.HistoryEntry{{RecordID: "a"}})
	check("UpdateWithEvents(entry without At)", err)
	_, err = os.UpdateWithEvents(ctx, a, []store.OutboxEvent{{Key: "a", ID: ""}}, nil)
	check("UpdateWithEvents(event without ID)", err)
	if err := os.AckEvent(ctx, 12345, "d"); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("AckEvent(unknown seq): err = %v, want ErrLeaseLost", err)
	}
	if got, _ := st.Get(ctx, "a"); got.Version != 1 {
		t.Errorf("record version after refused writes = %d, want 1", got.Version)
	}
}

func testOutboxCancelledAndClosed(t *testing.T, st store.Store) {
	os := outboxStore(t, st)
	a := mustCreate(t, st, sample("a"))
	calls := func(ctx context.Context) map[string]error {
		_, uerr := os.UpdateWithEvents(ctx, a, []store.OutboxEvent{{Key: "a", ID: "a@2"}}, nil)
		_, cerr := os.ClaimEvents(ctx, "d", time.Minute, 1)
		_, herr := os.History(ctx, store.HistoryQuery{})
		_, perr := os.PruneHistory(ctx, time.Now())
		return map[string]error{
			"UpdateWithEvents": uerr, "ClaimEvents": cerr, "History": herr, "PruneHistory": perr,
			"DeleteWithEvents": os.DeleteWithEvents(ctx, "a", 1, nil, []store.HistoryEntry{{RecordID: "a", At: time.Now()}}),
			"AckEvent":         os.AckEvent(ctx, 1, "d"), "RetryEvent": os.RetryEvent(ctx, 1, "d", 0, ""),
		}
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	for name, err := range calls(ctx) {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a cancelled context: err = %v, want context.Canceled", name, err)
		}
	}
	if got, err := st.Get(t.Context(), "a"); err != nil || got.Version != 1 {
		t.Errorf("after cancelled calls the record is v%d (%v), want v1", got.Version, err)
	}
	if err := st.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	for name, err := range calls(t.Context()) {
		if !errors.Is(err, store.ErrClosed) {
			t.Errorf("%s after Close: err = %v, want ErrClosed", name, err)
		}
	}
}

func testOutboxDelete(t *testing.T, st store.Store) {
	os := outboxStore(t, st)
	ctx := t.Context()
	a := mustCreate(t, st, sample("a"))
	entry := []store.HistoryEntry{{RecordID: "a", Tenant: a.Tenant, At: time.Now(), Payload: []byte("deleted")}}
	ev := []store.OutboxEvent{{Key: "a", ID: "a@deleted", Payload: []byte("gone")}}
	// A stale version deletes nothing and writes nothing.
	if err := os.DeleteWithEvents(ctx, "a", 2, ev, entry); !errors.Is(err, store.ErrConflict) {
		t.Errorf("DeleteWithEvents(stale version): err = %v, want ErrConflict", err)
	}
	if err := os.DeleteWithEvents(ctx, "missing", 1, ev, entry); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DeleteWithEvents(missing record): err = %v, want ErrNotFound", err)
	}
	if err := os.DeleteWithEvents(ctx, "a", 1, []store.OutboxEvent{{Key: "a"}}, nil); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("DeleteWithEvents(event without ID): err = %v, want ErrInvalid", err)
	}
	if evs := claim(t, os, "d", time.Minute); len(evs) != 0 {
		t.Errorf("failed deletions wrote events %v", eventIDs(evs))
	}
	if hs, _ := os.History(ctx, store.HistoryQuery{}); len(hs) != 0 {
		t.Errorf("failed deletions wrote %d history entries", len(hs))
	}
	if err := os.DeleteWithEvents(ctx, "a", 1, ev, entry); err != nil {
		t.Fatalf("DeleteWithEvents: %v", err)
	}
	if _, err := st.Get(ctx, "a"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get after DeleteWithEvents: err = %v, want ErrNotFound", err)
	}
	if evs := claim(t, os, "d", time.Minute); len(evs) != 1 || evs[0].ID != "a@deleted" {
		t.Errorf("events after DeleteWithEvents = %v, want a@deleted", eventIDs(evs))
	}
	if hs, err := os.History(ctx, store.HistoryQuery{RecordID: "a"}); err != nil || len(hs) != 1 || string(hs[0].Payload) != "deleted" {
		t.Errorf("history after DeleteWithEvents = %d entries, %v; want the deletion entry", len(hs), err)
	}
	// The ID is free again.
	mustCreate(t, st, sample("a"))
}
