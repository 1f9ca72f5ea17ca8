package integration_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tenantapps/tenantapps/appprofile"
	"github.com/tenantapps/tenantapps/appprofile/fleetriver"
	"github.com/tenantapps/tenantapps/consent"
	"github.com/tenantapps/tenantapps/consent/consenttest"
	"github.com/tenantapps/tenantapps/consent/graph"
	"github.com/tenantapps/tenantapps/internal/pgtest"
	"github.com/tenantapps/tenantapps/permissions"
	"github.com/tenantapps/tenantapps/store"
	"github.com/tenantapps/tenantapps/store/postgres"
)

// BenchmarkFleetReplicas is fleet verification as an MSP runs it: three replica PROCESSES (this
// test binary in replica mode, TestFleetReplicaProcess) share one PostgreSQL — the store with the
// profiles, River's jobs, the shared token cache — and one global RU budget (each replica at its
// share, which follows the replicas alive: fleetriver.Config.GlobalRU); the emulator runs in a fourth process with Graph's RU buckets on and
// 20 ms latency on every request. The benchmark sweeps once (fleetriver.Sweep), SIGKILLs one
// replica when a fifth of the tenants are verified, and waits until every tenant is verified.
//
// Size: 20,000 tenants × 5 profiles (TENANTAPPS_BENCH_TENANTS overrides the tenant count for
// quick runs). The global budget (TENANTAPPS_BENCH_RU, default 2,400 RU/s) is below what this
// 2-core machine serves with everything on it, and far below Graph's 7,500 RU/s per app.
//
// Metrics: double-verified (tenants whose verification completed more than once: River job
// completions, committed with the tenant's verification time; the tenants whose jobs the killed
// replica had in flight are read again by Graph and logged, not counted), lost-profiles
// (profiles not written since the sweep began), tokenreq/tenant (token requests Entra saw ÷
// tenants), app-scope-429s, x-ideal (wall time ÷ (RU charged ÷ global budget)), peak-heap-MB
// (the largest replica's peak HeapInuse, sampled every 200 ms), peak-live-heap-MB (the largest
// live heap a collection marked, /gc/heap/live:bytes: what peak-heap-MB is about twice of).
//
// Diagnostics: TENANTAPPS_REPLICA_MEMLOG=DIR writes each replica's memory every 200 ms to
// DIR/<replica>.tsv, TENANTAPPS_REPLICA_LOGDIR=DIR its warnings to DIR/<replica>.log;
// TENANTAPPS_REPLICA_CPUPROFILE / TENANTAPPS_REPLICA_HEAPPROFILE write replica-0's profiles. When
// profiles are lost the benchmark logs what PostgreSQL knows of them (record, tenant row, jobs).
func BenchmarkFleetReplicas(b *testing.B) {
	dsn := pgtest.DSN(b)
	tenants := 20000
	if n, err := strconv.Atoi(os.Getenv("TENANTAPPS_BENCH_TENANTS")); err == nil && n > 0 {
		tenants = n
	}
	globalRU := 2400.0
	if v, err := strconv.ParseFloat(os.Getenv("TENANTAPPS_BENCH_RU"), 64); err == nil && v > 0 {
		globalRU = v
	}
	const (
		perTenant = 5
		replicas  = 3
		latency   = 20 * time.Millisecond
	)
	ctx := context.Background()
	reader := credential(b)
	emu := startFleetEmulator(b, fleetSpec{Tenants: tenants, PerTenant: perTenant, Latency: latency, ReaderCert: reader.Chain[0].Raw, Throttle: true})

	// One PostgreSQL: the store's schema (profiles, shared token cache) and River's.
	_, storeSchema := pgtest.Schema(b, "bench_store_")
	_, riverSchema := pgtest.Schema(b, "bench_river_")
	st, err := postgres.Open(ctx, dsn, postgres.WithSchema(storeSchema))
	must(b, err)
	pool, err := pgxpool.New(ctx, dsn)
	must(b, err)
	b.Cleanup(func() {
		pool.Close()
		_ = st.Close()
	})
	must(b, fleetriver.Migrate(ctx, pool, riverSchema))
	seedProfiles(b, st, tenants, perTenant)

	key, err := x509.MarshalPKCS8PrivateKey(reader.Key)
	must(b, err)
	sealKey := make([]byte, 32)
	_, _ = rand.Read(sealKey)
	rs := replicaSpec{DSN: dsn, StoreSchema: storeSchema, RiverSchema: riverSchema, Emulator: emu, ReaderCert: reader.Chain[0].Raw,
		ReaderKey: key, SealKey: sealKey, RU: globalRU, Replicas: replicas}

	for range b.N {
		b.StopTimer()
		emu.control(b, http.MethodPost, "/reset", nil)
		var procs []*replicaProc
		for i := range replicas {
			rs.ID = fmt.Sprintf("replica-%d", i)
			procs = append(procs, startReplica(b, rs))
		}
		// The sweep is enqueued by a Fleet that works no jobs (a portal's admin action, say).
		nm, err := appprofile.New(st, consenttest.NewFake(), appprofile.WithLogger(slog.New(slog.DiscardHandler)))
		must(b, err)
		enq, err := fleetriver.New(fleetriver.Config{Pool: pool, Schema: riverSchema, Manager: nm, Store: st})
		must(b, err)
		b.StartTimer()
		start := time.Now()
		res, err := enq.Sweep(ctx)
		must(b, err)
		if res.Enqueued != tenants {
			b.Fatalf("Sweep = %+v, want %d enqueued", res, tenants)
		}
		killed := false
		for {
			var done, pending int
			must(b, pool.QueryRow(ctx, "SELECT count(*) FROM "+pgx.Identifier{riverSchema, "tenantapps_fleet_tenant"}.Sanitize()+" WHERE verifications > 0").Scan(&done))
			if !killed && done >= tenants/5 {
				procs[replicas-1].kill(b)
				killed = true
				b.Logf("killed %s after %d tenants, %s", procs[replicas-1].id, done, time.Since(start).Round(time.Millisecond))
			}
			if done == tenants {
				must(b, pool.QueryRow(ctx, "SELECT count(*) FROM "+pgx.Identifier{riverSchema, "river_job"}.Sanitize()+
					" WHERE kind = 'tenantapps.verify_tenant' AND state NOT IN ('completed', 'discarded', 'cancelled')").Scan(&pending))
				if pending == 0 {
					break
				}
			}
			time.Sleep(100 * time.Millisecond)
		}
		wall := time.Since(start)
		b.StopTimer()
		var lost, twice int
		must(b, pool.QueryRow(ctx, "SELECT count(*) FROM "+pgx.Identifier{storeSchema, "records"}.Sanitize()+" WHERE updated_at < $1", start).Scan(&lost))
		must(b, pool.QueryRow(ctx, "SELECT count(*) FROM "+pgx.Identifier{riverSchema, "tenantapps_fleet_tenant"}.Sanitize()+" WHERE verifications > 1").Scan(&twice))
		if lost > 0 {
			logLost(b, pool, storeSchema, riverSchema, start)
		}
		var stats fleetStats
		emu.control(b, http.MethodGet, "/stats", &stats)
		peak, peakLive := 0.0, 0.0
		for _, p := range procs {
			inuse, live := p.peakMB()
			peak, peakLive = max(peak, inuse), max(peakLive, live)
			p.stop()
		}
		idealSec := float64(stats.ResourceUnits) / globalRU
		b.ReportMetric(float64(twice), "double-verified")
		b.ReportMetric(float64(lost), "lost-profiles")
		b.ReportMetric(float64(stats.Tokens)/float64(tenants), "tokenreq/tenant")
		b.ReportMetric(float64(stats.Throttled["Application"]), "app-scope-429s")
		b.ReportMetric(wall.Seconds()/idealSec, "x-ideal")
		b.ReportMetric(peak, "peak-heap-MB")
		b.ReportMetric(peakLive, "peak-live-heap-MB")
		b.Logf("tenants %d, profiles %d, wall %s, RU %d (%.1f per tenant), budget %.0f RU/s, 429s %v, routes %v",
			tenants, tenants*perTenant, wall.Round(time.Millisecond), stats.ResourceUnits, float64(stats.ResourceUnits)/float64(tenants), globalRU, stats.Throttled, stats.Routes)
		b.Logf("tenants Graph read twice (the killed replica's jobs in flight, rerun by the others): %d", stats.ReadTwice)
		// Ready for another iteration: nothing verified yet.
		_, err = pool.Exec(ctx, "TRUNCATE "+pgx.Identifier{riverSchema, "tenantapps_fleet_tenant"}.Sanitize()+", "+pgx.Identifier{riverSchema, "river_job"}.Sanitize())
		must(b, err)
	}
}

