package appprofile

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/tenantapps/tenantapps/store"
)

// WithOutbox turns the transactional outbox and the history off (false) or on (true, the
// default). With a store that implements store.OutboxStore and the outbox on, every status
// change is written together with its Event (for a Dispatcher) and every change a check saw with
// a HistoryEntry; off, or with a store without the capability, events go only to the
// WithEventHook hook and no history is kept. Events stay in the outbox until a Dispatcher
// delivers them (one row per status change, not per check), so an embedder that keeps the
// history runs a Dispatcher too — if need be one whose handler only returns nil.
func WithOutbox(on bool) Option { return func(o *options) { o.noOutbox = !on } }

// WithHistoryRetention sets how long PruneHistory keeps history entries (0, the default, keeps
// them until the embedder prunes them with a time of its own).
func WithHistoryRetention(d time.Duration) Option {
	return func(o *options) { o.retention = max(d, 0) }
}

// ErrNoHistory is returned by History, PruneHistory and Report when the store does not keep
// history (it does not implement store.OutboxStore, or WithOutbox(false)).
var ErrNoHistory = errors.New("appprofile: the store keeps no history (it does not implement store.OutboxStore, or WithOutbox(false) is set)")

// ObservedState is what a check saw in the tenant, kept on the profile so the next check's
// changes can be recorded in the history. Grants are kept relative to the catalog's required
// permissions — the ones missing and the extra ones — so a profile that has exactly what it needs
// keeps next to nothing.
type ObservedState struct {
	// Catalog is the catalog version the grants are relative to. The first check after the
	// catalog version changed records no grant changes (it is the new baseline).
	Catalog string `json:"catalog,omitempty"`
	// MissingGrants are the required permissions the tenant did not show; ExtraGrants the
	// permissions it showed beyond them. Both sorted, named like Permission.String.
	MissingGrants []string `json:"missingGrants,omitempty"`
	ExtraGrants   []string `json:"extraGrants,omitempty"`
	// Roles are the directory roles assigned to the app, by name, sorted.
	Roles []string `json:"roles,omitempty"`
}

func (o ObservedState) clone() ObservedState {
	o.MissingGrants, o.ExtraGrants, o.Roles = slices.Clone(o.MissingGrants), slices.Clone(o.ExtraGrants), slices.Clone(o.Roles)
	return o
}

// observed is what a profile keeps of obs: its summary when the history is kept (to diff the
// next check against), nothing otherwise.
func (m *Manager) observed(obs Observation, app AppSpec) *ObservedState {
	if m.outbox == nil {
		return nil
	}
	return observedOf(obs, m.requiredOf(app), m.o.catalog.Version())
}

// required is an app type's required permissions by key, with their catalog names.
type required struct {
	names map[permKey]string
	all   []string // the names, sorted
}

// requiredOf returns app's required permissions, cached per app type (the catalog of a Manager
// does not change).
func (m *Manager) requiredOf(app AppSpec) *required {
	if r, ok := m.required.Load(app.Name); ok {
		return r.(*required)
	}
	r := &required{names: make(map[permKey]string, len(app.Permissions))}
	if app.PermissionsPublished {
		for _, perm := range app.Permissions {
			n := perm.String()
			r.names[perm.key()] = n
			r.all = append(r.all, n)
		}
	}
	slices.Sort(r.all)
	r.all = slices.Compact(r.all)
	m.required.Store(app.Name, r)
	return r
}

// observedOf summarizes an observation relative to req.
func observedOf(obs Observation, req *required, catalog string) *ObservedState {
	o := &ObservedState{Catalog: catalog}
	granted := make(map[permKey]bool, len(obs.Grants))
	for _, g := range obs.Grants {
		k := g.key()
		granted[k] = true
		if _, ok := req.names[k]; !ok {
			o.ExtraGrants = append(o.ExtraGrants, g.String())
		}
	}
	for k, n := range req.names {
		if !granted[k] {
			o.MissingGrants = append(o.MissingGrants, n)
		}
	}
	for _, r := range obs.DirectoryRoles {
		o.Roles = append(o.Roles, r.Name())
	}
	for _, l := range []*[]string{&o.ExtraGrants, &o.MissingGrants, &o.Roles} {
		slices.Sort(*l)
		*l = slices.Compact(*l)
	}
	return o
}

