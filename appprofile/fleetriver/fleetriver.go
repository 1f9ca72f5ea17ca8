// Package fleetriver runs fleet verification as River jobs (github.com/riverqueue/river, with
// its pgx v5 driver) on the embedder's PostgreSQL, so that several portal replicas share one
// sweep: no new server, and a replica that dies mid-job loses nothing.
//
// The model:
//
//   - One job per tenant (kind "tenantapps.verify_tenant"), unique per tenant per Period
//     (River's UniqueOpts ByArgs + ByPeriod, default states): a sweep and a user's trigger in
//     the same period collapse into one job, and a tenant verified in this period is not
//     verified again by a second sweep.
//   - Sweep enqueues every tenant of the store, least recently verified first (the time each
//     tenant was last verified is kept in the table <schema>.tenantapps_fleet_tenant), at
//     priority PrioritySweep; Trigger enqueues one tenant at PriorityUser, or raises the
//     priority of its pending job, so a user's check jumps the queue.
//   - The worker is appprofile.Manager.VerifyTenant — the same per-tenant step as VerifyAll —
//     with DeferThrottled: a throttled tenant is snoozed (river.JobSnooze, which does not
//     count as an attempt) for Graph's Retry-After instead of being recorded CouldNotCheck.
//   - An Application-scope 429 (every tenant of the app is throttled) is written to the row of
//     <schema>.tenantapps_fleet_pause; every replica reads it before each job and snoozes its
//     jobs until it passes.
//   - A replica killed mid-job leaves its jobs "running"; River's rescuer (run by the leader)
//     makes them retryable after RescueStuckJobsAfter and another replica runs them.
//     VerifyTenant writes results with the store's optimistic concurrency, so a job run twice is
//     harmless.
//   - A job completes only when every profile of the tenant was written (or cannot be, however
//     often it is retried: deleted meanwhile, an unreadable payload, a refused request). When
//     the store failed to write one — a dropped connection, PostgreSQL out of connections — the
//     job fails and River reruns the whole tenant, so no profile misses the period's check.
//
// # Connections
//
// Each replica holds up to Config.Pool's MaxConns (River: fetching, completing, the listener,
// the leader's maintenance) plus its store's pool. Keep the sum over all replicas, the portal's
// other pools and the sweeping process below PostgreSQL's max_connections (100 by default):
// beyond it new connections are refused ("too many clients already", SQLSTATE 53300). Nothing
// is lost then — failed jobs and writes are retried — but the sweep slows down and reruns
// tenants (BenchmarkFleetReplicas at 4,000 tenants with 45 connections held elsewhere: 0
// profiles lost, 744 tenants read twice; when a job still completed with some profiles
// unwritten, the same run lost 300 profiles).
//
// # Budget across replicas
//
// River has no global rate limit; each replica's Manager keeps its own RU budget and runs at its
// share of the global one. With Config.GlobalRU the share follows the replicas alive (a heartbeat
// row per replica, every HeartbeatEvery): when one dies the others take over its share within
// three heartbeats. Without it, give each replica a static share, WithRateLimit(Share(global,
// replicas)). The trade-off: per-replica buckets need no coordination per request (no database
// round trip per Graph call), at the price of a burst of up to each replica's burst at once and,
// with static shares, of a dead replica's share going unused; Graph's own signals cover the rest — x-ms-throttle-limit-percentage above 0.8 slows
// each Manager down, and an Application-scope 429 pauses all replicas through PostgreSQL. Size
// global below the app's Graph budget (150,000 RU / 20 s = 7,500 RU/s per app for identity
// reads, throttling-limits.md) minus what interactive portal traffic needs; a sweep of T tenants
// costs about T × (1 + 3 × profiles per tenant) RU with consent/graph, so it lasts
// RU ÷ global seconds.
//
// River's tables are created by Migrate (rivermigrate) in the schema the embedder chooses, with
// this package's two tables next to them. River is imported by this package only
// (internal/depcheck enforces it).
package fleetriver

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/tenantapps/tenantapps/appprofile"
	"github.com/tenantapps/tenantapps/consent"
	"github.com/tenantapps/tenantapps/store"
)

// Job priorities (River: 1 is worked first).
const (
	// PriorityUser is the priority of Trigger's jobs: a user waits for them.
	PriorityUser = 1
	// PrioritySweep is the priority of Sweep's jobs.
	PrioritySweep = 3
)

