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

// DirectoryRequirement is one directory role an app's service principal needs.
type DirectoryRequirement struct {
	Role       TemplateID `json:"templateId"`
	Assignment Assignment `json:"assignment"`
}

// String renders e.g. "Exchange Administrator (automatic-within-24h)".
func (r DirectoryRequirement) String() string {
	return fmt.Sprintf("%s (%s)", r.Role.Name(), r.Assignment)
}