// grantChanges returns the grants that appeared and went away between two observations with the
// same required permissions: G = (required − missing) ∪ extra, so what appeared is what stopped
// missing or became extra, and what went away the reverse. prev nil means nothing was granted
// before (a first consent); all are the required permissions' names.
func grantChanges(prev *ObservedState, next ObservedState, all []string) (added, removed []string) {
	if prev == nil {
		added, _ = diffSorted(next.MissingGrants, all)
		added = append(added, next.ExtraGrants...)
		slices.Sort(added)
		return slices.Compact(added), nil
	}
	stoppedMissing, startedMissing := diffSorted(next.MissingGrants, prev.MissingGrants)
	newExtra, goneExtra := diffSorted(prev.ExtraGrants, next.ExtraGrants)
	added = append(stoppedMissing, newExtra...)
	removed = append(startedMissing, goneExtra...)
	slices.Sort(added)
	slices.Sort(removed)
	return added, removed
}

// HistoryEntry is one change of a profile, as recorded in the history: what a check (or a
// consent, a re-authorization, an acceptance) changed. Unchanged parts are left empty.
type HistoryEntry struct {
	// Seq orders entries (ascending in write order); pass the last one as HistoryQuery.AfterSeq
	// to read on.
	Seq       int64     `json:"seq"`
	ProfileID string    `json:"profileId"`
	Tenant    string    `json:"tenant"`
	AppType   string    `json:"appType"`
	At        time.Time `json:"at"`
	// Version is the profile's store version the change produced.
	Version int64 `json:"version"`
	// Outcome is the check's outcome when the change was made by a check.
	Outcome   Outcome `json:"outcome,omitempty"`
	OldStatus Status  `json:"oldStatus"`
	NewStatus Status  `json:"newStatus"`
	// ReasonsAdded and ReasonsRemoved are the reasons that appeared and went away (a reason
	// whose fact or acceptance changed appears in both).
	ReasonsAdded   []ReasonChange `json:"reasonsAdded,omitempty"`
	ReasonsRemoved []ReasonChange `json:"reasonsRemoved,omitempty"`
	// GrantsAdded/Removed and RolesAdded/Removed are what the tenant showed differently from the
	// previous check (at consent: what the consent granted). The first check of a profile
	// consented before the history was kept records its baseline silently.
	GrantsAdded   []string `json:"grantsAdded,omitempty"`
	GrantsRemoved []string `json:"grantsRemoved,omitempty"`
	RolesAdded    []string `json:"rolesAdded,omitempty"`
	RolesRemoved  []string `json:"rolesRemoved,omitempty"`
	// Consent is set when a consent was recorded.
	Consent *ConsentEvent `json:"consent,omitempty"`
	// ReauthorizationRequested is set when a re-authorization was requested, with its reason.
	ReauthorizationRequested string `json:"reauthorizationRequested,omitempty"`
	// AppChanged is set when a re-authorization changed the custom app or its certificate.
	AppChanged *AppChange `json:"appChanged,omitempty"`
	// Deleted is set on the last entry of a profile: it was deleted.
	Deleted bool `json:"deleted,omitempty"`
	// Accepted are acceptances made; Reraised acceptances that ended while the deviation is
	// still there; Resolved acceptances whose deviation went away.
	Accepted []AcceptedDeviation `json:"accepted,omitempty"`
	Reraised []ReraisedDeviation `json:"reraised,omitempty"`
	Resolved []AcceptedDeviation `json:"resolved,omitempty"`
}

// ReasonChange names a reason in the history.
type ReasonChange struct {
	Code    ReasonCode `json:"code"`
	Effect  Effect     `json:"effect"`
	Message string     `json:"message"`
	// AcceptedBy is set when the reason was covered by an acceptance.
	AcceptedBy string `json:"acceptedBy,omitempty"`
}

// ConsentEvent is a consent recorded on a profile: who, when and how.
type ConsentEvent struct {
	Method            ConsentMethod `json:"method"`
	UserID            string        `json:"userId,omitempty"`
	UserPrincipalName string        `json:"userPrincipalName,omitempty"`
	At                time.Time     `json:"at"`
	OriginalIP        string        `json:"originalIp,omitempty"`
	// Reauthorization is true when the profile had been consented before.
	Reauthorization bool `json:"reauthorization"`
	Unproven        bool `json:"unproven,omitempty"`
}

