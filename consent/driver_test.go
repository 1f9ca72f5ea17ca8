package consent_test

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"log/slog"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/tenantapps/tenantapps/consent"
	"github.com/tenantapps/tenantapps/roles"
)

const (
	graph       = consent.MicrosoftGraphAppID
	userReadAll = "df021288-bdef-4463-88db-98f22de89214"
)

func TestAppStateHelpers(t *testing.T) {
	st := consent.AppState{
		Exists: true,
		AppRoleGrants: []consent.AppRoleGrant{
			{ResourceAppID: graph, AppRoleID: userReadAll},
		},
		DelegatedGrants: []consent.DelegatedGrant{
			{ResourceAppID: graph, ConsentType: consent.ConsentAllPrincipals, Scopes: []string{"User.Read"}},
			{ResourceAppID: graph, ConsentType: consent.ConsentPrincipal, PrincipalID: "user-1", Scopes: []string{"Files.Read"}},
		},
		DirectoryRoles: []roles.TemplateID{roles.ExchangeAdministrator},
	}
	tests := []struct {
		name string
		got  bool
		want bool
	}{
		{"app role", st.HasAppRole(graph, userReadAll), true},
		{"app role upper case", st.HasAppRole(strings.ToUpper(graph), strings.ToUpper(userReadAll)), true},
		{"app role other resource", st.HasAppRole(consent.ExchangeOnlineAppID, userReadAll), false},
		{"app role missing", st.HasAppRole(graph, "7ab1d382-f21e-4acd-a863-ba3e13f7da61"), false},
		{"tenant-wide scope", st.HasDelegatedScope(graph, "", "user.read"), true},
		{"tenant-wide scope for a user", st.HasDelegatedScope(graph, "user-2", "User.Read"), true},
		{"user scope, tenant-wide asked", st.HasDelegatedScope(graph, "", "Files.Read"), false},
		{"user scope for that user", st.HasDelegatedScope(graph, "USER-1", "Files.Read"), true},
		{"user scope for another user", st.HasDelegatedScope(graph, "user-2", "Files.Read"), false},
		{"scope of another resource", st.HasDelegatedScope(consent.ExchangeOnlineAppID, "", "User.Read"), false},
		{"directory role", st.HasDirectoryRole(roles.ExchangeAdministrator), true},
		{"directory role missing", st.HasDirectoryRole(roles.GlobalAdministrator), false},
		{"zero state", consent.AppState{}.HasAppRole(graph, userReadAll), false},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.name, tt.got, tt.want)
		}
	}
}

func TestThumbprints(t *testing.T) {
	s1, s256 := consent.Thumbprints([]byte("abc"))
	if want := "A9993E364706816ABA3E25717850C26C9CD0D89D"; s1 != want {
		t.Errorf("SHA-1 = %s, want %s", s1, want)
	}
	if want := "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"; s256 != want {
		t.Errorf("SHA-256 = %s, want %s", s256, want)
	}
}

func newCert(t *testing.T, cn string, notBefore, notAfter time.Time) (*x509.Certificate, *rsa.PrivateKey) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn}, NotBefore: notBefore, NotAfter: notAfter}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c, key
}

