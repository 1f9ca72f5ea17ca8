package graph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	msalerrors "github.com/AzureAD/microsoft-authentication-library-for-go/apps/errors"
	abstractions "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"

	"github.com/tenantapps/tenantapps/consent"
)

var aadstsRE = regexp.MustCompile(`AADSTS(\d{4,8})`)

// errRetryable marks a 429, 503 or 504 answer, which the driver retries after Retry-After.
var errRetryable = retryableError{}

type retryableError struct{}

func (retryableError) Error() string { return "" }

// errUnauthorized marks a Graph 401: the cached token was refused (tenant deleted, key
// rollover, revoked app). The driver drops the tenant's cached token and retries once.
var errUnauthorized = errors.New("unauthorized")

// aadstsCode extracts the first AADSTS number from a token-endpoint error text (MSAL puts the
// whole response body into its error message).
func aadstsCode(s string) int {
	m := aadstsRE.FindStringSubmatch(s)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// tokenError maps an MSAL error to a *consent.DriverError. reader says whether the failing
// identity is the driver's own reading app: then a rejected credential or a missing service
// principal says nothing about the checked app and is reported as consent.ErrForbidden (could
// not check), never as a ground-truth sentinel about the app.
func tokenError(ctx context.Context, op, tenant, appID string, err error, reader bool) error {
	de := &consent.DriverError{Op: op, TenantID: tenant, AppID: appID}
	if ctxErr := ctx.Err(); ctxErr != nil {
		de.Err = ctxErr
		return de
	}
	var ce msalerrors.CallErr
	status := 0
	msg := err.Error()
	if errors.As(err, &ce) && ce.Resp != nil {
		status = ce.Resp.StatusCode
		de.RetryAfter = parseRetryAfter(ce.Resp.Header.Get("Retry-After"))
	}
	body := tokenErrorBody(msg)
	code := 0
	if len(body.ErrorCodes) > 0 {
		code = body.ErrorCodes[0]
	} else if c, ok := consent.ParseAADSTS(body.Description); ok {
		code = c
	} else {
		code = aadstsCode(msg)
	}
	if code != 0 {
		de.Code = "AADSTS" + strconv.Itoa(code)
	}
	// The tenant's own words (consent.AADSTSError: code, first line, remediation), for
	// errors about the checked app only; for the reader they stay out of the chain so no
	// ground-truth sentinel about the app can leak in.
	var detail error
	if !reader && (body.Error != "" || body.Description != "") {
		desc := body.Description
		if code != 0 && !strings.Contains(desc, "AADSTS") {
			desc = "AADSTS" + strconv.Itoa(code) + ": " + desc
		}
		detail = consent.ErrorFromAADSTS(body.Error, desc)
	}
	defer func() {
		if detail != nil && de.Err != nil && !errors.Is(de.Err, context.Canceled) {
			de.Err = fmt.Errorf("%w: %w", de.Err, detail)
		}
	}()
	switch {
	case status == http.StatusTooManyRequests:
		de.Err = consent.ErrThrottled
		if de.RetryAfter == 0 {
			de.RetryAfter = time.Second
		}
	case status >= 500 || (status == 0 && code == 0):
		de.Err = fmt.Errorf("%w: token endpoint: %s", consent.ErrTransient, firstLine(msg))
	case code == 90002 || code == 90072:
		de.Err = consent.ErrTenantNotFound
	case code == 700016 && reader:
		de.Err = fmt.Errorf("%w: the reading app %s has no service principal in the tenant (consent the reading app there)", consent.ErrForbidden, appID)
	case code == 700016:
		de.Err = consent.ErrNotConsented
	case code == 7000112 && reader:
		de.Err = fmt.Errorf("%w: the reading app %s is disabled in the tenant", consent.ErrForbidden, appID)
	case code == 7000112:
		de.Err = consent.ErrAppDisabled
	case isCredentialCode(code) && reader:
		de.Err = fmt.Errorf("%w: the tenant rejected the reading app's own certificate (%s)", consent.ErrForbidden, de.Code)
	case isCredentialCode(code):
		de.Err = consent.ErrInvalidCredential
	case isGrantCode(code):
		de.Err = consent.ErrInvalidGrant
	default:
		de.Err = fmt.Errorf("token endpoint rejected the request: %s", firstLine(msg))
	}
	return de
}

// tokenBody is the token endpoint's JSON error body.
type tokenBody struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
	ErrorCodes  []int  `json:"error_codes"`
}

