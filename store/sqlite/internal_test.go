package sqlite

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestServicesRoundTrip(t *testing.T) {
	for _, in := range [][]string{
		nil,
		{"mail"},
		{"backup", "mail", "teams"},
		{`a","b`, `quote"inside`, `back\slash`, "<html>&", "ü 🚀", "\u2028", "\t"},
		{"", "x"}, // not valid for a Record, but the codec must not care
	} {
		got, err := decodeServices(encodeServices(in))
		if err != nil {
			t.Errorf("decode(encode(%q)): %v", in, err)
			continue
		}
		if diff := cmp.Diff(in, got); diff != "" {
			t.Errorf("services round trip mismatch (-want +got):\n%s", diff)
		}
	}
	for _, corrupt := range []string{`["unterminated`, `["a"b"]`, `["a","b"]x`} {
		if got, err := decodeServices(corrupt); err == nil {
			t.Errorf("decodeServices(%s) = %q, want an error for a corrupt column", corrupt, got)
		}
	}
}

func FuzzDecodeServices(f *testing.F) {
	f.Add(`["a","b"]`)
	f.Add(`["a\"b"]`)
	f.Add(`[]`)
	f.Add(`["`)
	f.Fuzz(func(t *testing.T, col string) {
		got, err := decodeServices(col)
		if err != nil {
			return
		}
		// Whatever decodes must re-encode to something that decodes to the same list.
		again, err := decodeServices(encodeServices(got))
		if err != nil {
			t.Fatalf("re-decoding %q: %v", got, err)
		}
		if len(got) == 0 && len(again) == 0 {
			return
		}
		if diff := cmp.Diff(got, again); diff != "" {
			t.Fatalf("round trip of %q mismatch (-want +got):\n%s", col, diff)
		}
	})
}