func TestKeyCredentialMatches(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a, _ := newCert(t, "a", start, start.AddDate(1, 0, 0))
	b, _ := newCert(t, "b", start, start.AddDate(1, 0, 0))
	s1, s256 := consent.Thumbprints(a.Raw)
	tests := []struct {
		name string
		k    consent.KeyCredential
		cert *x509.Certificate
		want bool
	}{
		{"thumbprint only", consent.KeyCredential{ThumbprintSHA1: s1}, a, true},
		{"thumbprint lower case", consent.KeyCredential{ThumbprintSHA1: strings.ToLower(s1)}, a, true},
		{"thumbprint and DER", consent.KeyCredential{ThumbprintSHA1: s1, ThumbprintSHA256: s256, Certificate: a.Raw}, a, true},
		{"other certificate", consent.KeyCredential{ThumbprintSHA1: s1}, b, false},
		{"thumbprint matches, DER does not", consent.KeyCredential{ThumbprintSHA1: s1, Certificate: b.Raw}, a, false},
		{"nil certificate", consent.KeyCredential{ThumbprintSHA1: s1}, nil, false},
		{"empty credential", consent.KeyCredential{}, a, false},
	}
	for _, tt := range tests {
		if got := tt.k.Matches(tt.cert); got != tt.want {
			t.Errorf("%s: Matches = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestKeyCredentialActiveAt(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	end := start.AddDate(1, 0, 0)
	k := consent.KeyCredential{Start: start, End: end}
	tests := []struct {
		at   time.Time
		want bool
	}{
		{start.Add(-time.Second), false},
		{start, true},
		{start.AddDate(0, 6, 0), true},
		{end, true},
		{end.Add(time.Second), false},
	}
	for _, tt := range tests {
		if got := k.ActiveAt(tt.at); got != tt.want {
			t.Errorf("ActiveAt(%v) = %v, want %v", tt.at, got, tt.want)
		}
	}
	if !(consent.KeyCredential{}).ActiveAt(start) {
		t.Errorf("unbounded credential is not active")
	}
}

// TestTextFormsHideSecrets checks that fmt and slog never print private keys, authorization
// codes, PKCE verifiers or token caches.
func TestTextFormsHideSecrets(t *testing.T) {
	now := time.Now()
	cert, key := newCert(t, "contoso-backup", now.Add(-time.Hour), now.Add(time.Hour))
	cred := consent.CertificateCredential{Chain: []*x509.Certificate{cert}, Key: key}
	redemption := consent.CodeRedemption{TenantID: "t", AppID: "a", Code: "SECRET-CODE-0.AXYZ", RedirectURI: "https://x/cb", PKCEVerifier: "SECRET-VERIFIER", Credential: &cred}
	redeemed := consent.Redeemed{TenantID: "t", UserObjectID: "u", UserPrincipalName: "admin@contoso", TokenCache: []byte("SECRET-REFRESH-TOKEN")}
	refresh := consent.DelegatedRefresh{TenantID: "t", AppID: "a", UserObjectID: "u", TokenCache: []byte("SECRET-CACHE-IN"), Credential: &cred}
	proof := consent.DelegatedProof{TenantID: "t", UserObjectID: "u", TokenCache: []byte("SECRET-CACHE-OUT")}
	secrets := []string{"SECRET-CACHE-IN", "SECRET-CACHE-OUT", key.D.String(), key.Primes[0].String(), fmt.Sprint(key.D.Bytes()[:8]), "SECRET-CODE", "SECRET-VERIFIER", "SECRET-REFRESH-TOKEN"}

	var logged bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logged, nil))
	logger.Info("x", "cred", cred, "redemption", redemption, "redeemed", redeemed)
	logger.Info("y", "cred", &cred, "redeemed", &redeemed)
	logger.Info("z", "refresh", refresh, "proof", proof)
	texts := map[string]string{"slog": logged.String()}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		texts[verb] = fmt.Sprintf(verb+" "+verb+" "+verb, cred, redemption, redeemed)
		texts["pointer "+verb] = fmt.Sprintf(verb+" "+verb, &cred, &redeemed)
		texts["delegated "+verb] = fmt.Sprintf(verb+" "+verb+" "+verb+" "+verb, refresh, proof, &refresh, &proof)
	}
	for form, text := range texts {
		for _, s := range secrets {
			if strings.Contains(text, s) {
				t.Errorf("%s output contains a secret (%.12q...): %.300s", form, s, text)
			}
		}
	}
	if want := "thumbprint"; !strings.Contains(cred.String(), want) {
		t.Errorf("CertificateCredential.String() = %q, want it to name the thumbprint", cred.String())
	}
	if got := (consent.CertificateCredential{}).String(); got != "certificate credential (no certificate)" {
		t.Errorf("empty CertificateCredential.String() = %q", got)
	}
}
