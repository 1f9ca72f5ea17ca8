package main

// tenantapps cert inspect | new
//
//	tenantapps cert inspect --pfx FILE [--cert FILE] [--password-env VAR | --password-stdin]
//	                        [--expiring-days N] [--at RFC3339] [--format table|json]
//	tenantapps cert new --cn NAME --out PREFIX --password-env VAR [--years N] [--key-bits N]
//	                    [--force] [--format table|json]
//
// cert inspect JSON (stable):
//
//	{"ok": bool, "problems": [{"code", "severity", "message"}], "sha1Thumbprint", "sha256Thumbprint",
//	 "subject", "issuer", "notBefore", "notAfter", "keyType", "keyBits", "chainLength", "paired": bool|null}
//
// ok is false when any problem has severity "error" (including a .pfx that cannot be opened:
// wrong_password, corrupt, unsupported_format); exit status 0 when ok, 1 when not, 2 on usage
// errors (bad flags, unreadable files). paired is null without --cert. Codes are certs.Code.
//
// cert new JSON: {"pfx", "cer", "crt", "subject", "sha1Thumbprint", "customKeyIdentifier",
// "sha256Thumbprint", "notBefore", "notAfter"}.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/tenantapps/tenantapps/certs"
)

func certCommand() command {
	return command{summary: "inspect a .pfx (and its pairing with a .cer/.crt), or create a self-signed app certificate", run: runCert}
}

func runCert(env *cliEnv, args []string) int {
	if code, done := groupHelp(args, func() {
		fmt.Fprintln(env.stderr, "usage: tenantapps cert inspect|new [flags]\n\n  inspect  check a .pfx (and that it is paired with a .cer/.crt)\n  new      create a self-signed app certificate (.pfx, .cer, .crt)")
	}); done {
		return code
	}
	switch args[0] {
	case "inspect":
		return runCertInspect(env, args[1:])
	case "new":
		return runCertNew(env, args[1:])
	}
	fmt.Fprintf(env.stderr, "tenantapps cert: unknown subcommand %q (want inspect or new)\n", args[0])
	return exitUsage
}

// certInspectJSON is the stable JSON shape of cert inspect.
type certInspectJSON struct {
	OK               bool            `json:"ok"`
	Problems         []certs.Problem `json:"problems"`
	SHA1Thumbprint   string          `json:"sha1Thumbprint"`
	SHA256Thumbprint string          `json:"sha256Thumbprint"`
	Subject          string          `json:"subject"`
	Issuer           string          `json:"issuer"`
	NotBefore        string          `json:"notBefore"`
	NotAfter         string          `json:"notAfter"`
	KeyType          string          `json:"keyType"`
	KeyBits          int             `json:"keyBits"`
	ChainLength      int             `json:"chainLength"`
	Paired           *bool           `json:"paired"`
}

// readPassword reads the .pfx password from an environment variable or stdin, never from a flag.
func readPassword(env *cliEnv, envVar string, fromStdin bool) (string, error) {
	switch {
	case envVar != "" && fromStdin:
		return "", errors.New("use either --password-env or --password-stdin, not both")
	case envVar != "":
		return env.getenv(envVar), nil
	case fromStdin:
		b, err := io.ReadAll(io.LimitReader(env.stdin, 1<<16))
		if err != nil {
			return "", fmt.Errorf("reading the password from stdin: %w", err)
		}
		s := strings.TrimSuffix(string(b), "\n")
		return strings.TrimSuffix(s, "\r"), nil
	}
	return "", nil
}

