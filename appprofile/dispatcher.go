package appprofile

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/tenantapps/tenantapps/store"
)

// Delivery is one attempt to hand an Event to a dispatcher's handler.
type Delivery struct {
	Event Event
	// IdempotencyKey is Event.ID: the same on every redelivery of the event. A handler that has
	// already processed it returns nil again.
	IdempotencyKey string
	// Attempt counts the deliveries of this event, starting at 1.
	Attempt int
	// LastError is the error of the previous failed attempt ("" on the first).
	LastError string
}

// Handler receives events from a Dispatcher. Returning nil acknowledges the event: it is never
// delivered by this store again. Returning an error hands it back for a retry after a backoff;
// the profile's later events wait behind it, other profiles' events do not. A handler may be
// called concurrently for different profiles, never for two events of one profile.
type Handler func(ctx context.Context, d Delivery) error

// DispatcherOptions tunes a Dispatcher; the zero value is the defaults.
type DispatcherOptions struct {
	// Owner names this dispatcher in the store's leases; unique per dispatcher (a random name
	// by default).
	Owner string
	// Lease is how long a claimed event belongs to this dispatcher (1 minute by default): longer
	// than a delivery takes, or another dispatcher delivers it again.
	Lease time.Duration
	// Batch is how many events are claimed at once (100 by default, at most store.MaxLimit).
	Batch int
	// Concurrency is how many handler calls run at once (8 by default).
	Concurrency int
	// PollInterval is how long Run waits when there was nothing to deliver (1 second by
	// default).
	PollInterval time.Duration
	// Backoff returns how long to wait before delivering an event again after its attempt-th
	// delivery failed (by default 1 s doubling per attempt, at most 5 minutes).
	Backoff func(attempt int) time.Duration
	// Sleep waits d or until ctx ends (a timer by default); tests inject one.
	Sleep func(ctx context.Context, d time.Duration) error
	// Logger receives failed deliveries (quiet by default).
	Logger *slog.Logger
}

// DefaultBackoff is the default DispatcherOptions.Backoff: 1 s, 2 s, 4 s, ... at most 5 minutes.
func DefaultBackoff(attempt int) time.Duration {
	d := time.Second
	for i := 1; i < attempt && d < 5*time.Minute; i++ {
		d *= 2
	}
	return min(d, 5*time.Minute)
}

// Dispatcher delivers the events a Manager wrote to a store.OutboxStore's outbox to a Handler:
// at least once (an event is deleted only after the handler returned nil), in order per
// profile, each with its idempotency key. Several Dispatchers — in one process or in replicas
// sharing a PostgreSQL database — may run on one store: each claimed event is leased to one of
// them (FOR UPDATE SKIP LOCKED), so each event is delivered once between them as long as
// handlers return within the lease. The clock of the leases and backoffs is the store's.
// A Dispatcher is safe for concurrent use.
type Dispatcher struct {
	st      store.OutboxStore
	handler Handler
	o       DispatcherOptions
}

// ErrNoOutbox is returned by NewDispatcher for a store that does not implement
// store.OutboxStore.
var ErrNoOutbox = errors.New("appprofile: the store has no outbox (it does not implement store.OutboxStore)")

