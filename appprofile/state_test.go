package appprofile

import (
	"bytes"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/tenantapps/tenantapps/consent"
)

var stateKey = bytes.Repeat([]byte{5}, 32)

const stateTenant = "6f1e2d3c-1111-4a5b-9c8d-000000000001"

// testCodec is the codec New builds for WithStateKey(key), at a settable time.
func testCodec(t testing.TB, key []byte, now *time.Time) *consent.StateCodec {
	t.Helper()
	o := defaultOptions()
	// Fixed randomness: fuzz workers must each issue the same state.
	o.stateKey, o.now, o.rand = key, func() time.Time { return *now }, bytes.NewReader(bytes.Repeat([]byte{3}, 1<<10))
	c, err := newStateCodec(o, &sync.Mutex{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestStateRoundTripAndRejects(t *testing.T) {
	now := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	codec := testCodec(t, stateKey, &now)
	s, st, err := codec.Issue(consent.State{ProfileID: "p1", Tenant: stateTenant, Method: consent.AdminConsent, ConsenterID: "u", Scopes: []string{"a/.default"}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := openState(codec, s)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(st, got); diff != "" {
		t.Errorf("state mismatch (-want +got):\n%s", diff)
	}
	other, _, err := testCodec(t, bytes.Repeat([]byte{6}, 32), &now).Issue(st)
	if err != nil {
		t.Fatal(err)
	}
	i := strings.LastIndex(s, ".")
	body, sig := s[:i], s[i+1:]
	j := strings.LastIndex(body, ".")
	for name, bad := range map[string]struct {
		s    string
		want error
	}{
		"empty":         {"", consent.ErrStateMalformed},
		"no signature":  {body, consent.ErrStateMalformed},
		"other key":     {other, consent.ErrStateTampered},
		"tampered body": {body[:j+1] + "x" + body[j+2:] + "." + sig, consent.ErrStateTampered},
		"huge":          {strings.Repeat("a", 4097), consent.ErrStateMalformed},
	} {
		if _, err := openState(codec, bad.s); !errors.Is(err, ErrBadState) || !errors.Is(err, bad.want) {
			t.Errorf("%s: err = %v, want ErrBadState and %v", name, err, bad.want)
		}
	}
	now = now.Add(time.Hour)
	if _, err := openState(codec, s); !errors.Is(err, ErrBadState) || !errors.Is(err, consent.ErrStateExpired) || !strings.Contains(err.Error(), "expired") {
		t.Errorf("expired state: %v", err)
	}
}

// FuzzOpenState checks that the Manager's state verification never accepts a state it did not
// issue and that every rejection wraps ErrBadState.
func FuzzOpenState(f *testing.F) {
	now := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	codec := testCodec(f, stateKey, &now)
	good, want, err := codec.Issue(consent.State{ProfileID: "p", Tenant: stateTenant, Method: consent.UserConsent, Scopes: []string{"s"}})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add("a.b")
	f.Add(".")
	f.Add("v1." + stateKeyID + ".e30.")
	f.Fuzz(func(t *testing.T, s string) {
		st, err := openState(codec, s)
		if err != nil {
			if !errors.Is(err, ErrBadState) {
				t.Fatalf("error %v does not wrap ErrBadState", err)
			}
			return
		}
		// Without the key nothing can be forged: whatever parses is the issued state.
		if diff := cmp.Diff(want, st); diff != "" {
			t.Fatalf("accepted %q as another state (-issued +got):\n%s", s, diff)
		}
	})
}

func FuzzParseCallback(f *testing.F) {
	f.Add("state=abc&tenant=" + stateTenant + "&admin_consent=True")
	f.Add("state=abc&tenant=t&admin_consent=True")
	f.Add("?code=x&state=y&error=access_denied&error_description=AADSTS65004%3A+declined")
	f.Add("admin_consent=False&state=s")
	f.Add("%zz")
	f.Fuzz(func(t *testing.T, q string) {
		cb, err := ParseCallback(q)
		if err != nil {
			if !errors.Is(err, ErrBadState) || !errors.Is(err, consent.ErrMalformedCallback) {
				t.Fatalf("error %v does not wrap ErrBadState and consent.ErrMalformedCallback", err)
			}
			return
		}
		if cb.Error == "" && cb.ErrorDescription == "" && cb.State == "" {
			t.Fatalf("accepted a successful callback without state: %+v", cb)
		}
		if cb.AdminConsent != "" && cb.AdminConsent != "True" && cb.AdminConsent != "False" {
			t.Fatalf("admin_consent %q not normalised", cb.AdminConsent)
		}
		_ = firstLine(cb.ErrorDescription)
	})
}
