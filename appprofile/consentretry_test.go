package appprofile_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tenantapps/tenantapps/appprofile"
	"github.com/tenantapps/tenantapps/consent/consenttest"
	"github.com/tenantapps/tenantapps/store"
	"github.com/tenantapps/tenantapps/store/memstore"
	"github.com/tenantapps/tenantapps/store/sqlite"
)

// failingStore wraps a store and fails the first Update after a ConsumeNonce succeeded, as a
// database that goes away between spending a consent state and saving the consent would.
type failingStore struct {
	store.Store
	nonces store.NonceStore

	mu      sync.Mutex
	spent   bool
	failed  int
	failErr error
}

func (s *failingStore) ConsumeNonce(ctx context.Context, nonce string, exp time.Time) error {
	err := s.nonces.ConsumeNonce(ctx, nonce, exp)
	if err == nil {
		s.mu.Lock()
		s.spent = true
		s.mu.Unlock()
	}
	return err
}

func (s *failingStore) Update(ctx context.Context, rec store.Record) (store.Record, error) {
	s.mu.Lock()
	fail := s.spent && s.failed == 0
	if fail {
		s.failed++
	}
	s.mu.Unlock()
	if fail {
		return store.Record{}, s.failErr
	}
	return s.Store.Update(ctx, rec)
}

// TestCompleteConsentRetriedAfterStoreFailure: the store fails the save after the callback's state
// was spent. Retrying the same callback must complete the consent (not ErrStateReplayed, which
// would send the administrator to consent again); once it has, the callback is a replay.
func TestCompleteConsentRetriedAfterStoreFailure(t *testing.T) {
	stores := map[string]func(t *testing.T, e *env) (store.Store, store.NonceStore){
		"memstore": func(t *testing.T, e *env) (store.Store, store.NonceStore) {
			st := memstore.New(memstore.WithClock(e.clock.Now))
			return st, st
		},
		"sqlite": func(t *testing.T, e *env) (store.Store, store.NonceStore) {
			st, err := sqlite.Open(e.ctx, filepath.Join(t.TempDir(), "p.db"), sqlite.WithClock(e.clock.Now))
			must(t, err)
			t.Cleanup(func() { st.Close() })
			return st, st
		},
	}
	for name, open := range stores {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			m, _, cb := e.failedConsent(open(t, e))
			p, err := m.CompleteConsent(e.ctx, cb)
			if err != nil {
				t.Fatalf("retry of the same callback: %v, want the consent completed", err)
			}
			if p.Status != appprofile.Valid || p.Consent == nil || p.Consent.UserID != e.admin {
				t.Errorf("after the retry: %s %v consent %+v, want valid, consented by the admin", p.Status, codes(p), p.Consent)
			}
			if _, err := m.CompleteConsent(e.ctx, cb); !errors.Is(err, appprofile.ErrStateReplayed) {
				t.Errorf("third use of the callback: err = %v, want ErrStateReplayed", err)
			}
		})
	}
}

// TestSpentStateOfOlderConsentStaysSpent: a state whose callback recorded nothing is not retried
// once a newer consent was recorded, so an old callback URL cannot overwrite a later consent.
func TestSpentStateOfOlderConsentStaysSpent(t *testing.T) {
	e := newEnv(t)
	m, id, oldCB := e.failedConsent(e.store, e.store)
	e.clock.Advance(time.Minute)
	fresh, err := m.BeginConsent(e.ctx, id, appprofile.BeginConsentRequest{Consenter: e.globalAdmin()})
	must(t, err)
	if _, err := m.CompleteConsent(e.ctx, appprofile.Callback{State: fresh.State, Tenant: tenantID, AdminConsent: "True"}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.CompleteConsent(e.ctx, oldCB); !errors.Is(err, appprofile.ErrStateReplayed) {
		t.Errorf("old callback after a newer consent: err = %v, want ErrStateReplayed", err)
	}
}

// failedConsent creates a Nitro profile on a Manager over st wrapped in a failingStore, begins and
// grants admin consent, and completes it once, which fails at the save after the state was spent.
// It returns the Manager, the profile ID and the callback.
func (e *env) failedConsent(st store.Store, nonces store.NonceStore) (*appprofile.Manager, string, appprofile.Callback) {
	e.t.Helper()
	m := e.managerOn(&failingStore{Store: st, nonces: nonces, failErr: errors.New("connection reset")})
	ps, err := m.Create(e.ctx, appprofile.CreateRequest{Customer: "contoso", Tenant: tenantID, Services: []string{"Nitro"}})
	must(e.t, err)
	start, err := m.BeginConsent(e.ctx, ps[0].ID, appprofile.BeginConsentRequest{Consenter: e.globalAdmin()})
	must(e.t, err)
	e.grantAll(nitroID, "APElements Automation")
	cb := appprofile.Callback{State: start.State, Tenant: tenantID, AdminConsent: "True", RemoteIP: adminIP}
	if _, err := m.CompleteConsent(e.ctx, cb); err == nil || errors.Is(err, appprofile.ErrStateReplayed) {
		e.t.Fatalf("first attempt with the store failing: err = %v, want the store's error", err)
	}
	return m, ps[0].ID, cb
}

// managerOn is a Manager like e.mgr over another store.
func (e *env) managerOn(st store.Store) *appprofile.Manager {
	e.t.Helper()
	sealer, err := appprofile.NewAESGCMSealer("k1", map[string][]byte{"k1": bytes.Repeat([]byte{7}, 32)})
	must(e.t, err)
	m, err := appprofile.New(st, e.fake, appprofile.WithClock(e.clock.Now), appprofile.WithLogger(slog.New(slog.DiscardHandler)), appprofile.WithSealer(sealer),
		appprofile.WithStateKey(bytes.Repeat([]byte{9}, 32)), appprofile.WithRedirectURI(redirectURI), appprofile.WithReplicationWait(time.Millisecond),
		appprofile.WithVendorAppIDs(map[string]string{"APElements Automation": nitroID}))
	must(e.t, err)
	return m
}

// TestConcurrentRetriesOfOneCallbackHaveOneWinner: after a failed save, two retries of the same
// callback run at once; one records the consent, the other loses the versioned Update and
// reports ErrStateReplayed (the callback was completed), not a bare conflict.
func TestConcurrentRetriesOfOneCallbackHaveOneWinner(t *testing.T) {
	e := newEnv(t)
	m, id, cb := e.failedConsent(e.store, e.store)
	// Retry B reads the tenant; while it does, retry A runs to the end and records the consent.
	var started atomic.Bool
	var errA error
	e.fake.OnCall(consenttest.MethodAppState, func(ctx context.Context, _ consenttest.Action) error {
		if started.CompareAndSwap(false, true) { // B's read; A's own read passes through
			_, errA = m.CompleteConsent(e.ctx, cb)
		}
		return nil
	})
	_, errB := m.CompleteConsent(e.ctx, cb)
	if errA != nil {
		t.Errorf("retry A: %v, want the consent recorded", errA)
	}
	if !errors.Is(errB, appprofile.ErrStateReplayed) {
		t.Errorf("retry B: %v, want ErrStateReplayed", errB)
	}
	p, err := m.Get(e.ctx, id)
	must(t, err)
	if p.Status != appprofile.Valid || p.Consent == nil {
		t.Errorf("after both retries: %s consent %+v, want valid with the consent", p.Status, p.Consent)
	}
}
