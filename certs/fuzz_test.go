package certs_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tenantapps/tenantapps/certs"
)

// FuzzInspect feeds mutated corpus files and passwords to Inspect, then Validate and Pair. It
// checks that nothing panics, that every failure is a *certs.Error with one of the Inspect
// codes (or a refusal: empty_file, work_limit, too_many_parts, key_too_large), and that no error repeats the password.
func FuzzInspect(f *testing.F) {
	files, _ := filepath.Glob("testdata/corpus/*")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil && len(b) < 10000 && !strings.HasSuffix(p, ".txt") {
			f.Add(b, "Pa55-word")
		}
	}
	f.Add([]byte{}, "")
	// Low iteration cap so the fuzzer explores structure rather than burning CPU in KDFs.
	in := certs.Inspector{MaxIterations: 256}
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, data []byte, password string) {
		b, err := in.Inspect(data, password)
		if err != nil {
			var ce *certs.Error
			if !errors.As(err, &ce) {
				t.Fatalf("error %T is not *certs.Error: %v", err, err)
			}
			switch ce.Code {
			case certs.CodeWrongPassword, certs.CodeCorrupt, certs.CodeUnsupportedFormat, certs.CodeEmptyFile,
				certs.CodeWorkLimit, certs.CodeTooManyParts, certs.CodeKeyTooLarge:
			default:
				t.Fatalf("Inspect returned code %q", ce.Code)
			}
			if len(password) >= 6 && strings.Contains(err.Error(), password) {
				t.Fatalf("error contains the password: %v", err)
			}
			return
		}
		ps := certs.Validate(b, certs.Options{Now: func() time.Time { return now }, Cert: data})
		for _, p := range ps {
			if p.Code == "" || (p.Severity != certs.SeverityError && p.Severity != certs.SeverityWarning) {
				t.Fatalf("malformed problem %+v", p)
			}
		}
		if b.Leaf != nil && b.Chain[0] != b.Leaf {
			t.Fatal("Chain does not start with Leaf")
		}
	})
}