// MaxSnooze caps how long a throttled job is snoozed, whatever Retry-After said.
const MaxSnooze = 10 * time.Minute

// Config configures a Fleet.
type Config struct {
	// Pool is the embedder's PostgreSQL pool (required). River's and this package's tables must
	// exist in Schema: run Migrate first.
	Pool *pgxpool.Pool
	// Schema holds River's tables and this package's ("" = the connection's search path).
	Schema string
	// Manager verifies the tenants (required). Build it with WithRateLimit(Share(...)).
	Manager *appprofile.Manager
	// Store is the Manager's store, listed by Sweep (required).
	Store store.Store
	// AppID names the app whose Application-scope throttles pause the fleet (the reading app's
	// client ID; "default" when empty). Fleets of different apps in one schema pause apart.
	AppID string
	// Queue is the River queue of the verification jobs ("tenantapps_verify" by default).
	Queue string
	// Workers is how many tenants this replica verifies at once (32 by default).
	Workers int
	// GlobalRU, when positive, is the app's global read budget in RU per second shared by every
	// replica of the fleet: each replica announces itself in <schema>.tenantapps_fleet_replica
	// every HeartbeatEvery and sets its Manager's rate to GlobalRU ÷ the replicas alive
	// (Manager.SetRateLimit), so the survivors take over a dead replica's share within three
	// heartbeats. Zero leaves the Manager's own WithRateLimit (a static share, see Share).
	GlobalRU float64
	// HeartbeatEvery is how often a replica announces itself (2 s by default).
	HeartbeatEvery time.Duration
	// Period is the uniqueness window of a tenant's job (1 hour by default): one verification
	// per tenant per period, whoever asks.
	Period time.Duration
	// SweepEvery, when positive, makes River's leader run Sweep periodically.
	SweepEvery time.Duration
	// JobTimeout bounds one tenant's verification (2 minutes by default).
	JobTimeout time.Duration
	// RescueStuckJobsAfter is how long a job may stay running before River's rescuer gives it
	// to another replica (10 minutes by default; at least JobTimeout).
	RescueStuckJobsAfter time.Duration
	// RetryPolicy overrides River's retry policy for failed jobs (River's exponential backoff by
	// default). Snoozes (throttles) are not failures.
	RetryPolicy river.ClientRetryPolicy
	// LeaderElectionDisabled keeps this replica out of River's leader election (it then never
	// runs the rescuer, the scheduler or periodic sweeps; another replica must).
	LeaderElectionDisabled bool
	// FetchPollInterval is how often idle workers look for jobs (River's default when zero).
	FetchPollInterval time.Duration
	// ID identifies this replica to River (random when empty).
	ID string
	// Logger receives River's and this package's logs (silent when nil).
	Logger *slog.Logger
	// Now is the clock used for pause rows and verified-at times (time.Now by default).
	Now func() time.Time
	// TracerProvider receives the sweep and job spans (otel.GetTracerProvider() when nil). A
	// job's span links to the sweep that enqueued it; the Manager's tenant span nests inside.
	TracerProvider trace.TracerProvider
}

// Fleet is one replica's share of fleet verification. Safe for concurrent use.
type Fleet struct {
	cfg    Config
	client *river.Client[pgx.Tx]
	tables tables
	tracer trace.Tracer

	beatMu   sync.Mutex
	beatStop context.CancelFunc
	beatDone chan struct{}
}

type tables struct{ tenant, pause, job, replica string }

func tableNames(schema string) tables {
	q := func(name string) string {
		if schema == "" {
			return pgx.Identifier{name}.Sanitize()
		}
		return pgx.Identifier{schema, name}.Sanitize()
	}
	return tables{tenant: q("tenantapps_fleet_tenant"), pause: q("tenantapps_fleet_pause"), job: q("river_job"), replica: q("tenantapps_fleet_replica")}
}

// VerifyTenantArgs is the job of one tenant's verification.
type VerifyTenantArgs struct {
	Tenant string `json:"tenant" river:"unique"`
}

// Kind is River's job kind.
func (VerifyTenantArgs) Kind() string { return "tenantapps.verify_tenant" }

// SweepArgs is the periodic job that runs Sweep (Config.SweepEvery).
type SweepArgs struct{}

