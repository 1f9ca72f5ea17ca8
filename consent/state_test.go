package consent

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var (
	keyOld = StateKey{ID: "2026-10", Secret: bytes.Repeat([]byte{0x11}, 32)}
	keyNew = StateKey{ID: "2026-11", Secret: bytes.Repeat([]byte{0x22}, 32)}
	t0     = time.Date(2026, 11, 25, 4, 0, 0, 0, time.UTC)
)

// fakeClock is a settable clock for tests.
type fakeClock struct{ now time.Time }

func (c *fakeClock) Now() time.Time { return c.now }

func newCodec(t testing.TB, clock *fakeClock, signing StateKey, opts ...StateOption) *StateCodec {
	t.Helper()
	opts = append([]StateOption{WithStateClock(clock.Now), WithStateRand(bytes.NewReader(bytes.Repeat([]byte{7}, 1<<16)))}, opts...)
	c, err := NewStateCodec(signing, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestStateRoundTrip(t *testing.T) {
	clock := &fakeClock{now: t0}
	c := newCodec(t, clock, keyNew)
	enc, st, err := c.Issue(State{ProfileID: "profile-42", Tenant: strings.ToUpper(tenantA), Method: AdminConsent, ConsenterUPN: "ga@contoso.com", Nonce: "ignored", ExpiresAt: t0})
	if err != nil {
		t.Fatal(err)
	}
	want := State{ProfileID: "profile-42", Tenant: tenantA, Method: AdminConsent, ConsenterUPN: "ga@contoso.com",
		Nonce: base64.RawURLEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32)), ExpiresAt: t0.Add(DefaultStateTTL)}
	if diff := cmp.Diff(want, st); diff != "" {
		t.Errorf("Issue state mismatch (-want +got):\n%s", diff)
	}
	got, err := c.Open(enc)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Open mismatch (-want +got):\n%s", diff)
	}
	if !strings.HasPrefix(enc, "v1.2026-11.") || len(enc) > 300 {
		t.Errorf("encoded state %q: unexpected shape", enc)
	}
	if strings.Contains(enc, string(keyNew.Secret)) {
		t.Error("secret in state")
	}
}

func TestStateNoncesDiffer(t *testing.T) {
	c, err := NewStateCodec(keyNew)
	if err != nil {
		t.Fatal(err)
	}
	_, a, _ := c.Issue(State{ProfileID: "p", Tenant: tenantA, Method: UserConsent})
	_, b, _ := c.Issue(State{ProfileID: "p", Tenant: tenantA, Method: UserConsent})
	if a.Nonce == b.Nonce {
		t.Error("two states share a nonce")
	}
}

func TestStateKeyRotation(t *testing.T) {
	clock := &fakeClock{now: t0}
	old := newCodec(t, clock, keyOld)
	encOld, _, err := old.Issue(State{ProfileID: "p", Tenant: tenantA, Method: AdminConsent})
	if err != nil {
		t.Fatal(err)
	}
	rotated := newCodec(t, clock, keyNew, WithVerificationKeys(keyOld))
	if _, err := rotated.Open(encOld); err != nil {
		t.Errorf("state signed with the previous key: %v", err)
	}
	encNew, _, _ := rotated.Issue(State{ProfileID: "p", Tenant: tenantA, Method: AdminConsent})
	if !strings.HasPrefix(encNew, "v1."+keyNew.ID+".") {
		t.Errorf("rotated codec signs with %q", encNew)
	}
	dropped := newCodec(t, clock, keyNew)
	if _, err := dropped.Open(encOld); !errors.Is(err, ErrStateUnknownKey) {
		t.Errorf("state of a dropped key: %v, want ErrStateUnknownKey", err)
	}
	// Same key ID, different secret: tampering, not an unknown key.
	impostor := newCodec(t, clock, StateKey{ID: keyNew.ID, Secret: bytes.Repeat([]byte{0x33}, 32)})
	encImpostor, _, _ := impostor.Issue(State{ProfileID: "p", Tenant: tenantA, Method: AdminConsent})
	if _, err := rotated.Open(encImpostor); !errors.Is(err, ErrStateTampered) {
		t.Errorf("state signed with another secret: %v, want ErrStateTampered", err)
	}
}