// AppChange is a change of a custom profile's app or certificate.
type AppChange struct {
	OldAppID      string `json:"oldAppId,omitempty"`
	NewAppID      string `json:"newAppId,omitempty"`
	OldThumbprint string `json:"oldThumbprint,omitempty"`
	NewThumbprint string `json:"newThumbprint,omitempty"`
}

// change is what one save records besides the profile.
type change struct {
	event *Event
	entry *HistoryEntry
}

// changeOf compares prev and next (to be stored as version) and returns the event and history
// entry the save records; nil when there is nothing to tell.
func (m *Manager) changeOf(prev, next Profile, version int64) change {
	now := m.now()
	reraised, resolved := endedAcceptances(prev.Accepted, next.Accepted, next.Reasons, now)
	var ch change
	if next.Status != prev.Status || len(reraised) > 0 {
		kind := EventStatusChanged
		if next.Status == prev.Status {
			kind = EventDeviationReraised
		}
		ch.event = &Event{ID: eventID(next.ID, version), Kind: kind, ProfileID: next.ID, Version: version, Tenant: next.Tenant,
			AppType: next.AppType, Old: prev.Status, New: next.Status, Reasons: cloneReasons(next.Reasons), Reraised: reraised, At: now}
	}
	if m.outbox == nil {
		return ch
	}
	e := HistoryEntry{ProfileID: next.ID, Tenant: next.Tenant, AppType: next.AppType, At: now, Version: version,
		OldStatus: prev.Status, NewStatus: next.Status, Reraised: reraised, Resolved: resolved}
	if next.LastCheck != nil && (prev.LastCheck == nil || !next.LastCheck.At.Equal(prev.LastCheck.At)) {
		e.Outcome = next.LastCheck.Outcome
	}
	e.ReasonsAdded, e.ReasonsRemoved = diffReasons(prev.Reasons, next.Reasons)
	if c := next.Consent; c != nil && (prev.Consent == nil || !c.At.Equal(prev.Consent.At) || c.Unproven != prev.Consent.Unproven) {
		e.Consent = &ConsentEvent{Method: c.Method, UserID: c.UserID, UserPrincipalName: c.UserPrincipalName, At: c.At,
			OriginalIP: c.OriginalIP, Reauthorization: prev.Consent != nil, Unproven: c.Unproven}
	}
	// A check that could not read the tenant keeps the last observation (no diff). The first
	// observation of a profile consented before the history was kept is its baseline, not a
	// change; a consent's first observation is what the consent granted.
	if no := next.Observed; no != nil && (prev.Observed != nil || e.Consent != nil) {
		po := prev.Observed
		if po != nil && po.Catalog != no.Catalog {
			po = nil // another catalog: a new baseline for the grants
		} else if po == nil || e.Consent != nil && prev.Consent == nil {
			po = nil // a first consent: everything granted is new
		}
		if po != nil || e.Consent != nil {
			if app, err := m.appSpec(next.AppType); err == nil {
				e.GrantsAdded, e.GrantsRemoved = grantChanges(po, *no, m.requiredOf(app).all)
			}
		}
		var prevRoles []string
		if prev.Observed != nil {
			prevRoles = prev.Observed.Roles
		}
		e.RolesAdded, e.RolesRemoved = diffSorted(prevRoles, no.Roles)
	}
	if next.ReauthorizationRequested != "" && next.ReauthorizationRequested != prev.ReauthorizationRequested {
		e.ReauthorizationRequested = next.ReauthorizationRequested
	}
	if pc, nc := prev.Custom, next.Custom; nc != nil && pc != nil && (pc.ApplicationID != nc.ApplicationID || pc.Thumbprint != nc.Thumbprint) {
		e.AppChanged = &AppChange{OldAppID: pc.ApplicationID, NewAppID: nc.ApplicationID, OldThumbprint: pc.Thumbprint, NewThumbprint: nc.Thumbprint}
	}
	for _, a := range next.Accepted {
		if !slices.ContainsFunc(prev.Accepted, func(b AcceptedDeviation) bool { return b.ID == a.ID }) {
			e.Accepted = append(e.Accepted, a)
		}
	}
	if e.OldStatus != e.NewStatus || len(e.ReasonsAdded)+len(e.ReasonsRemoved)+len(e.GrantsAdded)+len(e.GrantsRemoved)+
		len(e.RolesAdded)+len(e.RolesRemoved)+len(e.Accepted)+len(e.Reraised)+len(e.Resolved) > 0 ||
		e.Consent != nil || e.ReauthorizationRequested != "" || e.AppChanged != nil {
		ch.entry = &e
	}
	return ch
}

