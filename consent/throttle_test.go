package consent_test

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantapps/tenantapps/consent"
)

func TestParseThrottleHeaders(t *testing.T) {
	for _, tc := range []struct {
		name    string
		headers map[string]string
		want    consent.Throttle
		ok      bool
	}{
		{"none", nil, consent.Throttle{}, false},
		{"resource unit", map[string]string{"x-ms-resource-unit": "2"}, consent.Throttle{ResourceUnits: 2}, true},
		{"percentage", map[string]string{"x-ms-throttle-limit-percentage": "0.85"}, consent.Throttle{LimitPercentage: 0.85}, true},
		{"application scope", map[string]string{"x-ms-throttle-scope": "Application/Read/aaaa/bbbb", "x-ms-throttle-information": "ResourceUnitLimitExceeded"},
			consent.Throttle{Scope: consent.ScopeApplication, Limit: "Read", Information: "ResourceUnitLimitExceeded"}, true},
		{"tenant application scope", map[string]string{"X-Ms-Throttle-Scope": "Tenant_Application/ReadWrite/a/b"}, consent.Throttle{Scope: consent.ScopeTenantApplication, Limit: "ReadWrite"}, true},
		{"unknown scope and junk ignored", map[string]string{"x-ms-throttle-scope": "Galaxy/Read", "x-ms-resource-unit": "-4"}, consent.Throttle{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tc.headers {
				h.Set(k, v)
			}
			got, ok := consent.ParseThrottleHeaders(h.Get)
			if ok != tc.ok {
				t.Errorf("ok = %v, want %v", ok, tc.ok)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestThrottleOf(t *testing.T) {
	err := &consent.DriverError{Op: "AppState", RetryAfter: 5 * time.Second, Err: &consent.ThrottleError{Throttle: consent.Throttle{Scope: consent.ScopeTenant}}}
	if !errors.Is(err, consent.ErrThrottled) {
		t.Error("a ThrottleError is not ErrThrottled")
	}
	got, ok := consent.ThrottleOf(err)
	if diff := cmp.Diff(consent.Throttle{Scope: consent.ScopeTenant, RetryAfter: 5 * time.Second}, got); !ok || diff != "" {
		t.Errorf("ThrottleOf = %v (-want +got):\n%s", ok, diff)
	}
	if _, ok := consent.ThrottleOf(&consent.DriverError{Err: consent.ErrThrottled}); ok {
		t.Error("ThrottleOf found details in a plain ErrThrottled")
	}
}

// FuzzParseThrottleHeaders: any header values parse without panicking into a valid scope (or
// none), a positive RU count and a percentage in (0, 100).
func FuzzParseThrottleHeaders(f *testing.F) {
	f.Add("2", "0.85", "Tenant_Application/Read/a/b", "ResourceUnitLimitExceeded")
	f.Add("", "", "Application", "")
	f.Add("-1", "NaN", "/", "x")
	f.Fuzz(func(t *testing.T, ru, pct, scope, info string) {
		h := map[string]string{"x-ms-resource-unit": ru, "x-ms-throttle-limit-percentage": pct, "x-ms-throttle-scope": scope, "x-ms-throttle-information": info}
		got, _ := consent.ParseThrottleHeaders(func(k string) string { return h[k] })
		switch got.Scope {
		case "", consent.ScopeApplication, consent.ScopeTenant, consent.ScopeTenantApplication:
		default:
			t.Errorf("scope %q", got.Scope)
		}
		if got.ResourceUnits < 0 || (got.LimitPercentage != 0 && !(got.LimitPercentage > 0 && got.LimitPercentage < 100)) {
			t.Errorf("parsed %+v", got)
		}
	})
}

func TestTenantReadBudget(t *testing.T) {
	for _, tc := range []struct{ users, want int }{{-1, 3500}, {0, 3500}, {49, 3500}, {50, 5000}, {500, 5000}, {501, 8000}} {
		if got := consent.TenantReadBudget(tc.users); got != tc.want {
			t.Errorf("TenantReadBudget(%d) = %d, want %d", tc.users, got, tc.want)
		}
	}
}
