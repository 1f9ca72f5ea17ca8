package sqlite_test

import (
	"bufio"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tenantapps/tenantapps/store"
	"github.com/tenantapps/tenantapps/store/sqlite"
)

// helperEnv makes the test binary act as a child process: its value is "<mode>:<path>".
const helperEnv = "TENANTAPPS_SQLITE_HELPER"

// TestHelperProcess is not a test: it is the body of the child processes the tests below start
// by re-running the test binary. It is skipped in a normal run.
func TestHelperProcess(t *testing.T) {
	spec := os.Getenv(helperEnv)
	if spec == "" {
		t.Skip("helper process for TestCrashSafety and TestCrossProcessWriters")
	}
	mode, path, _ := strings.Cut(spec, ":")
	ctx := t.Context()
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		fmt.Println("ERROR", err)
		os.Exit(3)
	}
	out := bufio.NewWriter(os.Stdout)
	switch mode {
	case "crash":
		// Write forever; after each commit report it. The parent kills us at a random moment.
		rng := rand.New(rand.NewPCG(uint64(os.Getpid()), uint64(time.Now().UnixNano())))
		var last store.Record
		for i := 0; ; i++ {
			payload := make([]byte, 1+rng.IntN(64<<10))
			for j := range payload {
				payload[j] = byte(rng.UintN(256))
			}
			id := fmt.Sprintf("crash-%d-%06d", os.Getpid(), i)
			rec, err := st.Create(ctx, store.Record{ID: id, Tenant: "t", Services: []string{"s1", "s2"}, Payload: payload})
			if err != nil {
				fmt.Println("ERROR", err)
				os.Exit(3)
			}
			fmt.Fprintf(out, "CREATED %s %d\n", id, len(payload))
			if last.ID != "" && i%3 == 0 {
				last.Status = "updated"
				last, err = st.Update(ctx, last)
				if err != nil {
					fmt.Println("ERROR", err)
					os.Exit(3)
				}
				fmt.Fprintf(out, "UPDATED %s %d\n", last.ID, last.Version)
			} else {
				last = rec
			}
			out.Flush() // report only after the commit returned
		}
	case "rmw":
		n, _ := strconv.Atoi(os.Getenv(helperEnv + "_CYCLES"))
		for range n {
			for {
				cur, err := st.Get(ctx, "counter")
				if err != nil {
					fmt.Println("ERROR", err)
					os.Exit(3)
				}
				v, _ := strconv.Atoi(string(cur.Payload))
				cur.Payload = []byte(strconv.Itoa(v + 1))
				if _, err = st.Update(ctx, cur); errors.Is(err, store.ErrConflict) {
					continue
				} else if err != nil {
					fmt.Println("ERROR", err)
					os.Exit(3)
				}
				break
			}
		}
		st.Close()
		fmt.Println("DONE")
		os.Exit(0)
	}
}

