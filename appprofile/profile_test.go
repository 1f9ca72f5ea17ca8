package appprofile

import (
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", name, diff)
	}
}

func TestPayloadRoundTrip(t *testing.T) {
	p := customProfile()
	p.Custom.PFX = SealedSecret{KeyID: "k1", Nonce: []byte{1, 2, 3}, Ciphertext: []byte{4, 5, 6}}
	p.Reasons = []Reason{newReason(ReasonCertificateExpiring, "expiring")}
	p.LastCheck = &Check{At: t0, Outcome: Checked}
	p.Version = 7
	b, err := MarshalPayload(p)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "payload_v1.json", b)
	got, err := UnmarshalPayload(b)
	if err != nil {
		t.Fatal(err)
	}
	p.Version = 0 // not part of the payload
	p.UniqueKey = ""
	if diff := cmp.Diff(p, got); diff != "" {
		t.Errorf("round trip mismatch (-want +got):\n%s", diff)
	}
}

func TestUnmarshalPayloadRejects(t *testing.T) {
	for _, in := range []string{``, `{}`, `{"v":3}`, `{"v":-1}`, `{"v":1,"status":"bogus"}`, `{"v":1,"mode":"x"}`, `[1]`} {
		if _, err := UnmarshalPayload([]byte(in)); !errors.Is(err, ErrPayload) {
			t.Errorf("UnmarshalPayload(%q) error = %v, want ErrPayload", in, err)
		}
	}
}

func FuzzUnmarshalPayload(f *testing.F) {
	b, _ := MarshalPayload(customProfile())
	f.Add(b)
	f.Add([]byte(`{"v":1}`))
	f.Add([]byte(`{"v":1,"custom":{"pfx":{"kid":"x","nonce":"AA=="}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := UnmarshalPayload(data)
		if err != nil {
			return
		}
		b, err := MarshalPayload(p)
		if err != nil {
			t.Fatalf("re-marshal: %v", err)
		}
		p2, err := UnmarshalPayload(b)
		if err != nil {
			t.Fatalf("re-unmarshal: %v", err)
		}
		if diff := cmp.Diff(p, p2, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("not stable (-first +second):\n%s", diff)
		}
	})
}

// TestPayloadWithObjectID: payloads stored before custom apps stopped recording the registration's
// object ID (Entra never reuses an application ID, so it told nothing) still load.
func TestPayloadWithObjectID(t *testing.T) {
	if diff := cmp.Diff(loadPayload(t, "payload_v1.json"), loadPayload(t, "payload_v1_object_id.json")); diff != "" {
		t.Errorf("(-current +with object ID):\n%s", diff)
	}
}

func loadPayload(t *testing.T, name string) Profile {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	p, err := UnmarshalPayload(b)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return p
}

// TestPayloadVersionOfAcceptances: a profile with accepted deviations is written as version 2, so
// a binary from before them (which reads up to 1) refuses it rather than dropping them on its
// next write; other profiles stay version 1.
func TestPayloadVersionOfAcceptances(t *testing.T) {
	p := Profile{ID: "p", Status: Valid}
	for _, tc := range []struct {
		accepted []AcceptedDeviation
		want     int
	}{{nil, 1}, {[]AcceptedDeviation{{ID: "grant-extra@3", Code: ReasonGrantExtra, By: "ops"}}, 2}} {
		p.Accepted = tc.accepted
		b, err := MarshalPayload(p)
		if err != nil {
			t.Fatal(err)
		}
		var v struct{ V int }
		if err := json.Unmarshal(b, &v); err != nil || v.V != tc.want {
			t.Errorf("payload of a profile with %d acceptances has version %d (%v), want %d", len(tc.accepted), v.V, err, tc.want)
		}
		got, err := UnmarshalPayload(b)
		if err != nil || len(got.Accepted) != len(tc.accepted) {
			t.Errorf("round trip: %d acceptances, %v; want %d", len(got.Accepted), err, len(tc.accepted))
		}
	}
}