func runCertInspect(env *cliEnv, args []string) int {
	fs := newFlagSet(env, "cert inspect", "usage: tenantapps cert inspect --pfx FILE [--cert FILE] [--password-env VAR | --password-stdin] [flags]\n\n"+
		"Opens a .pfx and judges it: the problems, its certificate, and (with --cert) whether it is paired with the\n"+
		"certificate uploaded to Entra ID. Exit 0 usable, 1 not usable, 2 usage error.\n\n"+
		"Environment: the variable named by --password-env holds the .pfx password (never a flag).")
	pfxPath := fs.String("pfx", "", "the .pfx/.p12 `file` (required)")
	certPath := fs.String("cert", "", "the .cer/.crt `file` uploaded to Entra ID; checks the pairing")
	pwEnv := fs.String("password-env", "", "the name of the environment `variable` holding the .pfx password")
	pwStdin := fs.Bool("password-stdin", false, "read the .pfx password from stdin (one line)")
	days := fs.Int("expiring-days", 30, "warn (expiring_soon) when the certificate expires within this many `days`; 0 turns it off")
	at := fs.String("at", "", "validate as of this `time` (RFC 3339) instead of now")
	format := formatFlag(fs)
	if code, ok := parseCommon(env, fs, args, format, commonOpts{noArgs: true}); !ok {
		return code
	}
	if code, ok := requireFlags(env, fs, map[string]string{"--pfx": *pfxPath}); !ok {
		return code
	}
	now := time.Now
	if *at != "" {
		t, err := time.Parse(time.RFC3339, *at)
		if err != nil {
			return usageError(env, fs, "--at: %v", err)
		}
		now = func() time.Time { return t }
	}
	password, err := readPassword(env, *pwEnv, *pwStdin)
	if err != nil {
		return usageError(env, fs, "%v", err)
	}
	pfxData, err := os.ReadFile(*pfxPath)
	if err != nil {
		return usageError(env, fs, "%v", err)
	}
	var cer []byte
	if *certPath != "" {
		if cer, err = os.ReadFile(*certPath); err != nil {
			return usageError(env, fs, "%v", err)
		}
	}
	window := time.Duration(*days) * 24 * time.Hour
	if *days <= 0 {
		window = -1
	}

	out := certInspectJSON{Problems: []certs.Problem{}}
	// Ctrl-C stops the check between key derivations (a canceled problem) instead of killing it.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	b, err := certs.InspectContext(ctx, pfxData, password)
	if password == "" && errors.Is(err, certs.ErrWrongPassword) {
		// No password was given (or the variable is empty): that is not a wrong password.
		switch {
		case *pwEnv != "":
			return usageError(env, fs, "the .pfx is protected by a password and $%s is empty or unset: set it to the .pfx password", *pwEnv)
		case *pwStdin:
			return usageError(env, fs, "the .pfx is protected by a password and stdin gave none: write the password on stdin")
		}
		return usageError(env, fs, "the .pfx is protected by a password: give it with --password-env VAR (the name of an environment variable holding it) or --password-stdin")
	}
	if err != nil {
		p, _ := certs.ProblemOf(err)
		out.Problems = append(out.Problems, p)
		if cer != nil {
			f := false
			out.Paired = &f
		}
	} else {
		out.Problems = append(out.Problems, certs.ValidateContext(ctx, b, certs.Options{Now: now, ExpiringWithin: window})...)
		if cer != nil {
			perr := certs.PairContext(ctx, b, cer)
			paired := perr == nil
			out.Paired = &paired
			if p, ok := certs.ProblemOf(perr); ok {
				out.Problems = append(out.Problems, p)
			}
		}
		out.SHA1Thumbprint, out.SHA256Thumbprint = b.SHA1Thumbprint, b.SHA256Thumbprint
		out.Subject, out.Issuer = b.Subject, b.Issuer
		if b.Leaf != nil {
			out.NotBefore, out.NotAfter = b.NotBefore.UTC().Format(time.RFC3339), b.NotAfter.UTC().Format(time.RFC3339)
		}
		out.KeyType, out.KeyBits, out.ChainLength = string(b.KeyType), b.KeyBits, len(b.Chain)
	}
	out.OK = !certs.HasErrors(out.Problems)

	if *format == "json" {
		enc := json.NewEncoder(env.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			return usageError(env, fs, "%v", err)
		}
	} else {
		printInspectTable(env.stdout, *pfxPath, out)
	}
	if !out.OK {
		return exitNegative
	}
	return exitOK
}

func printInspectTable(w io.Writer, path string, o certInspectJSON) {
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(w, "%-12s %s\n", k+":", v)
		}
	}
	row("file", path)
	row("subject", o.Subject)
	row("issuer", o.Issuer)
	row("thumbprint", o.SHA1Thumbprint)
	row("x5t#S256", o.SHA256Thumbprint)
	if o.NotAfter != "" {
		row("valid", o.NotBefore+" to "+o.NotAfter)
	}
	if o.KeyType != "" {
		row("key", fmt.Sprintf("%s %d", o.KeyType, o.KeyBits))
	}
	if o.ChainLength > 0 {
		row("chain", fmt.Sprintf("%d certificate(s), leaf first", o.ChainLength))
	}
	switch {
	case o.Paired == nil:
		row("paired", "not checked (use --cert)")
	case *o.Paired:
		row("paired", "yes")
	default:
		row("paired", "NO")
	}
	if o.OK {
		row("verdict", "OK")
	} else {
		row("verdict", "NOT USABLE")
	}
	for _, p := range o.Problems {
		fmt.Fprintf(w, "  %-7s %s: %s\n", p.Severity, p.Code, p.Message)
	}
}