func eventID(profileID string, version int64) string {
	return profileID + "@" + strconv.FormatInt(version, 10)
}

// reasonKey identifies a reason instance for the history: its code, fact and acceptance.
func reasonKey(r Reason) string {
	k := string(r.Code) + "\x00" + fact(r) + "\x00" + r.Message
	if r.Accepted != nil {
		k += "\x00" + r.Accepted.ID
	}
	return k
}

func diffReasons(prev, next []Reason) (added, removed []ReasonChange) {
	in := func(rs []Reason, r Reason) bool {
		k := reasonKey(r)
		return slices.ContainsFunc(rs, func(x Reason) bool { return reasonKey(x) == k })
	}
	conv := func(r Reason) ReasonChange {
		c := ReasonChange{Code: r.Code, Effect: r.Effect, Message: r.Message}
		if r.Accepted != nil {
			c.AcceptedBy = r.Accepted.By
		}
		return c
	}
	for _, r := range next {
		if !in(prev, r) {
			added = append(added, conv(r))
		}
	}
	for _, r := range prev {
		if !in(next, r) {
			removed = append(removed, conv(r))
		}
	}
	return added, removed
}

// diffSorted returns the elements of next not in prev, and of prev not in next; both sorted.
func diffSorted(prev, next []string) (added, removed []string) {
	for _, s := range next {
		if _, found := slices.BinarySearch(prev, s); !found {
			added = append(added, s)
		}
	}
	for _, s := range prev {
		if _, found := slices.BinarySearch(next, s); !found {
			removed = append(removed, s)
		}
	}
	return added, removed
}

// outboxPayloadVersion versions the JSON of events and history entries in the store.
const outboxPayloadVersion = 1

type eventEnvelope struct {
	V     int   `json:"v"`
	Event Event `json:"event"`
}

type entryEnvelope struct {
	V     int          `json:"v"`
	Entry HistoryEntry `json:"entry"`
}

func (ch change) outboxWrites() ([]store.OutboxEvent, []store.HistoryEntry, error) {
	var events []store.OutboxEvent
	var entries []store.HistoryEntry
	if ev := ch.event; ev != nil {
		b, err := json.Marshal(eventEnvelope{V: outboxPayloadVersion, Event: *ev})
		if err != nil {
			return nil, nil, fmt.Errorf("appprofile: encoding event: %w", err)
		}
		events = append(events, store.OutboxEvent{Key: ev.ProfileID, ID: ev.ID, Payload: b})
	}
	if e := ch.entry; e != nil {
		b, err := json.Marshal(entryEnvelope{V: outboxPayloadVersion, Entry: *e})
		if err != nil {
			return nil, nil, fmt.Errorf("appprofile: encoding history entry: %w", err)
		}
		entries = append(entries, store.HistoryEntry{RecordID: e.ProfileID, Tenant: e.Tenant, At: e.At, Payload: b})
	}
	return events, entries, nil
}

func decodeEvent(b []byte) (Event, error) {
	var env eventEnvelope
	if err := json.Unmarshal(b, &env); err != nil {
		return Event{}, fmt.Errorf("%w: event: %v", ErrPayload, err)
	}
	if env.V < 1 || env.V > outboxPayloadVersion {
		return Event{}, fmt.Errorf("%w: event version %d is not one this library understands (%d); upgrade tenantapps", ErrPayload, env.V, outboxPayloadVersion)
	}
	return env.Event, nil
}

func decodeEntry(h store.HistoryEntry) (HistoryEntry, error) {
	var env entryEnvelope
	if err := json.Unmarshal(h.Payload, &env); err != nil {
		return HistoryEntry{}, fmt.Errorf("%w: history entry %d: %v", ErrPayload, h.Seq, err)
	}
	if env.V < 1 || env.V > outboxPayloadVersion {
		return HistoryEntry{}, fmt.Errorf("%w: history entry %d has version %d; upgrade tenantapps", ErrPayload, h.Seq, env.V)
	}
	e := env.Entry
	e.Seq = h.Seq
	return e, nil
}

