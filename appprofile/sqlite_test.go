package appprofile_test

import (
	"bytes"
	"errors"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/tenantapps/tenantapps/appprofile"
	"github.com/tenantapps/tenantapps/store"
	"github.com/tenantapps/tenantapps/store/sqlite"
)

// TestLifecycleSQLiteTwoProcesses runs consent and verification on the embedded SQLite store with
// two Managers sharing one database file, as two portal processes would: a consent callback is
// honoured once across both, and a verification by one is seen by the other.
func TestLifecycleSQLiteTwoProcesses(t *testing.T) {
	e := newEnv(t) // for the fake tenant and catalog
	path := filepath.Join(t.TempDir(), "profiles.db")
	open := func() *appprofile.Manager {
		st, err := sqlite.Open(e.ctx, path, sqlite.WithClock(e.clock.Now))
		must(t, err)
		t.Cleanup(func() { st.Close() })
		sealer, err := appprofile.NewAESGCMSealer("k1", map[string][]byte{"k1": bytes.Repeat([]byte{7}, 32)})
		must(t, err)
		m, err := appprofile.New(st, e.fake, appprofile.WithClock(e.clock.Now), appprofile.WithLogger(slog.New(slog.DiscardHandler)), appprofile.WithSealer(sealer),
			appprofile.WithStateKey(bytes.Repeat([]byte{9}, 32)), appprofile.WithRedirectURI(redirectURI),
			appprofile.WithVendorAppIDs(map[string]string{"APElements Automation": nitroID}))
		must(t, err)
		return m
	}
	a, b := open(), open()
	ps, err := a.Create(e.ctx, appprofile.CreateRequest{Customer: "contoso", Tenant: tenantID, Services: []string{"Nitro"}})
	must(t, err)
	start, err := a.BeginConsent(e.ctx, ps[0].ID, appprofile.BeginConsentRequest{Consenter: e.globalAdmin()})
	must(t, err)
	e.grantAll(nitroID, "APElements Automation")
	cb := appprofile.Callback{State: start.State, Tenant: tenantID, AdminConsent: "True"}
	p, err := b.CompleteConsent(e.ctx, cb)
	must(t, err)
	if p.Status != appprofile.Valid {
		t.Fatalf("after consent: %s %v", p.Status, codes(p))
	}
	if _, err := a.CompleteConsent(e.ctx, cb); !errors.Is(err, appprofile.ErrStateReplayed) {
		t.Errorf("replay through the other process: %v", err)
	}
	e.clock.Advance(time.Hour)
	must(t, e.fake.SetServicePrincipalEnabled(tenantID, nitroID, false))
	res, err := a.VerifyAll(e.ctx, store.Filter{}, appprofile.VerifyAllOptions{})
	must(t, err)
	if res.Changed != 1 {
		t.Fatalf("VerifyAll = %+v", res.Progress)
	}
	got, err := b.Get(e.ctx, p.ID)
	must(t, err)
	if got.Status != appprofile.Invalid || got.Reasons[0].Code != appprofile.ReasonServicePrincipalOff {
		t.Errorf("seen by the other process: %s %v", got.Status, codes(got))
	}
	must(t, b.Delete(e.ctx, p.ID))
}
