package appprofile

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/tenantapps/tenantapps/store"
)

// VerifyAllOptions tunes one fleet verification.
type VerifyAllOptions struct {
	// Cursor resumes a previous run: pass the Cursor of its last Progress (or of the error result).
	Cursor string
	// PageSize is how many profiles are read from the store at a time (500 by default, at most
	// store.MaxLimit). Memory use is bounded by it, not by the fleet's size.
	PageSize int
	// Progress, when set, is called after every page with the totals so far. It is called from
	// the VerifyAll goroutine, never concurrently.
	Progress func(Progress)
}

// Progress is the running total of a fleet verification.
type Progress struct {
	// Done counts profiles handled; the other counts break it down.
	Done          int
	Checked       int
	CouldNotCheck int
	// Changed counts profiles whose status changed.
	Changed int
	// Superseded counts profiles edited concurrently; the concurrent edit won.
	Superseded int
	// Failed counts profiles that could not be handled at all (unreadable payload, store errors).
	Failed int
	// Cursor resumes after everything counted so far; "" when the run is complete.
	Cursor string
}

// FleetResult is the outcome of VerifyAll.
type FleetResult struct {
	Progress
	// Errors holds the first errors of failed profiles (at most 100), each naming its profile.
	Errors []error
}

const maxFleetErrors = 100

// VerifyAll verifies every profile that matches f, streaming pages from the store. Driver calls
// share the Manager's rate budget (one per app registration: WithRateLimit), at most
// WithTenantConcurrency calls run per tenant and WithWorkers overall, and a Retry-After pauses the
// tenant that was throttled. Throttled and transient failures are retried (WithMaxAttempts); a
// profile that still cannot be read keeps its status with outcome CouldNotCheck. Results are
// written back with optimistic concurrency: a concurrent edit wins (counted as Superseded).
//
// When ctx ends, VerifyAll returns the totals so far with a Cursor from which a later call
// resumes, and ctx's error. Profiles of a page that was interrupted are verified again on resume;
// verifying twice is harmless.
func (m *Manager) VerifyAll(ctx context.Context, f store.Filter, opts VerifyAllOptions) (FleetResult, error) {
	size := opts.PageSize
	if size <= 0 {
		size = 500
	}
	if size > store.MaxLimit {
		size = store.MaxLimit
	}
	var res FleetResult
	cursor := opts.Cursor
	res.Cursor = cursor
	for {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		recs, next, err := m.store.List(ctx, f, store.Page{Limit: size, Cursor: cursor})
		if err != nil {
			return res, fmt.Errorf("appprofile: VerifyAll: listing profiles (resume with cursor %q): %w", cursor, err)
		}
		m.verifyPage(ctx, recs, &res)
		if err := ctx.Err(); err != nil {
			// The page may be incomplete: resume from its start.
			return res, err
		}
		cursor = next
		res.Cursor = next
		if opts.Progress != nil {
			opts.Progress(res.Progress)
		}
		if next == "" {
			return res, nil
		}
	}
}

func (m *Manager) verifyPage(ctx context.Context, recs []store.Record, res *FleetResult) {
	byTenant := map[string][]store.Record{}
	var order []string
	for _, r := range recs {
		if _, ok := byTenant[r.Tenant]; !ok {
			order = append(order, r.Tenant)
		}
		byTenant[r.Tenant] = append(byTenant[r.Tenant], r)
	}
	var (
		mu      sync.Mutex
		wg      sync.WaitGroup
		workers = make(chan struct{}, m.o.workers)
	)
	record := func(r store.Record, vr VerifyResult, err error) {
		mu.Lock()
		defer mu.Unlock()
		res.Done++
		switch {
		case err != nil:
			res.Failed++
			if len(res.Errors) < maxFleetErrors {
				res.Errors = append(res.Errors, fmt.Errorf("profile %s (tenant %s): %w", r.ID, r.Tenant, err))
			}
		case vr.Superseded:
			res.Superseded++
		case vr.Outcome == CouldNotCheck:
			res.CouldNotCheck++
		default:
			res.Checked++
		}
		if err == nil && vr.Changed {
			res.Changed++
		}
	}
	for _, tenant := range order {
		queue := byTenant[tenant]
		lanes := min(m.o.tenantConc, len(queue))
		next := make(chan store.Record, len(queue))
		for _, r := range queue {
			next <- r
		}
		close(next)
		for range lanes {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for r := range next {
					select {
					case workers <- struct{}{}:
					case <-ctx.Done():
						return
					}
					vr, err := m.verifyRecord(ctx, r)
					<-workers
					if ctx.Err() != nil && (err != nil || vr.Outcome == CouldNotCheck) && errors.Is(errors.Join(err, vr.Err), ctx.Err()) {
						return // interrupted, not a result
					}
					record(r, vr, err)
				}
			}()
		}
	}
	wg.Wait()
}

func (m *Manager) verifyRecord(ctx context.Context, r store.Record) (VerifyResult, error) {
	p, err := fromRecord(r)
	if err != nil {
		return VerifyResult{}, err
	}
	return m.verifyProfile(ctx, p, m.o.maxAttempts)
}
