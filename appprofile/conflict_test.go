package appprofile_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/tenantapps/tenantapps/appprofile"
	"github.com/tenantapps/tenantapps/store/sqlite"
)

// TestIdempotentWritesSurviveContentionOnSQLite: twelve writers — Verify write-backs and
// re-authorization requests through two Managers, as two portal processes would — change one
// profile at once on SQLite. These writes are idempotent, so the Manager applies each again
// after losing a race: every call succeeds, none is superseded, and the profile ends checked and
// with the request recorded. Before, most of them failed with ErrConflict (or were dropped as
// Superseded).
func TestIdempotentWritesSurviveContentionOnSQLite(t *testing.T) {
	e := newEnv(t)
	path := filepath.Join(t.TempDir(), "profiles.db")
	managers := make([]*appprofile.Manager, 2)
	for i := range managers {
		st, err := sqlite.Open(e.ctx, path, sqlite.WithClock(e.clock.Now))
		must(t, err)
		t.Cleanup(func() { st.Close() })
		managers[i] = e.managerOn(st)
	}
	ps, err := managers[0].Create(e.ctx, appprofile.CreateRequest{Customer: "contoso", Tenant: tenantID, Services: []string{"Nitro"}})
	must(t, err)
	start, err := managers[0].BeginConsent(e.ctx, ps[0].ID, appprofile.BeginConsentRequest{Consenter: e.globalAdmin()})
	must(t, err)
	e.grantAll(nitroID, "APElements Automation")
	p, err := managers[1].CompleteConsent(e.ctx, appprofile.Callback{State: start.State, Tenant: tenantID, AdminConsent: "True"})
	must(t, err)

	const writers = 12
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for i := range writers {
		m := managers[i%2]
		wg.Go(func() {
			if i%3 == 0 {
				_, err := m.RequestReauthorization(e.ctx, p.ID, fmt.Sprintf("request %d", i))
				errs <- err
				return
			}
			res, err := m.Verify(e.ctx, p.ID)
			if err == nil && res.Superseded {
				err = errors.New("verify result superseded: the check was not written")
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	failed := 0
	for err := range errs {
		if err != nil {
			failed++
			t.Errorf("concurrent write: %v", err)
		}
	}
	if failed > 0 {
		t.Fatalf("%d of %d idempotent writes failed", failed, writers)
	}
	got, err := managers[0].Get(e.ctx, p.ID)
	must(t, err)
	if got.ReauthorizationRequested == "" || got.LastCheck == nil || got.LastCheck.Outcome != appprofile.Checked {
		t.Errorf("after the writers: requested %q, last check %+v", got.ReauthorizationRequested, got.LastCheck)
	}
	if got.Version < int64(1+writers) {
		t.Errorf("version %d: fewer writes stored than succeeded", got.Version)
	}
}