// Kind is River's job kind.
func (SweepArgs) Kind() string { return "tenantapps.fleet_sweep" }

// Share is one replica's rate limit when replicas replicas share a global budget of globalRU
// resource units per second: globalRU ÷ replicas, with a burst of one second of it (at least
// 64 RU, one tenant's batch).
func Share(globalRU float64, replicas int) appprofile.RateLimit {
	per := globalRU / float64(max(replicas, 1))
	return appprofile.RateLimit{PerSecond: per, Burst: max(int(per), 64)}
}

// Migrate creates or upgrades River's tables (rivermigrate) and this package's in schema,
// creating the schema when missing. It is idempotent; run it once per deployment, before New.
func Migrate(ctx context.Context, pool *pgxpool.Pool, schema string) error {
	if pool == nil {
		return errors.New("fleetriver: Migrate: a pgxpool.Pool is required")
	}
	if schema != "" {
		if _, err := pool.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+pgx.Identifier{schema}.Sanitize()); err != nil {
			return fmt.Errorf("fleetriver: creating schema %s: %w", schema, err)
		}
	}
	mig, err := rivermigrate.New(riverpgxv5.New(pool), &rivermigrate.Config{Schema: schema, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return fmt.Errorf("fleetriver: River migrator: %w", err)
	}
	if _, err := mig.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("fleetriver: migrating River's tables: %w", err)
	}
	t := tableNames(schema)
	ddl := `CREATE TABLE IF NOT EXISTS ` + t.tenant + ` (
		tenant text PRIMARY KEY,
		verified_at timestamptz,
		verifications bigint NOT NULL DEFAULT 0
	);
	CREATE INDEX IF NOT EXISTS tenantapps_fleet_tenant_verified ON ` + t.tenant + ` (verified_at NULLS FIRST, tenant);
	CREATE TABLE IF NOT EXISTS ` + t.pause + ` (
		app text PRIMARY KEY,
		until timestamptz NOT NULL,
		reason text NOT NULL DEFAULT ''
	);
	CREATE TABLE IF NOT EXISTS ` + t.replica + ` (
		app text NOT NULL,
		id text NOT NULL,
		seen_at timestamptz NOT NULL,
		PRIMARY KEY (app, id)
	)`
	if _, err := pool.Exec(ctx, ddl); err != nil {
		return fmt.Errorf("fleetriver: creating tables: %w", err)
	}
	return nil
}