// NewDispatcher returns a Dispatcher of the events in st's outbox. It fails with ErrNoOutbox when
// st does not implement store.OutboxStore (use WithEventHook with such a store) and with a
// *RequestError without a handler.
func NewDispatcher(st store.Store, h Handler, o DispatcherOptions) (*Dispatcher, error) {
	os, ok := st.(store.OutboxStore)
	if !ok {
		return nil, ErrNoOutbox
	}
	if h == nil {
		return nil, &RequestError{Op: "new dispatcher", Problems: []string{"a handler is required"}}
	}
	if o.Owner == "" {
		var b [8]byte
		if _, err := rand.Read(b[:]); err != nil {
			return nil, fmt.Errorf("appprofile: naming the dispatcher: %w", err)
		}
		o.Owner = "dispatcher-" + hex.EncodeToString(b[:])
	}
	if err := store.ValidateOwner(o.Owner); err != nil {
		return nil, &RequestError{Op: "new dispatcher", Problems: []string{err.Error()}}
	}
	if o.Lease <= 0 {
		o.Lease = time.Minute
	}
	if o.Batch <= 0 {
		o.Batch = 100
	}
	o.Batch = min(o.Batch, store.MaxLimit)
	if o.Concurrency <= 0 {
		o.Concurrency = 8
	}
	if o.PollInterval <= 0 {
		o.PollInterval = time.Second
	}
	if o.Backoff == nil {
		o.Backoff = DefaultBackoff
	}
	if o.Sleep == nil {
		o.Sleep = sleepCtx
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Dispatcher{st: os, handler: h, o: o}, nil
}

// DispatchResult counts what one DispatchOnce did.
type DispatchResult struct {
	// Delivered events were acknowledged; Failed ones handed back for a retry; Lost ones were
	// delivered but their lease had run out (another dispatcher will deliver them again).
	Delivered, Failed, Lost int
}

// DispatchOnce claims one batch of due events — at most one per profile — and delivers them,
// Concurrency at a time, acknowledging each that its handler accepted and handing back each that
// failed with the Backoff of its attempt. It returns when the batch is done. Errors of the store
// are returned; handler errors are counted, logged and retried.
func (d *Dispatcher) DispatchOnce(ctx context.Context) (DispatchResult, error) {
	evs, err := d.st.ClaimEvents(ctx, d.o.Owner, d.o.Lease, d.o.Batch)
	if err != nil {
		return DispatchResult{}, fmt.Errorf("appprofile: dispatch: %w", err)
	}
	var (
		mu   sync.Mutex
		res  DispatchResult
		errs []error
		wg   sync.WaitGroup
		sem  = make(chan struct{}, d.o.Concurrency)
	)
	for _, e := range evs {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			outcome, err := d.deliver(ctx, e)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				errs = append(errs, err)
			case outcome == delivered:
				res.Delivered++
			case outcome == failed:
				res.Failed++
			case outcome == lost:
				res.Lost++
			}
		}()
	}
	wg.Wait()
	return res, errors.Join(errs...)
}

type outcome int

const (
	delivered outcome = iota
	failed
	lost
)

func (d *Dispatcher) deliver(ctx context.Context, e store.OutboxEvent) (outcome, error) {
	ev, herr := decodeEvent(e.Payload)
	if herr == nil {
		herr = d.call(ctx, Delivery{Event: ev, IdempotencyKey: e.ID, Attempt: e.Attempts, LastError: e.LastError})
	}
	var err error
	res := delivered
	if herr == nil {
		err = d.st.AckEvent(ctx, e.Seq, d.o.Owner)
	} else {
		res = failed
		d.o.Logger.Warn("event delivery failed; will retry", "event", e.ID, "attempt", e.Attempts, "err", herr)
		err = d.st.RetryEvent(ctx, e.Seq, d.o.Owner, max(d.o.Backoff(e.Attempts), 0), herr.Error())
	}
	if errors.Is(err, store.ErrLeaseLost) {
		d.o.Logger.Warn("event lease ran out during delivery; it will be delivered again", "event", e.ID)
		return lost, nil
	}
	if err != nil {
		return res, fmt.Errorf("appprofile: dispatch %s: %w", e.ID, err)
	}
	return res, nil
}

// call runs the handler, turning a panic into an error so one bad event cannot stop the others.
func (d *Dispatcher) call(ctx context.Context, dl Delivery) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("handler panicked: %v", r)
		}
	}()
	return d.handler(ctx, dl)
}

// Run dispatches until ctx ends, then returns ctx's error: it calls DispatchOnce again at once
// while there was work and waits PollInterval when there was none (or when the store failed,
// logging the error).
func (d *Dispatcher) Run(ctx context.Context) error {
	for {
		res, err := d.DispatchOnce(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			d.o.Logger.Warn("event dispatch failed", "err", err)
		}
		if err != nil || res.Delivered+res.Failed+res.Lost == 0 {
			if err := d.o.Sleep(ctx, d.o.PollInterval); err != nil {
				return err
			}
		}
	}
}
