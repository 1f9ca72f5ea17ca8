package appprofile_test

import (
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/tenantapps/tenantapps/appprofile"
	"github.com/tenantapps/tenantapps/certs"
	"github.com/tenantapps/tenantapps/consent"
	"github.com/tenantapps/tenantapps/consent/consenttest"
	"github.com/tenantapps/tenantapps/internal/testcerts"
	"github.com/tenantapps/tenantapps/store/memstore"
)

// secretForms returns the ways a secret could show up in formatted output: raw, hex (both
// cases), base64 (standard and URL), and the decimal byte list fmt prints for a []byte.
func secretForms(secret []byte) []string {
	dec := make([]string, 0, 8)
	for _, b := range secret[:min(len(secret), 8)] {
		dec = append(dec, fmt.Sprint(b))
	}
	h := hex.EncodeToString(secret)
	return []string{string(secret), h, strings.ToUpper(h), base64.StdEncoding.EncodeToString(secret)[:16],
		base64.RawURLEncoding.EncodeToString(secret)[:16], "[" + strings.Join(dec, " "), "{" + strings.Join(dec, " ")}
}

// formatAll formats v with many fmt verbs and with slog's text and JSON handlers.
func formatAll(v any) map[string]string {
	out := map[string]string{}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d"} {
		out[verb] = fmt.Sprintf(verb, v)
	}
	for name, h := range map[string]func(*bytes.Buffer) slog.Handler{
		"slog text": func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
		"slog JSON": func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
	} {
		var b bytes.Buffer
		slog.New(h(&b)).Info("formatting", "value", v)
		out[name] = b.String()
	}
	return out
}

// TestSecretsNeverFormat formats every type that holds a secret — a Manager with a consent-state
// key and a sealer, the sealer itself, a custom app's .pfx and password, the consent package's
// keys, codes, verifiers, token caches and credentials, and certs' generated files — with fmt's
// verbs and slog's handlers, and checks that no form of a secret appears.
func TestSecretsNeverFormat(t *testing.T) {
	stateKey := []byte("STATEKEY-0123456789abcdefghijklmnop")
	sealKey := []byte("SEALKEY-0123456789abcdefghijklmno")[:32]
	pfx := []byte("PFXBYTES-not-really-a-pfx-but-secret")
	password := "PASSWORD-hunter2-hunter2"
	code := "AUTHCODE-0.AAAA-secret-code"
	verifier := "VERIFIER-0123456789abcdefghijklmnopqrstuvwxyz0123"
	cache := []byte("TOKENCACHE-refresh-token-secret")

	sealer, err := appprofile.NewAESGCMSealer("k1", map[string][]byte{"k1": sealKey})
	if err != nil {
		t.Fatal(err)
	}
	m, err := appprofile.New(memstore.New(), consenttest.NewFake(), appprofile.WithStateKey(stateKey), appprofile.WithSealer(sealer),
		appprofile.WithRedirectURI("https://portal.example/callback"))
	if err != nil {
		t.Fatal(err)
	}
	codec, err := consent.NewStateCodec(consent.StateKey{ID: "new", Secret: stateKey}, consent.WithVerificationKeys(consent.StateKey{ID: "old", Secret: bytes.ToUpper(stateKey)}))
	if err != nil {
		t.Fatal(err)
	}
	tc := testcerts.NewRSA(t, testcerts.Options{CommonName: "redaction"})
	cert, key := tc.Cert, tc.Key.(*rsa.PrivateKey)
	cred := consent.CertificateCredential{Chain: []*x509.Certificate{cert}, Key: key}
	custom := appprofile.CustomAppInput{ApplicationID: "app", PFX: pfx, Password: password}

	values := map[string]any{
		"*Manager":                 m,
		"*AESGCMSealer":            sealer,
		"CustomAppInput":           custom,
		"CreateRequest":            appprofile.CreateRequest{Customer: "c", Custom: &custom},
		"consent.StateKey":         consent.StateKey{ID: "k", Secret: stateKey},
		"*consent.StateCodec":      codec,
		"consent.PKCEVerifier":     consent.PKCEVerifier(verifier),
		"consent.Callback":         consent.Callback{Code: code, State: "s"},
		"consent.CodeRedemption":   consent.CodeRedemption{Code: code, PKCEVerifier: verifier, Credential: &cred},
		"consent.Redeemed":         consent.Redeemed{TokenCache: cache},
		"consent.DelegatedRefresh": consent.DelegatedRefresh{TokenCache: cache, Credential: &cred},
		"consent.DelegatedProof":   consent.DelegatedProof{TokenCache: cache},
		"CertificateCredential":    cred,
		"certs.SelfSignedOptions":  certs.SelfSignedOptions{CommonName: "x", Password: password},
		"*certs.Generated":         &certs.Generated{PFX: pfx},
	}
	secrets := map[string][]string{
		"state key":       secretForms(stateKey),
		"old state key":   secretForms(bytes.ToUpper(stateKey)),
		"seal key":        secretForms(sealKey),
		".pfx":            secretForms(pfx),
		"password":        secretForms([]byte(password)),
		"code":            secretForms([]byte(code)),
		"verifier":        secretForms([]byte(verifier)),
		"token cache":     secretForms(cache),
		"RSA private key": {key.D.String(), key.D.Text(16), key.Primes[0].String()},
	}
	for name, v := range values {
		for how, out := range formatAll(v) {
			for what, forms := range secrets {
				for _, f := range forms {
					if strings.Contains(out, f) {
						t.Errorf("%s formatted with %s shows the %s (%q):\n%s", name, how, what, f, out)
					}
				}
			}
		}
	}
}
