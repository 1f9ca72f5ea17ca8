package appprofile

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tenantapps/tenantapps/consent/consenttest"
	"github.com/tenantapps/tenantapps/internal/pgtest"
	"github.com/tenantapps/tenantapps/store"
	"github.com/tenantapps/tenantapps/store/postgres"
	"github.com/tenantapps/tenantapps/store/sqlite"
)

// The crash tests run a writer process — this test binary, re-executed with crashChildEnv set —
// that changes profile statuses through the Manager's save path and delivers the outbox with a
// Dispatcher, and kill it with SIGKILL at random moments, over and over. Then a Dispatcher in the
// test process delivers what is left, and every committed status change must have been delivered
// at least once, nothing else, and each profile's changes in order.

// crashChildEnv holds "<sqlite|postgres>:<path or schema>:<delivery log>".
const crashChildEnv = "TENANTAPPS_OUTBOX_CRASH_CHILD"

const crashProfiles = 6

func crashProfileID(i int) string { return fmt.Sprintf("crash-profile-%d", i) }

// crashStatus is the status the writer gives a profile at version v: it toggles on every save,
// from Valid at creation (version 1).
func crashStatus(v int64) Status {
	if v%2 == 1 {
		return Valid
	}
	return Invalid
}

func openCrashStore(ctx context.Context, kind, where string) (store.Store, error) {
	if kind == "postgres" {
		return postgres.Open(ctx, os.Getenv("TENANTAPPS_POSTGRES_DSN"), postgres.WithSchema(where))
	}
	return sqlite.Open(ctx, where)
}

func crashManager(st store.Store) (*Manager, error) {
	return New(st, consenttest.NewFake(), WithLogger(slog.New(slog.DiscardHandler)))
}

// logDeliveries is a Handler that appends "<event ID> <old> <new>" to the log file (one write per
// line, O_APPEND, so lines of concurrent handlers and processes never interleave).
func logDeliveries(f *os.File) Handler {
	return func(_ context.Context, d Delivery) error {
		_, err := fmt.Fprintf(f, "%s %s %s\n", d.IdempotencyKey, d.Event.Old, d.Event.New)
		return err
	}
}

// TestOutboxCrashChild is the writer process of the crash tests; it skips in a normal run.
func TestOutboxCrashChild(t *testing.T) {
	spec := os.Getenv(crashChildEnv)
	if spec == "" {
		t.Skip("the writer process of TestOutboxCrash*; started by them")
	}
	parts := strings.SplitN(spec, ":", 3)
	ctx := context.Background()
	fail := func(err error) { fmt.Println("ERROR", err); os.Exit(3) }
	st, err := openCrashStore(ctx, parts[0], parts[1])
	if err != nil {
		fail(err)
	}
	m, err := crashManager(st)
	if err != nil {
		fail(err)
	}
	log, err := os.OpenFile(parts[2], os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		fail(err)
	}
	d, err := NewDispatcher(st, logDeliveries(log), DispatcherOptions{Owner: fmt.Sprintf("child-%d", os.Getpid()), Lease: 200 * time.Millisecond,
		Batch: 3, PollInterval: time.Millisecond})
	if err != nil {
		fail(err)
	}
	go d.Run(ctx)
	fmt.Println("READY")
	rng := mrand.New(mrand.NewPCG(uint64(os.Getpid()), uint64(time.Now().UnixNano())))
	for {
		id := crashProfileID(rng.IntN(crashProfiles))
		p, err := m.Get(ctx, id)
		if err != nil {
			fail(err)
		}
		np := p.clone()
		np.Status = crashStatus(p.Version + 1)
		np.Reasons = nil
		if np.Status == Invalid {
			np.Reasons = []Reason{newReason(ReasonServicePrincipalDeleted, "crash test")}
		}
		saved, err := m.save(ctx, np, p)
		if err != nil {
			fail(err)
		}
		fmt.Printf("COMMITTED %s\n", eventID(saved.ID, saved.Version)) // only after the commit returned
	}
}

