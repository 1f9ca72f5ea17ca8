package envconfig

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tenantapps/tenantapps/consent/graph"
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

// TestNationalCloudDefaults: $TENANTAPPS_AUTHORITY of a national cloud implies its Graph URL and
// scope; explicit values win; an emulator's authority changes nothing.
func TestNationalCloudDefaults(t *testing.T) {
	for _, tc := range []struct {
		in        graph.Config
		url, scop string
	}{
		{graph.Config{AuthorityHost: "https://login.microsoftonline.us"}, "https://graph.microsoft.us/v1.0", "https://graph.microsoft.us/.default"},
		{graph.Config{AuthorityHost: "https://login.chinacloudapi.cn"}, "https://microsoftgraph.chinacloudapi.cn/v1.0", "https://microsoftgraph.chinacloudapi.cn/.default"},
		{graph.Config{AuthorityHost: "https://login.microsoftonline.us", GraphURL: "https://dod-graph.microsoft.us/v1.0", GraphScope: "https://dod-graph.microsoft.us/.default"},
			"https://dod-graph.microsoft.us/v1.0", "https://dod-graph.microsoft.us/.default"},
		{graph.Config{AuthorityHost: "https://127.0.0.1:8443"}, "", ""},
		{graph.Config{}, "", ""},
	} {
		cfg := tc.in
		cloudDefaults(&cfg)
		if cfg.GraphURL != tc.url || cfg.GraphScope != tc.scop {
			t.Errorf("%s: GraphURL %q scope %q, want %q %q", tc.in.AuthorityHost, cfg.GraphURL, cfg.GraphScope, tc.url, tc.scop)
		}
	}
}
