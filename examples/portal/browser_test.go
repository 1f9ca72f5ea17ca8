package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/tenantapps/tenantapps/examples/internal/demo"
)

// chromium finds a Chromium or Chrome binary; the browser test skips only when there is none.
func chromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// TestBrowser drives the portal in headless Chromium against the Entra ID + Graph emulator and
// the real Graph driver: the operator signs in (OpenID Connect against the emulator's MSP
// tenant) → create → consent on the emulator's consent page → the list shows Valid →
// the tenant changes → verify → the list shows Invalid with the reason → re-authorize (an
// ineligible account is told what it lacks first) → Valid again. Screenshots go to
// $TENANTAPPS_SCREENSHOTS when set, else to a temporary directory.
func TestBrowser(t *testing.T) {
	bin := chromium()
	if bin == "" {
		t.Skip("install Chromium to run the browser test: none of chromium, chromium-browser, google-chrome, google-chrome-stable is on PATH (Debian: apt-get install chromium; .ci/run installs it)")
	}
	shots := os.Getenv("TENANTAPPS_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	} else if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}

	app, srv := startTestDemo(t, false, true)

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(bin),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		// The emulator serves a self-signed certificate on 127.0.0.1.
		chromedp.Flag("ignore-certificate-errors", true),
		chromedp.WindowSize(1400, 1000),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(allocCtx)
	defer cancelBrowser()

	shot := func(name string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			png, err := chromedp.FullScreenshot(100)(ctx, tg)
			if err != nil {
				return err
			}
			p := filepath.Join(shots, name+".png")
			t.Logf("screenshot %s", p)
			return os.WriteFile(p, png, 0o644)
		})
	}
	// landed waits until the portal redirected to the list with the given flash message: a
	// check on the new page's URL, so the previous page's message never counts.
	landed := func(flash string) chromedp.Action[chromedp.Void] {
		expr := `location.pathname === "/profiles" && location.search.includes("flash=` + flash + `") && document.readyState === "complete" && !!document.getElementById("flash")`
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			for {
				// Evaluating while the page navigates fails; that only means "not yet".
				if ok, err := chromedp.Evaluate[bool](expr)(ctx, tg); err == nil && ok {
					return nil
				}
				select {
				case <-ctx.Done():
					return fmt.Errorf("waiting for the list with flash=%s: %w", flash, ctx.Err())
				case <-time.After(100 * time.Millisecond):
				}
			}
		})
	}
	// acceptConsent plays the administrator on the emulator's consent page.
	acceptConsent := func(upn string) chromedp.Action[chromedp.Void] {
		return chromedp.Steps(
			chromedp.WaitVisible(chromedp.ID("accept")),
			chromedp.SetValue(chromedp.ID("user"), upn),
			chromedp.Click(chromedp.ID("accept")),
			landed("consented"),
		)
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("reading %s: %v", sel, err)
		}
		return s
	}
	eval := func(expr string) string {
		t.Helper()
		s, err := chromedp.Run(bctx, chromedp.Evaluate[string](expr))
		if err != nil {
			t.Fatalf("evaluating %s: %v", expr, err)
		}
		return s
	}
	const row = `tr.profile[data-apptype="APElements Automation"]`
	rowStatus := `document.querySelector('` + row + `').dataset.status`
	rowReasons := `Array.from(document.querySelectorAll('` + row + ` .reason')).map(r => r.dataset.code).join(',')`

	// The operator signs in first: the portal sends the browser to the MSP tenant's sign-in
	// (the emulator's page), and back to the page asked for.
	err := chromedp.Do(bctx,
		chromedp.Navigate(srv.URL+"/profiles/new"),
		chromedp.WaitVisible(chromedp.ID("accept")),
		shot("0-operator-sign-in"),
		chromedp.SetValue(chromedp.ID("user"), demo.OperatorUPN),
		chromedp.Click(chromedp.ID("accept")),
		chromedp.WaitVisible(chromedp.ID("create")),
	)
	if err != nil {
		t.Fatalf("operator sign-in: %v", err)
	}
	if op := text("#operator"); !strings.Contains(op, demo.OperatorUPN) {
		t.Errorf("signed in as %q, want %s", op, demo.OperatorUPN)
	}

	// Create → consent on the emulator's page → Valid.
	err = chromedp.Do(bctx,
		chromedp.Navigate(srv.URL+"/profiles/new"),
		chromedp.WaitVisible(chromedp.ID("create")),
		chromedp.Click(chromedp.CSS(`input[name="service"][value="Nitro"]`)),
		shot("1-create-wizard"),
		chromedp.Click(chromedp.ID("create-submit")),
		chromedp.WaitVisible(chromedp.CSS(`table#created`)),
		chromedp.SetValue(chromedp.CSS(`select[name="account"]`), demo.AdminUPN),
		shot("2-consent-step"),
		chromedp.Click(chromedp.CSS(`form.consent button`)),
		chromedp.WaitVisible(chromedp.ID("accept")),
		shot("3-emulator-consent-page"),
	)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	location, err := chromedp.Run(bctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(location, app.backend.URL) || !strings.Contains(location, "/v2.0/adminconsent") {
		t.Errorf("consent page %s, want the emulator's admin consent endpoint", location)
	}
	if err := chromedp.Do(bctx, acceptConsent(demo.AdminUPN), shot("4-list-valid")); err != nil {
		t.Fatalf("consent: %v", err)
	}
	if status, flash := eval(rowStatus), text("#flash"); status != "valid" || !strings.Contains(flash, "Consent completed") {
		t.Fatalf("after consent: status %q, flash %q", status, flash)
	}

	// The tenant changes: a granted permission is revoked. The list keeps the last known status
	// until the profile is verified; then it is Invalid with the reason.
	err = chromedp.Do(bctx,
		chromedp.Navigate(srv.URL+"/demo"),
		chromedp.WaitVisible(chromedp.ID("revoke-grant")),
		chromedp.Click(chromedp.CSS(`#revoke-grant button`)),
		landed("changed"),
	)
	if err != nil {
		t.Fatalf("change the tenant: %v", err)
	}
	if status := eval(rowStatus); status != "valid" {
		t.Errorf("before verify: status %q, want the last known status valid", status)
	}
	err = chromedp.Do(bctx,
		chromedp.Click(chromedp.CSS(row+` button.verify`)),
		landed("verified"),
		shot("5-list-invalid"),
	)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	if status, reasons, flash := eval(rowStatus), eval(rowReasons), text("#flash"); status != "invalid" || reasons != "grant-missing" || !strings.Contains(flash, "verified") {
		t.Fatalf("after the change: status %q, reasons %q, flash %q; want invalid, grant-missing", status, reasons, flash)
	}

	// Re-authorize: an account without an admin role is told what it lacks before any redirect;
	// the administrator then consents again and the profile is Valid.
	err = chromedp.Do(bctx,
		chromedp.Click(chromedp.CSS(row+` a.reauthorize`)),
		chromedp.WaitVisible(chromedp.ID("reauth")),
		chromedp.SetValue(chromedp.ID("account"), demo.InsightsUPN),
		chromedp.Click(chromedp.ID("reauth-submit")),
		chromedp.WaitVisible(chromedp.ID("missing")),
		shot("6-reauthorize-missing-requirements"),
	)
	if err != nil {
		t.Fatalf("re-authorize as a non-administrator: %v", err)
	}
	if missing := text("#missing"); !strings.Contains(missing, "Global Administrator") {
		t.Errorf("missing requirements %q, want the administrator roles named", missing)
	}
	err = chromedp.Do(bctx,
		chromedp.SetValue(chromedp.ID("account"), demo.AdminUPN),
		chromedp.Click(chromedp.ID("reauth-submit")),
		acceptConsent(demo.AdminUPN),
		shot("7-list-valid-again"),
	)
	if err != nil {
		t.Fatalf("re-authorize: %v", err)
	}
	if status, reasons := eval(rowStatus), eval(rowReasons); status != "valid" || reasons != "" {
		t.Errorf("after re-authorization: status %q, reasons %q; want valid with none", status, reasons)
	}
}