// New returns a replica's Fleet. Call Start to work jobs; Sweep and Trigger work without it.
func New(cfg Config) (*Fleet, error) {
	var problems []string
	if cfg.Pool == nil {
		problems = append(problems, "Config.Pool is required")
	}
	if cfg.Manager == nil {
		problems = append(problems, "Config.Manager is required")
	}
	if cfg.Store == nil {
		problems = append(problems, "Config.Store is required")
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("fleetriver: New: %v", problems)
	}
	cfg.AppID = cmpOr(cfg.AppID, "default")
	cfg.Queue = cmpOr(cfg.Queue, "tenantapps_verify")
	if cfg.Workers <= 0 {
		cfg.Workers = 32
	}
	if cfg.Period <= 0 {
		cfg.Period = time.Hour
	}
	if cfg.JobTimeout <= 0 {
		cfg.JobTimeout = 2 * time.Minute
	}
	if cfg.RescueStuckJobsAfter <= 0 {
		cfg.RescueStuckJobsAfter = 10 * time.Minute
	}
	cfg.RescueStuckJobsAfter = max(cfg.RescueStuckJobsAfter, cfg.JobTimeout)
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.HeartbeatEvery <= 0 {
		cfg.HeartbeatEvery = 2 * time.Second
	}
	if cfg.ID == "" {
		b := make([]byte, 8)
		_, _ = rand.Read(b)
		cfg.ID = "replica-" + hex.EncodeToString(b)
	}
	tp := cfg.TracerProvider
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	f := &Fleet{cfg: cfg, tables: tableNames(cfg.Schema), tracer: tp.Tracer("github.com/tenantapps/tenantapps/appprofile/fleetriver")}
	workers := river.NewWorkers()
	river.AddWorker(workers, &verifyWorker{f: f})
	river.AddWorker(workers, &sweepWorker{f: f})
	rc := &river.Config{
		ID:                     cfg.ID,
		Schema:                 cfg.Schema,
		Logger:                 cfg.Logger,
		Queues:                 map[string]river.QueueConfig{cfg.Queue: {MaxWorkers: cfg.Workers}},
		Workers:                workers,
		JobTimeout:             cfg.JobTimeout,
		RescueStuckJobsAfter:   cfg.RescueStuckJobsAfter,
		RetryPolicy:            cfg.RetryPolicy,
		LeaderElectionDisabled: cfg.LeaderElectionDisabled,
		FetchPollInterval:      cfg.FetchPollInterval,
		FetchCooldown:          min(cfg.FetchPollInterval, 100*time.Millisecond),
	}
	if cfg.FetchPollInterval <= 0 {
		rc.FetchCooldown = 0
	}
	if cfg.SweepEvery > 0 && !cfg.LeaderElectionDisabled {
		rc.PeriodicJobs = []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(cfg.SweepEvery),
			func() (river.JobArgs, *river.InsertOpts) {
				return SweepArgs{}, &river.InsertOpts{Queue: cfg.Queue, Priority: PriorityUser, UniqueOpts: river.UniqueOpts{ByPeriod: cfg.SweepEvery}}
			}, &river.PeriodicJobOpts{ID: "tenantapps.fleet_sweep"})}
	}
	client, err := river.NewClient(riverpgxv5.New(cfg.Pool), rc)
	if err != nil {
		return nil, fmt.Errorf("fleetriver: River client: %w", err)
	}
	f.client = client
	return f, nil
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// Start starts working jobs in the background until Stop (or ctx ends), and with GlobalRU the
// heartbeat that sizes this replica's share.
func (f *Fleet) Start(ctx context.Context) error {
	if f.cfg.GlobalRU > 0 {
		if err := f.heartbeat(ctx); err != nil {
			return err
		}
		f.beatMu.Lock()
		if f.beatStop == nil {
			bctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
			f.beatStop, f.beatDone = cancel, make(chan struct{})
			go f.heartbeats(bctx, f.beatDone)
		}
		f.beatMu.Unlock()
	}
	return f.client.Start(ctx)
}

// Stop stops fetching jobs and waits for running ones to finish (or ctx to end); this replica's
// share goes to the others.
func (f *Fleet) Stop(ctx context.Context) error {
	defer f.leave(ctx)
	return f.client.Stop(ctx)
}

// StopAndCancel cancels running jobs and waits for them to return; cancelled jobs are retried.
func (f *Fleet) StopAndCancel(ctx context.Context) error {
	defer f.leave(ctx)
	return f.client.StopAndCancel(ctx)
}

// heartbeats announces the replica every HeartbeatEvery until ctx ends.
func (f *Fleet) heartbeats(ctx context.Context, done chan struct{}) {
	defer close(done)
	t := time.NewTicker(f.cfg.HeartbeatEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := f.heartbeat(ctx); err != nil && ctx.Err() == nil {
				f.cfg.Logger.Warn("fleetriver: heartbeat failed; keeping the current share", "err", err)
			}
		}
	}
}

// heartbeat records this replica as alive and sets its Manager's rate to its share of GlobalRU
// among the replicas seen in the last three heartbeats.
func (f *Fleet) heartbeat(ctx context.Context) error {
	now := f.cfg.Now()
	if _, err := f.cfg.Pool.Exec(ctx, `INSERT INTO `+f.tables.replica+` (app, id, seen_at) VALUES ($1, $2, $3)
		ON CONFLICT (app, id) DO UPDATE SET seen_at = EXCLUDED.seen_at`, f.cfg.AppID, f.cfg.ID, now); err != nil {
		return fmt.Errorf("fleetriver: heartbeat: %w", err)
	}
	var live int
	if err := f.cfg.Pool.QueryRow(ctx, `SELECT count(*) FROM `+f.tables.replica+` WHERE app = $1 AND seen_at > $2`,
		f.cfg.AppID, now.Add(-3*f.cfg.HeartbeatEvery)).Scan(&live); err != nil {
		return fmt.Errorf("fleetriver: heartbeat: %w", err)
	}
	f.cfg.Manager.SetRateLimit(Share(f.cfg.GlobalRU, max(live, 1)))
	return nil
}

