package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantapps/tenantapps/certs"
)

const certCorpus = "../../certs/testdata/corpus/"

func TestCertInspectGolden(t *testing.T) {
	pw := map[string]string{"PFX_PW": "Pa55-word", "WRONG_PW": "not-the-password"}
	at := "--at=2027-06-01T00:00:00Z"
	tests := []struct {
		name   string
		stdin  string
		args   []string
		code   int
		golden string
	}{
		{"ok and paired", "", []string{"cert", "inspect", "--pfx", certCorpus + "openssl3-default-chain.pfx", "--cert", certCorpus + "leaf.cer", "--password-env", "PFX_PW", "--format", "json", at}, exitOK, "cert_inspect_ok.json"},
		{"password on stdin, not paired", "Pa55-word\n", []string{"cert", "inspect", "--pfx", certCorpus + "openssl3-default-chain.pfx", "--cert", certCorpus + "other.crt", "--password-stdin", "--format", "json", at}, exitNegative, "cert_inspect_mismatch.json"},
		{"wrong password", "", []string{"cert", "inspect", "--pfx", certCorpus + "openssl3-rsa2048.pfx", "--password-env", "WRONG_PW", "--format", "json", at}, exitNegative, "cert_inspect_wrong_password.json"},
		{"EC key, warnings and errors", "", []string{"cert", "inspect", "--pfx", certCorpus + "openssl3-p256.pfx", "--password-env", "PFX_PW", "--format", "json", "--at=2028-11-01T00:00:00Z"}, exitNegative, "cert_inspect_ec.json"},
		{"table", "", []string{"cert", "inspect", "--pfx", certCorpus + "openssl3-sha1signed.pfx", "--password-env", "PFX_PW", at}, exitOK, "cert_inspect_table.txt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, stderr := runCLIOpts(t, cliOpts{stdin: tt.stdin, vars: pw}, tt.args...)
			if code != tt.code {
				t.Fatalf("exit code %d, want %d; stderr: %s", code, tt.code, stderr)
			}
			if strings.Contains(out+stderr, "Pa55-word") {
				t.Error("output contains the password")
			}
			checkGolden(t, tt.golden, out)
		})
	}
}

func TestCertInspectJSONShape(t *testing.T) {
	_, out, _ := runCLIOpts(t, cliOpts{vars: map[string]string{"P": "Pa55-word"}}, "cert", "inspect", "--pfx", certCorpus+"iter-1.pfx", "--password-env", "P", "--format", "json")
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	want := []string{"chainLength", "issuer", "keyBits", "keyType", "notAfter", "notBefore", "ok", "paired", "problems", "sha1Thumbprint", "sha256Thumbprint", "subject"}
	if diff := cmp.Diff(want, keys, certSortedKeys); diff != "" {
		t.Errorf("JSON keys mismatch (-want +got):\n%s", diff)
	}
	if m["paired"] != nil {
		t.Errorf("paired = %v without --cert, want null", m["paired"])
	}
}

