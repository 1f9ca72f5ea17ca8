package appprofile

import (
	"context"
	"errors"
	"time"

	"github.com/tenantapps/tenantapps/certs"
	"github.com/tenantapps/tenantapps/consent"
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

// InspectFunc inspects a .pfx with its password at time now. It returns every problem that makes
// the file unusable (wrong password, no key, a key for another certificate, expired, weak key...)
// as sentences; a .pfx with problems is refused. err is only for failures that are not problems of
// the file. Implementations must not put the password or key material in problems or errors, and
// must set CertificateInfo.Credential for a usable file: with a driver that implements
// consent.CertificateProver, a custom app whose certificate comes without it is refused.
type InspectFunc func(pfx []byte, password string, now time.Time) (CertificateInfo, []string, error)

// InspectContextFunc is InspectFunc that also receives the context of the Manager call (Create,
// Reauthorize): an implementation stops when it ends and returns its error.
type InspectContextFunc func(ctx context.Context, pfx []byte, password string, now time.Time) (CertificateInfo, []string, error)

// InspectPFX is InspectPFXContext with context.Background().
func InspectPFX(pfx []byte, password string, now time.Time) (CertificateInfo, []string, error) {
	return InspectPFXContext(context.Background(), pfx, password, now)
}

// InspectPFXContext is the default InspectContextFunc: certs.InspectContext, then certs.Validate;
// every error-severity problem is reported (warnings such as expiring_soon become reasons on the
// profile instead). A file that would cost too much to read (certs' work_limit, too_many_parts,
// key_too_large) is a problem like any other; when ctx ends (the portal's request was abandoned)
// it returns the canceled error, which matches ctx.Err() with errors.Is.
func InspectPFXContext(ctx context.Context, pfx []byte, password string, now time.Time) (CertificateInfo, []string, error) {
	if len(pfx) == 0 {
		return CertificateInfo{}, []string{"the certificate file is empty; select the app's .pfx file"}, nil
	}
	b, err := certs.InspectContext(ctx, pfx, password)
	if err != nil {
		var ce *certs.Error
		if errors.Is(err, certs.ErrCanceled) {
			return CertificateInfo{}, nil, err
		}
		if errors.As(err, &ce) {
			return CertificateInfo{}, []string{ce.Problem().String()}, nil
		}
		return CertificateInfo{}, nil, err
	}
	var problems []string
	for _, p := range certs.Validate(b, certs.Options{Now: func() time.Time { return now }}) {
		if p.Severity == certs.SeverityError {
			problems = append(problems, p.String())
		}
	}
	info := CertificateInfo{Subject: b.Subject, NotBefore: b.NotBefore, NotAfter: b.NotAfter, Thumbprint: b.SHA1Thumbprint}
	if b.Leaf != nil {
		_, info.ThumbprintSHA256 = consent.Thumbprints(b.Leaf.Raw)
	}
	if b.PrivateKey != nil && b.KeyMatchesLeaf {
		info.Credential = consent.CertificateCredential{Chain: b.Chain, Key: b.PrivateKey}
	}
	return info, problems, nil
}
