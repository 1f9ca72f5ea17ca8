package appprofile

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var stateKey = bytes.Repeat([]byte{5}, 32)

func TestStateRoundTripAndRejects(t *testing.T) {
	now := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	st := consentState{ProfileID: "p1", Tenant: "t1", Method: AdminConsent, Nonce: "n1", Expires: now.Add(time.Minute).Unix(), UserID: "u"}
	s, err := signState(stateKey, st)
	if err != nil {
		t.Fatal(err)
	}
	got, err := parseState(stateKey, s, now)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(st, got); diff != "" {
		t.Errorf("state mismatch (-want +got):\n%s", diff)
	}
	body, sig, _ := strings.Cut(s, ".")
	for name, bad := range map[string]string{
		"empty":         "",
		"no signature":  body,
		"other key":     func() string { s, _ := signState(bytes.Repeat([]byte{6}, 32), st); return s }(),
		"tampered body": "x" + body[1:] + "." + sig,
		"huge":          strings.Repeat("a", maxStateLen+1),
	} {
		if _, err := parseState(stateKey, bad, now); !errors.Is(err, ErrBadState) {
			t.Errorf("%s: err = %v, want ErrBadState", name, err)
		}
	}
	if _, err := parseState(stateKey, s, now.Add(time.Hour)); !errors.Is(err, ErrBadState) || !strings.Contains(err.Error(), "expired") {
		t.Errorf("expired state: %v", err)
	}
}

func FuzzParseState(f *testing.F) {
	now := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	good, _ := signState(stateKey, consentState{ProfileID: "p", Tenant: "t", Nonce: "n", Expires: now.Add(time.Hour).Unix()})
	f.Add(good)
	f.Add("a.b")
	f.Add(".")
	f.Fuzz(func(t *testing.T, s string) {
		st, err := parseState(stateKey, s, now)
		if err != nil {
			if !errors.Is(err, ErrBadState) {
				t.Fatalf("error %v does not wrap ErrBadState", err)
			}
			return
		}
		// Only a correctly signed, complete state parses.
		body, _, _ := strings.Cut(s, ".")
		if s != body+"."+b64(mac(stateKey, body)) || st.ProfileID == "" || st.Tenant == "" || st.Nonce == "" {
			t.Fatalf("accepted %q as %+v", s, st)
		}
	})
}

func FuzzParseCallback(f *testing.F) {
	f.Add("state=abc&tenant=t&admin_consent=True")
	f.Add("?code=x&state=y&error=access_denied&error_description=AADSTS65004%3A+declined")
	f.Add("%zz")
	f.Fuzz(func(t *testing.T, q string) {
		cb, err := ParseCallback(q)
		if err != nil {
			if !errors.Is(err, ErrBadState) {
				t.Fatalf("error %v does not wrap ErrBadState", err)
			}
			return
		}
		_ = firstLine(cb.ErrorDescription)
	})
}