// logLost logs what PostgreSQL knows of up to 10 profiles not written since start: the record,
// its tenant's verification row and the tenant's River jobs.
func logLost(tb testing.TB, pool *pgxpool.Pool, storeSchema, riverSchema string, start time.Time) {
	tb.Helper()
	ctx := context.Background()
	rows, err := pool.Query(ctx, "SELECT id, tenant, version, status, updated_at FROM "+pgx.Identifier{storeSchema, "records"}.Sanitize()+
		" WHERE updated_at < $1 ORDER BY tenant, id LIMIT 10", start)
	must(tb, err)
	type lostRec struct {
		id, tenant, status string
		version            int64
		updated            time.Time
	}
	var recs []lostRec
	for rows.Next() {
		var r lostRec
		must(tb, rows.Scan(&r.id, &r.tenant, &r.version, &r.status, &r.updated))
		recs = append(recs, r)
	}
	must(tb, rows.Err())
	for _, r := range recs {
		var verifications int64
		var verifiedAt *time.Time
		_ = pool.QueryRow(ctx, "SELECT verifications, verified_at FROM "+pgx.Identifier{riverSchema, "tenantapps_fleet_tenant"}.Sanitize()+
			" WHERE tenant = $1", r.tenant).Scan(&verifications, &verifiedAt)
		tb.Logf("lost: profile %s tenant %s version %d status %s updated %s (sweep began %s); tenant verified %d times, last %v",
			r.id, r.tenant, r.version, r.status, r.updated.Format(time.RFC3339Nano), start.Format(time.RFC3339Nano), verifications, verifiedAt)
		jobs, err := pool.Query(ctx, "SELECT format('job %s %s attempt %s by %s created %s finalized %s errors %s', id, state, attempt, attempted_by, created_at, finalized_at, errors) FROM "+
			pgx.Identifier{riverSchema, "river_job"}.Sanitize()+" WHERE args->>'tenant' = $1 ORDER BY id", r.tenant)
		must(tb, err)
		lines, err := pgx.CollectRows(jobs, pgx.RowTo[string])
		must(tb, err)
		for _, l := range lines {
			tb.Logf("  %s", l)
		}
	}
}

