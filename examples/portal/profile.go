package main

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/tenantapps/tenantapps/appprofile"
	"github.com/tenantapps/tenantapps/store"
)

// ---- one profile: details, accepted deviations and history ----

type profileData struct {
	Profile appprofile.Profile
	// History is the profile's history, newest first; NoHistory is set when the store keeps none.
	History   []appprofile.HistoryEntry
	NoHistory bool
}

// profile shows one profile with its reasons, the deviations accepted on it and the history of
// what its checks saw change (the newest 200 entries).
func (p *Portal) profile(w http.ResponseWriter, r *http.Request) {
	prof, err := p.mgr.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		p.consentError(w, r, err)
		return
	}
	d := profileData{Profile: prof}
	q := appprofile.HistoryQuery{ProfileID: prof.ID, Limit: 1000}
	for {
		page, err := p.mgr.History(r.Context(), q)
		if errors.Is(err, appprofile.ErrNoHistory) {
			d.NoHistory = true
			break
		}
		if err != nil {
			p.fail(w, r, http.StatusInternalServerError, err.Error())
			return
		}
		d.History = append(d.History, page...)
		if len(d.History) > 200 {
			d.History = d.History[len(d.History)-200:]
		}
		if len(page) < q.Limit {
			break
		}
		q.AfterSeq = page[len(page)-1].Seq
	}
	slices.Reverse(d.History)
	p.render(w, r, http.StatusOK, "profile.html", prof.Name, d)
}

// accept accepts one of the profile's reasons as a known deviation (AcceptDeviation): why and
// for how many days come from the form; who is the signed-in operator (the form's name only in the
// open loopback demo, where nobody signs in). What the Manager refuses (an Invalid state of the
// product rules, a reason the profile does not have) is shown with its explanation.
func (p *Portal) accept(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	days, err := strconv.Atoi(formValue(r, "days"))
	if err != nil || days < 1 {
		p.fail(w, r, http.StatusUnprocessableEntity, "Give the number of days the acceptance lasts (1 to 366).")
		return
	}
	by := formValue(r, "by")
	if op, ok := r.Context().Value(operatorKey{}).(operator); ok {
		by = cmp.Or(op.UPN, op.ID, by)
	}
	_, err = p.mgr.AcceptDeviation(r.Context(), id, appprofile.AcceptRequest{Code: appprofile.ReasonCode(formValue(r, "code")),
		By: by, Why: formValue(r, "why"), Expires: time.Now().Add(time.Duration(days) * 24 * time.Hour)})
	var refused *appprofile.DeviationRefusedError
	switch {
	case errors.As(err, &refused):
		p.fail(w, r, http.StatusUnprocessableEntity, "Not accepted: "+refused.Problem+".")
	case errors.Is(err, appprofile.ErrInvalidRequest):
		p.fail(w, r, http.StatusUnprocessableEntity, err.Error())
	case err != nil:
		p.consentError(w, r, err)
	default:
		http.Redirect(w, r, "/profiles/"+id+"?flash=accepted", http.StatusSeeOther)
	}
}

// withdraw ends one of the profile's acceptances before it expires (WithdrawAcceptance): why
// comes from the form; who is the signed-in operator (the form's name only in the open loopback
// demo). The deviation drives the status again at once, and the history says who withdrew it.
func (p *Portal) withdraw(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	by := formValue(r, "by")
	if op, ok := r.Context().Value(operatorKey{}).(operator); ok {
		by = cmp.Or(op.UPN, op.ID, by)
	}
	_, err := p.mgr.WithdrawAcceptance(r.Context(), id, appprofile.WithdrawRequest{AcceptanceID: formValue(r, "acceptance"), By: by, Why: formValue(r, "why")})
	switch {
	case errors.Is(err, appprofile.ErrInvalidRequest):
		p.fail(w, r, http.StatusUnprocessableEntity, err.Error())
	case err != nil:
		p.consentError(w, r, err)
	default:
		http.Redirect(w, r, "/profiles/"+id+"?flash=withdrawn", http.StatusSeeOther)
	}
}

// startDispatcher delivers the status events the Manager writes to st's outbox — here to the
// log; a real portal would notify the MSP's technicians or open a ticket, keyed by the event's
// idempotency key so a redelivery after a crash does not notify twice. stop ends it and waits.
func startDispatcher(st store.Store, logger *slog.Logger) (stop func(), err error) {
	d, err := appprofile.NewDispatcher(st, func(_ context.Context, dl appprofile.Delivery) error {
		ev := dl.Event
		logger.Info("app profile event", "key", dl.IdempotencyKey, "kind", ev.Kind, "profile", ev.ProfileID, "tenant", ev.Tenant,
			"appType", ev.AppType, "old", ev.Old, "new", ev.New, "attempt", dl.Attempt)
		return nil
	}, appprofile.DispatcherOptions{Logger: logger})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		d.Run(ctx)
	}()
	return func() { cancel(); <-done }, nil
}
