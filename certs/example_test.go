package certs_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/tenantapps/tenantapps/certs"
)

// A portal receives a .pfx, its password and the .cer uploaded to Entra ID, and reports every
// problem at once.
func Example() {
	pfx, _ := os.ReadFile("testdata/corpus/openssl3-rsa2048.pfx")
	cer, _ := os.ReadFile("testdata/corpus/other.crt") // the same certificate, as PEM

	b, err := certs.Inspect(pfx, "Pa55-word")
	if err != nil {
		fmt.Println("cannot open:", err)
		return
	}
	fmt.Println(b.Subject, b.KeyType, b.KeyBits)
	fmt.Println("thumbprint:", b.SHA1Thumbprint)
	fmt.Println("customKeyIdentifier:", b.CustomKeyIdentifier)

	// As of a date two months before expiry: no problems, paired with the .cer.
	asOf := b.NotAfter.Add(-60 * 24 * time.Hour)
	problems := certs.Validate(b, certs.Options{Now: func() time.Time { return asOf }, Cert: cer})
	fmt.Println("problems:", len(problems))

	// A year later the same file is expired.
	later := asOf.Add(365 * 24 * time.Hour)
	for _, p := range certs.Validate(b, certs.Options{Now: func() time.Time { return later }}) {
		fmt.Println(p.Code, p.Severity)
	}
	// Output:
	// CN=rsa2048 RSA 2048
	// thumbprint: 0270A4D6E33C53258D84C3771BFFF5CB7D84B4D2
	// customKeyIdentifier: AnCk1uM8UyWNhMN3G//1y32EtNI=
	// problems: 0
	// expired error
}

// Inspect tells a wrong password from a damaged file.
func ExampleInspect_wrongPassword() {
	pfx, _ := os.ReadFile("testdata/corpus/openssl3-rsa2048.pfx")
	_, err := certs.Inspect(pfx, "not the password")
	fmt.Println(errors.Is(err, certs.ErrWrongPassword))

	_, err = certs.Inspect(pfx[:len(pfx)/2], "Pa55-word")
	fmt.Println(errors.Is(err, certs.ErrCorrupt))
	// Output:
	// true
	// true
}

// A certificate uploaded instead of the .pfx is named for what it is.
func ExampleInspect_certificateInsteadOfPFX() {
	crt, _ := os.ReadFile("testdata/corpus/leaf.crt")
	_, err := certs.Inspect(crt, "")
	var ce *certs.Error
	if errors.As(err, &ce) {
		fmt.Println(ce.Code, "-", ce.Feature)
	}
	// Output:
	// unsupported_format - PEM certificate
}

// NewSelfSigned makes the three files of a new app certificate.
func ExampleNewSelfSigned() {
	g, err := certs.NewSelfSigned(certs.SelfSignedOptions{CommonName: "Contoso Backup", Password: "correct horse", KeyBits: 2048})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(g.Bundle.Subject, g.Bundle.KeyBits, g.Bundle.ExtKeyUsage)
	fmt.Println("paired:", certs.Pair(g.Bundle, g.CER) == nil)
	// Output:
	// CN=Contoso Backup 2048 [clientAuth]
	// paired: true
}

// A server reads an upload with the request's context (the work stops when the client goes) and
// a work budget; a file that needs more key-derivation work than the budget is refused before
// the work, with a code the portal can map to its help text.
func ExampleInspector_InspectContext() {
	pfx, _ := os.ReadFile("testdata/corpus/iter-1000000.pfx") // OpenSSL -iter 1000000: 5,000,000 units
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	_, err := certs.Inspector{MaxWork: 1_000_000}.InspectContext(ctx, pfx, "Pa55-word")
	fmt.Println(errors.Is(err, certs.ErrWorkLimit))
	var ce *certs.Error
	if errors.As(err, &ce) {
		fmt.Println(ce.Code)
	}
	// Output:
	// true
	// work_limit
}