func TestStateTampering(t *testing.T) {
	clock := &fakeClock{now: t0}
	c := newCodec(t, clock, keyNew)
	enc, _, err := c.Issue(State{ProfileID: "p", Tenant: tenantA, Method: AdminConsent})
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(enc, ".")
	otherPayload := base64.RawURLEncoding.EncodeToString([]byte(`{"p":"p","t":"` + tenantA + `","m":"user","n":"` + strings.Repeat("A", 43) + `","e":4102444800}`))
	tests := []struct {
		name string
		enc  string
		want error
	}{
		{"flipped signature byte", enc[:len(enc)-2] + flip(enc[len(enc)-2]) + enc[len(enc)-1:], ErrStateTampered},
		{"payload replaced", strings.Join([]string{parts[0], parts[1], otherPayload, parts[3]}, "."), ErrStateTampered},
		{"signature removed", strings.Join(parts[:3], ".") + ".", ErrStateTampered},
		{"signature not base64", strings.Join(parts[:3], ".") + ".!!", ErrStateTampered},
		{"unknown key ID", strings.Join([]string{parts[0], "2020-01", parts[2], parts[3]}, "."), ErrStateUnknownKey},
		{"other version", "v2" + enc[2:], ErrStateMalformed},
		{"too few parts", strings.Join(parts[:3], "."), ErrStateMalformed},
		{"extra part", enc + ".x", ErrStateMalformed},
		{"empty", "", ErrStateMalformed},
		{"huge", strings.Repeat("a", maxStateLen+1), ErrStateMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if st, err := c.Open(tt.enc); !errors.Is(err, tt.want) || !cmp.Equal(st, State{}) {
				t.Errorf("Open = %+v, %v; want %v", st, err, tt.want)
			}
		})
	}
}

func flip(b byte) string {
	if b == 'A' {
		return "B"
	}
	return "A"
}

func TestStateExpiry(t *testing.T) {
	clock := &fakeClock{now: t0}
	c := newCodec(t, clock, keyNew, WithStateTTL(5*time.Minute))
	enc, st, _ := c.Issue(State{ProfileID: "p", Tenant: tenantA, Method: AdminConsent})
	clock.now = t0.Add(5*time.Minute - time.Second)
	if _, err := c.Open(enc); err != nil {
		t.Errorf("one second before expiry: %v", err)
	}
	clock.now = t0.Add(5 * time.Minute)
	got, err := c.Open(enc)
	var ee *StateExpiredError
	if !errors.Is(err, ErrStateExpired) || !errors.As(err, &ee) || !ee.ExpiredAt.Equal(st.ExpiresAt) {
		t.Fatalf("at expiry: %v", err)
	}
	if got.Nonce != st.Nonce {
		t.Error("expired state not returned with the error")
	}
	if !strings.Contains(err.Error(), "start consent again") {
		t.Errorf("message %q does not say what to do", err)
	}
}

