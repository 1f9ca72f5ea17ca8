package appprofile_test

import (
	"bytes"
	"log"
	"log/slog"
	"testing"
	"time"

	"github.com/tenantapps/tenantapps/appprofile"
)

// TestQuietWithoutLogger: a Manager built without WithLogger writes nothing to slog.Default (or
// the log package) during a whole lifecycle; WithLogger turns the log on. The test swaps the
// process's default logger, so it must not run in parallel with others.
func TestQuietWithoutLogger(t *testing.T) {
	var buf bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	t.Cleanup(func() { slog.SetDefault(prev) })
	prevFlags := log.Flags()
	t.Cleanup(func() { log.SetFlags(prevFlags) })

	lifecycle := func(opts ...appprofile.Option) {
		e := newEnv(t)
		sealer, err := appprofile.NewAESGCMSealer("k1", map[string][]byte{"k1": bytes.Repeat([]byte{7}, 32)})
		must(t, err)
		e.mgr, err = appprofile.New(e.store, e.fake, append([]appprofile.Option{
			appprofile.WithClock(e.clock.Now),
			appprofile.WithSealer(sealer),
			appprofile.WithStateKey(bytes.Repeat([]byte{9}, 32)),
			appprofile.WithRedirectURI(redirectURI),
			appprofile.WithReplicationWait(time.Millisecond),
			appprofile.WithVendorAppIDs(map[string]string{"APElements Automation": nitroID}),
		}, opts...)...)
		must(t, err)
		p := e.createAndConsent("Nitro", "APElements Automation", nitroID)
		e.verify(p.ID)
		a, err := e.cat.AppType("APElements Automation")
		must(t, err)
		must(t, e.fake.RevokeAppRole(tenantID, nitroID, a.Permissions[0].ResourceAppID, a.Permissions[0].ID))
		e.verify(p.ID)
		must(t, e.mgr.Delete(e.ctx, p.ID))
	}

	lifecycle()
	if buf.Len() > 0 {
		t.Errorf("a Manager without WithLogger wrote to the default logger:\n%s", buf.String())
	}
	buf.Reset()
	lifecycle(appprofile.WithLogger(slog.Default()))
	if !bytes.Contains(buf.Bytes(), []byte("app profile created")) || !bytes.Contains(buf.Bytes(), []byte("app profile status changed")) {
		t.Errorf("WithLogger(slog.Default()) logged %q, want the lifecycle events", buf.String())
	}
}
