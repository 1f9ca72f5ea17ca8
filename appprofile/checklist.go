package appprofile

import (
	"slices"
	"time"

	"github.com/tenantapps/tenantapps/roles"
)

// RoleCheck is one line of a profile's role checklist.
type RoleCheck struct {
	Role       roles.TemplateID `json:"role"`
	Name       string           `json:"name"`
	Assignment roles.Assignment `json:"assignment"`
	// Instruction says who assigns the role and when.
	Instruction string `json:"instruction"`
	// Assigned reports whether the tenant shows the role on the app's service principal; it is
	// meaningful only when the checklist was Verified.
	Assigned bool `json:"assigned"`
	// Due is when an automatic role must be there (consent + grace); zero otherwise.
	Due time.Time `json:"due,omitempty"`
	// Overdue: not assigned and past Due (automatic) or after authorization (manual).
	Overdue bool `json:"overdue"`
}

// AzureCheck is one line of the Azure RBAC checklist (Azure Security Management).
type AzureCheck struct {
	Requirement roles.AzureRequirement `json:"requirement"`
	Instruction string                 `json:"instruction"`
	// Scope is the Azure resource ID the line was checked for (Manager.AzureChecklist); empty in
	// the generic checklist.
	Scope string `json:"scope,omitempty"`
	// Verified reports whether Assigned was read from Azure; grants that are not role
	// assignments (cluster admin group membership, Key Vault access policies) cannot be.
	Verified bool `json:"verified,omitempty"`
	Assigned bool `json:"assigned,omitempty"`
}

// AzureScope is one Azure resource the app must be able to manage, and how it is configured.
type AzureScope struct {
	Resource roles.AzureResource
	// Condition is the resource's configuration (AKS authentication mode, Key Vault permission
	// model); empty for subscriptions.
	Condition roles.AzureCondition
	// ID is the resource ID, e.g. "/subscriptions/{id}".
	ID string
}

// Checklist lists the directory roles (and Azure RBAC roles) a profile needs.
type Checklist struct {
	ProfileID string       `json:"profileId"`
	Directory []RoleCheck  `json:"directory,omitempty"`
	Azure     []AzureCheck `json:"azure,omitempty"`
	// Verified reports whether Assigned was read from the tenant.
	Verified bool `json:"verified"`
}

// Complete reports whether every directory role is assigned (Verified checklists only).
func (c Checklist) Complete() bool {
	if !c.Verified {
		return false
	}
	for _, r := range c.Directory {
		if !r.Assigned {
			return false
		}
	}
	return true
}

// BuildChecklist derives the role checklist of profile p of app type app. assigned are the roles
// the tenant shows on the service principal; pass verified=false when they were not read. Pure.
func BuildChecklist(p Profile, app AppSpec, assigned []roles.TemplateID, verified bool, now time.Time, pol Policy) Checklist {
	pol = pol.withDefaults()
	uses := make([]roles.Condition, len(p.Uses))
	for i, u := range p.Uses {
		uses[i] = roles.Condition(u)
	}
	c := Checklist{ProfileID: p.ID, Verified: verified}
	for _, req := range app.DirectoryRoles {
		if !req.AppliesTo(uses...) {
			continue
		}
		rc := RoleCheck{Role: req.Role, Name: req.Role.Name(), Assignment: req.Assignment, Instruction: req.Assignment.Describe()}
		rc.Assigned = verified && slices.Contains(assigned, req.Role)
		consented := p.Consent != nil
		if req.Assignment == roles.AutomaticWithin24h && consented {
			rc.Due = p.Consent.At.Add(pol.RoleGrace)
		}
		if verified && !rc.Assigned && consented {
			rc.Overdue = req.Assignment.Manual() || !now.Before(rc.Due)
		}
		c.Directory = append(c.Directory, rc)
	}
	for _, az := range app.AzureRoles {
		c.Azure = append(c.Azure, AzureCheck{Requirement: az, Instruction: az.Describe()})
	}
	return c
}
