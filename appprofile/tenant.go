package appprofile

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/tenantapps/tenantapps/consent"
	"github.com/tenantapps/tenantapps/store"
)

// VerifyTenantOptions tunes VerifyTenant.
type VerifyTenantOptions struct {
	// Priority is sent to Graph as x-ms-throttle-priority with every read: consent.PriorityLow
	// (the default) for background sweeps, consent.PriorityHigh for a check a user waits for.
	Priority consent.Priority
	// DeferThrottled leaves the profiles whose check was throttled untouched in the store
	// (status and LastCheck kept) and counts them in TenantResult.Deferred, with the wait Graph
	// asked for in RetryAfter: a job queue then comes back later instead of recording
	// CouldNotCheck. Without it a throttled profile is recorded CouldNotCheck, as in VerifyAll.
	DeferThrottled bool
	// MaxAttempts is how often a profile whose check failed with a retryable error is tried
	// (WithMaxAttempts by default).
	MaxAttempts int
	// PageSize is how many of the tenant's profiles are read from the store at a time (500 by
	// default, at most store.MaxLimit).
	PageSize int
	// OnThrottle, when set, receives the throttling signals of the tenant's driver calls: 429s
	// (with scope and Retry-After when the driver reads them) and the resource units and limit
	// percentage of the other answers. It must be fast and safe for concurrent use.
	OnThrottle consent.ThrottleObserver
	// ReleaseTenant, when the driver implements consent.TenantReleaser, lets the driver drop
	// what it keeps for the tenant (its token client, resource lookups) once the tenant is done:
	// for sweeps, which will not read the tenant again this period, so that a process sweeping a
	// large fleet holds per-tenant state only for the tenants in flight. Leave it off for a check
	// a user asked for, who may well check again.
	ReleaseTenant bool
}

// TenantResult is the outcome of VerifyTenant. Progress.Cursor is always empty.
type TenantResult struct {
	Progress
	Tenant string
	// Deferred counts profiles left untouched because their check was throttled
	// (DeferThrottled); they count in Done too.
	Deferred int
	// RetryAfter is the longest wait Graph asked for among the deferred profiles.
	RetryAfter time.Duration
	// AppThrottled reports that a deferred profile was throttled with Application scope: the
	// whole app, not just this tenant, should wait RetryAfter.
	AppThrottled bool
	// Errors holds the first errors of failed profiles (at most 100), each naming its profile.
	Errors []error
}

// errDeferred is verifyProfile's answer for a throttled check under DeferThrottled: nothing was
// written.
var errDeferred = errors.New("appprofile: check deferred by a throttle")

type deferThrottledKey struct{}

func deferThrottled(ctx context.Context) bool {
	b, _ := ctx.Value(deferThrottledKey{}).(bool)
	return b
}

func throttledFailure(fs []Failure) bool {
	for _, f := range fs {
		if errors.Is(f.Err, consent.ErrThrottled) {
			return true
		}
	}
	return false
}

// VerifyTenant verifies every profile of tenant, streaming them from the store: the per-tenant
// step that VerifyAll runs for each tenant of a page, made available to job queues that run one
// job per tenant (appprofile/fleetriver). A tenant's profiles are read with one driver call per
// six apps when the driver implements consent.AppStatesReader; calls share the Manager's budget
// and its Retry-After pauses. Results are written back with optimistic concurrency: a
// concurrent edit wins (Superseded), so running VerifyTenant twice, or on two replicas at once, is
// harmless.
//
// The error is non-nil only when the store could not be listed or ctx ended; per-profile failures
// are counted in the result. Safe for concurrent use.
func (m *Manager) VerifyTenant(ctx context.Context, tenant string, opts VerifyTenantOptions) (TenantResult, error) {
	res := TenantResult{Tenant: tenant}
	if tenant == "" {
		return res, &RequestError{Op: "VerifyTenant", Problems: []string{"a tenant ID is required"}}
	}
	tenant, err := NormalizeTenantID(tenant)
	if err != nil {
		return res, err
	}
	res.Tenant = tenant
	size := opts.PageSize
	if size <= 0 {
		size = 500
	}
	size = min(size, store.MaxLimit)
	prio := opts.Priority
	if prio == "" {
		prio = consent.PriorityLow
	}
	ctx = consent.WithPriority(ctx, prio)
	ctx = withThrottleListener(ctx, opts.OnThrottle)
	if opts.DeferThrottled {
		ctx = context.WithValue(ctx, deferThrottledKey{}, true)
	}
	attempts := opts.MaxAttempts
	if attempts <= 0 {
		attempts = m.o.maxAttempts
	}
	if rel, ok := m.driver.(consent.TenantReleaser); ok && opts.ReleaseTenant {
		defer rel.ReleaseTenant(tenant)
	}
	var mu sync.Mutex
	cursor := ""
	for {
		recs, next, err := m.store.List(ctx, store.Filter{Tenant: tenant}, store.Page{Limit: size, Cursor: cursor})
		if err != nil {
			return res, fmt.Errorf("appprofile: VerifyTenant %s: listing profiles: %w", tenant, err)
		}
		m.verifyTenantN(ctx, recs, attempts, func(rec store.Record, vr VerifyResult, err error) {
			mu.Lock()
			defer mu.Unlock()
			if errors.Is(err, errDeferred) {
				res.Done++
				res.Deferred++
				d, _ := consent.RetryAfter(vr.Err)
				res.RetryAfter = max(res.RetryAfter, d)
				if t, ok := consent.ThrottleOf(vr.Err); ok && t.Scope.PausesApp() {
					res.AppThrottled = true
				}
				return
			}
			res.Progress.count(rec, vr, err, &res.Errors)
		})
		if err := ctx.Err(); err != nil {
			return res, context.Cause(ctx)
		}
		if next == "" {
			return res, nil
		}
		cursor = next
	}
}

// count adds one profile's outcome to p (and its error, if any, to errs, at most maxFleetErrors).
func (p *Progress) count(rec store.Record, vr VerifyResult, err error, errs *[]error) {
	p.Done++
	switch {
	case err != nil:
		p.Failed++
		if len(*errs) < maxFleetErrors {
			*errs = append(*errs, fmt.Errorf("profile %s (tenant %s): %w", rec.ID, rec.Tenant, err))
		}
	case vr.Superseded:
		p.Superseded++
	case vr.Outcome == CouldNotCheck:
		p.CouldNotCheck++
	default:
		p.Checked++
	}
	if err == nil && vr.Changed {
		p.Changed++
	}
}
