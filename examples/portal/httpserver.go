package main

import (
	"crypto/rsa"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"
	"github.com/tenantapps/tenantapps/consent"
)

// Server timeouts. A client that sends its headers or body slowly, or never reads the answer,
// holds a connection and a goroutine; these bound how long. Handlers get the request's context,
// which ends when the client goes or the server shuts down, and pass it to every Manager call,
// so the tenant reads, the store and the .pfx checks behind a request stop with it.
const (
	// readHeaderTimeout bounds the request line and headers.
	readHeaderTimeout = 10 * time.Second
	// readTimeout bounds the whole request including the body: a 1 MB .pfx upload at a slow
	// 20 KB/s takes under a minute. A body trickled slower is cut off.
	readTimeout = time.Minute
	// writeTimeout bounds the handler and the answer: a consent callback reads the tenant
	// (waiting for replication, WithReplicationWait) and so may take tens of seconds.
	writeTimeout = 2 * time.Minute
	// idleTimeout closes keep-alive connections that carry no request.
	idleTimeout = 2 * time.Minute
	// maxHeaderBytes bounds the headers (cookies are small).
	maxHeaderBytes = 64 << 10
)

// newHTTPServer is the portal's http.Server with the timeouts above.
func newHTTPServer(h http.Handler, logger *slog.Logger) *http.Server {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

// isLoopback reports whether a listen address is on the loopback interface only.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// msalCredential is a certificate credential as MSAL Go's confidential client takes it.
func msalCredential(c consent.CertificateCredential) (confidential.Credential, error) {
	k, ok := c.Key.(*rsa.PrivateKey)
	if !ok {
		return confidential.Credential{}, errors.New("the sign-in app's certificate must have an RSA key (MSAL Go signs client assertions with RSA)")
	}
	return confidential.NewCredFromCert(c.Chain, k)
}
