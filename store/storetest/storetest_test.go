package storetest_test

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/tenantapps/tenantapps/store"
	"github.com/tenantapps/tenantapps/store/memstore"
	"github.com/tenantapps/tenantapps/store/storetest"
)

// The reference store passes.
func TestMemstorePasses(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return memstore.New() })
}

// broken wraps memstore and breaks one property of the contract.
type broken struct {
	*memstore.Store
	bug string
}

func (b *broken) Update(ctx context.Context, r store.Record) (store.Record, error) {
	if b.bug == "ignore-version" {
		if cur, err := b.Store.Get(ctx, r.ID); err == nil {
			r.Version = cur.Version
		}
	}
	return b.Store.Update(ctx, r)
}

func (b *broken) List(ctx context.Context, f store.Filter, p store.Page) ([]store.Record, string, error) {
	if b.bug == "ignore-status-filter" {
		f.Status = ""
	}
	if b.bug == "ignore-context" {
		ctx = context.Background()
	}
	return b.Store.List(ctx, f, p)
}

func (b *broken) Close() error {
	if b.bug == "close-does-nothing" {
		return nil
	}
	return b.Store.Close()
}

func (b *broken) ConsumeNonce(ctx context.Context, nonce string, exp time.Time) error {
	if b.bug == "nonce-reusable" {
		return store.ValidateNonce(nonce)
	}
	return b.Store.ConsumeNonce(ctx, nonce, exp)
}

const bugEnv = "STORETEST_BUG"

// TestBrokenStoreHelper is the body of the child runs of TestSuiteCatchesBrokenStores.
func TestBrokenStoreHelper(t *testing.T) {
	bug := os.Getenv(bugEnv)
	if bug == "" {
		t.Skip("helper for TestSuiteCatchesBrokenStores")
	}
	storetest.Run(t, func(t *testing.T) store.Store { return &broken{Store: memstore.New(), bug: bug} })
}

// TestSuiteCatchesBrokenStores proves the suite can fail: each broken store must fail the
// subtest that checks the property it breaks.
func TestSuiteCatchesBrokenStores(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	for bug, subtest := range map[string]string{
		"ignore-version":       "UpdateConflict",
		"ignore-status-filter": "Filters",
		"ignore-context":       "CancelledContext",
		"close-does-nothing":   "UseAfterClose",
		"nonce-reusable":       "NonceSingleUse",
	} {
		t.Run(bug, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestBrokenStoreHelper$", "-test.v", "-test.count=1")
			cmd.Env = append(os.Environ(), bugEnv+"="+bug)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("the suite passed a store with bug %q", bug)
			}
			if want := "--- FAIL: TestBrokenStoreHelper/" + subtest + " "; !strings.Contains(string(out), want) {
				t.Errorf("bug %q: output lacks %q:\n%s", bug, want, out)
			}
		})
	}
}
