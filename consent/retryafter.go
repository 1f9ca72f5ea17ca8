package consent

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// MaxRetryAfter is the longest wait this library honours from a Retry-After answer. A longer
// wait that is still plausible is clamped to it; the caller retries after MaxRetryAfter and,
// if the service still throttles, is told again.
//
// Why ten minutes: Microsoft Graph usually asks for seconds to tens of seconds; SharePoint-backed
// routes have been observed asking for up to about 300 s
// (https://learn.microsoft.com/en-us/answers/questions/648796/retry-after-header-upper-limit-or-range),
// and Graph's guidance is "wait the number of seconds specified in the Retry-After header"
// (https://learn.microsoft.com/en-us/graph/throttling). Ten minutes covers every value seen in
// practice while keeping one hostile or broken answer from pausing a tenant for hours.
const MaxRetryAfter = 10 * time.Minute

// retryAfterNonsense is the distance beyond which a Retry-After is not a wait but garbage (a
// year-9999 date, 1e9 seconds); it is treated as absent rather than clamped.
const retryAfterNonsense = 24 * time.Hour

// ParseRetryAfter reads an HTTP Retry-After header value (RFC 9110 §10.2.3: delay-seconds or an
// HTTP-date; decimals are accepted because Graph sends them) relative to now. It returns zero,
// meaning "absent", for an empty or unreadable value, zero, negative, NaN or infinite seconds,
// a date in the past, and anything more than 24 hours away. A plausible wait longer than
// MaxRetryAfter is clamped to MaxRetryAfter. The result is therefore always in
// [0, MaxRetryAfter].
func ParseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		if math.IsNaN(f) || math.IsInf(f, 0) || f <= 0 || f > retryAfterNonsense.Seconds() {
			return 0
		}
		return ClampRetryAfter(time.Duration(f * float64(time.Second)))
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0
	}
	if t.Sub(now) > retryAfterNonsense { // before subtracting: Sub saturates, but say it plainly
		return 0
	}
	return ClampRetryAfter(t.Sub(now))
}

// ClampRetryAfter returns d bounded to [0, MaxRetryAfter]: a negative wait is absent (zero) and
// a longer one is MaxRetryAfter. Drivers that fill DriverError.RetryAfter from their own source
// may use it; RetryAfter applies it to whatever a driver reported.
func ClampRetryAfter(d time.Duration) time.Duration {
	switch {
	case d <= 0:
		return 0
	case d > MaxRetryAfter:
		return MaxRetryAfter
	}
	return d
}