// leave stops the heartbeat and removes this replica's row.
func (f *Fleet) leave(ctx context.Context) {
	f.beatMu.Lock()
	stop, done := f.beatStop, f.beatDone
	f.beatStop = nil
	f.beatMu.Unlock()
	if stop == nil {
		return
	}
	stop()
	<-done
	_, _ = f.cfg.Pool.Exec(context.WithoutCancel(ctx), `DELETE FROM `+f.tables.replica+` WHERE app = $1 AND id = $2`, f.cfg.AppID, f.cfg.ID)
}

// Replicas returns how many replicas announced themselves in the last three heartbeats.
func (f *Fleet) Replicas(ctx context.Context) (int, error) {
	var live int
	err := f.cfg.Pool.QueryRow(ctx, `SELECT count(*) FROM `+f.tables.replica+` WHERE app = $1 AND seen_at > $2`,
		f.cfg.AppID, f.cfg.Now().Add(-3*f.cfg.HeartbeatEvery)).Scan(&live)
	return live, err
}

// Client is this replica's River client, for subscriptions and job queries.
func (f *Fleet) Client() *river.Client[pgx.Tx] { return f.client }

// SweepResult counts what Sweep enqueued.
type SweepResult struct {
	// Tenants is how many tenants were considered; Enqueued got a new job; Duplicates already
	// had one in this period (pending, running, or done).
	Tenants, Enqueued, Duplicates int
}

// sweepChunk is how many tenants a Sweep page and an InsertMany carry.
const sweepChunk = 1000

// Sweep enqueues a verification job for every tenant with profiles in the store, least recently
// verified first, at PrioritySweep. Tenants that already have a job in this period are skipped
// (counted as Duplicates). It streams the store and the tenant table: memory stays bounded by a
// page whatever the fleet's size. Any replica may call it; concurrent sweeps collapse.
func (f *Fleet) Sweep(ctx context.Context) (res SweepResult, err error) {
	ctx, span := f.tracer.Start(ctx, "tenantapps.fleet.sweep")
	defer func() {
		span.SetAttributes(attribute.Int("tenantapps.fleet.enqueued", res.Enqueued), attribute.Int("tenantapps.fleet.duplicates", res.Duplicates))
		if err != nil {
			span.SetStatus(codes.Error, "sweep failed")
		}
		span.End()
	}()
	meta := traceMetadata(ctx)
	// 1. Register the store's tenants (new ones have never been verified: they sort first).
	cursor := ""
	for {
		recs, next, err := f.cfg.Store.List(ctx, store.Filter{}, store.Page{Limit: store.MaxLimit, Cursor: cursor})
		if err != nil {
			return res, fmt.Errorf("fleetriver: Sweep: listing profiles: %w", err)
		}
		seen := map[string]bool{}
		var tenants []string
		for _, r := range recs {
			if r.Tenant != "" && !seen[r.Tenant] {
				seen[r.Tenant] = true
				tenants = append(tenants, r.Tenant)
			}
		}
		if len(tenants) > 0 {
			if _, err := f.cfg.Pool.Exec(ctx, `INSERT INTO `+f.tables.tenant+` (tenant) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING`, tenants); err != nil {
				return res, fmt.Errorf("fleetriver: Sweep: registering tenants: %w", err)
			}
		}
		if next == "" {
			break
		}
		cursor = next
	}
	// 2. Enqueue least recently verified first, a page at a time (keyset pagination).
	var lastAt *time.Time
	lastTenant, first := "", true
	for {
		var rows pgx.Rows
		var err error
		const cols = `SELECT tenant, verified_at FROM `
		switch {
		case first:
			rows, err = f.cfg.Pool.Query(ctx, cols+f.tables.tenant+` ORDER BY verified_at NULLS FIRST, tenant LIMIT $1`, sweepChunk)
		case lastAt == nil:
			rows, err = f.cfg.Pool.Query(ctx, cols+f.tables.tenant+` WHERE (verified_at IS NULL AND tenant > $2) OR verified_at IS NOT NULL
				ORDER BY verified_at NULLS FIRST, tenant LIMIT $1`, sweepChunk, lastTenant)
		default:
			rows, err = f.cfg.Pool.Query(ctx, cols+f.tables.tenant+` WHERE (verified_at, tenant) > ($2, $3)
				ORDER BY verified_at NULLS FIRST, tenant LIMIT $1`, sweepChunk, *lastAt, lastTenant)
		}
		if err != nil {
			return res, fmt.Errorf("fleetriver: Sweep: reading tenants: %w", err)
		}
		var params []river.InsertManyParams
		for rows.Next() {
			var t string
			var at *time.Time
			if err := rows.Scan(&t, &at); err != nil {
				rows.Close()
				return res, fmt.Errorf("fleetriver: Sweep: reading tenants: %w", err)
			}
			lastTenant, lastAt = t, at
			opts := f.insertOpts(PrioritySweep)
			opts.Metadata = meta
			params = append(params, river.InsertManyParams{Args: VerifyTenantArgs{Tenant: t}, InsertOpts: opts})
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return res, fmt.Errorf("fleetriver: Sweep: reading tenants: %w", err)
		}
		first = false
		if len(params) == 0 {
			return res, nil
		}
		results, err := f.client.InsertMany(ctx, params)
		if err != nil {
			return res, fmt.Errorf("fleetriver: Sweep: enqueueing: %w", err)
		}
		res.Tenants += len(params)
		for _, r := range results {
			if r.UniqueSkippedAsDuplicate {
				res.Duplicates++
			} else {
				res.Enqueued++
			}
		}
		if len(params) < sweepChunk {
			return res, nil
		}
	}
}

