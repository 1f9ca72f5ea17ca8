package appprofile_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/tenantapps/tenantapps/appprofile"
	"github.com/tenantapps/tenantapps/store"
)

// racingStore makes every profile's first Update lose a race: just before it, another writer
// renames the profile, so the Update fails with ErrConflict.
type racingStore struct {
	store.Store
	mu    sync.Mutex
	raced map[string]bool
}

func (s *racingStore) Update(ctx context.Context, rec store.Record) (store.Record, error) {
	s.mu.Lock()
	first := !s.raced[rec.ID]
	s.raced[rec.ID] = true
	s.mu.Unlock()
	if first {
		cur, err := s.Store.Get(ctx, rec.ID)
		if err != nil {
			return store.Record{}, err
		}
		p, err := appprofile.UnmarshalPayload(cur.Payload)
		if err != nil {
			return store.Record{}, err
		}
		p.Name = "renamed concurrently"
		if cur.Payload, err = appprofile.MarshalPayload(p); err != nil {
			return store.Record{}, err
		}
		if _, err := s.Store.Update(ctx, cur); err != nil {
			return store.Record{}, err
		}
	}
	return s.Store.Update(ctx, rec)
}

func sealerWith(t *testing.T, current string, keys ...string) appprofile.Sealer {
	t.Helper()
	m := map[string][]byte{}
	for _, k := range keys {
		m[k] = bytes.Repeat([]byte{k[1]}, 32) // "k1" → 32 × '1'
	}
	s, err := appprofile.NewAESGCMSealer(current, m)
	must(t, err)
	return s
}

// TestResealAllRotatesEveryStoredSecret: profiles sealed under k1; the sealer gains k2 as its
// current key; ResealAll, interrupted after its first page and resumed from the cursor, re-seals
// every .pfx and password under k2 while another writer races it, keeps that writer's edits, and
// afterwards a sealer that has only k2 opens every secret. A second run re-seals nothing.
func TestResealAllRotatesEveryStoredSecret(t *testing.T) {
	e, _, req := customSetup(t, appprofile.WithDuplicates(true), appprofile.WithSealer(nil))
	e.consented(customID)
	old := e.managerOnWith(e.store, sealerWith(t, "k1", "k1"))
	const n = 5
	var ids []string
	for range n {
		ps, err := old.Create(e.ctx, req)
		must(t, err)
		ids = append(ids, ps[0].ID)
	}

	racing := &racingStore{Store: e.store, raced: map[string]bool{}}
	rotating := e.managerOnWith(racing, sealerWith(t, "k2", "k1", "k2"))
	ctx, cancel := context.WithCancel(e.ctx)
	var pages []appprofile.ResealProgress
	res, err := rotating.ResealAll(ctx, appprofile.ResealOptions{PageSize: 2, Progress: func(p appprofile.ResealProgress) {
		pages = append(pages, p)
		cancel()
	}})
	if !errors.Is(err, context.Canceled) || res.Cursor == "" || len(pages) != 1 || res.Resealed != 2 {
		t.Fatalf("interrupted run: %+v, %v; want 2 profiles re-sealed, a cursor and context.Canceled", res, err)
	}
	rest, err := rotating.ResealAll(e.ctx, appprofile.ResealOptions{PageSize: 2, Cursor: res.Cursor})
	must(t, err)
	if got := res.Resealed + rest.Resealed; got != n || rest.Failed != 0 || rest.Secrets != 2*rest.Resealed || rest.Cursor != "" {
		t.Errorf("resumed run: %+v; want the other %d profiles re-sealed (2 secrets each), no failures", rest, n-2)
	}

	onlyNew := e.managerOnWith(e.store, sealerWith(t, "k2", "k2"))
	for _, id := range ids {
		p, err := onlyNew.Get(e.ctx, id)
		must(t, err)
		if p.Custom.PFX.KeyID != "k2" || p.Custom.Password.KeyID != "k2" {
			t.Errorf("profile %s: secrets under %q and %q, want k2", id, p.Custom.PFX.KeyID, p.Custom.Password.KeyID)
		}
		if p.Name != "renamed concurrently" {
			t.Errorf("profile %s: the concurrent writer's edit was lost (name %q)", id, p.Name)
		}
		pfx, pw, err := onlyNew.OpenCustomSecrets(e.ctx, id)
		if err != nil || !bytes.Equal(pfx, req.Custom.PFX) || pw != customPassword {
			t.Errorf("profile %s: opening with k2 only: %d bytes, password ok %v, %v", id, len(pfx), pw == customPassword, err)
		}
	}
	again, err := rotating.ResealAll(e.ctx, appprofile.ResealOptions{})
	must(t, err)
	if again.Scanned != n || again.Resealed != 0 || again.Failed != 0 {
		t.Errorf("second run: %+v; want %d scanned, nothing re-sealed", again.ResealProgress, n)
	}
}

// TestResealAllReportsSecretsItCannotOpen: a secret sealed under a key the sealer no longer has is
// a failure of that profile, named in Errors with ErrUnseal; the walk goes on and the profile is
// left as it was.
func TestResealAllReportsSecretsItCannotOpen(t *testing.T) {
	e, _, req := customSetup(t, appprofile.WithDuplicates(true))
	e.consented(customID)
	old := e.managerOnWith(e.store, sealerWith(t, "k1", "k1"))
	a, err := old.Create(e.ctx, req)
	must(t, err)
	b, err := e.managerOnWith(e.store, sealerWith(t, "k3", "k3")).Create(e.ctx, req)
	must(t, err)
	res, err := e.managerOnWith(e.store, sealerWith(t, "k2", "k1", "k2")).ResealAll(e.ctx, appprofile.ResealOptions{})
	must(t, err)
	if res.Scanned != 2 || res.Resealed != 1 || res.Failed != 1 || len(res.Errors) != 1 || !errors.Is(res.Errors[0], appprofile.ErrUnseal) {
		t.Fatalf("ResealAll = %+v; want a re-sealed, b failed with ErrUnseal", res)
	}
	got, err := e.mgr.Get(e.ctx, b[0].ID)
	must(t, err)
	if got.Custom.PFX.KeyID != "k3" || got.Version != b[0].Version {
		t.Errorf("the failed profile changed: key %q version %d", got.Custom.PFX.KeyID, got.Version)
	}
	if got, err := e.mgr.Get(e.ctx, a[0].ID); err != nil || got.Custom.PFX.KeyID != "k2" {
		t.Errorf("profile a: %v, want its secrets under k2", err)
	}
}

// managerOnWith is a Manager like e.mgr over another store and sealer.
func (e *env) managerOnWith(st store.Store, s appprofile.Sealer, opts ...appprofile.Option) *appprofile.Manager {
	e.t.Helper()
	m, err := appprofile.New(st, e.fake, append([]appprofile.Option{appprofile.WithClock(e.clock.Now), appprofile.WithLogger(slog.New(slog.DiscardHandler)), appprofile.WithSealer(s),
		appprofile.WithStateKey(bytes.Repeat([]byte{9}, 32)), appprofile.WithRedirectURI(redirectURI), appprofile.WithReplicationWait(time.Millisecond),
		appprofile.WithDuplicates(true),
		appprofile.WithVendorAppIDs(map[string]string{"APElements Automation": nitroID, "Insights for Microsoft 365": insightsID, "APElements Baseline Management": baselineID})}, opts...)...)
	must(e.t, err)
	return m
}