// tokenErrorBody finds the JSON error body MSAL embeds in its error message ("...reply status
// code was 400:\n{...}"). Missing or unreadable bodies give the zero value.
func tokenErrorBody(msg string) tokenBody {
	var b tokenBody
	if i := strings.Index(msg, "{"); i >= 0 {
		dec := json.NewDecoder(strings.NewReader(msg[i:]))
		if err := dec.Decode(&b); err != nil {
			return tokenBody{}
		}
	}
	return b
}

func isCredentialCode(code int) bool {
	switch code {
	case 700027, 7000222, 700024, 7000215, 7000218, 700021, 700212, 700025, 50027, 700023, 5002730:
		return true
	}
	return false
}

// isGrantCode reports the AADSTS codes with which the token endpoint refuses a grant (code or
// refresh token) for a reason that is a fact about the consent: the delegated refresh's answer,
// the primary signal of a delegated check. entra-docs docs/identity-platform/reference-error-codes.md:
// 700082 ExpiredOrRevokedGrantInactiveToken, 50173 FreshTokenNeeded, 50133
// SsoArtifactInvalidOrExpired (password change), 70043 BadTokenDueToSignInFrequency, 50076 /
// 50079 MFA required / MFA registration required, 53003 BlockedByConditionalAccess.
func isGrantCode(code int) bool {
	switch code {
	case 70008, 54005, 50173, 9002313, 500112, 501481, 50034, 50057, 65001, 50076, 53003, 70000, 700005, 50126, 90094, 65004,
		700082, 50079, 50133, 70043:
		return true
	}
	return false
}

func firstLine(s string) string {
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i]
	}
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

// parseRetryAfter reads a Retry-After header (see consent.ParseRetryAfter): seconds (decimals
// allowed, as Graph sends) or an HTTP date, clamped to consent.MaxRetryAfter. Zero when absent,
// unreadable or nonsense (NaN, negative, a date more than a day away).
func parseRetryAfter(v string) time.Duration {
	return consent.ParseRetryAfter(v, time.Now())
}

// graphError maps an error from the Kiota adapter (a whole request or $batch send) to a
// *consent.DriverError. It never calls ODataError.Error() on a body without a message.
func graphError(ctx context.Context, op, tenant, appID string, err error) error {
	var de *consent.DriverError
	if errors.As(err, &de) {
		return withOp(err, op, appID)
	}
	out := &consent.DriverError{Op: op, TenantID: tenant, AppID: appID}
	if ctxErr := ctx.Err(); ctxErr != nil {
		out.Err = ctxErr
		return out
	}
	var oe *odataerrors.ODataError
	var ae *abstractions.ApiError
	switch {
	case errors.As(err, &oe):
		code, msg := odataCodeMessage(oe)
		return classify(out, oe.ResponseStatusCode, code, msg, oe.ResponseHeaders)
	case errors.As(err, &ae):
		return classify(out, ae.ResponseStatusCode, "", safeAPIMessage(ae), ae.ResponseHeaders)
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, context.DeadlineExceeded) {
		out.Err = fmt.Errorf("%w: %v", consent.ErrTransient, err)
		return out
	}
	// Parse errors (malformed or truncated JSON), connection resets, anything else: the tenant
	// was not read.
	out.Err = fmt.Errorf("%w: %v", consent.ErrTransient, err)
	return out
}

func safeAPIMessage(ae *abstractions.ApiError) (msg string) {
	defer func() {
		if recover() != nil {
			msg = "unreadable error"
		}
	}()
	return ae.Message
}

