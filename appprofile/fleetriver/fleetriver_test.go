package fleetriver_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/rivertype"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/tenantapps/tenantapps/appprofile"
	"github.com/tenantapps/tenantapps/appprofile/fleetriver"
	"github.com/tenantapps/tenantapps/consent"
	"github.com/tenantapps/tenantapps/consent/consenttest"
	"github.com/tenantapps/tenantapps/internal/pgtest"
	"github.com/tenantapps/tenantapps/permissions"
	"github.com/tenantapps/tenantapps/store"
	"github.com/tenantapps/tenantapps/store/memstore"
)

// These tests run River on the CI PostgreSQL (TENANTAPPS_POSTGRES_DSN), each in a schema of its
// own so that concurrent test runs do not see each other's jobs.

func dsn(t *testing.T) string {
	t.Helper()
	return pgtest.DSN(t)
}

// testSchema creates a migrated schema of its own for t and drops it afterwards.
func testSchema(t *testing.T, pool *pgxpool.Pool) string {
	t.Helper()
	_, schema := pgtest.Schema(t, "fleetriver_test_")
	if err := fleetriver.Migrate(context.Background(), pool, schema); err != nil {
		t.Fatal(err)
	}
	return schema
}

// severable is a pool whose connections can all be cut at once, as a SIGKILLed process's are.
type severable struct {
	mu    sync.Mutex
	conns []net.Conn
	dead  bool
}

func (s *severable) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dead {
		return nil, fmt.Errorf("replica killed")
	}
	c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
	if err == nil {
		s.conns = append(s.conns, c)
	}
	return c, err
}

func (s *severable) kill() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dead = true
	for _, c := range s.conns {
		_ = c.Close()
	}
}