// seedProfiles stores tenants × perTenant consented profiles, 16 writers at a time.
func seedProfiles(tb testing.TB, st store.Store, tenants, perTenant int) {
	tb.Helper()
	nitro := nitroType(tb)
	ctx := context.Background()
	work := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	at := time.Now().Add(-48 * time.Hour)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				tid := tenantN(i)
				for j := range perTenant {
					p := appprofile.Profile{ID: fmt.Sprintf("p-%06d-%d", i, j), Tenant: tid, AppType: nitro.Name, AppID: fleetApp(j), Mode: appprofile.Modern,
						Shape: appprofile.ShapeApplicationOnly, Status: appprofile.Valid,
						Consent: &appprofile.ConsentRecord{Method: appprofile.AdminConsent, At: at, CatalogVersion: permissions.Default().Version()}}
					pb, err := appprofile.MarshalPayload(p)
					if err == nil {
						_, err = st.Create(ctx, store.Record{ID: p.ID, Tenant: tid, AppType: p.AppType, Status: string(p.Status), Payload: pb})
					}
					if err != nil {
						mu.Lock()
						firstErr = err
						mu.Unlock()
					}
				}
			}
		}()
	}
	for i := range tenants {
		work <- i
	}
	close(work)
	wg.Wait()
	must(tb, firstErr)
}

