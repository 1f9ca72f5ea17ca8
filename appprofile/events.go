package appprofile

import "time"

// Event is a status change of a profile, delivered to the hook set by WithEventHook after the
// change was stored.
type Event struct {
	ProfileID string
	Tenant    string
	AppType   string
	Old, New  Status
	// Reasons are the new reasons.
	Reasons []Reason
	At      time.Time
}
