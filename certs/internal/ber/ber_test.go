package ber

import (
	"bytes"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestToDER(t *testing.T) {
	tests := []struct {
		name     string
		in, want string
		info     Info
	}{
		{"DER unchanged", "30 06 02 01 03 04 01 aa", "30 06 02 01 03 04 01 aa", Info{}},
		{"indefinite SEQUENCE", "30 80 02 01 03 00 00", "30 03 02 01 03", Info{Changed: true, Indefinite: true}},
		{"nested indefinite", "30 80 30 80 05 00 00 00 00 00", "30 04 30 02 05 00", Info{Changed: true, Indefinite: true}},
		{"constructed OCTET STRING", "24 80 04 02 aa bb 04 01 cc 00 00", "04 03 aa bb cc", Info{Changed: true, Indefinite: true}},
		{"definite constructed OCTET STRING", "24 07 04 02 aa bb 04 01 cc", "04 03 aa bb cc", Info{Changed: true}},
		{"non-minimal length", "04 81 02 aa bb", "04 02 aa bb", Info{Changed: true}},
		{"long-form length with leading zero", "04 82 00 01 aa", "04 01 aa", Info{Changed: true}},
		{"context tag kept constructed", "a0 80 24 80 04 01 01 00 00 00 00", "a0 03 04 01 01", Info{Changed: true, Indefinite: true}},
		{"constructed BIT STRING", "23 80 03 02 00 aa 03 02 04 b0 00 00", "03 03 04 aa b0", Info{Changed: true, Indefinite: true}},
		{"high tag number", "bf 81 00 80 05 00 00 00", "bf 81 00 02 05 00", Info{Changed: true, Indefinite: true}},
		{"empty constructed OCTET STRING", "24 80 00 00", "04 00", Info{Changed: true, Indefinite: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, info, err := ToDER(unhex(t, tt.in))
			if err != nil {
				t.Fatalf("ToDER: %v", err)
			}
			if diff := cmp.Diff(unhex(t, tt.want), got); diff != "" {
				t.Errorf("ToDER mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.info, info); diff != "" {
				t.Errorf("Info mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestToDERErrors(t *testing.T) {
	deep := strings.Repeat("30 80 ", MaxDepth+2) + "05 00" + strings.Repeat(" 00 00", MaxDepth+2)
	tests := []struct {
		name string
		in   string
		want error
	}{
		{"empty", "", ErrTruncated},
		{"cut in header", "30", ErrTruncated},
		{"cut in content", "30 05 02 01", ErrTruncated},
		{"missing end-of-contents", "30 80 02 01 03", ErrTruncated},
		{"trailing data", "05 00 05 00", ErrSyntax},
		{"indefinite primitive", "04 80 aa 00 00", ErrSyntax},
		{"stray end-of-contents", "30 02 00 00", ErrSyntax},
		{"reserved length", "04 ff", ErrSyntax},
		{"mixed segments", "24 80 04 01 aa 02 01 01 00 00", ErrSyntax},
		{"too deep", deep, ErrSyntax},
		{"huge length", "04 88 7f ff ff ff ff ff ff ff", ErrTruncated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := ToDER(unhex(t, tt.in))
			if !errors.Is(err, tt.want) {
				t.Errorf("ToDER error = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestFlatten(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"primitive", "80 02 aa bb", "aa bb"},
		{"constructed", "a0 06 04 01 aa 04 01 bb", "aa bb"},
	}
	for _, tt := range tests {
		got, err := Flatten(unhex(t, tt.in))
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if diff := cmp.Diff(unhex(t, tt.want), got); diff != "" {
			t.Errorf("%s: Flatten mismatch (-want +got):\n%s", tt.name, diff)
		}
	}
	if _, err := Flatten(unhex(t, "a0 03 02 01 01")); !errors.Is(err, ErrSyntax) {
		t.Errorf("Flatten of a non-OCTET STRING segment: err = %v, want ErrSyntax", err)
	}
}

// FuzzToDER checks that ToDER never panics, that its output is DER (a fixed point of ToDER), and
// that encoding/asn1 can read the outer element of the output.
func FuzzToDER(f *testing.F) {
	for _, s := range []string{"30 80 02 01 03 00 00", "24 80 04 02 aa bb 04 01 cc 00 00", "23 80 03 02 00 aa 03 02 04 b0 00 00", "a0 80 24 80 04 01 01 00 00 00 00", "30 06 02 01 03 04 01 aa"} {
		f.Add(unhex(f, s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		out, _, err := ToDER(in)
		if err != nil {
			return
		}
		again, info, err := ToDER(out)
		if err != nil {
			t.Fatalf("ToDER(ToDER(x)) failed: %v", err)
		}
		if info.Changed || !bytes.Equal(out, again) {
			t.Fatalf("ToDER is not idempotent:\n%x\n%x", out, again)
		}
		var raw asn1.RawValue
		if rest, err := asn1.Unmarshal(out, &raw); err != nil || len(rest) != 0 {
			// encoding/asn1 rejects some valid DER (for example high tag numbers in some classes);
			// only a length/structure complaint would be our bug.
			if err != nil && strings.Contains(err.Error(), "length") {
				t.Fatalf("encoding/asn1 rejects ToDER output %x: %v", out, err)
			}
		}
	})
}
