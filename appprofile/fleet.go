package appprofile

import (
	"context"
	"fmt"
	"sync"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/tenantapps/tenantapps/consent"
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

// VerifyAll verifies every profile that matches f, streaming pages from the store. A page's
// profiles are handled tenant by tenant: when the driver implements consent.AppStatesReader, one
// call reads the app states of all of a tenant's profiles in the page (with consent/graph, one
// $batch per six profiles) — Manager-made profile IDs sort a tenant's profiles together, see
// Profile.ID. Driver calls share the Manager's rate budget (one per app registration:
// WithRateLimit; a read of n profiles costs n), WithWorkers tenants are worked on at once with at
// most WithTenantConcurrency calls each, and a Retry-After pauses the tenant that was throttled.
// Throttled and transient failures are retried (WithMaxAttempts); a profile that still cannot be
// read keeps its status with outcome CouldNotCheck. Results are written back with optimistic
// concurrency: after a concurrent edit the result is applied again to the edited profile, unless
// the edit changed what was checked (app, tenant, custom app, consent): then the edit wins
// (counted as Superseded).
//
// Pages are read ahead (at most two at a time) so that workers never wait for a page's slowest
// profile. When ctx ends, VerifyAll returns the totals so far with a Cursor from which a later
// call resumes, and ctx's error. Profiles of a page that was interrupted are verified again on
// resume; verifying twice is harmless. f is normalised as List normalises it.
func (m *Manager) VerifyAll(ctx context.Context, f store.Filter, opts VerifyAllOptions) (FleetResult, error) {
	f, err := m.normalizeFilter(f)
	if err != nil {
		return FleetResult{}, err
	}
	size := opts.PageSize
	if size <= 0 {
		size = 500
	}
	if size > store.MaxLimit {
		size = store.MaxLimit
	}
	ctx, span := m.tel.tracer.Start(ctx, "tenantapps.sweep")
	defer span.End()
	ctx, cancel := context.WithCancel(consent.WithPriority(ctx, consent.PriorityLow))
	defer cancel()
	r := &fleetRun{m: m, ctx: ctx, progress: opts.Progress, tenants: map[string]*tenantQueue{}, statuses: map[Status]int64{}}
	defer r.recordStatuses(ctx)
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
		for _, group := range byTenant(recs) {
			select {
			case jobs <- fleetJob{recs: group, page: pg}:
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

// fleetJob is one tenant's profiles of one page.
type fleetJob struct {
	recs []store.Record
	page *fleetPage
}

// byTenant splits a page into its tenants' records, in order of first appearance.
func byTenant(recs []store.Record) [][]store.Record {
	idx := map[string]int{}
	var groups [][]store.Record
	for _, rec := range recs {
		i, ok := idx[rec.Tenant]
		if !ok {
			i = len(groups)
			idx[rec.Tenant] = i
			groups = append(groups, nil)
		}
		groups[i] = append(groups[i], rec)
	}
	return groups
}

type fleetPage struct {
	remaining int
	next      string
	slot      chan struct{}
}

type tenantQueue struct {
	waiting []fleetJob // jobs of the tenant behind the running one
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
	statuses map[Status]int64 // profiles by status after their check (telemetry)

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

// handle runs a job now unless another job of its tenant is running (a tenant's profiles split
// over two pages), in which case it is queued; the worker running a tenant drains its queue, so
// a tenant never has more than WithTenantConcurrency calls in flight.
func (r *fleetRun) handle(j fleetJob) {
	t := j.recs[0].Tenant
	r.mu.Lock()
	if q, running := r.tenants[t]; running {
		q.waiting = append(q.waiting, j)
		r.mu.Unlock()
		return
	}
	q := &tenantQueue{}
	r.tenants[t] = q
	r.mu.Unlock()
	for {
		r.run(j)
		r.mu.Lock()
		if len(q.waiting) == 0 {
			delete(r.tenants, t)
			r.mu.Unlock()
			return
		}
		j = q.waiting[0]
		q.waiting = q.waiting[1:]
		r.mu.Unlock()
	}
}

func (r *fleetRun) run(j fleetJob) {
	if r.ctx.Err() != nil {
		return // interrupted: the page stays incomplete and is verified again on resume
	}
	r.m.verifyTenantN(r.ctx, j.recs, r.m.o.maxAttempts, func(rec store.Record, vr VerifyResult, err error) {
		if r.ctx.Err() != nil && (err != nil || vr.Outcome == CouldNotCheck) {
			return // interrupted, not a result
		}
		r.mu.Lock()
		r.res.Progress.count(rec, vr, err, &r.res.Errors)
		if err == nil {
			r.statuses[vr.Profile.Status]++
		}
		j.page.remaining--
		r.mu.Unlock()
	})
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

// verifyTenantN is the per-tenant verification step shared by VerifyAll and VerifyTenant: it
// verifies recs, all of one tenant, trying each profile at most attempts times, and calls done
// once per record (from several goroutines: at most WithTenantConcurrency at once). With a
// consent.AppStatesReader driver the consented profiles' app states are read with one call first.
func (m *Manager) verifyTenantN(ctx context.Context, recs []store.Record, attempts int, done func(store.Record, VerifyResult, error)) {
	if len(recs) == 0 {
		return
	}
	ctx, span := m.tenantSpan(ctx, recs[0].Tenant, len(recs))
	defer span.End()
	profiles := make([]Profile, len(recs))
	errs := make([]error, len(recs))
	var apps []string
	var need []int // indexes of the profiles whose app state is read
	for i, rec := range recs {
		if profiles[i], errs[i] = fromRecord(rec); errs[i] == nil && profiles[i].Consent != nil {
			apps = append(apps, profiles[i].AppID)
			need = append(need, i)
		}
	}
	pre := make([]*consent.AppStateResult, len(recs))
	if sr, ok := m.driver.(consent.AppStatesReader); ok && len(apps) > 1 {
		var states []consent.AppStateResult
		err := m.callN(ctx, recs[0].Tenant, len(apps), func(ctx context.Context) error {
			var err error
			states, err = sr.AppStates(ctx, recs[0].Tenant, apps)
			return err
		})
		for k, i := range need {
			switch {
			case err != nil:
				pre[i] = &consent.AppStateResult{Err: err}
			case k < len(states):
				pre[i] = &states[k]
				// A throttled item pauses the tenant (or, for an Application-scope throttle,
				// the app) as a throttled call does (callN did that for the call as a whole).
				m.throttled(ctx, recs[0].Tenant, states[k].Err)
			}
		}
	}
	sem := make(chan struct{}, max(m.o.tenantConc, 1))
	var wg sync.WaitGroup
	for i, rec := range recs {
		if errs[i] != nil {
			done(rec, VerifyResult{}, errs[i])
			continue
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			vr, err := m.verifyProfile(ctx, profiles[i], attempts, pre[i])
			m.recordVerification(ctx, vr, err, profiles[i].LastCheck)
			done(rec, vr, err)
		}()
	}
	wg.Wait()
}

// recordStatuses reports the profiles verified by the run, by status (tenantapps.profiles).
func (r *fleetRun) recordStatuses(ctx context.Context) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for st, n := range r.statuses {
		r.m.tel.profiles.Record(ctx, n, metric.WithAttributes(attribute.String("status", string(st))))
	}
}
