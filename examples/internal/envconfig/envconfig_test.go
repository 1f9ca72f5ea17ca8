package envconfig

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestGraphDriverNamesWhatIsMissing(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.pfx")
	if err := os.WriteFile(garbage, []byte("not a pfx"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		env  map[string]string
		want []string
	}{
		{nil, []string{"$" + ReaderAppID, "$" + ReaderPFX}},
		{map[string]string{ReaderAppID: "x"}, []string{"$" + ReaderPFX}},
		{map[string]string{ReaderAppID: "x", ReaderPFX: filepath.Join(dir, "missing.pfx")}, []string{"reading $" + ReaderPFX}},
		{map[string]string{ReaderAppID: "x", ReaderPFX: garbage, ReaderPFXPassword: "hunter2-secret"}, []string{"opening the reading app's .pfx"}},
	} {
		_, err := GraphDriver(func(k string) string { return tc.env[k] })
		if err == nil {
			t.Errorf("%v: accepted", tc.env)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%v: error %q lacks %q", tc.env, err, w)
			}
		}
		if strings.Contains(err.Error(), "hunter2-secret") {
			t.Errorf("the error shows the password: %v", err)
		}
	}
}

func TestOpenStore(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "p.db")
	if _, err := OpenStore(ctx, path, false, nil); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("opening a missing file without create: %v", err)
	}
	st, err := OpenStore(ctx, path, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	st, err = OpenStore(ctx, path, false, nil)
	if err != nil {
		t.Fatalf("reopening: %v", err)
	}
	st.Close()
}
