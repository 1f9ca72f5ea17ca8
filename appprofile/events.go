package appprofile

import "time"

// Event is a change of a profile an embedder wants to be told about: its status changed, or a
// deviation an operator had accepted came back (the accepted fact changed, or the acceptance
// expired).
//
// With a store that implements store.OutboxStore, every event is written to the store's outbox
// in the same transaction as the change and delivered by a [Dispatcher] at least once, in order
// per profile, surviving crashes and shared by replicas. The hook set by WithEventHook is also
// called, in-process and after the change was stored, with every store; without an outbox it is
// the only delivery, and an event is lost if the process dies between the write and the hook.
type Event struct {
	// ID is the event's idempotency key, "<profile ID>@<profile version>": unique per change and
	// the same on every redelivery. Handlers drop events whose ID they have already processed.
	ID        string    `json:"id"`
	Kind      EventKind `json:"kind"`
	ProfileID string    `json:"profileId"`
	// Version is the profile's store version after the change.
	Version int64  `json:"version"`
	Tenant  string `json:"tenant"`
	AppType string `json:"appType"`
	Old     Status `json:"old"`
	New     Status `json:"new"`
	// Reasons are the new reasons.
	Reasons []Reason `json:"reasons,omitempty"`
	// Reraised are the accepted deviations that came back with this change.
	Reraised []ReraisedDeviation `json:"reraised,omitempty"`
	At       time.Time           `json:"at"`
}

// EventKind says what an Event reports.
type EventKind string

const (
	// EventStatusChanged: the profile's status changed (Old to New); Reraised may also be set.
	EventStatusChanged EventKind = "status-changed"
	// EventDeviationReraised: the status did not change, but accepted deviations came back
	// (Reraised).
	EventDeviationReraised EventKind = "deviation-reraised"
)