func (f *Fleet) insertOpts(priority int) *river.InsertOpts {
	return &river.InsertOpts{Queue: f.cfg.Queue, Priority: priority, MaxAttempts: 5,
		UniqueOpts: river.UniqueOpts{ByArgs: true, ByPeriod: f.cfg.Period}}
}

// TriggerResult says what Trigger did.
type TriggerResult struct {
	// JobID is the tenant's job in this period.
	JobID int64
	// Enqueued: a new job was inserted at PriorityUser.
	Enqueued bool
	// Raised: the tenant's pending job (from a sweep) was moved to PriorityUser.
	Raised bool
	// AlreadyRunning: the tenant's job of this period is running now; AlreadyDone: it has
	// finished (call Manager.Verify to check a profile again right away).
	AlreadyRunning, AlreadyDone bool
}

// Trigger asks for tenant's verification now, ahead of sweeps: it enqueues the tenant's job at
// PriorityUser, or raises the priority of the job a sweep already queued for it. A job snoozed
// by a throttle keeps its time: Retry-After is honoured for users too.
func (f *Fleet) Trigger(ctx context.Context, tenant string) (TriggerResult, error) {
	if tenant == "" {
		return TriggerResult{}, errors.New("fleetriver: Trigger: a tenant ID is required")
	}
	tenant, err := appprofile.NormalizeTenantID(tenant)
	if err != nil {
		return TriggerResult{}, err
	}
	opts := f.insertOpts(PriorityUser)
	opts.Metadata = traceMetadata(ctx)
	r, err := f.client.Insert(ctx, VerifyTenantArgs{Tenant: tenant}, opts)
	if err != nil {
		return TriggerResult{}, fmt.Errorf("fleetriver: Trigger %s: %w", tenant, err)
	}
	out := TriggerResult{JobID: r.Job.ID, Enqueued: !r.UniqueSkippedAsDuplicate}
	if out.Enqueued {
		return out, nil
	}
	switch r.Job.State {
	case rivertype.JobStateRunning:
		out.AlreadyRunning = true
		return out, nil
	case rivertype.JobStateCompleted, rivertype.JobStateCancelled, rivertype.JobStateDiscarded:
		out.AlreadyDone = true
		return out, nil
	}
	tag, err := f.cfg.Pool.Exec(ctx, `UPDATE `+f.tables.job+` SET priority = $2 WHERE id = $1 AND priority > $2
		AND state IN ('available', 'scheduled', 'retryable', 'pending')`, r.Job.ID, PriorityUser)
	if err != nil {
		return out, fmt.Errorf("fleetriver: Trigger %s: raising the job's priority: %w", tenant, err)
	}
	out.Raised = tag.RowsAffected() == 1
	return out, nil
}

