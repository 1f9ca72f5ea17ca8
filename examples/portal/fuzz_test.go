package main

import (
	"bytes"
	"context"
	"html/template"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

var passwordFieldRE = regexp.MustCompile(`<input type="password"[^>]*value="([^"]*)"`)

// FuzzCreateForm posts arbitrary create-wizard forms: the portal never panics, never answers
// 5xx, and never echoes the .pfx password.
func FuzzCreateForm(f *testing.F) {
	app, err := startDemo(context.Background(), "127.0.0.1:1", "", true, false, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(app.Close)
	h := app.Handler()
	// A session and its CSRF token.
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/profiles/new", nil))
	cookie := rec.Result().Cookies()[0]
	token := app.sessions.token(cookie.Value)

	f.Add("Contoso", "6f1c3a52-8d4e-4b7a-a1c9-2e5f7b9d0c13", "Nitro", "modern", "", "", []byte(nil))
	f.Add("Contoso", "6f1c3a52-8d4e-4b7a-a1c9-2e5f7b9d0c13", "Baseline management", "custom", "11111111-2222-3333-4444-555555555555", "pw-secret-1", []byte("not a pfx"))
	f.Add("", "x", "Insights", "classic", "z", "", []byte{0x30, 0x82, 0x01})
	f.Fuzz(func(t *testing.T, customer, tenant, service, mode, appID, password string, pfx []byte) {
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		for k, v := range map[string]string{"csrf": token, "customer": customer, "tenant": tenant, "service": service, "mode": mode, "appid": appID, "password": password} {
			mw.WriteField(k, v)
		}
		fw, _ := mw.CreateFormFile("pfx", "app.pfx")
		fw.Write(pfx)
		mw.Close()
		req := httptest.NewRequest(http.MethodPost, "/profiles", &body)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		req.AddCookie(cookie)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("status %d:\n%s", rec.Code, rec.Body.String())
		}
		// The password field is always rendered empty, and the password appears nowhere else
		// unless it is also some other field's text.
		for _, m := range passwordFieldRE.FindAllStringSubmatch(rec.Body.String(), -1) {
			if m[1] != "" {
				t.Fatalf("the password field is rendered with a value: %q", m[0])
			}
		}
		if len(password) >= 12 && strings.Contains(rec.Body.String(), template.HTMLEscapeString(password)) &&
			!strings.Contains(customer+"\x00"+tenant+"\x00"+service+"\x00"+mode+"\x00"+appID, password) {
			t.Fatalf("the page echoes the password %q", password)
		}
	})
}

// FuzzRealConfig feeds arbitrary environments to the real-tenant configuration: it never panics,
// and a rejected configuration never shows a key.
func FuzzRealConfig(f *testing.F) {
	f.Add("https://portal.msp.example", "Contoso=6f1c3a52-8d4e-4b7a-a1c9-2e5f7b9d0c13", "APElements Automation=6f1c3a52-8d4e-4b7a-a1c9-2e5f7b9d0c13", "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA==")
	f.Add("ftp://", "=,=", ";=;", "!!!")
	f.Fuzz(func(t *testing.T, public, customers, vendor, key string) {
		env := map[string]string{envPublicURL: public, envCustomers: customers, envVendorAppIDs: vendor, envStateKey: key, envSealKey: key, envCSRFKey: key}
		_, err := readRealConfig(func(k string) string { return env[k] }, "")
		if err != nil && len(key) >= 8 && strings.Contains(err.Error(), key) && !strings.Contains(public+customers+vendor, key) {
			t.Fatalf("the error shows the key: %v", err)
		}
	})
}
