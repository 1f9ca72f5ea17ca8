package appprofile

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tenantapps/tenantapps/roles"
)

// AcceptedDeviation is an operator's acceptance of one reason instance: this exact extra grant,
// this late role, this expiring certificate. While the tenant shows exactly the accepted fact and
// the acceptance has not expired, the reason is kept on the profile with Reason.Accepted set and
// does not drive the status. When the fact changes (a second extra grant, another role gone, a
// different certificate) or Expires passes, the acceptance ends, the reason drives the status
// again, and an Event (and a history entry) says so.
type AcceptedDeviation struct {
	// ID identifies the acceptance within its profile.
	ID string `json:"id"`
	// Code is the accepted reason's code.
	Code ReasonCode `json:"code"`
	// Fact is the accepted fact: the permissions, roles or certificate the reason named, in a
	// canonical form. A reason with another fact is not covered.
	Fact string `json:"fact"`
	// Message is the accepted reason's message, for people.
	Message string `json:"message"`
	// By and Why say who accepted it and why; At is when.
	By  string    `json:"by"`
	Why string    `json:"why"`
	At  time.Time `json:"at"`
	// Expires ends the acceptance.
	Expires time.Time `json:"expires"`
}

func (a AcceptedDeviation) clone() AcceptedDeviation { return a }

// ReraisedDeviation is an acceptance that ended while the deviation is still there: its fact
// changed, it expired, or an operator withdrew it (Manager.WithdrawAcceptance).
type ReraisedDeviation struct {
	Acceptance AcceptedDeviation `json:"acceptance"`
	// Why is "expired", "changed" or "withdrawn".
	Why string `json:"why"`
	// By and Note say who withdrew the acceptance and why (Why "withdrawn" only).
	By   string `json:"by,omitempty"`
	Note string `json:"note,omitempty"`
	// Now is the reason as the tenant shows it now.
	Now Reason `json:"now"`
}

// AcceptRequest asks Manager.AcceptDeviation to accept one of a profile's current reasons.
type AcceptRequest struct {
	// Code is the reason to accept; the profile must have it now.
	Code ReasonCode
	// By (who accepts) and Why are required and kept in the profile and its history.
	By, Why string
	// Expires ends the acceptance: after the current time, at most MaxAcceptance ahead.
	Expires time.Time
}

// MaxAcceptance is how far ahead an acceptance may expire: deviations are looked at again at
// least yearly.
const MaxAcceptance = 366 * 24 * time.Hour

// ErrDeviationRefused is wrapped by *DeviationRefusedError.
var ErrDeviationRefused = errors.New("appprofile: deviation cannot be accepted")

// DeviationRefusedError reports a reason that may not be accepted, because accepting it would
// hide an Invalid (or Expired, or Pending) state the product rules define, or because the
// profile does not have it.
type DeviationRefusedError struct {
	ProfileID string
	Code      ReasonCode
	Problem   string
}

func (e *DeviationRefusedError) Error() string {
	return fmt.Sprintf("appprofile: profile %s: reason %s cannot be accepted: %s", e.ProfileID, e.Code, e.Problem)
}

// Unwrap returns ErrDeviationRefused.
func (e *DeviationRefusedError) Unwrap() error { return ErrDeviationRefused }

// acceptable lists the reasons that are deviations an operator may accept, and why; every other
// code is refused. Only warnings qualify — plus a directory role that is assigned automatically
// within 24 hours and is late (seed 000: "the required roles will be automatically assigned ...
// within 24 hours after authorization"), which the engine reports as missing once the grace
// period is over. Refused, because the seeds make the profile Invalid: a missing required grant,
// a deleted service principal, a consent user whose password was reset, who was deleted or
// disabled, or whose account is otherwise unavailable (seed 003: "the app profile will be
// Invalid and need to be re-authorized"), a Conditional Access block (seed 003: "the apps with
// delegated permissions will be Invalid").
var acceptable = map[ReasonCode]bool{
	ReasonGrantExtra:          true,
	ReasonRolePending:         true,
	ReasonCertificateExpiring: true,
	ReasonCertificateChanged:  true,
	ReasonRoleMissing:         true, // only automatic roles: see AcceptDeviation
}

// fact is the canonical form of what a reason names, which an acceptance must match exactly.
func fact(r Reason) string {
	perms := slices.Clone(r.Permissions)
	slices.Sort(perms)
	rs := slices.Clone(r.Roles)
	slices.Sort(rs)
	var b strings.Builder
	if len(perms) > 0 {
		b.WriteString("permissions: " + strings.Join(perms, "; "))
	}
	if len(rs) > 0 {
		if b.Len() > 0 {
			b.WriteString(" | ")
		}
		b.WriteString("roles: " + strings.Join(rs, "; "))
	}
	if r.Thumbprint != "" {
		if b.Len() > 0 {
			b.WriteString(" | ")
		}
		b.WriteString("certificate: " + strings.ToUpper(r.Thumbprint))
	}
	if r.IP != "" {
		if b.Len() > 0 {
			b.WriteString(" | ")
		}
		b.WriteString("ip: " + r.IP)
	}
	return b.String()
}

