package main

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tenantapps/tenantapps/consent/consenttest"
	"github.com/tenantapps/tenantapps/examples/internal/demo"
)

// TestHTTPServerTimeouts: the portal's server bounds every phase of a request — headers, the
// whole request (a body trickled byte by byte is cut off), the answer, idle keep-alives — and
// the headers' size. Before, only ReadHeaderTimeout was set: a body trickled at 1 byte / 5 s kept
// a connection open 46 s.
func TestHTTPServerTimeouts(t *testing.T) {
	srv := newHTTPServer(http.NotFoundHandler(), nil)
	if srv.ReadHeaderTimeout <= 0 || srv.ReadTimeout <= 0 || srv.WriteTimeout <= 0 || srv.IdleTimeout <= 0 || srv.MaxHeaderBytes <= 0 {
		t.Fatalf("server limits: header %v, read %v, write %v, idle %v, header bytes %d; want all set",
			srv.ReadHeaderTimeout, srv.ReadTimeout, srv.WriteTimeout, srv.IdleTimeout, srv.MaxHeaderBytes)
	}
	if srv.ReadHeaderTimeout > srv.ReadTimeout || srv.ReadTimeout > srv.WriteTimeout {
		t.Errorf("header %v ≤ read %v ≤ write %v expected", srv.ReadHeaderTimeout, srv.ReadTimeout, srv.WriteTimeout)
	}
}

// TestHandlerStopsWhenClientGoes: a verification whose tenant read hangs ends when the client
// disconnects: the request's context reaches the driver call and is cancelled.
func TestHandlerStopsWhenClientGoes(t *testing.T) {
	tp := newTestPortal(t)
	id := tp.create("Nitro")[0]
	if r := tp.consent(id, demo.AdminUPN); r.status != http.StatusSeeOther {
		t.Fatalf("consent: %d\n%s", r.status, r.body)
	}
	fake, ok := tp.app.backend.Directory.(*consenttest.Fake)
	if !ok {
		t.Fatalf("the test portal's directory is %T, want the fake", tp.app.backend.Directory)
	}
	entered, stopped := make(chan struct{}), make(chan error, 1)
	fake.OnCall(consenttest.MethodAppState, func(ctx context.Context, _ consenttest.Action) error {
		close(entered)
		<-ctx.Done() // hangs until the request's context ends
		stopped <- ctx.Err()
		return ctx.Err()
	})
	ctx, cancel := context.WithCancel(context.Background())
	form := url.Values{"csrf": {tp.csrf()}}.Encode()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, tp.srv.URL+"/profiles/"+id+"/verify", strings.NewReader(form))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	done := make(chan error, 1)
	go func() {
		resp, err := tp.client.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	<-entered
	cancel() // the client goes away
	if err := <-stopped; !errors.Is(err, context.Canceled) {
		t.Errorf("the driver call ended with %v, want context.Canceled", err)
	}
	if err := <-done; err == nil {
		t.Error("the client's request completed although it was cancelled")
	}
}

// TestDemoListensOnLoopbackOnly: the demo without operator sign-in is open to whoever reaches it,
// so it refuses any address but loopback.
func TestDemoListensOnLoopbackOnly(t *testing.T) {
	var stderr bytes.Buffer
	for _, addr := range []string{"0.0.0.0:0", ":0", "[::]:0", "192.0.2.1:0"} {
		err := run(context.Background(), []string{"-addr", addr}, func(string) string { return "" }, &stderr)
		if err == nil || !strings.Contains(err.Error(), "loopback only") {
			t.Errorf("demo on %s: err = %v, want a refusal naming loopback", addr, err)
		}
	}
	for _, addr := range []string{"127.0.0.1:8080", "localhost:8080", "[::1]:8080"} {
		if !isLoopback(addr) {
			t.Errorf("isLoopback(%q) = false", addr)
		}
	}
}

// TestConsentCallbackShowsFixedTexts: a callback for another tenant, and one whose
// error_description carries markup and made-up text, get a plain fixed explanation — no internal
// error text, no tenant IDs, nothing of the description — with the detail in the log.
func TestConsentCallbackShowsFixedTexts(t *testing.T) {
	tp := newTestPortal(t)
	cb := tp.playedConsent()
	const otherTenant = "0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d"
	r := tp.get("/consent/callback?" + url.Values{"state": {cb.State}, "tenant": {otherTenant}, "admin_consent": {"True"}}.Encode())
	if r.status != http.StatusBadRequest || !strings.Contains(r.body, "Consent was given in another tenant than the customer&#39;s.") {
		t.Errorf("tenant mismatch: %d\n%s", r.status, r.body)
	}
	for _, leak := range []string{otherTenant, demo.CustomerTenantID, "appprofile:", "consent:"} {
		if strings.Contains(r.body, leak) {
			t.Errorf("tenant mismatch page shows %q", leak)
		}
	}
	evil := `<script>alert(1)</script> AADSTS65004: Call +1-555-0100 to restore access`
	r = tp.get("/consent/callback?" + url.Values{"state": {cb.State}, "error": {"access_denied"}, "error_description": {evil}}.Encode())
	if !strings.Contains(r.body, "Consent was not given") {
		t.Errorf("declined: %d\n%s", r.status, r.body)
	}
	for _, leak := range []string{"<script>", "alert(1)", "555-0100", "AADSTS65004", "&lt;script"} {
		if strings.Contains(r.body, leak) {
			t.Errorf("declined page echoes the error_description (%q)", leak)
		}
	}
}