func newPool(t *testing.T, sev *severable) *pgxpool.Pool {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(dsn(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxConns = 8
	if sev != nil {
		cfg.ConnConfig.DialFunc = sev.dial
	}
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if sev == nil {
		t.Cleanup(pool.Close)
	}
	return pool
}

// world is a directory and a store of tenants with one consented profile each.
type world struct {
	fake    *consenttest.Fake
	store   *memstore.Store
	tenants []string
	now     time.Time
}

const appID = "0000aaaa-0000-4000-8000-000000000001"

func newWorld(t *testing.T, tenants int) *world {
	t.Helper()
	now := time.Now()
	w := &world{fake: consenttest.NewFake(), store: memstore.New(), now: now}
	nitro, err := permissions.Default().AppType("APElements Automation")
	if err != nil {
		t.Fatal(err)
	}
	if err := w.fake.RegisterApp(consenttest.App{AppID: appID, DisplayName: "Nitro"}); err != nil {
		t.Fatal(err)
	}
	for i := range tenants {
		tid := fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
		w.tenants = append(w.tenants, tid)
		must(t, w.fake.AddTenant(consenttest.Tenant{ID: tid}))
		if _, err := w.fake.CreateServicePrincipal(tid, appID); err != nil {
			t.Fatal(err)
		}
		for _, p := range nitro.Permissions {
			must(t, w.fake.GrantAppRole(tid, appID, p.ResourceAppID, p.ID))
		}
		p := appprofile.Profile{ID: fmt.Sprintf("p-%05d", i), Tenant: tid, AppType: nitro.Name, AppID: appID, Mode: appprofile.Modern,
			Shape: appprofile.ShapeApplicationOnly, Status: appprofile.Valid,
			Consent: &appprofile.ConsentRecord{Method: appprofile.AdminConsent, At: now.Add(-48 * time.Hour), CatalogVersion: permissions.Default().Version()}}
		b, err := appprofile.MarshalPayload(p)
		must(t, err)
		_, err = w.store.Create(context.Background(), store.Record{ID: p.ID, Tenant: tid, AppType: p.AppType, Status: string(p.Status), Payload: b})
		must(t, err)
	}
	return w
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// recordingDriver records every AppState call (replica, tenant, time) and lets a test throttle
// or block calls.
type recordingDriver struct {
	consent.Driver
	replica string
	log     *callLog
	// before, when set, runs first; a non-nil error is the call's answer.
	before func(ctx context.Context, tenant string) error
	// latency is how long each successful call takes.
	latency time.Duration
}

type call struct {
	replica, tenant string
	at              time.Time
}

type callLog struct {
	mu       sync.Mutex
	calls    []call
	released []string // tenants the Manager released (consent.TenantReleaser)
}

func (d *recordingDriver) ReleaseTenant(tenant string) {
	d.log.mu.Lock()
	defer d.log.mu.Unlock()
	d.log.released = append(d.log.released, tenant)
}

func (l *callLog) snapshot() []call {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]call(nil), l.calls...)
}

func (d *recordingDriver) AppState(ctx context.Context, tenant, app string) (consent.AppState, error) {
	if d.before != nil {
		if err := d.before(ctx, tenant); err != nil {
			return consent.AppState{}, err
		}
	}
	d.log.mu.Lock()
	d.log.calls = append(d.log.calls, call{replica: d.replica, tenant: tenant, at: time.Now()})
	d.log.mu.Unlock()
	if d.latency > 0 {
		time.Sleep(d.latency)
	}
	return d.Driver.AppState(ctx, tenant, app)
}

func throttle(tenant string, scope consent.ThrottleScope, wait time.Duration) error {
	return &consent.DriverError{Op: "AppState", TenantID: tenant, AppID: appID, RetryAfter: wait,
		Err: &consent.ThrottleError{Throttle: consent.Throttle{Scope: scope, Limit: "Read", Information: "ResourceUnitLimitExceeded"}}}
}

// throttleOnce answers the first Graph read (of tenant, when set) with a 429 of scope and
// remembers when.
type throttleOnce struct {
	scope  consent.ThrottleScope
	wait   time.Duration
	tenant string

	once sync.Once
	mu   sync.Mutex
	at   time.Time
}

func (o *throttleOnce) before(_ context.Context, tenant string) error {
	if o.tenant != "" && tenant != o.tenant {
		return nil
	}
	var err error
	o.once.Do(func() {
		o.mu.Lock()
		o.at = time.Now()
		o.mu.Unlock()
		err = throttle(tenant, o.scope, o.wait)
	})
	return err
}

func (o *throttleOnce) firedAt() time.Time {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.at
}

// nowRetry retries failed jobs at once (rescued jobs included), to keep the tests short.
type nowRetry struct{}

func (nowRetry) NextRetry(*rivertype.JobRow) time.Time { return time.Now() }

type replicaOpts struct {
	id       string
	pool     *pgxpool.Pool
	before   func(ctx context.Context, tenant string) error
	noLeader bool
	workers  int
	latency  time.Duration
}

func (w *world) replica(t *testing.T, schema string, log *callLog, o replicaOpts) *fleetriver.Fleet {
	t.Helper()
	drv := &recordingDriver{Driver: w.fake, replica: o.id, log: log, before: o.before, latency: o.latency}
	m, err := appprofile.New(w.store, drv, appprofile.WithLogger(slog.New(slog.DiscardHandler)), appprofile.WithRateLimit(fleetriver.Share(3000, 3)))
	must(t, err)
	f, err := fleetriver.New(fleetriver.Config{Pool: o.pool, Schema: schema, Manager: m, Store: w.store, ID: o.id,
		Workers: max(o.workers, 4), JobTimeout: 500 * time.Millisecond, RescueStuckJobsAfter: time.Second, RetryPolicy: nowRetry{},
		FetchPollInterval: 50 * time.Millisecond, LeaderElectionDisabled: o.noLeader})
	must(t, err)
	return f
}

func start(t *testing.T, f *fleetriver.Fleet) {
	t.Helper()
	must(t, f.Start(context.Background()))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = f.StopAndCancel(ctx)
	})
}