// applyAcceptances marks the reasons that an active acceptance covers exactly. It returns the
// acceptances that still hold; the others ended (see endedAcceptances).
func applyAcceptances(accepted []AcceptedDeviation, rs []Reason, now time.Time) (active []AcceptedDeviation) {
	for i := range rs {
		rs[i].Accepted = nil
	}
	for _, a := range accepted {
		if !now.Before(a.Expires) {
			continue
		}
		for i := range rs {
			if rs[i].Accepted == nil && rs[i].Code == a.Code && fact(rs[i]) == a.Fact {
				ac := a.clone()
				rs[i].Accepted = &ac
				active = append(active, a)
				break
			}
		}
	}
	return active
}

// setAcceptances makes accepted the profile's acceptances, marks the reasons they cover and
// derives the status again (a profile never consented stays Pending).
func (p *Profile) setAcceptances(accepted []AcceptedDeviation, now time.Time) {
	p.Accepted = applyAcceptances(accepted, p.Reasons, now)
	if p.Status != Pending || p.Consent != nil {
		p.Status = statusOf(p.Reasons)
	}
}

// endedAcceptances compares the acceptances before and after a change: those that ended while
// their reason is still there (changed or expired) are re-raised; those whose reason went away
// are resolved.
func endedAcceptances(prev, next []AcceptedDeviation, reasons []Reason, now time.Time) (reraised []ReraisedDeviation, resolved []AcceptedDeviation) {
	for _, a := range prev {
		if slices.ContainsFunc(next, func(b AcceptedDeviation) bool { return b.ID == a.ID }) {
			continue
		}
		i := slices.IndexFunc(reasons, func(r Reason) bool { return r.Code == a.Code && r.Accepted == nil })
		switch {
		case i < 0:
			resolved = append(resolved, a)
		case !now.Before(a.Expires):
			reraised = append(reraised, ReraisedDeviation{Acceptance: a, Why: "expired", Now: reasons[i].clone()})
		case slices.ContainsFunc(reasons, func(r Reason) bool { return r.Code == a.Code && fact(r) == a.Fact }):
			// The fact still holds and the acceptance has not expired: only a withdrawal ends it.
			reraised = append(reraised, ReraisedDeviation{Acceptance: a, Why: "withdrawn", Now: reasons[i].clone()})
		default:
			reraised = append(reraised, ReraisedDeviation{Acceptance: a, Why: "changed", Now: reasons[i].clone()})
		}
	}
	return reraised, resolved
}

// AcceptDeviation accepts one of the profile's current reasons (req.Code) as a known deviation:
// until req.Expires, and while the tenant shows exactly the fact the reason names now, the reason
// does not drive the status. Only deviations may be accepted: extra grants, pending roles,
// automatic roles that are late, expiring or changed certificates. Everything that makes a
// profile Invalid under the product rules (a missing required grant, a deleted service
// principal, a consent user whose password was reset, ...) is refused with a
// *DeviationRefusedError, as is a reason the profile does not have now; a malformed request
// gets a *RequestError. The acceptance, the new status and a history entry are stored together;
// a status change fires an Event.
func (m *Manager) AcceptDeviation(ctx context.Context, id string, req AcceptRequest) (Profile, error) {
	problems := whoAndWhy(nil, req.By, req.Why, "accepts the deviation", "the deviation is accepted")
	now := m.now()
	switch {
	case !req.Expires.After(now):
		problems = append(problems, "the acceptance must expire in the future (Expires)")
	case req.Expires.Sub(now) > MaxAcceptance:
		problems = append(problems, fmt.Sprintf("the acceptance may last at most %s; accept again when it expires", MaxAcceptance))
	}
	if len(problems) > 0 {
		return Profile{}, &RequestError{Op: "accept deviation", Problems: problems}
	}
	p, app, err := m.profileAndApp(ctx, id)
	if err != nil {
		return Profile{}, err
	}
	refuse := func(problem string) error {
		return &DeviationRefusedError{ProfileID: p.ID, Code: req.Code, Problem: problem}
	}
	if !acceptable[req.Code] {
		info, known := Describe(req.Code)
		if !known {
			return Profile{}, refuse("not a reason code (see ReasonCodes)")
		}
		return Profile{}, refuse(fmt.Sprintf("it makes the profile %s under the product rules; accepting it would hide that: %s", info.Effect, info.Remediation))
	}
	i := slices.IndexFunc(p.Reasons, func(r Reason) bool { return r.Code == req.Code })
	if i < 0 {
		return Profile{}, refuse("the profile does not have this reason now; verify the profile and accept what it shows")
	}
	r := p.Reasons[i]
	if r.Accepted != nil {
		return Profile{}, refuse(fmt.Sprintf("already accepted by %s until %s", r.Accepted.By, r.Accepted.Expires.UTC().Format(time.RFC3339)))
	}
	if req.Code == ReasonRoleMissing {
		for _, name := range r.Roles {
			if !automaticRole(app, name) {
				return Profile{}, refuse(fmt.Sprintf("role %s must be assigned manually; a missing manual role makes the profile Invalid — assign it in the Microsoft Entra admin center", name))
			}
		}
	}
	np := p.clone()
	// The version this save creates is unique per profile, so it names the acceptance.
	acc := AcceptedDeviation{ID: fmt.Sprintf("%s@%d", r.Code, p.Version+1), Code: r.Code, Fact: fact(r), Message: r.Message,
		By: req.By, Why: req.Why, At: now, Expires: req.Expires}
	np.setAcceptances(append(np.Accepted, acc), now)
	saved, err := m.save(ctx, np, p)
	if err != nil {
		return Profile{}, err
	}
	m.o.logger.Info("app profile deviation accepted", "profile", saved.ID, "code", acc.Code, "by", acc.By, "expires", acc.Expires)
	return saved, nil
}

