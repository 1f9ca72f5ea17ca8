package certs

import (
	"context"
	"errors"
	"fmt"
)

// Code is a stable, machine-readable name for a finding about a .pfx. The strings are part of the
// API: the CLI prints them, portals map them to help texts, and they never change meaning.
type Code string

// Codes reported by Inspect (as *Error) and Validate/Pair (as Problem).
const (
	// Inspect errors: the file cannot be opened.
	CodeWrongPassword     Code = "wrong_password"     // the password does not open the file
	CodeCorrupt           Code = "corrupt"            // damaged, truncated, empty, or not a .pfx at all
	CodeUnsupportedFormat Code = "unsupported_format" // a real format this package cannot read, or a different file type

	// Inspect, ParseCertificates and Pair refusals of files that would cost too much to read.
	// Each message says what to do; none of these files comes from a real tool's defaults.
	CodeEmptyFile    Code = "empty_file"     // nothing in the file (0 bytes, white space only, or a .pfx with neither key nor certificate)
	CodeWorkLimit    Code = "work_limit"     // opening it needs more key-derivation work than Inspector.MaxWork (too many encrypted parts or iterations)
	CodeTooManyParts Code = "too_many_parts" // more items, keys, certificates or PEM blocks than any real file (MaxCertificates, MaxKeys, MaxPEMBlocks)
	CodeKeyTooLarge  Code = "key_too_large"  // an RSA key beyond MaxRSABits or MaxRSAExponent, refused before any arithmetic on it
	CodeCanceled     Code = "canceled"       // the context ended (a portal's request was abandoned); errors.Is(err, context.Canceled) also holds

	// Validate problems: the file opens but cannot serve as an app credential as it is.
	CodeNoPrivateKey           Code = "no_private_key"            // certificates only
	CodeMultipleKeys           Code = "multiple_keys"             // more than one private key: which one is the app's is ambiguous
	CodeKeyMismatch            Code = "key_mismatch"              // the key does not belong to the (leaf) certificate
	CodeNoCertificate          Code = "no_certificate"            // a key without any certificate
	CodeExpired                Code = "expired"                   // NotAfter is in the past
	CodeNotYetValid            Code = "not_yet_valid"             // NotBefore is in the future
	CodeExpiringSoon           Code = "expiring_soon"             // warning: NotAfter within Options.ExpiringWithin
	CodeWeakKey                Code = "weak_key"                  // RSA below 2048 bits
	CodeWeakSignature          Code = "weak_signature"            // warning: certificate signed with SHA-1 or MD5
	CodeUnsupportedKeyForToken Code = "unsupported_key_for_token" // not RSA: MSAL cannot sign client assertions with it
	CodeCertMismatch           Code = "cert_mismatch"             // the .cer/.crt is not the .pfx's certificate
)

// Severity says whether a Problem makes the bundle unusable (SeverityError) or only deserves
// attention (SeverityWarning).
type Severity string

const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
)

// Problem is one finding of Validate or Pair. Message is a complete sentence for a person and says
// what to do next; it never contains the password or key material.
type Problem struct {
	Code     Code     `json:"code"`
	Severity Severity `json:"severity"`
	Message  string   `json:"message"`
}

func (p Problem) String() string { return fmt.Sprintf("%s (%s): %s", p.Code, p.Severity, p.Message) }

// HasErrors reports whether any problem has SeverityError: the bundle is not usable as it is.
func HasErrors(problems []Problem) bool {
	for _, p := range problems {
		if p.Severity == SeverityError {
			return true
		}
	}
	return false
}

// Error is the error type of Inspect, Pair, ParseCertificates and NewSelfSigned. Check the kind
// with errors.Is against the sentinels (errors.Is(err, certs.ErrWrongPassword)) or read Code
// with errors.As. Messages never contain the password.
type Error struct {
	Code    Code
	Message string
	// Feature names what an unsupported_format file uses (for example "MAC digest 1.2.3" or
	// "PEM certificate"); for work_limit, too_many_parts and key_too_large what exceeded the
	// limit; empty for other codes.
	Feature string
	cause   error // for canceled: the context's error
}

// Unwrap returns the context's error of a canceled Error (context.Canceled or
// context.DeadlineExceeded), nil otherwise.
func (e *Error) Unwrap() error { return e.cause }

func (e *Error) Error() string {
	if e.Message == "" {
		return "certs: " + string(e.Code)
	}
	return "certs: " + e.Message
}

// Is makes errors.Is(err, ErrWrongPassword) (and the other sentinels) match any *Error with the
// same Code.
func (e *Error) Is(target error) bool {
	var t *Error
	return errors.As(target, &t) && t.Code == e.Code && t.Message == sentinelMessage
}

// Problem returns the error as a Problem of SeverityError, for reports that list Inspect failures
// and Validate findings together.
func (e *Error) Problem() Problem {
	return Problem{Code: e.Code, Severity: SeverityError, Message: e.Message}
}

const sentinelMessage = "" // sentinels have an empty Message; real errors always have one

// Sentinels for errors.Is. They compare by Code only.
var (
	ErrWrongPassword     error = &Error{Code: CodeWrongPassword}
	ErrCorrupt           error = &Error{Code: CodeCorrupt}
	ErrUnsupportedFormat error = &Error{Code: CodeUnsupportedFormat}
	ErrCertMismatch      error = &Error{Code: CodeCertMismatch}
	ErrEmptyFile         error = &Error{Code: CodeEmptyFile}
	ErrWorkLimit         error = &Error{Code: CodeWorkLimit}
	ErrTooManyParts      error = &Error{Code: CodeTooManyParts}
	ErrKeyTooLarge       error = &Error{Code: CodeKeyTooLarge}
	ErrCanceled          error = &Error{Code: CodeCanceled}
)

// canceled returns the canceled Error for a done ctx, nil while ctx is live.
func canceled(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return canceledError(err)
	}
	return nil
}

func canceledError(cause error) error {
	return &Error{Code: CodeCanceled, Message: "the certificate check was stopped before it finished (" + cause.Error() + "); submit the file again", cause: cause}
}

// ErrInvalidOptions is wrapped by NewSelfSigned when its options are unusable.
var ErrInvalidOptions = errors.New("certs: invalid options")

// ProblemOf converts an error from this package into a Problem; any other error becomes a
// corrupt Problem with its message. It returns false for a nil error.
func ProblemOf(err error) (Problem, bool) {
	if err == nil {
		return Problem{}, false
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Problem(), true
	}
	return Problem{Code: CodeCorrupt, Severity: SeverityError, Message: err.Error()}, true
}
