package graph_test

import (
	"bytes"
	"crypto/rsa"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/tenantapps/tenantapps/consent"
	"github.com/tenantapps/tenantapps/consent/graph"
)

// TestConfigAndDriverNeverFormatTheKey formats a Config and a Driver holding the reader's RSA key
// with fmt's verbs and slog's text and JSON handlers: the key's private exponent and primes
// never appear (a JSON handler used to marshal the *rsa.PrivateKey inside Config).
func TestConfigAndDriverNeverFormatTheKey(t *testing.T) {
	cred := newCredential(t)
	cfg := graph.Config{ReaderAppID: "11111111-2222-3333-4444-555555555555", ReaderCredential: cred,
		AppCredentials: func(string) (consent.CertificateCredential, bool) { return cred, true }}
	d, err := graph.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	key := cred.Key.(*rsa.PrivateKey)
	forms := []string{key.D.String(), key.D.Text(16), key.Primes[0].String(), key.Primes[1].Text(16)}
	plain := graph.Config{ReaderAppID: cfg.ReaderAppID, ReaderCredential: cred}
	for name, v := range map[string]any{"Config": cfg, "*Config": &cfg, "Config without AppCredentials": plain, "*Driver": d} {
		outs := map[string]string{}
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%d"} {
			outs[verb] = fmt.Sprintf(verb, v)
		}
		var text, js bytes.Buffer
		slog.New(slog.NewTextHandler(&text, nil)).Info("x", "v", v)
		slog.New(slog.NewJSONHandler(&js, nil)).Info("x", "v", v)
		outs["slog text"], outs["slog JSON"] = text.String(), js.String()
		for how, out := range outs {
			for _, f := range forms {
				if strings.Contains(out, f) {
					t.Errorf("%s formatted with %s shows the private key:\n%.300s", name, how, out)
				}
			}
		}
	}
}