var certSortedKeys = cmp.Transformer("sort", func(in []string) []string {
	out := append([]string(nil), in...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
})

func TestCertUsageErrors(t *testing.T) {
	tests := [][]string{
		{"cert"},
		{"cert", "frobnicate"},
		{"cert", "inspect"},
		{"cert", "inspect", "--pfx", certCorpus + "iter-1.pfx", "--password-env", "P", "--password-stdin"},
		{"cert", "inspect", "--pfx", certCorpus + "no-such-file.pfx"},
		{"cert", "inspect", "--pfx", certCorpus + "iter-1.pfx", "--format", "xml"},
		{"cert", "inspect", "--pfx", certCorpus + "iter-1.pfx", "--at", "yesterday"},
		{"cert", "inspect", "--pfx", certCorpus + "iter-1.pfx", "--password", "Pa55-word"}, // no password flags, by design
		{"cert", "new", "--cn", "x", "--out", "y"},
		{"cert", "new", "--cn", "x", "--out", "y", "--password-env", "UNSET"},
		{"cert", "new", "--cn", "x", "--out", "y", "--password-env", "P", "--years", "0"},
	}
	for _, args := range tests {
		if code, _, _ := runCLIOpts(t, cliOpts{vars: map[string]string{"P": "pw"}}, args...); code != exitUsage {
			t.Errorf("%v: exit %d, want %d", args, code, exitUsage)
		}
	}
}

func TestCertNewThenInspect(t *testing.T) {
	dir := t.TempDir()
	prefix := filepath.Join(dir, "app")
	env := map[string]string{"NEW_PW": "n3w-pässword"}
	code, out, stderr := runCLIOpts(t, cliOpts{vars: env}, "cert", "new", "--cn", "Contoso Backup", "--out", prefix, "--password-env", "NEW_PW", "--years", "1", "--key-bits", "2048", "--format", "json")
	if code != exitOK {
		t.Fatalf("cert new: exit %d: %s", code, stderr)
	}
	var res certNewJSON
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(prefix + ".pfx"); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf(".pfx mode: %v %v, want 0600", fi.Mode(), err)
	}
	code, out, stderr = runCLIOpts(t, cliOpts{vars: env}, "cert", "inspect", "--pfx", prefix+".pfx", "--cert", prefix+".crt", "--password-env", "NEW_PW", "--format", "json")
	if code != exitOK {
		t.Fatalf("cert inspect of the new files: exit %d: %s %s", code, out, stderr)
	}
	var insp certInspectJSON
	if err := json.Unmarshal([]byte(out), &insp); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(res.SHA1Thumbprint, insp.SHA1Thumbprint); diff != "" || insp.Paired == nil || !*insp.Paired || insp.KeyBits != 2048 || insp.Subject != "CN=Contoso Backup" {
		t.Errorf("inspect of the new certificate: %+v (thumbprint diff %s)", insp, diff)
	}
	// A second run does not overwrite without --force.
	if code, _, _ := runCLIOpts(t, cliOpts{vars: env}, "cert", "new", "--cn", "x", "--out", prefix, "--password-env", "NEW_PW", "--key-bits", "2048"); code != exitUsage {
		t.Errorf("overwrite without --force: exit %d, want %d", code, exitUsage)
	}
	if _, err := certs.Inspect(readCertFile(t, prefix+".pfx"), env["NEW_PW"]); err != nil {
		t.Errorf("the .pfx was overwritten or damaged: %v", err)
	}
}

func readCertFile(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestCertMessagesSayWhatToDo: a missing required flag is named, a missing password is not a
// wrong password, and the help is in the format of the other commands (usage, text, flags).
func TestCertMessagesSayWhatToDo(t *testing.T) {
	tests := []struct {
		args []string
		vars map[string]string
		code int
		want string
	}{
		{[]string{"cert", "new", "--out", "y", "--password-env", "P"}, nil, exitUsage, "tenantapps cert new: --cn is required"},
		{[]string{"cert", "new"}, nil, exitUsage, "tenantapps cert new: --cn, --out and --password-env are required"},
		{[]string{"cert", "inspect"}, nil, exitUsage, "tenantapps cert inspect: --pfx is required"},
		{[]string{"cert", "inspect", "--pfx", certCorpus + "openssl3-rsa2048.pfx"}, nil, exitUsage, "the .pfx is protected by a password: give it with --password-env VAR"},
		{[]string{"cert", "inspect", "--pfx", certCorpus + "openssl3-rsa2048.pfx", "--password-env", "UNSET_PW"}, nil, exitUsage, "$UNSET_PW is empty or unset"},
		{[]string{"cert", "new", "--help"}, nil, exitOK, "usage: tenantapps cert new --cn NAME"},
		{[]string{"cert", "inspect", "--help"}, nil, exitOK, "Environment: the variable named by --password-env"},
	}
	for _, tt := range tests {
		code, _, stderr := runCLIOpts(t, cliOpts{vars: tt.vars}, tt.args...)
		if code != tt.code || !strings.Contains(stderr, tt.want) || strings.Contains(stderr, "wrong_password") {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and %q", tt.args, code, stderr, tt.code, tt.want)
		}
		if tt.code == exitOK && !strings.Contains(stderr, "\n\nflags:\n") {
			t.Errorf("%v: help is not in the usage / flags format:\n%s", tt.args, stderr)
		}
	}
}
