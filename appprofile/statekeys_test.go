package appprofile_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/tenantapps/tenantapps/appprofile"
	"github.com/tenantapps/tenantapps/consent"
)

// TestStateKeyRotationKeepsConsentsInFlight: the consent-state key is rotated while a user consent
// (with a PKCE verifier derived from the key) and an admin consent are in flight. The rotated
// Manager signs new states with the new key and completes the old ones (verified with the old
// key, PKCE verifier derived from it); a Manager that has dropped the old key refuses them.
func TestStateKeyRotationKeepsConsentsInFlight(t *testing.T) {
	e := newEnv(t) // e.mgr: WithStateKey(old), key ID "appprofile"
	newKey := consent.StateKey{ID: "2026-12", Secret: bytes.Repeat([]byte{42}, 32)}
	rotated := e.managerOnWith(e.store, mustSealer(t), appprofile.WithStateKey(bytes.Repeat([]byte{9}, 32)), appprofile.WithStateKeys(newKey))
	onlyNew, err := appprofile.New(e.store, e.fake, appprofile.WithClock(e.clock.Now), appprofile.WithStateKeys(newKey), appprofile.WithRedirectURI(redirectURI))
	must(t, err)

	user, start, code := e.userConsentCallback(t)
	_, adminCB := e.beginNitro()
	e.grantAll(nitroID, "APElements Automation")

	if _, err := onlyNew.CompleteConsent(e.ctx, adminCB); !errors.Is(err, appprofile.ErrBadState) || !errors.Is(err, consent.ErrStateUnknownKey) {
		t.Errorf("old state after the old key was dropped: err = %v, want ErrBadState and consent.ErrStateUnknownKey", err)
	}
	p, err := rotated.CompleteConsent(e.ctx, appprofile.Callback{State: start.State, Code: code})
	if err != nil {
		t.Fatalf("user consent begun under the old key, completed after rotation: %v", err)
	}
	if p.Consent == nil || p.Consent.UserID != user {
		t.Errorf("consent record %+v, want the user's", p.Consent)
	}
	if _, err := rotated.CompleteConsent(e.ctx, adminCB); err != nil {
		t.Errorf("admin consent begun under the old key, completed after rotation: %v", err)
	}

	ps, err := rotated.Create(e.ctx, appprofile.CreateRequest{Customer: "contoso", Tenant: tenantID, Services: []string{"Baseline management"}, AppType: "APElements Baseline Management"})
	must(t, err)
	fresh, err := rotated.BeginConsent(e.ctx, ps[0].ID, appprofile.BeginConsentRequest{Consenter: e.globalAdmin()})
	must(t, err)
	if !strings.HasPrefix(fresh.State, "v1."+newKey.ID+".") {
		t.Errorf("new state %q is not signed with the newest key %q", fresh.State, newKey.ID)
	}
	if _, err := e.mgr.CompleteConsent(e.ctx, appprofile.Callback{State: fresh.State, Tenant: tenantID, AdminConsent: "True"}); !errors.Is(err, consent.ErrStateUnknownKey) {
		t.Errorf("a Manager without the new key accepted its state: err = %v", err)
	}
}

// TestWithStateKeysRejectsBadKeys: short secrets, bad or duplicate key IDs are refused by New,
// without the secret in the message.
func TestWithStateKeysRejectsBadKeys(t *testing.T) {
	e := newEnv(t)
	secret := bytes.Repeat([]byte{'S'}, 32)
	for name, keys := range map[string][]consent.StateKey{
		"short":     {{ID: "a", Secret: secret[:31]}},
		"bad ID":    {{ID: "a b", Secret: secret}},
		"duplicate": {{ID: "a", Secret: secret}, {ID: "a", Secret: bytes.ToLower(secret)}},
	} {
		_, err := appprofile.New(e.store, e.fake, appprofile.WithStateKeys(keys...))
		var re *appprofile.RequestError
		if !errors.As(err, &re) || strings.Contains(err.Error(), string(secret[:16])) {
			t.Errorf("%s: err = %v, want a *RequestError without the secret", name, err)
		}
	}
}
