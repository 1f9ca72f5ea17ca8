package roles

import "fmt"

// Assignment says when and by whom a directory role must be assigned to an app's service principal.
type Assignment string

const (
	// AutomaticWithin24h: the vendor assigns the role to its own app in the customer's tenant within
	// 24 hours after authorization; no manual action is needed (seed 000: modern APElements Baseline
	// Management, APElements Security and Analysis). A missing role is only a problem after the grace
	// period.
	AutomaticWithin24h Assignment = "automatic-within-24h"
	// ManualBeforeAuthorization: the customer assigns the role in the Entra admin center before
	// authorizing (seed 000: the custom Baseline management app profile).
	ManualBeforeAuthorization Assignment = "manual-before-authorization"
	// ManualAfterAuthorization: the customer assigns the role after the app profile is created (seed
	// 000: Exchange Administrator for AvePoint Online Services apps that manage Exchange mailboxes and
	// settings, security and distribution groups or Microsoft 365 Defender settings).
	ManualAfterAuthorization Assignment = "manual-after-authorization"
)

// Valid reports whether a is one of the defined assignments.
func (a Assignment) Valid() bool {
	switch a {
	case AutomaticWithin24h, ManualBeforeAuthorization, ManualAfterAuthorization:
		return true
	}
	return false
}

// Manual reports whether a person has to assign the role.
func (a Assignment) Manual() bool {
	return a == ManualBeforeAuthorization || a == ManualAfterAuthorization
}

// Describe returns a sentence for people, e.g. for a role checklist.
func (a Assignment) Describe() string {
	switch a {
	case AutomaticWithin24h:
		return "assigned automatically within 24 hours after authorization; no manual action is needed"
	case ManualBeforeAuthorization:
		return "must be assigned manually in the Microsoft Entra admin center before authorization"
	case ManualAfterAuthorization:
		return "must be assigned manually in the Microsoft Entra admin center after the app profile is created"
	}
	return fmt.Sprintf("unknown assignment %q", string(a))
}

// Condition limits a requirement to profiles used in a certain way. The empty condition means
// the requirement always applies.
type Condition string

// ManagesExchange: seed 000, "after you create app profiles for the apps that will be used to
// manage Exchange mailboxes and settings / Security and distribution group objects / Microsoft 365
// Defender settings, you may need to ... assign the Exchange Administrator role to the app".
const ManagesExchange Condition = "manages-exchange"

// DirectoryRequirement is one directory role an app's service principal needs.
type DirectoryRequirement struct {
	Role       TemplateID `json:"templateId"`
	Assignment Assignment `json:"assignment"`
	// Condition, when set, limits the requirement to profiles used that way.
	Condition Condition `json:"condition,omitempty"`
}

// AppliesTo reports whether the requirement applies to a profile that is used in the given ways.
func (r DirectoryRequirement) AppliesTo(uses ...Condition) bool {
	if r.Condition == "" {
		return true
	}
	for _, u := range uses {
		if u == r.Condition {
			return true
		}
	}
	return false
}

// String renders e.g. "Exchange Administrator (automatic-within-24h)".
func (r DirectoryRequirement) String() string {
	if r.Condition != "" {
		return fmt.Sprintf("%s (%s, when %s)", r.Role.Name(), r.Assignment, r.Condition)
	}
	return fmt.Sprintf("%s (%s)", r.Role.Name(), r.Assignment)
}