func TestVerifyCallback(t *testing.T) {
	clock := &fakeClock{now: t0}
	c := newCodec(t, clock, keyNew)
	adminState, _, _ := c.Issue(State{ProfileID: "p", Tenant: tenantA, Method: AdminConsent})
	userState, _, _ := c.Issue(State{ProfileID: "p", Tenant: tenantA, Method: UserConsent})
	const tenantB = "11111111-2222-3333-4444-555555555555"
	tests := []struct {
		name string
		cb   Callback
		want error
	}{
		{"admin consent, same tenant", Callback{Flow: AdminConsentFlow, AdminConsent: true, Tenant: tenantA, State: adminState}, nil},
		{"admin consent, other tenant", Callback{Flow: AdminConsentFlow, AdminConsent: true, Tenant: tenantB, State: adminState}, ErrStateTenantMismatch},
		{"user consent code", Callback{Flow: AuthorizationCodeFlow, Code: "c", State: userState}, nil},
		{"admin callback with user state", Callback{Flow: AdminConsentFlow, AdminConsent: true, Tenant: tenantA, State: userState}, ErrStateFlowMismatch},
		{"code callback with admin state", Callback{Flow: AuthorizationCodeFlow, Code: "c", State: adminState}, ErrStateFlowMismatch},
		{"error callback keeps the state usable", Callback{Error: "access_denied", State: adminState}, nil},
		{"no state", Callback{Flow: AuthorizationCodeFlow, Code: "c"}, ErrStateMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := c.VerifyCallback(tt.cb)
			if !errors.Is(err, tt.want) {
				t.Fatalf("VerifyCallback = %v, want %v", err, tt.want)
			}
			if tt.cb.State != "" && st.Nonce == "" {
				t.Error("state not returned")
			}
		})
	}
	_, err := c.VerifyCallback(Callback{Flow: AdminConsentFlow, AdminConsent: true, Tenant: tenantB, State: adminState})
	var me *StateTenantMismatchError
	if !errors.As(err, &me) || me.Want != tenantA || me.Got != tenantB {
		t.Errorf("mismatch detail: %v", err)
	}
	wantMsg := "consent: callback tenant differs from the consent's tenant: started for tenant " + tenantA + ", callback is for tenant " + tenantB + "; the consenting account must sign in to the customer's tenant"
	if err.Error() != wantMsg {
		t.Errorf("message %q\nwant    %q", err, wantMsg)
	}
}

func TestStateCheckTenant(t *testing.T) {
	s := State{Tenant: tenantA}
	if err := s.CheckTenant(strings.ToUpper(tenantA)); err != nil {
		t.Errorf("same tenant, other case: %v", err)
	}
	for _, other := range []string{"", "contoso.com", "11111111-2222-3333-4444-555555555555"} {
		if err := s.CheckTenant(other); !errors.Is(err, ErrStateTenantMismatch) {
			t.Errorf("CheckTenant(%q) = %v", other, err)
		}
	}
}

func TestStateCodecConfigErrors(t *testing.T) {
	short := StateKey{ID: "k", Secret: make([]byte, 31)}
	tests := []struct {
		name    string
		signing StateKey
		opts    []StateOption
		want    error
	}{
		{"short secret", short, nil, ErrInvalidStateKey},
		{"empty ID", StateKey{Secret: keyNew.Secret}, nil, ErrInvalidStateKey},
		{"ID with a dot", StateKey{ID: "a.b", Secret: keyNew.Secret}, nil, ErrInvalidStateKey},
		{"long ID", StateKey{ID: strings.Repeat("a", 33), Secret: keyNew.Secret}, nil, ErrInvalidStateKey},
		{"duplicate ID", keyNew, []StateOption{WithVerificationKeys(StateKey{ID: keyNew.ID, Secret: keyOld.Secret})}, ErrInvalidStateKey},
		{"short verification key", keyNew, []StateOption{WithVerificationKeys(short)}, ErrInvalidStateKey},
	}
	for _, tt := range tests {
		if _, err := NewStateCodec(tt.signing, tt.opts...); !errors.Is(err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
		} else if strings.Contains(err.Error(), string(tt.signing.Secret)) && len(tt.signing.Secret) > 0 && tt.signing.Secret[0] != 0 {
			t.Errorf("%s: secret in error", tt.name)
		}
	}
	for _, o := range []StateOption{WithStateTTL(time.Second), WithStateTTL(25 * time.Hour), WithStateClock(nil), WithStateRand(nil)} {
		if _, err := NewStateCodec(keyNew, o); err == nil {
			t.Error("bad option accepted")
		}
	}
}

func TestStateKeyFormattingHidesSecret(t *testing.T) {
	for _, s := range []string{fmt.Sprint(keyNew), fmt.Sprintf("%v %+v %#v", keyNew, keyNew, keyNew)} {
		if strings.Contains(s, `"""`) || strings.Contains(s, "34") || strings.Contains(s, string(keyNew.Secret)) {
			t.Errorf("formatted key %q shows the secret", s)
		}
	}
}