// HistoryQuery selects history entries for Manager.History: by profile or by tenant (one of
// them is required), within [From, To) when set.
type HistoryQuery struct {
	ProfileID string
	Tenant    string
	From, To  time.Time
	// AfterSeq continues after the entry with that Seq; Limit caps the entries returned (100 by
	// default, at most 1000).
	AfterSeq int64
	Limit    int
}

// History returns the history entries of a profile or a tenant, oldest first. It fails with
// ErrNoHistory when the store keeps none, and with a *RequestError when neither ProfileID nor
// Tenant is set. Entries outlive their profile.
func (m *Manager) History(ctx context.Context, q HistoryQuery) ([]HistoryEntry, error) {
	if m.outbox == nil {
		return nil, ErrNoHistory
	}
	return readHistory(ctx, m.outbox, q)
}

// ReadHistory is Manager.History for read-only tools that have a store but no Manager (no
// tenant driver): it reads st's history. It fails with ErrNoHistory when st does not implement
// store.OutboxStore.
func ReadHistory(ctx context.Context, st store.Store, q HistoryQuery) ([]HistoryEntry, error) {
	os, ok := st.(store.OutboxStore)
	if !ok {
		return nil, ErrNoHistory
	}
	return readHistory(ctx, os, q)
}

func readHistory(ctx context.Context, os store.OutboxStore, q HistoryQuery) ([]HistoryEntry, error) {
	if q.ProfileID == "" && q.Tenant == "" {
		return nil, &RequestError{Op: "history", Problems: []string{"name a profile (ProfileID) or a tenant (Tenant)"}}
	}
	if q.Tenant != "" {
		t, err := NormalizeTenantID(q.Tenant)
		if err != nil {
			return nil, err
		}
		q.Tenant = t
	}
	hs, err := os.History(ctx, store.HistoryQuery{RecordID: q.ProfileID, Tenant: q.Tenant, From: q.From, To: q.To, AfterSeq: q.AfterSeq, Limit: q.Limit})
	if err != nil {
		return nil, fmt.Errorf("appprofile: history: %w", err)
	}
	out := make([]HistoryEntry, 0, len(hs))
	for _, h := range hs {
		e, err := decodeEntry(h)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// allHistory reads every entry matching q, page by page.
func allHistory(ctx context.Context, os store.OutboxStore, q HistoryQuery) ([]HistoryEntry, error) {
	var all []HistoryEntry
	q.Limit = store.MaxLimit
	for {
		page, err := readHistory(ctx, os, q)
		if err != nil {
			return nil, err
		}
		all = append(all, page...)
		if len(page) < q.Limit {
			return all, nil
		}
		q.AfterSeq = page[len(page)-1].Seq
	}
}

// PruneHistory deletes the history entries older than the WithHistoryRetention period and
// returns how many it deleted; embedders call it periodically (daily, say). Without a retention
// period it deletes nothing. It fails with ErrNoHistory when the store keeps none.
func (m *Manager) PruneHistory(ctx context.Context) (int64, error) {
	if m.outbox == nil {
		return 0, ErrNoHistory
	}
	if m.o.retention <= 0 {
		return 0, nil
	}
	n, err := m.outbox.PruneHistory(ctx, m.now().Add(-m.o.retention))
	if err != nil {
		return 0, fmt.Errorf("appprofile: prune history: %w", err)
	}
	return n, nil
}

// deleteRecord deletes p's record; with the history kept, the deletion and its history entry are
// one transaction.
func (m *Manager) deleteRecord(ctx context.Context, p Profile) error {
	if m.outbox == nil {
		return m.store.Delete(ctx, p.ID, p.Version)
	}
	e := HistoryEntry{ProfileID: p.ID, Tenant: p.Tenant, AppType: p.AppType, At: m.now(), Version: p.Version,
		OldStatus: p.Status, NewStatus: p.Status, Deleted: true}
	_, entries, err := change{entry: &e}.outboxWrites()
	if err != nil {
		return err
	}
	return m.outbox.DeleteWithEvents(ctx, p.ID, p.Version, nil, entries)
}
