package consent

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

// TestSecretsStayOutOfTextAndLogs: state keys, PKCE verifiers and authorization codes never show in
// fmt verbs or slog output (text and JSON handlers).
func TestSecretsStayOutOfTextAndLogs(t *testing.T) {
	const code = "0.AAA-secret-authorization-code"
	key := StateKey{ID: "k1", Secret: []byte("s3cr3t-s3cr3t-s3cr3t-s3cr3t-s3cr3t")}
	verifier := PKCEVerifier("v3rifier-v3rifier-v3rifier-v3rifier-v3rifi")
	cb := Callback{Flow: AuthorizationCodeFlow, Code: code, State: "st"}
	secrets := []string{code, "s3cr3t", "v3rifier"}
	values := []any{key, verifier, cb, &cb}
	var out bytes.Buffer
	for _, v := range values {
		fmt.Fprintf(&out, "%v %+v %#v %s\n", v, v, v, v)
	}
	text := slog.New(slog.NewTextHandler(&out, nil))
	js := slog.New(slog.NewJSONHandler(&out, nil))
	for _, v := range values {
		text.Info("x", "v", v)
		js.Info("x", "v", v)
	}
	data, _ := json.Marshal(cb)
	out.Write(data)
	for _, s := range secrets {
		if strings.Contains(out.String(), s) {
			t.Errorf("secret %q leaked:\n%s", s, out.String())
		}
	}
}