func runOutboxCrash(t *testing.T, kind, where string, rounds int) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	ctx := context.Background()
	logPath := filepath.Join(t.TempDir(), "deliveries.log")
	st, err := openCrashStore(ctx, kind, where)
	if err != nil {
		t.Fatal(err)
	}
	for i := range crashProfiles {
		p := Profile{ID: crashProfileID(i), Name: "crash", Tenant: "crash-tenant", AppType: "APElements Automation", Mode: Modern, Status: Valid}
		b, err := MarshalPayload(p)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.Create(ctx, store.Record{ID: p.ID, Tenant: p.Tenant, AppType: p.AppType, Status: string(p.Status), Payload: b}); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()

	committed := map[string]bool{}
	rng := mrand.New(mrand.NewPCG(18, uint64(len(kind))))
	for round := range rounds {
		cmd := exec.Command(os.Args[0], "-test.run=^TestOutboxCrashChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+kind+":"+where+":"+logPath)
		cmd.Stderr = os.Stderr
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(stdout)
		killAfter := 5 + rng.IntN(40) // commits
		n, killed := 0, false
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "READY":
				continue
			case strings.HasPrefix(line, "COMMITTED "):
				committed[strings.TrimPrefix(line, "COMMITTED ")] = true
			default:
				t.Fatalf("round %d: child said %q", round, line)
			}
			if n++; n == killAfter && !killed {
				// Let it get back into a write or a delivery, then kill it.
				time.Sleep(time.Duration(rng.IntN(2000)) * time.Microsecond)
				if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
					t.Fatal(err)
				}
				killed = true
			}
		}
		var ee *exec.ExitError
		if err := cmd.Wait(); !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			t.Fatalf("round %d: child ended with %v, want killed by SIGKILL", round, err)
		}
	}

	// Restart: a fresh dispatcher delivers what the killed ones left (their leases run out).
	st, err = openCrashStore(ctx, kind, where)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	log, err := os.OpenFile(logPath, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	d, err := NewDispatcher(st, logDeliveries(log), DispatcherOptions{Owner: "restarted", Lease: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(250 * time.Millisecond) // the killed writers' 200 ms leases run out
	for range 10000 {
		res, err := d.DispatchOnce(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if res.Delivered+res.Failed+res.Lost == 0 {
			break
		}
	}

	// Every committed status change: versions 2..V of each profile.
	want := map[string]bool{}
	final := map[string]int64{}
	for i := range crashProfiles {
		rec, err := st.Get(ctx, crashProfileID(i))
		if err != nil {
			t.Fatal(err)
		}
		final[rec.ID] = rec.Version
		for v := int64(2); v <= rec.Version; v++ {
			want[eventID(rec.ID, v)] = true
		}
	}
	for id := range committed {
		if !want[id] {
			t.Errorf("the child reported %s committed, but the store does not have it", id)
		}
	}
	raw, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	delivered := map[string]int{}
	lastVersion := map[string]int64{}
	for i, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			t.Errorf("delivery log line %d %q is malformed", i, line)
			continue
		}
		id, vs, _ := strings.Cut(f[0], "@")
		v, _ := strconv.ParseInt(vs, 10, 64)
		if !want[f[0]] {
			t.Errorf("delivered %s, which no committed change wrote (invented)", f[0])
			continue
		}
		if f[1] != string(crashStatus(v-1)) || f[2] != string(crashStatus(v)) {
			t.Errorf("delivered %s as %s -> %s, but the change was %s -> %s", f[0], f[1], f[2], crashStatus(v-1), crashStatus(v))
		}
		// In order per profile: version v only after v-1 (a redelivery of v itself may follow
		// a crash between the handler and the acknowledgement).
		if last := lastVersion[id]; v != last && v != last+1 && !(last == 0 && v == 2) {
			t.Errorf("profile %s: delivered version %d after %d (out of order)", id, v, last)
		}
		lastVersion[id] = max(lastVersion[id], v)
		delivered[f[0]]++
	}
	var missing, redelivered int
	for id := range want {
		switch n := delivered[id]; {
		case n == 0:
			missing++
			t.Errorf("committed status change %s was never delivered", id)
		case n > 1:
			redelivered++
		}
	}
	t.Logf("%d rounds: %d status changes committed (%d reported by the child before its kill), %d delivered, %d of them more than once; final versions %v",
		rounds, len(want), len(committed), len(want)-missing, redelivered, final)
	if len(want) < rounds {
		t.Errorf("only %d changes in %d rounds: the writer hardly ran", len(want), rounds)
	}
}

// TestOutboxCrashSQLite is the crash test on the embedded store.
func TestOutboxCrashSQLite(t *testing.T) {
	runOutboxCrash(t, "sqlite", filepath.Join(t.TempDir(), "crash.db"), 8)
}

// TestOutboxCrashPostgres is the crash test on PostgreSQL (TENANTAPPS_POSTGRES_DSN).
func TestOutboxCrashPostgres(t *testing.T) {
	runOutboxCrash(t, "postgres", pgSchema(t), 6)
}

// pgSchema returns a fresh schema name, dropped at the end of the test, or skips without a DSN.
func pgSchema(t *testing.T) string {
	_, schema := pgtest.Schema(t, "outbox_")
	return schema
}

// TestTwoDispatchersPostgresExactlyOnce: two dispatchers (two replicas) on one PostgreSQL
// database, claiming concurrently with FOR UPDATE SKIP LOCKED, deliver each event exactly once
// to an acknowledging handler, in order per profile.
func TestTwoDispatchersPostgresExactlyOnce(t *testing.T) {
	schema := pgSchema(t)
	ctx := context.Background()
	open := func() store.Store {
		st, err := openCrashStore(ctx, "postgres", schema)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	writer := open()
	m, err := crashManager(writer)
	if err != nil {
		t.Fatal(err)
	}
	const profiles, changes = 8, 12
	for i := range profiles {
		p := Profile{ID: crashProfileID(i), Tenant: "two-tenant", AppType: "APElements Automation", Mode: Modern, Status: Valid}
		b, _ := MarshalPayload(p)
		if _, err := writer.Create(ctx, store.Record{ID: p.ID, Tenant: p.Tenant, Status: string(p.Status), Payload: b}); err != nil {
			t.Fatal(err)
		}
	}
	var (
		mu    sync.Mutex
		count = map[string]int{}
		order = map[string][]int64{}
		by    = map[string]int{}
	)
	handler := func(name string) Handler {
		return func(_ context.Context, d Delivery) error {
			mu.Lock()
			defer mu.Unlock()
			count[d.IdempotencyKey]++
			order[d.Event.ProfileID] = append(order[d.Event.ProfileID], d.Event.Version)
			by[name]++
			return nil
		}
	}
	ctx2, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, name := range []string{"replica-a", "replica-b"} {
		d, err := NewDispatcher(open(), handler(name), DispatcherOptions{Owner: name, Batch: 2, Concurrency: 2, PollInterval: time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() { defer wg.Done(); d.Run(ctx2) }()
	}
	// Write while the dispatchers run.
	for c := range changes {
		for i := range profiles {
			p, err := m.Get(ctx, crashProfileID(i))
			if err != nil {
				t.Fatal(err)
			}
			np := p.clone()
			np.Status = crashStatus(int64(c) + 2)
			if _, err := m.save(ctx, np, p); err != nil {
				t.Fatal(err)
			}
		}
	}
	total := profiles * changes
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		mu.Lock()
		n := len(count)
		mu.Unlock()
		if n == total || time.Now().After(deadline) {
			break
		}
	}
	time.Sleep(50 * time.Millisecond) // a straggling duplicate would show up now
	cancel()
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	if len(count) != total {
		t.Errorf("%d distinct events delivered, want %d", len(count), total)
	}
	for id, n := range count {
		if n != 1 {
			t.Errorf("event %s delivered %d times, want exactly once", id, n)
		}
	}
	for id, vs := range order {
		for i := 1; i < len(vs); i++ {
			if vs[i] != vs[i-1]+1 {
				t.Errorf("profile %s: versions delivered in order %v", id, vs)
				break
			}
		}
	}
	t.Logf("replica-a delivered %d, replica-b %d of %d events", by["replica-a"], by["replica-b"], total)
	if by["replica-a"] == 0 || by["replica-b"] == 0 {
		t.Logf("one replica delivered everything; exactly-once held, but the split was not exercised this run")
	}
}