func TestIssueValidates(t *testing.T) {
	c := newCodec(t, &fakeClock{now: t0}, keyNew)
	for _, tt := range []struct {
		profile, tenant string
		m               Method
	}{
		{"", tenantA, AdminConsent},
		{strings.Repeat("p", maxProfileIDLen+1), tenantA, AdminConsent},
		{"p", "contoso.onmicrosoft.com", AdminConsent},
		{"p", "organizations", UserConsent},
		{"p", tenantA, "delegated"},
	} {
		if _, _, err := c.Issue(State{ProfileID: tt.profile, Tenant: tt.tenant, Method: tt.m}); err == nil {
			t.Errorf("Issue(%q, %q, %q) accepted", tt.profile, tt.tenant, tt.m)
		}
	}
	failing := newCodec(t, &fakeClock{now: t0}, keyNew, WithStateRand(bytes.NewReader(nil)))
	if _, _, err := failing.Issue(State{ProfileID: "p", Tenant: tenantA, Method: AdminConsent}); err == nil {
		t.Error("Issue without randomness succeeded")
	}
}

func FuzzStateOpen(f *testing.F) {
	clock := &fakeClock{now: t0}
	c := newCodec(f, clock, keyNew, WithVerificationKeys(keyOld))
	enc, _, _ := c.Issue(State{ProfileID: "p", Tenant: tenantA, Method: AdminConsent})
	f.Add(enc)
	f.Add("v1.2026-11..")
	f.Add("v1.2026-10.e30.AAAA")
	f.Fuzz(func(t *testing.T, s string) {
		st, err := c.Open(s)
		if err == nil || errors.Is(err, ErrStateExpired) {
			// Only a state this codec signed can open: re-sealing reproduces it exactly.
			again, serr := c.Seal(st)
			if serr != nil || again != s {
				t.Fatalf("Open accepted %q that does not re-seal to itself (%q, %v)", s, again, serr)
			}
		}
	})
}

func BenchmarkStateIssueOpen(b *testing.B) {
	c, err := NewStateCodec(keyNew)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		enc, _, err := c.Issue(State{ProfileID: "profile-42", Tenant: tenantA, Method: AdminConsent})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := c.Open(enc); err != nil {
			b.Fatal(err)
		}
	}
}

func TestStateScopesRoundTrip(t *testing.T) {
	c := newCodec(t, &fakeClock{now: t0}, keyNew)
	scopes := []string{"https://graph.microsoft.com/User.Read", "offline_access"}
	enc, _, err := c.Issue(State{ProfileID: "p", Tenant: tenantA, Method: UserConsent, Scopes: scopes})
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Open(enc)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(scopes, got.Scopes); diff != "" {
		t.Errorf("scopes (-want +got):\n%s", diff)
	}
	for _, bad := range [][]string{{""}, {"a b"}, {strings.Repeat("s", 257)}, make([]string, 33)} {
		if _, _, err := c.Issue(State{ProfileID: "p", Tenant: tenantA, Method: UserConsent, Scopes: bad}); err == nil {
			t.Errorf("Issue accepted scopes %q", bad)
		}
	}
}

// TestStateSignatureSpellings: only the canonical encoding of the signature is accepted.
func TestStateSignatureSpellings(t *testing.T) {
	c := newCodec(t, &fakeClock{now: t0}, keyNew)
	enc, _, err := c.Issue(State{ProfileID: "p", Tenant: tenantA, Method: AdminConsent})
	if err != nil {
		t.Fatal(err)
	}
	last := enc[len(enc)-1]
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	i := strings.IndexByte(alphabet, last)
	variants := []string{
		enc[:len(enc)-5] + "\r\n" + enc[len(enc)-5:],
		enc + "\n",
		enc[:len(enc)-1] + string(alphabet[i^1]), // same decoded bytes when the low bits are unused
	}
	for _, v := range variants {
		if _, err := c.Open(v); !errors.Is(err, ErrStateTampered) && !errors.Is(err, ErrStateMalformed) {
			t.Errorf("Open(%q) err = %v, want rejection", v, err)
		}
	}
}
