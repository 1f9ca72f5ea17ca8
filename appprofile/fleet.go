package appprofile

import (
	"context"
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
	// Progress, when set, is called each time a page is completely handled, in page order, with
	// the totals so far. It is never called concurrently.
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
	// Cursor resumes after the last page whose profiles were all handled ("" when the run is
	// complete); profiles of later pages that were already handled are verified again on resume.
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
// Pages are read ahead (at most two at a time) so that workers never wait for a page's slowest
// profile. When ctx ends, VerifyAll returns the totals so far with a Cursor from which a later
// call resumes, and ctx's error. Profiles of a page that was interrupted are verified again on
// resume; verifying twice is harmless.
func (m *Manager) VerifyAll(ctx context.Context, f store.Filter, opts VerifyAllOptions) (FleetResult, error) {
	size := opts.PageSize
	if size <= 0 {
		size = 500
	}
	if size > store.MaxLimit {
		size = store.MaxLimit
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	r := &fleetRun{m: m, ctx: ctx, progress: opts.Progress, tenants: map[string]*tenantQueue{}}
	r.res.Cursor = opts.Cursor

	jobs := make(chan fleetJob)
	var workers sync.WaitGroup
	for range m.o.workers {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for j := range jobs {
				r.handle(j)
			}
		}()
	}
	// At most pagesInFlight pages are held at once: memory is bounded by the page size.
	const pagesInFlight = 2
	slots := make(chan struct{}, pagesInFlight)
	var listErr error
	cursor := opts.Cursor
	for {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		recs, next, err := m.store.List(ctx, f, store.Page{Limit: size, Cursor: cursor})
		if err != nil {
			if ctx.Err() == nil {
				listErr = fmt.Errorf("appprofile: VerifyAll: listing profiles (resume with the result's cursor): %w", err)
			}
			break
		}
		pg := r.addPage(len(recs), next, slots)
		for _, rec := range recs {
			select {
			case jobs <- fleetJob{rec: rec, page: pg}:
			case <-ctx.Done():
			}
		}
		if next == "" {
			break
		}
		cursor = next
	}
	close(jobs)
	workers.Wait()
	r.mu.Lock()
	defer r.mu.Unlock()
	if listErr != nil {
		return r.res, listErr
	}
	if err := ctx.Err(); err != nil && !r.finished {
		return r.res, context.Cause(ctx)
	}
	if !r.finished {
		// Cannot happen: every listed profile is handled before the workers stop.
		return r.res, fmt.Errorf("appprofile: VerifyAll stopped before the last page was complete; resume with the result's cursor")
	}
	return r.res, nil
}

type fleetJob struct {
	rec  store.Record
	page *fleetPage
}

type fleetPage struct {
	remaining int
	next      string
	slot      chan struct{}
}

type tenantQueue struct {
	running int
	done    int
	waiting []fleetJob
}

// fleetRun is the shared state of one VerifyAll.
type fleetRun struct {
	m        *Manager
	ctx      context.Context
	progress func(Progress)

	mu       sync.Mutex
	res      FleetResult
	pages    []*fleetPage // pages not yet complete, in order
	tenants  map[string]*tenantQueue
	finished bool

	progressMu sync.Mutex
}

func (r *fleetRun) addPage(n int, next string, slot chan struct{}) *fleetPage {
	pg := &fleetPage{remaining: n, next: next, slot: slot}
	r.mu.Lock()
	r.pages = append(r.pages, pg)
	r.mu.Unlock()
	if n == 0 {
		r.complete(nil)
	}
	return pg
}

// handle runs a job now if its tenant has a free slot, otherwise queues it behind the tenant's
// running jobs; the worker that holds a tenant slot drains that tenant's queue.
func (r *fleetRun) handle(j fleetJob) {
	t := j.rec.Tenant
	r.mu.Lock()
	q := r.tenants[t]
	if q == nil {
		q = &tenantQueue{}
		r.tenants[t] = q
	}
	// A tenant's first check runs alone: it pays for the tenant's token and the driver's
	// per-tenant lookups once, instead of once per concurrent call.
	limit := r.m.o.tenantConc
	if q.done == 0 {
		limit = 1
	}
	if q.running >= limit {
		q.waiting = append(q.waiting, j)
		r.mu.Unlock()
		return
	}
	q.running++
	r.mu.Unlock()
	for {
		r.run(j)
		r.mu.Lock()
		q.done++
		if len(q.waiting) > 0 {
			j = q.waiting[0]
			q.waiting = q.waiting[1:]
			r.mu.Unlock()
			continue
		}
		q.running--
		if q.running == 0 {
			delete(r.tenants, t)
		}
		r.mu.Unlock()
		return
	}
}

func (r *fleetRun) run(j fleetJob) {
	if r.ctx.Err() != nil {
		return // interrupted: the page stays incomplete and is verified again on resume
	}
	vr, err := r.m.verifyRecord(r.ctx, j.rec)
	if r.ctx.Err() != nil && (err != nil || vr.Outcome == CouldNotCheck) {
		return // interrupted, not a result
	}
	r.mu.Lock()
	res := &r.res
	res.Done++
	switch {
	case err != nil:
		res.Failed++
		if len(res.Errors) < maxFleetErrors {
			res.Errors = append(res.Errors, fmt.Errorf("profile %s (tenant %s): %w", j.rec.ID, j.rec.Tenant, err))
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
	j.page.remaining--
	r.mu.Unlock()
	r.complete(j.page)
}

// complete advances the resumable cursor over every leading page that is done and reports
// progress once per page, in order.
func (r *fleetRun) complete(*fleetPage) {
	r.progressMu.Lock()
	defer r.progressMu.Unlock()
	for {
		r.mu.Lock()
		if len(r.pages) == 0 || r.pages[0].remaining > 0 {
			r.mu.Unlock()
			return
		}
		pg := r.pages[0]
		r.pages = r.pages[1:]
		r.res.Cursor = pg.next
		if pg.next == "" {
			r.finished = true
		}
		snapshot := r.res.Progress
		r.mu.Unlock()
		<-pg.slot
		if r.progress != nil {
			r.progress(snapshot)
		}
	}
}

func (m *Manager) verifyRecord(ctx context.Context, r store.Record) (VerifyResult, error) {
	p, err := fromRecord(r)
	if err != nil {
		return VerifyResult{}, err
	}
	return m.verifyProfile(ctx, p, m.o.maxAttempts)
}