// PauseApp pauses every replica's jobs until until (never shortening a longer pause). Workers
// call it on an Application-scope 429; embedders may call it too.
func (f *Fleet) PauseApp(ctx context.Context, until time.Time, reason string) error {
	_, err := f.cfg.Pool.Exec(ctx, `INSERT INTO `+f.tables.pause+` (app, until, reason) VALUES ($1, $2, $3)
		ON CONFLICT (app) DO UPDATE SET until = GREATEST(`+f.tables.pause+`.until, EXCLUDED.until),
		reason = CASE WHEN EXCLUDED.until > `+f.tables.pause+`.until THEN EXCLUDED.reason ELSE `+f.tables.pause+`.reason END`,
		f.cfg.AppID, until, reason)
	if err != nil {
		return fmt.Errorf("fleetriver: pausing the app: %w", err)
	}
	return nil
}

// PausedUntil returns until when the app is paused (zero when it is not paused).
func (f *Fleet) PausedUntil(ctx context.Context) (time.Time, error) {
	var until time.Time
	err := f.cfg.Pool.QueryRow(ctx, `SELECT until FROM `+f.tables.pause+` WHERE app = $1`, f.cfg.AppID).Scan(&until)
	if errors.Is(err, pgx.ErrNoRows) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("fleetriver: reading the app's pause: %w", err)
	}
	if !until.After(f.cfg.Now()) {
		return time.Time{}, nil
	}
	return until, nil
}

// TenantVerifications returns how many times tenant's job completed and when it last did (zero
// when never).
func (f *Fleet) TenantVerifications(ctx context.Context, tenant string) (int64, time.Time, error) {
	var n int64
	var at *time.Time
	err := f.cfg.Pool.QueryRow(ctx, `SELECT verifications, verified_at FROM `+f.tables.tenant+` WHERE tenant = $1`, tenant).Scan(&n, &at)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, time.Time{}, nil
	}
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("fleetriver: reading tenant %s: %w", tenant, err)
	}
	if at == nil {
		return n, time.Time{}, nil
	}
	return n, *at, nil
}

type verifyWorker struct {
	river.WorkerDefaults[VerifyTenantArgs]
	f *Fleet
}