// replicaSpec is what a replica process needs (JSON in fleetReplicaEnv).
type replicaSpec struct {
	ID                       string
	DSN                      string
	StoreSchema, RiverSchema string
	Emulator                 fleetEmulator
	ReaderCert, ReaderKey    []byte // DER certificate, PKCS#8 key of the reading app (a test credential)
	SealKey                  []byte
	RU                       float64 // global budget, RU/s
	Replicas                 int
}

const fleetReplicaEnv = "TENANTAPPS_FLEET_REPLICA"

// TestFleetReplicaProcess is a replica of BenchmarkFleetReplicas; it skips unless the benchmark
// started it. It works fleet jobs until its standard input closes (or it is killed), printing
// its peak heap every 200 ms.
func TestFleetReplicaProcess(t *testing.T) {
	raw := os.Getenv(fleetReplicaEnv)
	if raw == "" {
		t.Skip("a replica process of BenchmarkFleetReplicas; started by the benchmark")
	}
	var rs replicaSpec
	must(t, json.Unmarshal([]byte(raw), &rs))
	if os.Getenv("TENANTAPPS_REPLICA_HEAPPROFILE") != "" && rs.ID == "replica-0" {
		// A finer sample than the default 512 KB, so per-tenant state of a few hundred bytes shows.
		runtime.MemProfileRate = 4096
	}
	ctx := context.Background()
	cert, err := x509.ParseCertificate(rs.ReaderCert)
	must(t, err)
	k, err := x509.ParsePKCS8PrivateKey(rs.ReaderKey)
	must(t, err)
	emuCert, err := x509.ParseCertificate(rs.Emulator.Cert)
	must(t, err)
	roots := x509.NewCertPool()
	roots.AddCert(emuCert)
	const workers = 32
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}, MaxIdleConns: 2 * workers, MaxIdleConnsPerHost: 2 * workers, ForceAttemptHTTP2: true}

	logger := slog.New(slog.DiscardHandler)
	if dir := os.Getenv("TENANTAPPS_REPLICA_LOGDIR"); dir != "" {
		lf, err := os.Create(filepath.Join(dir, rs.ID+".log"))
		must(t, err)
		defer lf.Close()
		logger = slog.New(slog.NewTextHandler(lf, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	st, err := postgres.Open(ctx, rs.DSN, postgres.WithSchema(rs.StoreSchema))
	must(t, err)
	defer st.Close()
	sealer, err := appprofile.NewAESGCMSealer("bench", map[string][]byte{"bench": rs.SealKey})
	must(t, err)
	shared, err := appprofile.NewSharedTokenCache(st, sealer)
	must(t, err)
	drv, err := graph.New(graph.Config{ReaderAppID: readerApp, ReaderCredential: consent.CertificateCredential{Chain: []*x509.Certificate{cert}, Key: k.(*rsa.PrivateKey)},
		AuthorityHost: rs.Emulator.URL, GraphURL: rs.Emulator.GraphURL, HTTPClient: &http.Client{Transport: tr, Timeout: time.Minute},
		MaxRetryWait: 2 * time.Second, MaxConcurrentPerTenant: 2, SharedTokenCache: shared, ReaderIdle: 30 * time.Second, Logger: logger})
	must(t, err)
	m, err := appprofile.New(st, drv, appprofile.WithLogger(logger), appprofile.WithSealer(sealer),
		appprofile.WithRateLimit(fleetriver.Share(rs.RU, rs.Replicas)))
	must(t, err)
	cfg, err := pgxpool.ParseConfig(rs.DSN)
	must(t, err)
	cfg.MaxConns = 16
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	must(t, err)
	defer pool.Close()
	f, err := fleetriver.New(fleetriver.Config{Pool: pool, Schema: rs.RiverSchema, Manager: m, Store: st, ID: rs.ID, Workers: workers,
		JobTimeout: 10 * time.Second, RescueStuckJobsAfter: 15 * time.Second, FetchPollInterval: 200 * time.Millisecond,
		GlobalRU: rs.RU, HeartbeatEvery: time.Second, Logger: logger})
	must(t, err)
	if dir := os.Getenv("TENANTAPPS_REPLICA_CPUPROFILE"); dir != "" && rs.ID == "replica-0" {
		pf, err := os.Create(dir)
		must(t, err)
		must(t, pprof.StartCPUProfile(pf))
		defer func() { pprof.StopCPUProfile(); _ = pf.Close() }()
	}
	if path := os.Getenv("TENANTAPPS_REPLICA_HEAPPROFILE"); path != "" && rs.ID == "replica-0" {
		defer func() {
			if hf, err := os.Create(path); err == nil {
				_ = pprof.Lookup("heap").WriteTo(hf, 0)
				_ = hf.Close()
			}
		}()
	}
	must(t, f.Start(ctx))
	defer func() { _ = f.Stop(context.Background()) }()
	stop := make(chan struct{})
	go func() { _, _ = io.Copy(io.Discard, os.Stdin); close(stop) }()
	var peak, peakLive uint64
	var ms runtime.MemStats
	samples := []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/gc/heap/goal:bytes"}}
	var memlog io.Writer = io.Discard
	if dir := os.Getenv("TENANTAPPS_REPLICA_MEMLOG"); dir != "" {
		lf, err := os.Create(filepath.Join(dir, rs.ID+".tsv"))
		must(t, err)
		defer lf.Close()
		memlog = lf
		fmt.Fprintln(lf, "ms\theap-inuse\theap-alloc\tlive\tgoal\tgc\tgoroutines\ttotal-alloc")
	}
	begun := time.Now()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		runtime.ReadMemStats(&ms)
		metrics.Read(samples)
		peak = max(peak, ms.HeapInuse)
		peakLive = max(peakLive, samples[0].Value.Uint64())
		fmt.Fprintf(memlog, "%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\n", time.Since(begun).Milliseconds(), ms.HeapInuse, ms.HeapAlloc,
			samples[0].Value.Uint64(), samples[1].Value.Uint64(), ms.NumGC, runtime.NumGoroutine(), ms.TotalAlloc)
		fmt.Printf("%s%.1f %.1f\n", replicaPeakMarker, float64(peak)/(1<<20), float64(peakLive)/(1<<20))
		select {
		case <-stop:
			return
		case <-tick.C:
		}
	}
}

const replicaPeakMarker = "FLEET-REPLICA-PEAK "

type replicaProc struct {
	id       string
	cmd      *exec.Cmd
	stdin    io.WriteCloser
	mu       sync.Mutex
	peak     float64 // MB, HeapInuse
	peakLive float64 // MB, the live heap a GC marked (/gc/heap/live:bytes)
	done     chan struct{}
}

func startReplica(tb testing.TB, rs replicaSpec) *replicaProc {
	tb.Helper()
	raw, err := json.Marshal(rs)
	must(tb, err)
	cmd := exec.Command(os.Args[0], "-test.run=^TestFleetReplicaProcess$", "-test.timeout=0")
	cmd.Env = append(os.Environ(), fleetReplicaEnv+"="+string(raw))
	cmd.Stderr = os.Stderr
	p := &replicaProc{id: rs.ID, cmd: cmd, done: make(chan struct{})}
	p.stdin, err = cmd.StdinPipe()
	must(tb, err)
	stdout, err := cmd.StdoutPipe()
	must(tb, err)
	must(tb, cmd.Start())
	go func() {
		defer close(p.done)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), replicaPeakMarker); ok {
				inuse, live, _ := strings.Cut(v, " ")
				f, err1 := strconv.ParseFloat(inuse, 64)
				l, err2 := strconv.ParseFloat(live, 64)
				if err1 == nil && err2 == nil {
					p.mu.Lock()
					p.peak, p.peakLive = max(p.peak, f), max(p.peakLive, l)
					p.mu.Unlock()
				}
			}
		}
	}()
	tb.Cleanup(p.stop)
	return p
}

// peakMB is the replica's peak HeapInuse and its peak live heap, in MB.
func (p *replicaProc) peakMB() (inuse, live float64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.peak, p.peakLive
}

// kill ends the replica with SIGKILL: no cleanup, its running jobs stay "running" in PostgreSQL.
func (p *replicaProc) kill(tb testing.TB) {
	tb.Helper()
	must(tb, p.cmd.Process.Signal(syscall.SIGKILL))
}

func (p *replicaProc) stop() {
	_ = p.stdin.Close()
	<-p.done
	_ = p.cmd.Wait()
}