func helper(t *testing.T, mode, path string, env ...string) *exec.Cmd {
	t.Helper()
	if testing.Short() {
		t.Skip("starts child processes")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(append(os.Environ(), helperEnv+"="+mode+":"+path), env...)
	cmd.Stderr = os.Stderr
	return cmd
}

// TestCrashSafety kills a writing child with SIGKILL at random moments, several times over the
// same file, and checks after each kill that the file is sound and every write the child
// reported as committed is there.
func TestCrashSafety(t *testing.T) {
	path := filepath.Join(t.TempDir(), "crash.db")
	created := map[string]int{}   // id -> payload length
	updated := map[string]int64{} // id -> version reported
	rng := rand.New(rand.NewPCG(7, 11))
	for round := range 4 {
		cmd := helper(t, "crash", path)
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(stdout)
		killAfter := 20 + rng.IntN(80)
		lines, killed := 0, false
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			switch {
			case len(f) == 3 && f[0] == "CREATED":
				created[f[1]], _ = strconv.Atoi(f[2])
			case len(f) == 3 && f[0] == "UPDATED":
				v, _ := strconv.ParseInt(f[2], 10, 64)
				updated[f[1]] = v
			default:
				t.Fatalf("round %d: child said %q", round, sc.Text())
			}
			lines++
			if lines == killAfter && !killed {
				// Let it get back into a write, then kill it mid-transaction.
				time.Sleep(time.Duration(rng.IntN(3000)) * time.Microsecond)
				if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
					t.Fatal(err)
				}
				killed = true
			}
		}
		err = cmd.Wait()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			t.Fatalf("round %d: child ended with %v, want killed by SIGKILL", round, err)
		}

		st, err := sqlite.Open(t.Context(), path)
		if err != nil {
			t.Fatalf("round %d: reopen after SIGKILL: %v", round, err)
		}
		if err := st.CheckIntegrity(t.Context()); err != nil {
			t.Errorf("round %d: %v", round, err)
		}
		for id, n := range created {
			rec, err := st.Get(t.Context(), id)
			if err != nil {
				t.Errorf("round %d: committed record %s: %v", round, id, err)
				continue
			}
			if len(rec.Payload) != n {
				t.Errorf("round %d: record %s payload %d bytes, child wrote %d", round, id, len(rec.Payload), n)
			}
			if v, ok := updated[id]; ok && rec.Version < v {
				t.Errorf("round %d: record %s at version %d, child committed version %d", round, id, rec.Version, v)
			}
		}
		recs := 0
		for cursor := ""; ; {
			page, next, err := st.List(t.Context(), store.Filter{Service: "s2"}, store.Page{Limit: store.MaxLimit, Cursor: cursor})
			if err != nil {
				t.Fatalf("round %d: List: %v", round, err)
			}
			recs += len(page)
			if next == "" {
				break
			}
			cursor = next
		}
		if recs < len(created) {
			t.Errorf("round %d: List(Service s2) finds %d records, %d were committed", round, recs, len(created))
		}
		st.Close()
		t.Logf("round %d: killed after %d reported commits; %d records verified", round, lines, len(created))
	}
}

// TestCrossProcessWriters runs read-modify-write cycles on one record from two child processes
// and this process at once: no update may be lost.
func TestCrossProcessWriters(t *testing.T) {
	const cycles = 40
	path := filepath.Join(t.TempDir(), "rmw.db")
	st := open(t, path)
	ctx := t.Context()
	if _, err := st.Create(ctx, store.Record{ID: "counter", Payload: []byte("0")}); err != nil {
		t.Fatal(err)
	}
	var cmds []*exec.Cmd
	var outs []*strings.Builder
	for range 2 {
		cmd := helper(t, "rmw", path, helperEnv+"_CYCLES="+strconv.Itoa(cycles))
		var b strings.Builder
		cmd.Stdout = &b
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds, outs = append(cmds, cmd), append(outs, &b)
	}
	for range cycles {
		for {
			cur, err := st.Get(ctx, "counter")
			if err != nil {
				t.Fatal(err)
			}
			v, _ := strconv.Atoi(string(cur.Payload))
			cur.Payload = []byte(strconv.Itoa(v + 1))
			if _, err = st.Update(ctx, cur); errors.Is(err, store.ErrConflict) {
				continue
			} else if err != nil {
				t.Fatal(err)
			}
			break
		}
	}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil || !strings.Contains(outs[i].String(), "DONE") {
			t.Fatalf("child %d: %v, output %q", i, err, outs[i].String())
		}
	}
	got, err := st.Get(ctx, "counter")
	if err != nil {
		t.Fatal(err)
	}
	if want := strconv.Itoa(3 * cycles); string(got.Payload) != want || got.Version != 1+3*cycles {
		t.Errorf("counter = %s at version %d, want %s at version %d: updates were lost across processes", got.Payload, got.Version, want, 1+3*cycles)
	}
}