// Work verifies one tenant: snoozes while the app is paused, defers throttled tenants with a
// snooze for Graph's Retry-After, and records the verification time.
func (w *verifyWorker) Work(ctx context.Context, job *river.Job[VerifyTenantArgs]) (err error) {
	f := w.f
	spanOpts := []trace.SpanStartOption{trace.WithAttributes(attribute.String("tenantapps.tenant.id", job.Args.Tenant),
		attribute.Int("river.job.attempt", job.Attempt), attribute.Int("river.job.priority", job.Priority))}
	if link := linkFrom(job.Metadata); link.SpanContext.IsValid() {
		spanOpts = append(spanOpts, trace.WithLinks(link))
	}
	ctx, span := f.tracer.Start(ctx, "tenantapps.fleet.job", spanOpts...)
	defer func() {
		var snooze *rivertype.JobSnoozeError
		switch {
		case errors.As(err, &snooze):
			span.SetAttributes(attribute.Float64("tenantapps.fleet.snooze_seconds", snooze.Duration.Seconds()))
		case err != nil:
			span.SetStatus(codes.Error, "verification failed")
		}
		span.End()
	}()
	if until, err := f.PausedUntil(ctx); err != nil {
		return err
	} else if !until.IsZero() {
		return river.JobSnooze(min(until.Sub(f.cfg.Now()), MaxSnooze))
	}
	prio := consent.PriorityLow
	if job.Priority <= PriorityUser {
		prio = consent.PriorityHigh
	}
	res, err := f.cfg.Manager.VerifyTenant(ctx, job.Args.Tenant, appprofile.VerifyTenantOptions{
		Priority: prio, DeferThrottled: true, MaxAttempts: 1,
		// A sweep's tenant is not read again this period: the driver need not keep its client.
		ReleaseTenant: job.Priority > PriorityUser,
		OnThrottle: func(_ string, t consent.Throttle) {
			if t.Scope.PausesApp() && t.RetryAfter > 0 {
				if err := f.PauseApp(ctx, f.cfg.Now().Add(min(t.RetryAfter, MaxSnooze)), string(t.Scope)+"/"+t.Limit); err != nil {
					f.cfg.Logger.Warn("fleetriver: could not share an Application-scope throttle", "err", err)
				}
			}
		},
	})
	if err != nil {
		return err
	}
	if res.Deferred > 0 {
		d := res.RetryAfter
		if d <= 0 {
			d = time.Second
		}
		return river.JobSnooze(min(d, MaxSnooze))
	}
	if res.Failed > 0 && res.Failed == res.Done {
		return fmt.Errorf("fleetriver: tenant %s: every profile failed: %w", job.Args.Tenant, errors.Join(res.Errors...))
	}
	if retry := retryableFailures(res.Errors); len(retry) > 0 {
		// A profile that could not be written (the store failed) would otherwise miss this
		// period's verification; the rerun verifies the tenant again, idempotently.
		return fmt.Errorf("fleetriver: tenant %s: %d of %d profiles not verified: %w", job.Args.Tenant, res.Failed, res.Done, errors.Join(retry...))
	}
	// The verification time and the job's completion commit together (River's JobCompleteTx): a
	// replica killed in between leaves neither, and the rerun counts once.
	tx, err := f.cfg.Pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("fleetriver: recording tenant %s's verification: %w", job.Args.Tenant, err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	if res.Done == 0 {
		// No profiles left (all deleted): later sweeps need not visit the tenant.
		if _, err := tx.Exec(ctx, `DELETE FROM `+f.tables.tenant+` WHERE tenant = $1`, job.Args.Tenant); err != nil {
			return fmt.Errorf("fleetriver: forgetting tenant %s: %w", job.Args.Tenant, err)
		}
	} else if _, err := tx.Exec(ctx, `INSERT INTO `+f.tables.tenant+` AS t (tenant, verified_at, verifications) VALUES ($1, $2, 1)
		ON CONFLICT (tenant) DO UPDATE SET verified_at = EXCLUDED.verified_at, verifications = t.verifications + 1`,
		job.Args.Tenant, f.cfg.Now()); err != nil {
		return fmt.Errorf("fleetriver: recording tenant %s's verification: %w", job.Args.Tenant, err)
	}
	if _, err := river.JobCompleteTx[*riverpgxv5.Driver](ctx, tx, job); err != nil {
		return fmt.Errorf("fleetriver: completing tenant %s's job: %w", job.Args.Tenant, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("fleetriver: recording tenant %s's verification: %w", job.Args.Tenant, err)
	}
	return nil
}

// retryableFailures returns the profile failures a rerun may cure: all but a profile deleted
// meanwhile (appprofile.ErrNotFound), a payload this library cannot read (appprofile.ErrPayload)
// and a request the Manager refuses (appprofile.ErrInvalidRequest), which a rerun would meet
// again.
func retryableFailures(errs []error) []error {
	var out []error
	for _, err := range errs {
		if !errors.Is(err, appprofile.ErrNotFound) && !errors.Is(err, appprofile.ErrPayload) && !errors.Is(err, appprofile.ErrInvalidRequest) {
			out = append(out, err)
		}
	}
	return out
}

type sweepWorker struct {
	river.WorkerDefaults[SweepArgs]
	f *Fleet
}

func (w *sweepWorker) Work(ctx context.Context, _ *river.Job[SweepArgs]) error {
	_, err := w.f.Sweep(ctx)
	return err
}

// Timeout lets a sweep of a large fleet outlast Config.JobTimeout (which is sized for one tenant).
func (w *sweepWorker) Timeout(*river.Job[SweepArgs]) time.Duration { return time.Hour }

// traceMetadata is River job metadata carrying ctx's trace context (W3C traceparent), so that a
// job's span links to the sweep or trigger that enqueued it; nil without a span.
func traceMetadata(ctx context.Context) []byte {
	carrier := propagation.MapCarrier{}
	propagation.TraceContext{}.Inject(ctx, carrier)
	if len(carrier) == 0 {
		return nil
	}
	b, _ := json.Marshal(map[string]any{"otel": carrier})
	return b
}

// linkFrom returns the link to the span recorded by traceMetadata (an empty link when none).
func linkFrom(meta []byte) trace.Link {
	var m struct {
		Otel propagation.MapCarrier `json:"otel"`
	}
	if len(meta) == 0 || json.Unmarshal(meta, &m) != nil || len(m.Otel) == 0 {
		return trace.Link{}
	}
	return trace.LinkFromContext(propagation.TraceContext{}.Extract(context.Background(), m.Otel))
}