// waitVerified waits until every tenant's job has completed at least once and returns each
// tenant's completion count.
func waitVerified(t *testing.T, f *fleetriver.Fleet, tenants []string, within time.Duration) map[string]int64 {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		counts := map[string]int64{}
		done := 0
		for _, tid := range tenants {
			n, _, err := f.TenantVerifications(context.Background(), tid)
			must(t, err)
			counts[tid] = n
			if n > 0 {
				done++
			}
		}
		if done == len(tenants) {
			return counts
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s, %d of %d tenants verified", within, done, len(tenants))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func checkProfiles(t *testing.T, w *world) {
	t.Helper()
	recs, _, err := w.store.List(context.Background(), store.Filter{}, store.Page{Limit: store.MaxLimit})
	must(t, err)
	for _, r := range recs {
		p, err := appprofile.UnmarshalPayload(r.Payload)
		must(t, err)
		if p.LastCheck == nil || p.LastCheck.Outcome != appprofile.Checked {
			t.Errorf("profile %s of tenant %s: last check %+v, want a completed check", r.ID, r.Tenant, p.LastCheck)
		}
	}
}

func TestThreeReplicasShareASweep(t *testing.T) {
	pool := newPool(t, nil)
	schema := testSchema(t, pool)
	w := newWorld(t, 60)
	log := &callLog{}
	var fleets []*fleetriver.Fleet
	for i := range 3 {
		f := w.replica(t, schema, log, replicaOpts{id: fmt.Sprintf("replica-%d", i), pool: pool})
		start(t, f)
		fleets = append(fleets, f)
	}
	res, err := fleets[0].Sweep(context.Background())
	must(t, err)
	if res.Enqueued != 60 || res.Duplicates != 0 {
		t.Errorf("first Sweep = %+v, want 60 enqueued", res)
	}
	counts := waitVerified(t, fleets[1], w.tenants, 30*time.Second)
	perTenant := map[string]int{}
	for _, c := range log.snapshot() {
		perTenant[c.tenant]++
	}
	for _, tid := range w.tenants {
		if counts[tid] != 1 || perTenant[tid] != 1 {
			t.Errorf("tenant %s verified %d times (%d Graph reads), want once", tid, counts[tid], perTenant[tid])
		}
	}
	checkProfiles(t, w)
	// A second sweep (another replica) and a user's trigger in the same period collapse into
	// the jobs already done.
	res, err = fleets[2].Sweep(context.Background())
	must(t, err)
	if res.Enqueued != 0 || res.Duplicates != 60 {
		t.Errorf("second Sweep = %+v, want 60 duplicates", res)
	}
	tr, err := fleets[1].Trigger(context.Background(), w.tenants[7])
	must(t, err)
	if !tr.AlreadyDone || tr.Enqueued {
		t.Errorf("Trigger after the sweep = %+v, want AlreadyDone", tr)
	}
}

func TestTriggerJumpsTheQueue(t *testing.T) {
	pool := newPool(t, nil)
	schema := testSchema(t, pool)
	w := newWorld(t, 12)
	f := w.replica(t, schema, &callLog{}, replicaOpts{id: "r", pool: pool}) // not started: jobs stay queued
	// Tenants verified long ago go first: mark all but tenant 3 as verified recently.
	_, err := f.Sweep(context.Background())
	must(t, err)
	_, err = pool.Exec(context.Background(), "DELETE FROM "+pgx.Identifier{schema, "river_job"}.Sanitize())
	must(t, err)
	_, err = pool.Exec(context.Background(), "UPDATE "+pgx.Identifier{schema, "tenantapps_fleet_tenant"}.Sanitize()+" SET verified_at = now() WHERE tenant <> $1", w.tenants[3])
	must(t, err)
	_, err = pool.Exec(context.Background(), "UPDATE "+pgx.Identifier{schema, "tenantapps_fleet_tenant"}.Sanitize()+" SET verified_at = now() - interval '1 day' WHERE tenant = $1", w.tenants[3])
	must(t, err)
	res, err := f.Sweep(context.Background())
	must(t, err)
	if res.Enqueued != 12 {
		t.Fatalf("Sweep = %+v, want 12 enqueued", res)
	}
	order := func() []string {
		rows, err := pool.Query(context.Background(), "SELECT args->>'tenant' FROM "+pgx.Identifier{schema, "river_job"}.Sanitize()+" WHERE kind = 'tenantapps.verify_tenant' ORDER BY priority, scheduled_at, id")
		must(t, err)
		out, err := pgx.CollectRows(rows, pgx.RowTo[string])
		must(t, err)
		return out
	}
	if got := order(); got[0] != w.tenants[3] {
		t.Errorf("first job is tenant %s, want the least recently verified %s (order %v)", got[0], w.tenants[3], got)
	}
	tr, err := f.Trigger(context.Background(), w.tenants[9])
	must(t, err)
	if !tr.Raised || tr.Enqueued {
		t.Errorf("Trigger = %+v, want the sweep's job raised", tr)
	}
	if got := order(); got[0] != w.tenants[9] {
		t.Errorf("first job after Trigger is tenant %s, want %s", got[0], w.tenants[9])
	}
	tr, err = f.Trigger(context.Background(), "11111111-0000-4000-8000-000000000000")
	must(t, err)
	if !tr.Enqueued {
		t.Errorf("Trigger of a tenant without a job = %+v, want Enqueued", tr)
	}
}

func TestKilledReplicasTenantsAreFinishedByTheOthers(t *testing.T) {
	pool := newPool(t, nil)
	schema := testSchema(t, pool)
	w := newWorld(t, 30)
	log := &callLog{}
	// The victim hangs in every Graph call, as a replica does when it is killed mid-request.
	sev := &severable{}
	victimPool := newPool(t, sev)
	hung := make(chan struct{})
	t.Cleanup(func() { close(hung) })
	victim := w.replica(t, schema, log, replicaOpts{id: "victim", pool: victimPool, noLeader: true, workers: 5,
		before: func(ctx context.Context, _ string) error { <-hung; return ctx.Err() }})
	must(t, victim.Start(context.Background()))
	_, err := victim.Sweep(context.Background())
	must(t, err)
	// Wait until the victim holds jobs, then kill it: its connections go, nothing it holds is
	// ever written back.
	running := func() int {
		var n int
		must(t, pool.QueryRow(context.Background(), "SELECT count(*) FROM "+pgx.Identifier{schema, "river_job"}.Sanitize()+" WHERE state = 'running'").Scan(&n))
		return n
	}
	deadline := time.Now().Add(10 * time.Second)
	for running() < 5 {
		if time.Now().After(deadline) {
			t.Fatalf("the victim never took its 5 jobs (%d running)", running())
		}
		time.Sleep(20 * time.Millisecond)
	}
	sev.kill()
	// The survivors start once the victim's jobs are stuck beyond RescueStuckJobsAfter; River's
	// rescuer (run by the survivors' leader) hands them out again.
	time.Sleep(1200 * time.Millisecond)
	var survivors []*fleetriver.Fleet
	for i := range 2 {
		f := w.replica(t, schema, log, replicaOpts{id: fmt.Sprintf("survivor-%d", i), pool: pool})
		start(t, f)
		survivors = append(survivors, f)
	}
	counts := waitVerified(t, survivors[0], w.tenants, 60*time.Second)
	for _, tid := range w.tenants {
		if counts[tid] != 1 {
			t.Errorf("tenant %s verified %d times, want once", tid, counts[tid])
		}
	}
	for _, c := range log.snapshot() {
		if c.replica == "victim" {
			t.Errorf("the killed replica read tenant %s", c.tenant)
		}
	}
	checkProfiles(t, w)
}

func TestApplicationThrottlePausesEveryReplica(t *testing.T) {
	pool := newPool(t, nil)
	schema := testSchema(t, pool)
	w := newWorld(t, 120)
	log := &callLog{}
	const retryAfter = 2 * time.Second
	th := &throttleOnce{scope: consent.ScopeApplication, wait: retryAfter}
	var fleets []*fleetriver.Fleet
	for i := range 3 {
		// 20 ms a read: without the shared pause the other replicas would read on through it.
		o := replicaOpts{id: fmt.Sprintf("replica-%d", i), pool: pool, latency: 20 * time.Millisecond}
		if i == 0 {
			o.before = th.before
		}
		f := w.replica(t, schema, log, o)
		fleets = append(fleets, f)
	}
	_, err := fleets[0].Sweep(context.Background())
	must(t, err)
	for _, f := range fleets {
		start(t, f)
	}
	waitVerified(t, fleets[2], w.tenants, 30*time.Second)
	at := th.firedAt()
	if at.IsZero() {
		t.Fatal("no Graph call was throttled")
	}
	// Calls that had passed the pause check before the row was written may still land just
	// after the 429 (they were on the wire); none may start later inside the pause.
	const inflight = 100 * time.Millisecond
	byReplica := map[string]int{}
	for _, c := range log.snapshot() {
		if c.at.After(at.Add(inflight)) && c.at.Before(at.Add(retryAfter-100*time.Millisecond)) {
			byReplica[c.replica]++
		}
	}
	if len(byReplica) > 0 {
		t.Errorf("Graph calls inside the Application-scope pause, by replica: %v", byReplica)
	}
	checkProfiles(t, w)
}

func TestTenantThrottlePausesOnlyThatTenant(t *testing.T) {
	pool := newPool(t, nil)
	schema := testSchema(t, pool)
	w := newWorld(t, 20)
	log := &callLog{}
	const retryAfter = 1500 * time.Millisecond
	victim := w.tenants[0]
	th := &throttleOnce{scope: consent.ScopeTenantApplication, wait: retryAfter, tenant: victim}
	var fleets []*fleetriver.Fleet
	for i := range 2 {
		f := w.replica(t, schema, log, replicaOpts{id: fmt.Sprintf("replica-%d", i), pool: pool, before: th.before})
		fleets = append(fleets, f)
	}
	_, err := fleets[0].Sweep(context.Background())
	must(t, err)
	for _, f := range fleets {
		start(t, f)
	}
	counts := waitVerified(t, fleets[0], w.tenants, 30*time.Second)
	if until, err := fleets[1].PausedUntil(context.Background()); err != nil || !until.IsZero() {
		t.Errorf("PausedUntil = %v, %v; a tenant throttle must not pause the app", until, err)
	}
	at := th.firedAt()
	var victimReads []time.Time
	for _, c := range log.snapshot() {
		if c.tenant == victim {
			victimReads = append(victimReads, c.at)
		}
	}
	if len(victimReads) != 1 || victimReads[0].Before(at.Add(retryAfter)) {
		t.Errorf("tenant %s read at %v after a throttle at %v with Retry-After %s; want one read after it", victim, victimReads, at, retryAfter)
	}
	_, victimAt, err := fleets[0].TenantVerifications(context.Background(), victim)
	must(t, err)
	for _, tid := range w.tenants[1:] {
		_, at, err := fleets[0].TenantVerifications(context.Background(), tid)
		must(t, err)
		if !at.Before(victimAt) {
			t.Errorf("tenant %s verified at %v, not before the throttled tenant (%v): the throttle held it up", tid, at, victimAt)
		}
	}
	for tid, n := range counts {
		if n != 1 {
			t.Errorf("tenant %s verified %d times, want once", tid, n)
		}
	}
	checkProfiles(t, w)
}

// TestSharesFollowLiveReplicas: with GlobalRU each replica runs at GlobalRU ÷ the replicas alive,
// and a replica that stops heartbeating (killed) leaves its share to the others.
func TestSharesFollowLiveReplicas(t *testing.T) {
	pool := newPool(t, nil)
	schema := testSchema(t, pool)
	w := newWorld(t, 1)
	var fleets []*fleetriver.Fleet
	var managers []*appprofile.Manager
	for i := range 3 {
		m, err := appprofile.New(w.store, w.fake, appprofile.WithLogger(slog.New(slog.DiscardHandler)))
		must(t, err)
		f, err := fleetriver.New(fleetriver.Config{Pool: pool, Schema: schema, Manager: m, Store: w.store, ID: fmt.Sprintf("r%d", i),
			GlobalRU: 3000, HeartbeatEvery: 50 * time.Millisecond})
		must(t, err)
		fleets, managers = append(fleets, f), append(managers, m)
	}
	waitRate := func(m *appprofile.Manager, want float64) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for m.RateLimit().PerSecond != want {
			if time.Now().After(deadline) {
				t.Fatalf("rate = %v, want %v", m.RateLimit().PerSecond, want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	for _, f := range fleets {
		start(t, f)
	}
	for _, m := range managers {
		waitRate(m, 1000)
	}
	// A replica that leaves (here: stops) gives its share to the others.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	must(t, fleets[2].Stop(ctx))
	waitRate(managers[0], 1500)
	waitRate(managers[1], 1500)
	if n, err := fleets[0].Replicas(context.Background()); err != nil || n != 2 {
		t.Errorf("Replicas = %d, %v; want 2", n, err)
	}
}

// TestJobSpansLinkToTheSweep: each job's span links to the sweep that enqueued it and holds the
// Manager's tenant span.
func TestJobSpansLinkToTheSweep(t *testing.T) {
	pool := newPool(t, nil)
	schema := testSchema(t, pool)
	w := newWorld(t, 3)
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	m, err := appprofile.New(w.store, w.fake, appprofile.WithLogger(slog.New(slog.DiscardHandler)), appprofile.WithTracerProvider(tp))
	must(t, err)
	f, err := fleetriver.New(fleetriver.Config{Pool: pool, Schema: schema, Manager: m, Store: w.store, TracerProvider: tp, FetchPollInterval: 50 * time.Millisecond})
	must(t, err)
	start(t, f)
	_, err = f.Sweep(context.Background())
	must(t, err)
	waitVerified(t, f, w.tenants, 30*time.Second)
	var sweep sdktrace.ReadOnlySpan
	jobs := map[string]sdktrace.ReadOnlySpan{}
	var tenantSpans []sdktrace.ReadOnlySpan
	for _, s := range rec.Ended() {
		switch s.Name() {
		case "tenantapps.fleet.sweep":
			sweep = s
		case "tenantapps.fleet.job":
			jobs[s.SpanContext().SpanID().String()] = s
		case "tenantapps.verify_tenant":
			tenantSpans = append(tenantSpans, s)
		}
	}
	if sweep == nil || len(jobs) != 3 || len(tenantSpans) != 3 {
		t.Fatalf("sweep %v, %d job spans, %d tenant spans; want 1, 3, 3", sweep != nil, len(jobs), len(tenantSpans))
	}
	for _, j := range jobs {
		if len(j.Links()) != 1 || j.Links()[0].SpanContext.SpanID() != sweep.SpanContext().SpanID() {
			t.Errorf("job span links %v, want the sweep", j.Links())
		}
	}
	for _, ts := range tenantSpans {
		if _, ok := jobs[ts.Parent().SpanID().String()]; !ok {
			t.Errorf("tenant span's parent is not a job span")
		}
	}
}

// TestTenantWithoutProfilesIsForgotten: a tenant whose profiles were all deleted is verified once
// more (nothing to read) and leaves the sweep's tenant table.
func TestTenantWithoutProfilesIsForgotten(t *testing.T) {
	pool := newPool(t, nil)
	schema := testSchema(t, pool)
	w := newWorld(t, 2)
	f := w.replica(t, schema, &callLog{}, replicaOpts{id: "r", pool: pool})
	_, err := f.Sweep(context.Background())
	must(t, err)
	rec, err := w.store.Get(context.Background(), "p-00001")
	must(t, err)
	must(t, w.store.Delete(context.Background(), rec.ID, rec.Version))
	start(t, f)
	waitVerified(t, f, w.tenants[:1], 30*time.Second)
	deadline := time.Now().Add(30 * time.Second)
	for {
		var n int
		must(t, pool.QueryRow(context.Background(), "SELECT count(*) FROM "+pgx.Identifier{schema, "tenantapps_fleet_tenant"}.Sanitize()+" WHERE tenant = $1", w.tenants[1]).Scan(&n))
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the tenant without profiles is still in the sweep's table")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// flakyStore refuses the next writes of one profile, as a store does when its connection drops.
type flakyStore struct {
	*memstore.Store
	id string

	mu     sync.Mutex
	left   int // writes still to refuse
	failed int
}

func (s *flakyStore) Update(ctx context.Context, rec store.Record) (store.Record, error) {
	s.mu.Lock()
	if rec.ID == s.id && s.left > 0 {
		s.left--
		s.failed++
		s.mu.Unlock()
		return store.Record{}, fmt.Errorf("write %s: connection reset by peer", rec.ID)
	}
	s.mu.Unlock()
	return s.Store.Update(ctx, rec)
}

// TestUnwrittenProfileRetriesTheTenant: when the store refused one profile's write while the
// tenant's other profiles were written, the tenant's job is not completed (that profile would
// miss the period's verification); River reruns it and every profile is written.
func TestUnwrittenProfileRetriesTheTenant(t *testing.T) {
	pool := newPool(t, nil)
	schema := testSchema(t, pool)
	w := newWorld(t, 1)
	// A second profile of the same tenant, written fine.
	second, err := w.store.Get(context.Background(), "p-00000")
	must(t, err)
	second.ID = "p-00000-second"
	_, err = w.store.Create(context.Background(), second)
	must(t, err)
	flaky := &flakyStore{Store: w.store, id: "p-00000", left: 1}
	m, err := appprofile.New(flaky, w.fake, appprofile.WithLogger(slog.New(slog.DiscardHandler)), appprofile.WithRateLimit(fleetriver.Share(3000, 1)))
	must(t, err)
	f, err := fleetriver.New(fleetriver.Config{Pool: pool, Schema: schema, Manager: m, Store: flaky, ID: "r", Workers: 2,
		JobTimeout: 5 * time.Second, RetryPolicy: nowRetry{}, FetchPollInterval: 50 * time.Millisecond})
	must(t, err)
	_, err = f.Sweep(context.Background())
	must(t, err)
	start(t, f)
	counts := waitVerified(t, f, w.tenants, 30*time.Second)
	if counts[w.tenants[0]] != 1 {
		t.Errorf("tenant verified %d times, want once", counts[w.tenants[0]])
	}
	flaky.mu.Lock()
	failed := flaky.failed
	flaky.mu.Unlock()
	if failed != 1 {
		t.Fatalf("the store refused %d writes, want 1 (the test did not exercise a failed write)", failed)
	}
	var attempts int
	must(t, pool.QueryRow(context.Background(), "SELECT attempt FROM "+pgx.Identifier{schema, "river_job"}.Sanitize()+" WHERE args->>'tenant' = $1", w.tenants[0]).Scan(&attempts))
	if attempts != 2 {
		t.Errorf("the tenant's job ran %d times, want 2 (the failed write retried)", attempts)
	}
	checkProfiles(t, w)
}

// TestSweepJobsReleaseTheirTenants: a sweep's job lets the driver drop the tenant's client once
// the tenant is done (it is not read again this period); a job a user triggered does not.
func TestSweepJobsReleaseTheirTenants(t *testing.T) {
	pool := newPool(t, nil)
	schema := testSchema(t, pool)
	w := newWorld(t, 3)
	log := &callLog{}
	f := w.replica(t, schema, log, replicaOpts{id: "r", pool: pool})
	tr, err := f.Trigger(context.Background(), w.tenants[0])
	must(t, err)
	if !tr.Enqueued {
		t.Fatalf("Trigger = %+v, want Enqueued", tr)
	}
	res, err := f.Sweep(context.Background())
	must(t, err)
	if res.Enqueued != 2 || res.Duplicates != 1 {
		t.Fatalf("Sweep = %+v, want 2 enqueued and the triggered tenant a duplicate", res)
	}
	start(t, f)
	waitVerified(t, f, w.tenants, 30*time.Second)
	log.mu.Lock()
	released := slices.Sorted(slices.Values(log.released))
	log.mu.Unlock()
	if diff := cmp.Diff(w.tenants[1:], released); diff != "" {
		t.Errorf("released tenants (-want +got):\n%s", diff)
	}
}
