package demo

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestCustomAppNeverFormatsItsSecrets(t *testing.T) {
	c := CustomApp{AppID: "app", PFX: []byte("PFX-SECRET-BYTES"), Password: "PASSWORD-SECRET"}
	var text, js bytes.Buffer
	slog.New(slog.NewTextHandler(&text, nil)).Info("x", "app", c)
	slog.New(slog.NewJSONHandler(&js, nil)).Info("x", "app", c)
	out := fmt.Sprintf("%v %+v %#v %s %x %d", c, c, c, c, c, c) + text.String() + js.String()
	for _, secret := range []string{"PFX-SECRET", "PASSWORD-SECRET", fmt.Sprintf("%x", "PFX-SECRET"), "80 70 88"} {
		if strings.Contains(out, secret) {
			t.Errorf("formatting shows %q:\n%s", secret, out)
		}
	}
}