// whoAndWhy appends to problems what is missing of an operator's decision: who (by, "say who
// <does>") and why (why, "say why <done>").
func whoAndWhy(problems []string, by, why, does, done string) []string {
	if strings.TrimSpace(by) == "" {
		problems = append(problems, "say who "+does+" (By)")
	}
	if strings.TrimSpace(why) == "" {
		problems = append(problems, "say why "+done+" (Why)")
	}
	return problems
}

// WithdrawRequest asks Manager.WithdrawAcceptance to end an acceptance before it expires.
type WithdrawRequest struct {
	// AcceptanceID names the acceptance (AcceptedDeviation.ID, as Profile.Accepted lists it).
	AcceptanceID string
	// By (who withdraws it) and Why are required and kept in the event and the history.
	By, Why string
}

// WithdrawAcceptance ends one of the profile's acceptances before it expires — it was accepted
// by mistake, or the reason for it is gone: the deviation drives the status again at once, and,
// as when an acceptance expires, an Event (EventDeviationReraised, or EventStatusChanged with
// Reraised) and a history entry say so, with Why "withdrawn" and who withdrew it. An acceptance
// the profile does not have (never made, or already ended) gets a *RequestError listing the
// ones it has; a concurrent edit of the profile, ErrConflict (re-read and retry).
func (m *Manager) WithdrawAcceptance(ctx context.Context, id string, req WithdrawRequest) (Profile, error) {
	var problems []string
	if strings.TrimSpace(req.AcceptanceID) == "" {
		problems = append(problems, "name the acceptance to withdraw (AcceptanceID, from Profile.Accepted)")
	}
	problems = whoAndWhy(problems, req.By, req.Why, "withdraws the acceptance", "the acceptance is withdrawn")
	if len(problems) > 0 {
		return Profile{}, &RequestError{Op: "withdraw acceptance", Problems: problems}
	}
	p, err := m.Get(ctx, id)
	if err != nil {
		return Profile{}, err
	}
	i := slices.IndexFunc(p.Accepted, func(a AcceptedDeviation) bool { return a.ID == req.AcceptanceID })
	if i < 0 {
		have := make([]string, 0, len(p.Accepted))
		for _, a := range p.Accepted {
			have = append(have, a.ID)
		}
		list := "it has none"
		if len(have) > 0 {
			list = "it has: " + strings.Join(have, ", ")
		}
		return Profile{}, &RequestError{Op: "withdraw acceptance", Problems: []string{
			fmt.Sprintf("profile %s has no acceptance %q (it may have ended already); %s", p.ID, req.AcceptanceID, list)}}
	}
	np := p.clone()
	np.setAcceptances(slices.Delete(np.Accepted, i, i+1), m.now())
	saved, err := m.saveChange(ctx, np, p, func(ch *change) {
		mark := func(rs []ReraisedDeviation) {
			for k := range rs {
				if rs[k].Acceptance.ID == req.AcceptanceID {
					rs[k].By, rs[k].Note = req.By, req.Why
				}
			}
		}
		if ch.event != nil {
			mark(ch.event.Reraised)
		}
		if ch.entry != nil {
			mark(ch.entry.Reraised)
		}
	})
	if err != nil {
		return Profile{}, err
	}
	m.o.logger.Info("app profile acceptance withdrawn", "profile", saved.ID, "acceptance", req.AcceptanceID, "by", req.By)
	return saved, nil
}

// automaticRole reports whether the app type's role named name is one Entra assigns
// automatically within 24 hours.
func automaticRole(app AppSpec, name string) bool {
	for _, req := range app.DirectoryRoles {
		if req.Role.Name() == name {
			return req.Assignment == roles.AutomaticWithin24h
		}
	}
	return false
}