type certNewJSON struct {
	PFX                 string `json:"pfx"`
	CER                 string `json:"cer"`
	CRT                 string `json:"crt"`
	Subject             string `json:"subject"`
	SHA1Thumbprint      string `json:"sha1Thumbprint"`
	CustomKeyIdentifier string `json:"customKeyIdentifier"`
	SHA256Thumbprint    string `json:"sha256Thumbprint"`
	NotBefore           string `json:"notBefore"`
	NotAfter            string `json:"notAfter"`
}

func runCertNew(env *cliEnv, args []string) int {
	fs := newFlagSet(env, "cert new", "usage: tenantapps cert new --cn NAME --out PREFIX --password-env VAR [flags]\n\n"+
		"Creates a self-signed app certificate: PREFIX.pfx (the private key, protected by the password), and\n"+
		"PREFIX.cer and PREFIX.crt to upload to the app registration in Entra ID.\n\n"+
		"Environment: the variable named by --password-env holds the password for the new .pfx (never a flag).")
	cn := fs.String("cn", "", "the certificate's common `name`, for example the app's name (required)")
	out := fs.String("out", "", "the output path `prefix`: writes PREFIX.pfx, PREFIX.cer, PREFIX.crt (required)")
	years := fs.Int("years", 2, "validity in `years` (1 to 10)")
	keyBits := fs.Int("key-bits", certs.DefaultKeyBits, "RSA key size in `bits` (2048 to 8192)")
	pwEnv := fs.String("password-env", "", "the name of the environment `variable` holding the new .pfx password (required)")
	force := fs.Bool("force", false, "overwrite existing files")
	format := formatFlag(fs)
	if code, ok := parseCommon(env, fs, args, format, commonOpts{noArgs: true}); !ok {
		return code
	}
	if code, ok := requireFlags(env, fs, map[string]string{"--cn": *cn, "--out": *out, "--password-env": *pwEnv}); !ok {
		return code
	}
	if *years < 1 || *years > 10 {
		return usageError(env, fs, "--years must be between 1 and 10")
	}
	password := env.getenv(*pwEnv)
	if password == "" {
		return usageError(env, fs, "$%s is empty or unset; set it to the password that will protect the .pfx", *pwEnv)
	}
	paths := [3]string{*out + ".pfx", *out + ".cer", *out + ".crt"}
	if !*force {
		for _, p := range paths {
			if _, err := os.Stat(p); err == nil {
				return usageError(env, fs, "%s exists; use --force to overwrite it", p)
			}
		}
	}
	g, err := certs.NewSelfSigned(certs.SelfSignedOptions{
		CommonName: *cn, Password: password, KeyBits: *keyBits,
		Validity: time.Duration(*years) * 365 * 24 * time.Hour,
	})
	if err != nil {
		return usageError(env, fs, "%v", err)
	}
	for i, data := range [][]byte{g.PFX, g.CER, g.CRT} {
		mode := os.FileMode(0o644)
		if i == 0 {
			mode = 0o600 // the private key
		}
		if err := os.WriteFile(paths[i], data, mode); err != nil {
			fmt.Fprintf(env.stderr, "tenantapps %s: %v\n", fs.Name(), err)
			return exitNegative
		}
	}
	b := g.Bundle
	res := certNewJSON{
		PFX: paths[0], CER: paths[1], CRT: paths[2], Subject: b.Subject,
		SHA1Thumbprint: b.SHA1Thumbprint, CustomKeyIdentifier: b.CustomKeyIdentifier, SHA256Thumbprint: b.SHA256Thumbprint,
		NotBefore: b.NotBefore.UTC().Format(time.RFC3339), NotAfter: b.NotAfter.UTC().Format(time.RFC3339),
	}
	if *format == "json" {
		enc := json.NewEncoder(env.stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(res)
		return exitOK
	}
	fmt.Fprintf(env.stdout, "wrote %s (keep it secret), %s and %s\n", res.PFX, res.CER, res.CRT)
	fmt.Fprintf(env.stdout, "%-12s %s\n%-12s %s\n%-12s %s to %s\n", "subject:", res.Subject, "thumbprint:", res.SHA1Thumbprint, "valid:", res.NotBefore, res.NotAfter)
	fmt.Fprintf(env.stdout, "Upload %s to the app registration in Entra ID (Certificates & secrets), then use %s with its password.\n", res.CER, res.PFX)
	return exitOK
}
