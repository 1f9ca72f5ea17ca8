package appprofile

import "slices"

// HasReason reports whether the profile has a reason with that code. Reasons are codes, not
// errors, so errors.Is does not apply; harnesses and portals check a profile with HasReason or
// Reason instead of looping over Reasons.
func (p Profile) HasReason(code ReasonCode) bool {
	_, ok := p.Reason(code)
	return ok
}

// Reason returns the profile's first reason with that code, and whether there is one. A code
// can appear more than once (one grant-missing reason per missing permission); loop over
// Reasons to see them all. The returned Reason shares nothing with p.
func (p Profile) Reason(code ReasonCode) (Reason, bool) {
	for _, r := range p.Reasons {
		if r.Code == code {
			r.Permissions, r.Roles = slices.Clone(r.Permissions), slices.Clone(r.Roles)
			return r, true
		}
	}
	return Reason{}, false
}
