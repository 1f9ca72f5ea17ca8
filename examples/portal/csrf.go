package main

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
)

const sessionCookie = "tenantapps_session"

// sessions issues the session cookie and the CSRF token bound to it: the token is
// HMAC-SHA256(key, session ID), so a page from another origin, which can neither read the cookie
// nor the token, cannot forge a POST.
type sessions struct {
	key    []byte
	secure bool // set the cookie's Secure attribute (the portal is served over TLS)
}

// session returns the request's session ID, issuing a new cookie when there is none.
func (s *sessions) session(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(sessionCookie); err == nil && len(c.Value) == 43 {
		return c.Value
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	id := base64.RawURLEncoding.EncodeToString(b)
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: id, Path: "/", HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode})
	r.AddCookie(&http.Cookie{Name: sessionCookie, Value: id})
	return id
}

func (s *sessions) token(session string) string {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte("csrf\x00" + session))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// check reports whether the POST carries the token of its session cookie.
func (s *sessions) check(r *http.Request) bool {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return false
	}
	got := r.PostFormValue("csrf")
	if r.MultipartForm != nil && got == "" {
		if v := r.MultipartForm.Value["csrf"]; len(v) > 0 {
			got = v[0]
		}
	}
	return hmac.Equal([]byte(got), []byte(s.token(c.Value)))
}

// renew issues a new session (and so a new CSRF token) to the request, as on sign-in and
// sign-out, so that nothing bound to the old session carries over.
func (s *sessions) renew(w http.ResponseWriter, r *http.Request) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	id := base64.RawURLEncoding.EncodeToString(b)
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: id, Path: "/", HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode})
}
