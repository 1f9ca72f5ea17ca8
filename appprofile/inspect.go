package appprofile

import (
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	"github.com/tenantapps/tenantapps/consent"
	"software.sslmate.com/src/go-pkcs12"
)

// CertificateInfo is what the Manager learns from a custom app's .pfx.
type CertificateInfo struct {
	Subject string
	// Thumbprint is the SHA-1 thumbprint in upper-case hex (what Entra shows); ThumbprintSHA256
	// the SHA-256 one.
	Thumbprint       string
	ThumbprintSHA256 string
	NotBefore        time.Time
	NotAfter         time.Time
	// Credential is the certificate and key, for proving the certificate through the driver.
	Credential consent.CertificateCredential
}

// InspectFunc inspects a .pfx with its password at time now. It returns every problem found
// (wrong password, no key, expired, not RSA, ...) as sentences; a .pfx with problems is refused.
// err is only for failures that are not problems of the file. Implementations must not put the
// password or key material in problems or errors.
type InspectFunc func(pfx []byte, password string, now time.Time) (CertificateInfo, []string, error)

// InspectPFX is the default InspectFunc, built on go-pkcs12.
func InspectPFX(pfx []byte, password string, now time.Time) (CertificateInfo, []string, error) {
	if len(pfx) == 0 {
		return CertificateInfo{}, []string{"the certificate file is empty; select the app's .pfx file"}, nil
	}
	key, leaf, cas, err := pkcs12.DecodeChain(pfx, password)
	if err != nil {
		if errors.Is(err, pkcs12.ErrIncorrectPassword) {
			return CertificateInfo{}, []string{"the certificate password is incorrect"}, nil
		}
		return CertificateInfo{}, []string{fmt.Sprintf("the file is not a readable PKCS#12 (.pfx) file: %v", err)}, nil
	}
	var problems []string
	info := CertificateInfo{Subject: leaf.Subject.String(), NotBefore: leaf.NotBefore, NotAfter: leaf.NotAfter}
	info.Thumbprint, info.ThumbprintSHA256 = consent.Thumbprints(leaf.Raw)
	signer, ok := key.(crypto.Signer)
	if !ok {
		problems = append(problems, "the .pfx holds no usable private key")
	} else {
		if _, isRSA := signer.(*rsa.PrivateKey); !isRSA {
			problems = append(problems, "the private key is not RSA; Microsoft Entra client assertions from this library need an RSA key")
		}
		if !publicKeysMatch(leaf, signer) {
			problems = append(problems, "the private key does not belong to the certificate")
		}
		info.Credential = consent.CertificateCredential{Chain: append([]*x509.Certificate{leaf}, cas...), Key: signer}
	}
	if now.Before(leaf.NotBefore) {
		problems = append(problems, fmt.Sprintf("the certificate is not valid before %s", leaf.NotBefore.UTC().Format(time.RFC3339)))
	}
	if !now.Before(leaf.NotAfter) {
		problems = append(problems, fmt.Sprintf("the certificate expired at %s; create a new one and upload its .cer to the app", leaf.NotAfter.UTC().Format(time.RFC3339)))
	}
	return info, problems, nil
}

func publicKeysMatch(cert *x509.Certificate, key crypto.Signer) bool {
	type equaler interface{ Equal(crypto.PublicKey) bool }
	pub, ok := key.Public().(equaler)
	return ok && pub.Equal(cert.PublicKey)
}