// odataCodeMessage reads code and message defensively (the generated getters dereference
// nothing, but Error() does).
func odataCodeMessage(oe *odataerrors.ODataError) (code, msg string) {
	defer func() {
		if recover() != nil {
			code, msg = "", ""
		}
	}()
	if me := oe.GetErrorEscaped(); me != nil {
		if c := me.GetCode(); c != nil {
			code = *c
		}
		if m := me.GetMessage(); m != nil {
			msg = *m
		}
	}
	return code, msg
}

// classify fills out from an HTTP status and an OData code.
func classify(out *consent.DriverError, status int, code, msg string, hdr *abstractions.ResponseHeaders) error {
	out.Code = code
	if hdr != nil {
		if v := hdr.Get("Retry-After"); len(v) > 0 {
			out.RetryAfter = parseRetryAfter(v[0])
		}
		if v := hdr.Get("retry-after"); out.RetryAfter == 0 && len(v) > 0 {
			out.RetryAfter = parseRetryAfter(v[0])
		}
	}
	var get func(string) string
	if hdr != nil {
		get = func(name string) string {
			if v := hdr.Get(name); len(v) > 0 {
				return v[0]
			}
			if v := hdr.Get(strings.ToLower(name)); len(v) > 0 {
				return v[0]
			}
			return ""
		}
	}
	return withThrottle(classifyStatus(out, status, code, msg), status, get)
}

func classifyStatus(out *consent.DriverError, status int, code, msg string) error {
	detail := msg
	if detail == "" {
		detail = http.StatusText(status)
	}
	switch {
	case status == http.StatusTooManyRequests:
		out.Err = fmt.Errorf("%w%w", consent.ErrThrottled, errRetryable)
		if out.RetryAfter == 0 {
			out.RetryAfter = time.Second
		}
	case status == http.StatusServiceUnavailable || status == http.StatusGatewayTimeout:
		out.Err = fmt.Errorf("%w: HTTP %d %s%w", consent.ErrTransient, status, detail, errRetryable)
	case status == http.StatusForbidden:
		out.Err = fmt.Errorf("%w: %s", consent.ErrForbidden, detail)
	case status == http.StatusUnauthorized:
		out.Err = fmt.Errorf("%w: Graph refused the driver's token: %s: %w", consent.ErrTransient, detail, errUnauthorized)
	case status == http.StatusNotFound:
		out.Err = fmt.Errorf("%w: %s", consent.ErrNotFound, detail)
	case status >= 500 || status == http.StatusRequestTimeout || status == 0:
		out.Err = fmt.Errorf("%w: HTTP %d %s", consent.ErrTransient, status, detail)
	default:
		out.Err = fmt.Errorf("graph answered HTTP %d: %s", status, detail)
	}
	return out
}

// itemError maps a failed $batch item (status >= 400) from its raw body.
func itemError(op, tenant, appID string, status int, headers map[string]string, body map[string]any) error {
	out := &consent.DriverError{Op: op, TenantID: tenant, AppID: appID}
	for k, v := range headers {
		if strings.EqualFold(k, "Retry-After") {
			out.RetryAfter = parseRetryAfter(v)
		}
	}
	code, msg := "", ""
	if e, ok := body["error"].(map[string]any); ok {
		code, msg = rawString(e["code"]), rawString(e["message"])
	}
	out.Code = code
	return withThrottle(classifyStatus(out, status, code, msg), status, mapGetter(headers))
}

// claims decodes the payload of a JWT without verifying it: the token came from the authority
// over TLS and is only read for diagnostics (TokenProof), never trusted for authorization.
func claims(token string) (map[string]any, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, errors.New("the access token is not a JWT")
	}
	raw, err := decodeSegment(parts[1])
	if err != nil {
		return nil, fmt.Errorf("the access token payload is not base64url: %w", err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("the access token payload is not JSON: %w", err)
	}
	return m, nil
}

// rawString reads a string from a batch item body, which Kiota decodes with pointers
// (*string) rather than plain values.
func rawString(v any) string {
	switch s := v.(type) {
	case string:
		return s
	case *string:
		if s != nil {
			return *s
		}
	}
	return ""
}

func asDriverError(err error, de **consent.DriverError) bool { return errors.As(err, de) }
